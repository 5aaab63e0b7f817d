/* MCP's header value encoding (streamable HTTP, "Value Encoding"): a value rides in an HTTP
 * header as is when it is plain visible ASCII without surrounding whitespace, and otherwise as
 * "=?base64?<standard Base64 of its UTF-8 bytes>?=". A plain value that merely looks like that
 * sentinel is encoded too, so that decoding is never ambiguous. */
#ifndef MCPC_HDRENC_H
#define MCPC_HDRENC_H

#include <stddef.h>

/* Standard Base64 (with padding) of n bytes between pre and post. New string (malloc) or NULL. */
char *mcpc_hdr_base64(const unsigned char *s, size_t n, const char *pre, const char *post);

/* The header form of the n bytes at v. New string (malloc) or NULL. */
char *mcpc_hdr_encode_value(const char *v, size_t n);

/* 1 when the n bytes at v may be sent as they are (no encoding needed). */
int mcpc_hdr_value_plain(const char *v, size_t n);

#endif
