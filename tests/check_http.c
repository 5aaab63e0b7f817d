/* Unit tests for harness/transport_http.c against a scripted HTTP server inside the test.
 *
 * The server is a forked child with plain POSIX sockets on 127.0.0.1:0, one grandchild per
 * connection (so a held stream does not block the next request). Every child asks for SIGKILL
 * when its parent dies and has an alarm, so a failing test (Check _exit()s it) leaves nothing
 * running. Each test's handler answers by what the request asks for; the responses cover JSON,
 * SSE, 202, a JSON-RPC error in a 400, redirects, slowloris, a gzip bomb, a reset mid-body, a
 * wrong content type, floods, and an echo of the request headers.
 *
 * No traffic leaves the machine: the only non-loopback address (192.0.2.1, TEST-NET-1) is given
 * to mcpc_http_new, which must refuse it before any connection. Time bounds asserted here are
 * bounds on a hang, not performance claims. */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "clock.h"
#include "step_int.h"
#include "transport_http.h"

/* ---- the scripted server ------------------------------------------------------------------ */

typedef struct {
    char head[16384];   /* request line and headers, NUL-terminated */
    char method[16];
    char *body;         /* NUL-terminated */
    size_t body_len;
} req_t;

typedef void (*handler_fn)(int fd, const req_t *r);

static pid_t srv_pid = -1;
static int srv_port;
static char redirect_to[128];   /* Location for the redirect handlers */
static unsigned char *gz;       /* gzip of 10 MiB of zeros, made in main() */
static size_t gz_len;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int write_str(int fd, const char *s)
{
    return write_all(fd, s, strlen(s));
}

/* Read one request (head up to the blank line, then Content-Length bytes). -1 on failure. */
static int read_request(int fd, req_t *r)
{
    size_t n = 0;
    char *end = NULL;
    memset(r, 0, sizeof *r);
    while (!end) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (n + 1 >= sizeof r->head || poll(&pfd, 1, 5000) <= 0)
            return -1;
        ssize_t got = read(fd, r->head + n, sizeof r->head - 1 - n);
        if (got <= 0)
            return -1;
        n += (size_t)got;
        r->head[n] = '\0';
        end = strstr(r->head, "\r\n\r\n");
    }
    size_t head_len = (size_t)(end - r->head) + 4, have = n - head_len, want = 0;
    for (const char *p = r->head; (p = strchr(p, '\n')) != NULL; p++)
        if (strncasecmp(p + 1, "Content-Length:", 15) == 0)
            want = strtoul(p + 16, NULL, 10);
    sscanf(r->head, "%15s", r->method);
    r->body = calloc(1, want + 1);
    if (!r->body || want > (1u << 20) || have > want)
        return -1;
    memcpy(r->body, r->head + head_len, have);
    r->head[head_len] = '\0';
    while (have < want) {
        ssize_t got = read(fd, r->body + have, want - have);
        if (got <= 0)
            return -1;
        have += (size_t)got;
    }
    r->body_len = want;
    return 0;
}

/* The "method" of the JSON-RPC request body, into buf ("" when there is none). */
static const char *rpc_method(const req_t *r, char *buf, size_t len)
{
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    const char *m = json_string_value(json_object_get(j, "method"));
    snprintf(buf, len, "%s", m ? m : "");
    json_decref(j);
    return buf;
}

static void die_with_parent(pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(0);
    alarm(20);   /* last resort */
}

static void serve(int ls, handler_fn fn)
{
    pid_t me = getpid();
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0)
            continue;
        pid_t c = fork();
        if (c == 0) {
            req_t r;
            die_with_parent(me);
            close(ls);
            if (read_request(fd, &r) == 0)
                fn(fd, &r);
            close(fd);
            _exit(0);
        }
        close(fd);
        while (waitpid(-1, NULL, WNOHANG) > 0) {
        }
    }
}

/* A listening socket on 127.0.0.1:0; its port in *port. */
static int listen_local(int *port)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(ls, 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(ls, 16), 0);
    ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return ls;
}

static void start_server(handler_fn fn)
{
    pid_t parent = getpid();
    int ls = listen_local(&srv_port);
    srv_pid = fork();
    ck_assert_int_ge(srv_pid, 0);
    if (srv_pid == 0) {
        die_with_parent(parent);
        serve(ls, fn);
        _exit(0);
    }
    close(ls);
}

static void stop_server(void)
{
    if (srv_pid > 0) {
        kill(srv_pid, SIGKILL);
        waitpid(srv_pid, NULL, 0);
        srv_pid = -1;
    }
}

/* ---- responses ---------------------------------------------------------------------------- */

static void respond(int fd, const char *status, const char *headers, const char *body)
{
    char head[1024];
    snprintf(head, sizeof head, "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
             status, headers, strlen(body));
    write_str(fd, head);
    write_str(fd, body);
}

static const char json_ok[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}";

static void h_json(int fd, const req_t *r)
{
    respond(fd, "200 OK", "Content-Type: application/json\r\n", json_ok);
}

static void h_sse_two(int fd, const req_t *r)
{
    write_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                  ": hello\n\nid: p1\ndata:\n\n"   /* a comment, then a priming event (empty) */
                  "event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\r\n\r\n"
                  "data: {\"jsonrpc\":\"2.0\",\ndata: \"id\":1,\"result\":{}}\n\n");
}

static void h_202(int fd, const req_t *r)
{
    write_str(fd, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

/* 202 with a JSON body anyway: still nothing to read. */
static void h_202_body(int fd, const req_t *r)
{
    respond(fd, "202 Accepted", "Content-Type: application/json\r\n", json_ok);
}

/* One event, then the stream ends inside the next one. */
static void h_sse_cut(int fd, const req_t *r)
{
    write_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                  "data: {\"a\":1}\n\ndata: {\"partial\":");
}

/* A session id that is not visible ASCII must not be echoed into our requests. */
static void h_bad_session(int fd, const req_t *r)
{
    respond(fd, "200 OK", "Content-Type: application/json\r\nMcp-Session-Id: a b\x01c\r\n", json_ok);
}

static const char json_err[] =
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32020,\"message\":\"header mismatch\"}}";

static void h_400(int fd, const req_t *r)
{
    respond(fd, "400 Bad Request", "Content-Type: application/json; charset=utf-8\r\n", json_err);
}

static void h_redirect(int fd, const req_t *r)
{
    char hdrs[256];
    snprintf(hdrs, sizeof hdrs, "Location: %s\r\nContent-Type: text/html\r\n", redirect_to);
    respond(fd, "302 Found", hdrs, "<a href=\"elsewhere\">moved</a>");
}

static void h_html(int fd, const req_t *r)
{
    respond(fd, "200 OK", "Content-Type: text/html\r\n", "<html>{\"jsonrpc\":\"2.0\"}</html>");
}

/* Slowloris: a stream that sends one byte a second, forever. */
static void h_slow_body(int fd, const req_t *r)
{
    write_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: ");
    for (;;) {
        if (write_str(fd, "x") < 0)
            return;
        sleep_ms(1000);
    }
}

/* Slowloris in the headers. */
static void h_slow_head(int fd, const req_t *r)
{
    write_str(fd, "HTTP/1.1 200 OK\r\nX-Slow: ");
    for (;;) {
        if (write_str(fd, "y") < 0)
            return;
        sleep_ms(1000);
    }
}

static void h_gzip_bomb(int fd, const req_t *r)
{
    char head[256];
    snprintf(head, sizeof head,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n", gz_len);
    write_str(fd, head);
    write_all(fd, gz, gz_len);
}

/* 100 of the 1000 promised bytes, a pause (so they are read), then a reset. */
static void h_reset(int fd, const req_t *r)
{
    struct linger lg = {1, 0};
    char part[100];
    memset(part, ' ', sizeof part);
    part[0] = '{';
    write_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n");
    write_all(fd, part, sizeof part);
    sleep_ms(300);
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

/* Reads the request, never answers. */
static void h_silent(int fd, const req_t *r)
{
    sleep_ms(10000);
}

/* initialize: a result and a session id; DELETE: 204 for the right session; else: the request
 * head back as JSON, so the test can read the headers we sent. */
static void h_echo(int fd, const req_t *r)
{
    char m[64];
    if (strcmp(r->method, "DELETE") == 0) {
        if (strstr(r->head, "\r\nMcp-Session-Id: sess-123\r\n"))
            write_str(fd, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        else
            respond(fd, "400 Bad Request", "", "");
        return;
    }
    if (strcmp(rpc_method(r, m, sizeof m), "initialize") == 0) {
        respond(fd, "200 OK", "Content-Type: application/json\r\nMcp-Session-Id: sess-123\r\n",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":\"2025-11-25\"}}");
        return;
    }
    json_t *j = json_pack("{s:s,s:i,s:{s:s}}", "jsonrpc", "2.0", "id", 1, "result", "head", r->head);
    char *s = json_dumps(j, JSON_COMPACT);
    respond(fd, "200 OK", "Content-Type: application/json\r\n", s ? s : "{}");
    free(s);
    json_decref(j);
}

/* "hold": an SSE stream with one event now and one 1 s later; anything else: JSON. */
static void h_hold(int fd, const req_t *r)
{
    char m[64];
    if (strcmp(rpc_method(r, m, sizeof m), "hold") != 0) {
        respond(fd, "200 OK", "Content-Type: application/json\r\n",
                "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}");
        return;
    }
    write_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                  "data: {\"first\":1}\n\n");
    sleep_ms(1000);
    write_str(fd, "data: {\"second\":1}\n\n");
}

#define MANY 20000

/* Many small events at once: more than the transport's queue holds (it must pause, not drop). */
static void h_many(int fd, const req_t *r)
{
    size_t cap = MANY * 24 + 64, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return;
    n += (size_t)sprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n");
    for (int i = 0; i < MANY; i++)
        n += (size_t)sprintf(buf + n, "data: {\"n\":%d}\n\n", i);
    write_all(fd, buf, n);
    free(buf);
}

/* An event of 2000 data bytes, then a small one. */
static void h_big_event(int fd, const req_t *r)
{
    char big[2001];
    memset(big, 'a', 2000);
    big[2000] = '\0';
    write_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: ");
    write_str(fd, big);
    write_str(fd, "\n\ndata: {\"after\":1}\n\n");
}

/* A plain JSON body of 2 MiB. */
static void h_big_json(int fd, const req_t *r)
{
    size_t n = 2u << 20;
    char head[256], *body = malloc(n);
    if (!body)
        return;
    memset(body, ' ', n);
    body[0] = '{';
    body[n - 1] = '}';
    snprintf(head, sizeof head,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n", n);
    write_str(fd, head);
    write_all(fd, body, n);
    free(body);
}

/* An endless stream of 1 KiB events, as fast as the client reads. */
static void h_flood(int fd, const req_t *r)
{
    char ev[1100];
    memset(ev, 'f', sizeof ev);
    memcpy(ev, "data: ", 6);
    memcpy(ev + 1024 + 6, "\n\n", 2);
    write_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n");
    for (int i = 0; i < 100000; i++)
        if (write_all(fd, ev, 1024 + 8) < 0)
            return;
}

/* ---- client helpers ----------------------------------------------------------------------- */

static mcpc_http *cli;

static void teardown(void)
{
    mcpc_http_free(cli);
    cli = NULL;
    stop_server();
}

static mcpc_http *client(const mcpc_http_opts *o)
{
    char url[64], err[256] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%d/mcp", srv_port);
    mcpc_err rc = mcpc_http_new(url, o, &cli, err, sizeof err);
    ck_assert_msg(rc == MCPC_OK, "mcpc_http_new: %d %s", (int)rc, err);
    return cli;
}

static mcpc_err send_str(mcpc_http *h, const char *s, int ms)
{
    mcpc_conn *c = mcpc_http_conn(h);
    return c->ops->send(c, s, strlen(s), ms);
}

static mcpc_err recv_msg(mcpc_http *h, int ms, const char **msg, size_t *len)
{
    mcpc_conn *c = mcpc_http_conn(h);
    return c->ops->recv(c, ms, msg, len);
}

/* Receive one message and require it to be exactly want. */
static void expect_msg(mcpc_http *h, const char *want)
{
    const char *msg;
    size_t len;
    mcpc_err rc = recv_msg(h, 2000, &msg, &len);
    ck_assert_msg(rc == MCPC_OK, "recv: %d (%s), wanted %s", (int)rc, mcpc_strerror(rc), want);
    ck_assert_msg(len == strlen(want) && memcmp(msg, want, len) == 0, "got %.*s, wanted %s",
                  (int)len, msg, want);
}

/* recv finds nothing, and says so at once (nothing is in flight). */
static void expect_nothing(mcpc_http *h)
{
    const char *msg;
    size_t len;
    int64_t t0 = mcpc_clock_ms();
    ck_assert_int_eq(recv_msg(h, 3000, &msg, &len), MCPC_ERR_TIMEOUT);
    ck_assert_int_lt(mcpc_clock_ms() - t0, 1000);
}

/* The transport's account of the error it returned last contains `want`. */
static void expect_detail(mcpc_http *h, const char *want)
{
    mcpc_conn *c = mcpc_http_conn(h);
    const char *d = c->ops->detail(c);
    ck_assert_msg(d && strstr(d, want), "detail \"%s\", wanted \"%s\" in it", d ? d : "(null)", want);
}

/* The answer to the request carries no message: recv says so at once (PROTOCOL, with why), then
 * finds nothing. */
static void expect_no_message(mcpc_http *h, const char *why)
{
    const char *msg;
    size_t len;
    int64_t t0 = mcpc_clock_ms();
    ck_assert_int_eq(recv_msg(h, 3000, &msg, &len), MCPC_ERR_PROTOCOL);
    ck_assert_int_lt(mcpc_clock_ms() - t0, 1000);
    expect_detail(h, why);
    expect_nothing(h);
}

static const char req_list[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}";

/* The head the echo server saw, from its answer to body (new string). */
static char *echoed_head(mcpc_http *h, const char *body)
{
    const char *msg;
    size_t len;
    ck_assert_int_eq(send_str(h, body, 2000), MCPC_OK);
    ck_assert_int_eq(recv_msg(h, 2000, &msg, &len), MCPC_OK);
    json_t *j = json_loadb(msg, len, 0, NULL);
    const char *head = json_string_value(json_object_get(json_object_get(j, "result"), "head"));
    ck_assert_ptr_nonnull(head);
    char *copy = strdup(head);
    json_decref(j);
    return copy;
}

/* How many header lines named name the head has; *value gets the last one's value. */
static int header_count(const char *head, const char *name, char *value, size_t vlen)
{
    int n = 0;
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1, *e = strstr(v, "\r\n");
            while (*v == ' ')
                v++;
            if (value)
                snprintf(value, vlen, "%.*s", (int)(e - v), v);
            n++;
        }
    }
    return n;
}

static void expect_header(const char *head, const char *name, const char *want)
{
    char v[512] = "";
    int n = header_count(head, name, v, sizeof v);
    ck_assert_msg(n == 1, "%s: %d times in\n%s", name, n, head);
    ck_assert_msg(strcmp(v, want) == 0, "%s: \"%s\", wanted \"%s\"", name, v, want);
}

static void expect_no_header(const char *head, const char *name)
{
    ck_assert_msg(header_count(head, name, NULL, 0) == 0, "%s sent:\n%s", name, head);
}

/* ---- responses ---------------------------------------------------------------------------- */

START_TEST(test_json_body)
{
    start_server(h_json);
    mcpc_http *h = client(NULL);
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    ck_assert_int_eq(mcpc_http_last_status(h), 200);
    ck_assert_str_eq(mcpc_http_last_content_type(h), "application/json");
    expect_msg(h, json_ok);
    expect_nothing(h);
    ck_assert_uint_gt(mcpc_http_conn(h)->ops->received(mcpc_http_conn(h)), strlen(json_ok));
    ck_assert_str_eq(mcpc_http_conn(h)->transport, "http");
}
END_TEST

START_TEST(test_sse_two_events)
{
    start_server(h_sse_two);
    mcpc_http *h = client(NULL);
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    ck_assert_int_eq(mcpc_http_last_status(h), 200);
    expect_msg(h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}");
    expect_msg(h, "{\"jsonrpc\":\"2.0\",\n\"id\":1,\"result\":{}}");
    expect_nothing(h);
}
END_TEST

START_TEST(test_202_empty)
{
    start_server(h_202);
    mcpc_http *h = client(NULL);
    ck_assert_int_eq(send_str(h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", 2000),
                     MCPC_OK);
    ck_assert_int_eq(mcpc_http_last_status(h), 202);
    ck_assert_ptr_null(mcpc_http_last_content_type(h));
    expect_nothing(h);
}
END_TEST

START_TEST(test_202_with_body)
{
    start_server(h_202_body);
    mcpc_http *h = client(NULL);
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    ck_assert_int_eq(mcpc_http_last_status(h), 202);
    expect_nothing(h);
}
END_TEST

START_TEST(test_sse_cut_mid_event)
{
    const char *msg;
    size_t len;
    start_server(h_sse_cut);
    mcpc_http *h = client(NULL);
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    expect_msg(h, "{\"a\":1}");
    ck_assert_int_eq(recv_msg(h, 2000, &msg, &len), MCPC_ERR_EOF);
    expect_nothing(h);
}
END_TEST

START_TEST(test_bad_session_id_ignored)
{
    const char *msg;
    size_t len;
    start_server(h_bad_session);
    mcpc_http *h = client(NULL);
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    ck_assert_int_eq(recv_msg(h, 2000, &msg, &len), MCPC_OK);
    ck_assert_ptr_null(mcpc_http_session_id(h));
}
END_TEST

START_TEST(test_400_json_error)
{
    start_server(h_400);
    mcpc_http *h = client(NULL);
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    ck_assert_int_eq(mcpc_http_last_status(h), 400);
    expect_msg(h, json_err);
    expect_nothing(h);
}
END_TEST

START_TEST(test_redirect_not_followed)
{
    snprintf(redirect_to, sizeof redirect_to, "http://example.com/");
    start_server(h_redirect);
    mcpc_http *h = client(NULL);
    int64_t t0 = mcpc_clock_ms();
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    ck_assert_int_eq(mcpc_http_last_status(h), 302);
    ck_assert_str_eq(mcpc_http_last_header(h, "location"), "http://example.com/");
    ck_assert_str_eq(mcpc_http_last_header(h, "LOCATION"), "http://example.com/");
    expect_no_message(h, "HTTP 302 redirect to http://example.com/ not followed");
    ck_assert_int_lt(mcpc_clock_ms() - t0, 1000);   /* no lookup, no connection attempt */
}
END_TEST

START_TEST(test_redirect_no_connection_elsewhere)
{
    /* a second local listener stands for "elsewhere": it must see no connection at all */
    int trap_port, trap = listen_local(&trap_port);
    snprintf(redirect_to, sizeof redirect_to, "http://127.0.0.1:%d/mcp", trap_port);
    start_server(h_redirect);
    mcpc_http *h = client(NULL);
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    ck_assert_int_eq(mcpc_http_last_status(h), 302);
    expect_no_message(h, "not followed");
    sleep_ms(100);
    struct pollfd pfd = {trap, POLLIN, 0};
    ck_assert_int_eq(poll(&pfd, 1, 0), 0);
    close(trap);
}
END_TEST

START_TEST(test_wrong_content_type)
{
    start_server(h_html);
    mcpc_http *h = client(NULL);
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    ck_assert_int_eq(mcpc_http_last_status(h), 200);
    ck_assert_str_eq(mcpc_http_last_content_type(h), "text/html");
    expect_no_message(h, "HTTP 200 answer of type text/html, neither application/json nor");
}
END_TEST

/* ---- hostile servers ---------------------------------------------------------------------- */

START_TEST(test_slowloris_body)
{
    const char *msg;
    size_t len;
    start_server(h_slow_body);
    mcpc_http *h = client(NULL);
    int64_t t0 = mcpc_clock_ms();
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    ck_assert_int_lt(mcpc_clock_ms() - t0, 500);   /* send does not wait for the stream */
    t0 = mcpc_clock_ms();
    ck_assert_int_eq(recv_msg(h, 1200, &msg, &len), MCPC_ERR_TIMEOUT);
    int64_t took = mcpc_clock_ms() - t0;
    ck_assert_int_ge(took, 1100);
    ck_assert_int_lt(took, 1700);
    t0 = mcpc_clock_ms();
    ck_assert_int_eq(recv_msg(h, 300, &msg, &len), MCPC_ERR_TIMEOUT);
    ck_assert_int_lt(mcpc_clock_ms() - t0, 800);
}
END_TEST

START_TEST(test_slowloris_headers)
{
    start_server(h_slow_head);
    mcpc_http *h = client(NULL);
    int64_t t0 = mcpc_clock_ms();
    ck_assert_int_eq(send_str(h, req_list, 1000), MCPC_ERR_TIMEOUT);
    ck_assert_int_lt(mcpc_clock_ms() - t0, 1600);
    ck_assert_int_eq(mcpc_http_last_status(h), 0);
    expect_detail(h, "no complete HTTP response headers");
    expect_nothing(h);   /* the transfer was dropped */
}
END_TEST

START_TEST(test_silent_server)
{
    start_server(h_silent);
    mcpc_http *h = client(NULL);
    int64_t t0 = mcpc_clock_ms();
    ck_assert_int_eq(send_str(h, req_list, 800), MCPC_ERR_TIMEOUT);
    int64_t took = mcpc_clock_ms() - t0;
    ck_assert_int_ge(took, 700);
    ck_assert_int_lt(took, 1500);
}
END_TEST

static long maxrss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

START_TEST(test_gzip_bomb)
{
    const char *msg;
    size_t len;
    mcpc_http_opts o;
    ck_assert_msg(gz && gz_len > 0 && gz_len < (1u << 20), "no gzip data (is gzip installed?)");
    mcpc_http_opts_default(&o);
    o.max_body = 1u << 20;
    start_server(h_gzip_bomb);
    mcpc_http *h = client(&o);
    long rss0 = maxrss_kib();
    int64_t t0 = mcpc_clock_ms();
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    ck_assert_int_eq(recv_msg(h, 2000, &msg, &len), MCPC_ERR_TOO_BIG);
    ck_assert_uint_gt(len, o.max_body);
    ck_assert_uint_lt(len, 2 * o.max_body);   /* cut as soon as it went over */
    expect_detail(h, "exceeds the 1 MiB bound after decompression (Content-Encoding: gzip)");
    ck_assert_int_lt(mcpc_clock_ms() - t0, 2000);
    ck_assert_int_lt(maxrss_kib() - rss0, 12 * 1024);   /* never near the 10 MiB it inflates to */
    ck_assert_int_eq(mcpc_http_conn(h)->ops->flooded(mcpc_http_conn(h)), 0);
    expect_nothing(h);
}
END_TEST

START_TEST(test_reset_mid_body)
{
    const char *msg;
    size_t len;
    start_server(h_reset);
    mcpc_http *h = client(NULL);
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    ck_assert_int_eq(mcpc_http_last_status(h), 200);
    ck_assert_int_eq(recv_msg(h, 2000, &msg, &len), MCPC_ERR_EOF);
    ck_assert_uint_le(len, 100);
    ck_assert_ptr_nonnull(msg);
    expect_detail(h, "response was cut short after");
    expect_nothing(h);
}
END_TEST

START_TEST(test_connection_refused)
{
    /* a port that was just ours and is closed now */
    int port, ls = listen_local(&port);
    char url[64], err[128];
    close(ls);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    ck_assert_int_eq(mcpc_http_new(url, NULL, &cli, err, sizeof err), MCPC_OK);
    int64_t t0 = mcpc_clock_ms();
    ck_assert_int_eq(send_str(cli, req_list, 2000), MCPC_ERR_IO);
    ck_assert_int_lt(mcpc_clock_ms() - t0, 1000);
    ck_assert_int_eq(mcpc_http_last_status(cli), 0);
    expect_nothing(cli);
}
END_TEST

START_TEST(test_event_too_big)
{
    const char *msg;
    size_t len;
    mcpc_http_opts o;
    mcpc_http_opts_default(&o);
    o.max_event = 1000;
    start_server(h_big_event);
    mcpc_http *h = client(&o);
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    ck_assert_int_eq(recv_msg(h, 2000, &msg, &len), MCPC_ERR_TOO_BIG);
    ck_assert_uint_eq(len, 1001);
    expect_detail(h, "an SSE event's data exceeds the 1000 bytes bound");
    expect_msg(h, "{\"after\":1}");   /* the stream goes on after the over-long event */
    expect_nothing(h);
}
END_TEST

START_TEST(test_body_too_big)
{
    const char *msg;
    size_t len;
    mcpc_http_opts o;
    mcpc_http_opts_default(&o);
    o.max_body = 1u << 20;
    start_server(h_big_json);
    mcpc_http *h = client(&o);
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    ck_assert_int_eq(recv_msg(h, 2000, &msg, &len), MCPC_ERR_TOO_BIG);
    ck_assert_uint_gt(len, o.max_body);
    expect_nothing(h);
}
END_TEST

START_TEST(test_json_body_is_one_message)
{
    /* a JSON body is held whole: the message bound applies, not the (larger) body bound */
    const char *msg;
    size_t len;
    mcpc_http_opts o;
    mcpc_http_opts_default(&o);
    o.max_event = 1u << 20;
    start_server(h_big_json);
    mcpc_http *h = client(&o);
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    ck_assert_int_eq(recv_msg(h, 2000, &msg, &len), MCPC_ERR_TOO_BIG);
    ck_assert_uint_gt(len, o.max_event);
    expect_detail(h, "body (one JSON message) exceeds the 1 MiB bound");
    expect_nothing(h);
}
END_TEST

START_TEST(test_flood)
{
    const char *msg;
    size_t len;
    int got = 0;
    mcpc_err rc;
    mcpc_http_opts o;
    mcpc_http_opts_default(&o);
    o.max_total = 256u << 10;
    start_server(h_flood);
    mcpc_http *h = client(&o);
    mcpc_conn *c = mcpc_http_conn(h);
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    while ((rc = recv_msg(h, 2000, &msg, &len)) == MCPC_OK) {
        ck_assert_uint_eq(len, 1024);
        ck_assert_int_lt(++got, 300);
    }
    ck_assert_int_eq(rc, MCPC_ERR_TOO_BIG);
    ck_assert_int_eq(c->ops->flooded(c), 1);
    ck_assert_uint_gt(c->ops->received(c), o.max_total);
    ck_assert_int_gt(got, 100);   /* what came before the bound was delivered */
    ck_assert_int_eq(recv_msg(h, 100, &msg, &len), MCPC_ERR_TOO_BIG);   /* and it stays flooded */
    ck_assert_int_eq(send_str(h, req_list, 500), MCPC_ERR_TOO_BIG);
}
END_TEST

START_TEST(test_many_events_backpressure)
{
    const char *msg;
    size_t len;
    char want[32];
    start_server(h_many);
    mcpc_http *h = client(NULL);
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    for (int i = 0; i < MANY; i++) {
        mcpc_err rc = recv_msg(h, 2000, &msg, &len);
        ck_assert_msg(rc == MCPC_OK, "event %d: %s", i, mcpc_strerror(rc));
        snprintf(want, sizeof want, "{\"n\":%d}", i);
        ck_assert_msg(len == strlen(want) && memcmp(msg, want, len) == 0, "event %d: %.*s", i,
                      (int)len, msg);
    }
    expect_nothing(h);
}
END_TEST

/* ---- streams ------------------------------------------------------------------------------ */

START_TEST(test_held_stream_and_second_send)
{
    const char *msg;
    size_t len;
    int first = 0, second = 0, other = 0;
    start_server(h_hold);
    mcpc_http *h = client(NULL);
    int64_t t0 = mcpc_clock_ms();
    ck_assert_int_eq(send_str(h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hold\"}", 2000), MCPC_OK);
    ck_assert_int_lt(mcpc_clock_ms() - t0, 500);   /* headers in: send is done */
    /* a new request while the stream is open: both deliver */
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    ck_assert_int_lt(mcpc_clock_ms() - t0, 900);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(recv_msg(h, 2500, &msg, &len), MCPC_OK);
        if (len == 11 && memcmp(msg, "{\"first\":1}", 11) == 0)
            first++;
        else if (len == 12 && memcmp(msg, "{\"second\":1}", 12) == 0)
            second++;
        else
            other++;
    }
    ck_assert(first == 1 && second == 1 && other == 1);
    ck_assert_int_lt(mcpc_clock_ms() - t0, 2500);
    expect_nothing(h);
}
END_TEST

/* ---- request headers ---------------------------------------------------------------------- */

START_TEST(test_headers_2025_session)
{
    const char *msg;
    size_t len;
    start_server(h_echo);
    mcpc_http *h = client(NULL);
    ck_assert_ptr_null(mcpc_http_session_id(h));

    char *head = echoed_head(h, req_list);   /* before initialize: no version, no session */
    expect_header(head, "Accept", "application/json, text/event-stream");
    expect_header(head, "Content-Type", "application/json");
    expect_no_header(head, "MCP-Protocol-Version");
    expect_no_header(head, "Mcp-Session-Id");
    expect_no_header(head, "Mcp-Method");
    free(head);

    ck_assert_int_eq(send_str(h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
                                 "\"params\":{\"protocolVersion\":\"2025-11-25\"}}", 2000), MCPC_OK);
    ck_assert_int_eq(recv_msg(h, 2000, &msg, &len), MCPC_OK);
    ck_assert_str_eq(mcpc_http_session_id(h), "sess-123");

    head = echoed_head(h, req_list);
    expect_header(head, "MCP-Protocol-Version", "2025-11-25");
    expect_header(head, "Mcp-Session-Id", "sess-123");
    expect_no_header(head, "Mcp-Method");   /* 2025-11-25 has no such headers */
    expect_no_header(head, "Mcp-Name");
    free(head);

    ck_assert_int_eq(mcpc_http_delete_session(h, 2000), MCPC_OK);
    ck_assert_int_eq(mcpc_http_last_status(h), 204);
    expect_nothing(h);
}
END_TEST

START_TEST(test_delete_without_session)
{
    start_server(h_echo);
    mcpc_http *h = client(NULL);
    ck_assert_int_eq(mcpc_http_delete_session(h, 1000), MCPC_ERR_NOT_FOUND);
}
END_TEST

START_TEST(test_headers_2026)
{
    mcpc_http_opts o;
    mcpc_http_opts_default(&o);
    o.protocol_version = "2026-07-28";
    start_server(h_echo);
    mcpc_http *h = client(&o);

    char *head = echoed_head(h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{"
                                "\"name\":\"echo\",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
                                "\"2026-07-28\"}}}");
    expect_header(head, "MCP-Protocol-Version", "2026-07-28");
    expect_header(head, "Mcp-Method", "tools/call");
    expect_header(head, "Mcp-Name", "echo");
    expect_no_header(head, "Mcp-Session-Id");
    free(head);

    head = echoed_head(h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/read\",\"params\":{"
                          "\"uri\":\"file:///a%20b\",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
                          "\"1900-01-01\"}}}");
    expect_header(head, "MCP-Protocol-Version", "1900-01-01");   /* the body's value wins */
    expect_header(head, "Mcp-Method", "resources/read");
    expect_header(head, "Mcp-Name", "file:///a%20b");
    free(head);

    /* values that are not plain visible ASCII are sent base64-encoded, never raw */
    head = echoed_head(h, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"prompts/get\",\"params\":{"
                          "\"name\":\"Hi\\r\\nX-Injected: 1\"}}");
    expect_header(head, "Mcp-Name", "=?base64?SGkNClgtSW5qZWN0ZWQ6IDE=?=");
    expect_no_header(head, "X-Injected");
    expect_header(head, "MCP-Protocol-Version", "2026-07-28");   /* from the options */
    free(head);

    head = echoed_head(h, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{"
                          "\"name\":\"Hello, \xe4\xb8\x96\xe7\x95\x8c\"}}");
    expect_header(head, "Mcp-Name", "=?base64?SGVsbG8sIOS4lueVjA==?=");
    free(head);

    /* a body that does not parse: no derived headers, the configured version only */
    head = echoed_head(h, "{\"method\":\"tools/call\",");
    expect_no_header(head, "Mcp-Method");
    expect_no_header(head, "Mcp-Name");
    expect_header(head, "MCP-Protocol-Version", "2026-07-28");
    free(head);
}
END_TEST

START_TEST(test_extra_headers_replace)
{
    mcpc_http_opts o;
    mcpc_http_opts_default(&o);
    o.protocol_version = "2026-07-28";
    start_server(h_echo);
    mcpc_http *h = client(&o);
    const char *const extra[] = {"mcp-protocol-version: 1999-01-01", "X-Case: wrong", "Mcp-Name;"};
    ck_assert_int_eq(mcpc_http_set_headers(h, extra, 3), MCPC_OK);

    char *head = echoed_head(h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{"
                                "\"name\":\"echo\"}}");
    expect_header(head, "MCP-Protocol-Version", "1999-01-01");   /* replaced, not added */
    expect_header(head, "X-Case", "wrong");
    expect_header(head, "Mcp-Name", "");                         /* replaced by an empty one */
    expect_header(head, "Mcp-Method", "tools/call");
    free(head);

    const char *const bad[] = {"X-Bad: a\r\nX-Evil: b"};
    ck_assert_int_eq(mcpc_http_set_headers(h, bad, 1), MCPC_ERR_USAGE);
    const char *const noname[] = {": x"};
    ck_assert_int_eq(mcpc_http_set_headers(h, noname, 1), MCPC_ERR_USAGE);

    ck_assert_int_eq(mcpc_http_set_headers(h, NULL, 0), MCPC_OK);   /* cleared */
    head = echoed_head(h, req_list);
    expect_header(head, "MCP-Protocol-Version", "2026-07-28");
    expect_no_header(head, "X-Case");
    free(head);
}
END_TEST

/* ---- exchanges beside the session (step_http.c) --------------------------------------------- */

START_TEST(test_send_method_get)
{
    const char *msg;
    size_t len;
    mcpc_http_opts o;
    mcpc_http_opts_default(&o);
    o.protocol_version = "2026-07-28";
    start_server(h_echo);
    mcpc_http *h = client(&o);
    const char *const extra[] = {"Origin: null", "Origin: https://evil.example"};
    ck_assert_int_eq(mcpc_http_set_headers(h, extra, 2), MCPC_OK);
    ck_assert_int_eq(mcpc_http_send_method(h, "GET", NULL, 0, 2000), MCPC_OK);
    ck_assert_int_eq(mcpc_http_last_status(h), 200);
    ck_assert_int_eq(recv_msg(h, 2000, &msg, &len), MCPC_OK);
    json_t *j = json_loadb(msg, len, 0, NULL);
    const char *head = json_string_value(json_object_get(json_object_get(j, "result"), "head"));
    ck_assert_ptr_nonnull(head);
    ck_assert_msg(strncmp(head, "GET /mcp ", 9) == 0, "request line: %.40s", head);
    expect_header(head, "Accept", "text/event-stream");
    expect_header(head, "MCP-Protocol-Version", "2026-07-28");
    expect_no_header(head, "Content-Type");   /* no body, no type */
    expect_no_header(head, "Mcp-Method");     /* nothing derived from a body */
    ck_assert_int_eq(header_count(head, "Origin", NULL, 0), 2);   /* a repeated header stays two */
    json_decref(j);
    ck_assert_int_eq(mcpc_http_send_method(h, "GE T", NULL, 0, 2000), MCPC_ERR_USAGE);
}
END_TEST

START_TEST(test_send_method_delete_and_headers)
{
    const char *name, *value;
    start_server(h_echo);
    mcpc_http *h = client(NULL);
    const char *const sid[] = {"Mcp-Session-Id: sess-123"};
    ck_assert_int_eq(mcpc_http_set_headers(h, sid, 1), MCPC_OK);
    ck_assert_int_eq(mcpc_http_send_method(h, "DELETE", NULL, 0, 2000), MCPC_OK);
    ck_assert_int_eq(mcpc_http_last_status(h), 204);
    expect_nothing(h);
    ck_assert_int_eq(mcpc_http_last_header_at(h, 0, &name, &value), 1);
    ck_assert_str_eq(name, "Connection");
    ck_assert_str_eq(value, "close");
    ck_assert_int_eq(mcpc_http_last_header_at(h, 1, &name, &value), 0);
    /* POST is a conn send: the headers derived from the body come along */
    ck_assert_int_eq(mcpc_http_set_headers(h, NULL, 0), MCPC_OK);
    ck_assert_int_eq(mcpc_http_send_method(h, "POST", req_list, strlen(req_list), 2000), MCPC_OK);
    ck_assert_int_eq(mcpc_http_last_status(h), 200);
}
END_TEST

START_TEST(test_last_body_kept)
{
    size_t len;
    int cut = 1;
    start_server(h_202_body);
    mcpc_http *h = client(NULL);
    ck_assert_int_eq(send_str(h, req_list, 2000), MCPC_OK);
    expect_nothing(h);   /* a 202's body is no message, but it is kept for the case to see */
    const char *b = mcpc_http_last_body(h, &len, &cut);
    ck_assert_uint_eq(len, strlen(json_ok));
    ck_assert_int_eq(memcmp(b, json_ok, len), 0);
    ck_assert_int_eq(cut, 0);
    stop_server();
    start_server(h_big_json);   /* 2 MiB: only the first 64 KiB are kept */
    mcpc_http_free(cli);
    h = client(NULL);
    ck_assert_int_eq(send_str(h, req_list, 4000), MCPC_OK);
    const char *msg;
    ck_assert_int_eq(recv_msg(h, 4000, &msg, &len), MCPC_OK);
    b = mcpc_http_last_body(h, &len, &cut);
    ck_assert_uint_eq(len, MCPC_HTTP_KEEP_BODY);
    ck_assert_int_eq(cut, 1);
    ck_assert_int_eq(b[0], '{');
}
END_TEST

START_TEST(test_clone_has_no_state)
{
    const char *msg;
    size_t len;
    char err[256] = "";
    mcpc_http *c = NULL;
    start_server(h_echo);
    mcpc_http *h = client(NULL);
    ck_assert_int_eq(send_str(h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
                                 "\"params\":{\"protocolVersion\":\"2025-11-25\"}}", 2000), MCPC_OK);
    ck_assert_int_eq(recv_msg(h, 2000, &msg, &len), MCPC_OK);
    ck_assert_str_eq(mcpc_http_session_id(h), "sess-123");
    ck_assert_int_eq(mcpc_http_clone(h, "2025-11-25", &c, err, sizeof err), MCPC_OK);
    ck_assert_str_eq(mcpc_http_url(c), mcpc_http_url(h));
    ck_assert_ptr_null(mcpc_http_session_id(c));
    char *head = echoed_head(c, req_list);
    expect_header(head, "MCP-Protocol-Version", "2025-11-25");
    expect_no_header(head, "Mcp-Session-Id");
    free(head);
    ck_assert_str_eq(mcpc_http_session_id(h), "sess-123");   /* the original is untouched */
    mcpc_http_free(c);
}
END_TEST

/* Session ids for the judge: n random ids of len hex digits (from a fixed seed). */
static char **hex_ids(size_t n, size_t len)
{
    char **ids = calloc(n, sizeof *ids);
    unsigned long x = 88172645463325252UL;
    for (size_t i = 0; ids && i < n; i++) {
        ids[i] = malloc(len + 1);
        for (size_t k = 0; ids[i] && k < len; k++) {
            x ^= x << 13;   /* xorshift: plenty for test data */
            x ^= x >> 7;
            x ^= x << 17;
            ids[i][k] = "0123456789abcdef"[x & 15];
        }
        if (ids[i])
            ids[i][len] = '\0';
    }
    return ids;
}

static void free_ids(char **ids, size_t n)
{
    for (size_t i = 0; ids && i < n; i++)
        free(ids[i]);
    free(ids);
}

START_TEST(test_judge_session_ids)
{
    char why[300];
    double bits;
    char **ids = hex_ids(1000, 32);
    ck_assert_int_eq(mcpc_step_http_judge_ids(ids, 1000, &bits, why, sizeof why), 0);
    ck_assert_msg(bits >= 128 && bits < 129, "%f bits: %s", bits, why);

    /* one id that is its predecessor plus 3 (hex): a counter, although all else looks random */
    snprintf(ids[499], 33, "%.28s%04x", ids[498], 0x12fe);
    snprintf(ids[500], 33, "%.28s%04x", ids[498], 0x1301);
    ck_assert_int_eq(mcpc_step_http_judge_ids(ids, 1000, &bits, why, sizeof why), 1);
    ck_assert_msg(strstr(why, "counter"), "%s", why);
    free_ids(ids, 1000);

    ids = hex_ids(100, 16);   /* 64 bits */
    ck_assert_int_eq(mcpc_step_http_judge_ids(ids, 100, &bits, why, sizeof why), 1);
    ck_assert_msg(strstr(why, "bits"), "%s", why);
    strcpy(ids[7], ids[3]);   /* a repeat */
    ck_assert_int_eq(mcpc_step_http_judge_ids(ids, 100, &bits, why, sizeof why), 1);
    free_ids(ids, 100);

    ids = hex_ids(100, 40);
    strcpy(ids[9], ids[8]);
    ck_assert_int_eq(mcpc_step_http_judge_ids(ids, 100, &bits, why, sizeof why), 1);
    ck_assert_msg(strstr(why, "same id"), "%s", why);
    ids[9][5] = ' ';   /* not visible ASCII */
    ck_assert_int_eq(mcpc_step_http_judge_ids(ids, 100, &bits, why, sizeof why), 1);
    ck_assert_msg(strstr(why, "0x20"), "%s", why);
    free_ids(ids, 100);

    /* a decimal counter in a long constant frame, and a counter that carries (…99 → …100) */
    char *seq[3] = {"session-000000000000000000000000000000000098", "session-000000000000000000000000000000000099",
                    "session-000000000000000000000000000000000100"};
    ck_assert_int_eq(mcpc_step_http_judge_ids(seq, 3, &bits, why, sizeof why), 1);
    char *grow[2] = {"Zq8r-x7Kp-99", "Zq8r-x7Kp-100"};
    ck_assert_int_eq(mcpc_step_http_judge_ids(grow, 2, &bits, why, sizeof why), 1);

    /* a random part after a prefix every id shares, longer than half the id */
    ids = hex_ids(50, 20);
    for (size_t i = 0; i < 50; i++) {
        char *p = malloc(48);
        snprintf(p, 48, "mcp-session-server-a-%s", ids[i]);
        free(ids[i]);
        ids[i] = p;
    }
    ck_assert_int_eq(mcpc_step_http_judge_ids(ids, 50, &bits, why, sizeof why), 1);
    ck_assert_msg(strstr(why, "start with"), "%s", why);
    free_ids(ids, 50);
}
END_TEST

/* Steps refused when the case loads (the shapes mcpc_step_http_validate checks). */
START_TEST(test_http_step_validation)
{
    static const char *const bad[] = {
        "{\"do\":\"http_request\",\"expected\":\"x\",\"outcomes\":[]}",
        "{\"do\":\"http_request\",\"expected\":\"x\",\"outcomes\":[{\"grade\":\"WARN\",\"when\":[{\"path\":\"/status\",\"equals\":1}]}]}",
        "{\"do\":\"http_request\",\"method\":\"a\",\"body\":\"b\",\"expected\":\"x\",\"outcomes\":[{\"grade\":\"PASS\",\"when\":[{\"path\":\"/status\",\"equals\":1}]}]}",
        "{\"do\":\"http_request\",\"params\":{},\"expected\":\"x\",\"outcomes\":[{\"grade\":\"PASS\",\"when\":[{\"path\":\"/status\",\"equals\":1}]}]}",
        "{\"do\":\"http_request\",\"headers\":{\"Mcp-Name\":\"a\\r\\nMcp-Name: b\"},\"expected\":\"x\",\"outcomes\":[{\"grade\":\"PASS\",\"when\":[{\"path\":\"/status\",\"equals\":1}]}]}",
        "{\"do\":\"http_request\",\"headers\":{\"Bad Name\":\"a\"},\"expected\":\"x\",\"outcomes\":[{\"grade\":\"PASS\",\"when\":[{\"path\":\"/status\",\"equals\":1}]}]}",
        "{\"do\":\"http_request\",\"headers\":{\"Origin\":[]},\"expected\":\"x\",\"outcomes\":[{\"grade\":\"PASS\",\"when\":[{\"path\":\"/status\",\"equals\":1}]}]}",
        "{\"do\":\"http_request\",\"headers\":{\"Origin\":7},\"expected\":\"x\",\"outcomes\":[{\"grade\":\"PASS\",\"when\":[{\"path\":\"/status\",\"equals\":1}]}]}",
        "{\"do\":\"http_request\",\"method_http\":\"GE T\",\"expected\":\"x\",\"outcomes\":[{\"grade\":\"PASS\",\"when\":[{\"path\":\"/status\",\"equals\":1}]}]}",
        "{\"do\":\"http_request\",\"method\":\"n\",\"notification\":true,\"id\":1,\"expected\":\"x\",\"outcomes\":[{\"grade\":\"PASS\",\"when\":[{\"path\":\"/status\",\"equals\":1}]}]}",
        "{\"do\":\"session_ids\",\"count\":3}",
    };
    static const char good[] =
        "{\"do\":\"http_request\",\"method\":\"tools/list\",\"headers\":{\"Origin\":[\"{origin}\",\"null\"],"
        "\"MCP-Protocol-Version\":null},\"expected\":\"x\",\"capture\":{\"s\":\"/status\"},"
        "\"outcomes\":[{\"grade\":\"PASS\",\"when\":[{\"path\":\"/status\",\"in\":[400,403]}]}]}";
    char err[300];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *st = json_loads(bad[i], 0, NULL);
        ck_assert_msg(st != NULL, "bad sample %zu does not parse", i);
        ck_assert_msg(mcpc_step_http_validate(st, err, sizeof err) != MCPC_OK, "accepted: %s", bad[i]);
        json_decref(st);
    }
    json_t *st = json_loads(good, 0, NULL);
    ck_assert_ptr_nonnull(st);
    ck_assert_msg(mcpc_step_http_validate(st, err, sizeof err) == MCPC_OK, "%s", err);
    ck_assert_msg(mcpc_step_validate(st, err, sizeof err) == MCPC_OK, "%s", err);
    json_decref(st);
}
END_TEST

/* ---- targets ------------------------------------------------------------------------------ */

static mcpc_err try_new(const char *url, int allow_remote)
{
    mcpc_http_opts o;
    mcpc_http *h = (mcpc_http *)&o;   /* must be reset to NULL on failure */
    char err[256] = "";
    mcpc_http_opts_default(&o);
    o.allow_remote = allow_remote;
    mcpc_err rc = mcpc_http_new(url, &o, &h, err, sizeof err);
    if (rc == MCPC_OK)
        mcpc_http_free(h);
    else
        ck_assert_msg(h == NULL && err[0], "%s: no reason given", url);
    return rc;
}

START_TEST(test_non_loopback_refused)
{
    /* never sent to: mcpc_http_new must refuse it before any connection exists */
    int64_t t0 = mcpc_clock_ms();
    ck_assert_int_eq(try_new("http://192.0.2.1:8080/mcp", 0), MCPC_ERR_USAGE);
    ck_assert_int_eq(try_new("http://[::ffff:192.0.2.1]/mcp", 0), MCPC_ERR_USAGE);
    ck_assert_int_eq(try_new("http://example.com/mcp", 0), MCPC_ERR_USAGE);
    ck_assert_int_eq(try_new("http://localhost.example.com/", 0), MCPC_ERR_USAGE);
    ck_assert_int_lt(mcpc_clock_ms() - t0, 200);
    /* allowed explicitly: the client is made (and not used here) */
    ck_assert_int_eq(try_new("http://192.0.2.1:8080/mcp", 1), MCPC_OK);
}
END_TEST

START_TEST(test_url_checks)
{
    ck_assert_int_eq(try_new("http://127.0.0.1:1/mcp", 0), MCPC_OK);
    ck_assert_int_eq(try_new("https://127.9.8.7/mcp", 0), MCPC_OK);
    ck_assert_int_eq(try_new("http://localhost:1/", 0), MCPC_OK);
    ck_assert_int_eq(try_new("http://LOCALHOST:1/", 0), MCPC_OK);
    ck_assert_int_eq(try_new("http://[::1]:1/", 0), MCPC_OK);
    ck_assert_int_eq(try_new("ftp://127.0.0.1/", 0), MCPC_ERR_USAGE);
    ck_assert_int_eq(try_new("file:///etc/passwd", 0), MCPC_ERR_USAGE);
    ck_assert_int_eq(try_new("127.0.0.1:8080", 0), MCPC_ERR_USAGE);
    ck_assert_int_eq(try_new("not a url", 0), MCPC_ERR_USAGE);
    ck_assert_int_eq(try_new("", 0), MCPC_ERR_USAGE);
    ck_assert_int_eq(try_new(NULL, 0), MCPC_ERR_USAGE);
}
END_TEST

/* ---- main --------------------------------------------------------------------------------- */

/* gzip of 10 MiB of zeros, through the gzip tool (no zlib link needed for the test). */
static void make_gzip_bomb(void)
{
    FILE *p = popen("head -c 10485760 /dev/zero | gzip -c -9", "r");
    size_t cap = 1u << 20;
    if (!p)
        return;
    gz = malloc(cap);
    if (gz)
        gz_len = fread(gz, 1, cap, p);
    pclose(p);
}

static Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("responses");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_json_body);
    tcase_add_test(tc, test_sse_two_events);
    tcase_add_test(tc, test_202_empty);
    tcase_add_test(tc, test_202_with_body);
    tcase_add_test(tc, test_400_json_error);
    tcase_add_test(tc, test_sse_cut_mid_event);
    tcase_add_test(tc, test_redirect_not_followed);
    tcase_add_test(tc, test_redirect_no_connection_elsewhere);
    tcase_add_test(tc, test_wrong_content_type);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_slowloris_body);
    tcase_add_test(tc, test_slowloris_headers);
    tcase_add_test(tc, test_silent_server);
    tcase_add_test(tc, test_gzip_bomb);
    tcase_add_test(tc, test_reset_mid_body);
    tcase_add_test(tc, test_connection_refused);
    tcase_add_test(tc, test_event_too_big);
    tcase_add_test(tc, test_body_too_big);
    tcase_add_test(tc, test_json_body_is_one_message);
    tcase_add_test(tc, test_flood);
    tcase_add_test(tc, test_many_events_backpressure);
    suite_add_tcase(s, tc);

    tc = tcase_create("streams");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_held_stream_and_second_send);
    suite_add_tcase(s, tc);

    tc = tcase_create("headers");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_headers_2025_session);
    tcase_add_test(tc, test_delete_without_session);
    tcase_add_test(tc, test_bad_session_id_ignored);
    tcase_add_test(tc, test_headers_2026);
    tcase_add_test(tc, test_extra_headers_replace);
    suite_add_tcase(s, tc);

    tc = tcase_create("exchanges");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_send_method_get);
    tcase_add_test(tc, test_send_method_delete_and_headers);
    tcase_add_test(tc, test_last_body_kept);
    tcase_add_test(tc, test_clone_has_no_state);
    tcase_add_test(tc, test_judge_session_ids);
    tcase_add_test(tc, test_http_step_validation);
    suite_add_tcase(s, tc);

    tc = tcase_create("targets");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_non_loopback_refused);
    tcase_add_test(tc, test_url_checks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;
    make_gzip_bomb();
    sr = srunner_create(http_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(gz);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
