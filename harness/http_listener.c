/* A small, bounded HTTP/1.1 server on libmicrohttpd (see http_listener.h).
 *
 * libmicrohttpd calls on_access() several times per request: once when the headers are in
 * (we check the header count and Content-Length there, so an oversized body is refused
 * before it is read), once per body chunk (appended, up to max_body), and once more when the
 * request is complete (we call the handler and queue its response). on_completed() runs when
 * the response is finished or the connection dies, and frees the per-request state.
 *
 * We bind the socket ourselves and hand it over with MHD_OPTION_LISTEN_SOCKET: that way the
 * address check, a clear bind error ("address in use") and the ephemeral port are ours. */
#include "http_listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define BODY_FIRST_CAP ((size_t)16 * 1024)   /* first body allocation when the size is unknown */
#define LISTEN_BACKLOG 64
#define DISCARD_MIN ((size_t)1024 * 1024)      /* body bytes we read and drop to send a 413 */

struct mcpc_http_listener {
    struct MHD_Daemon *daemon;
    int fd;                        /* the listening socket; libmicrohttpd closes it on stop */
    pthread_mutex_t mu;            /* serialises handler and done calls */
    mcpc_listener_handler fn;
    void *ctx;
    mcpc_listener_opts o;
    unsigned port;
};

/* Per-request state, from the first on_access() call to on_completed(). */
struct req_state {
    char *body;                    /* owned; len bytes + room for a NUL */
    size_t len, cap;
    size_t discarded;              /* body bytes dropped after the bound was passed */
    bool too_big;
    mcpc_listener_done_fn done;    /* from the handler's response, called on completion */
    void *done_ctx;
};

/* A growable byte buffer that refuses to pass a limit. */
struct gbuf {
    char *p;                       /* owned */
    size_t len, cap, limit;
    bool failed;                   /* out of memory or over the limit; later appends no-op */
};

/* ---- options and small helpers ----------------------------------------------------------- */

/* Fill o with the defaults. */
void mcpc_listener_opts_default(mcpc_listener_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_body = (size_t)4 * 1024 * 1024;
    o->max_headers = 64;
    o->max_header_bytes = (size_t)32 * 1024;
    o->max_response = (size_t)16 * 1024 * 1024;
    o->max_connections = 32;
    o->timeout_s = 10;
}

/* Append n bytes of s (borrowed) to b, growing it; past b->limit or on allocation failure
 * b->failed is set and nothing more is appended. */
static void gbuf_add(struct gbuf *b, const void *s, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (n > b->limit - b->len) {
        b->failed = true;
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *np;
        while (cap < b->len + n)
            cap = cap > SIZE_MAX / 2 ? b->len + n : cap * 2;
        if (!(np = realloc(b->p, cap))) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

/* Append the C string s (borrowed). */
static void gbuf_str(struct gbuf *b, const char *s)
{
    gbuf_add(b, s, strlen(s));
}

/* 1 if s (n bytes) holds a CR, LF or NUL: such bytes would split or cut a header line. */
static int has_line_break(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return 1;
    return 0;
}

/* 1 if s is a non-empty RFC 9110 token (the syntax of a header name). */
static int is_token(const char *s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";

    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch != '\0' && strchr(extra, ch))))
            return 0;
    }
    return 1;
}

/* strdup of s[0..n) with a NUL after it; NULL on allocation failure. */
static char *dup_bytes(const void *s, size_t n)
{
    char *p = malloc(n + 1);

    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ---- the response the handler fills ------------------------------------------------------- */

/* Free everything res owns and zero it (keeps nothing, not even done). */
static void response_clear(mcpc_listener_response *res)
{
    free(res->body);
    for (size_t i = 0; i < res->n_headers; i++) {
        free(res->headers[i].name);
        free(res->headers[i].value);
    }
    free(res->headers);
    for (size_t i = 0; i < res->n_events; i++) {
        free(res->events[i].event);
        free(res->events[i].id);
        free(res->events[i].data);
    }
    free(res->events);
    memset(res, 0, sizeof *res);
}

/* Set status, content type and body (copied). */
mcpc_err mcpc_listener_response_set(mcpc_listener_response *res, unsigned status,
                                    const char *content_type, const void *bytes, size_t len)
{
    char *copy;
    size_t used = res->used - res->body_len;   /* the old body is replaced */

    if (!content_type)
        content_type = "";
    if (strlen(content_type) >= sizeof res->content_type ||
        has_line_break(content_type, strlen(content_type)))
        return MCPC_ERR_INVALID;
    if (len > res->limit || used > res->limit - len)
        return MCPC_ERR_TOO_BIG;
    if (!(copy = dup_bytes(bytes, len)))
        return MCPC_ERR_NOMEM;
    free(res->body);
    res->body = copy;
    res->body_len = len;
    res->used = used + len;
    res->status = status;
    snprintf(res->content_type, sizeof res->content_type, "%s", content_type);
    return MCPC_OK;
}

/* Add a response header (copied). */
mcpc_err mcpc_listener_response_header(mcpc_listener_response *res, const char *name,
                                       const char *value)
{
    static const char *const managed[] = {
        "Content-Length", "Content-Type", "Transfer-Encoding", "Connection",
    };
    mcpc_listener_field *nh;
    char *n = NULL, *v = NULL;

    if (!is_token(name) || has_line_break(value, strlen(value)))
        return MCPC_ERR_INVALID;
    for (size_t i = 0; i < sizeof managed / sizeof managed[0]; i++)
        if (strcasecmp(name, managed[i]) == 0)
            return MCPC_ERR_INVALID;
    if (!(n = strdup(name)) || !(v = strdup(value)))
        goto fail;
    if (!(nh = realloc(res->headers, (res->n_headers + 1) * sizeof *nh)))
        goto fail;
    res->headers = nh;
    nh[res->n_headers].name = n;
    nh[res->n_headers].value = v;
    res->n_headers++;
    return MCPC_OK;
fail:
    free(n);
    free(v);
    return MCPC_ERR_NOMEM;
}

/* Append one SSE event (copied). */
mcpc_err mcpc_listener_response_event(mcpc_listener_response *res, const char *event,
                                      const char *id, const void *data, size_t len)
{
    mcpc_listener_event ev = { NULL, NULL, NULL, 0 }, *ne;

    if ((event && has_line_break(event, strlen(event))) || (id && has_line_break(id, strlen(id))))
        return MCPC_ERR_INVALID;
    if (len > res->limit || res->used > res->limit - len)
        return MCPC_ERR_TOO_BIG;
    if ((event && !(ev.event = strdup(event))) || (id && !(ev.id = strdup(id))) ||
        !(ev.data = dup_bytes(data, len)))
        goto fail;
    ev.len = len;
    if (!(ne = realloc(res->events, (res->n_events + 1) * sizeof *ne)))
        goto fail;
    res->events = ne;
    ne[res->n_events++] = ev;
    res->used += len;
    if (res->status == 0)
        res->status = 200;
    return MCPC_OK;
fail:
    free(ev.event);
    free(ev.id);
    free(ev.data);
    return MCPC_ERR_NOMEM;
}

/* The first header called name, and how many there are. */
const mcpc_listener_header *mcpc_listener_header_find(const mcpc_listener_request *req,
                                                      const char *name, size_t *count)
{
    const mcpc_listener_header *first = NULL;
    size_t n = 0;

    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) != 0)
            continue;
        if (!first)
            first = &req->headers[i];
        n++;
    }
    if (count)
        *count = n;
    return first;
}

/* Format the events of res as a text/event-stream body into b. Each data line break (CR,
 * LF or CRLF) starts a new "data:" line, which SSE readers join back with LF. */
static void format_events(const mcpc_listener_response *res, struct gbuf *b)
{
    for (size_t i = 0; i < res->n_events; i++) {
        const mcpc_listener_event *ev = &res->events[i];
        size_t start = 0;

        if (ev->event) {
            gbuf_str(b, "event: ");
            gbuf_str(b, ev->event);
            gbuf_str(b, "\n");
        }
        if (ev->id) {
            gbuf_str(b, "id: ");
            gbuf_str(b, ev->id);
            gbuf_str(b, "\n");
        }
        for (size_t k = 0; k <= ev->len; k++) {
            if (k < ev->len && ev->data[k] != '\r' && ev->data[k] != '\n')
                continue;
            gbuf_str(b, "data: ");
            gbuf_add(b, ev->data + start, k - start);
            gbuf_str(b, "\n");
            if (k + 1 < ev->len && ev->data[k] == '\r' && ev->data[k + 1] == '\n')
                k++;
            start = k + 1;
        }
        gbuf_str(b, "\n");
    }
}

/* ---- libmicrohttpd callbacks --------------------------------------------------------------- */

/* Queue a short text/plain answer made by the listener itself (413, 431, 500). */
static enum MHD_Result reply_plain(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    /* PERSISTENT: text is a string literal, libmicrohttpd only reads it. */
    r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "text/plain; charset=utf-8") != MHD_YES) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Queue res (borrowed) as the answer on c. MHD_NO when it could not be built or queued. */
static enum MHD_Result reply_handler(struct MHD_Connection *c, const mcpc_listener_response *res,
                                     size_t limit)
{
    struct gbuf b = { NULL, 0, 0, limit, false };
    struct MHD_Response *r = NULL;
    const char *ctype = res->content_type;
    unsigned status = res->status;
    enum MHD_Result ret = MHD_NO;

    if (res->n_events > 0) {
        format_events(res, &b);
        ctype = "text/event-stream";
    } else {
        gbuf_add(&b, res->body, res->body_len);
    }
    if (b.failed) {
        free(b.p);
        return reply_plain(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                           "internal error: response too large\n");
    }
    if (status < 200 || status > 599) {
        free(b.p);
        return reply_plain(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error: no status\n");
    }
    if (status == MHD_HTTP_NO_CONTENT || status == MHD_HTTP_NOT_MODIFIED)
        b.len = 0;                        /* these statuses carry no body */
    /* MUST_FREE: libmicrohttpd takes b.p and free()s it with the response. */
    r = MHD_create_response_from_buffer(b.len, b.len ? b.p : NULL,
                                        b.len ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(b.p);
        return MHD_NO;
    }
    if (!b.len)
        free(b.p);
    if (ctype[0] && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES)
        goto out;
    if (res->n_events > 0 &&
        (MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache") != MHD_YES ||
         MHD_add_response_header(r, "X-Accel-Buffering", "no") != MHD_YES))
        goto out;
    for (size_t i = 0; i < res->n_headers; i++)
        if (MHD_add_response_header(r, res->headers[i].name, res->headers[i].value) != MHD_YES)
            goto out;
    ret = MHD_queue_response(c, status, r);
out:
    MHD_destroy_response(r);
    return ret;
}

/* Iterator state for collecting the request headers. */
struct hdr_collect {
    mcpc_listener_header *h;
    size_t n, cap;
};

/* MHD_KeyValueIteratorN: store one header (pointers stay libmicrohttpd's). */
static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      size_t key_size, const char *value, size_t value_size)
{
    struct hdr_collect *hc = cls;

    if (hc->n >= hc->cap)
        return MHD_NO;
    hc->h[hc->n].name = key;
    hc->h[hc->n].value = value ? value : "";
    hc->h[hc->n].value_len = value ? value_size : 0;
    hc->n++;
    return MHD_YES;
}

/* MHD_KeyValueIteratorN: append one query argument to the gbuf in cls, as k or k=v. */
static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    struct gbuf *b = cls;

    if (b->len > 0)
        gbuf_str(b, "&");
    gbuf_add(b, key, key_size);
    if (value) {
        gbuf_str(b, "=");
        gbuf_add(b, value, value_size);
    }
    return MHD_YES;
}

/* Write the peer address of c into buf as "a.b.c.d:port" or "[v6]:port". */
static void client_address(struct MHD_Connection *c, char *buf, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char host[INET6_ADDRSTRLEN] = "?";

    snprintf(buf, len, "?");
    if (!ci || !ci->client_addr)
        return;
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ci->client_addr;
        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
        snprintf(buf, len, "%s:%u", host, (unsigned)ntohs(sin->sin_port));
    } else if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 =
            (const struct sockaddr_in6 *)(const void *)ci->client_addr;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        snprintf(buf, len, "[%s]:%u", host, (unsigned)ntohs(s6->sin6_port));
    }
}

/* Iterator state for the framing checks of begin_request(). */
struct hdr_audit {
    size_t content_length, transfer_encoding, host;
    const char *bad;               /* why the header block is refused, or NULL */
};

/* MHD_KeyValueIteratorN: count the framing headers and find malformed fields.
 * libmicrohttpd 0.9.75 lets some through that RFC 9112 says to refuse: a name with a space
 * ("X Bad: 1"), a bare CR inside a value, and repeated or conflicting framing headers. Each
 * can make two parsers disagree about where a request ends (request smuggling), so no
 * handler sees them. */
static enum MHD_Result audit_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
    struct hdr_audit *a = cls;

    if (!is_token(key) || strlen(key) != key_size)
        a->bad = "malformed header field name\n";
    else if (value && memchr(value, '\r', value_size))
        a->bad = "CR inside a header field value\n";
    else if (value && memchr(value, '\n', value_size))
        a->bad = "LF inside a header field value\n";
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        a->content_length++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
        a->transfer_encoding++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
        a->host++;
    return MHD_YES;
}

/* First call for a request (headers in, body not yet read): set up its state and refuse it
 * early when its header block is malformed (400), has too many fields (431) or announces a
 * body over the bound (413). */
static enum MHD_Result begin_request(struct mcpc_http_listener *l, struct MHD_Connection *c,
                                     void **con_cls)
{
    struct req_state *rs = calloc(1, sizeof *rs);
    struct hdr_audit a = { 0, 0, 0, NULL };
    const char *cl;
    int n;

    if (!rs)
        return MHD_NO;
    *con_cls = rs;                        /* on_completed() frees it from now on */
    n = MHD_get_connection_values(c, MHD_HEADER_KIND, NULL, NULL);
    if (n < 0 || (size_t)n > l->o.max_headers)
        return reply_plain(c, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                           "too many header fields\n");
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, audit_header, &a);
    if (!a.bad && (a.content_length > 1 || a.transfer_encoding > 1 ||
                   (a.content_length && a.transfer_encoding)))
        a.bad = "conflicting Content-Length / Transfer-Encoding\n";
    if (!a.bad && a.host > 1)
        a.bad = "more than one Host header\n";
    if (a.bad)
        return reply_plain(c, MHD_HTTP_BAD_REQUEST, a.bad);
    cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        /* libmicrohttpd has already refused a malformed Content-Length; an absurd one
         * simply saturates. */
        unsigned long long v = strtoull(cl, NULL, 10);
        if (v > l->o.max_body)
            return reply_plain(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n");
        if (v > 0 && !(rs->body = malloc((size_t)v + 1)))
            return MHD_NO;
        rs->cap = rs->body ? (size_t)v + 1 : 0;
    }
    return MHD_YES;
}

/* A body chunk: keep it while under the bound. Past the bound (a chunked body, whose size
 * is unknown in advance) the rest is read and dropped so that a 413 can still be sent, but
 * only up to DISCARD_MIN or another max_body bytes, whichever is more: past that the
 * connection is simply closed, so an endless body costs bounded work. */
static enum MHD_Result take_body(struct mcpc_http_listener *l, struct req_state *rs,
                                 const char *data, size_t *size)
{
    size_t n = *size;

    *size = 0;
    if (!rs->too_big && n > l->o.max_body - rs->len) {
        rs->too_big = true;
        free(rs->body);
        rs->body = NULL;
        rs->len = rs->cap = 0;
    }
    if (rs->too_big) {
        rs->discarded += n;
        return rs->discarded > l->o.max_body && rs->discarded > DISCARD_MIN ? MHD_NO : MHD_YES;
    }
    if (rs->len + n + 1 > rs->cap) {
        size_t cap = rs->cap ? rs->cap : BODY_FIRST_CAP;
        char *np;
        while (cap < rs->len + n + 1)
            cap *= 2;
        if (cap > l->o.max_body + 1)
            cap = l->o.max_body + 1;
        if (!(np = realloc(rs->body, cap)))
            return MHD_NO;
        rs->body = np;
        rs->cap = cap;
    }
    memcpy(rs->body + rs->len, data, n);
    rs->len += n;
    return MHD_YES;
}

/* The request is complete: show it to the handler (mutex held) and queue its answer. */
static enum MHD_Result serve_request(struct mcpc_http_listener *l, struct MHD_Connection *c,
                                     struct req_state *rs, const char *url, const char *method,
                                     const char *version)
{
    struct hdr_collect hc = { NULL, 0, 0 };
    struct gbuf query = { NULL, 0, 0, l->o.max_header_bytes, false };
    mcpc_listener_request req;
    mcpc_listener_response res;
    enum MHD_Result ret = MHD_NO;
    mcpc_err rc;
    int n;

    memset(&req, 0, sizeof req);
    memset(&res, 0, sizeof res);
    n = MHD_get_connection_values(c, MHD_HEADER_KIND, NULL, NULL);
    hc.cap = n > 0 ? (size_t)n : 0;
    if (hc.cap && !(hc.h = calloc(hc.cap, sizeof *hc.h)))
        goto out;
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, collect_header, &hc);
    MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, collect_query, &query);
    gbuf_add(&query, "", 1);             /* NUL-terminate */
    if (query.failed)
        goto out;
    if (!rs->body && !(rs->body = malloc(1)))
        goto out;
    rs->body[rs->len] = '\0';

    req.method = method;
    req.path = url;
    req.query = query.p;
    req.version = version;
    req.headers = hc.h;
    req.n_headers = hc.n;
    req.body = rs->body;
    req.body_len = rs->len;
    client_address(c, req.client, sizeof req.client);

    res.limit = l->o.max_response;
    pthread_mutex_lock(&l->mu);
    rc = l->fn(l->ctx, &req, &res);
    pthread_mutex_unlock(&l->mu);
    /* The done callback stays armed whatever happens next: on_completed() calls it. */
    rs->done = res.done;
    rs->done_ctx = res.done_ctx;
    if (rc != MCPC_OK)
        ret = reply_plain(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
    else
        ret = reply_handler(c, &res, l->o.max_response);
out:
    response_clear(&res);
    free(hc.h);
    free(query.p);
    return ret;
}

/* MHD_AccessHandlerCallback: route the three kinds of call described at the top. */
static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_size, void **con_cls)
{
    struct mcpc_http_listener *l = cls;
    struct req_state *rs = *con_cls;

    if (!rs)
        return begin_request(l, c, con_cls);
    if (*upload_size > 0)
        return take_body(l, rs, upload_data, upload_size);
    if (rs->too_big)
        return reply_plain(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n");
    return serve_request(l, c, rs, url, method, version);
}

/* MHD_RequestCompletedCallback: tell the handler's done callback, free the request state. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct mcpc_http_listener *l = cls;
    struct req_state *rs = *con_cls;

    if (!rs)
        return;
    if (rs->done) {
        pthread_mutex_lock(&l->mu);
        rs->done(rs->done_ctx, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
        pthread_mutex_unlock(&l->mu);
    }
    free(rs->body);
    free(rs);
    *con_cls = NULL;
}

/* Unescape callback that changes nothing: handlers see the path and query as sent. */
static size_t keep_escapes(void *cls, struct MHD_Connection *c, char *s)
{
    return strlen(s);
}

/* MHD_LogCallback: libmicrohttpd's messages, to stderr. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 0)))
#endif
static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    fputs("http_listener: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* ---- start / stop --------------------------------------------------------------------------- */

/* Parse host (see mcpc_listener_start) and port into *ss / *sl, refusing non-loopback
 * addresses unless allow_remote. MCPC_OK or MCPC_ERR_USAGE (err filled). */
static mcpc_err parse_bind(const char *host, unsigned port, int allow_remote,
                           struct sockaddr_storage *ss, socklen_t *sl, char *err, size_t errlen)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;
    char buf[INET6_ADDRSTRLEN + 2];
    size_t n;
    int loopback;

    memset(ss, 0, sizeof *ss);
    if (port > 65535) {
        snprintf(err, errlen, "port %u is out of range", port);
        return MCPC_ERR_USAGE;
    }
    if (!host || !*host || strcasecmp(host, "localhost") == 0)
        host = "127.0.0.1";
    n = strlen(host);
    if (n >= sizeof buf) {
        snprintf(err, errlen, "bind address is not a numeric address");
        return MCPC_ERR_USAGE;
    }
    /* Accept "[::1]" as well as "::1". */
    if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
    } else {
        memcpy(buf, host, n + 1);
    }
    if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        *sl = sizeof *sin;
        loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    } else if (inet_pton(AF_INET6, buf, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *sl = sizeof *s6;
        loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
                   (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127);
    } else {
        snprintf(err, errlen, "bind address \"%s\" is not a numeric address (or localhost)", host);
        return MCPC_ERR_USAGE;
    }
    if (!loopback && !allow_remote) {
        snprintf(err, errlen,
                 "refusing to bind %s: not a loopback address (remote binding was not allowed)",
                 host);
        return MCPC_ERR_USAGE;
    }
    return MCPC_OK;
}

/* Create, bind and listen on a socket for ss; *fd_out and *port_out on success. */
static mcpc_err open_socket(const struct sockaddr_storage *ss, socklen_t sl, int *fd_out,
                            unsigned *port_out, char *err, size_t errlen)
{
    struct sockaddr_storage got;
    socklen_t gl = sizeof got;
    int fd, one = 1, fl;

    fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return MCPC_ERR_IO;
    }
    /* REUSEADDR: a restarted listener must not trip over its own TIME_WAIT connections. */
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss->ss_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)ss, sl) != 0) {
        snprintf(err, errlen, "bind: %s", strerror(errno));
        goto fail;
    }
    if (listen(fd, LISTEN_BACKLOG) != 0) {
        snprintf(err, errlen, "listen: %s", strerror(errno));
        goto fail;
    }
    if (getsockname(fd, (struct sockaddr *)&got, &gl) != 0) {
        snprintf(err, errlen, "getsockname: %s", strerror(errno));
        goto fail;
    }
    if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "fcntl: %s", strerror(errno));
        goto fail;
    }
    *port_out = got.ss_family == AF_INET6
                    ? ntohs(((struct sockaddr_in6 *)(void *)&got)->sin6_port)
                    : ntohs(((struct sockaddr_in *)(void *)&got)->sin_port);
    *fd_out = fd;
    return MCPC_OK;
fail:
    close(fd);
    return MCPC_ERR_IO;
}

/* Start a listener. */
mcpc_err mcpc_listener_start(const char *bind_host, unsigned port, mcpc_listener_handler fn,
                             void *ctx, const mcpc_listener_opts *o, mcpc_http_listener **out,
                             char *err, size_t errlen)
{
    struct mcpc_http_listener *l = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    unsigned flags;
    int fd = -1;
    mcpc_err rc;

    *out = NULL;
    if (errlen)
        err[0] = '\0';
    if (!fn) {
        snprintf(err, errlen, "no handler");
        return MCPC_ERR_USAGE;
    }
    if (!(l = calloc(1, sizeof *l))) {
        snprintf(err, errlen, "out of memory");
        return MCPC_ERR_NOMEM;
    }
    if (o)
        l->o = *o;
    else
        mcpc_listener_opts_default(&l->o);
    if (l->o.max_body == 0 || l->o.max_body > SIZE_MAX / 4 || l->o.max_headers == 0 ||
        l->o.max_response == 0 || l->o.max_connections == 0 || l->o.timeout_s == 0 ||
        l->o.max_header_bytes < 1024) {
        snprintf(err, errlen, "listener options out of range");
        rc = MCPC_ERR_USAGE;
        goto fail;
    }
    l->fn = fn;
    l->ctx = ctx;
    l->fd = -1;
    if ((rc = parse_bind(bind_host, port, l->o.allow_remote, &ss, &sl, err, errlen)) != MCPC_OK)
        goto fail;
    if ((rc = open_socket(&ss, sl, &fd, &l->port, err, errlen)) != MCPC_OK)
        goto fail;
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        snprintf(err, errlen, "pthread_mutex_init failed");
        rc = MCPC_ERR_IO;
        goto fail;
    }
    /* One internal polling thread (epoll/poll/select, whichever exists): handler calls are
     * serial by construction; the mutex is for callers on other threads. ITC lets stop wake
     * the thread at once. */
    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC;
    if (l->o.log_errors)
        flags |= MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    l->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_access, l,
                                 MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
                                 MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                                 MHD_OPTION_CONNECTION_LIMIT, l->o.max_connections,
                                 MHD_OPTION_CONNECTION_TIMEOUT, l->o.timeout_s,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, l->o.max_header_bytes,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
                                 MHD_OPTION_UNESCAPE_CALLBACK, keep_escapes, NULL,
                                 MHD_OPTION_STRICT_FOR_CLIENT, 1,
                                 MHD_OPTION_END);
    if (!l->daemon) {
        snprintf(err, errlen, "libmicrohttpd could not start a server on port %u", l->port);
        pthread_mutex_destroy(&l->mu);
        rc = MCPC_ERR_IO;
        goto fail;
    }
    l->fd = fd;
    *out = l;
    return MCPC_OK;
fail:
    if (fd >= 0)
        close(fd);
    free(l);
    return rc;
}

/* The bound port. */
unsigned mcpc_listener_port(const mcpc_http_listener *l)
{
    return l ? l->port : 0;
}

/* Take the handler mutex. */
void mcpc_listener_lock(mcpc_http_listener *l)
{
    pthread_mutex_lock(&l->mu);
}

/* Release the handler mutex. */
void mcpc_listener_unlock(mcpc_http_listener *l)
{
    pthread_mutex_unlock(&l->mu);
}

/* Stop and free. */
void mcpc_listener_stop(mcpc_http_listener *l)
{
    if (!l)
        return;
    /* Closes every connection (on_completed runs for each) and the listening socket. */
    MHD_stop_daemon(l->daemon);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
