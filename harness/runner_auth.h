/* OAuth for a server-role run over HTTP (docs/auth.md): the run's authorization server and mock
 * upstream API, the trust configuration handed to the implementation, the access token the
 * case's session presents, the per-call tokens it answers DPoP challenges with, and the token
 * battery the auth cases present on purpose. */
#ifndef MCPC_RUNNER_AUTH_H
#define MCPC_RUNNER_AUTH_H

#include <jansson.h>
#include "authserver.h"
#include "error.h"
#include "token_battery.h"
#include "upstream_mock.h"

#define MCPC_AUTH_SCOPE_ALL "mcp:tools mcp:write"
#define MCPC_AUTH_MAX_ENV 8

typedef struct mcpc_auth_env {
    mcpc_as *as;
    mcpc_upstream *upstream;
    char *env[MCPC_AUTH_MAX_ENV + 1];  /* "NAME=value" for the implementation; NULL-terminated */
    /* per case */
    char resource[512];                /* the canonical resource URI: the endpoint */
    char *token;                       /* the session's access token (owned) */
    char *authorization;               /* "Bearer <token>" (owned) */
    mcpc_battery_state *state;         /* the DPoP key and the last call-valid (owned) */
} mcpc_auth_env;

/* Start the AS (on as_port, 0 = any) and the upstream (on upstream_port). server_secret is the
 * secret of the implementation's own client at the AS (NULL: a random one, which only a started
 * implementation can learn, from its environment). resource_tmpl is the
 * resource URI as the implementation should be told it ("{port}" allowed), or NULL when it is
 * not known beforehand (then the implementation uses its own). err says why on failure. */
mcpc_err mcpc_auth_start(mcpc_auth_env *a, unsigned as_port, unsigned upstream_port,
                         const char *resource_tmpl, const char *server_secret, char *err,
                         size_t errlen);
void mcpc_auth_stop(mcpc_auth_env *a);

/* A case begins against endpoint (the resource): mint its session's token and a fresh battery
 * state. MCPC_ERR_NOMEM. */
mcpc_err mcpc_auth_case_begin(mcpc_auth_env *a, const char *endpoint);
void mcpc_auth_case_end(mcpc_auth_env *a);

/* The per-call token callback of mcpc_http_opts (arg is the mcpc_auth_env): a call token for
 * exactly this tool and these arguments, bound to the case's DPoP key, and its proof. */
int mcpc_auth_call_token(void *arg, const char *tool, json_t *arguments, char **authorization,
                         char **dpop);

#endif
