/* base64url (RFC 4648 section 5) without padding, as JOSE uses it (RFC 7515 section 2).
 *
 * Decoding is strict, because a token that two parsers read differently is a token an attacker
 * can shape: padding ('='), whitespace and any character outside A-Z a-z 0-9 - _ are refused, a
 * length of 1 modulo 4 is refused, and so are non-canonical encodings (unused low bits of the
 * last character set), so each byte string has exactly one accepted encoding. */
#ifndef MCPC_B64URL_H
#define MCPC_B64URL_H

#include <stddef.h>
#include "error.h"

/* Characters needed to encode n bytes (no padding, no NUL). */
size_t mcpc_b64url_encoded_len(size_t n);

/* Encode n bytes into out, which holds mcpc_b64url_encoded_len(n) + 1 bytes; NUL-terminated.
 * Returns the length written (without the NUL). */
size_t mcpc_b64url_encode_to(const unsigned char *in, size_t n, char *out);

/* Encode n bytes. New string (caller frees with free()), or NULL when out of memory. */
char *mcpc_b64url_encode(const unsigned char *in, size_t n);

/* Decode the n characters at in. On MCPC_OK *out is a new buffer (caller frees with free()) of
 * *outlen bytes, followed by one NUL byte not counted in *outlen (so text decodes to a C
 * string). MCPC_ERR_INVALID for anything the strict rules above refuse (*out is then NULL),
 * MCPC_ERR_NOMEM when out of memory. */
mcpc_err mcpc_b64url_decode(const char *in, size_t n, unsigned char **out, size_t *outlen);

/* Value of one base64url character, or -1 for anything else. */
int mcpc_b64url_value(int c);

#endif
