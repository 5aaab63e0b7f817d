/* Hexadecimal digits, shared by the parsers that meet them (percent-encoding, \x escapes, hex
 * byte strings in cases). */
#ifndef MCPC_HEX_H
#define MCPC_HEX_H

/* Value of a hex digit (either case), or -1. */
int mcpc_hex_value(int c);

#endif
