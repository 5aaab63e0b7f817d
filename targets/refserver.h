/* The reference MCP server (dual-era): the interface between its front ends (refserver_main.c,
 * the command line and the stdio loop; refserver_http.c, streamable HTTP), its dispatcher
 * (refserver.c: JSON-RPC strictness, eras, flaws) and its fixtures (refserver_tools.c: tools,
 * resources, prompts).
 *
 * The dispatcher takes one input line and emits zero or more output lines through a callback,
 * so both front ends share it. Every `--flaw` breaks exactly one requirement; the
 * list below is the single source of flaw names. */
#ifndef MCPC_REFSERVER_H
#define MCPC_REFSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "error.h"

#define MCPC_REF_SERVER_NAME "mcpcert-refserver"
#define MCPC_REF_SERVER_VERSION "0.1.0"
#define MCPC_REF_MODERN_VERSION "2026-07-28"
#define MCPC_REF_LEGACY_VERSION "2025-11-25"      /* latest legacy version we speak */
#define MCPC_REF_LEGACY_OLDER "2025-06-18"        /* also accepted by initialize */

#define MCPC_REF_META_PROTOCOL "io.modelcontextprotocol/protocolVersion"
#define MCPC_REF_META_CLIENT_CAPS "io.modelcontextprotocol/clientCapabilities"
#define MCPC_REF_META_SERVER_INFO "io.modelcontextprotocol/serverInfo"

#define MCPC_REF_MAX_LINE ((size_t)4 * 1024 * 1024)  /* bytes per input line, without '\n' */
#define MCPC_REF_DEFAULT_PAGE_SIZE 3
#define MCPC_REF_MAX_PAGE_SIZE 1000
#define MCPC_REF_MAX_NOTES 1000                       /* write_note refuses beyond this */

/* X(ENUM_SUFFIX, "cli-name"): every deliberate defect the server can be started with. */
#define MCPC_REF_FLAWS(X) \
    X(ID_TYPE, "id-type") \
    X(PARSE_ERROR_CODE, "parse-error-code") \
    X(INVALID_REQUEST_CODE, "invalid-request-code") \
    X(LAX_VERSION, "lax-version") \
    X(NULL_ID, "null-id") \
    X(UNKNOWN_METHOD_CODE, "unknown-method-code") \
    X(ANSWER_NOTIFICATIONS, "answer-notifications") \
    X(ACCEPT_BATCH, "accept-batch") \
    X(SERVER_REQUEST, "server-request") \
    X(PIPELINE_DROP, "pipeline-drop") \
    X(INIT_NO_SERVERINFO, "init-no-serverinfo") \
    X(VERSION_ECHO, "version-echo") \
    X(PRE_INIT, "pre-init") \
    X(DISCOVER_INCOMPLETE, "discover-incomplete") \
    X(VERSION_UNCHECKED, "version-unchecked") \
    X(META_OPTIONAL, "meta-optional") \
    X(NO_RESULT_TYPE, "no-result-type") \
    X(SCHEMA_NOT_OBJECT, "schema-not-object") \
    X(UNSTABLE_ORDER, "unstable-order") \
    X(CURSOR_LOOP, "cursor-loop") \
    X(BOGUS_CURSOR_OK, "bogus-cursor-ok") \
    X(UNKNOWN_TOOL_EXECUTES, "unknown-tool-executes") \
    X(ERROR_AS_PROTOCOL, "error-as-protocol") \
    X(NO_CONTENT, "no-content") \
    X(NO_ARG_VALIDATION, "no-arg-validation") \
    X(RESOURCE_URI_MISMATCH, "resource-uri-mismatch") \
    X(RESOURCE_MISSING_OK, "resource-missing-ok") \
    X(PROMPT_NO_MESSAGES, "prompt-no-messages") \
    X(PROMPT_MISSING_OK, "prompt-missing-ok") \
    X(UNADVERTISED_COMPLETIONS, "unadvertised-completions") \
    X(STDOUT_BANNER, "stdout-banner") \
    X(LOG_STDOUT, "log-stdout") \
    X(RAW_NEWLINES, "raw-newlines") \
    X(IGNORE_EOF, "ignore-eof") \
    X(DIE_ON_PARSE_ERROR, "die-on-parse-error") \
    X(RUG_PULL, "rug-pull") \
    X(POISONED_DESCRIPTION, "poisoned-description") \
    X(POISONED_RESULT, "poisoned-result") \
    X(COERCE_ARGS, "coerce-args") \
    X(CASE_INSENSITIVE_TOOLS, "case-insensitive-tools") \
    X(OPEN_SCHEMA, "open-schema") \
    X(NONCE_DESCRIPTION, "nonce-description") \
    X(STRUCTURED_MISMATCH, "structured-mismatch") \
    X(ORIGIN_UNCHECKED, "origin-unchecked") \
    X(HOST_UNCHECKED, "host-unchecked") \
    X(VERSION_HEADER_UNCHECKED, "version-header-unchecked") \
    X(HEADER_DESYNC, "header-desync") \
    X(WEAK_SESSION_IDS, "weak-session-ids") \
    X(SESSION_SURVIVES_DELETE, "session-survives-delete") \
    X(NOTIFICATION_200, "notification-200") \
    X(MODERN_SESSION_ID, "modern-session-id") \
    X(CRASH_ON_NEGATIVE_ID, "crash-on-negative-id") \
    X(NO_MCPS_EXTENSION, "no-mcps-extension") \
    MCPC_REF_AUTH_FLAWS(X)

/* The MCP-S extension identifier (a placeholder namespace, as the security catalogue uses). */
#define MCPC_REF_MCPS_EXTENSION "com.example.mcps/security"

/* The OAuth resource-server flaws (docs/auth.md; only with --http and MCPCERT_AUTH_ISSUER). */
#define MCPC_REF_AUTH_FLAWS(X) \
    X(AUTH_OPTIONAL, "auth-optional") \
    X(NO_RESOURCE_METADATA, "no-resource-metadata") \
    X(PRM_WRONG_RESOURCE, "prm-wrong-resource") \
    X(AUD_UNCHECKED, "aud-unchecked") \
    X(EXP_UNCHECKED, "exp-unchecked") \
    X(NBF_UNCHECKED, "nbf-unchecked") \
    X(SIGNATURE_UNCHECKED, "signature-unchecked") \
    X(KID_UNCHECKED, "kid-unchecked") \
    X(ISSUER_UNCHECKED, "issuer-unchecked") \
    X(QUERY_TOKEN_ACCEPTED, "query-token-accepted") \
    X(SCOPE_UNCHECKED, "scope-unchecked") \
    X(TOKEN_PASSTHROUGH, "token-passthrough") \
    X(STATIC_KEY_ACCEPTED, "static-key-accepted") \
    X(CALL_TOKEN_REPLAY, "call-token-replay") \
    X(CALL_BINDING_UNCHECKED, "call-binding-unchecked") \
    X(CALL_LIFETIME_UNCHECKED, "call-lifetime-unchecked") \
    X(CALL_TYP_UNCHECKED, "call-typ-unchecked") \
    X(DPOP_UNCHECKED, "dpop-unchecked")

enum mcpc_ref_flaw {
#define MCPC_REF_FLAW_ENUM(e, name) MCPC_REF_FLAW_##e,
    MCPC_REF_FLAWS(MCPC_REF_FLAW_ENUM)
#undef MCPC_REF_FLAW_ENUM
    MCPC_REF_FLAW__COUNT
};

/* Output sink: receives one or more complete lines (each ending in '\n'). */
typedef void (*mcpc_ref_emit_fn)(void *ctx, const char *bytes, size_t len);

/* The whole server state; the front end owns exactly one. */
struct mcpc_ref_server {
    bool flaw[MCPC_REF_FLAW__COUNT];
    size_t page_size;              /* items per page of every list */
    const char *ledger_path;       /* borrowed (environment); NULL: no ledger */
    bool initialized;              /* legacy: initialize was answered */
    bool rug_pulled;               /* rug-pull flaw: a tools/call has succeeded */
    unsigned long rotation;        /* unstable-order flaw: listings served so far */
    char **notes;                  /* owned; notes stored by write_note */
    size_t n_notes;
    int exit_status;               /* -1, or the status the front end must exit with now */
    mcpc_ref_emit_fn emit;         /* set by mcpc_ref_handle_line for the duration of a call */
    void *emit_ctx;
    struct mcpc_ref_auth *auth;    /* borrowed: OAuth resource-server state (refserver_auth.h);
                                    * NULL unless --http with MCPCERT_AUTH_ISSUER */
    const char *inbound_token;     /* borrowed, for the request being served: the credential
                                    * it was authorised with, or NULL */
};

/* One request being served: what the fixtures need to know about it. */
struct mcpc_ref_call {
    const char *method;            /* borrowed */
    json_t *params;                /* borrowed; an object, or NULL when absent */
    bool modern;                   /* served in the 2026-07-28 era */
};

/* What a handler produces: either a result or a JSON-RPC error. */
struct mcpc_ref_reply {
    json_t *result;                /* new ref; NULL when the reply is an error */
    int code;                      /* error code when result is NULL */
    char message[256];             /* error message when result is NULL */
    json_t *data;                  /* new ref or NULL: error data */
    bool cacheable;                /* modern era: add ttlMs and cacheScope */
    bool no_result_type;           /* no-result-type flaw: leave resultType out */
    char *raw_text;                /* raw-newlines flaw: malloc'd text to format unescaped */
};

/* ---- refserver.c ---------------------------------------------------------------------- */

/* Zero s and set defaults (page size, no flaws, exit_status -1). */
void mcpc_ref_server_init(struct mcpc_ref_server *s);

/* Free what s owns (notes). s stays usable as a zeroed server after mcpc_ref_server_init. */
void mcpc_ref_server_fini(struct mcpc_ref_server *s);

/* Flaw by CLI name: MCPC_OK and *out set, or MCPC_ERR_NOT_FOUND. */
mcpc_err mcpc_ref_flaw_find(const char *name, enum mcpc_ref_flaw *out);

/* CLI name of a flaw (static string), or "?" when out of range. */
const char *mcpc_ref_flaw_name(enum mcpc_ref_flaw f);

/* Serve one input line (without its '\n'; buf is borrowed and need not be NUL-terminated).
 * Answers go through emit(ctx, ...). Whitespace-only lines are ignored. Returns MCPC_OK, or
 * MCPC_ERR_NOMEM when an answer could not be built. After the call, s->exit_status >= 0
 * tells the front end to exit with that status (die-on-parse-error flaw). */
mcpc_err mcpc_ref_handle_line(struct mcpc_ref_server *s, const char *buf, size_t len,
                              mcpc_ref_emit_fn emit, void *ctx);

/* Answer an input line longer than MCPC_REF_MAX_LINE: one parse error without id. */
mcpc_err mcpc_ref_handle_overlong(struct mcpc_ref_server *s, mcpc_ref_emit_fn emit, void *ctx);

/* Make r an error reply (code + formatted message). r->result must be NULL. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void mcpc_ref_reply_error(struct mcpc_ref_reply *r, int code, const char *fmt, ...);

/* Cut an incomplete UTF-8 sequence off the end of s, which was valid UTF-8 before snprintf
 * truncated it (jansson refuses invalid UTF-8). Messages therefore put peer-supplied text
 * last, where truncation can only cut the tail. */
void mcpc_ref_utf8_trim(char *s);

/* Release what r owns and zero it. */
void mcpc_ref_reply_clear(struct mcpc_ref_reply *r);

/* Emit raw bytes (one or more lines) on the server's output, through s->emit. */
void mcpc_ref_emit_raw(struct mcpc_ref_server *s, const char *bytes, size_t len);

/* ---- refserver_tools.c ---------------------------------------------------------------- */

/* Each handler fills *r (result or error) for the call c; c->params is borrowed. Return
 * MCPC_OK, or MCPC_ERR_NOMEM (r then holds nothing). */
mcpc_err mcpc_ref_tools_list(struct mcpc_ref_server *s, const struct mcpc_ref_call *c,
                             struct mcpc_ref_reply *r);
mcpc_err mcpc_ref_tools_call(struct mcpc_ref_server *s, const struct mcpc_ref_call *c,
                             struct mcpc_ref_reply *r);
mcpc_err mcpc_ref_resources_list(struct mcpc_ref_server *s, const struct mcpc_ref_call *c,
                                 struct mcpc_ref_reply *r);
mcpc_err mcpc_ref_resources_templates_list(struct mcpc_ref_server *s,
                                           const struct mcpc_ref_call *c,
                                           struct mcpc_ref_reply *r);
mcpc_err mcpc_ref_resources_read(struct mcpc_ref_server *s, const struct mcpc_ref_call *c,
                                 struct mcpc_ref_reply *r);
mcpc_err mcpc_ref_prompts_list(struct mcpc_ref_server *s, const struct mcpc_ref_call *c,
                               struct mcpc_ref_reply *r);
mcpc_err mcpc_ref_prompts_get(struct mcpc_ref_server *s, const struct mcpc_ref_call *c,
                              struct mcpc_ref_reply *r);

/* Free the notes held by s. */
void mcpc_ref_notes_clear(struct mcpc_ref_server *s);

/* ---- refserver_http.c ----------------------------------------------------------------- */

#define MCPC_REF_HTTP_PATH "/mcp"              /* the MCP endpoint */
#define MCPC_REF_HTTP_MAX_SESSIONS 64          /* 2025-11-25 sessions; the least recently
                                                * used one is ended to make room */

/* Serve streamable HTTP on 127.0.0.1:port (0 = ephemeral) until SIGINT/SIGTERM, EOF on stdin
 * (unless the ignore-eof flaw) or an exit a flaw asks for. Prints exactly one stdout line,
 * "listening on http://127.0.0.1:<port>/mcp". s is the stateless 2026-07-28 state and the
 * template (flaws, page size, ledger) of every 2025-11-25 session; it stays the caller's.
 * Returns the exit status. */
int mcpc_ref_http_serve(struct mcpc_ref_server *s, unsigned port);

#endif
