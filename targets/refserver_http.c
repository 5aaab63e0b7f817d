/* refserver --http PORT: the reference MCP server over streamable HTTP, both eras.
 *
 * Every POST body is one JSON-RPC message, served by the same dispatcher as stdio
 * (mcpc_ref_handle_line); this file only adds the transport:
 *
 * - Transport security first, for every method and path: a Host that is not this server
 *   (127.0.0.1, localhost or [::1] with our port) and an Origin that is present and not
 *   http://<one of those>:<port> (Origin: null and a repeated Origin included) get 403.
 * - Era: a body whose params._meta carries the per-request protocol fields, an
 *   MCP-Protocol-Version: 2026-07-28 header, or server/discover, is 2026-07-28: stateless,
 *   served on one shared server state after the header checks (MCP-Protocol-Version, Mcp-Method
 *   and Mcp-Name must be present and equal to the body, else 400 + -32020). Anything else is
 *   2025-11-25: initialize creates a session (its own server state, a 128-bit random
 *   Mcp-Session-Id); later messages need a known session id (missing → 400, unknown → 404).
 * - OAuth (only with MCPCERT_AUTH_ISSUER; refserver_auth.h): the protected resource metadata is
 *   served, and every request to /mcp passes the gate (401/403, nothing run) before the rules
 *   below are looked at.
 * - The dispatcher's output becomes the HTTP answer: no line → 202, one line → 200
 *   application/json (or 400/404 for the errors the spec maps to a status), several lines →
 *   200 text/event-stream, one event per line.
 *
 * The listener runs the handler on its own thread with a mutex held; the main thread only
 * waits for SIGINT/SIGTERM, stdin EOF or an exit request (die-on-parse-error flaw) on a
 * self-pipe, and touches the server state again only after the listener has stopped. */
#include "refserver.h"
#include "refserver_auth.h"
#include "http_listener.h"
#include "jsonrpc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#define SESSION_ID_BYTES 16                          /* 128 random bits */
#define SESSION_ID_LEN (2 * SESSION_ID_BYTES)        /* hex digits */
#define MAX_OUTPUT ((size_t)16 * 1024 * 1024)        /* dispatcher output for one request */
#define ALLOW_METHODS "POST, DELETE"

/* One 2025-11-25 session. */
struct session {
    char id[SESSION_ID_LEN + 1];
    struct mcpc_ref_server *s;     /* owned; NULL marks a free slot */
    unsigned long last_use;        /* value of front.uses at the last request */
};

/* Everything the handler works on. Touched only with the listener's mutex held (or after the
 * listener stopped). */
struct front {
    struct mcpc_ref_server *shared;    /* borrowed: the 2026-07-28 state, template of sessions */
    struct session sessions[MCPC_REF_HTTP_MAX_SESSIONS];
    unsigned long uses;                /* request counter, for least-recently-used eviction */
    unsigned long minted;              /* weak-session-ids flaw: the last id handed out */
    unsigned port;
    int wake_w;                        /* write end of the main loop's self-pipe */
    int exit_status;                   /* -1, or the status a flaw asked to exit with */
    struct mcpc_ref_auth *auth;        /* owned: OAuth resource server, or NULL (auth off) */
    const char *token;                 /* the credential of the request being served, or NULL */
};

/* Dispatcher output for one request. */
struct out_buf {
    char *p;                           /* owned */
    size_t len, cap;
    bool overflow;                     /* over MAX_OUTPUT or out of memory */
};

/* What the request is, as far as the transport rules care. */
struct post_info {
    mcpc_msg m;                        /* the parsed body (owned root) */
    bool valid;                        /* m is a valid message */
    json_t *id;                        /* borrowed: the request id for error answers, or NULL */
    json_t *params;                    /* borrowed: params when an object, else NULL */
    json_t *body_pv, *body_caps;       /* borrowed: the _meta protocol fields, or NULL */
    const mcpc_listener_header *pv;    /* MCP-Protocol-Version header, or NULL */
    size_t n_pv;
    bool modern;
};

static int signal_wake_fd = -1;        /* the self-pipe, for the signal handler */

/* ---- small helpers -------------------------------------------------------------------------- */

/* 1 if header h holds exactly the C string s. */
static int header_is(const mcpc_listener_header *h, const char *s)
{
    size_t n = strlen(s);

    return h && h->value_len == n && memcmp(h->value, s, n) == 0;
}

/* Copy v[0..len) into buf for a log line or an error message: printable ASCII kept, other
 * bytes shown as '?', cut at 80 characters (peer text must not break JSON or the log). */
static const char *printable(char *buf, size_t size, const char *v, size_t len)
{
    size_t o = 0;

    for (size_t i = 0; i < len && o + 4 < size && o < 80; i++)
        buf[o++] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
    if (len > 0 && o < len && o + 4 < size) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

/* 1 if v[0..len) holds a control character other than HTAB (RFC 9110 field values). */
static int has_ctl(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 1;
    }
    return 0;
}

/* 1 if v[0..len) is a plain ASCII header value (visible ASCII, space, tab), as the MCP
 * headers must be; anything else has to come in the =?base64?...?= form. */
static int plain_ascii(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (!((c >= 0x20 && c < 0x7f) || c == '\t'))
            return 0;
    }
    return 1;
}

/* 1 if v[0..len) names this server: 127.0.0.1, localhost or [::1] (case-insensitive), then
 * ":<port>", or nothing when the port is 80. */
static int is_local_authority(const char *v, size_t len, unsigned port)
{
    static const char *const hosts[] = { "127.0.0.1", "localhost", "[::1]" };

    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        size_t hl = strlen(hosts[i]);
        unsigned long p = 0;

        if (len < hl || strncasecmp(v, hosts[i], hl) != 0)
            continue;
        if (len == hl)
            return port == 80;
        if (v[hl] != ':' || len == hl + 1 || len > hl + 6)
            return 0;
        for (size_t k = hl + 1; k < len; k++) {
            if (v[k] < '0' || v[k] > '9')
                return 0;
            p = p * 10 + (unsigned long)(v[k] - '0');
        }
        return p == port;
    }
    return 0;
}

/* 1 if the Origin value v[0..len) is this server seen from a page it served itself. */
static int is_local_origin(const char *v, size_t len, unsigned port)
{
    return len > 7 && strncasecmp(v, "http://", 7) == 0 &&
           is_local_authority(v + 7, len - 7, port);
}

/* 1 if a Content-Type value means JSON: application/json, optionally with parameters. */
static int is_json_type(const char *v, size_t len)
{
    static const char want[] = "application/json";
    size_t n = sizeof want - 1;

    return len >= n && strncasecmp(v, want, n) == 0 &&
           (len == n || v[n] == ';' || v[n] == ' ' || v[n] == '\t');
}

/* Decode standard base64 (padding optional) from s[0..len) into a malloc'd buffer
 * (*out_len bytes, NUL-terminated). NULL for bad input or no memory. */
static char *base64_decode(const char *s, size_t len, size_t *out_len)
{
    char *out = malloc(len / 4 * 3 + 4);
    unsigned long acc = 0;
    size_t o = 0, pad = 0;
    int bits = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else if (c == '=' && i + 2 >= len) {
            pad++;
            continue;
        } else
            goto bad;
        if (pad)
            goto bad;                     /* data after padding */
        acc = (acc << 6) | (unsigned long)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xFF);
        }
    }
    if (bits >= 6 || (pad && (len % 4) != 0))
        goto bad;                         /* a lone sextet, or padding at the wrong place */
    out[o] = '\0';
    *out_len = o;
    return out;
bad:
    free(out);
    return NULL;
}

/* ---- answers -------------------------------------------------------------------------------- */

/* Answer status with a JSON-RPC error (id borrowed; NULL: no id member) built from fmt. */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static mcpc_err reply_error(mcpc_listener_response *res, unsigned status, json_t *id, int code,
                            const char *fmt, ...)
{
    char msg[512];
    json_t *err = NULL;
    char *text = NULL;
    size_t len = 0;
    va_list ap;
    mcpc_err rc = MCPC_ERR_NOMEM;

    va_start(ap, fmt);
    if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
        snprintf(msg, sizeof msg, "error %d", code);
    va_end(ap);
    mcpc_ref_utf8_trim(msg);
    if (!(err = mcpc_jsonrpc_error(id, code, msg, NULL)) ||
        !(text = mcpc_jsonrpc_dump(err, 0, &len)))
        goto out;
    rc = mcpc_listener_response_set(res, status, "application/json", text, len);
out:
    free(text);
    json_decref(err);
    return rc;
}

/* Log a transport-level refusal on stderr (one line; peer text made printable). */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void log_refusal(const mcpc_listener_request *req, unsigned status, const char *fmt, ...)
{
    char why[300], method[128], path[128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    fprintf(stderr, "refserver: %s %s from %s: %u, %s\n",
            printable(method, sizeof method, req->method, strlen(req->method)),
            printable(path, sizeof path, req->path, strlen(req->path)), req->client, status,
            why);
}

/* ---- sessions (2025-11-25) ------------------------------------------------------------------ */

/* A new server state configured like tmpl (flaws, page size, ledger). NULL: no memory. */
static struct mcpc_ref_server *server_new(const struct mcpc_ref_server *tmpl)
{
    struct mcpc_ref_server *s = malloc(sizeof *s);

    if (!s)
        return NULL;
    mcpc_ref_server_init(s);
    memcpy(s->flaw, tmpl->flaw, sizeof s->flaw);
    s->page_size = tmpl->page_size;
    s->ledger_path = tmpl->ledger_path;
    s->auth = tmpl->auth;
    return s;
}

/* Free a state made by server_new. */
static void server_free(struct mcpc_ref_server *s)
{
    if (!s)
        return;
    mcpc_ref_server_fini(s);
    free(s);
}

/* Fill id with SESSION_ID_LEN hex digits from the kernel's CSPRNG. A predictable session id
 * would let another local client take a session over, so there is no weaker fallback. */
static mcpc_err new_session_id(char id[SESSION_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[SESSION_ID_BYTES];
    size_t got = 0;

    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got < sizeof raw) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        got = 0;
        while (fd >= 0 && got < sizeof raw) {
            ssize_t n = read(fd, raw + got, sizeof raw - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        if (fd >= 0)
            close(fd);
        if (got < sizeof raw)
            return MCPC_ERR_IO;
    }
    for (size_t i = 0; i < sizeof raw; i++) {
        id[2 * i] = hex[raw[i] >> 4];
        id[2 * i + 1] = hex[raw[i] & 15];
    }
    id[SESSION_ID_LEN] = '\0';
    return MCPC_OK;
}

/* The session whose id is v[0..len), or NULL. Compares in constant time per slot. */
static struct session *session_find(struct front *f, const char *v, size_t len)
{
    if (len != SESSION_ID_LEN)
        return NULL;
    for (size_t i = 0; i < MCPC_REF_HTTP_MAX_SESSIONS; i++) {
        struct session *ss = &f->sessions[i];
        unsigned char diff = 0;
        if (!ss->s)
            continue;
        for (size_t k = 0; k < SESSION_ID_LEN; k++)
            diff |= (unsigned char)(ss->id[k] ^ v[k]);
        if (diff == 0)
            return ss;
    }
    return NULL;
}

/* End a session and free its state. */
static void session_drop(struct session *ss)
{
    server_free(ss->s);
    memset(ss, 0, sizeof *ss);
}

/* Register s (ownership passes) as a new session; the least recently used one makes room
 * when the table is full. Returns the slot, or NULL (s freed) when no id could be made. */
static struct session *session_add(struct front *f, struct mcpc_ref_server *s)
{
    struct session *slot = NULL;

    for (size_t i = 0; i < MCPC_REF_HTTP_MAX_SESSIONS; i++) {
        struct session *ss = &f->sessions[i];
        if (!ss->s) {
            slot = ss;
            break;
        }
        if (!slot || ss->last_use < slot->last_use)
            slot = ss;
    }
    if (slot->s) {
        fprintf(stderr, "refserver: %d sessions open, ending the least recently used one\n",
                MCPC_REF_HTTP_MAX_SESSIONS);
        session_drop(slot);
    }
    /* weak-session-ids flaw: a counter, which anyone can guess from their own id */
    if (s->flaw[MCPC_REF_FLAW_WEAK_SESSION_IDS])
        snprintf(slot->id, sizeof slot->id, "%0*lx", SESSION_ID_LEN, ++f->minted);
    else if (new_session_id(slot->id) != MCPC_OK) {
        fprintf(stderr, "refserver: no random bytes for a session id\n");
        server_free(s);
        memset(slot, 0, sizeof *slot);
        return NULL;
    }
    slot->s = s;
    slot->last_use = ++f->uses;
    return slot;
}

/* ---- dispatching one message ---------------------------------------------------------------- */

/* mcpc_ref_emit_fn: collect output lines into the struct out_buf in ctx. */
static void collect_emit(void *ctx, const char *bytes, size_t len)
{
    struct out_buf *o = ctx;

    if (o->overflow)
        return;
    if (len > MAX_OUTPUT - o->len) {
        o->overflow = true;
        return;
    }
    if (o->len + len > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        char *np;
        while (cap < o->len + len)
            cap *= 2;
        if (!(np = realloc(o->p, cap))) {
            o->overflow = true;
            return;
        }
        o->p = np;
        o->cap = cap;
    }
    memcpy(o->p + o->len, bytes, len);
    o->len += len;
}

/* mcpc_listener_done_fn: the answer that a flaw wanted to be the last one is out; wake the
 * main loop so that it exits. ctx is the struct front. */
static void exit_after_answer(void *ctx, bool delivered)
{
    struct front *f = ctx;
    ssize_t w;

    do
        w = write(f->wake_w, "X", 1);
    while (w < 0 && errno == EINTR);
}

/* The HTTP status for a one-line answer: the JSON-RPC errors that the transport maps to a
 * status (2026-07-28 streamable HTTP; -32700/-32600 as 400 in both eras). */
static unsigned status_for_line(const char *line, size_t len, bool modern, bool meta_incomplete)
{
    json_t *v = json_loadb(line, len, 0, NULL);
    json_t *code = json_object_get(json_object_get(v, "error"), "code");
    json_int_t c = json_is_integer(code) ? json_integer_value(code) : 0;
    unsigned status = 200;

    if (c == MCPC_RPC_PARSE_ERROR || c == MCPC_RPC_INVALID_REQUEST)
        status = 400;
    else if (c == MCPC_RPC_METHOD_NOT_FOUND && modern)
        status = 404;
    else if (c == MCPC_RPC_INVALID_PARAMS && modern && meta_incomplete)
        status = 400;
    else if (c == MCPC_RPC_HEADER_MISMATCH || c == MCPC_RPC_MISSING_CLIENT_CAP ||
             c == MCPC_RPC_UNSUPPORTED_VERSION)
        status = 400;
    json_decref(v);
    return status;
}

/* Serve body[0..len) on st and turn the dispatcher's lines into the answer. modern and
 * meta_incomplete choose the status of a one-line error answer. */
static mcpc_err dispatch(struct front *f, struct mcpc_ref_server *st, const char *body,
                         size_t len, bool modern, bool meta_incomplete,
                         mcpc_listener_response *res)
{
    struct out_buf ob = { NULL, 0, 0, false };
    size_t lines = 0, start = 0;
    mcpc_err rc;

    st->inbound_token = f->token;         /* for fetch_report (token-passthrough flaw) */
    if (mcpc_ref_handle_line(st, body, len, collect_emit, &ob) != MCPC_OK)
        fprintf(stderr, "refserver: out of memory answering a request\n");
    st->inbound_token = NULL;
    if (ob.overflow) {
        rc = MCPC_ERR_TOO_BIG;
        goto out;
    }
    if (st->exit_status >= 0) {
        /* die-on-parse-error: exit once this answer is out, as the stdio server does. */
        f->exit_status = st->exit_status;
        res->done = exit_after_answer;
        res->done_ctx = f;
    }
    /* The dispatcher emits whole lines; count an unterminated tail as a line all the same. */
    for (size_t i = 0; i < ob.len; i++)
        if (ob.p[i] == '\n' || i + 1 == ob.len)
            lines++;
    if (lines == 0) {
        /* notification-200 flaw: an answer with a body where there must be 202 and none */
        if (st->flaw[MCPC_REF_FLAW_NOTIFICATION_200])
            rc = mcpc_listener_response_set(res, 200, "text/plain; charset=utf-8", "ok\n", 3);
        else
            rc = mcpc_listener_response_set(res, 202, NULL, NULL, 0);
        goto out;
    }
    if (lines == 1) {
        size_t n = ob.p[ob.len - 1] == '\n' ? ob.len - 1 : ob.len;
        rc = mcpc_listener_response_set(res, status_for_line(ob.p, n, modern, meta_incomplete),
                                        "application/json", ob.p, n);
        goto out;
    }
    rc = MCPC_OK;
    for (size_t i = 0; i < ob.len && rc == MCPC_OK; i++) {
        if (ob.p[i] != '\n' && i + 1 < ob.len)
            continue;
        rc = mcpc_listener_response_event(res, NULL, NULL, ob.p + start,
                                          (ob.p[i] == '\n' ? i : i + 1) - start);
        start = i + 1;
    }
out:
    free(ob.p);
    return rc;
}

/* meta-optional flaw: a lenient server that takes the version from the MCP-Protocol-Version
 * header and assumes no client capabilities. Returns the message with those _meta fields
 * added (malloc'd JSON text, *len bytes), or NULL (no memory, or params not an object). */
static char *with_header_meta(const struct post_info *pi, size_t *len)
{
    json_t *copy = json_deep_copy(pi->m.root), *params, *meta;
    char *text = NULL;

    if (!copy)
        return NULL;
    params = json_object_get(copy, "params");
    if (!params) {
        if (json_object_set_new(copy, "params", json_object()) != 0)
            goto out;
        params = json_object_get(copy, "params");
    }
    if (!json_is_object(params))
        goto out;
    meta = json_object_get(params, "_meta");
    if (!json_is_object(meta)) {
        if (json_object_set_new(params, "_meta", json_object()) != 0)
            goto out;
        meta = json_object_get(params, "_meta");
    }
    if (json_object_set_new(meta, MCPC_REF_META_PROTOCOL,
                            json_stringn(pi->pv->value, pi->pv->value_len)) != 0 ||
        json_object_set_new(meta, MCPC_REF_META_CLIENT_CAPS, json_object()) != 0)
        goto out;
    text = mcpc_jsonrpc_dump(copy, 0, len);
out:
    json_decref(copy);
    return text;
}

/* ---- 2026-07-28: header checks, then the shared state --------------------------------------- */

/* Compare the standard header `name` with the body's value want[0..want_len) (want NULL: the
 * body has none; source names it for the message). Returns NULL when they agree, or when the
 * header is absent and not required; else the reason, written into why. decode: the header
 * may use the =?base64?...?= form (Mcp-Name). */
static const char *mirror_problem(const mcpc_listener_request *req, const char *name,
                                  const char *source, const char *want, size_t want_len,
                                  bool required, bool decode, char *why, size_t whylen)
{
    size_t n = 0, got_len;
    const mcpc_listener_header *h = mcpc_listener_header_find(req, name, &n);
    char show[128], *decoded = NULL;
    const char *got, *problem = NULL;

    if (n > 1) {
        snprintf(why, whylen, "the %s header is given %zu times", name, n);
        return why;
    }
    if (!h) {
        if (!required)
            return NULL;
        snprintf(why, whylen, "the %s header is required (it must equal %s)", name, source);
        return why;
    }
    if (!plain_ascii(h->value, h->value_len)) {
        snprintf(why, whylen, "the %s header has invalid characters (values that are not "
                 "plain ASCII must use the =?base64?...?= form)", name);
        return why;
    }
    got = h->value;
    got_len = h->value_len;
    if (decode && got_len >= 11 && strncmp(got, "=?base64?", 9) == 0 &&
        strncmp(got + got_len - 2, "?=", 2) == 0) {
        if (!(decoded = base64_decode(got + 9, got_len - 11, &got_len))) {
            snprintf(why, whylen, "the %s header is not valid =?base64?...?=", name);
            return why;
        }
        got = decoded;
    }
    if (!want || got_len != want_len || memcmp(got, want, want_len) != 0) {
        char body[128];
        printable(show, sizeof show, got, got_len);
        if (want)
            snprintf(why, whylen, "%s header value '%s' does not match %s '%s'", name, show,
                     source, printable(body, sizeof body, want, want_len));
        else
            snprintf(why, whylen, "%s header value '%s' but %s is absent", name, show, source);
        problem = why;
    }
    free(decoded);
    return problem;
}

/* Refuse the request with 400 + -32020 (HeaderMismatch) for the reason why. */
static mcpc_err refuse_mismatch(const mcpc_listener_request *req, const struct post_info *pi,
                                const char *why, mcpc_listener_response *res)
{
    log_refusal(req, 400, "%s", why);
    return reply_error(res, 400, pi->id, MCPC_RPC_HEADER_MISMATCH, "Header mismatch: %s", why);
}

/* modern-session-id flaw: put an Mcp-Session-Id on a 2026-07-28 answer, the client's own when
 * it sent a plain one (echoed), else a fixed one (minted). */
static mcpc_err echo_session_id(const mcpc_listener_request *req, mcpc_listener_response *res)
{
    size_t n = 0;
    const mcpc_listener_header *sid = mcpc_listener_header_find(req, "Mcp-Session-Id", &n);
    char copy[SESSION_ID_LEN + 1];

    if (n == 1 && sid->value_len > 0 && sid->value_len <= SESSION_ID_LEN &&
        plain_ascii(sid->value, sid->value_len) && !has_ctl(sid->value, sid->value_len)) {
        memcpy(copy, sid->value, sid->value_len);
        copy[sid->value_len] = '\0';
        return mcpc_listener_response_header(res, "Mcp-Session-Id", copy);
    }
    return mcpc_listener_response_header(res, "Mcp-Session-Id", "0123456789abcdef0123456789abcdef");
}

/* Serve a 2026-07-28 message: the standard headers must mirror the body (400 + -32020 and
 * nothing executed otherwise), then the shared state answers. */
static mcpc_err serve_modern(struct front *f, const mcpc_listener_request *req,
                             struct post_info *pi, mcpc_listener_response *res)
{
    const mcpc_msg *m = &pi->m;
    bool request = m->kind == MCPC_MSG_REQUEST, meta_incomplete;
    bool no_meta = request && !pi->body_pv && !pi->body_caps;
    const char *name_key = NULL, *problem;
    json_t *name_val = NULL;
    char why[400];
    mcpc_err rc;

    if (m->kind == MCPC_MSG_RESULT || m->kind == MCPC_MSG_ERROR) {
        log_refusal(req, 400, "a JSON-RPC response was posted");
        return reply_error(res, 400, NULL, MCPC_RPC_INVALID_REQUEST,
                           "Invalid Request: a %s client must not send JSON-RPC responses",
                           MCPC_REF_MODERN_VERSION);
    }
    /* A request with neither per-request _meta field: that is the defect named (-32602, as
     * over stdio), whatever the headers say; nothing has been executed. */
    if (no_meta && !f->shared->flaw[MCPC_REF_FLAW_META_OPTIONAL]) {
        log_refusal(req, 400, "%s without _meta", m->method);
        return reply_error(res, 400, pi->id, MCPC_RPC_INVALID_PARAMS,
                           "Invalid params: a %s request needs params._meta[\"%s\"] and "
                           "params._meta[\"%s\"]", MCPC_REF_MODERN_VERSION,
                           MCPC_REF_META_PROTOCOL, MCPC_REF_META_CLIENT_CAPS);
    }
    /* MCP-Protocol-Version: present on every request, plain, equal to _meta. Its value is
     * judged by the dispatcher (-32022 with the supported versions) once header and body
     * agree. */
    if (pi->n_pv > 1) {
        snprintf(why, sizeof why, "the MCP-Protocol-Version header is given %zu times",
                 pi->n_pv);
        return refuse_mismatch(req, pi, why, res);
    }
    if (!pi->pv && request && !f->shared->flaw[MCPC_REF_FLAW_VERSION_HEADER_UNCHECKED]) {
        snprintf(why, sizeof why, "the MCP-Protocol-Version header is required on every %s "
                 "request", MCPC_REF_MODERN_VERSION);
        return refuse_mismatch(req, pi, why, res);
    }
    if (pi->pv && json_is_string(pi->body_pv) &&
        (problem = mirror_problem(req, "MCP-Protocol-Version",
                                  "params._meta[\"" MCPC_REF_META_PROTOCOL "\"]",
                                  json_string_value(pi->body_pv),
                                  json_string_length(pi->body_pv), true, false, why,
                                  sizeof why)))
        return refuse_mismatch(req, pi, problem, res);
    if (pi->pv && !plain_ascii(pi->pv->value, pi->pv->value_len)) {
        snprintf(why, sizeof why, "the MCP-Protocol-Version header has invalid characters");
        return refuse_mismatch(req, pi, why, res);
    }
    /* Mcp-Method on every request (must equal method); on a notification, checked if sent.
     * The header-desync flaw compares neither Mcp-Method nor Mcp-Name: the body is served. */
    if (!f->shared->flaw[MCPC_REF_FLAW_HEADER_DESYNC] &&
        (problem = mirror_problem(req, "Mcp-Method", "the body's method", m->method,
                                  strlen(m->method), request, false, why, sizeof why)))
        return refuse_mismatch(req, pi, problem, res);
    /* Mcp-Name on tools/call, prompts/get (params.name) and resources/read (params.uri). */
    if (request && (strcmp(m->method, "tools/call") == 0 || strcmp(m->method, "prompts/get") == 0))
        name_key = "name";
    else if (request && strcmp(m->method, "resources/read") == 0)
        name_key = "uri";
    if (name_key && !f->shared->flaw[MCPC_REF_FLAW_HEADER_DESYNC]) {
        name_val = pi->params ? json_object_get(pi->params, name_key) : NULL;
        /* Required when the body has the value; a body without it is the dispatcher's
         * -32602, unless the header claims a value the body does not have. */
        if ((problem = mirror_problem(req, "Mcp-Name",
                                      strcmp(name_key, "name") == 0 ? "params.name"
                                                                    : "params.uri",
                                      json_is_string(name_val) ? json_string_value(name_val)
                                                               : NULL,
                                      json_is_string(name_val) ? json_string_length(name_val)
                                                               : 0,
                                      json_is_string(name_val), true, why, sizeof why)))
            return refuse_mismatch(req, pi, problem, res);
    }
    /* meta-optional flaw, a request without _meta: the dispatcher would take it for a
     * legacy one, so give it the header's version (the header is there and plain by now). */
    if (no_meta) {
        char *text;
        size_t len = 0;

        if (!(text = with_header_meta(pi, &len)))
            return reply_error(res, 400, pi->id, MCPC_RPC_INVALID_PARAMS,
                               "Invalid params: params must be an object");
        rc = dispatch(f, f->shared, text, len, true, false, res);
        free(text);
        return rc;
    }
    meta_incomplete = request && !(json_is_string(pi->body_pv) && json_is_object(pi->body_caps));
    rc = dispatch(f, f->shared, req->body, req->body_len, true, meta_incomplete, res);
    /* modern-session-id flaw: a stateless answer that carries a session id all the same */
    if (rc == MCPC_OK && f->shared->flaw[MCPC_REF_FLAW_MODERN_SESSION_ID])
        rc = echo_session_id(req, res);
    return rc;
}

/* ---- 2025-11-25: sessions ------------------------------------------------------------------- */

/* Serve a 2025-11-25 message: initialize opens a session, everything else needs one. */
static mcpc_err serve_legacy(struct front *f, const mcpc_listener_request *req,
                             struct post_info *pi, mcpc_listener_response *res)
{
    const mcpc_msg *m = &pi->m;
    bool initialize = m->kind == MCPC_MSG_REQUEST && strcmp(m->method, "initialize") == 0;
    size_t n_sid = 0;
    const mcpc_listener_header *sid = mcpc_listener_header_find(req, "Mcp-Session-Id", &n_sid);
    struct session *ss;
    char show[128];
    mcpc_err rc;

    if (pi->n_pv > 1) {
        log_refusal(req, 400, "MCP-Protocol-Version given %zu times", pi->n_pv);
        return reply_error(res, 400, pi->id, MCPC_RPC_INVALID_REQUEST,
                           "Bad Request: MCP-Protocol-Version header given %zu times", pi->n_pv);
    }
    /* No header: assume 2025-03-26 behaviour, which for us is the same service. The header
     * belongs to the requests after initialize: on initialize itself a client may announce
     * any version, and gets the counter-offer in the result, not a 400. */
    if (pi->pv && !header_is(pi->pv, MCPC_REF_LEGACY_VERSION) &&
        !header_is(pi->pv, MCPC_REF_LEGACY_OLDER) && !initialize &&
        !f->shared->flaw[MCPC_REF_FLAW_VERSION_HEADER_UNCHECKED]) {
        printable(show, sizeof show, pi->pv->value, pi->pv->value_len);
        log_refusal(req, 400, "unsupported MCP-Protocol-Version '%s'", show);
        return reply_error(res, 400, pi->id, MCPC_RPC_INVALID_REQUEST,
                           "Bad Request: unsupported MCP-Protocol-Version '%s' (supported: %s, "
                           "%s, %s)", show, MCPC_REF_MODERN_VERSION, MCPC_REF_LEGACY_VERSION,
                           MCPC_REF_LEGACY_OLDER);
    }
    if (n_sid > 1) {
        log_refusal(req, 400, "Mcp-Session-Id given %zu times", n_sid);
        return reply_error(res, 400, pi->id, MCPC_RPC_INVALID_REQUEST,
                           "Bad Request: Mcp-Session-Id header given %zu times", n_sid);
    }
    if (initialize) {
        /* A new session each time, whatever session id came along: a client starts over
         * with a fresh initialize. */
        struct mcpc_ref_server *s = server_new(f->shared);
        if (!s)
            return MCPC_ERR_NOMEM;
        rc = dispatch(f, s, req->body, req->body_len, false, false, res);
        if (rc != MCPC_OK || !s->initialized) {
            server_free(s);
            return rc;
        }
        if (!(ss = session_add(f, s)))
            return MCPC_ERR_IO;
        fprintf(stderr, "refserver: session %.8s... opened for %s\n", ss->id, req->client);
        return mcpc_listener_response_header(res, "Mcp-Session-Id", ss->id);
    }
    if (!sid) {
        /* Only requests need the session. A notification or a response without one carries
         * no state (a 2026-07-28 notification without headers looks just like this) and is
         * consumed on the shared state: 202. Under the pre-init flaw requests are served
         * there too (the shared state never saw initialize). */
        if (m->kind != MCPC_MSG_REQUEST || f->shared->flaw[MCPC_REF_FLAW_PRE_INIT])
            return dispatch(f, f->shared, req->body, req->body_len, false, false, res);
        log_refusal(req, 400, "no Mcp-Session-Id");
        return reply_error(res, 400, pi->id, MCPC_RPC_INVALID_REQUEST,
                           "Bad Request: missing Mcp-Session-Id header: send initialize first "
                           "(%s), or, as a %s client, give every request params._meta[\"%s\"] "
                           "and the MCP-Protocol-Version header", MCPC_REF_LEGACY_VERSION,
                           MCPC_REF_MODERN_VERSION, MCPC_REF_META_PROTOCOL);
    }
    if (!(ss = session_find(f, sid->value, sid->value_len))) {
        log_refusal(req, 404, "unknown session");
        return reply_error(res, 404, pi->id, MCPC_RPC_INVALID_REQUEST,
                           "Session not found: unknown or expired Mcp-Session-Id; start a new "
                           "session with initialize");
    }
    ss->last_use = ++f->uses;
    return dispatch(f, ss->s, req->body, req->body_len, false, false, res);
}

/* ---- the request handler -------------------------------------------------------------------- */

/* A body that is not a valid message (not JSON, not a message, a batch): the dispatcher
 * words the error (-32700 or -32600, with the id when readable) and the answer is 400. */
static mcpc_err serve_invalid(struct front *f, const mcpc_listener_request *req,
                              const struct post_info *pi, mcpc_listener_response *res)
{
    struct mcpc_ref_server *st = f->shared;
    const mcpc_listener_header *sid;
    struct session *ss;
    size_t n_sid = 0, i;

    /* The dispatcher ignores blank lines; an empty body is answered here. */
    for (i = 0; i < req->body_len; i++)
        if (req->body[i] != ' ' && req->body[i] != '\t' && req->body[i] != '\r' &&
            req->body[i] != '\n')
            break;
    if (i == req->body_len)
        return reply_error(res, 400, NULL, MCPC_RPC_PARSE_ERROR,
                           "Parse error: the POST body is empty");
    /* In a 2025-11-25 session the session's state answers, as the one stdio state would: the
     * flaws that repair invalid messages (lax-version, null-id) serve them there. */
    sid = mcpc_listener_header_find(req, "Mcp-Session-Id", &n_sid);
    if (!pi->modern && n_sid == 1 && (ss = session_find(f, sid->value, sid->value_len))) {
        ss->last_use = ++f->uses;
        st = ss->s;
    }
    return dispatch(f, st, req->body, req->body_len, pi->modern, false, res);
}

/* POST /mcp: parse the body, choose the era, serve. */
static mcpc_err serve_post(struct front *f, const mcpc_listener_request *req,
                           mcpc_listener_response *res)
{
    struct post_info pi;
    const mcpc_listener_header *ct;
    size_t n_ct = 0;
    json_t *meta;
    char show[128];
    mcpc_err rc;

    memset(&pi, 0, sizeof pi);
    ct = mcpc_listener_header_find(req, "Content-Type", &n_ct);
    if (ct && (n_ct > 1 || !is_json_type(ct->value, ct->value_len))) {
        printable(show, sizeof show, ct->value, ct->value_len);
        log_refusal(req, 415, "Content-Type '%s'", show);
        return reply_error(res, 415, NULL, MCPC_RPC_INVALID_REQUEST,
                           "Unsupported Media Type: '%s'; POST one JSON-RPC message as "
                           "application/json", show);
    }
    pi.valid = mcpc_jsonrpc_parse(req->body, req->body_len, 0, &pi.m) == MCPC_OK;
    if (pi.valid) {
        if (pi.m.kind == MCPC_MSG_REQUEST)
            pi.id = pi.m.id;
        pi.params = json_is_object(pi.m.params) ? pi.m.params : NULL;
        meta = pi.params ? json_object_get(pi.params, "_meta") : NULL;
        if (json_is_object(meta)) {
            pi.body_pv = json_object_get(meta, MCPC_REF_META_PROTOCOL);
            pi.body_caps = json_object_get(meta, MCPC_REF_META_CLIENT_CAPS);
        }
    }
    pi.pv = mcpc_listener_header_find(req, "MCP-Protocol-Version", &pi.n_pv);
    pi.modern = pi.body_pv || pi.body_caps || header_is(pi.pv, MCPC_REF_MODERN_VERSION) ||
                (pi.valid && pi.m.method && strcmp(pi.m.method, "server/discover") == 0);

    /* Control characters cannot be part of any header value we accept (CR and LF never get
     * this far: the listener refuses them). */
    for (size_t i = 0; i < req->n_headers; i++) {
        if (!has_ctl(req->headers[i].value, req->headers[i].value_len))
            continue;
        log_refusal(req, 400, "control character in %s", req->headers[i].name);
        rc = reply_error(res, 400, pi.id,
                         pi.modern ? MCPC_RPC_HEADER_MISMATCH : MCPC_RPC_INVALID_REQUEST,
                         "%s: the %s header has a control character",
                         pi.modern ? "Header mismatch" : "Bad Request", req->headers[i].name);
        goto out;
    }
    if (!pi.valid) {
        rc = serve_invalid(f, req, &pi, res);
        goto out;
    }
    rc = pi.modern ? serve_modern(f, req, &pi, res) : serve_legacy(f, req, &pi, res);
out:
    mcpc_msg_clear(&pi.m);
    return rc;
}

/* DELETE /mcp: end a 2025-11-25 session (2026-07-28 has none: 405). */
static mcpc_err serve_delete(struct front *f, const mcpc_listener_request *req,
                             mcpc_listener_response *res)
{
    size_t n_sid = 0, n_pv = 0;
    const mcpc_listener_header *sid = mcpc_listener_header_find(req, "Mcp-Session-Id", &n_sid);
    const mcpc_listener_header *pv = mcpc_listener_header_find(req, "MCP-Protocol-Version",
                                                               &n_pv);
    struct session *ss;
    mcpc_err rc;

    if (header_is(pv, MCPC_REF_MODERN_VERSION)) {
        log_refusal(req, 405, "DELETE in %s", MCPC_REF_MODERN_VERSION);
        if ((rc = mcpc_listener_response_header(res, "Allow", ALLOW_METHODS)) != MCPC_OK)
            return rc;
        return reply_error(res, 405, NULL, MCPC_RPC_INVALID_REQUEST,
                           "Method Not Allowed: %s has no sessions to delete",
                           MCPC_REF_MODERN_VERSION);
    }
    if (!sid || n_sid > 1) {
        log_refusal(req, 400, "DELETE without one Mcp-Session-Id");
        return reply_error(res, 400, NULL, MCPC_RPC_INVALID_REQUEST,
                           "Bad Request: DELETE needs exactly one Mcp-Session-Id header");
    }
    if (!(ss = session_find(f, sid->value, sid->value_len))) {
        log_refusal(req, 404, "DELETE of an unknown session");
        return reply_error(res, 404, NULL, MCPC_RPC_INVALID_REQUEST,
                           "Session not found: unknown or expired Mcp-Session-Id");
    }
    fprintf(stderr, "refserver: session %.8s... deleted by %s\n", ss->id, req->client);
    /* session-survives-delete flaw: 204 all the same, but the session goes on */
    if (!f->shared->flaw[MCPC_REF_FLAW_SESSION_SURVIVES_DELETE])
        session_drop(ss);
    return mcpc_listener_response_set(res, 204, NULL, NULL, 0);
}

/* Route an MCP request that may be served, by method. */
static mcpc_err serve_authorised(struct front *f, const mcpc_listener_request *req,
                                 mcpc_listener_response *res)
{
    mcpc_err rc;

    if (strcmp(req->method, "POST") == 0)
        return serve_post(f, req, res);
    if (strcmp(req->method, "DELETE") == 0)
        return serve_delete(f, req, res);
    log_refusal(req, 405, "method not allowed");
    if ((rc = mcpc_listener_response_header(res, "Allow", ALLOW_METHODS)) != MCPC_OK)
        return rc;
    return reply_error(res, 405, NULL, MCPC_RPC_INVALID_REQUEST,
                       "Method Not Allowed: %s; this server offers no standalone SSE stream, "
                       "POST JSON-RPC messages to %s", req->method, MCPC_REF_HTTP_PATH);
}

/* mcpc_listener_handler: transport security, then route by path and method. ctx is the
 * struct front. */
static mcpc_err on_request(void *ctx, const mcpc_listener_request *req,
                           mcpc_listener_response *res)
{
    struct front *f = ctx;
    const mcpc_listener_header *h;
    size_t n = 0;
    char show[128];
    mcpc_err rc;

    /* DNS rebinding: a page on evil.example that resolved to 127.0.0.1 still sends its own
     * Host (and Origin). Without a Host (HTTP/1.0) there is nothing to rebind. */
    h = mcpc_listener_header_find(req, "Host", &n);
    if (h && !f->shared->flaw[MCPC_REF_FLAW_HOST_UNCHECKED] &&
        !is_local_authority(h->value, h->value_len, f->port)) {
        printable(show, sizeof show, h->value, h->value_len);
        log_refusal(req, 403, "Host '%s'", show);
        return reply_error(res, 403, NULL, MCPC_RPC_INVALID_REQUEST,
                           "Forbidden: Host '%s' is not this server (127.0.0.1:%u, "
                           "localhost:%u or [::1]:%u)", show, f->port, f->port, f->port);
    }
    h = mcpc_listener_header_find(req, "Origin", &n);
    if (h && !f->shared->flaw[MCPC_REF_FLAW_ORIGIN_UNCHECKED] &&
        (n > 1 || !is_local_origin(h->value, h->value_len, f->port))) {
        if (n > 1) {
            log_refusal(req, 403, "%zu Origin headers", n);
            return reply_error(res, 403, NULL, MCPC_RPC_INVALID_REQUEST,
                               "Forbidden: %zu Origin headers", n);
        }
        printable(show, sizeof show, h->value, h->value_len);
        log_refusal(req, 403, "Origin '%s'", show);
        return reply_error(res, 403, NULL, MCPC_RPC_INVALID_REQUEST,
                           "Forbidden: Origin '%s' is not allowed (only http://127.0.0.1:%u, "
                           "http://localhost:%u or http://[::1]:%u)", show, f->port, f->port,
                           f->port);
    }
    /* OAuth: the protected resource metadata is public; every MCP request passes the gate
     * (401/403 and nothing run) before its transport rules are even looked at. */
    if (f->auth && !f->auth->prm_url) {
        static const char text[] = "503 starting\n";   /* our port is not published yet */
        return mcpc_listener_response_set(res, 503, "text/plain; charset=utf-8", text,
                                          sizeof text - 1);
    }
    if (f->auth && mcpc_ref_auth_metadata(f->auth, req, res, &rc))
        return rc;
    if (strcmp(req->path, MCPC_REF_HTTP_PATH) != 0) {
        static const char text[] = "404 not found: the MCP endpoint is " MCPC_REF_HTTP_PATH "\n";
        return mcpc_listener_response_set(res, 404, "text/plain; charset=utf-8", text,
                                          sizeof text - 1);
    }
    if (f->auth) {
        bool refused = true;
        char *token = NULL;
        if ((rc = mcpc_ref_auth_gate(f->auth, f->shared, req, res, &refused, &token)) != MCPC_OK ||
            refused)
            return rc;
        f->token = token;
        rc = serve_authorised(f, req, res);
        f->token = NULL;
        free(token);
        return rc;
    }
    return serve_authorised(f, req, res);
}

/* ---- the main loop -------------------------------------------------------------------------- */

/* SIGINT/SIGTERM: wake the main loop (async-signal-safe: one write). */
static void on_signal(int sig)
{
    int saved = errno;

    if (signal_wake_fd >= 0 && write(signal_wake_fd, "T", 1) < 0) {
        /* nothing to do: the pipe is full, so the main loop is being woken anyway */
    }
    errno = saved;
}

/* Wait for a reason to stop. Returns 'T' (signal), 'X' (exit request) or 'E' (stdin EOF). */
static int wait_for_stop(int wake_r, bool stop_on_eof)
{
    bool watch_stdin = true;
    char buf[4096];

    for (;;) {
        struct pollfd p[2] = { { wake_r, POLLIN, 0 }, { STDIN_FILENO, POLLIN, 0 } };
        nfds_t nfds = watch_stdin ? 2 : 1;

        if (poll(p, nfds, -1) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "refserver: poll: %s\n", strerror(errno));
            return 'T';
        }
        if (p[0].revents) {
            char c = 'T';
            if (read(wake_r, &c, 1) == 1 && (c == 'T' || c == 'X'))
                return c;
            return 'T';
        }
        if (watch_stdin && (p[1].revents & POLLNVAL)) {
            /* fd 0 is not open: there is no stdin to close, so it cannot stop us. */
            watch_stdin = false;
            continue;
        }
        if (watch_stdin && p[1].revents) {
            ssize_t got = read(STDIN_FILENO, buf, sizeof buf);   /* input is ignored */
            if (got < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (got <= 0) {
                if (stop_on_eof)
                    return 'E';
                watch_stdin = false;          /* ignore-eof flaw: keep serving */
            }
        }
    }
}

/* Serve s over HTTP until told to stop. */
int mcpc_ref_http_serve(struct mcpc_ref_server *s, unsigned port)
{
    struct front *f = NULL;
    mcpc_http_listener *l = NULL;
    mcpc_listener_opts o;
    struct sigaction sa;
    sigset_t block, old;
    int pipefd[2] = { -1, -1 }, status = 1, why;
    char err[256];
    mcpc_err rc;

    if (!(f = calloc(1, sizeof *f))) {
        fprintf(stderr, "refserver: out of memory\n");
        return 1;
    }
    f->shared = s;
    f->port = port;                       /* the handler's Host/Origin checks need it at once */
    f->exit_status = -1;
    /* MCPCERT_AUTH_ISSUER set: an OAuth resource server (docs/auth.md); the JWKS is fetched
     * now, before any thread runs */
    if (mcpc_ref_auth_new(s, port, &f->auth, err, sizeof err) != MCPC_OK) {
        fprintf(stderr, "refserver: OAuth configuration: %s\n", err);
        status = 2;
        goto out;
    }
    s->auth = f->auth;
    if (pipe(pipefd) != 0) {
        fprintf(stderr, "refserver: pipe: %s\n", strerror(errno));
        goto out;
    }
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(pipefd[i], F_GETFL);
        (void)fcntl(pipefd[i], F_SETFD, FD_CLOEXEC);
        /* The write end must never block the listener thread or a signal handler. */
        if (i == 1 && fl >= 0)
            (void)fcntl(pipefd[i], F_SETFL, fl | O_NONBLOCK);
    }
    f->wake_w = pipefd[1];

    /* The listener's thread inherits this mask: SIGINT/SIGTERM then reach the main thread. */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    mcpc_listener_opts_default(&o);
    o.max_body = MCPC_REF_MAX_LINE;       /* the same 4 MiB bound as a stdio line */
    o.log_errors = 1;
    rc = mcpc_listener_start("127.0.0.1", port, on_request, f, &o, &l, err, sizeof err);
    if (rc != MCPC_OK) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        fprintf(stderr, "refserver: cannot listen on 127.0.0.1:%u: %s\n", port, err);
        goto out;
    }
    /* An ephemeral port is known only now; the listener is already accepting, so take the
     * handler's lock to publish it. */
    mcpc_listener_lock(l);
    f->port = mcpc_listener_port(l);
    if (f->auth && mcpc_ref_auth_set_port(f->auth, f->port) != MCPC_OK)
        fprintf(stderr, "refserver: out of memory configuring OAuth\n");
    mcpc_listener_unlock(l);
    if (f->auth && f->auth->prm_url)
        fprintf(stderr, "refserver: OAuth resource server: resource %s, issuer %s, metadata "
                "%s%s\n", f->auth->resource, f->auth->issuer, f->auth->prm_url,
                f->auth->upstream ? ", fetch_report on" : "");

    signal_wake_fd = pipefd[1];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    fprintf(stderr, "refserver: listening on http://127.0.0.1:%u%s (exits on SIGTERM, SIGINT "
            "or EOF on stdin)\n", f->port, MCPC_REF_HTTP_PATH);
    if (printf("listening on http://127.0.0.1:%u%s\n", f->port, MCPC_REF_HTTP_PATH) < 0 ||
        fflush(stdout) != 0)
        fprintf(stderr, "refserver: writing stdout: %s\n", strerror(errno));

    why = wait_for_stop(pipefd[0], !s->flaw[MCPC_REF_FLAW_IGNORE_EOF]);
    fprintf(stderr, "refserver: %s, stopping\n",
            why == 'T' ? "signal" : why == 'X' ? "exit requested" : "stdin closed");
    mcpc_listener_stop(l);                /* joins the thread: the state is ours again */
    status = why == 'X' && f->exit_status >= 0 ? f->exit_status : 0;
out:
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal_wake_fd = -1;
    for (size_t i = 0; i < MCPC_REF_HTTP_MAX_SESSIONS; i++)
        if (f->sessions[i].s)
            session_drop(&f->sessions[i]);
    s->auth = NULL;
    mcpc_ref_auth_free(f->auth);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    free(f);
    return status;
}
