/* refserver: the OAuth gate in front of the MCP endpoint (docs/auth.md).
 *
 * It decides before anything is dispatched, so a refused request runs nothing (the ledger
 * stays as it was):
 * - no credential: 401, `WWW-Authenticate: Bearer resource_metadata="<PRM URL>"`;
 * - a credential that does not verify, or is not a JWT (a static API key): 401 with
 *   error="invalid_token";
 * - a valid access token without the scope the call needs (mcp:tools; mcp:write as well for
 *   write-class tools): 403 error="insufficient_scope" naming every scope needed;
 * - a tool that needs a per-call token, called with anything else: 401 with a DPoP challenge and
 *   -31002 (the per-call token itself: refserver_calltoken.c).
 * Tokens count only in the Authorization header; a token in the query or a form body is not
 * even looked at. The body is read here the way the dispatcher will read it, and the tool is
 * looked up the way the dispatcher will look it up, so the rules applied are those of the tool
 * that would run. */
#include "refserver_auth.h"
#include "jsonrpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DESCRIPTION_MAX 200        /* characters of an error_description */

/* Copy text into out as an RFC 6750 error_description may hold it: printable ASCII without '"'
 * and '\\', cut at DESCRIPTION_MAX characters. */
static void describe(char *out, size_t size, const char *text)
{
    size_t o = 0;

    for (const char *p = text; *p && o + 1 < size && o < DESCRIPTION_MAX; p++) {
        unsigned char c = (unsigned char)*p;
        out[o++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '\'';
    }
    out[o] = '\0';
}

/* The Bearer challenge: error (NULL: none, the bare "here is where to get a token" form),
 * error_description, scope, and resource_metadata (left out under no-resource-metadata). */
static void bearer_challenge(const struct mcpc_ref_auth *a, char *out, size_t size,
                             const char *error, const char *why, const char *scope)
{
    char desc[DESCRIPTION_MAX + 1];
    size_t o = (size_t)snprintf(out, size, "Bearer");
    const char *sep = " ";

    if (error && o < size) {
        describe(desc, sizeof desc, why ? why : "");
        o += (size_t)snprintf(out + o, size - o, " error=\"%s\", error_description=\"%s\"",
                              error, desc);
        sep = ", ";
    }
    if (scope && o < size) {
        o += (size_t)snprintf(out + o, size - o, "%sscope=\"%s\"", sep, scope);
        sep = ", ";
    }
    if (!a->flaw[MCPC_REF_FLAW_NO_RESOURCE_METADATA] && o < size)
        snprintf(out + o, size - o, "%sresource_metadata=\"%s\"", sep, a->prm_url);
}

/* Answer status with a JSON-RPC error (id borrowed, may be NULL; data borrowed, may be NULL)
 * and the challenge; log the refusal. */
static mcpc_err refuse(const mcpc_listener_request *req, mcpc_listener_response *res,
                       unsigned status, json_t *id, int code, json_t *data,
                       const char *challenge, const char *why)
{
    char msg[400], shown[DESCRIPTION_MAX + 1];
    json_t *err;
    char *text = NULL;
    size_t len = 0;
    mcpc_err rc = MCPC_ERR_NOMEM;

    /* why may quote token text (a kid, an iss), cut anywhere: show it as plain ASCII */
    describe(shown, sizeof shown, why);
    fprintf(stderr, "refserver: %s %s from %s: %u, %s\n", req->method, MCPC_REF_HTTP_PATH,
            req->client, status, shown);
    snprintf(msg, sizeof msg, "%s: %s", status == 403 ? "Forbidden" : "Unauthorized", shown);
    if (!(err = mcpc_jsonrpc_error(id, code, msg, data)) ||
        !(text = mcpc_jsonrpc_dump(err, 0, &len)))
        goto out;
    if ((rc = mcpc_listener_response_set(res, status, "application/json", text, len)) == MCPC_OK)
        rc = mcpc_listener_response_header(res, "WWW-Authenticate", challenge);
out:
    free(text);
    json_decref(err);
    return rc;
}

/* 401 with a Bearer challenge; error NULL for "no credential". */
static mcpc_err refuse_bearer(const struct mcpc_ref_auth *a, const mcpc_listener_request *req,
                              mcpc_listener_response *res, json_t *id, const char *error,
                              const char *why)
{
    char ch[700];

    bearer_challenge(a, ch, sizeof ch, error, why, NULL);
    return refuse(req, res, 401, id, MCPC_REF_RPC_UNAUTHORIZED, NULL, ch, why);
}

/* 403 insufficient_scope, naming every scope the call needs. */
static mcpc_err refuse_scope(const struct mcpc_ref_auth *a, const mcpc_listener_request *req,
                             mcpc_listener_response *res, json_t *id, const char *scope,
                             const char *why)
{
    char ch[700];

    bearer_challenge(a, ch, sizeof ch, "insufficient_scope", why, scope);
    return refuse(req, res, 403, id, MCPC_REF_RPC_UNAUTHORIZED, NULL, ch, why);
}

/* 401 with a DPoP challenge and -31002 (data.reason): a per-call token was needed or failed. */
static mcpc_err refuse_call(const mcpc_listener_request *req, mcpc_listener_response *res,
                            json_t *id, const char *reason, const char *why)
{
    char ch[400], desc[DESCRIPTION_MAX + 1];
    json_t *data = json_pack("{s:s}", "reason", reason);
    mcpc_err rc;

    if (!data)
        return MCPC_ERR_NOMEM;
    describe(desc, sizeof desc, why);
    snprintf(ch, sizeof ch, "DPoP error=\"invalid_token\", error_description=\"%s\", "
             "algs=\"ES256 EdDSA\"", desc);
    rc = refuse(req, res, 401, id, MCPC_REF_RPC_CALL_TOKEN_REJECTED, data, ch, why);
    json_decref(data);
    return rc;
}

/* The value of parameter name in an application/x-www-form-urlencoded string s[0..len) (a
 * query or a form body), as a new string; NULL when absent. Not percent-decoded: a JWT needs
 * no escaping. */
static char *form_param(const char *s, size_t len, const char *name)
{
    size_t nl = strlen(name), i = 0;

    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != '&')
            end++;
        if (end - i > nl && memcmp(s + i, name, nl) == 0 && s[i + nl] == '=')
            return strndup(s + i + nl + 1, end - i - nl - 1);
        i = end + 1;
    }
    return NULL;
}

/* query-token-accepted flaw: a server that also takes RFC 6750's other two methods, the
 * access_token query parameter and the form-encoded body parameter. New string or NULL. */
static char *token_outside_header(const mcpc_listener_request *req)
{
    const mcpc_listener_header *ct = mcpc_listener_header_find(req, "Content-Type", NULL);
    char *t = form_param(req->query, strlen(req->query), "access_token");

    if (!t && ct && ct->value_len >= 33 &&
        strncasecmp(ct->value, "application/x-www-form-urlencoded", 33) == 0)
        t = form_param(req->body, req->body_len, "access_token");
    return t;
}

/* The class of the call in msg (borrowed), and its tool (borrowed from msg) when it is a
 * tools/call with a name. */
static enum mcpc_ref_tool_class class_of(const struct mcpc_ref_server *s, json_t *msg,
                                         const char **tool)
{
    const char *method = json_string_value(json_object_get(msg, "method"));
    const char *name = json_string_value(json_object_get(json_object_get(msg, "params"), "name"));

    *tool = NULL;
    if (!method || strcmp(method, "tools/call") != 0 || !name)
        return MCPC_REF_TOOL_READ;
    *tool = name;
    return mcpc_ref_tool_class(s, name);
}

/* The strictest class among the calls in root (the parsed body, borrowed): one message, or each
 * element of a batch (which accept-batch serves one by one). Messages are looked at even when
 * they are not valid JSON-RPC, because lax-version and null-id repair and serve those. *tool:
 * the tool of that class (borrowed from root), or NULL. */
static enum mcpc_ref_tool_class classify(const struct mcpc_ref_server *s, json_t *root,
                                         const char **tool)
{
    enum mcpc_ref_tool_class cls = MCPC_REF_TOOL_READ, c;
    const char *t;

    *tool = NULL;
    if (json_is_object(root))
        return class_of(s, root, tool);
    for (size_t i = 0; i < json_array_size(root); i++) {
        c = class_of(s, json_array_get(root, i), &t);
        if (t && (c > cls || !*tool)) {
            cls = c > cls ? c : cls;
            *tool = t;
        }
    }
    return cls;
}

/* 1 if the header value v[0..len) is exactly the static key. */
static int is_static_key(const char *v, size_t len)
{
    return len == strlen(MCPC_REF_STATIC_KEY) && memcmp(v, MCPC_REF_STATIC_KEY, len) == 0;
}

mcpc_err mcpc_ref_auth_gate(struct mcpc_ref_auth *a, const struct mcpc_ref_server *s,
                            const mcpc_listener_request *req, mcpc_listener_response *res,
                            bool *refused, char **token)
{
    const mcpc_listener_header *h, *key;
    json_t *root = NULL, *id = NULL;
    const char *tool, *scope, *sp;
    enum mcpc_ref_tool_class cls = MCPC_REF_TOOL_READ;
    size_t n = 0, n_key = 0, slen;
    char *cred = NULL, why[300];
    bool dpop = false;
    mcpc_err rc = MCPC_OK;

    *refused = true;
    *token = NULL;
    /* The body as the dispatcher will parse it: which tool would run, and the id to answer. */
    if (req->body_len > 0)
        root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
                          NULL);
    id = json_object_get(root, "id");
    if (!json_is_string(id) && !json_is_integer(id))
        id = NULL;
    cls = classify(s, root, &tool);
    scope = cls == MCPC_REF_TOOL_READ ? MCPC_REF_SCOPE_TOOLS : MCPC_REF_SCOPES_ALL;

    h = mcpc_listener_header_find(req, "Authorization", &n);
    key = mcpc_listener_header_find(req, "X-API-Key", &n_key);
    if (n > 1) {
        snprintf(why, sizeof why, "%zu Authorization headers", n);
        rc = refuse_bearer(a, req, res, id, "invalid_token", why);
        goto out;
    }
    if (n == 1) {
        /* "<scheme> <credentials>": the scheme is case-insensitive (RFC 9110 11.1) */
        sp = memchr(h->value, ' ', h->value_len);
        slen = sp ? (size_t)(sp - h->value) : h->value_len;
        if (slen == 6 && strncasecmp(h->value, "Bearer", 6) == 0)
            dpop = false;
        else if (slen == 4 && strncasecmp(h->value, "DPoP", 4) == 0)
            dpop = true;
        else {
            snprintf(why, sizeof why, "the Authorization scheme must be Bearer (DPoP for "
                     "per-call tokens)");
            rc = refuse_bearer(a, req, res, id, "invalid_token", why);
            goto out;
        }
        while (slen < h->value_len && h->value[slen] == ' ')
            slen++;
        if (!(cred = strndup(h->value + slen, h->value_len - slen))) {
            rc = MCPC_ERR_NOMEM;
            goto out;
        }
        if (strlen(cred) != h->value_len - slen) {
            rc = refuse_bearer(a, req, res, id, "invalid_token", "NUL in the credential");
            goto out;
        }
    } else if (a->flaw[MCPC_REF_FLAW_QUERY_TOKEN_ACCEPTED]) {
        cred = token_outside_header(req);
    }

    /* static-key-accepted flaw: a fixed API key passes for a token with every scope (a
     * per-call token is still demanded where one is needed). */
    if (a->flaw[MCPC_REF_FLAW_STATIC_KEY_ACCEPTED] && !dpop &&
        ((cred && is_static_key(cred, strlen(cred))) ||
         (!cred && n_key == 1 && is_static_key(key->value, key->value_len)))) {
        if (cls == MCPC_REF_TOOL_CALL_TOKEN) {
            rc = refuse_call(req, res, id, "typ", "this tool needs a per-call token");
            goto out;
        }
        if (!cred && !(cred = strdup(MCPC_REF_STATIC_KEY))) {
            rc = MCPC_ERR_NOMEM;
            goto out;
        }
        goto pass;
    }
    if (!cred) {
        /* auth-optional flaw: no credential at all is served as if fully authorised */
        if (a->flaw[MCPC_REF_FLAW_AUTH_OPTIONAL]) {
            if (cls == MCPC_REF_TOOL_CALL_TOKEN) {
                rc = refuse_call(req, res, id, "typ", "this tool needs a per-call token");
                goto out;
            }
            goto pass;
        }
        rc = refuse_bearer(a, req, res, id, NULL,
                           "an access token is required (Authorization: Bearer)");
        goto out;
    }
    if (dpop) {
        struct mcpc_ref_call_verdict v;
        if (cls != MCPC_REF_TOOL_CALL_TOKEN) {
            rc = refuse_bearer(a, req, res, id, "invalid_token",
                               "DPoP is taken only for per-call tokens; use Bearer");
            goto out;
        }
        mcpc_ref_call_token_check(a, req, cred, tool, &v);
        if (v.verdict == MCPC_REF_TOKEN_SCOPE)
            rc = refuse_scope(a, req, res, id, MCPC_REF_SCOPES_ALL, v.why);
        else if (v.verdict != MCPC_REF_TOKEN_OK)
            rc = refuse_call(req, res, id, v.reason, v.why);
        else
            goto pass;
        goto out;
    }
    switch (mcpc_ref_auth_verify(a, cred, MCPC_REF_TYP_ACCESS, scope, NULL, NULL, why,
                                 sizeof why)) {
    case MCPC_REF_TOKEN_OK:
        break;
    case MCPC_REF_TOKEN_SCOPE:
        rc = refuse_scope(a, req, res, id, scope, why);
        goto out;
    default:
        rc = refuse_bearer(a, req, res, id, "invalid_token", why);
        goto out;
    }
    /* call-typ-unchecked flaw: any valid token of the issuer is taken where a per-call token is
     * required */
    if (cls == MCPC_REF_TOOL_CALL_TOKEN && !a->flaw[MCPC_REF_FLAW_CALL_TYP_UNCHECKED]) {
        snprintf(why, sizeof why, "%s needs a per-call token (Authorization: DPoP <%s> with a "
                 "DPoP proof)", tool, MCPC_REF_TYP_CALL);
        rc = refuse_call(req, res, id, "typ", why);
        goto out;
    }
pass:
    *refused = false;
    *token = cred;
    cred = NULL;
out:
    free(cred);
    json_decref(root);
    return rc;
}
