/* OAuth steps that data alone cannot express (docs/auth.md): following the Bearer challenge to
 * the protected resource metadata (RFC 9728) and judging that document. Presenting tokens is
 * http_request's `token`; token passthrough is step_http.c's upstream_check. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "case.h"
#include "runner_auth.h"
#include "step_int.h"
#include "transport_http.h"

#define MCPC_AUTH_MAX_PARAM 1024

/* The value of auth-param `name` in a WWW-Authenticate value (quoted or token form), into out.
 * 1 found, 0 not. Quoted-pair escapes are resolved. */
static int mcpc_step_auth_param(const char *www, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    for (const char *p = www; p && *p; p++) {
        if (strncasecmp(p, name, nl) != 0 || (p > www && (isalnum((unsigned char)p[-1]) || p[-1] == '_')))
            continue;
        const char *q = p + nl;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q != '=')
            continue;
        q++;
        while (*q == ' ' || *q == '\t')
            q++;
        size_t o = 0;
        if (*q == '"') {
            for (q++; *q && *q != '"' && o + 1 < outlen; q++) {
                if (*q == '\\' && q[1])
                    q++;
                out[o++] = *q;
            }
        } else {
            for (; *q && *q != ',' && *q != ' ' && o + 1 < outlen; q++)
                out[o++] = *q;
        }
        out[o] = '\0';
        return 1;
    }
    return 0;
}

/* What went wrong with the last exchange, in one line. */
static const char *mcpc_step_auth_detail(mcpc_http *h)
{
    mcpc_conn *c = mcpc_http_conn(h);
    const char *d = c->ops->detail ? c->ops->detail(c) : NULL;
    return d && *d ? d : "no HTTP answer";
}

/* GET url; the JSON object it answers (new reference) or NULL with why filled. */
static json_t *mcpc_step_auth_get(mcpc_step_ctx *ctx, const char *url, char *why, size_t whylen)
{
    mcpc_http *h = NULL;
    char err[256];
    json_t *doc = NULL;
    if (mcpc_http_clone_to(ctx->http, url, &h, err, sizeof err) != MCPC_OK) {
        snprintf(why, whylen, "cannot fetch %.200s: %.150s", url, err);
        return NULL;
    }
    mcpc_transcript_note(ctx->tr, "auth_metadata: GET %s", url);
    static const char *const accept[] = {"Accept: application/json"};
    if (mcpc_http_set_headers(h, accept, 1) != MCPC_OK ||
        mcpc_http_send_method(h, "GET", NULL, 0, ctx->s ? ctx->s->timeout_ms : 5000) != MCPC_OK) {
        snprintf(why, whylen, "GET %.200s got no answer: %s", url, mcpc_step_auth_detail(h));
        goto out;
    }
    long status = mcpc_http_last_status(h);
    /* the body of a GET is read through the conn like any other */
    const char *m;
    size_t len;
    int cut = 0;
    mcpc_conn *c = mcpc_http_conn(h);
    if (c->ops->recv(c, ctx->s ? ctx->s->timeout_ms : 5000, &m, &len) != MCPC_OK)
        m = mcpc_http_last_body(h, &len, &cut);
    if (m && len)
        mcpc_transcript_add(ctx->tr, "recv", m, len);
    if (status != 200) {
        snprintf(why, whylen, "GET %.200s answered HTTP %ld, not 200", url, status);
        goto out;
    }
    doc = m ? json_loadb(m, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
        snprintf(why, whylen, "GET %.200s did not answer a JSON object", url);
    }
out:
    mcpc_http_free(h);
    return doc;
}

/* The PRM document judged; 0 good, else why is filled. */
static int mcpc_step_auth_judge(mcpc_step_ctx *ctx, json_t *prm, const char *where, char *why,
                                size_t whylen)
{
    const char *res = json_string_value(json_object_get(prm, "resource"));
    json_t *as = json_object_get(prm, "authorization_servers");
    json_t *scopes = json_object_get(prm, "scopes_supported");
    const char *endpoint = ctx->auth ? ctx->auth->resource : mcpc_http_url(ctx->http);
    if (!res) {
        snprintf(why, whylen, "%s has no resource", where);
        return 1;
    }
    if (strcmp(res, endpoint) != 0) {
        snprintf(why, whylen, "%s names resource %.150s, but this server is %.150s", where, res, endpoint);
        return 1;
    }
    if (strchr(res, '#')) {
        snprintf(why, whylen, "%s: resource %.150s has a fragment", where, res);
        return 1;
    }
    if (!json_is_array(as) || json_array_size(as) == 0) {
        snprintf(why, whylen, "%s names no authorization_servers", where);
        return 1;
    }
    if (ctx->auth && !mcpc_json_strarray_has(as, mcpc_as_issuer(ctx->auth->as))) {
        snprintf(why, whylen, "%s does not name the authorization server it was given (%s)", where,
                 mcpc_as_issuer(ctx->auth->as));
        return 1;
    }
    if (mcpc_json_strarray_has(scopes, "offline_access")) {
        snprintf(why, whylen, "%s offers offline_access, a scope for the authorization server, "
                 "not a resource", where);
        return 1;
    }
    return 0;
}

/* auth_metadata: a request without a token is refused 401 with a Bearer challenge naming the
 * resource metadata; that document and the well-known one (the path inserted after
 * /.well-known/oauth-protected-resource, RFC 9728 section 3.1) name this server as the
 * resource, the authorization server it was told to trust, and no offline_access. */
mcpc_verdict mcpc_step_auth_metadata(mcpc_step_ctx *ctx, json_t *step)
{
    const char *expected = mcpc_step_str(step, "expected",
                                         "a Bearer challenge naming correct resource metadata");
    static const char *const no_auth[] = {"Authorization:"};
    mcpc_http *h = NULL;
    json_t *prm = NULL, *wk = NULL;
    char err[256], why[400] = "", url[MCPC_AUTH_MAX_PARAM], wkurl[1200];
    mcpc_verdict v = MCPC_V_ERROR;
    if (!ctx->http || !ctx->s)
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, "", "OAuth is an HTTP matter");
    if (mcpc_http_clone(ctx->http, mcpc_era_name(ctx->s->era), &h, err, sizeof err) != MCPC_OK ||
        mcpc_http_set_headers(h, no_auth, 1) != MCPC_OK)
        return mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "harness error: %s", err);
    static const char list[] = "{\"jsonrpc\":\"2.0\",\"id\":\"auth-probe\",\"method\":\"tools/list\","
                               "\"params\":{}}";
    mcpc_transcript_note(ctx->tr, "auth_metadata: tools/list without Authorization");
    mcpc_transcript_add(ctx->tr, "send", list, sizeof list - 1);
    if (mcpc_http_send_method(h, "POST", list, sizeof list - 1, ctx->s->timeout_ms) != MCPC_OK) {
        v = mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, "no answer", "%s",
                          mcpc_step_auth_detail(h));
        goto out;
    }
    long status = mcpc_http_last_status(h);
    const char *www = mcpc_http_last_header(h, "WWW-Authenticate");
    char arrived[300];
    snprintf(arrived, sizeof arrived, "HTTP %ld, WWW-Authenticate: %.200s", status, www ? www : "(none)");
    if (status != 401 || !www || strncasecmp(www, "Bearer", 6) != 0) {
        v = mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, arrived,
                          "a request without a token must get 401 with a Bearer challenge");
        goto out;
    }
    if (!mcpc_step_auth_param(www, "resource_metadata", url, sizeof url) ||
        strncmp(url, "http", 4) != 0) {
        v = mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, arrived,
                          "the Bearer challenge names no absolute resource_metadata URL");
        goto out;
    }
    prm = mcpc_step_auth_get(ctx, url, why, sizeof why);
    if (!prm || mcpc_step_auth_judge(ctx, prm, "the resource metadata of the challenge", why, sizeof why)) {
        v = mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, url, "%s", why);
        goto out;
    }
    /* the well-known location for this resource: origin + well-known + the resource's path */
    const char *endpoint = mcpc_http_url(ctx->http);
    const char *sep = strstr(endpoint, "://");
    const char *path = sep ? strchr(sep + 3, '/') : NULL;
    int olen = path ? (int)(path - endpoint) : (int)strlen(endpoint);
    snprintf(wkurl, sizeof wkurl, "%.*s/.well-known/oauth-protected-resource%s", olen, endpoint,
             path && strcmp(path, "/") ? path : "");
    wk = mcpc_step_auth_get(ctx, wkurl, why, sizeof why);
    if (!wk || mcpc_step_auth_judge(ctx, wk, "the well-known resource metadata", why, sizeof why)) {
        v = mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, wkurl, "%s", why);
        goto out;
    }
    v = mcpc_step_say(ctx, MCPC_V_PASS, expected, url, "resource metadata at %s and %s", url, wkurl);
out:
    json_decref(prm);
    json_decref(wk);
    mcpc_http_free(h);
    return v;
}
