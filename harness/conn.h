/* A connection to the implementation under test, whatever the transport: the session sends one
 * message at a time and reads the messages that come back, one at a time. stdio wraps the child
 * process's pipes; streamable HTTP turns each send into a POST and queues what its response
 * carries (a JSON body or the events of an SSE stream). */
#ifndef MCPC_CONN_H
#define MCPC_CONN_H

#include <stddef.h>
#include "error.h"

typedef struct mcpc_conn mcpc_conn;

typedef struct {
    /* Deliver bytes: stdio writes exactly these bytes to the pipe (the session includes the
     * newline that ends a message); HTTP POSTs them as one body (the session passes the message
     * without its newline). */
    mcpc_err (*send)(mcpc_conn *c, const char *bytes, size_t len, int timeout_ms);
    /* Next message's bytes within timeout_ms; valid until the next call. Same error contract as
     * mcpc_stdio_read_line (TIMEOUT, EOF, TOO_BIG); HTTP adds PROTOCOL, for an answer to a
     * request that cannot carry a message (a redirect, a body neither JSON nor an event stream). */
    mcpc_err (*recv)(mcpc_conn *c, int timeout_ms, const char **msg, size_t *len);
    /* Flood state for messages (1 when the total bound was hit). */
    int (*flooded)(mcpc_conn *c);
    /* Bytes received so far. */
    size_t (*received)(mcpc_conn *c);
    void (*free)(mcpc_conn *c);
    /* The transport's own account, in one line, of why the last send or recv failed (HTTP: a
     * redirect, a wrong Content-Type, a bound, a reset), or "" when it has none to add. NULL
     * when the transport never has one (stdio: the session's words say it all). */
    const char *(*detail)(mcpc_conn *c);
} mcpc_conn_ops;

struct mcpc_conn {
    const mcpc_conn_ops *ops;
    const char *transport;   /* "stdio" | "http" */
    void *impl;
};

/* A connection over an already spawned stdio child (borrowed; freeing the conn does not stop
 * it). New conn or NULL. */
struct mcpc_stdio;
mcpc_conn *mcpc_conn_stdio_new(struct mcpc_stdio *io);

#endif
