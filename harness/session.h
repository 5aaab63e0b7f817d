/* A conversation with one implementation under test, in one protocol era.
 *
 * 2025-11-25 ("legacy", stateful): initialize, then notifications/initialized.
 * 2026-07-28 ("modern", stateless): server/discover; every request carries the protocol version
 * and client capabilities in params._meta. */
#ifndef MCPC_SESSION_H
#define MCPC_SESSION_H

#include <jansson.h>
#include "error.h"
#include "jsonrpc.h"
#include "transcript.h"
#include "conn.h"

typedef enum {
    MCPC_ERA_2025_11_25 = 0,
    MCPC_ERA_2026_07_28 = 1,
    MCPC_ERA__COUNT
} mcpc_era;

#define MCPC_META_VERSION "io.modelcontextprotocol/protocolVersion"
#define MCPC_META_CLIENT_CAPS "io.modelcontextprotocol/clientCapabilities"
#define MCPC_META_CLIENT_INFO "io.modelcontextprotocol/clientInfo"
#define MCPC_META_SERVER_INFO "io.modelcontextprotocol/serverInfo"

/* "2025-11-25" / "2026-07-28". */
const char *mcpc_era_name(mcpc_era era);
/* Parse a version string; returns 0 and sets *era, or -1 when we do not test that version. */
int mcpc_era_parse(const char *name, mcpc_era *era);

typedef struct {
    mcpc_conn *conn;            /* borrowed: stdio or HTTP */
    mcpc_transcript *tr;        /* borrowed */
    mcpc_era era;
    int timeout_ms;             /* default deadline for one awaited message */
    json_int_t next_id;
    size_t set_aside;           /* messages received while awaiting something else (they stay
                                 * in the transcript only: nothing reads them, so none is kept) */
    size_t noise;               /* stdout lines that were not JSON at all (banners, logs) */
    char noise_sample[160];     /* the first such line, printable */
    size_t malformed;           /* lines that were JSON-looking but broken, or not JSON-RPC */
    size_t server_requests;     /* messages from the server carrying method + id */
    json_t *open_result;        /* owned: initialize or server/discover result */
    json_t *pending;            /* owned: {"<id as JSON>": "<method>"} for requests in flight */
    struct mcpc_wire *wire;     /* borrowed: wire-schema validator, or NULL */
    size_t wire_violations;     /* received messages that break the official schema */
    char wire_first[400];       /* the first such violation */
    char error[256];            /* last failure, one line */
} mcpc_session;

/* Set up a session over a connection. No I/O. */
void mcpc_session_init(mcpc_session *s, mcpc_conn *conn, mcpc_transcript *tr, mcpc_era era,
                       int timeout_ms);
void mcpc_session_clear(mcpc_session *s);

/* Send raw bytes exactly as given (recorded in the transcript). On HTTP the one trailing
 * newline, if any, is not part of the POST body. */
mcpc_err mcpc_session_send_raw(mcpc_session *s, const char *bytes, size_t len);
/* Send one message as one line. msg is borrowed. */
mcpc_err mcpc_session_send(mcpc_session *s, const json_t *msg);

/* A params object for a request in this era: a copy of `params` (borrowed, may be NULL) with
 * the modern per-request _meta merged in when the era is 2026-07-28 and with_meta is set.
 * Returns a new reference. */
json_t *mcpc_session_params(mcpc_session *s, const json_t *params, int with_meta);

/* Send a request. id is borrowed (NULL: the next integer id). On success *sent_id is a new
 * reference to the id used. */
mcpc_err mcpc_session_request(mcpc_session *s, const char *method, const json_t *params,
                              int with_meta, json_t *id, json_t **sent_id);

/* Receive the next message. kinds_mask selects what is returned (bits of 1 << mcpc_msg_kind);
 * other valid messages are recorded in the transcript and set aside. Non-JSON text lines are counted as noise and
 * skipped. MCPC_ERR_INVALID / MCPC_ERR_PARSE: a malformed message arrived (out holds the
 * classification). MCPC_ERR_TOO_BIG, MCPC_ERR_TIMEOUT, MCPC_ERR_EOF as the transport says. */
mcpc_err mcpc_session_recv(mcpc_session *s, unsigned kinds_mask, int timeout_ms, mcpc_msg *out);

#define MCPC_KINDS_RESPONSE ((1u << MCPC_MSG_RESULT) | (1u << MCPC_MSG_ERROR))
#define MCPC_KINDS_ANY 0xffu

/* Round trip: request, then await the response with that id (others are set aside). On success
 * *response is a new reference to the whole response message. */
mcpc_err mcpc_session_call(mcpc_session *s, const char *method, const json_t *params,
                           json_t **response);

/* The era's opening: initialize + notifications/initialized, or server/discover. */
mcpc_err mcpc_session_open(mcpc_session *s);

#endif
