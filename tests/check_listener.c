/* Unit tests for harness/http_listener.c: the bounded HTTP server on libmicrohttpd.
 *
 * The client side is plain POSIX sockets writing raw HTTP/1.1 (no libcurl), so each test says
 * exactly which bytes went over the wire. Every listener binds 127.0.0.1 on an ephemeral port.
 * Time bounds asserted here are bounds on a hang, not performance claims. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "clock.h"
#include "http_listener.h"

/* ---- what the handler saw, and how it answers --------------------------------------------- */

enum mode { ECHO, SSE, FAIL, NO_STATUS, DONE_CB, BIG };

#define MAX_SEEN_HEADERS 16

/* Written by the handler (listener thread, mutex held), read by the test after a response. */
struct seen {
    enum mode mode;
    int calls;
    char method[16], path[256], query[256], version[16], client[64];
    char body[8192];
    size_t body_len;
    size_t n_headers;
    char names[MAX_SEEN_HEADERS][64];
    char values[MAX_SEEN_HEADERS][256];
    size_t value_lens[MAX_SEEN_HEADERS];
    size_t origin_count;           /* mcpc_listener_header_find(req, "origin") */
    int done_calls, done_delivered;
    mcpc_err big_rc;               /* BIG mode: what response_set returned */
};

/* mcpc_listener_done_fn: count the call. */
static void on_done(void *ctx, bool delivered)
{
    struct seen *sn = ctx;

    sn->done_calls++;
    sn->done_delivered = delivered;
}

/* The test handler: record req into ctx (a struct seen), then answer per sn->mode. */
static mcpc_err handler(void *ctx, const mcpc_listener_request *req, mcpc_listener_response *res)
{
    struct seen *sn = ctx;
    char line[600];
    size_t n;
    mcpc_err rc;
    char *big;

    sn->calls++;
    snprintf(sn->method, sizeof sn->method, "%s", req->method);
    snprintf(sn->path, sizeof sn->path, "%s", req->path);
    snprintf(sn->query, sizeof sn->query, "%s", req->query);
    snprintf(sn->version, sizeof sn->version, "%s", req->version);
    snprintf(sn->client, sizeof sn->client, "%s", req->client);
    n = req->body_len < sizeof sn->body ? req->body_len : sizeof sn->body;
    memcpy(sn->body, req->body, n);
    sn->body_len = req->body_len;
    sn->n_headers = req->n_headers;
    for (size_t i = 0; i < req->n_headers && i < MAX_SEEN_HEADERS; i++) {
        size_t vl = req->headers[i].value_len;
        snprintf(sn->names[i], sizeof sn->names[i], "%s", req->headers[i].name);
        memcpy(sn->values[i], req->headers[i].value, vl < 255 ? vl : 255);
        sn->values[i][vl < 255 ? vl : 255] = '\0';
        sn->value_lens[i] = vl;
    }
    mcpc_listener_header_find(req, "origin", &sn->origin_count);

    switch (sn->mode) {
    case ECHO:
    case DONE_CB:
        if (sn->mode == DONE_CB) {
            res->done = on_done;
            res->done_ctx = sn;
        }
        snprintf(line, sizeof line, "%s %s%s%s\n", req->method, req->path,
                 req->query[0] ? "?" : "", req->query);
        if ((rc = mcpc_listener_response_set(res, 200, "text/plain", line, strlen(line))))
            return rc;
        /* Append the body after the line: set again with the concatenation. */
        {
            size_t ll = strlen(line);
            char *all = malloc(ll + req->body_len + 1);
            if (!all)
                return MCPC_ERR_NOMEM;
            memcpy(all, line, ll);
            memcpy(all + ll, req->body, req->body_len);
            rc = mcpc_listener_response_set(res, 200, "text/plain", all, ll + req->body_len);
            free(all);
            if (rc)
                return rc;
        }
        return mcpc_listener_response_header(res, "X-Test", "echo");
    case SSE:
        if ((rc = mcpc_listener_response_event(res, "message", "1", "{\"a\":1}", 7)))
            return rc;
        return mcpc_listener_response_event(res, NULL, NULL, "line1\nline2\r\nline3", 18);
    case FAIL:
        return MCPC_ERR_INVALID;
    case NO_STATUS:
        return MCPC_OK;
    case BIG:
        if (!(big = calloc(1, 4096)))
            return MCPC_ERR_NOMEM;
        sn->big_rc = mcpc_listener_response_set(res, 200, "text/plain", big, 4096);
        free(big);
        return mcpc_listener_response_set(res, 200, "text/plain", "small\n", 6);
    }
    return MCPC_ERR_INVALID;
}

/* ---- a raw HTTP client -------------------------------------------------------------------- */

/* Connect to 127.0.0.1:port with a receive timeout of timeout_ms. -1 on failure. */
static int dial(unsigned port, int timeout_ms)
{
    struct sockaddr_in sin;
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Write all of s[0..n). 0 on success. */
static int send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A response as read off the wire. */
struct resp {
    int status;
    char raw[65536];               /* everything read, NUL-terminated */
    size_t len;
    const char *body;              /* into raw, after the blank line */
    size_t body_len;
};

/* Read from fd until EOF (or timeout / error) into r, and split status and body. Returns 0
 * when a status line was read. */
static int read_all(int fd, struct resp *r)
{
    char *sep;

    memset(r, 0, sizeof *r);
    for (;;) {
        ssize_t got = recv(fd, r->raw + r->len, sizeof r->raw - 1 - r->len, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        r->len += (size_t)got;
        if (r->len == sizeof r->raw - 1)
            break;
    }
    r->raw[r->len] = '\0';
    if (sscanf(r->raw, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    sep = strstr(r->raw, "\r\n\r\n");
    if (sep) {
        r->body = sep + 4;
        r->body_len = r->len - (size_t)(r->body - r->raw);
    }
    return 0;
}

/* Send raw to a fresh connection, read the answer up to EOF. 0 when a status came back. */
static int exchange(unsigned port, const char *raw, size_t n, struct resp *r)
{
    int fd = dial(port, 5000), rc;

    if (fd < 0)
        return -1;
    if (send_all(fd, raw, n) != 0) {
        close(fd);
        return -1;
    }
    rc = read_all(fd, r);
    close(fd);
    return rc;
}

/* The value of response header name in r (first one), copied into buf; NULL if absent. */
static const char *resp_header(const struct resp *r, const char *name, char *buf, size_t len)
{
    const char *p = strstr(r->raw, "\r\n");
    size_t nl = strlen(name);

    while (p && p[2] != '\r') {
        const char *line = p + 2, *eol = strstr(line, "\r\n");
        if (!eol)
            break;
        if ((size_t)(eol - line) > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(buf, len, "%.*s", (int)(eol - v), v);
            return buf;
        }
        p = eol;
    }
    return NULL;
}

/* ---- fixture: one listener per test -------------------------------------------------------- */

static mcpc_http_listener *L;
static struct seen SN;

/* Start L with opts o (NULL: defaults, quiet) answering in mode m. */
static void start(enum mode m, const mcpc_listener_opts *o)
{
    mcpc_listener_opts def;
    char err[256];
    mcpc_err rc;

    memset(&SN, 0, sizeof SN);
    SN.mode = m;
    if (!o) {
        mcpc_listener_opts_default(&def);
        o = &def;
    }
    rc = mcpc_listener_start("127.0.0.1", 0, handler, &SN, o, &L, err, sizeof err);
    ck_assert_msg(rc == MCPC_OK, "listener did not start: %s (%s)", mcpc_strerror(rc), err);
    ck_assert_uint_gt(mcpc_listener_port(L), 0);
}

static void teardown(void)
{
    mcpc_listener_stop(L);
    L = NULL;
}

/* Read SN under the handler mutex into *copy. */
static void snapshot(struct seen *copy)
{
    mcpc_listener_lock(L);
    *copy = SN;
    mcpc_listener_unlock(L);
}

/* ---- tests --------------------------------------------------------------------------------- */

START_TEST(test_ephemeral_post_echo)
{
    static const char req[] =
        "POST /echo?a=1&b&c=%41 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
        "Content-Length: 5\r\nConnection: close\r\n\r\nhello";
    struct resp r;
    struct seen sn;
    char buf[64];

    start(ECHO, NULL);
    ck_assert_int_eq(exchange(mcpc_listener_port(L), req, sizeof req - 1, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(r.body);
    ck_assert_str_eq(r.body, "POST /echo?a=1&b&c=%41\nhello");
    ck_assert_ptr_nonnull(resp_header(&r, "Content-Type", buf, sizeof buf));
    ck_assert_str_eq(buf, "text/plain");
    ck_assert_ptr_nonnull(resp_header(&r, "X-Test", buf, sizeof buf));
    ck_assert_str_eq(buf, "echo");
    snapshot(&sn);
    ck_assert_int_eq(sn.calls, 1);
    ck_assert_str_eq(sn.method, "POST");
    ck_assert_str_eq(sn.path, "/echo");
    ck_assert_str_eq(sn.query, "a=1&b&c=%41");  /* raw: not percent-decoded */
    ck_assert_str_eq(sn.version, "HTTP/1.1");
    ck_assert_uint_eq(sn.body_len, 5);
    ck_assert_msg(strncmp(sn.client, "127.0.0.1:", 10) == 0, "client %s", sn.client);
}
END_TEST

START_TEST(test_path_not_decoded_and_get_without_body)
{
    static const char req[] = "GET /m%63p HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    struct resp r;
    struct seen sn;

    start(ECHO, NULL);
    ck_assert_int_eq(exchange(mcpc_listener_port(L), req, sizeof req - 1, &r), 0);
    ck_assert_int_eq(r.status, 200);
    snapshot(&sn);
    ck_assert_str_eq(sn.path, "/m%63p");
    ck_assert_str_eq(sn.query, "");
    ck_assert_uint_eq(sn.body_len, 0);
}
END_TEST

START_TEST(test_body_at_bound_accepted)
{
    mcpc_listener_opts o;
    char req[2048];
    int n;
    struct resp r;
    struct seen sn;

    mcpc_listener_opts_default(&o);
    o.max_body = 1024;
    start(ECHO, &o);
    n = snprintf(req, sizeof req,
                 "POST /b HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1024\r\n"
                 "Connection: close\r\n\r\n");
    memset(req + n, 'x', 1024);
    ck_assert_int_eq(exchange(mcpc_listener_port(L), req, (size_t)n + 1024, &r), 0);
    ck_assert_int_eq(r.status, 200);
    snapshot(&sn);
    ck_assert_uint_eq(sn.body_len, 1024);
}
END_TEST

START_TEST(test_content_length_over_bound_is_413)
{
    static const char req[] = "POST /b HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1025\r\n"
                              "Connection: close\r\n\r\n";
    mcpc_listener_opts o;
    struct resp r;
    struct seen sn;

    mcpc_listener_opts_default(&o);
    o.max_body = 1024;
    start(ECHO, &o);
    /* Only the headers are sent: the 413 must come before the body is read. */
    ck_assert_int_eq(exchange(mcpc_listener_port(L), req, sizeof req - 1, &r), 0);
    ck_assert_int_eq(r.status, 413);
    snapshot(&sn);
    ck_assert_int_eq(sn.calls, 0);
}
END_TEST

START_TEST(test_default_bound_is_4mib)
{
    static const char req[] = "POST /b HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4194305\r\n"
                              "Connection: close\r\n\r\n";
    struct resp r;
    struct seen sn;

    start(ECHO, NULL);
    ck_assert_int_eq(exchange(mcpc_listener_port(L), req, sizeof req - 1, &r), 0);
    ck_assert_int_eq(r.status, 413);
    snapshot(&sn);
    ck_assert_int_eq(sn.calls, 0);
}
END_TEST

START_TEST(test_chunked_over_bound_is_413)
{
    mcpc_listener_opts o;
    char req[4096], chunk[600];
    size_t n;
    struct resp r;
    struct seen sn;

    mcpc_listener_opts_default(&o);
    o.max_body = 1024;
    start(ECHO, &o);
    memset(chunk, 'y', sizeof chunk);
    n = (size_t)snprintf(req, sizeof req, "POST /b HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                          "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    for (int i = 0; i < 3; i++) {
        n += (size_t)snprintf(req + n, sizeof req - n, "%zx\r\n", sizeof chunk);
        memcpy(req + n, chunk, sizeof chunk);
        n += sizeof chunk;
        n += (size_t)snprintf(req + n, sizeof req - n, "\r\n");
    }
    n += (size_t)snprintf(req + n, sizeof req - n, "0\r\n\r\n");
    ck_assert_int_eq(exchange(mcpc_listener_port(L), req, n, &r), 0);
    ck_assert_int_eq(r.status, 413);
    snapshot(&sn);
    ck_assert_int_eq(sn.calls, 0);
}
END_TEST

START_TEST(test_too_many_headers_is_431)
{
    mcpc_listener_opts o;
    char req[1024];
    size_t n;
    struct resp r;
    struct seen sn;

    mcpc_listener_opts_default(&o);
    o.max_headers = 8;
    start(ECHO, &o);
    n = (size_t)snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (int i = 0; i < 9; i++)
        n += (size_t)snprintf(req + n, sizeof req - n, "X-H%d: %d\r\n", i, i);
    n += (size_t)snprintf(req + n, sizeof req - n, "Connection: close\r\n\r\n");
    ck_assert_int_eq(exchange(mcpc_listener_port(L), req, n, &r), 0);
    ck_assert_int_eq(r.status, 431);
    snapshot(&sn);
    ck_assert_int_eq(sn.calls, 0);
}
END_TEST

START_TEST(test_duplicate_headers_preserved_in_order)
{
    static const char req[] =
        "POST /dup HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://localhost:1\r\nX-A: one\r\n"
        "origin: http://evil.example\r\nX-A: two\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n";
    struct resp r;
    struct seen sn;
    size_t origins = 0, xa = 0;

    start(ECHO, NULL);
    ck_assert_int_eq(exchange(mcpc_listener_port(L), req, sizeof req - 1, &r), 0);
    ck_assert_int_eq(r.status, 200);
    snapshot(&sn);
    ck_assert_uint_eq(sn.n_headers, 7);
    ck_assert_uint_eq(sn.origin_count, 2);
    /* arrival order, names as sent, both values */
    ck_assert_str_eq(sn.names[0], "Host");
    ck_assert_str_eq(sn.names[1], "Origin");
    ck_assert_str_eq(sn.values[1], "http://localhost:1");
    ck_assert_str_eq(sn.names[3], "origin");
    ck_assert_str_eq(sn.values[3], "http://evil.example");
    for (size_t i = 0; i < sn.n_headers; i++) {
        if (strcasecmp(sn.names[i], "origin") == 0)
            origins++;
        if (strcmp(sn.names[i], "X-A") == 0)
            ck_assert_str_eq(sn.values[i], xa++ == 0 ? "one" : "two");
    }
    ck_assert_uint_eq(origins, 2);
    ck_assert_uint_eq(xa, 2);
}
END_TEST

START_TEST(test_control_character_in_header_reaches_handler)
{
    /* The listener does not judge header values (that is the handler's job: the reference
     * server answers 400); it must hand over the exact bytes, length included. */
    static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Ctl: a\001b\r\n"
                              "Connection: close\r\n\r\n";
    struct resp r;
    struct seen sn;

    start(ECHO, NULL);
    ck_assert_int_eq(exchange(mcpc_listener_port(L), req, sizeof req - 1, &r), 0);
    snapshot(&sn);
    if (r.status == 400) {
        /* a stricter libmicrohttpd refuses it itself: also fine, the handler never ran */
        ck_assert_int_eq(sn.calls, 0);
        return;
    }
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(sn.n_headers, 3);
    ck_assert_str_eq(sn.names[1], "X-Ctl");
    ck_assert_uint_eq(sn.value_lens[1], 3);
    ck_assert_int_eq(sn.values[1][1], 1);
}
END_TEST

START_TEST(test_malformed_framing_is_400)
{
    static const char *const reqs[] = {
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Cr: a\rb\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX Bad: 1\r\nConnection: close\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n"
        "Connection: close\r\n\r\nab",
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    };
    struct resp r;
    struct seen sn;

    start(ECHO, NULL);
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        ck_assert_int_eq(exchange(mcpc_listener_port(L), reqs[i], strlen(reqs[i]), &r), 0);
        ck_assert_msg(r.status == 400, "request %zu: status %d", i, r.status);
    }
    snapshot(&sn);
    ck_assert_int_eq(sn.calls, 0);
}
END_TEST

START_TEST(test_sse_well_formed)
{
    static const char req[] = "POST /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n"
                              "Connection: close\r\n\r\n{}";
    static const char want[] = "event: message\nid: 1\ndata: {\"a\":1}\n\n"
                               "data: line1\ndata: line2\ndata: line3\n\n";
    struct resp r;
    char buf[64];
    const char *p;
    int events = 0;

    start(SSE, NULL);
    ck_assert_int_eq(exchange(mcpc_listener_port(L), req, sizeof req - 1, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(resp_header(&r, "Content-Type", buf, sizeof buf));
    ck_assert_str_eq(buf, "text/event-stream");
    ck_assert_ptr_nonnull(resp_header(&r, "X-Accel-Buffering", buf, sizeof buf));
    ck_assert_str_eq(buf, "no");
    ck_assert_ptr_nonnull(resp_header(&r, "Cache-Control", buf, sizeof buf));
    ck_assert_str_eq(buf, "no-cache");
    ck_assert_ptr_nonnull(r.body);
    ck_assert_str_eq(r.body, want);
    /* well-formed: every line is a known field, every event ends with a blank line */
    for (p = r.body; *p;) {
        const char *eol = strchr(p, '\n');
        ck_assert_ptr_nonnull(eol);
        if (eol == p)
            events++;
        else
            ck_assert_msg(strncmp(p, "data: ", 6) == 0 || strncmp(p, "event: ", 7) == 0 ||
                              strncmp(p, "id: ", 4) == 0,
                          "unexpected SSE line: %.*s", (int)(eol - p), p);
        p = eol + 1;
    }
    ck_assert_int_eq(events, 2);
}
END_TEST

START_TEST(test_handler_error_is_500)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    struct resp r;

    start(FAIL, NULL);
    ck_assert_int_eq(exchange(mcpc_listener_port(L), req, sizeof req - 1, &r), 0);
    ck_assert_int_eq(r.status, 500);
    teardown();
    start(NO_STATUS, NULL);
    ck_assert_int_eq(exchange(mcpc_listener_port(L), req, sizeof req - 1, &r), 0);
    ck_assert_int_eq(r.status, 500);
}
END_TEST

START_TEST(test_response_limit)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    mcpc_listener_opts o;
    struct resp r;
    struct seen sn;

    mcpc_listener_opts_default(&o);
    o.max_response = 1000;
    start(BIG, &o);
    ck_assert_int_eq(exchange(mcpc_listener_port(L), req, sizeof req - 1, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "small\n");
    snapshot(&sn);
    ck_assert_int_eq(sn.big_rc, MCPC_ERR_TOO_BIG);
}
END_TEST

START_TEST(test_response_header_validation)
{
    mcpc_listener_response res;

    memset(&res, 0, sizeof res);
    res.limit = 100;
    ck_assert_int_eq(mcpc_listener_response_header(&res, "Bad Name", "v"), MCPC_ERR_INVALID);
    ck_assert_int_eq(mcpc_listener_response_header(&res, "", "v"), MCPC_ERR_INVALID);
    ck_assert_int_eq(mcpc_listener_response_header(&res, "X-Ok", "a\r\nInjected: 1"),
                     MCPC_ERR_INVALID);
    ck_assert_int_eq(mcpc_listener_response_header(&res, "content-length", "5"),
                     MCPC_ERR_INVALID);
    ck_assert_int_eq(mcpc_listener_response_event(&res, "a\nb", NULL, "x", 1), MCPC_ERR_INVALID);
    ck_assert_int_eq(mcpc_listener_response_set(&res, 200, "text/plain\r\nX: y", "x", 1),
                     MCPC_ERR_INVALID);
    ck_assert_uint_eq(res.n_headers, 0);
    ck_assert_uint_eq(res.n_events, 0);
    ck_assert_ptr_null(res.body);
}
END_TEST

START_TEST(test_done_callback)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    struct resp r;
    struct seen sn;
    int64_t deadline;

    start(DONE_CB, NULL);
    ck_assert_int_eq(exchange(mcpc_listener_port(L), req, sizeof req - 1, &r), 0);
    ck_assert_int_eq(r.status, 200);
    deadline = mcpc_clock_ms() + 3000;
    do {
        snapshot(&sn);
        if (sn.done_calls)
            break;
        usleep(10000);
    } while (mcpc_clock_ms() < deadline);
    ck_assert_int_eq(sn.done_calls, 1);
    ck_assert_int_eq(sn.done_delivered, 1);
}
END_TEST

START_TEST(test_keep_alive_two_requests)
{
    static const char reqs[] = "GET /1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                               "GET /2 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    struct resp r;
    struct seen sn;
    int n = 0;

    start(ECHO, NULL);
    ck_assert_int_eq(exchange(mcpc_listener_port(L), reqs, sizeof reqs - 1, &r), 0);
    for (const char *p = r.raw; (p = strstr(p, "HTTP/1.1 200")) != NULL; p++)
        n++;
    ck_assert_int_eq(n, 2);
    snapshot(&sn);
    ck_assert_int_eq(sn.calls, 2);
    ck_assert_str_eq(sn.path, "/2");
}
END_TEST

START_TEST(test_refuse_non_loopback)
{
    static const char *const bad[] = { "0.0.0.0", "192.0.2.1", "::", "2001:db8::1",
                                       "example.com", "127.0.0.1.nip.io" };
    mcpc_http_listener *l = NULL;
    char err[256];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mcpc_err rc = mcpc_listener_start(bad[i], 0, handler, &SN, NULL, &l, err, sizeof err);
        ck_assert_msg(rc == MCPC_ERR_USAGE, "%s: %s", bad[i], mcpc_strerror(rc));
        ck_assert_ptr_null(l);
        ck_assert_msg(err[0] != '\0', "%s: no error text", bad[i]);
    }
    ck_assert_int_eq(mcpc_listener_start("127.0.0.1", 70000, handler, &SN, NULL, &l, err,
                                         sizeof err),
                     MCPC_ERR_USAGE);
    /* loopback spellings are accepted */
    ck_assert_int_eq(mcpc_listener_start("localhost", 0, handler, &SN, NULL, &l, err, sizeof err),
                     MCPC_OK);
    mcpc_listener_stop(l);
    ck_assert_int_eq(mcpc_listener_start(NULL, 0, handler, &SN, NULL, &l, err, sizeof err),
                     MCPC_OK);
    mcpc_listener_stop(l);
    if (mcpc_listener_start("::1", 0, handler, &SN, NULL, &l, err, sizeof err) == MCPC_OK)
        mcpc_listener_stop(l);      /* no IPv6 in this sandbox is not a failure */
}
END_TEST

START_TEST(test_port_in_use)
{
    mcpc_http_listener *l2 = NULL;
    char err[256];

    start(ECHO, NULL);
    ck_assert_int_eq(mcpc_listener_start("127.0.0.1", mcpc_listener_port(L), handler, &SN, NULL,
                                         &l2, err, sizeof err),
                     MCPC_ERR_IO);
    ck_assert_ptr_null(l2);
    ck_assert_msg(strstr(err, "bind") != NULL, "err: %s", err);
}
END_TEST

START_TEST(test_slow_client_does_not_block)
{
    static const char partial[] = "POST /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le";
    static const char req[] = "GET /fast HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    mcpc_listener_opts o;
    struct resp r;
    int64_t t0, t_fast, t_closed;
    int slow;
    char c;
    ssize_t got;

    mcpc_listener_opts_default(&o);
    o.timeout_s = 1;
    start(ECHO, &o);
    slow = dial(mcpc_listener_port(L), 5000);
    ck_assert_int_ge(slow, 0);
    ck_assert_int_eq(send_all(slow, partial, sizeof partial - 1), 0);
    t0 = mcpc_clock_ms();
    ck_assert_int_eq(exchange(mcpc_listener_port(L), req, sizeof req - 1, &r), 0);
    t_fast = mcpc_clock_ms() - t0;
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(t_fast < 900, "second client waited %lld ms behind the slow one",
                  (long long)t_fast);
    /* the slow one is cut off by the idle timeout, not left open forever */
    do
        got = recv(slow, &c, 1, 0);
    while (got < 0 && errno == EINTR);
    t_closed = mcpc_clock_ms() - t0;
    close(slow);
    ck_assert_msg(got == 0 || (got < 0 && errno == ECONNRESET),
                  "slow connection: recv %zd (%s) after %lld ms", got, strerror(errno),
                  (long long)t_closed);
    ck_assert_msg(t_closed < 4000, "slow connection closed only after %lld ms",
                  (long long)t_closed);
}
END_TEST

START_TEST(test_stop_with_open_connections)
{
    static const char partial[] = "POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\nab";
    static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    int a, b;
    int64_t t0;
    char c;
    ssize_t got;

    start(DONE_CB, NULL);
    a = dial(mcpc_listener_port(L), 3000);     /* mid-body */
    b = dial(mcpc_listener_port(L), 3000);     /* answered, kept alive */
    ck_assert_int_ge(a, 0);
    ck_assert_int_ge(b, 0);
    ck_assert_int_eq(send_all(a, partial, sizeof partial - 1), 0);
    ck_assert_int_eq(send_all(b, req, sizeof req - 1), 0);
    usleep(200000);
    t0 = mcpc_clock_ms();
    mcpc_listener_stop(L);
    L = NULL;
    ck_assert_msg(mcpc_clock_ms() - t0 < 2000, "stop took %lld ms",
                  (long long)(mcpc_clock_ms() - t0));
    /* both connections are closed by the stop */
    do
        got = recv(a, &c, 1, 0);
    while (got < 0 && errno == EINTR);
    ck_assert_msg(got == 0 || (got < 0 && errno == ECONNRESET), "a: recv %zd (%s)", got,
                  got < 0 ? strerror(errno) : "data");
    close(a);
    close(b);
    ck_assert_int_eq(SN.done_calls, 1);       /* b's response; a never reached the handler */
    mcpc_listener_stop(NULL);
}
END_TEST

/* ---- main --------------------------------------------------------------------------------- */

static Suite *listener_suite(void)
{
    Suite *s = suite_create("http_listener");
    TCase *tc;

    tc = tcase_create("requests");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_ephemeral_post_echo);
    tcase_add_test(tc, test_path_not_decoded_and_get_without_body);
    tcase_add_test(tc, test_duplicate_headers_preserved_in_order);
    tcase_add_test(tc, test_control_character_in_header_reaches_handler);
    tcase_add_test(tc, test_malformed_framing_is_400);
    tcase_add_test(tc, test_keep_alive_two_requests);
    suite_add_tcase(s, tc);

    tc = tcase_create("bounds");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_body_at_bound_accepted);
    tcase_add_test(tc, test_content_length_over_bound_is_413);
    tcase_add_test(tc, test_default_bound_is_4mib);
    tcase_add_test(tc, test_chunked_over_bound_is_413);
    tcase_add_test(tc, test_too_many_headers_is_431);
    tcase_add_test(tc, test_response_limit);
    tcase_add_test(tc, test_slow_client_does_not_block);
    suite_add_tcase(s, tc);

    tc = tcase_create("responses");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_sse_well_formed);
    tcase_add_test(tc, test_handler_error_is_500);
    tcase_add_test(tc, test_response_header_validation);
    tcase_add_test(tc, test_done_callback);
    suite_add_tcase(s, tc);

    tc = tcase_create("lifecycle");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_refuse_non_loopback);
    tcase_add_test(tc, test_port_in_use);
    tcase_add_test(tc, test_stop_with_open_connections);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(listener_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
