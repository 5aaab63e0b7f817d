/* refserver: the fetch_report tool's call to the upstream API (MCPCERT_UPSTREAM_URL).
 *
 * A server that calls another API on a client's behalf must not forward the token the client
 * gave it: that token's audience is this server, and passing it on turns the server into a
 * confused deputy (MCP security best practices, "token passthrough"). So the server asks the
 * authorization server for a token of its own, with the client credentials grant and the
 * upstream URL as the RFC 8707 resource, and sends that. The token-passthrough flaw forwards the
 * inbound token instead. */
#include "refserver_auth.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEADER_MAX (MCPC_JOSE_MAX_TOKEN + 64)   /* "Authorization: Bearer <token>" */


/* 1 if the metadata (may be NULL) lists method in token_endpoint_auth_methods_supported. */
static int auth_method_listed(const json_t *meta, const char *method)
{
    json_t *list = json_object_get(meta, "token_endpoint_auth_methods_supported");

    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *m = json_string_value(json_array_get(list, i));
        if (m && strcmp(m, method) == 0)
            return 1;
    }
    return 0;
}

/* "Authorization: Basic base64(form(id) ":" form(secret))" (RFC 6749 section 2.3.1) into a new
 * string, or NULL. */
static char *basic_header(const char *id, const char *secret)
{
    char *eid = mcpc_ref_form_escape(id), *esec = mcpc_ref_form_escape(secret);
    char *pair = NULL, *hdr = NULL;
    size_t n;

    if (!eid || !esec)
        goto out;
    n = strlen(eid) + 1 + strlen(esec);
    if (!(pair = malloc(n + 1)) ||
        !(hdr = malloc(sizeof "Authorization: Basic " + 4 * (n / 3 + 1))))
        goto out;
    snprintf(pair, n + 1, "%s:%s", eid, esec);
    memcpy(hdr, "Authorization: Basic ", sizeof "Authorization: Basic ");
    EVP_EncodeBlock((unsigned char *)hdr + sizeof "Authorization: Basic " - 1,
                    (const unsigned char *)pair, (int)n);
out:
    free(eid);
    free(esec);
    free(pair);
    return hdr;
}

/* A token of our own for the upstream: client credentials at the AS's token endpoint, with the
 * upstream URL as resource. Client authentication as the AS's metadata offers it
 * (client_secret_basic unless only client_secret_post is listed). New string, or NULL. */
static char *own_token(struct mcpc_ref_auth *a, char *why, size_t whylen)
{
    static const char *const accept = "Accept: application/json";
    static const char *const form = "Content-Type: application/x-www-form-urlencoded";
    json_t *meta, *answer = NULL;
    char *endpoint = NULL, *resource = NULL, *id = NULL, *secret = NULL, *body = NULL;
    char *basic = NULL, *token = NULL, err[300];
    const char *headers[3] = { accept, form, NULL };
    const char *t, *type;
    bool post_auth;
    struct mcpc_ref_fetched f = { 0, NULL, 0 };
    size_t n;

    if (!a->client_id || !a->client_secret) {
        mcpc_ref_say(why, whylen, "MCPCERT_AUTH_CLIENT_ID and MCPCERT_AUTH_CLIENT_SECRET are needed to "
            "call the upstream");
        return NULL;
    }
    meta = mcpc_ref_as_metadata(a->issuer, err, sizeof err);
    t = json_string_value(json_object_get(meta, "token_endpoint"));
    /* without metadata, the endpoint the embedded AS uses */
    endpoint = t ? strdup(t) : (char *)malloc(strlen(a->issuer) + sizeof "/token");
    if (endpoint && !t)
        snprintf(endpoint, strlen(a->issuer) + sizeof "/token", "%s/token", a->issuer);
    post_auth = auth_method_listed(meta, "client_secret_post") &&
                !auth_method_listed(meta, "client_secret_basic");
    resource = mcpc_ref_form_escape(a->upstream);
    id = mcpc_ref_form_escape(a->client_id);
    secret = mcpc_ref_form_escape(a->client_secret);
    if (!endpoint || !resource || !id || !secret)
        goto nomem;
    n = 128 + strlen(resource) + strlen(id) + strlen(secret);
    if (!(body = malloc(n)))
        goto nomem;
    if (post_auth)
        snprintf(body, n, "grant_type=client_credentials&resource=%s&client_id=%s&client_secret=%s",
                 resource, id, secret);
    else
        snprintf(body, n, "grant_type=client_credentials&resource=%s", resource);
    if (!post_auth && !(headers[2] = basic = basic_header(a->client_id, a->client_secret)))
        goto nomem;
    if (mcpc_ref_fetch(endpoint, body, headers, post_auth ? 2 : 3, MCPC_REF_FETCH_MAX, &f, err,
                       sizeof err) != MCPC_OK) {
        mcpc_ref_say(why, whylen, "token request: %s", err);
        goto out;
    }
    answer = json_loadb(f.body, f.len, JSON_REJECT_DUPLICATES, NULL);
    t = json_string_value(json_object_get(answer, "access_token"));
    type = json_string_value(json_object_get(answer, "token_type"));
    if (f.status != 200 || !t) {
        mcpc_ref_say(why, whylen, "the token endpoint %.200s answered %ld without an access_token",
            endpoint, f.status);
        goto out;
    }
    if (type && strcasecmp(type, "Bearer") != 0) {
        mcpc_ref_say(why, whylen, "the token endpoint issued a %.32s token, not a Bearer token", type);
        goto out;
    }
    if (strlen(t) > MCPC_JOSE_MAX_TOKEN) {
        mcpc_ref_say(why, whylen, "the issued token is over %u bytes", MCPC_JOSE_MAX_TOKEN);
        goto out;
    }
    if (!(token = strdup(t)))
        goto nomem;
    goto out;
nomem:
    mcpc_ref_say(why, whylen, "out of memory");
out:
    mcpc_ref_fetched_clear(&f);
    json_decref(answer);
    json_decref(meta);
    free(endpoint);
    free(resource);
    free(id);
    free(secret);
    free(body);
    free(basic);
    return token;
}

mcpc_err mcpc_ref_upstream_fetch(struct mcpc_ref_auth *a, const char *inbound, char **text,
                                 char *why, size_t whylen)
{
    char *own = NULL, err[300];
    const char *use = NULL, *headers[2] = { "Accept: text/plain, application/json", NULL };
    char auth[HEADER_MAX];
    struct mcpc_ref_fetched f = { 0, NULL, 0 };
    json_t *probe;
    mcpc_err rc = MCPC_ERR_IO;

    *text = NULL;
    if (!a->upstream) {
        mcpc_ref_say(why, whylen, "no upstream (MCPCERT_UPSTREAM_URL)");
        return MCPC_ERR_USAGE;
    }
    if (a->flaw[MCPC_REF_FLAW_TOKEN_PASSTHROUGH])
        use = inbound;            /* the flaw: the client's own token goes upstream */
    else if (!(use = own = own_token(a, why, whylen)))
        return MCPC_ERR_IO;
    if (use) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", use);
        headers[1] = auth;
    }
    if ((rc = mcpc_ref_fetch(a->upstream, NULL, headers, use ? 2 : 1, MCPC_REF_UPSTREAM_MAX, &f,
                             err, sizeof err)) != MCPC_OK) {
        mcpc_ref_say(why, whylen, "upstream: %s", err);
        goto out;
    }
    if (f.status < 200 || f.status > 299) {
        mcpc_ref_say(why, whylen, "the upstream answered %ld", f.status);
        rc = MCPC_ERR_PROTOCOL;
        goto out;
    }
    /* a tool result is JSON text: the answer must be UTF-8 without NUL */
    if (strlen(f.body) != f.len || !(probe = json_stringn(f.body, f.len))) {
        mcpc_ref_say(why, whylen, "the upstream's answer is not UTF-8 text");
        rc = MCPC_ERR_PROTOCOL;
        goto out;
    }
    json_decref(probe);
    *text = f.body;
    f.body = NULL;
    rc = MCPC_OK;
out:
    mcpc_ref_fetched_clear(&f);
    free(own);
    return rc;
}
