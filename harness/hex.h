/* Hexadecimal digits, shared by the parsers that meet them (percent-encoding, \x escapes, hex
 * byte strings in cases). */
#ifndef MCPC_HEX_H
#define MCPC_HEX_H
#include <stddef.h>

/* Value of a hex digit (either case), or -1. */
int mcpc_hex_value(int c);
/* Lower-case hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void mcpc_hex_encode(const unsigned char *bytes, size_t n, char *out);

/* Append s to buf (cap bytes, NUL-terminated) percent-encoded: every byte but the RFC 3986
 * unreserved ones becomes %XX. 0, or -1 when it does not fit (buf then holds what fitted). */
int mcpc_pct_encode(char *buf, size_t cap, size_t *len, const char *s);

#endif
