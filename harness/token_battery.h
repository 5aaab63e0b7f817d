/* The token battery of docs/auth.md §5: for each named entry, the credential mcpcert presents to
 * a server under test (good ones and deliberately bad ones), minted in-process by the embedded
 * AS, ready to put on the wire.
 *
 * Ownership: strings in mcpc_battery_token are owned by it (mcpc_battery_token_clear frees
 * them); the info and every const char * returned are static; json_t * arguments are borrowed. */
#ifndef MCPC_TOKEN_BATTERY_H
#define MCPC_TOKEN_BATTERY_H

#include <jansson.h>
#include <stddef.h>
#include "authserver.h"
#include "error.h"
#include "jose.h"

#define MCPC_BATTERY_ACCESS_LIFETIME 300 /* docs/auth.md §3 */
#define MCPC_BATTERY_CALL_LIFETIME 60
#define MCPC_BATTERY_STATIC_KEY "mcpcert-static-api-key-5f0c2e9b7a41d386"

/* Where the token travels. */
typedef enum {
    MCPC_BATTERY_HEADER = 0, /* Authorization (and DPoP) headers */
    MCPC_BATTERY_QUERY = 1,  /* only "access_token=<token>" in the query string (RFC 6750 2.3) */
    MCPC_BATTERY_BODY = 2,   /* only "access_token=<token>" as a form body (RFC 6750 2.2) */
} mcpc_battery_place;

/* What an entry is and what a conforming server does with it. */
typedef struct {
    const char *name;
    int per_call;       /* 1: meant for a tools/call of a tool that requires per-call tokens */
    int accept;         /* 1: a conforming server accepts it (valid, call-valid) */
    unsigned status;    /* the refusal's HTTP status (401, or 403 for insufficient-scope) */
    const char *reason; /* the check that must refuse it, as mcpc_jose_status_name or
                         * mcpc_dpop_status_name spell it, or "replayed", "tool", "args",
                         * "not-in-header"; "" when accepted */
    const char *what;   /* one line for reports */
} mcpc_battery_info;

/* Keeps one DPoP key for a run of the battery and the last call-valid token and proof
 * (call-replayed presents them again). */
typedef struct mcpc_battery_state mcpc_battery_state;

/* New state with a fresh ES256 DPoP key, or NULL. */
mcpc_battery_state *mcpc_battery_state_new(void);
void mcpc_battery_state_free(mcpc_battery_state *st);
/* The state's DPoP key (borrowed). */
const mcpc_jose_key *mcpc_battery_state_key(const mcpc_battery_state *st);

/* The request a token is for. Strings and arguments are borrowed for the call. */
typedef struct {
    const char *resource;       /* required: the canonical resource URI (aud of good tokens) */
    const char *endpoint;       /* per-call entries: the URL the request goes to (proof htu) */
    const char *scope;          /* scope of access tokens [NULL: every scope the AS supports] */
    const char *narrow_scope;   /* insufficient-scope's scope [NULL: "mcp:tools"] */
    const char *other_resource; /* aud of the wrong-audience entries [NULL: "<resource>-other",
                                 * which a prefix comparison would wrongly accept] */
    const char *tool;           /* per-call entries: params.name */
    const json_t *arguments;    /* per-call entries: params.arguments (NULL counts as {}) */
    const char *other_tool;     /* call-other-tool's tool [NULL: "mcpcert-other-tool"] */
    long long now;              /* seconds since the epoch [0: time(NULL)] */
    mcpc_jose_pub_form hs256_form; /* HMAC key bytes for hs256-public-key and dpop-hmac
                                    * [0: MCPC_JOSE_PUB_PEM] */
    mcpc_battery_state *state;  /* NULL: a fresh DPoP key per token, and call-replayed fails */
    int replay_proof;           /* call-replayed: 1 = the last call-valid's proof as well;
                                 * [0] = a fresh proof, so only the token's jti can catch it */
} mcpc_battery_ctx;

typedef struct {
    const mcpc_battery_info *info; /* static */
    char *token;                   /* the credential itself */
    char *authorization;           /* the whole Authorization value ("Bearer <t>", "DPoP <t>"),
                                    * or NULL when none is sent */
    char *dpop;                    /* the DPoP header value, or NULL */
    mcpc_battery_place place;
    char *param;                   /* "access_token=<t>" for QUERY and BODY, else NULL */
} mcpc_battery_token;

/* The names of docs/auth.md §5, NULL-terminated, in the order listed there. Static. */
const char *const *mcpc_battery_names(void);

/* The entry called name, or NULL. Static. */
const mcpc_battery_info *mcpc_battery_lookup(const char *name);

/* Mint the entry called name for ctx with the keys of as. On MCPC_OK *out is filled (clear it
 * with mcpc_battery_token_clear); otherwise it is zeroed. MCPC_ERR_NOT_FOUND: unknown name;
 * MCPC_ERR_USAGE: ctx lacks what the entry needs (resource; endpoint and tool for per-call
 * entries; for call-replayed, a state that has made a call-valid); MCPC_ERR_NOMEM: minting
 * failed. call-valid remembers its token in ctx->state. */
mcpc_err mcpc_battery_make(const mcpc_as *as, const char *name, const mcpc_battery_ctx *ctx,
                           mcpc_battery_token *out);

/* Free the strings of t and zero it. */
void mcpc_battery_token_clear(mcpc_battery_token *t);

#endif
