#include "jcs.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "b64url.h"

/* ---- numbers ------------------------------------------------------------------------------ */

/* The double that the decimal m * 10^scale reads back as (strtod rounds correctly, to nearest
 * even, like ECMAScript's StringToNumber). */
static double read_back(uint64_t m, int scale)
{
    char buf[48];
    snprintf(buf, sizeof buf, "%llue%d", (unsigned long long)m, scale);
    return strtod(buf, NULL);
}

static uint64_t pow10u(int p)
{
    uint64_t r = 1;
    while (p-- > 0)
        r *= 10;
    return r;
}

/* Shortest decimal for x > 0 (finite): the digits (no leading or trailing zeros) into digits,
 * and n such that x = 0.digits * 10^n. ECMAScript asks for the fewest digits k that read back to
 * x and, among k-digit candidates, the one closest to x. For each k we try the correctly
 * rounded k-digit value (printf's %e is exact, ties to even): it is the closest, so when it reads
 * back it is the answer. When it does not (it lies outside x's rounding interval on one side),
 * the nearest k-digit value on the other side of x can still be inside the interval, which is
 * asymmetric at powers of two; that value is one unit away in the last digit. Trying both
 * neighbours is safe: the one beyond the rounded value is even further outside. */
static int shortest(double x, char digits[20], int *n_out)
{
    for (int p = 1; p <= 17; p++) {
        char buf[40], *e;
        uint64_t m = 0, lo = pow10u(p - 1), hi = pow10u(p);
        int exp10, found = 0;

        snprintf(buf, sizeof buf, "%.*e", p - 1, x);
        for (const char *c = buf; *c && *c != 'e'; c++)
            if (*c >= '0' && *c <= '9')
                m = m * 10 + (uint64_t)(*c - '0');
        e = strchr(buf, 'e');
        if (!e)
            return -1;
        exp10 = atoi(e + 1);
        if (read_back(m, exp10 - (p - 1)) == x)
            found = 1;
        else if (m + 1 < hi && read_back(m + 1, exp10 - (p - 1)) == x)
            m += 1, found = 1;
        else if (m - 1 >= lo && read_back(m - 1, exp10 - (p - 1)) == x)
            m -= 1, found = 1;
        if (found) {
            int k = snprintf(digits, 20, "%llu", (unsigned long long)m);
            while (k > 1 && digits[k - 1] == '0')
                digits[--k] = '\0';
            *n_out = exp10 + 1;
            return k;
        }
    }
    return -1; /* unreachable: 17 significant digits always read back */
}

int mcpc_jcs_number(double d, char out[32])
{
    char digits[20];
    int k, n, o = 0;

    out[0] = '\0';
    if (!isfinite(d))
        return -1;
    if (d == 0) { /* +0 and -0 */
        out[0] = '0';
        out[1] = '\0';
        return 1;
    }
    if (d < 0) {
        out[o++] = '-';
        d = -d;
    }
    k = shortest(d, digits, &n);
    if (k < 0)
        return -1;
    if (k <= n && n <= 21) {
        /* integer: the digits, then n-k zeros */
        memcpy(out + o, digits, (size_t)k);
        o += k;
        for (int i = 0; i < n - k; i++)
            out[o++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(out + o, digits, (size_t)n);
        o += n;
        out[o++] = '.';
        memcpy(out + o, digits + n, (size_t)(k - n));
        o += k - n;
    } else if (-6 < n && n <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -n; i++)
            out[o++] = '0';
        memcpy(out + o, digits, (size_t)k);
        o += k;
    } else {
        out[o++] = digits[0];
        if (k > 1) {
            out[o++] = '.';
            memcpy(out + o, digits + 1, (size_t)(k - 1));
            o += k - 1;
        }
        o += snprintf(out + o, (size_t)(32 - o), "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
    }
    out[o] = '\0';
    return o;
}

/* ---- strings ------------------------------------------------------------------------------ */

/* Decode one UTF-8 code point of s[*i..len); advance *i. -1 for anything not well-formed
 * (overlong forms, surrogates, beyond U+10FFFF, truncation). */
static long utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[*i];
    long cp, min;
    int more;

    if (c < 0x80) {
        (*i)++;
        return c;
    }
    if (c >= 0xc2 && c <= 0xdf)
        cp = c & 0x1f, more = 1, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        cp = c & 0x0f, more = 2, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        cp = c & 0x07, more = 3, min = 0x10000;
    else
        return -1;
    if (len - *i <= (size_t)more)
        return -1;
    for (int j = 1; j <= more; j++) {
        unsigned char cc = s[*i + (size_t)j];
        if ((cc & 0xc0) != 0x80)
            return -1;
        cp = cp << 6 | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *i += (size_t)more + 1;
    return cp;
}

static int utf8_valid(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len)
        if (utf8_next((const unsigned char *)s, len, &i) < 0)
            return 0;
    return 1;
}

/* The first UTF-16 code unit of a code point: what decides the order of two names at the first
 * code point where they differ (a supplementary character's high surrogate sorts below
 * U+E000..U+FFFF, unlike its code point). */
static long utf16_lead(long cp)
{
    return cp >= 0x10000 ? 0xd800 + ((cp - 0x10000) >> 10) : cp;
}

typedef struct {
    const char *key;
    size_t len;
    json_t *value;
} member;

/* qsort comparator: UTF-16 code-unit order of two valid UTF-8 names. */
static int member_cmp(const void *pa, const void *pb)
{
    const member *a = pa, *b = pb;
    size_t i = 0, j = 0;
    while (i < a->len && j < b->len) {
        long ca = utf8_next((const unsigned char *)a->key, a->len, &i);
        long cb = utf8_next((const unsigned char *)b->key, b->len, &j);
        if (ca != cb) {
            long la = utf16_lead(ca), lb = utf16_lead(cb);
            /* same lead unit: both supplementary, and the trail units follow code point order */
            if (la == lb)
                return ca < cb ? -1 : 1;
            return la < lb ? -1 : 1;
        }
    }
    if (i < a->len)
        return 1;
    if (j < b->len)
        return -1;
    return 0;
}

/* ---- output ------------------------------------------------------------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
    mcpc_err err;
} buf_t;

static void put(buf_t *b, const char *s, size_t n)
{
    if (b->err)
        return;
    if (n > MCPC_JCS_MAX_OUTPUT - b->len) {
        b->err = MCPC_ERR_TOO_BIG;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;
        while (cap < b->len + n + 1)
            cap *= 2;
        p = realloc(b->p, cap);
        if (!p) {
            b->err = MCPC_ERR_NOMEM;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put_string(buf_t *b, const char *s, size_t n)
{
    size_t run = 0; /* start of the pending run of bytes copied as they are */
    if (!utf8_valid(s, n)) {
        if (!b->err)
            b->err = MCPC_ERR_INVALID;
        return;
    }
    put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        const char *e = NULL;
        switch (c) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\b': e = "\\b"; break;
        case '\t': e = "\\t"; break;
        case '\n': e = "\\n"; break;
        case '\f': e = "\\f"; break;
        case '\r': e = "\\r"; break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                e = esc;
            }
        }
        if (e) {
            put(b, s + run, i - run);
            put(b, e, strlen(e));
            run = i + 1;
        }
    }
    put(b, s + run, n - run);
    put(b, "\"", 1);
}

static void put_number(buf_t *b, double d)
{
    char num[32];
    int n = mcpc_jcs_number(d, num);
    if (n < 0) {
        if (!b->err)
            b->err = MCPC_ERR_INVALID;
        return;
    }
    put(b, num, (size_t)n);
}

static void put_value(buf_t *b, const json_t *v, int depth)
{
    if (b->err)
        return;
    if (depth > MCPC_JCS_MAX_DEPTH) {
        b->err = MCPC_ERR_TOO_BIG;
        return;
    }
    switch (json_typeof(v)) {
    case JSON_NULL: put(b, "null", 4); break;
    case JSON_TRUE: put(b, "true", 4); break;
    case JSON_FALSE: put(b, "false", 5); break;
    case JSON_INTEGER:
        /* as a double, like every ECMAScript number (see the header) */
        put_number(b, (double)json_integer_value(v));
        break;
    case JSON_REAL: put_number(b, json_real_value(v)); break;
    case JSON_STRING: put_string(b, json_string_value(v), json_string_length(v)); break;
    case JSON_ARRAY:
        put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                put(b, ",", 1);
            put_value(b, json_array_get(v, i), depth + 1);
        }
        put(b, "]", 1);
        break;
    case JSON_OBJECT: {
        /* jansson's API is not const-correct; nothing below modifies v */
        json_t *obj = (json_t *)v;
        size_t n = json_object_size(obj), i = 0;
        member *m = n ? calloc(n, sizeof *m) : NULL;
        if (n && !m) {
            b->err = MCPC_ERR_NOMEM;
            return;
        }
        for (void *it = json_object_iter(obj); it && i < n; it = json_object_iter_next(obj, it)) {
            m[i].key = json_object_iter_key(it);
            m[i].len = json_object_iter_key_len(it);
            m[i].value = json_object_iter_value(it);
            /* the comparator needs well-formed names */
            if (!utf8_valid(m[i].key, m[i].len)) {
                b->err = MCPC_ERR_INVALID;
                free(m);
                return;
            }
            i++;
        }
        if (i > 1)
            qsort(m, i, sizeof *m, member_cmp);
        put(b, "{", 1);
        for (size_t j = 0; j < i; j++) {
            if (j)
                put(b, ",", 1);
            put_string(b, m[j].key, m[j].len);
            put(b, ":", 1);
            put_value(b, m[j].value, depth + 1);
        }
        put(b, "}", 1);
        free(m);
        break;
    }
    default: b->err = MCPC_ERR_INVALID; break;
    }
}

mcpc_err mcpc_jcs_serialize(const json_t *v, char **out, size_t *len)
{
    buf_t b = {0};
    *out = NULL;
    if (len)
        *len = 0;
    if (!v)
        return MCPC_ERR_INVALID;
    put_value(&b, v, 0);
    if (b.err) {
        free(b.p);
        return b.err;
    }
    *out = b.p;
    if (len)
        *len = b.len;
    return MCPC_OK;
}

char *mcpc_jcs_dump(const json_t *v, size_t *len)
{
    char *out;
    if (mcpc_jcs_serialize(v, &out, len) != MCPC_OK)
        return NULL;
    return out;
}

mcpc_err mcpc_jcs_sha256_b64url(const json_t *v, char out[44])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char *s = NULL;
    size_t n = 0;
    mcpc_err err;

    out[0] = '\0';
    err = mcpc_jcs_serialize(v, &s, &n);
    if (err)
        goto out;
    if (!EVP_Digest(s, n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
        err = MCPC_ERR_NOMEM; /* the only way SHA-256 fails here is an allocation */
        goto out;
    }
    mcpc_b64url_encode_to(md, mdlen, out);
out:
    free(s);
    return err;
}
