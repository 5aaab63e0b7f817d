/* RFC 8785 JSON Canonicalization Scheme (JCS) over jansson values: the bytes that MCP-S hashes
 * and signs (a per-call token's args_sha256 is base64url(SHA-256(JCS(arguments)))).
 *
 * - No whitespace; object members sorted by the UTF-16 code units of their (unescaped) names,
 *   recursively; array order kept.
 * - Strings as ECMAScript JSON.stringify writes them: \" \\ \b \t \n \f \r, other controls below
 *   U+0020 as lower-case \u00xx, everything else (including '/' and non-ASCII) as UTF-8 bytes.
 *   Invalid UTF-8 (jansson values built with json_string_nocheck can hold it) is refused, which
 *   covers RFC 8785's "lone surrogates must be an error": in UTF-8 they cannot be encoded.
 * - Numbers as ECMAScript Number.prototype.toString writes the IEEE 754 double: the shortest
 *   digit string that reads back to the same double (the closest one when there are several),
 *   plain notation for 1e-6 <= |x| < 1e21, otherwise d[.ddd]e+N / d[.ddd]e-N; -0 is "0".
 * - jansson integers (json_int_t, 64-bit) are converted to the nearest double first, as
 *   JSON.parse would have done with the same text: beyond 2^53 they lose digits, so
 *   9007199254740993 canonicalizes to 9007199254740992 and 2^63-1 to 9223372036854776000.
 *   Integers that do not fit json_int_t never reach us unless the caller parsed with
 *   JSON_DECODE_INT_AS_REAL, which is what a verifier should do for foreign arguments.
 * - NaN and Infinity cannot be held by jansson (json_real refuses them) and are refused anyway.
 * - Bounds: nesting deeper than MCPC_JCS_MAX_DEPTH or output over MCPC_JCS_MAX_OUTPUT is refused
 *   (a cyclic value built by hand hits the depth bound instead of looping). */
#ifndef MCPC_JCS_H
#define MCPC_JCS_H

#include <jansson.h>
#include <stddef.h>
#include "error.h"

#define MCPC_JCS_MAX_DEPTH 512
#define MCPC_JCS_MAX_OUTPUT (64u * 1024 * 1024)

/* Canonical form of v (borrowed; not modified). On MCPC_OK *out is a new NUL-terminated string
 * (caller frees with free()) of *len bytes. MCPC_ERR_INVALID: invalid UTF-8 or a non-finite
 * number; MCPC_ERR_TOO_BIG: a bound above; MCPC_ERR_NOMEM. *out is NULL on failure. */
mcpc_err mcpc_jcs_serialize(const json_t *v, char **out, size_t *len);

/* Same, NULL on any failure; len may be NULL. New string, caller frees with free(). */
char *mcpc_jcs_dump(const json_t *v, size_t *len);

/* ECMAScript Number::toString of d into out (NUL-terminated; at most 25 bytes are used).
 * Returns the length, or -1 when d is NaN or infinite (out is then ""). */
int mcpc_jcs_number(double d, char out[32]);

/* base64url(SHA-256(JCS(v))) into out: 43 characters and a NUL. v is borrowed. Errors as for
 * mcpc_jcs_serialize (out is then ""). */
mcpc_err mcpc_jcs_sha256_b64url(const json_t *v, char out[44]);

#endif
