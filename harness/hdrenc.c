/* MCP header value encoding (see hdrenc.h). */
#include <stdlib.h>
#include <string.h>

#include "hdrenc.h"

char *mcpc_hdr_base64(const unsigned char *s, size_t n, const char *pre, const char *post)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t pl = strlen(pre), ql = strlen(post);
    char *out = malloc(pl + (n + 2) / 3 * 4 + ql + 1), *o;
    if (!out)
        return NULL;
    memcpy(out, pre, pl);
    o = out + pl;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
                     (i + 2 < n ? s[i + 2] : 0);
        *o++ = tbl[v >> 18 & 63];
        *o++ = tbl[v >> 12 & 63];
        *o++ = i + 1 < n ? tbl[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? tbl[v & 63] : '=';
    }
    memcpy(o, post, ql + 1);
    return out;
}

int mcpc_hdr_value_plain(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7E)
            return 0;
    /* surrounding whitespace would be stripped by every HTTP parser on the way */
    if (n && (v[0] == ' ' || v[n - 1] == ' '))
        return 0;
    if (n >= 11 && strncmp(v, "=?base64?", 9) == 0 && strncmp(v + n - 2, "?=", 2) == 0)
        return 0;
    return 1;
}

char *mcpc_hdr_encode_value(const char *v, size_t n)
{
    if (mcpc_hdr_value_plain(v, n)) {
        char *out = malloc(n + 1);
        if (out) {
            memcpy(out, v, n);
            out[n] = '\0';
        }
        return out;
    }
    return mcpc_hdr_base64((const unsigned char *)v, n, "=?base64?", "?=");
}
