/* SPDX-License-Identifier: MIT */
/* test-model.c — the names of the model's enums. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bmsgw/model.h"
#include "bmsgw/tinybms.h"

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(bmsgw_alarm_name(BMSGW_ALARM_HIGH_VOLTAGE), "high_voltage");
    assert_string_equal(bmsgw_alarm_name(BMSGW_ALARM_CELL_IMBALANCE), "cell_imbalance");
    assert_string_equal(bmsgw_bms_state_name(tinybms_state(0x9B)), "fault");
    assert_string_equal(bmsgw_bms_state_name(tinybms_state(0x42)), "unknown");
    assert_string_equal(bmsgw_link_state_name(BMSGW_LINK_DEGRADED), "degraded");
    assert_string_equal(bmsgw_can_bus_state_name(BMSGW_CAN_BUS_OFF), "bus-off");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
