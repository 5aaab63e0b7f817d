/* Hexadecimal digits, shared by the parsers that meet them (percent-encoding, \x escapes, hex
 * byte strings in cases). */
#ifndef MCPC_HEX_H
#define MCPC_HEX_H
#include <stddef.h>

/* Value of a hex digit (either case), or -1. */
int mcpc_hex_value(int c);
/* Lower-case hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void mcpc_hex_encode(const unsigned char *bytes, size_t n, char *out);

#endif
