/* SPDX-License-Identifier: MIT */
/* test-mbmap-doc.c — docs/modbus-maps.md is the one the map tables generate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/mbmap.h"

#define DOC SOURCE_DIR "/docs/modbus-maps.md"

static void test_doc_is_generated(void **state)
{
    (void)state;
    char *gen = NULL, *committed;
    size_t gen_len = 0;
    FILE *m = open_memstream(&gen, &gen_len);
    mbmap_write_markdown(m);
    fclose(m);
    assert_non_null(strstr(gen, "| 1010-6001; cell i: +(i-1)x1 | `cell_voltage` |"));
    assert_non_null(strstr(gen, "| 1001-4001; arm g: +(g-1)x1000 | `arm_current` |"));
    FILE *f = fopen(DOC, "r");
    assert_non_null(f);
    committed = calloc(1, gen_len + 2);
    size_t n = fread(committed, 1, gen_len + 1, f);
    fclose(f);
    if (n != gen_len || memcmp(gen, committed, gen_len) != 0)
        fail_msg("docs/modbus-maps.md is not the generated one: run ninja -C build docs");
    free(gen);
    free(committed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_is_generated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
