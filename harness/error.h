/* One error enum for the whole project. Codes are stable: never renumber, only append. */
#ifndef MCPC_ERROR_H
#define MCPC_ERROR_H

typedef enum {
    MCPC_OK = 0,
    MCPC_ERR_NOMEM = 1,       /* allocation failed */
    MCPC_ERR_IO = 2,          /* read/write/pipe/socket failure */
    MCPC_ERR_TIMEOUT = 3,     /* a deadline passed */
    MCPC_ERR_EOF = 4,         /* peer closed its end */
    MCPC_ERR_TOO_BIG = 5,     /* a bound (line, message, total bytes) was exceeded */
    MCPC_ERR_PARSE = 6,       /* bytes are not JSON */
    MCPC_ERR_INVALID = 7,     /* JSON, but not a valid message of the expected shape */
    MCPC_ERR_SPAWN = 8,       /* could not start the implementation under test */
    MCPC_ERR_USAGE = 9,       /* bad command line */
    MCPC_ERR_CASE = 10,       /* a case or profile file is malformed */
    MCPC_ERR_UNSUPPORTED = 11,/* feature, era or transport not supported */
    MCPC_ERR_NOT_FOUND = 12,  /* named thing does not exist */
    MCPC_ERR_PROTOCOL = 13,   /* peer broke the protocol (wrong id, wrong framing) */
    MCPC_ERR_DIED = 14,       /* the implementation under test exited or was killed */
} mcpc_err;

/* Static text for an error code; never NULL. */
const char *mcpc_strerror(mcpc_err err);

#endif
