/* The conn view of a stdio child: a thin wrapper over transport_stdio. */
#include <stdlib.h>

#include "conn.h"
#include "transport_stdio.h"

static mcpc_err mcpc_conn_stdio_send(mcpc_conn *c, const char *bytes, size_t len, int timeout_ms)
{
    return mcpc_stdio_write(c->impl, bytes, len, timeout_ms);
}

static mcpc_err mcpc_conn_stdio_recv(mcpc_conn *c, int timeout_ms, const char **msg, size_t *len)
{
    return mcpc_stdio_read_line(c->impl, timeout_ms, msg, len);
}

static int mcpc_conn_stdio_flooded(mcpc_conn *c)
{
    return mcpc_stdio_flooded(c->impl);
}

static size_t mcpc_conn_stdio_received(mcpc_conn *c)
{
    return mcpc_stdio_stdout_total(c->impl);
}

/* The child belongs to the runner: freeing the view leaves it alone. */
static void mcpc_conn_stdio_free(mcpc_conn *c)
{
    free(c);
}

static const mcpc_conn_ops mcpc_conn_stdio_ops = {
    mcpc_conn_stdio_send, mcpc_conn_stdio_recv, mcpc_conn_stdio_flooded, mcpc_conn_stdio_received,
    mcpc_conn_stdio_free, NULL,
};

mcpc_conn *mcpc_conn_stdio_new(struct mcpc_stdio *io)
{
    mcpc_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->ops = &mcpc_conn_stdio_ops;
    c->transport = "stdio";
    c->impl = io;
    return c;
}
