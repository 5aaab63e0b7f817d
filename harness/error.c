#include "error.h"

const char *mcpc_strerror(mcpc_err err)
{
    switch (err) {
    case MCPC_OK: return "ok";
    case MCPC_ERR_NOMEM: return "out of memory";
    case MCPC_ERR_IO: return "input/output error";
    case MCPC_ERR_TIMEOUT: return "deadline passed";
    case MCPC_ERR_EOF: return "peer closed the stream";
    case MCPC_ERR_TOO_BIG: return "size bound exceeded";
    case MCPC_ERR_PARSE: return "not valid JSON";
    case MCPC_ERR_INVALID: return "invalid message";
    case MCPC_ERR_SPAWN: return "could not start the implementation";
    case MCPC_ERR_USAGE: return "usage error";
    case MCPC_ERR_CASE: return "malformed case or profile";
    case MCPC_ERR_UNSUPPORTED: return "unsupported";
    case MCPC_ERR_NOT_FOUND: return "not found";
    case MCPC_ERR_PROTOCOL: return "protocol violation";
    case MCPC_ERR_DIED: return "implementation exited";
    }
    return "unknown error";
}
