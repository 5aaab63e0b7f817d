/* h_http_hostile: misbehaving streamable-HTTP MCP "servers" for the harness's robustness tests.
 *
 *   h_http_hostile MODE PORT
 *
 * Listens on 127.0.0.1:PORT only (plain POSIX sockets, so it can misbehave at the byte level)
 * and answers every POST that carries a JSON-RPC message as MODE says; other methods get 405.
 *
 *   slowloris-sse       200 text/event-stream, then one byte of a data line every second,
 *                       never completing an event
 *   slowloris-headers   "HTTP/1.1 200 OK", then one header byte every second, never ending
 *   huge-sse-event      one SSE event whose data is a 100 MB JSON-RPC response (streamed)
 *   redirect-loop       307 to another path on this server, a new one each time
 *   redirect-remote     307, then 308, to http://203.0.113.7/mcp (TEST-NET-3: never reachable)
 *   gzip-bomb           application/json, Content-Encoding: gzip, inflating to just over 1 GiB
 *                       of zeros (~6.8 MB on the wire, generated as it is sent)
 *   reset-mid-body      Content-Length: 100000, 1 KiB of a JSON body, then a TCP RST
 *   wrong-content-type  a valid JSON-RPC answer labelled text/html
 *   no-content-type     a valid JSON-RPC answer without any Content-Type
 *   chunked-forever     application/json, chunked, a JSON string that never ends (fast)
 *   header-flood        10,000 response headers before a valid JSON-RPC answer
 *   status-1xx-loop     "102 Processing" interim responses, forever, never a final one
 *
 * A "valid JSON-RPC answer" is: initialize gets a 2025-11-25 result, any other request an error
 * -32601, a notification or response 202 with no body.
 *
 * Bounded: it exits after LIFETIME_S (alarm, default action), when its stdin is a pipe or socket
 * that reaches EOF (the harness that started it is gone or stopping it), and it writes nowhere
 * but its sockets and stderr (usage errors, and one line for any request to a path other than
 * /mcp: only a client that followed a redirect makes one). A client that goes away only ends that
 * connection: the next request may come on a new one. One connection is served at a time.
 *
 * Plain C11 + POSIX. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LIFETIME_S 120u
#define REQ_HEAD_MAX (64u << 10)     /* request head bytes we accept */
#define REQ_BODY_KEEP (64u << 10)    /* request body bytes we look at (the rest is discarded) */
#define REQ_BODY_MAX (8u << 20)      /* request bodies larger than this end the connection */
#define IO_IDLE_MS 10000             /* a client silent this long loses its connection */
#define REMOTE_URL "http://203.0.113.7/mcp"

/* Why a connection ended early: the client went away or stalled. Not an error of ours. */
enum { CONN_OK = 0, CONN_GONE = -1 };

static int g_watch_stdin;     /* stdin is a pipe/socket from our parent: EOF means "stop" */
static unsigned g_port;
static unsigned long g_count; /* requests served, for the redirect modes */

/* ---- lifetime ------------------------------------------------------------------------------- */

static void arm_lifetime(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    /* a write to a vanished client must fail with EPIPE, not kill us mid-mode */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    alarm(LIFETIME_S);
}

/* Only a pipe or socket on stdin is watched: /dev/null or a terminal says nothing about our
 * parent, and would stop us at once or never. */
static void decide_stdin_watch(void)
{
    struct stat st;
    g_watch_stdin = fstat(0, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* stdin is readable: discard what came; exit at EOF (our parent closed it or died). */
static void check_stdin(void)
{
    char buf[4096];
    ssize_t n = read(0, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
        _exit(0);
}

/* Wait until fd is ready for `events` or ms pass, watching stdin meanwhile (fd < 0: just wait).
 * 1 ready, 0 timed out. */
static int wait_fd(int fd, short events, int ms)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd p[2];
        nfds_t n = 0;
        if (fd >= 0)
            p[n++] = (struct pollfd){.fd = fd, .events = events};
        if (g_watch_stdin)
            p[n++] = (struct pollfd){.fd = 0, .events = POLLIN};
        clock_gettime(CLOCK_MONOTONIC, &now);
        long spent = (long)(now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (spent >= ms)
            return 0;
        int r = poll(p, n, (int)(ms - spent));
        if (r < 0 && errno != EINTR)
            return 0;
        if (r <= 0)
            continue;
        if (g_watch_stdin && p[n - 1].revents)
            check_stdin();
        if (fd >= 0 && p[0].revents)
            return 1;
    }
}

static void pause_ms(int ms)
{
    (void)wait_fd(-1, 0, ms);
}

/* ---- socket I/O ----------------------------------------------------------------------------- */

/* Everything or CONN_GONE (the client closed, reset or stopped reading for IO_IDLE_MS). */
static int send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLOUT, IO_IDLE_MS))
            continue;
        return CONN_GONE;
    }
    return CONN_OK;
}

static int send_str(int fd, const char *s)
{
    return send_all(fd, s, strlen(s));
}

/* Up to cap bytes that are available within IO_IDLE_MS; 0 at EOF or on error/stall. */
static size_t recv_some(int fd, char *buf, size_t cap)
{
    for (;;) {
        ssize_t n = recv(fd, buf, cap, 0);
        if (n > 0)
            return (size_t)n;
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLIN, IO_IDLE_MS))
            continue;
        return 0;
    }
}

/* ---- the request ---------------------------------------------------------------------------- */

typedef struct {
    char method[16];
    char path[256];
    char id[256];          /* the JSON-RPC id token, "" when the message has none */
    char rpc_method[128];  /* the JSON-RPC method, "" when none */
    int is_post;
} request;

/* Crude: the value token after the key `"key":` in body (a string keeps its quotes). */
static void json_token(const char *body, const char *key, char *out, size_t outsz)
{
    char pat[64];
    const char *p = body;
    snprintf(pat, sizeof pat, "\"%s\"", key);
    out[0] = '\0';
    while ((p = strstr(p, pat)) != NULL) {
        const char *q = p + strlen(pat), *end;
        p = q;
        while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
            q++;
        if (*q++ != ':')
            continue;   /* the key text was a value */
        while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
            q++;
        end = q;
        if (*end == '"') {
            for (end++; *end && *end != '"'; end++)
                if (*end == '\\' && end[1])
                    end++;
            if (*end != '"')
                return;
            end++;
        } else {
            while (*end && strchr("+-.0123456789eEabcdfilnrstuv", *end))
                end++;   /* numbers, true/false/null */
        }
        if (end > q && (size_t)(end - q) < outsz) {
            memcpy(out, q, (size_t)(end - q));
            out[end - q] = '\0';
        }
        return;
    }
}

/* The Content-Length of a request head (NUL-terminated), or 0. */
static size_t content_length(const char *head)
{
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, "Content-Length:", 15) == 0)
            return (size_t)strtoull(p + 17, NULL, 10);
    }
    return 0;
}

/* Read one request: its head, then its body (the first REQ_BODY_KEEP bytes kept for the JSON-RPC
 * id and method). CONN_GONE when the client closed, stalled or sent something too large. */
static int read_request(int fd, request *r)
{
    static char buf[REQ_HEAD_MAX + REQ_BODY_KEEP + 1];
    size_t have = 0, head_len, body_len, want;
    char *end = NULL;
    memset(r, 0, sizeof *r);
    while (!end) {
        if (have == REQ_HEAD_MAX)
            return CONN_GONE;
        size_t n = recv_some(fd, buf + have, REQ_HEAD_MAX - have);
        if (n == 0)
            return CONN_GONE;
        have += n;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    head_len = (size_t)(end - buf) + 4;
    end[2] = '\0';   /* the head, ending with its last CRLF */
    sscanf(buf, "%15s %255s", r->method, r->path);
    r->is_post = strcmp(r->method, "POST") == 0;
    want = content_length(buf);
    if (want > REQ_BODY_MAX)
        return CONN_GONE;
    body_len = have - head_len;   /* <= REQ_HEAD_MAX == REQ_BODY_KEEP */
    memmove(buf, buf + head_len, body_len);
    while (body_len < want) {
        char sink[4096], *dst = sink;
        size_t cap = sizeof sink, n;
        if (body_len < REQ_BODY_KEEP) {
            dst = buf + body_len;
            cap = REQ_BODY_KEEP - body_len;
        }
        if (cap > want - body_len)
            cap = want - body_len;
        n = recv_some(fd, dst, cap);
        if (n == 0)
            return CONN_GONE;
        body_len += n;
    }
    buf[body_len < REQ_BODY_KEEP ? body_len : REQ_BODY_KEEP] = '\0';
    json_token(buf, "id", r->id, sizeof r->id);
    json_token(buf, "method", r->rpc_method, sizeof r->rpc_method);
    return CONN_OK;
}

/* ---- well-formed pieces --------------------------------------------------------------------- */

/* A request (method and id) is owed an answer; a notification or response is not. */
static int owes_answer(const request *r)
{
    return r->id[0] && r->rpc_method[0];
}

/* The JSON-RPC answer to r, a JSON text, or NULL when r is owed none. */
static const char *valid_answer(const request *r, char *out, size_t outsz)
{
    if (!owes_answer(r))
        return NULL;
    if (strcmp(r->rpc_method, "\"initialize\"") == 0)
        snprintf(out, outsz,
                 "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"protocolVersion\":\"2025-11-25\","
                 "\"capabilities\":{\"tools\":{}},\"serverInfo\":{\"name\":\"h_http_hostile\","
                 "\"version\":\"0\"}}}", r->id);
    else
        snprintf(out, outsz,
                 "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":-32601,"
                 "\"message\":\"Method not found\"}}", r->id);
    return out;
}

/* 202 with no body: what a notification or response is owed. */
static int send_202(int fd)
{
    return send_str(fd, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
}

static int send_405(int fd)
{
    return send_str(fd, "HTTP/1.1 405 Method Not Allowed\r\nAllow: POST\r\nContent-Length: 0\r\n"
                        "Connection: close\r\n\r\n");
}

/* A JSON-RPC response body's opening, before a long string value: {"...","result":{"x":" */
static int send_result_prefix(int fd, const request *r)
{
    char buf[512];
    snprintf(buf, sizeof buf, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"x\":\"",
             r->id[0] ? r->id : "null");
    return send_str(fd, buf);
}

/* n bytes of 'A' in 64 KiB writes (n == SIZE_MAX: until the client goes away). */
static int send_filler(int fd, size_t n)
{
    static char chunk[64 << 10];
    if (chunk[0] != 'A')
        memset(chunk, 'A', sizeof chunk);
    while (n > 0) {
        size_t k = n < sizeof chunk ? n : sizeof chunk;
        if (send_all(fd, chunk, k) != CONN_OK)
            return CONN_GONE;
        if (n != SIZE_MAX)
            n -= k;
    }
    return CONN_OK;
}

/* ---- modes ---------------------------------------------------------------------------------- */

static int mode_slowloris_sse(int fd, const request *r)
{
    (void)r;
    if (send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                     "\r\ndata: {") != CONN_OK)
        return CONN_GONE;
    for (;;) {   /* an event that never ends: no newline ever comes */
        pause_ms(1000);
        if (send_str(fd, " ") != CONN_OK)
            return CONN_GONE;
    }
}

static int mode_slowloris_headers(int fd, const request *r)
{
    (void)r;
    if (send_str(fd, "HTTP/1.1 200 OK\r\nX-Slow: ") != CONN_OK)
        return CONN_GONE;
    for (;;) {
        pause_ms(1000);
        if (send_str(fd, "a") != CONN_OK)
            return CONN_GONE;
    }
}

static int mode_huge_sse_event(int fd, const request *r)
{
    if (send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                     "Connection: close\r\n\r\ndata: ") != CONN_OK ||
        send_result_prefix(fd, r) != CONN_OK || send_filler(fd, 100u * 1000 * 1000) != CONN_OK ||
        send_str(fd, "\"}}\n\n") != CONN_OK)
        return CONN_GONE;
    return CONN_GONE;   /* Connection: close */
}

static int redirect(int fd, unsigned code, const char *location)
{
    char buf[512];
    snprintf(buf, sizeof buf,
             "HTTP/1.1 %u %s\r\nLocation: %s\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n",
             code, code == 308 ? "Permanent Redirect" : "Temporary Redirect", location);
    return send_str(fd, buf);
}

static int mode_redirect_loop(int fd, const request *r)
{
    char loc[128];
    (void)r;
    snprintf(loc, sizeof loc, "http://127.0.0.1:%u/mcp/loop/%lu", g_port, g_count);
    return redirect(fd, 307, loc);
}

/* 307 for initialize, 308 for the rest (the harness's server/discover probe gets that) */
static int mode_redirect_remote(int fd, const request *r)
{
    return redirect(fd, strcmp(r->rpc_method, "\"initialize\"") == 0 ? 307 : 308, REMOTE_URL);
}

/* -- gzip bomb: a hand-made deflate stream of fixed-Huffman blocks (RFC 1951) --------------- */

/* One literal 0, then BOMB_MATCHES copies of <length 258, distance 1>: 1 + 258 * 4161791 =
 * 1073742079 bytes of zeros, 13 bits per 258 bytes on the wire. */
#define BOMB_MATCHES 4161791u
#define BOMB_SIZE (1u + 258u * BOMB_MATCHES)

typedef struct {
    int fd;
    uint64_t acc;         /* pending bits, LSB first */
    unsigned nacc;
    unsigned char out[64 << 10];
    size_t nout;
    int gone;
} bitsink;

static void bits_flush(bitsink *b)
{
    if (!b->gone && b->nout && send_all(b->fd, b->out, b->nout) != CONN_OK)
        b->gone = 1;
    b->nout = 0;
}

/* Append n (<= 32) bits of v, least significant first (deflate's order for header fields). */
static void bits_put(bitsink *b, uint32_t v, unsigned n)
{
    b->acc |= (uint64_t)(v & ((1u << n) - 1u)) << b->nacc;
    b->nacc += n;
    while (b->nacc >= 8) {
        b->out[b->nout++] = (unsigned char)b->acc;
        b->acc >>= 8;
        b->nacc -= 8;
        if (b->nout == sizeof b->out)
            bits_flush(b);
    }
}

/* Append a Huffman code of n bits: deflate sends those most significant bit first. */
static void bits_code(bitsink *b, uint32_t code, unsigned n)
{
    uint32_t rev = 0;
    for (unsigned i = 0; i < n; i++)
        rev |= ((code >> i) & 1u) << (n - 1 - i);
    bits_put(b, rev, n);
}

static void bits_bytes(bitsink *b, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bits_put(b, p[i], 8);
}

/* CRC-32 (the gzip trailer's) of n zero bytes, continuing crc. */
static uint32_t crc32_zeros(uint32_t crc, size_t n)
{
    static uint32_t table[256];
    if (!table[1]) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    }
    crc = ~crc;
    while (n--)
        crc = table[crc & 0xFF] ^ (crc >> 8);
    return ~crc;
}

static int mode_gzip_bomb(int fd, const request *r)
{
    static const unsigned char gz_head[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    /* header bits: 3 block header + 8 literal + 13 per match + 7 end of block */
    uint64_t bits = 3 + 8 + 13ull * BOMB_MATCHES + 7;
    uint64_t wire = sizeof gz_head + (bits + 7) / 8 + 8;
    uint32_t crc = 0;
    char head[256];
    static bitsink b;
    (void)r;
    snprintf(head, sizeof head,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
             "Content-Length: %llu\r\nConnection: close\r\n\r\n", (unsigned long long)wire);
    if (send_str(fd, head) != CONN_OK)
        return CONN_GONE;
    memset(&b, 0, sizeof b);
    b.fd = fd;
    bits_bytes(&b, gz_head, sizeof gz_head);
    bits_put(&b, 1, 1);         /* BFINAL */
    bits_put(&b, 1, 2);         /* BTYPE 01: fixed Huffman codes */
    bits_code(&b, 0x30, 8);     /* literal 0 */
    crc = crc32_zeros(crc, 1);
    for (uint32_t i = 0; i < BOMB_MATCHES && !b.gone; i++) {
        bits_code(&b, 0xC5, 8); /* length code 285: 258 bytes */
        bits_code(&b, 0, 5);    /* distance code 0: 1 byte back */
        crc = crc32_zeros(crc, 258);   /* only as far as the client reads: cheap when cut */
    }
    bits_code(&b, 0, 7);        /* end of block (256) */
    if (b.nacc)
        bits_put(&b, 0, 8 - b.nacc);
    unsigned char trailer[8] = {(unsigned char)crc, (unsigned char)(crc >> 8),
                                (unsigned char)(crc >> 16), (unsigned char)(crc >> 24),
                                (unsigned char)BOMB_SIZE, (unsigned char)(BOMB_SIZE >> 8),
                                (unsigned char)(BOMB_SIZE >> 16), (unsigned char)(BOMB_SIZE >> 24)};
    bits_bytes(&b, trailer, sizeof trailer);
    bits_flush(&b);
    return CONN_GONE;   /* Connection: close */
}

static int mode_reset_mid_body(int fd, const request *r)
{
    struct linger lg = {1, 0};
    if (send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n"
                     "\r\n") != CONN_OK ||
        send_result_prefix(fd, r) != CONN_OK || send_filler(fd, 1024) != CONN_OK)
        return CONN_GONE;
    /* let the client read what was sent before the reset, so the test is about the cut */
    pause_ms(300);
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);   /* close() now sends RST */
    return CONN_GONE;
}

/* The rest of a response after its status line: a valid answer for r under the given
 * Content-Type header line ("" for none), or an empty body when r is owed none. */
static int send_answer_rest(int fd, const request *r, const char *ctype_line)
{
    char body[1024], head[512];
    const char *a = valid_answer(r, body, sizeof body);
    snprintf(head, sizeof head, "%sContent-Length: %zu\r\n\r\n", a ? ctype_line : "",
             a ? strlen(a) : 0);
    if (send_str(fd, head) != CONN_OK)
        return CONN_GONE;
    return a ? send_str(fd, a) : CONN_OK;
}

static int answer_labelled(int fd, const request *r, const char *ctype_line)
{
    if (!owes_answer(r))
        return send_202(fd);
    if (send_str(fd, "HTTP/1.1 200 OK\r\n") != CONN_OK)
        return CONN_GONE;
    return send_answer_rest(fd, r, ctype_line);
}

static int mode_wrong_content_type(int fd, const request *r)
{
    return answer_labelled(fd, r, "Content-Type: text/html; charset=utf-8\r\n");
}

static int mode_no_content_type(int fd, const request *r)
{
    return answer_labelled(fd, r, "");
}

static int mode_chunked_forever(int fd, const request *r)
{
    char buf[512], prefix[400];
    snprintf(prefix, sizeof prefix, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"x\":\"",
             r->id[0] ? r->id : "null");
    snprintf(buf, sizeof buf,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
             "\r\n%zx\r\n%s\r\n", strlen(prefix), prefix);
    if (send_str(fd, buf) != CONN_OK)
        return CONN_GONE;
    for (;;) {   /* 64 KiB chunks of the string's inside; the closing quote never comes */
        if (send_str(fd, "10000\r\n") != CONN_OK || send_filler(fd, 0x10000) != CONN_OK ||
            send_str(fd, "\r\n") != CONN_OK)
            return CONN_GONE;
    }
}

static int mode_header_flood(int fd, const request *r)
{
    char line[64];
    if (send_str(fd, "HTTP/1.1 200 OK\r\n") != CONN_OK)
        return CONN_GONE;
    for (int i = 0; i < 10000; i++) {
        snprintf(line, sizeof line, "X-Flood-%05d: aaaaaaaaaaaaaaaa\r\n", i);
        if (send_str(fd, line) != CONN_OK)
            return CONN_GONE;
    }
    return send_answer_rest(fd, r, "Content-Type: application/json\r\n");
}

static int mode_status_1xx_loop(int fd, const request *r)
{
    (void)r;
    for (;;) {
        if (send_str(fd, "HTTP/1.1 102 Processing\r\n\r\n") != CONN_OK)
            return CONN_GONE;
    }
}

/* ---- the server ----------------------------------------------------------------------------- */

typedef int (*mode_fn)(int fd, const request *r);

static const struct {
    const char *name;
    mode_fn fn;
} modes[] = {
    {"slowloris-sse", mode_slowloris_sse},
    {"slowloris-headers", mode_slowloris_headers},
    {"huge-sse-event", mode_huge_sse_event},
    {"redirect-loop", mode_redirect_loop},
    {"redirect-remote", mode_redirect_remote},
    {"gzip-bomb", mode_gzip_bomb},
    {"reset-mid-body", mode_reset_mid_body},
    {"wrong-content-type", mode_wrong_content_type},
    {"no-content-type", mode_no_content_type},
    {"chunked-forever", mode_chunked_forever},
    {"header-flood", mode_header_flood},
    {"status-1xx-loop", mode_status_1xx_loop},
};

/* Serve requests on one connection until it ends. */
static void serve_conn(int fd, mode_fn fn)
{
    request r;
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    while (read_request(fd, &r) == CONN_OK) {
        g_count++;
        /* only our redirects name other paths: a request for one means a client followed it
         * (stderr reaches the harness's transcript) */
        if (strcmp(r.path, "/mcp") != 0)
            fprintf(stderr, "h_http_hostile: request for %.200s: a redirect was followed\n", r.path);
        int rc = !r.is_post ? send_405(fd) : fn(fd, &r);
        if (rc != CONN_OK || !r.is_post)
            break;
    }
    close(fd);
}

static int listen_loopback(unsigned port)
{
    struct sockaddr_in a;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);   /* never reachable from elsewhere */
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void usage(void)
{
    fputs("usage: h_http_hostile MODE PORT\nmodes:", stderr);
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        fprintf(stderr, " %s", modes[i].name);
    fputc('\n', stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    mode_fn fn = NULL;
    char *end;
    if (argc != 3)
        usage();
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(argv[1], modes[i].name) == 0)
            fn = modes[i].fn;
    unsigned long port = strtoul(argv[2], &end, 10);
    if (!fn || *end || port == 0 || port > 65535)
        usage();
    g_port = (unsigned)port;
    arm_lifetime();
    decide_stdin_watch();
    int lfd = listen_loopback(g_port);
    if (lfd < 0) {
        fprintf(stderr, "h_http_hostile: cannot listen on 127.0.0.1:%u: %s\n", g_port,
                strerror(errno));
        return 1;
    }
    for (;;) {
        if (!wait_fd(lfd, POLLIN, 1000))
            continue;
        int fd = accept(lfd, NULL, NULL);
        if (fd >= 0)
            serve_conn(fd, fn);
    }
}
