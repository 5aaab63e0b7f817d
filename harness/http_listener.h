/* A small, bounded HTTP/1.1 server on libmicrohttpd, for the roles where the harness (or a
 * reference implementation) is the HTTP server: mock MCP servers for clients under test, the
 * upstream of a proxy under test, the reference server's --http mode.
 *
 * - One internal polling thread; handler calls (and response-done callbacks) are serialised
 *   by one mutex, so a handler needs no locking of its own. Another thread that shares the
 *   handler's context takes the same mutex with mcpc_listener_lock().
 * - The handler sees the request as sent: method, raw path, raw query, every header field in
 *   arrival order with duplicates kept (a duplicate Origin must be detectable), the whole body.
 *   It answers with a status and a body, or with a list of SSE events.
 * - Bounded: body size (413 without calling the handler), header count (431), header bytes
 *   (libmicrohttpd answers 431 itself), connections, idle time per connection, response size.
 * - Strict framing: a header name that is not a token, a CR or LF inside a value, two
 *   Content-Length / Transfer-Encoding headers (or one of each) or two Host headers get 400
 *   without calling the handler, so no handler can be fooled by a smuggled request. Other
 *   control characters in values reach the handler, which judges them.
 * - Binds only the given numeric address, loopback unless allow_remote is set.
 * Only this file and transport_http.c include libmicrohttpd / libcurl. */
#ifndef MCPC_HTTP_LISTENER_H
#define MCPC_HTTP_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"

typedef struct {
    size_t max_body;           /* bytes of a request body; over it → 413 [4 MiB] */
    size_t max_headers;        /* header fields per request; over it → 431 [64] */
    size_t max_header_bytes;   /* per-connection memory for request line + headers [32 KiB] */
    size_t max_response;       /* bytes of one response body or SSE stream; over it → 500 [16 MiB] */
    unsigned max_connections;  /* concurrent connections; more wait in the backlog [32] */
    unsigned timeout_s;        /* a connection idle this long is closed [10] */
    int allow_remote;          /* 0: refuse to bind a non-loopback address */
    int log_errors;            /* 1: libmicrohttpd's own error messages go to stderr [0] */
} mcpc_listener_opts;

/* Fill o with the defaults shown in brackets above. */
void mcpc_listener_opts_default(mcpc_listener_opts *o);

/* One request header field. Strings belong to the listener and live for the handler call. */
typedef struct {
    const char *name;          /* as sent (case kept) */
    const char *value;         /* surrounding whitespace stripped by the parser */
    size_t value_len;          /* value may hold bytes a C string cannot show */
} mcpc_listener_header;

/* One request, complete. Everything is borrowed and valid for the handler call only. */
typedef struct {
    const char *method;        /* "POST", "GET", ... */
    const char *path;          /* target without the query, not percent-decoded */
    const char *query;         /* raw query without '?', "" if none (reassembled as k=v&k) */
    const char *version;       /* "HTTP/1.1" */
    const mcpc_listener_header *headers;   /* arrival order, duplicates kept */
    size_t n_headers;
    const char *body;          /* body_len bytes, NUL-terminated for convenience */
    size_t body_len;
    char client[64];           /* peer address, "127.0.0.1:40000" or "[::1]:40000" */
} mcpc_listener_request;

/* Called once the response is finished: delivered is true when it was sent completely,
 * false when the peer went away, the connection timed out or the listener stopped. */
typedef void (*mcpc_listener_done_fn)(void *ctx, bool delivered);

typedef struct {
    char *name, *value;        /* owned */
} mcpc_listener_field;

typedef struct {
    char *event;               /* owned or NULL: the "event:" field */
    char *id;                  /* owned or NULL: the "id:" field */
    char *data;                /* owned; split into "data:" lines at CR, LF, CRLF */
    size_t len;
} mcpc_listener_event;

/* What the handler fills, through the functions below (they own the memory). */
typedef struct {
    unsigned status;           /* 200..599; 0 means "not set" and becomes 500 */
    char content_type[128];    /* "" for none; set for SSE by the listener */
    char *body;                /* owned; ignored when events is non-empty */
    size_t body_len;
    mcpc_listener_field *headers;  /* extra response headers, in order */
    size_t n_headers;
    mcpc_listener_event *events;   /* non-empty: a text/event-stream response */
    size_t n_events;
    mcpc_listener_done_fn done;    /* optional; called under the handler mutex */
    void *done_ctx;
    size_t limit;              /* set by the listener: opts.max_response */
    size_t used;               /* bytes of body + events so far */
} mcpc_listener_response;

/* The handler: read req (borrowed), fill res. A return other than MCPC_OK discards res and
 * answers 500. Runs on the listener's thread with the handler mutex held. */
typedef mcpc_err (*mcpc_listener_handler)(void *ctx, const mcpc_listener_request *req,
                                          mcpc_listener_response *res);

/* Set status, content type (NULL or "" for none) and body (copied; bytes may be NULL when len
 * is 0). MCPC_ERR_INVALID for a content type with control characters or over 127 bytes,
 * MCPC_ERR_TOO_BIG past res->limit, MCPC_ERR_NOMEM. */
mcpc_err mcpc_listener_response_set(mcpc_listener_response *res, unsigned status,
                                    const char *content_type, const void *bytes, size_t len);

/* Add a response header (both strings copied). MCPC_ERR_INVALID for a name that is not an
 * RFC 9110 token, a value with CR, LF or NUL, or a header the listener manages itself
 * (Content-Length, Content-Type, Transfer-Encoding, Connection). */
mcpc_err mcpc_listener_response_header(mcpc_listener_response *res, const char *name,
                                       const char *value);

/* Append one SSE event (all copied; event and id may be NULL and must hold no CR or LF).
 * Makes the response text/event-stream; status becomes 200 if it was not set. */
mcpc_err mcpc_listener_response_event(mcpc_listener_response *res, const char *event,
                                      const char *id, const void *data, size_t len);

/* The first header field called name (case-insensitive), or NULL; *count (when count is
 * non-NULL) receives how many fields have that name. */
const mcpc_listener_header *mcpc_listener_header_find(const mcpc_listener_request *req,
                                                      const char *name, size_t *count);

typedef struct mcpc_http_listener mcpc_http_listener;

/* Listen on bind_host:port (NULL = "127.0.0.1"; "localhost" means 127.0.0.1; otherwise a
 * numeric IPv4 or IPv6 address; port 0 = ephemeral) and serve every request with fn(ctx, ...).
 * o may be NULL for the defaults. On success *out is the running listener. Errors (err says
 * why): MCPC_ERR_USAGE for a bad address or port, or a non-loopback one without allow_remote;
 * MCPC_ERR_IO when the socket cannot be bound (address in use...) or the server not started;
 * MCPC_ERR_NOMEM. */
mcpc_err mcpc_listener_start(const char *bind_host, unsigned port, mcpc_listener_handler fn,
                             void *ctx, const mcpc_listener_opts *o, mcpc_http_listener **out,
                             char *err, size_t errlen);

/* The port actually bound (the ephemeral one when 0 was asked for). */
unsigned mcpc_listener_port(const mcpc_http_listener *l);

/* Take / release the handler mutex, to touch state shared with the handler from another
 * thread. Never call mcpc_listener_stop() while holding it. */
void mcpc_listener_lock(mcpc_http_listener *l);
void mcpc_listener_unlock(mcpc_http_listener *l);

/* Stop listening, close every connection (pending done callbacks run with delivered false),
 * join the thread and free l. NULL is a no-op. Not from inside a handler. */
void mcpc_listener_stop(mcpc_http_listener *l);

#endif
