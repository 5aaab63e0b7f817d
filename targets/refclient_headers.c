/* refclient: the values of HTTP request headers (2026-07-28 streamable HTTP).
 *
 * - x-mcp-header: a tool's inputSchema may mark a primitive property with
 *   "x-mcp-header": "Name"; the client then mirrors that argument into Mcp-Param-Name. An
 *   annotation that is empty, not an RFC 9110 token, a case-insensitive duplicate, on a
 *   property that is not a string, integer or boolean, or not reachable from the root through
 *   `properties` alone makes the whole tool invalid: the client must not offer it.
 * - Values that cannot ride as a plain header value (non-ASCII, control characters,
 *   leading/trailing space, or shaped like the sentinel itself) are sent as
 *   =?base64?<base64 of the UTF-8 bytes>?=.
 * No I/O. */
#include "refclient.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENTINEL_OPEN "=?base64?"
#define SENTINEL_CLOSE "?="
#define SAFE_INTEGER 9007199254740991.0   /* 2^53 - 1: the JavaScript safe range */

/* ---- header lines ------------------------------------------------------------------------- */

mcpc_err mcpc_rc_hdrs_add(struct mcpc_rc_hdrs *h, const char *name, const char *value)
{
    size_t nlen = strlen(name), vlen = strlen(value);
    char *line;

    if (strpbrk(value, "\r\n") || strpbrk(name, "\r\n:; "))
        return MCPC_ERR_INVALID;              /* never let a value split the header block */
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 8;
        char **np = realloc(h->line, cap * sizeof *np);
        if (!np)
            return MCPC_ERR_NOMEM;
        h->line = np;
        h->cap = cap;
    }
    if (!(line = malloc(nlen + vlen + 3)))
        return MCPC_ERR_NOMEM;
    /* curl drops a header written "Name:" with nothing after it; "Name;" sends it empty. */
    if (vlen == 0)
        snprintf(line, nlen + 2, "%s;", name);
    else
        snprintf(line, nlen + vlen + 3, "%s: %s", name, value);
    h->line[h->n++] = line;
    return MCPC_OK;
}

void mcpc_rc_hdrs_clear(struct mcpc_rc_hdrs *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->line[i]);
    free(h->line);
    h->line = NULL;
    h->n = h->cap = 0;
}

/* ---- value encoding ----------------------------------------------------------------------- */

/* 1 if s[0..len) may be sent as it is. */
static int plain_value(const char *s, size_t len)
{
    size_t open = sizeof SENTINEL_OPEN - 1, close = sizeof SENTINEL_CLOSE - 1;

    if (len > 0 && (s[0] == ' ' || s[len - 1] == ' '))
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E)
            return 0;
    /* A literal that looks encoded is encoded too, so that decoding stays unambiguous. */
    if (len >= open && len >= close && memcmp(s, SENTINEL_OPEN, open) == 0 &&
        memcmp(s + len - close, SENTINEL_CLOSE, close) == 0)
        return 0;
    return 1;
}

/* Standard base64 (with padding) of s[0..len), NUL-terminated, at dst (room for
 * 4 * ceil(len / 3) + 1 bytes). */
static void base64(const unsigned char *s, size_t len, char *dst)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;

    for (; i + 2 < len; i += 3) {
        unsigned long v = (unsigned long)s[i] << 16 | (unsigned long)s[i + 1] << 8 | s[i + 2];
        *dst++ = alphabet[v >> 18 & 63];
        *dst++ = alphabet[v >> 12 & 63];
        *dst++ = alphabet[v >> 6 & 63];
        *dst++ = alphabet[v & 63];
    }
    if (i < len) {
        unsigned long v = (unsigned long)s[i] << 16;
        if (i + 1 < len)
            v |= (unsigned long)s[i + 1] << 8;
        *dst++ = alphabet[v >> 18 & 63];
        *dst++ = alphabet[v >> 12 & 63];
        *dst++ = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
        *dst++ = '=';
    }
    *dst = '\0';
}

char *mcpc_rc_header_encode(const char *s, size_t len, bool raw)
{
    size_t open = sizeof SENTINEL_OPEN - 1, close = sizeof SENTINEL_CLOSE - 1, b64;
    char *out;

    if (raw) {
        size_t k = 0;
        if (!(out = malloc(len + 1)))
            return NULL;
        for (size_t i = 0; i < len; i++)
            if (s[i] != '\r' && s[i] != '\n')
                out[k++] = s[i];
        out[k] = '\0';
        return out;
    }
    if (plain_value(s, len)) {
        if (!(out = malloc(len + 1)))
            return NULL;
        memcpy(out, s, len);
        out[len] = '\0';
        return out;
    }
    if (len > (MCPC_RC_MAX_RESPONSE))
        return NULL;                          /* a value no response could have carried */
    b64 = (len + 2) / 3 * 4;
    if (!(out = malloc(open + b64 + close + 1)))
        return NULL;
    memcpy(out, SENTINEL_OPEN, open);
    base64((const unsigned char *)s, len, out + open);
    memcpy(out + open + b64, SENTINEL_CLOSE, close + 1);
    return out;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void say(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

mcpc_err mcpc_rc_param_value(json_t *v, bool raw, char **out, char *why, size_t whylen)
{
    char num[32];
    double d;

    *out = NULL;
    switch (json_typeof(v)) {
    case JSON_STRING:
        *out = mcpc_rc_header_encode(json_string_value(v), json_string_length(v), raw);
        return *out ? MCPC_OK : MCPC_ERR_NOMEM;
    case JSON_TRUE:
    case JSON_FALSE:
        *out = strdup(json_is_true(v) ? "true" : "false");
        return *out ? MCPC_OK : MCPC_ERR_NOMEM;
    case JSON_INTEGER:
        d = (double)json_integer_value(v);
        break;
    case JSON_REAL:
        d = json_real_value(v);           /* 42.0 is still the integer 42 */
        if (!isfinite(d) || floor(d) != d) {
            say(why, whylen, "the value %g is not an integer", d);
            return MCPC_ERR_INVALID;
        }
        break;
    default:
        say(why, whylen, "the value is not a string, integer or boolean");
        return MCPC_ERR_INVALID;
    }
    if (d > SAFE_INTEGER || d < -SAFE_INTEGER) {
        say(why, whylen, "the integer is outside the JavaScript safe range");
        return MCPC_ERR_INVALID;
    }
    snprintf(num, sizeof num, "%lld", (long long)d);
    *out = strdup(num);
    return *out ? MCPC_OK : MCPC_ERR_NOMEM;
}

json_t *mcpc_rc_path_value(json_t *args, json_t *path)
{
    size_t i;
    json_t *step;

    json_array_foreach(path, i, step) {
        if (!json_is_object(args) || !json_is_string(step))
            return NULL;
        args = json_object_get(args, json_string_value(step));
    }
    return args;
}

/* ---- x-mcp-header declarations ------------------------------------------------------------ */

struct scan {
    json_t *decls;                 /* new ref: what we found */
    json_t *seen;                  /* new ref: lower-cased names already declared */
    char *why;
    size_t whylen;
};

/* 1 if c is an RFC 9110 tchar. */
static int tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* 1 if the schema's "type" is a single primitive the header can carry (a ["T", "null"]
 * union included: null just means no header). Sets *number for type number. */
static int primitive_type(json_t *schema, int *number)
{
    json_t *t = json_object_get(schema, "type"), *e;
    size_t i, prims = 0;

    *number = 0;
    if (json_is_string(t))
        t = json_pack("[O]", t);
    else if (json_is_array(t))
        json_incref(t);
    else
        return 0;
    if (!t)
        return 0;
    json_array_foreach(t, i, e) {
        const char *s = json_string_value(e);
        if (!s)
            prims = 99;
        else if (strcmp(s, "number") == 0)
            *number = 1, prims = 99;
        else if (strcmp(s, "string") == 0 || strcmp(s, "integer") == 0 ||
                 strcmp(s, "boolean") == 0)
            prims++;
        else if (strcmp(s, "null") != 0)
            prims = 99;
    }
    json_decref(t);
    return prims == 1;
}

/* Check the annotation v found on schema at path (both borrowed). 0 ok, -1 invalid (why
 * set), -2 no memory. */
static int check_decl(struct scan *s, json_t *schema, json_t *v, json_t *path)
{
    const char *name = json_string_value(v);
    size_t len = json_string_length(v);
    char lower[256];
    int number;
    json_t *decl;

    if (!name) {
        say(s->why, s->whylen, "x-mcp-header is not a string");
        return -1;
    }
    if (len == 0) {
        say(s->why, s->whylen, "x-mcp-header is empty");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7F) {
            say(s->why, s->whylen, "x-mcp-header contains a control character");
            return -1;
        }
        if (!tchar(c)) {
            say(s->why, s->whylen, "x-mcp-header \"%.64s\" is not an RFC 9110 token", name);
            return -1;
        }
    }
    if (len >= sizeof lower) {
        say(s->why, s->whylen, "x-mcp-header \"%.64s...\" is too long", name);
        return -1;
    }
    for (size_t i = 0; i <= len; i++)
        lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
    if (json_object_get(s->seen, lower)) {
        say(s->why, s->whylen, "x-mcp-header \"%s\" is declared twice (case-insensitively)",
            name);
        return -1;
    }
    if (!primitive_type(schema, &number)) {
        say(s->why, s->whylen, "x-mcp-header \"%s\" is on a %s property", name,
            number ? "number" : "non-primitive (not string, integer or boolean)");
        return -1;
    }
    decl = json_pack("{s:O, s:O}", "header", v, "path", path);
    if (!decl || json_object_set_new(s->seen, lower, json_true()) != 0 ||
        json_array_append_new(s->decls, decl) != 0)
        return -2;
    return 0;
}

/* Walk schema (borrowed). path: the chain of `properties` keys that reached it (borrowed),
 * or NULL when it is not statically reachable. Returns as check_decl. */
static int walk(struct scan *s, json_t *schema, json_t *path, int root)
{
    const char *key;
    json_t *v;

    if (!json_is_object(schema))
        return 0;
    json_object_foreach(schema, key, v) {
        int rc = 0;

        if (strcmp(key, "x-mcp-header") == 0) {
            if (!path || root) {
                say(s->why, s->whylen, "x-mcp-header %s is not reachable through properties",
                    json_is_string(v) ? json_string_value(v) : "(not a string)");
                return -1;
            }
            rc = check_decl(s, schema, v, path);
        } else if (strcmp(key, "properties") == 0 && json_is_object(v)) {
            const char *prop;
            json_t *sub;
            json_object_foreach(v, prop, sub) {
                json_t *sub_path = NULL;
                if (path) {
                    if (!(sub_path = json_copy(path)) ||
                        json_array_append_new(sub_path, json_string(prop)) != 0) {
                        json_decref(sub_path);
                        return -2;
                    }
                }
                rc = walk(s, sub, sub_path, 0);
                json_decref(sub_path);
                if (rc)
                    return rc;
            }
        } else if (strcmp(key, "default") == 0 || strcmp(key, "const") == 0 ||
                   strcmp(key, "enum") == 0 || strcmp(key, "examples") == 0) {
            continue;                         /* instances, not schemas */
        } else if (json_is_object(v)) {
            /* items, oneOf members, $defs, if/then/else, $ref targets...: not reachable */
            rc = walk(s, v, NULL, 0);
        } else if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
                if ((rc = walk(s, e, NULL, 0)) != 0)
                    return rc;
        }
        if (rc)
            return rc;
    }
    return 0;
}

mcpc_err mcpc_rc_xheaders_scan(json_t *input_schema, json_t **decls, char *why, size_t whylen)
{
    struct scan s = { json_array(), json_object(), why, whylen };
    json_t *root = json_array();
    mcpc_err rc = MCPC_ERR_NOMEM;
    int w;

    *decls = NULL;
    if (!s.decls || !s.seen || !root)
        goto out;
    w = walk(&s, input_schema, root, 1);
    if (w == -1) {
        rc = MCPC_ERR_INVALID;
        goto out;
    }
    if (w == 0) {
        *decls = json_incref(s.decls);
        rc = MCPC_OK;
    }
out:
    json_decref(s.decls);
    json_decref(s.seen);
    json_decref(root);
    return rc;
}
