/* SPDX-License-Identifier: MIT */
/* utf8.h — keeping texts that go into JSON well-formed UTF-8. */
#ifndef BMSGW_UTF8_H
#define BMSGW_UTF8_H

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at p (the rules jansson checks strings by: no
 * overlong forms, no surrogates, nothing above U+10FFFF), 0 if there is none. */
size_t utf8_seq_len(const unsigned char *p);

/* Error texts quote what a client sent (jansson's parse errors quote the bytes it stopped at),
 * and a byte-wise cut may split a character: every byte of s that is not part of a well-formed
 * character becomes '?', so the text is always a valid JSON string. */
void utf8_repair(char *s);

#endif
