/* Strict JSON-RPC 2.0 for MCP: parse and classify one message, build messages. No I/O.
 *
 * Strictness beyond plain JSON-RPC 2.0, because the MCP eras we test (2025-11-25, 2026-07-28)
 * are stricter: no batches, no null ids, no fractional ids, duplicate object keys rejected,
 * nesting bounded. */
#ifndef MCPC_JSONRPC_H
#define MCPC_JSONRPC_H

#include <stddef.h>
#include <jansson.h>
#include "error.h"

#define MCPC_RPC_PARSE_ERROR      (-32700)
#define MCPC_RPC_INVALID_REQUEST  (-32600)
#define MCPC_RPC_METHOD_NOT_FOUND (-32601)
#define MCPC_RPC_INVALID_PARAMS   (-32602)
#define MCPC_RPC_INTERNAL_ERROR   (-32603)
#define MCPC_RPC_HEADER_MISMATCH  (-32020)
#define MCPC_RPC_MISSING_CLIENT_CAP (-32021)
#define MCPC_RPC_UNSUPPORTED_VERSION (-32022)

/* Depth bound used when the caller passes 0. */
#define MCPC_JSONRPC_DEFAULT_MAX_DEPTH 64

typedef enum {
    MCPC_MSG_INVALID = 0,     /* not a JSON-RPC message; see rpc_code and reason */
    MCPC_MSG_REQUEST,         /* method + id */
    MCPC_MSG_NOTIFICATION,    /* method, no id */
    MCPC_MSG_RESULT,          /* id + result */
    MCPC_MSG_ERROR,           /* error (+ id, which may be absent when unreadable) */
} mcpc_msg_kind;

typedef struct {
    mcpc_msg_kind kind;
    json_t *root;        /* owned (new reference); NULL when the bytes were not JSON */
    json_t *id;          /* borrowed from root; NULL when absent */
    const char *method;  /* borrowed from root; NULL unless request/notification */
    json_t *params;      /* borrowed; NULL when absent */
    json_t *result;      /* borrowed; NULL unless MCPC_MSG_RESULT */
    json_t *error;       /* borrowed; NULL unless MCPC_MSG_ERROR */
    int rpc_code;        /* for MCPC_MSG_INVALID: -32700 (not JSON) or -32600 (not a message) */
    char reason[160];    /* for MCPC_MSG_INVALID: why, in one line */
} mcpc_msg;

/* Parse exactly one message from buf[0..len). Always fills *out (kind INVALID on failure, with
 * rpc_code and reason). max_depth bounds array/object nesting (0 = default). Returns MCPC_OK for
 * a valid message, MCPC_ERR_PARSE when the bytes are not JSON (or not UTF-8, or too deep),
 * MCPC_ERR_INVALID when they are JSON but not a valid message. Caller must mcpc_msg_clear(). */
mcpc_err mcpc_jsonrpc_parse(const char *buf, size_t len, size_t max_depth, mcpc_msg *out);

/* Classify an already-parsed value; root is borrowed (out->root gets a new reference). */
mcpc_err mcpc_jsonrpc_classify(json_t *root, mcpc_msg *out);

/* Release out->root and zero the struct. Safe on a zeroed struct. */
void mcpc_msg_clear(mcpc_msg *m);

/* Builders. All return a new reference or NULL on allocation failure; id and params/result/data
 * arguments are borrowed (the builder takes its own reference); params/data may be NULL. */
json_t *mcpc_jsonrpc_request(json_t *id, const char *method, json_t *params);
json_t *mcpc_jsonrpc_notification(const char *method, json_t *params);
json_t *mcpc_jsonrpc_result(json_t *id, json_t *result);
json_t *mcpc_jsonrpc_error(json_t *id, int code, const char *message, json_t *data);

/* Serialise compactly on one line (no embedded newline), with a trailing '\n' when newline is
 * non-zero. Returns malloc'd bytes and length, or NULL. */
char *mcpc_jsonrpc_dump(const json_t *msg, int newline, size_t *len_out);

/* Name of a kind, for reports. */
const char *mcpc_msg_kind_name(mcpc_msg_kind kind);

#endif
