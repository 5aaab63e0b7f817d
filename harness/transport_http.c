/* Streamable HTTP client transport on libcurl's multi interface.
 *
 * Each send starts one POST in the client's multi handle and drives it until the response
 * headers are in; the body (a JSON message, or an SSE stream that may stay open) is read by
 * later recv calls, which drive every open transfer until a message is queued. Everything that
 * arrives is bounded as it arrives: header bytes, each body after decompression (a gzip bomb is
 * cut in the write callback), each SSE event, the connection's total, and the queue of messages
 * (a transfer is paused while the queue is full, so memory stays bounded however fast the
 * server writes). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "clock.h"
#include "hdrenc.h"
#include "sse.h"
#include "transport_http.h"

#define MCPC_HTTP_MAX_XFERS 8              /* transfers open at once; the oldest is dropped */
#define MCPC_HTTP_MAX_QUEUE 4096           /* queued messages before transfers are paused */
#define MCPC_HTTP_MAX_HEADERS 64           /* response headers kept for last_header */
#define MCPC_HTTP_MAX_HEADER_LINE 8192     /* longer header lines are not kept */
#define MCPC_HTTP_MAX_HEADER_BYTES (256u << 10) /* per response; more aborts the transfer */
#define MCPC_HTTP_MAX_SESSION_ID 1024
#define MCPC_HTTP_MAX_SSE_LINE (64u << 10) /* event:, id:, retry: values */
#define MCPC_HTTP_IDLE_SECONDS 30L         /* a stream under 1 byte/s for this long is dropped */
#define MCPC_HTTP_MODERN "2026-07-28"
#define MCPC_META_PROTOCOL_VERSION "io.modelcontextprotocol/protocolVersion"

/* What a response body is, decided from its status and Content-Type. */
enum { MCPC_HTTP_BODY_NONE, MCPC_HTTP_BODY_JSON, MCPC_HTTP_BODY_SSE };

typedef struct {
    mcpc_err err;      /* MCPC_OK: a message; TOO_BIG: over a bound; EOF: a response cut short */
    char *data;        /* owned, NUL-terminated; NULL for TOO_BIG */
    size_t len;        /* bytes of data; for TOO_BIG, the bytes counted when the bound was hit */
    char *why;         /* owned: for an error, what went wrong, in one line; or NULL */
} mcpc_http_item;

typedef struct mcpc_http_xfer {
    struct mcpc_http *h;
    struct mcpc_http_xfer *next;
    CURL *easy;
    struct curl_slist *req_hdrs;
    size_t req_len;
    int is_delete;
    int hint;          /* body kind from the Content-Type seen so far */
    int kind;          /* body kind, once the final headers are in */
    int final;         /* the final (non-1xx) response headers are complete */
    int paused;        /* the write callback paused it: the queue was full */
    int stopped;       /* a bound was hit (and reported): the transfer is being aborted */
    int hdr_too_big;
    int owes;          /* the POST carried a JSON-RPC request: its answer must carry a message */
    unsigned interim;  /* 1xx responses before the final one */
    char encoding[32]; /* Content-Encoding of the final response, printable, "" when none */
    char errbuf[CURL_ERROR_SIZE]; /* libcurl's account of a failure */
    size_t hdr_bytes, body_total;
    char *body;        /* a JSON body, as it arrives */
    size_t body_len, body_cap;
    mcpc_sse *sse;
} mcpc_http_xfer;

struct mcpc_http {
    mcpc_conn conn;
    mcpc_http_opts opts;
    char *proto_opt;          /* our copy of opts.protocol_version */
    char *auth;               /* our copy of opts.authorization */
    char *once_auth, *once_dpop; /* Authorization / DPoP of the next POST only (a retry) */
    char *url;
    CURLM *multi;
    mcpc_http_xfer *xfers;    /* open transfers, oldest first */
    size_t n_xfers;
    /* the transfer of the last send (or DELETE), until it ends, and how it ended */
    mcpc_http_xfer *latest;
    int latest_done;
    CURLcode latest_result;
    mcpc_err latest_bound;    /* TOO_BIG when it was aborted for a bound */
    char latest_why[320];     /* what went wrong with it, when it failed ("" otherwise) */
    char detail[320];         /* what went wrong, for the error send or recv returned last */
    /* messages for recv, oldest first (a ring) */
    mcpc_http_item *q;
    size_t q_head, q_len, q_cap;
    mcpc_http_item cur;       /* the item recv returned last; freed by the next call */
    size_t total;
    int flooded;
    char **extra;             /* extra request headers ("Name: value") */
    size_t n_extra;
    char *session_id;
    char *init_version;       /* result.protocolVersion of the initialize response */
    json_t *init_id;          /* id of an initialize request awaiting its response (owned) */
    /* the last response */
    long status;
    char *hdr_name[MCPC_HTTP_MAX_HEADERS], *hdr_value[MCPC_HTTP_MAX_HEADERS];
    size_t n_hdrs;
    char *last_body;          /* its first MCPC_HTTP_KEEP_BODY bytes (owned, grown on demand) */
    size_t last_body_len;
    int last_body_cut;        /* more bytes came than were kept */
};

void mcpc_http_opts_default(mcpc_http_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_body = 16u << 20;
    o->max_event = 4u << 20;
    o->max_total = 64u << 20;
    o->connect_timeout_ms = 3000;
    o->allow_remote = 0;
    o->protocol_version = NULL;
}

/* ---- small helpers ---------------------------------------------------------------------------- */

static void mcpc_http_fmt(char *errbuf, size_t errlen, const char *what, const char *detail)
{
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
}

/* A bound for a message: "16 MiB", "256 KiB" or "1000 bytes". */
static const char *mcpc_http_size(size_t n, char *buf, size_t buflen)
{
    if (n >= (1u << 20) && n % (1u << 20) == 0)
        snprintf(buf, buflen, "%zu MiB", n >> 20);
    else if (n >= (1u << 10) && n % (1u << 10) == 0)
        snprintf(buf, buflen, "%zu KiB", n >> 10);
    else
        snprintf(buf, buflen, "%zu bytes", n);
    return buf;
}

/* Server-chosen text (a Location, a Content-Type) made safe for a report line: printable ASCII,
 * at most 160 bytes. */
static const char *mcpc_http_printable(const char *s, char *buf, size_t buflen)
{
    size_t i = 0;
    for (; s && s[i] && i < buflen - 1 && i < 160; i++)
        buf[i] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7F ? s[i] : '?';
    buf[i] = '\0';
    if (s && s[i] && i >= 3)
        memcpy(buf + i - 3, "...", 3);
    return buf;
}

/* A new string for an item's why (NULL when out of memory: the error still gets through). */
static char *mcpc_http_why(const char *fmt, ...)
{
    char buf[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return strdup(buf);
}

static int mcpc_http_in6_loopback(const struct in6_addr *a)
{
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

/* A URL host (as curl_url returns it: IPv6 in brackets) that names this machine. */
static int mcpc_http_host_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    char buf[64];
    size_t n = strlen(host);
    if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof buf) {
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
        char *zone = strchr(buf, '%');
        if (zone)
            *zone = '\0';
        if (inet_pton(AF_INET6, buf, &a6) == 1)
            return mcpc_http_in6_loopback(&a6);
    }
    return 0;
}

/* Socket address check, for the connect itself: a name that resolves elsewhere is refused too. */
static int mcpc_http_addr_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6)
        return mcpc_http_in6_loopback(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
    return 0;
}

/* Does header line `line` ("Name: value" or curl's "Name;") name `name`? */
static int mcpc_http_line_names(const char *line, const char *name)
{
    size_t n = strlen(name);
    if (strncasecmp(line, name, n) != 0)
        return 0;
    while (line[n] == ' ' || line[n] == '\t')
        n++;
    return line[n] == ':' || line[n] == ';';
}

static int mcpc_http_extra_names(const mcpc_http *h, const char *name)
{
    for (size_t i = 0; i < h->n_extra; i++)
        if (mcpc_http_line_names(h->extra[i], name))
            return 1;
    return 0;
}

/* Append "name: value" unless an extra header replaces it. value is encoded unless raw.
 * 0, or -1 on allocation failure. */
static int mcpc_http_add_header(const mcpc_http *h, struct curl_slist **list, const char *name,
                                const char *value, int raw)
{
    char *v = NULL, *line = NULL;
    struct curl_slist *l;
    int rc = -1;
    if (mcpc_http_extra_names(h, name))
        return 0;
    v = raw ? strdup(value) : mcpc_hdr_encode_value(value, strlen(value));
    if (!v)
        goto out;
    line = malloc(strlen(name) + strlen(v) + 3);
    if (!line)
        goto out;
    /* curl drops "Name:" with nothing after it; "Name;" is its way to send an empty value */
    if (*v)
        sprintf(line, "%s: %s", name, v);
    else
        sprintf(line, "%s;", name);
    l = curl_slist_append(*list, line);
    if (!l)
        goto out;
    *list = l;
    rc = 0;
out:
    free(v);
    free(line);
    return rc;
}

/* Body kind for a Content-Type value: the media type, case-insensitive, parameters ignored. */
static int mcpc_http_media_kind(const char *v, size_t n)
{
    size_t a = 0, b;
    while (a < n && (v[a] == ' ' || v[a] == '\t'))
        a++;
    b = a;
    while (b < n && v[b] != ';' && v[b] != ' ' && v[b] != '\t')
        b++;
    if (b - a == 16 && strncasecmp(v + a, "application/json", 16) == 0)
        return MCPC_HTTP_BODY_JSON;
    if (b - a == 17 && strncasecmp(v + a, "text/event-stream", 17) == 0)
        return MCPC_HTTP_BODY_SSE;
    return MCPC_HTTP_BODY_NONE;
}

static void mcpc_http_clear_headers(mcpc_http *h)
{
    for (size_t i = 0; i < h->n_hdrs; i++) {
        free(h->hdr_name[i]);
        free(h->hdr_value[i]);
    }
    h->n_hdrs = 0;
}

/* ---- the message queue ------------------------------------------------------------------------ */

/* Queue an item; data and why (may be NULL) become the queue's. -1 on allocation failure (both
 * freed). */
static int mcpc_http_push(mcpc_http *h, mcpc_err err, char *data, size_t len, char *why)
{
    if (h->q_len == h->q_cap) {
        size_t cap = h->q_cap ? h->q_cap * 2 : 16;
        mcpc_http_item *q = malloc(cap * sizeof *q);
        if (!q) {
            free(data);
            free(why);
            return -1;
        }
        for (size_t i = 0; i < h->q_len; i++)
            q[i] = h->q[(h->q_head + i) % h->q_cap];
        free(h->q);
        h->q = q;
        h->q_cap = cap;
        h->q_head = 0;
    }
    mcpc_http_item *it = &h->q[(h->q_head + h->q_len) % h->q_cap];
    it->err = err;
    it->data = data;
    it->len = len;
    it->why = why;
    h->q_len++;
    return 0;
}

/* While an initialize request is unanswered, look for its response: its protocolVersion is the
 * MCP-Protocol-Version of the requests that follow (2025-11-25 sessions). Keeps no reference to
 * the parsed message; releases h->init_id (owned) once its response is seen. */
static void mcpc_http_note_message(mcpc_http *h, const char *data, size_t len)
{
    json_t *root; /* new reference */
    if (!h->init_id)
        return;
    root = json_loadb(data, len, 0, NULL);
    if (json_is_object(root) && json_equal(json_object_get(root, "id"), h->init_id)) {
        const char *v = json_string_value(
            json_object_get(json_object_get(root, "result"), "protocolVersion"));
        if (v) {
            char *copy = strdup(v);
            if (copy) {
                free(h->init_version);
                h->init_version = copy;
            }
        }
        json_decref(h->init_id);
        h->init_id = NULL;
    }
    json_decref(root);
}

/* Queue a copy of a message's bytes. -1 on allocation failure. */
static int mcpc_http_push_copy(mcpc_http *h, const char *data, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, data, len);
    copy[len] = '\0';
    mcpc_http_note_message(h, copy, len);
    return mcpc_http_push(h, MCPC_OK, copy, len, NULL);
}

/* ---- transfers -------------------------------------------------------------------------------- */

static void mcpc_http_xfer_free(mcpc_http *h, mcpc_http_xfer *x)
{
    mcpc_http_xfer **pp;
    if (!x)
        return;
    for (pp = &h->xfers; *pp; pp = &(*pp)->next) {
        if (*pp == x) {
            *pp = x->next;
            h->n_xfers--;
            break;
        }
    }
    if (h->latest == x) {
        /* ended by us, not by the server */
        h->latest = NULL;
        h->latest_done = 1;
        h->latest_result = CURLE_ABORTED_BY_CALLBACK;
    }
    if (x->easy) {
        curl_multi_remove_handle(h->multi, x->easy);
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->req_hdrs);
    mcpc_sse_free(x->sse);
    free(x->body);
    free(x);
}

static void mcpc_http_xfer_free_all(mcpc_http *h)
{
    while (h->xfers)
        mcpc_http_xfer_free(h, h->xfers);
}

/* SSE callback: each event with data is one message. */
static void mcpc_http_on_event(void *ud, const mcpc_sse_event *ev)
{
    mcpc_http_xfer *x = ud;
    int rc = 0;
    if (x->stopped)
        return;
    if (ev->err != MCPC_OK) {
        /* the parser reports the bound it went over, plus one */
        char b[32];
        int data = ev->len == x->h->opts.max_event + 1;
        rc = mcpc_http_push(x->h, ev->err, NULL, ev->len,
                            mcpc_http_why("an SSE event's %s exceeds the %s bound", data ? "data" :
                                          "event:, id: or retry: field",
                                          mcpc_http_size(ev->len - 1, b, sizeof b)));
    } else if (ev->len > 0)   /* empty events (priming events, keep-alives) carry no message */
        rc = mcpc_http_push_copy(x->h, ev->data, ev->len);
    if (rc < 0)
        x->stopped = 1;
}

static size_t mcpc_http_on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    mcpc_http_xfer *x = ud;
    mcpc_http *h = x->h;
    size_t n = size * nitems, len = n;
    const char *colon;

    h->total += n;
    if (h->total > h->opts.max_total) {
        h->flooded = 1;
        return 0;
    }
    x->hdr_bytes += n;
    if (x->hdr_bytes > MCPC_HTTP_MAX_HEADER_BYTES) {
        x->hdr_too_big = 1;
        x->stopped = 1;
        return 0;
    }
    if (x->final)
        return n;   /* trailers after a chunked body: not part of the response headers */
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        /* a status line: a new response starts (after a 1xx, the final one) */
        x->hint = MCPC_HTTP_BODY_NONE;
        x->encoding[0] = '\0';
        if (x == h->latest)
            mcpc_http_clear_headers(h);
        return n;
    }
    if (len == 0) {
        long code = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code < 200) {
            x->interim++;
            return n;   /* 1xx: the final response is still to come */
        }
        x->final = 1;
        /* 202/204 carry nothing to read; nor does the answer to a DELETE */
        x->kind = code == 202 || code == 204 || x->is_delete ? MCPC_HTTP_BODY_NONE : x->hint;
        if (x->kind == MCPC_HTTP_BODY_SSE) {
            mcpc_sse_limits lim = {h->opts.max_event, MCPC_HTTP_MAX_SSE_LINE, 1};
            x->sse = mcpc_sse_new(&lim, mcpc_http_on_event, x);
            if (!x->sse) {
                x->stopped = 1;
                return 0;
            }
        }
        if (x == h->latest)
            h->status = code;
        return n;
    }
    if (buf[0] == ' ' || buf[0] == '\t')
        return n;   /* obsolete line folding: ignored */
    colon = memchr(buf, ':', len);
    if (!colon || colon == buf)
        return n;
    size_t nl = (size_t)(colon - buf), vs = nl + 1, ve = len;
    while (nl && (buf[nl - 1] == ' ' || buf[nl - 1] == '\t'))
        nl--;
    while (vs < ve && (buf[vs] == ' ' || buf[vs] == '\t'))
        vs++;
    while (ve > vs && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'))
        ve--;
    if (nl == 12 && strncasecmp(buf, "Content-Type", 12) == 0)
        x->hint = mcpc_http_media_kind(buf + vs, ve - vs);
    if (nl == 16 && strncasecmp(buf, "Content-Encoding", 16) == 0) {
        /* kept for messages only: curl decodes what it knows and fails on the rest */
        char v[sizeof x->encoding];
        snprintf(v, sizeof v, "%.*s", (int)(ve - vs), buf + vs);
        mcpc_http_printable(v, x->encoding, sizeof x->encoding);
    }
    if (nl == 14 && strncasecmp(buf, "Mcp-Session-Id", 14) == 0 && ve > vs &&
        ve - vs <= MCPC_HTTP_MAX_SESSION_ID) {
        /* only visible ASCII (as the spec requires) is echoed back: nothing else can reach our
         * request headers */
        int ok = 1;
        for (size_t i = vs; i < ve && ok; i++)
            ok = buf[i] >= 0x21 && buf[i] <= 0x7E;
        char *sid = ok ? strndup(buf + vs, ve - vs) : NULL;
        if (sid) {
            free(h->session_id);
            h->session_id = sid;
        }
    }
    if (x == h->latest && h->n_hdrs < MCPC_HTTP_MAX_HEADERS && len <= MCPC_HTTP_MAX_HEADER_LINE) {
        char *name = strndup(buf, nl), *value = strndup(buf + vs, ve - vs);
        if (name && value) {
            h->hdr_name[h->n_hdrs] = name;
            h->hdr_value[h->n_hdrs] = value;
            h->n_hdrs++;
        } else {
            free(name);
            free(value);
        }
    }
    return n;
}

/* Keep the start of the latest response's body for mcpc_http_last_body, whatever its type: a
 * case judging a refusal or a 202 needs the bytes that no message queue holds. Bounded. */
static void mcpc_http_keep_body(mcpc_http *h, const char *ptr, size_t n)
{
    size_t room = MCPC_HTTP_KEEP_BODY - h->last_body_len, take = n < room ? n : room;
    if (take < n)
        h->last_body_cut = 1;
    if (take == 0)
        return;
    if (!h->last_body) {
        /* one allocation of the bound for the client's life: most bodies are small, but a
         * realloc per chunk would cost more than the 64 KiB */
        h->last_body = malloc(MCPC_HTTP_KEEP_BODY + 1);
        if (!h->last_body) {
            h->last_body_cut = 1;
            return;
        }
    }
    memcpy(h->last_body + h->last_body_len, ptr, take);
    h->last_body_len += take;
    h->last_body[h->last_body_len] = '\0';
}

/* Decoded bytes a response body may have. A JSON body is one message, held whole: it is bounded
 * as one (as an SSE event's data or a stdio line is), not as a stream of them. */
static size_t mcpc_http_body_bound(const mcpc_http *h, const mcpc_http_xfer *x)
{
    if (x->kind == MCPC_HTTP_BODY_JSON && h->opts.max_event < h->opts.max_body)
        return h->opts.max_event;
    return h->opts.max_body;
}

static size_t mcpc_http_on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    mcpc_http_xfer *x = ud;
    mcpc_http *h = x->h;
    size_t n = size * nmemb;

    if (h->flooded || x->stopped)
        return 0;   /* a bound was hit: abort the transfer */
    if (n == 0)
        return 0;
    /* the queue is full: hold the server back (curl keeps this chunk and gives it again) */
    if (x->kind != MCPC_HTTP_BODY_NONE && h->q_len >= MCPC_HTTP_MAX_QUEUE) {
        x->paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    h->total += n;
    if (h->total > h->opts.max_total) {
        h->flooded = 1;
        return 0;
    }
    /* decompressed bytes: this is where a gzip bomb stops */
    x->body_total += n;
    size_t bound = mcpc_http_body_bound(h, x);
    if (x->body_total > bound) {
        x->stopped = 1;
        if (x->kind != MCPC_HTTP_BODY_NONE) {
            char b[32];
            int gz = x->encoding[0] != '\0';
            (void)mcpc_http_push(
                h, MCPC_ERR_TOO_BIG, NULL, x->body_total,
                mcpc_http_why("the HTTP response body%s exceeds the %s bound%s%s%s",
                              x->kind == MCPC_HTTP_BODY_JSON ? " (one JSON message)" : "",
                              mcpc_http_size(bound, b, sizeof b),
                              gz ? " after decompression (Content-Encoding: " : "", x->encoding,
                              gz ? ")" : ""));
        }
        return 0;
    }
    if (x == h->latest)
        mcpc_http_keep_body(h, ptr, n);
    switch (x->kind) {
    case MCPC_HTTP_BODY_JSON:
        if (x->body_len + n + 1 > x->body_cap) {
            size_t cap = x->body_cap ? x->body_cap : 4096;
            while (cap < x->body_len + n + 1)
                cap *= 2;
            if (cap > bound + 1)
                cap = bound + 1;   /* never twice the bound for a body just over half of it */
            char *b = realloc(x->body, cap);
            if (!b) {
                x->stopped = 1;
                return 0;
            }
            x->body = b;
            x->body_cap = cap;
        }
        memcpy(x->body + x->body_len, ptr, n);
        x->body_len += n;
        x->body[x->body_len] = '\0';
        break;
    case MCPC_HTTP_BODY_SSE:
        /* TOO_BIG for an event is queued by the event callback; the stream goes on */
        if (mcpc_sse_feed(x->sse, ptr, n) == MCPC_ERR_NOMEM)
            x->stopped = 1;
        break;
    default:
        break;   /* not a message: counted, not kept */
    }
    return x->stopped ? 0 : n;
}

/* Refuse to connect anywhere but loopback unless allowed: covers names that resolve elsewhere. */
static curl_socket_t mcpc_http_on_opensocket(void *ud, curlsocktype purpose,
                                             struct curl_sockaddr *a)
{
    mcpc_http *h = ud;
    int fd;
    if (!h->opts.allow_remote && !mcpc_http_addr_loopback(&a->addr))
        return CURL_SOCKET_BAD;
    fd = socket(a->family, a->socktype, a->protocol);
    if (fd >= 0)
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);   /* not inherited by spawned implementations */
    return fd >= 0 ? fd : CURL_SOCKET_BAD;
}

/* A transfer with the options every request shares. NULL on failure (hdrs freed either way). */
static mcpc_http_xfer *mcpc_http_xfer_new(mcpc_http *h, struct curl_slist *hdrs)
{
    mcpc_http_xfer *x = calloc(1, sizeof *x);
    CURL *e;
    if (!x) {
        curl_slist_free_all(hdrs);
        return NULL;
    }
    x->h = h;
    x->req_hdrs = hdrs;
    e = x->easy = curl_easy_init();
    if (!e)
        goto fail;
    if (curl_easy_setopt(e, CURLOPT_URL, h->url) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK)
        goto fail;
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);   /* a 3xx is the answer */
    /* environment proxies would carry our requests off the machine */
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)h->opts.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, MCPC_HTTP_IDLE_SECONDS);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, mcpc_http_on_opensocket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, h);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, mcpc_http_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, mcpc_http_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    return x;
fail:
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(hdrs);
    free(x);
    return NULL;
}

/* Start x: it becomes the latest transfer and the last response is reset. */
static mcpc_err mcpc_http_xfer_start(mcpc_http *h, mcpc_http_xfer *x)
{
    mcpc_http_xfer **pp;
    /* a server may hold streams open; keep a bounded number, dropping the oldest */
    while (h->n_xfers >= MCPC_HTTP_MAX_XFERS)
        mcpc_http_xfer_free(h, h->xfers);
    if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
        curl_easy_cleanup(x->easy);
        x->easy = NULL;
        mcpc_http_xfer_free(h, x);
        return MCPC_ERR_NOMEM;
    }
    for (pp = &h->xfers; *pp; pp = &(*pp)->next) {
    }
    *pp = x;
    h->n_xfers++;
    h->latest = x;
    h->latest_done = 0;
    h->latest_result = CURLE_OK;
    h->latest_bound = MCPC_OK;
    h->status = 0;
    mcpc_http_clear_headers(h);
    h->last_body_len = 0;
    h->last_body_cut = 0;
    return MCPC_OK;
}

/* libcurl's account of a failed transfer ("Recv failure: Connection reset by peer"). */
static const char *mcpc_http_curl_why(const mcpc_http_xfer *x, CURLcode res)
{
    return x->errbuf[0] ? x->errbuf : curl_easy_strerror(res);
}

/* What went wrong with a transfer that ended before its final response headers. */
static void mcpc_http_failed_why(mcpc_http *h, const mcpc_http_xfer *x, CURLcode res, char *out,
                                 size_t outlen)
{
    char b[32];
    if (x->hdr_too_big)
        snprintf(out, outlen, "the HTTP response headers exceed the %s bound%s",
                 mcpc_http_size(MCPC_HTTP_MAX_HEADER_BYTES, b, sizeof b),
                 x->interim ? " (counting those of the interim 1xx responses)" : "");
    else if (h->flooded)
        snprintf(out, outlen, "more than %s arrived over this connection",
                 mcpc_http_size(h->opts.max_total, b, sizeof b));
    else
        snprintf(out, outlen, "no HTTP response: %s", mcpc_http_curl_why(x, res));
}

/* A final response to a request that carries no message (a redirect, a body that is neither
 * JSON nor an event stream, an empty JSON body): what it was, for the PROTOCOL error that
 * replaces the silence. New string or NULL. */
static char *mcpc_http_no_message_why(const mcpc_http_xfer *x, long code)
{
    char *loc = NULL, *ct = NULL, b[170];
    if (code >= 300 && code < 400) {
        curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc);
        if (loc)
            mcpc_http_printable(loc, b, sizeof b);
        return mcpc_http_why("HTTP %ld redirect to %s not followed (redirects are never followed)",
                             code, loc ? b : "(no usable Location)");
    }
    if (x->kind == MCPC_HTTP_BODY_JSON)
        return mcpc_http_why("HTTP %ld answer with an empty application/json body: no JSON-RPC "
                             "response in it", code);
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
    if (ct)
        return mcpc_http_why("HTTP %ld answer of type %s, neither application/json nor "
                             "text/event-stream: not read as a JSON-RPC response", code,
                             mcpc_http_printable(ct, b, sizeof b));
    return mcpc_http_why("HTTP %ld answer without a Content-Type (application/json or "
                         "text/event-stream is required): not read as a JSON-RPC response", code);
}

/* A response cut short: how far it got and why. New string or NULL. */
static char *mcpc_http_cut_why(const mcpc_http_xfer *x, CURLcode res, long code)
{
    curl_off_t got = 0, want = -1;
    char of[48] = "";
    curl_easy_getinfo(x->easy, CURLINFO_SIZE_DOWNLOAD_T, &got);
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &want);
    if (want >= 0)
        snprintf(of, sizeof of, " of %" CURL_FORMAT_CURL_OFF_T, want);
    return mcpc_http_why("the HTTP %ld response was cut short after %" CURL_FORMAT_CURL_OFF_T
                         "%s body bytes: %s", code, got, of, mcpc_http_curl_why(x, res));
}

/* The transfer ended: queue what its response still owes, then free it. */
static void mcpc_http_xfer_done(mcpc_http *h, mcpc_http_xfer *x, CURLcode res)
{
    long code = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    if (x == h->latest) {
        h->latest = NULL;
        h->latest_done = 1;
        h->latest_result = res;
        h->latest_bound = x->hdr_too_big || h->flooded ? MCPC_ERR_TOO_BIG : MCPC_OK;
        h->latest_why[0] = '\0';
        if (!x->final)
            mcpc_http_failed_why(h, x, res, h->latest_why, sizeof h->latest_why);
    }
    /* a request's answer with no message in it is an error, not silence to wait out (202 and
     * 204 say "nothing to read" and stay silence) */
    if (x->final && x->owes && !h->flooded &&
        ((x->kind == MCPC_HTTP_BODY_NONE && code != 202 && code != 204) ||
         (x->kind == MCPC_HTTP_BODY_JSON && res == CURLE_OK && !x->stopped && !x->body_len)))
        (void)mcpc_http_push(h, MCPC_ERR_PROTOCOL, NULL, 0, mcpc_http_no_message_why(x, code));
    if (x->final && !x->stopped && !h->flooded && x->kind != MCPC_HTTP_BODY_NONE) {
        if (res == CURLE_OK && x->kind == MCPC_HTTP_BODY_JSON) {
            if (x->body_len) {
                mcpc_http_note_message(h, x->body, x->body_len);
                (void)mcpc_http_push(h, MCPC_OK, x->body, x->body_len, NULL);
                x->body = NULL;
            }
        } else if (res == CURLE_OK) {
            /* a stream that ends inside an event lost that event: say so, as stdio does */
            if (mcpc_sse_end(x->sse) == MCPC_ERR_EOF) {
                char *why = mcpc_http_why("the SSE stream ended in the middle of an event");
                (void)mcpc_http_push(h, MCPC_ERR_EOF, NULL, 0, why);
            }
        } else {
            /* cut short (reset, timeout): EOF with what arrived of a JSON body */
            char *part = x->kind == MCPC_HTTP_BODY_JSON ? x->body : NULL;
            size_t plen = part ? x->body_len : 0;
            x->body = NULL;
            (void)mcpc_http_push(h, MCPC_ERR_EOF, part, plen, mcpc_http_cut_why(x, res, code));
        }
    }
    mcpc_http_xfer_free(h, x);
}

/* Let curl do what is ready, then collect the transfers that ended. */
static void mcpc_http_perform(mcpc_http *h)
{
    int running, left;
    CURLMsg *m;
    (void)curl_multi_perform(h->multi, &running);
    while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
        char *priv = NULL;
        CURLcode res = m->data.result;   /* m is gone once the handle is removed */
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
        if (priv)
            mcpc_http_xfer_done(h, (mcpc_http_xfer *)(void *)priv, res);
    }
}

/* What a transfer that failed before its response headers means to the caller. */
static mcpc_err mcpc_http_failure(const mcpc_http *h)
{
    if (h->latest_bound != MCPC_OK)
        return h->latest_bound;
    switch (h->latest_result) {
    case CURLE_OPERATION_TIMEDOUT:
        return MCPC_ERR_TIMEOUT;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
        return MCPC_ERR_EOF;   /* the server closed without (finishing) an answer */
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return MCPC_ERR_PROTOCOL;
    default:
        return MCPC_ERR_IO;    /* could not connect or send */
    }
}

/* Drive until the latest transfer has its final response headers (or, with until_done, has
 * ended), or the deadline, when it is dropped. */

/* Wait for transfer activity up to ms; with a tick, wake at least every 50 ms to run it. */
static void mcpc_http_poll(mcpc_http *h, int ms)
{
    if (h->opts.tick) {
        h->opts.tick(h->opts.tick_arg);
        if (ms > 50)
            ms = 50;
    }
    (void)curl_multi_poll(h->multi, NULL, 0, ms, NULL);
}

static mcpc_err mcpc_http_wait(mcpc_http *h, int64_t deadline, int until_done)
{
    h->detail[0] = '\0';
    for (;;) {
        mcpc_http_perform(h);
        if (h->status > 0 && (!until_done || h->latest_done))
            return MCPC_OK;
        if (h->latest_done && h->status > 0)
            return MCPC_OK;
        if (h->latest_done) {
            snprintf(h->detail, sizeof h->detail, "%s", h->latest_why);
            return mcpc_http_failure(h);
        }
        int left = mcpc_clock_left(deadline);
        if (left == 0) {
            if (h->status == 0)
                snprintf(h->detail, sizeof h->detail,
                         "no complete HTTP response headers before the deadline (%zu bytes of "
                         "headers arrived%s)", h->latest->hdr_bytes,
                         h->latest->interim ? ", interim 1xx responses among them" : "");
            mcpc_http_xfer_free(h, h->latest);
            return h->status > 0 ? MCPC_OK : MCPC_ERR_TIMEOUT;
        }
        mcpc_http_poll(h, left);
    }
}

/* ---- the body we send ------------------------------------------------------------------------- */

typedef struct {
    json_t *root;               /* new reference, or NULL when the body is not a JSON object */
    const char *method;         /* borrowed from root */
    const char *name;           /* borrowed: params.name / params.uri for the methods with one */
    json_t *id;                 /* borrowed */
    int has_meta_version;       /* params._meta has the protocolVersion key, whatever its value */
    const char *meta_version;   /* borrowed: its value when a string */
} mcpc_http_body;

/* Read what the headers are derived from. b->root is a new reference (the caller decrefs it);
 * every other pointer in *b is borrowed from it. A body that does not parse gives nothing: the
 * harness sends malformed bodies on purpose, and they get no derived headers. */
static void mcpc_http_body_inspect(const char *bytes, size_t len, mcpc_http_body *b)
{
    json_t *params, *meta, *v;
    memset(b, 0, sizeof *b);
    b->root = json_loadb(bytes, len, 0, NULL);
    if (!json_is_object(b->root))
        return;
    b->method = json_string_value(json_object_get(b->root, "method"));
    b->id = json_object_get(b->root, "id");
    params = json_object_get(b->root, "params");
    meta = json_object_get(params, "_meta");
    v = json_object_get(meta, MCPC_META_PROTOCOL_VERSION);
    b->has_meta_version = v != NULL;
    b->meta_version = json_string_value(v);
    if (b->method && (strcmp(b->method, "tools/call") == 0 || strcmp(b->method, "prompts/get") == 0))
        b->name = json_string_value(json_object_get(params, "name"));
    else if (b->method && strcmp(b->method, "resources/read") == 0)
        b->name = json_string_value(json_object_get(params, "uri"));
}

/* The request headers for a POST of body b (its jansson values are only read). -1 on allocation
 * failure. */
static int mcpc_http_post_headers(mcpc_http *h, const mcpc_http_body *b, struct curl_slist **out)
{
    struct curl_slist *l = NULL;
    const char *version = b->meta_version ? b->meta_version
                          : h->init_version ? h->init_version : h->proto_opt;
    /* 2026-07-28 requests say so in _meta; a message without it (a notification, or a case that
     * leaves _meta out) follows the version the client was configured with */
    int modern = b->has_meta_version ||
                 (!h->init_version && h->proto_opt && strcmp(h->proto_opt, MCPC_HTTP_MODERN) >= 0);
    *out = NULL;
    if (mcpc_http_add_header(h, &l, "Content-Type", "application/json", 1) < 0 ||
        mcpc_http_add_header(h, &l, "Accept", "application/json, text/event-stream", 1) < 0)
        goto fail;
    if (version && mcpc_http_add_header(h, &l, "MCP-Protocol-Version", version, 0) < 0)
        goto fail;
    if (h->session_id && mcpc_http_add_header(h, &l, "Mcp-Session-Id", h->session_id, 1) < 0)
        goto fail;
    if ((h->once_auth || h->auth) &&
        mcpc_http_add_header(h, &l, "Authorization", h->once_auth ? h->once_auth : h->auth, 1) < 0)
        goto fail;
    if (h->once_dpop && mcpc_http_add_header(h, &l, "DPoP", h->once_dpop, 1) < 0)
        goto fail;
    if (modern && b->method && mcpc_http_add_header(h, &l, "Mcp-Method", b->method, 0) < 0)
        goto fail;
    if (modern && b->name && mcpc_http_add_header(h, &l, "Mcp-Name", b->name, 0) < 0)
        goto fail;
    /* no "Expect: 100-continue" round trip for large bodies */
    if (!mcpc_http_extra_names(h, "Expect")) {
        struct curl_slist *n = curl_slist_append(l, "Expect:");
        if (!n)
            goto fail;
        l = n;
    }
    for (size_t i = 0; i < h->n_extra; i++) {
        struct curl_slist *n = curl_slist_append(l, h->extra[i]);
        if (!n)
            goto fail;
        l = n;
    }
    *out = l;
    return 0;
fail:
    curl_slist_free_all(l);
    return -1;
}

/* ---- conn ops --------------------------------------------------------------------------------- */

/* The connection is over its total bound: nothing more is read. */
static mcpc_err mcpc_http_flood(mcpc_http *h)
{
    char b[32];
    mcpc_http_xfer_free_all(h);
    snprintf(h->detail, sizeof h->detail, "more than %s arrived over this connection",
             mcpc_http_size(h->opts.max_total, b, sizeof b));
    return MCPC_ERR_TOO_BIG;
}

/* 1 when the last response refuses a tools/call with a DPoP challenge that the per-call token
 * callback may answer (docs/auth.md: a tool that wants a token for this one call). */
static int mcpc_http_wants_call_token(const mcpc_http *h, const mcpc_http_body *b)
{
    const char *www = mcpc_http_last_header(h, "WWW-Authenticate");
    return h->status == 401 && h->opts.call_token && !h->once_auth && b->method &&
           strcmp(b->method, "tools/call") == 0 && b->name && www &&
           strncasecmp(www, "DPoP", 4) == 0 && !mcpc_http_extra_names(h, "Authorization");
}

/* Forget the messages queued after the first keep ones (those of a refused attempt). */
static void mcpc_http_queue_truncate(mcpc_http *h, size_t keep)
{
    while (h->q_len > keep) {
        mcpc_http_item *it = &h->q[(h->q_head + h->q_len - 1) % h->q_cap];
        free(it->data);
        free(it->why);
        h->q_len--;
    }
}

static mcpc_err mcpc_http_send(mcpc_conn *c, const char *bytes, size_t len, int timeout_ms)
{
    mcpc_http *h = c->impl;
    int64_t deadline = mcpc_clock_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    mcpc_http_body b;
    struct curl_slist *hdrs = NULL;
    mcpc_http_xfer *x;
    mcpc_err rc = MCPC_ERR_NOMEM;
    size_t queued = h->q_len;

    h->detail[0] = '\0';
    if (h->flooded)
        return mcpc_http_flood(h);
    mcpc_http_body_inspect(bytes, len, &b);
    if (b.method && b.id && strcmp(b.method, "initialize") == 0) {
        json_decref(h->init_id);
        h->init_id = json_incref(b.id);
    }
    if (mcpc_http_post_headers(h, &b, &hdrs) < 0)
        goto out;
    x = mcpc_http_xfer_new(h, hdrs);
    if (!x)
        goto out;
    x->req_len = len;
    x->owes = b.method && b.id;
    curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    if (curl_easy_setopt(x->easy, CURLOPT_COPYPOSTFIELDS, len ? bytes : "") != CURLE_OK) {
        mcpc_http_xfer_free(h, x);
        goto out;
    }
    rc = mcpc_http_xfer_start(h, x);
    if (rc != MCPC_OK)
        goto out;
    rc = mcpc_http_wait(h, deadline, 0);
    if (rc == MCPC_OK && mcpc_http_wants_call_token(h, &b)) {
        /* The server ran nothing (401): answer the challenge once, as a Gold client would, with
         * a token for exactly this call; the refused attempt's answer is not the response. */
        char *auth = NULL, *dpop = NULL;
        json_t *args = json_object_get(json_object_get(b.root, "params"), "arguments");
        mcpc_http_wait(h, deadline, 1);
        if (h->opts.call_token(h->opts.call_token_arg, b.name, args, &auth, &dpop) == 0 && auth) {
            mcpc_http_queue_truncate(h, queued);
            h->once_auth = auth;
            h->once_dpop = dpop;
            rc = mcpc_http_send(c, bytes, len, mcpc_clock_left(deadline));
            free(h->once_auth);
            free(h->once_dpop);
            h->once_auth = h->once_dpop = NULL;
        } else {
            free(auth);
            free(dpop);
        }
    }
out:
    json_decref(b.root);
    return rc;
}

/* recv timed out with the last response still arriving: say how far it got. */
static void mcpc_http_pending_why(mcpc_http *h)
{
    const mcpc_http_xfer *x = h->latest;
    if (!x || !x->final)
        return;
    if (x->kind == MCPC_HTTP_BODY_SSE)
        snprintf(h->detail, sizeof h->detail,
                 "the HTTP %ld event stream is still open (%zu bytes received on it), and no "
                 "further complete event came", h->status, x->body_total);
    else if (x->kind == MCPC_HTTP_BODY_JSON)
        snprintf(h->detail, sizeof h->detail,
                 "the HTTP %ld application/json body is still incomplete (%zu bytes received)",
                 h->status, x->body_total);
}

static mcpc_err mcpc_http_recv(mcpc_conn *c, int timeout_ms, const char **msg, size_t *len)
{
    mcpc_http *h = c->impl;
    int64_t deadline = mcpc_clock_ms() + (timeout_ms > 0 ? timeout_ms : 0);

    free(h->cur.data);
    memset(&h->cur, 0, sizeof h->cur);
    h->detail[0] = '\0';
    *msg = NULL;
    *len = 0;
    for (;;) {
        if (h->q_len) {
            h->cur = h->q[h->q_head];
            h->q_head = (h->q_head + 1) % h->q_cap;
            h->q_len--;
            *msg = h->cur.err == MCPC_ERR_TOO_BIG ? NULL : h->cur.data ? h->cur.data : "";
            *len = h->cur.len;
            snprintf(h->detail, sizeof h->detail, "%s", h->cur.why ? h->cur.why : "");
            free(h->cur.why);
            h->cur.why = NULL;
            return h->cur.err;
        }
        if (h->flooded) {
            *len = h->total;
            return mcpc_http_flood(h);
        }
        /* nothing in flight: nothing more can come until the next send */
        if (!h->xfers)
            return MCPC_ERR_TIMEOUT;
        for (mcpc_http_xfer *x = h->xfers; x; x = x->next) {
            if (x->paused) {
                x->paused = 0;
                (void)curl_easy_pause(x->easy, CURLPAUSE_CONT);
            }
        }
        mcpc_http_perform(h);
        if (h->q_len || h->flooded || !h->xfers)
            continue;
        int left = mcpc_clock_left(deadline);
        if (left == 0) {
            mcpc_http_pending_why(h);
            return MCPC_ERR_TIMEOUT;
        }
        mcpc_http_poll(h, left);
    }
}

static const char *mcpc_http_detail_op(mcpc_conn *c)
{
    return ((mcpc_http *)c->impl)->detail;
}

static int mcpc_http_flooded_op(mcpc_conn *c)
{
    return ((mcpc_http *)c->impl)->flooded;
}

static size_t mcpc_http_received_op(mcpc_conn *c)
{
    return ((mcpc_http *)c->impl)->total;
}

/* The conn is a view owned by the client (as the stdio conn does not own its child): freeing
 * the view releases nothing; mcpc_http_free does. */
static void mcpc_http_free_op(mcpc_conn *c)
{
    (void)c;
}

static const mcpc_conn_ops mcpc_http_ops = {
    mcpc_http_send, mcpc_http_recv, mcpc_http_flooded_op, mcpc_http_received_op, mcpc_http_free_op,
    mcpc_http_detail_op,
};

/* ---- public API ------------------------------------------------------------------------------- */

mcpc_err mcpc_http_new(const char *url, const mcpc_http_opts *o, mcpc_http **out, char *errbuf,
                       size_t errlen)
{
    static int global_done;
    mcpc_http_opts def;
    mcpc_http *h = NULL;
    CURLU *u = NULL;
    char *scheme = NULL, *host = NULL, *full = NULL;
    mcpc_err rc = MCPC_ERR_USAGE;

    *out = NULL;
    if (!o) {
        mcpc_http_opts_default(&def);
        o = &def;
    }
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            mcpc_http_fmt(errbuf, errlen, "libcurl initialisation failed", NULL);
            return MCPC_ERR_IO;
        }
        global_done = 1;
    }
    u = curl_url();
    if (!u) {
        rc = MCPC_ERR_NOMEM;
        goto out;
    }
    if (!url || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        mcpc_http_fmt(errbuf, errlen, "not a valid URL", url ? url : "(none)");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        mcpc_http_fmt(errbuf, errlen, "only http:// and https:// URLs are supported", url);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        mcpc_http_fmt(errbuf, errlen, "the URL has no host", url);
        goto out;
    }
    if (!o->allow_remote && !mcpc_http_host_loopback(host)) {
        mcpc_http_fmt(errbuf, errlen,
                      "the target is not a loopback address (127.0.0.0/8, ::1, localhost); "
                      "allow remote targets explicitly", host);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK) {
        mcpc_http_fmt(errbuf, errlen, "not a valid URL", url);
        goto out;
    }
    rc = MCPC_ERR_NOMEM;
    h = calloc(1, sizeof *h);
    if (!h)
        goto out;
    h->opts = *o;
    h->url = strdup(full);
    h->proto_opt = o->protocol_version ? strdup(o->protocol_version) : NULL;
    h->auth = o->authorization ? strdup(o->authorization) : NULL;
    h->opts.authorization = h->auth;
    h->multi = curl_multi_init();
    if (!h->url || (o->protocol_version && !h->proto_opt) || (o->authorization && !h->auth) ||
        !h->multi)
        goto out;
    h->opts.protocol_version = h->proto_opt;
    h->conn.ops = &mcpc_http_ops;
    h->conn.transport = "http";
    h->conn.impl = h;
    *out = h;
    h = NULL;
    rc = MCPC_OK;
out:
    if (h)
        mcpc_http_free(h);
    if (rc == MCPC_ERR_NOMEM)
        mcpc_http_fmt(errbuf, errlen, "out of memory", NULL);
    curl_free(scheme);
    curl_free(host);
    curl_free(full);
    curl_url_cleanup(u);
    return rc;
}

mcpc_err mcpc_http_set_authorization(mcpc_http *h, const char *value)
{
    char *v = value ? strdup(value) : NULL;
    if (value && !v)
        return MCPC_ERR_NOMEM;
    free(h->auth);
    h->auth = v;
    h->opts.authorization = h->auth;
    return MCPC_OK;
}

mcpc_conn *mcpc_http_conn(mcpc_http *h)
{
    return &h->conn;
}

mcpc_err mcpc_http_set_headers(mcpc_http *h, const char *const *headers, size_t n)
{
    char **copy = NULL;
    size_t i;
    if (!headers)
        n = 0;
    for (i = 0; i < n; i++) {
        const char *s = headers[i], *sep = s ? strpbrk(s, ":;") : NULL;
        /* "Name: value" or curl's "Name;" (empty value); no line breaks: one header each */
        if (!s || !sep || sep == s || strpbrk(s, "\r\n"))
            return MCPC_ERR_USAGE;
    }
    if (n) {
        copy = calloc(n, sizeof *copy);
        if (!copy)
            return MCPC_ERR_NOMEM;
        for (i = 0; i < n; i++) {
            copy[i] = strdup(headers[i]);
            if (!copy[i]) {
                while (i--)
                    free(copy[i]);
                free(copy);
                return MCPC_ERR_NOMEM;
            }
        }
    }
    for (i = 0; i < h->n_extra; i++)
        free(h->extra[i]);
    free(h->extra);
    h->extra = copy;
    h->n_extra = n;
    return MCPC_OK;
}

long mcpc_http_last_status(const mcpc_http *h)
{
    return h->status;
}

const char *mcpc_http_last_content_type(const mcpc_http *h)
{
    return mcpc_http_last_header(h, "Content-Type");
}

const char *mcpc_http_last_header(const mcpc_http *h, const char *name)
{
    for (size_t i = 0; i < h->n_hdrs; i++)
        if (strcasecmp(h->hdr_name[i], name) == 0)
            return h->hdr_value[i];
    return NULL;
}

int mcpc_http_last_header_at(const mcpc_http *h, size_t i, const char **name, const char **value)
{
    if (i >= h->n_hdrs)
        return 0;
    *name = h->hdr_name[i];
    *value = h->hdr_value[i];
    return 1;
}

const char *mcpc_http_last_body(const mcpc_http *h, size_t *len, int *cut)
{
    *len = h->last_body_len;
    if (cut)
        *cut = h->last_body_cut;
    return h->last_body_len ? h->last_body : "";
}

const char *mcpc_http_url(const mcpc_http *h)
{
    return h->url;
}

mcpc_err mcpc_http_clone(const mcpc_http *h, const char *protocol_version, mcpc_http **out,
                         char *errbuf, size_t errlen)
{
    return mcpc_http_clone_query(h, protocol_version, NULL, out, errbuf, errlen);
}

mcpc_err mcpc_http_clone_to(const mcpc_http *h, const char *url, mcpc_http **out, char *errbuf,
                            size_t errlen)
{
    mcpc_http_opts o = h->opts;
    o.protocol_version = NULL;
    o.authorization = NULL;
    o.call_token = NULL;
    return mcpc_http_new(url, &o, out, errbuf, errlen);
}

mcpc_err mcpc_http_clone_query(const mcpc_http *h, const char *protocol_version, const char *query,
                               mcpc_http **out, char *errbuf, size_t errlen)
{
    mcpc_http_opts o = h->opts;
    char *url = NULL;
    mcpc_err rc;
    o.protocol_version = protocol_version;
    if (query) {
        size_t n = strlen(h->url) + strlen(query) + 2;
        if (!(url = malloc(n)))
            return MCPC_ERR_NOMEM;
        snprintf(url, n, "%s%c%s", h->url, strchr(h->url, '?') ? '&' : '?', query);
    }
    rc = mcpc_http_new(url ? url : h->url, &o, out, errbuf, errlen);
    free(url);
    return rc;
}

mcpc_err mcpc_http_send_method(mcpc_http *h, const char *method, const char *body, size_t len,
                               int timeout_ms)
{
    int64_t deadline = mcpc_clock_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    struct curl_slist *hdrs = NULL;
    mcpc_http_xfer *x;
    const char *version = h->init_version ? h->init_version : h->proto_opt;
    int get;
    mcpc_err rc;

    if (!method || !*method || strpbrk(method, " \t\r\n"))
        return MCPC_ERR_USAGE;
    if (strcmp(method, "POST") == 0)
        return mcpc_http_send(&h->conn, body ? body : "", body ? len : 0, timeout_ms);
    if (h->flooded)
        return mcpc_http_flood(h);
    get = strcmp(method, "GET") == 0;
    if (mcpc_http_add_header(h, &hdrs, "Accept",
                             get ? "text/event-stream" : "application/json, text/event-stream", 1) < 0 ||
        (len && mcpc_http_add_header(h, &hdrs, "Content-Type", "application/json", 1) < 0) ||
        (version && mcpc_http_add_header(h, &hdrs, "MCP-Protocol-Version", version, 0) < 0) ||
        (h->session_id && mcpc_http_add_header(h, &hdrs, "Mcp-Session-Id", h->session_id, 1) < 0) ||
        (h->auth && mcpc_http_add_header(h, &hdrs, "Authorization", h->auth, 1) < 0))
        goto nomem;
    if (len && !mcpc_http_extra_names(h, "Expect")) {
        struct curl_slist *n = curl_slist_append(hdrs, "Expect:");
        if (!n)
            goto nomem;
        hdrs = n;
    }
    for (size_t i = 0; i < h->n_extra; i++) {
        struct curl_slist *n = curl_slist_append(hdrs, h->extra[i]);
        if (!n)
            goto nomem;
        hdrs = n;
    }
    x = mcpc_http_xfer_new(h, hdrs);   /* owns hdrs from here, also on failure */
    if (!x)
        return MCPC_ERR_NOMEM;
    x->is_delete = strcmp(method, "DELETE") == 0;
    x->req_len = len;
    if (curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK ||
        (len && (curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK ||
                 curl_easy_setopt(x->easy, CURLOPT_COPYPOSTFIELDS, body) != CURLE_OK))) {
        mcpc_http_xfer_free(h, x);
        return MCPC_ERR_NOMEM;
    }
    rc = mcpc_http_xfer_start(h, x);
    if (rc != MCPC_OK)
        return rc;
    return mcpc_http_wait(h, deadline, 0);
nomem:
    curl_slist_free_all(hdrs);
    return MCPC_ERR_NOMEM;
}

const char *mcpc_http_session_id(const mcpc_http *h)
{
    return h->session_id;
}

mcpc_err mcpc_http_delete_session(mcpc_http *h, int timeout_ms)
{
    int64_t deadline = mcpc_clock_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    struct curl_slist *hdrs = NULL;
    mcpc_http_xfer *x;
    const char *version = h->init_version ? h->init_version : h->proto_opt;
    mcpc_err rc;

    if (!h->session_id)
        return MCPC_ERR_NOT_FOUND;
    if (h->flooded)
        return MCPC_ERR_TOO_BIG;
    if (mcpc_http_add_header(h, &hdrs, "Mcp-Session-Id", h->session_id, 1) < 0 ||
        (version && mcpc_http_add_header(h, &hdrs, "MCP-Protocol-Version", version, 0) < 0) ||
        (h->auth && mcpc_http_add_header(h, &hdrs, "Authorization", h->auth, 1) < 0)) {
        curl_slist_free_all(hdrs);
        return MCPC_ERR_NOMEM;
    }
    x = mcpc_http_xfer_new(h, hdrs);
    if (!x)
        return MCPC_ERR_NOMEM;
    x->is_delete = 1;
    curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, "DELETE");
    rc = mcpc_http_xfer_start(h, x);
    if (rc != MCPC_OK)
        return rc;
    /* the session id stays in use: a case may check that the server now refuses it (404) */
    return mcpc_http_wait(h, deadline, 1);
}

void mcpc_http_free(mcpc_http *h)
{
    if (!h)
        return;
    mcpc_http_xfer_free_all(h);
    if (h->multi)
        curl_multi_cleanup(h->multi);
    for (size_t i = 0; i < h->q_len; i++) {
        free(h->q[(h->q_head + i) % h->q_cap].data);
        free(h->q[(h->q_head + i) % h->q_cap].why);
    }
    free(h->q);
    free(h->cur.data);
    for (size_t i = 0; i < h->n_extra; i++)
        free(h->extra[i]);
    free(h->extra);
    mcpc_http_clear_headers(h);
    free(h->last_body);
    json_decref(h->init_id);
    free(h->session_id);
    free(h->init_version);
    free(h->proto_opt);
    free(h->auth);
    free(h->once_auth);
    free(h->once_dpop);
    free(h->url);
    free(h);
}
