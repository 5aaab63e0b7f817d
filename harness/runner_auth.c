/* OAuth for a server-role run over HTTP (see runner_auth.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dpop.h"
#include "runner_auth.h"

/* "NAME=value" in a new string. */
static char *mcpc_auth_envvar(const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s=%s", name, value);
    return s;
}

mcpc_err mcpc_auth_start(mcpc_auth_env *a, unsigned as_port, unsigned upstream_port,
                         const char *resource_tmpl, const char *server_secret, char *err,
                         size_t errlen)
{
    /* the AS's two default clients, with the server's secret fixed when the operator gave one */
    mcpc_as_client clients[2] = {
        {.id = MCPC_AS_PUBLIC_CLIENT, .secret = NULL, .confidential = 0, .redirect_uris = NULL},
        {.id = "mcpcert-server", .secret = server_secret, .confidential = 1, .redirect_uris = NULL},
    };
    mcpc_as_opts ao;
    mcpc_err rc;
    size_t n = 0;
    memset(a, 0, sizeof *a);
    mcpc_as_opts_default(&ao);
    ao.port = as_port;
    ao.clients = clients;
    ao.n_clients = 2;
    rc = mcpc_as_start(&ao, &a->as, err, errlen);
    if (rc != MCPC_OK)
        return rc;
    rc = mcpc_upstream_start(upstream_port, &a->upstream, err, errlen);
    if (rc != MCPC_OK)
        goto fail;
    rc = MCPC_ERR_NOMEM;
    if (!(a->env[n++] = mcpc_auth_envvar("MCPCERT_AUTH_ISSUER", mcpc_as_issuer(a->as))) ||
        !(a->env[n++] = mcpc_auth_envvar("MCPCERT_AUTH_JWKS_URI", mcpc_as_jwks_uri(a->as))) ||
        !(a->env[n++] = mcpc_auth_envvar("MCPCERT_AUTH_CLIENT_ID", "mcpcert-server")) ||
        !(a->env[n++] = mcpc_auth_envvar("MCPCERT_AUTH_CLIENT_SECRET",
                                         mcpc_as_client_secret(a->as, "mcpcert-server"))) ||
        !(a->env[n++] = mcpc_auth_envvar("MCPCERT_UPSTREAM_URL", mcpc_upstream_url(a->upstream))))
        goto fail;
    if (resource_tmpl && !(a->env[n++] = mcpc_auth_envvar("MCPCERT_RESOURCE_URI", resource_tmpl)))
        goto fail;
    return MCPC_OK;
fail:
    if (rc == MCPC_ERR_NOMEM)
        snprintf(err, errlen, "out of memory");
    mcpc_auth_stop(a);
    return rc;
}

void mcpc_auth_stop(mcpc_auth_env *a)
{
    mcpc_auth_case_end(a);
    mcpc_upstream_stop(a->upstream);
    mcpc_as_stop(a->as);
    for (size_t i = 0; i < MCPC_AUTH_MAX_ENV; i++)
        free(a->env[i]);
    memset(a, 0, sizeof *a);
}

mcpc_err mcpc_auth_case_begin(mcpc_auth_env *a, const char *endpoint)
{
    mcpc_auth_case_end(a);
    snprintf(a->resource, sizeof a->resource, "%s", endpoint);
    a->token = mcpc_as_mint_access(a->as, a->resource, MCPC_AUTH_SCOPE_ALL, MCPC_BATTERY_ACCESS_LIFETIME,
                                   (long long)time(NULL));
    if (a->token && (a->authorization = malloc(strlen(a->token) + 8)) != NULL)
        snprintf(a->authorization, strlen(a->token) + 8, "Bearer %s", a->token);
    a->state = mcpc_battery_state_new();
    if (!a->token || !a->authorization || !a->state) {
        mcpc_auth_case_end(a);
        return MCPC_ERR_NOMEM;
    }
    return MCPC_OK;
}

void mcpc_auth_case_end(mcpc_auth_env *a)
{
    free(a->token);
    free(a->authorization);
    mcpc_battery_state_free(a->state);
    a->token = a->authorization = NULL;
    a->state = NULL;
    a->resource[0] = '\0';
}

int mcpc_auth_call_token(void *arg, const char *tool, json_t *arguments, char **authorization,
                         char **dpop)
{
    mcpc_auth_env *a = arg;
    mcpc_battery_token t;
    json_t *args = arguments ? json_incref(arguments) : json_object();
    mcpc_battery_ctx bc = {.resource = a->resource, .endpoint = a->resource, .tool = tool,
                           .arguments = args, .state = a->state};
    int rc = -1;
    *authorization = *dpop = NULL;
    memset(&t, 0, sizeof t);
    if (a->as && a->state && mcpc_battery_make(a->as, "call-valid", &bc, &t) == MCPC_OK &&
        t.authorization) {
        *authorization = t.authorization;
        *dpop = t.dpop;
        t.authorization = t.dpop = NULL;
        rc = 0;
    }
    mcpc_battery_token_clear(&t);
    json_decref(args);
    return rc;
}
