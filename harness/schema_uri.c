/* URI reference resolution (RFC 3986 section 5), percent-decoding and JSON Pointer lookup for
 * $id/$ref. Text only: nothing is ever fetched. */
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "schema_int.h"

typedef struct {
    const char *p;
    size_t n;
    int has;
} uri_part;

typedef struct {
    uri_part scheme, auth, path, query, frag;
} uri_parts;

/* Split per RFC 3986 appendix B; parts point into u. */
static void uri_split(const char *u, uri_parts *o)
{
    size_t n = strlen(u), i = 0, j;
    memset(o, 0, sizeof *o);
    for (j = 0; j < n && !strchr(":/?#", u[j]); j++)
        ;
    if (j > 0 && j < n && u[j] == ':') {
        o->scheme = (uri_part){u, j, 1};
        i = j + 1;
    }
    if (i + 1 < n && u[i] == '/' && u[i + 1] == '/') {
        for (j = i + 2; j < n && !strchr("/?#", u[j]); j++)
            ;
        o->auth = (uri_part){u + i + 2, j - i - 2, 1};
        i = j;
    }
    for (j = i; j < n && u[j] != '?' && u[j] != '#'; j++)
        ;
    o->path = (uri_part){u + i, j - i, 1};
    i = j;
    if (i < n && u[i] == '?') {
        for (j = i + 1; j < n && u[j] != '#'; j++)
            ;
        o->query = (uri_part){u + i + 1, j - i - 1, 1};
        i = j;
    }
    if (i < n && u[i] == '#')
        o->frag = (uri_part){u + i + 1, n - i - 1, 1};
}

/* 1 when uri starts with a syntactically valid scheme. */
int mcpc_schema_uri_has_scheme(const char *uri)
{
    size_t i = 0;
    if (!uri || !((uri[0] >= 'a' && uri[0] <= 'z') || (uri[0] >= 'A' && uri[0] <= 'Z')))
        return 0;
    for (i = 1; uri[i] && uri[i] != ':'; i++) {
        char c = uri[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.'))
            return 0;
    }
    return uri[i] == ':';
}

/* Length of uri before its "#". */
size_t mcpc_schema_uri_docpart(const char *uri)
{
    const char *h = strchr(uri, '#');
    return h ? (size_t)(h - uri) : strlen(uri);
}

/* RFC 3986 5.2.4, in place on a NUL-terminated buffer (the output never outruns the input). */
static void remove_dots(char *buf)
{
    size_t n = strlen(buf), wo = 0;
    char *in = malloc(n + 3);
    if (!in)
        return;   /* leave the path as it is: a lookup then just fails */
    memcpy(in, buf, n + 1);
    char *r = in;
    while (*r) {
        if (strncmp(r, "../", 3) == 0)
            r += 3;
        else if (strncmp(r, "./", 2) == 0)
            r += 2;
        else if (strncmp(r, "/./", 3) == 0)
            r += 2;
        else if (strcmp(r, "/.") == 0)
            r[1] = '\0';   /* becomes "/" */
        else if (strncmp(r, "/../", 4) == 0 || strcmp(r, "/..") == 0) {
            if (r[3] == '\0') {
                r += 2;
                *r = '/';
            } else
                r += 3;
            while (wo > 0 && buf[--wo] != '/')
                ;
        } else if (strcmp(r, ".") == 0 || strcmp(r, "..") == 0)
            break;
        else {
            do
                buf[wo++] = *r++;
            while (*r && *r != '/');
        }
    }
    buf[wo] = '\0';
    free(in);
}

/* Append n bytes; returns the new write position. */
static char *put(char *w, const char *p, size_t n)
{
    memcpy(w, p, n);
    return w + n;
}

/* New malloc'd absolute reference. */
char *mcpc_schema_uri_resolve(const char *base, const char *ref)
{
    uri_parts b, r;
    if (!base || !*base || mcpc_schema_uri_has_scheme(ref)) {
        if (!mcpc_schema_uri_has_scheme(ref))
            return strdup(ref);
        /* an absolute reference still needs its dot segments removed */
        base = "";
    }
    uri_split(base, &b);
    uri_split(ref, &r);
    size_t cap = strlen(base) + strlen(ref) + 8;
    char *path = malloc(cap), *outp = malloc(cap);
    char *w;
    const uri_part *scheme, *auth, *query;
    if (!path || !outp) {
        free(path);
        free(outp);
        return NULL;
    }
    path[0] = '\0';
    if (r.scheme.has) {
        scheme = &r.scheme;
        auth = &r.auth;
        query = &r.query;
        memcpy(path, r.path.p, r.path.n);
        path[r.path.n] = '\0';
    } else {
        scheme = &b.scheme;
        if (r.auth.has) {
            auth = &r.auth;
            query = &r.query;
            memcpy(path, r.path.p, r.path.n);
            path[r.path.n] = '\0';
        } else {
            auth = &b.auth;
            if (r.path.n == 0) {
                memcpy(path, b.path.p, b.path.n);
                path[b.path.n] = '\0';
                query = r.query.has ? &r.query : &b.query;
                goto assemble;   /* base path is already normalised */
            }
            query = &r.query;
            if (r.path.p[0] == '/') {
                memcpy(path, r.path.p, r.path.n);
                path[r.path.n] = '\0';
            } else {
                /* merge: base path up to its last '/', then the reference path */
                size_t keep = 0;
                w = path;
                if (b.auth.has && b.path.n == 0)
                    *w++ = '/';
                else {
                    for (size_t i = 0; i < b.path.n; i++)
                        if (b.path.p[i] == '/')
                            keep = i + 1;
                    w = put(w, b.path.p, keep);
                }
                w = put(w, r.path.p, r.path.n);
                *w = '\0';
            }
        }
    }
    remove_dots(path);
assemble:
    w = outp;
    if (scheme->has) {
        w = put(w, scheme->p, scheme->n);
        *w++ = ':';
    }
    if (auth->has) {
        w = put(w, "//", 2);
        w = put(w, auth->p, auth->n);
    }
    w = put(w, path, strlen(path));
    if (query->has) {
        *w++ = '?';
        w = put(w, query->p, query->n);
    }
    if (r.frag.has) {
        *w++ = '#';
        w = put(w, r.frag.p, r.frag.n);
    }
    *w = '\0';
    free(path);
    return outp;
}


/* New malloc'd decoded text. */
char *mcpc_schema_pct_decode(const char *s, size_t n, size_t *outlen)
{
    char *o = malloc(n + 1);
    size_t j = 0;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int h, l;
            h = i + 2 < n ? mcpc_hex_value((unsigned char)s[i + 1]) : -1;
            l = i + 2 < n ? mcpc_hex_value((unsigned char)s[i + 2]) : -1;
            if (h < 0 || l < 0) {
                free(o);
                return NULL;
            }
            o[j++] = (char)(h * 16 + l);
            i += 2;
        } else
            o[j++] = s[i];
    }
    o[j] = '\0';
    if (outlen)
        *outlen = j;
    return o;
}

/* Borrowed result. */
json_t *mcpc_schema_pointer_get(json_t *doc, const char *ptr, size_t n)
{
    size_t i = 0;
    char *tok;
    if (n == 0)
        return doc;
    if (ptr[0] != '/')
        return NULL;
    tok = malloc(n + 1);
    if (!tok)
        return NULL;
    while (doc && i < n) {
        size_t tl = 0;
        i++;   /* skip '/' */
        while (i < n && ptr[i] != '/') {
            if (ptr[i] == '~') {
                if (i + 1 >= n || (ptr[i + 1] != '0' && ptr[i + 1] != '1')) {
                    doc = NULL;
                    goto out;
                }
                tok[tl++] = ptr[i + 1] == '0' ? '~' : '/';
                i += 2;
            } else
                tok[tl++] = ptr[i++];
        }
        if (json_is_object(doc)) {
            doc = json_object_getn(doc, tok, tl);
        } else if (json_is_array(doc)) {
            size_t idx = 0;
            if (tl == 0 || tl > 18 || (tl > 1 && tok[0] == '0')) {
                doc = NULL;
                goto out;
            }
            for (size_t k = 0; k < tl; k++) {
                if (tok[k] < '0' || tok[k] > '9') {
                    doc = NULL;
                    goto out;
                }
                idx = idx * 10 + (size_t)(tok[k] - '0');
            }
            doc = json_array_get(doc, idx);
        } else
            doc = NULL;
    }
out:
    free(tok);
    return doc;
}

/* Append "/" + escaped token. Returns 0, or -1 on allocation failure. */
int mcpc_schema_buf_ptr_token(char **buf, size_t *len, size_t *cap, const char *tok, size_t n)
{
    size_t need = *len + 2 * n + 2;
    if (need > *cap) {
        size_t c = *cap ? *cap : 64;
        while (c < need)
            c *= 2;
        char *b = realloc(*buf, c);
        if (!b)
            return -1;
        *buf = b;
        *cap = c;
    }
    char *w = *buf + *len;
    *w++ = '/';
    for (size_t i = 0; i < n; i++) {
        if (tok[i] == '~') {
            *w++ = '~';
            *w++ = '0';
        } else if (tok[i] == '/') {
            *w++ = '~';
            *w++ = '1';
        } else
            *w++ = tok[i];
    }
    *w = '\0';
    *len = (size_t)(w - *buf);
    return 0;
}
