/* Streamable HTTP client transport (libcurl): one POST per message, to one MCP endpoint.
 *
 * - Accept lists application/json and text/event-stream; a JSON response body is one message,
 *   an SSE response is read event by event (harness/sse.c) and each event's data is a message.
 * - 202 Accepted with an empty body: nothing to read (notifications).
 * - 2025-11-25: Mcp-Session-Id is captured from the initialize response and sent back; the
 *   MCP-Protocol-Version header is sent after initialize. 2026-07-28: MCP-Protocol-Version, and
 *   Mcp-Method / Mcp-Name taken from the message body, on every request.
 * - Bounded: connect and total deadlines per request, body size, decompressed size, SSE event
 *   size; redirects are never followed away from the target's origin (by default not at all);
 *   the target must be a loopback address unless allow_remote is set.
 * Only this file and http_listener.c include libcurl / libmicrohttpd. */
#ifndef MCPC_TRANSPORT_HTTP_H
#define MCPC_TRANSPORT_HTTP_H

#include <stddef.h>
#include "conn.h"
#include "error.h"

typedef struct {
    size_t max_body;        /* bytes of one response body, after decompression [16 MiB] */
    size_t max_event;       /* bytes of one SSE event [4 MiB] */
    size_t max_total;       /* bytes over the connection's life [64 MiB] */
    int connect_timeout_ms; /* [3000] */
    int allow_remote;       /* 0: refuse non-loopback targets */
    const char *protocol_version; /* MCP-Protocol-Version to send; NULL: none until initialize */
} mcpc_http_opts;

void mcpc_http_opts_default(mcpc_http_opts *o);

typedef struct mcpc_http mcpc_http;

/* A client for url. Fails (MCPC_ERR_USAGE, errbuf says why) for a non-http(s) URL or a
 * non-loopback host without allow_remote. */
mcpc_err mcpc_http_new(const char *url, const mcpc_http_opts *o, mcpc_http **out, char *errbuf,
                       size_t errlen);

/* The conn view of the client (owned by it; do not free separately). */
mcpc_conn *mcpc_http_conn(mcpc_http *h);

/* Extra request headers for the following sends ("Name: value"), replacing any earlier set;
 * NULL clears. Used by cases that send deliberately wrong headers. */
mcpc_err mcpc_http_set_headers(mcpc_http *h, const char *const *headers, size_t n);

/* The last response: HTTP status (0 if none), its Content-Type, and a header's value. */
long mcpc_http_last_status(const mcpc_http *h);
const char *mcpc_http_last_content_type(const mcpc_http *h);
const char *mcpc_http_last_header(const mcpc_http *h, const char *name);

/* The Mcp-Session-Id in use (2025-11-25) or NULL; DELETE it (ends the session). */
const char *mcpc_http_session_id(const mcpc_http *h);
mcpc_err mcpc_http_delete_session(mcpc_http *h, int timeout_ms);

void mcpc_http_free(mcpc_http *h);

#endif
