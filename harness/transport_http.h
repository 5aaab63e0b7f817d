/* Streamable HTTP client transport (libcurl): one POST per message, to one MCP endpoint.
 *
 * - Accept lists application/json and text/event-stream; a JSON response body is one message,
 *   an SSE response is read event by event (harness/sse.c) and each event's data is a message.
 * - 202 Accepted with an empty body: nothing to read (notifications).
 * - 2025-11-25: Mcp-Session-Id is captured from the initialize response and sent back; the
 *   MCP-Protocol-Version header is sent after initialize. 2026-07-28: MCP-Protocol-Version, and
 *   Mcp-Method / Mcp-Name taken from the message body, on every request.
 * - Bounded: connect and total deadlines per request, body size, decompressed size, message
 *   size (a JSON body, an SSE event); redirects are never followed away from the target's
 *   origin (by default not at all); the target must be a loopback address unless allow_remote
 *   is set. What breaks a bound, or answers a request with no message (a redirect, a body
 *   neither JSON nor an event stream), is described by the conn's detail op.
 * Only this file and http_listener.c include libcurl / libmicrohttpd. */
#ifndef MCPC_TRANSPORT_HTTP_H
#define MCPC_TRANSPORT_HTTP_H

#include <stddef.h>
#include <jansson.h>
#include "conn.h"
#include "error.h"

typedef struct {
    size_t max_body;        /* bytes of one response body, after decompression [16 MiB] */
    size_t max_event;       /* bytes of one message: an SSE event's data, a JSON body [4 MiB] */
    size_t max_total;       /* bytes over the connection's life [64 MiB] */
    int connect_timeout_ms; /* [3000] */
    int allow_remote;       /* 0: refuse non-loopback targets */
    const char *protocol_version; /* MCP-Protocol-Version to send; NULL: none until initialize */
    /* Called at least every 50 ms while the client waits, e.g. to drain the pipes of the server
     * process we started (nobody else reads them during HTTP, and a full pipe would stall it). */
    void (*tick)(void *arg);
    void *tick_arg;
    /* OAuth (docs/auth.md): the Authorization value sent on every request unless an extra
     * header sets its own, or NULL. */
    const char *authorization;
    /* A tools/call refused with 401 and a DPoP challenge is sent once more with the
     * Authorization and DPoP values this returns (malloc'd; the client frees them; dpop may
     * stay NULL). 0 when it made a token, -1 when it cannot. */
    int (*call_token)(void *arg, const char *tool, json_t *arguments, char **authorization,
                      char **dpop);
    void *call_token_arg;
} mcpc_http_opts;

void mcpc_http_opts_default(mcpc_http_opts *o);

typedef struct mcpc_http mcpc_http;

/* A client for url. Fails (MCPC_ERR_USAGE, errbuf says why) for a non-http(s) URL or a
 * non-loopback host without allow_remote. */
mcpc_err mcpc_http_new(const char *url, const mcpc_http_opts *o, mcpc_http **out, char *errbuf,
                       size_t errlen);

/* Replace opts.authorization (copied; NULL: none) for the following sends and clones. */
mcpc_err mcpc_http_set_authorization(mcpc_http *h, const char *value);

/* The conn view of the client (owned by it; do not free separately). */
mcpc_conn *mcpc_http_conn(mcpc_http *h);

/* Extra request headers for the following sends ("Name: value"), replacing any earlier set;
 * NULL clears. Used by cases that send deliberately wrong headers. */
mcpc_err mcpc_http_set_headers(mcpc_http *h, const char *const *headers, size_t n);

/* The last response: HTTP status (0 if none), its Content-Type, and a header's value. */
long mcpc_http_last_status(const mcpc_http *h);
const char *mcpc_http_last_content_type(const mcpc_http *h);
const char *mcpc_http_last_header(const mcpc_http *h, const char *name);

/* The i-th header of the last response, in arrival order (at most 64 are kept): 1 with *name
 * and *value set (borrowed, valid until the next send), or 0 past the end. */
int mcpc_http_last_header_at(const mcpc_http *h, size_t i, const char **name, const char **value);

/* The first bytes (at most MCPC_HTTP_KEEP_BODY) of the last response's body as received, after
 * decompression and whatever its type (a 202's stray body, a text/plain refusal, an SSE
 * stream's raw text). Borrowed; *len bytes; *cut set when there were more. Complete once the
 * transfer has ended: recv returns TIMEOUT at once when nothing is in flight. */
#define MCPC_HTTP_KEEP_BODY (64u << 10)
const char *mcpc_http_last_body(const mcpc_http *h, size_t *len, int *cut);

/* The endpoint URL, as libcurl normalised it. Borrowed. */
const char *mcpc_http_url(const mcpc_http *h);

/* A new client for the same endpoint, with the same bounds and remote policy as h, and none of
 * its state (no session id, no negotiated version, no extra headers, nothing in flight): for
 * the exchanges a case makes beside its own session, so that they cannot disturb it.
 * protocol_version is as in mcpc_http_opts (NULL: none before an initialize). */
mcpc_err mcpc_http_clone(const mcpc_http *h, const char *protocol_version, mcpc_http **out,
                         char *errbuf, size_t errlen);
/* A client for another URL (metadata documents), with h's bounds and remote policy and nothing
 * else: no version, no Authorization, no per-call tokens. */
mcpc_err mcpc_http_clone_to(const mcpc_http *h, const char *url, mcpc_http **out, char *errbuf,
                            size_t errlen);
/* The same, for the endpoint with query ("name=value&...", already encoded) appended. */
mcpc_err mcpc_http_clone_query(const mcpc_http *h, const char *protocol_version, const char *query,
                               mcpc_http **out, char *errbuf, size_t errlen);

/* One request with any HTTP method. "POST" is exactly a conn send of body (headers derived from
 * it). Other methods send the version and session headers, Accept (text/event-stream for GET),
 * the extra headers, and body only when len > 0; no header is derived from a body. Returns once
 * the response headers are in (status, last_header); a JSON or SSE body is then read with the
 * conn's recv, except after a DELETE, whose body is only kept for last_body. */
mcpc_err mcpc_http_send_method(mcpc_http *h, const char *method, const char *body, size_t len,
                               int timeout_ms);

/* The Mcp-Session-Id in use (2025-11-25) or NULL; DELETE it (ends the session). */
const char *mcpc_http_session_id(const mcpc_http *h);
mcpc_err mcpc_http_delete_session(mcpc_http *h, int timeout_ms);

void mcpc_http_free(mcpc_http *h);

#endif
