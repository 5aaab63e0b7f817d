#include "b64url.h"

#include <stdint.h>
#include <stdlib.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t mcpc_b64url_encoded_len(size_t n)
{
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

size_t mcpc_b64url_encode_to(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
    }
    out[o] = '\0';
    return o;
}

char *mcpc_b64url_encode(const unsigned char *in, size_t n)
{
    char *out;
    if (n > (SIZE_MAX - 4) / 4 * 3)
        return NULL;
    out = malloc(mcpc_b64url_encoded_len(n) + 1);
    if (out)
        mcpc_b64url_encode_to(in, n, out);
    return out;
}

int mcpc_b64url_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

mcpc_err mcpc_b64url_decode(const char *in, size_t n, unsigned char **out, size_t *outlen)
{
    unsigned char *buf;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;

    *out = NULL;
    *outlen = 0;
    /* One leftover character carries only 6 bits: never a whole byte. */
    if (n % 4 == 1)
        return MCPC_ERR_INVALID;
    buf = malloc(n / 4 * 3 + 3);
    if (!buf)
        return MCPC_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        int v = mcpc_b64url_value((unsigned char)in[i]);
        if (v < 0)
            goto bad;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* The bits left over must be zero: otherwise two encodings would decode alike. */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        goto bad;
    buf[o] = '\0';
    *out = buf;
    *outlen = o;
    return MCPC_OK;
bad:
    free(buf);
    return MCPC_ERR_INVALID;
}
