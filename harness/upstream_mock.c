/* The mock upstream API (docs/auth.md §1). Small on purpose: what matters is the record. */
#include "upstream_mock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64url.h"
#include "http_listener.h"

#define MAX_REQUESTS 1024      /* recorded; later requests are answered but not kept */
#define MAX_BODY (16u * 1024)  /* an API call of a test tool is small */

/* The bytes a passthrough search looks through: every header value, the query and the body,
 * joined by NULs (a token holds no NUL, so no match spans two fields). */
struct blob {
    char *p;
    size_t len;
};

struct mcpc_upstream {
    mcpc_http_listener *l;
    unsigned port;
    char url[64];
    /* under the listener mutex */
    json_t *record;
    struct blob blobs[MAX_REQUESTS];
    size_t n_blobs, total;
};

/* A string when UTF-8, else {"base64url": bytes}. New reference. */
static json_t *bytes_json(const char *v, size_t n)
{
    json_t *s = json_stringn(v, n);
    char *enc;

    if (s)
        return s;
    enc = mcpc_b64url_encode((const unsigned char *)v, n);
    s = enc ? json_pack("{s:s}", "base64url", enc) : NULL;
    free(enc);
    return s;
}

/* 1 when needle[0..n) occurs in hay[0..len) (memmem is a GNU extension). */
static int contains(const char *hay, size_t len, const char *needle, size_t n)
{
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
            return 1;
    return 0;
}

static int blob_add(struct blob *b, const char *p, size_t n)
{
    char *np = realloc(b->p, b->len + n + 1);

    if (!np)
        return -1;
    b->p = np;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len++] = '\0';
    return 0;
}

static void keep(mcpc_upstream *u, const mcpc_listener_request *req, json_t *entry)
{
    json_t *auth = json_array();
    struct blob b = { NULL, 0 };
    int ok = auth != NULL;

    for (size_t i = 0; i < req->n_headers; i++) {
        const mcpc_listener_header *h = &req->headers[i];
        if (strcasecmp(h->name, "authorization") == 0 && auth)
            ok &= json_array_append_new(auth, bytes_json(h->value, h->value_len)) == 0;
        ok &= blob_add(&b, h->value, h->value_len) == 0;
    }
    ok &= blob_add(&b, req->query, strlen(req->query)) == 0;
    ok &= blob_add(&b, req->body, req->body_len) == 0;
    if (!ok || json_object_set_new(entry, "authorization", auth) ||
        json_array_append(u->record, entry)) {
        /* out of memory: the request is missing from the record, and the record says so */
        json_object_set_new(entry, "authorization", json_null());
        free(b.p);
        return;
    }
    u->blobs[u->n_blobs++] = b;
}

static mcpc_err up_handle(void *ctx, const mcpc_listener_request *req, mcpc_listener_response *res)
{
    mcpc_upstream *u = ctx;
    json_t *entry, *body;
    char *text;
    unsigned status;
    mcpc_err rc;

    u->total++;
    if (strcmp(req->path, "/api") != 0)
        status = 404;
    else if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0)
        status = 405;
    else
        status = 200;
    entry = json_pack("{s:s, s:s, s:s, s:i}", "method", req->method, "path", req->path, "query",
                      req->query, "status", (int)status);
    if (entry && u->n_blobs < MAX_REQUESTS)
        keep(u, req, entry);
    json_decref(entry);
    body = status == 200 ? json_pack("{s:b, s:s}", "ok", 1, "report", MCPC_UPSTREAM_REPORT)
                         : json_pack("{s:b, s:s}", "ok", 0, "error",
                                     status == 404 ? "not found" : "method not allowed");
    text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return MCPC_ERR_NOMEM;
    rc = mcpc_listener_response_set(res, status, "application/json", text, strlen(text));
    free(text);
    if (!rc && status == 405)
        rc = mcpc_listener_response_header(res, "Allow", "GET, POST");
    return rc;
}

mcpc_err mcpc_upstream_start(unsigned port, mcpc_upstream **out, char *err, size_t errlen)
{
    mcpc_upstream *u = calloc(1, sizeof *u);
    mcpc_listener_opts lo;
    mcpc_err rc;

    *out = NULL;
    if (!u || !(u->record = json_array())) {
        free(u);
        snprintf(err, errlen, "out of memory");
        return MCPC_ERR_NOMEM;
    }
    mcpc_listener_opts_default(&lo);
    lo.max_body = MAX_BODY;
    lo.max_connections = 16;
    rc = mcpc_listener_start("127.0.0.1", port, up_handle, u, &lo, &u->l, err, errlen);
    if (rc) {
        json_decref(u->record);
        free(u);
        return rc;
    }
    u->port = mcpc_listener_port(u->l);
    snprintf(u->url, sizeof u->url, "http://127.0.0.1:%u/api", u->port);
    *out = u;
    return MCPC_OK;
}

void mcpc_upstream_stop(mcpc_upstream *u)
{
    if (!u)
        return;
    mcpc_listener_stop(u->l);
    for (size_t i = 0; i < u->n_blobs; i++)
        free(u->blobs[i].p);
    json_decref(u->record);
    free(u);
}

unsigned mcpc_upstream_port(const mcpc_upstream *u)
{
    return u->port;
}

const char *mcpc_upstream_url(const mcpc_upstream *u)
{
    return u->url;
}

json_t *mcpc_upstream_record(mcpc_upstream *u)
{
    json_t *copy;

    mcpc_listener_lock(u->l);
    copy = json_deep_copy(u->record);
    mcpc_listener_unlock(u->l);
    return copy;
}

size_t mcpc_upstream_count_containing(mcpc_upstream *u, const void *bytes, size_t len)
{
    size_t hits = 0;

    if (len == 0)
        return 0;
    mcpc_listener_lock(u->l);
    for (size_t i = 0; i < u->n_blobs; i++)
        if (contains(u->blobs[i].p, u->blobs[i].len, bytes, len))
            hits++;
    mcpc_listener_unlock(u->l);
    return hits;
}

size_t mcpc_upstream_count(mcpc_upstream *u)
{
    size_t n;

    mcpc_listener_lock(u->l);
    n = u->total;
    mcpc_listener_unlock(u->l);
    return n;
}
