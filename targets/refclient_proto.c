/* refclient: the protocol. Era negotiation, the requests and their `_meta`, the headers each
 * HTTP request carries, and the two actions (tools/list, tools/call).
 *
 * - Negotiation: server/discover first (a modern request: `_meta`, and on HTTP the modern
 *   headers). A result listing 2026-07-28 means 2026-07-28. An error that only a modern server
 *   gives (-32020 header mismatch, -32021 missing capability, -32022 unsupported version) means
 *   a modern server that refused us: no fallback, we fail. Any other answer (any other error
 *   code, an HTTP status without a response, on stdio also 2 s of silence) means 2025-11-25:
 *   initialize, then notifications/initialized.
 * - 2026-07-28: every request carries params._meta with protocolVersion, clientCapabilities
 *   ({}) and clientInfo; on HTTP MCP-Protocol-Version and Mcp-Method on every request, Mcp-Name
 *   on tools/call, resources/read and prompts/get, and Mcp-Param-* for x-mcp-header arguments.
 * - 2025-11-25: no `_meta`; on HTTP MCP-Protocol-Version (the negotiated one) on everything
 *   after initialize, and the session id (refclient_http.c) captured from initialize.
 * - Request ids are integers from 1, unique on the connection. */
#include "refclient.h"
#include "jsonrpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2025-11-25 versions we accept from initialize (their wire behaviour is the same for us). */
static const char *const legacy_versions[] = { "2025-11-25", "2025-06-18", "2025-03-26" };

/* Set c->err and return rc. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static mcpc_err fail(struct mcpc_rc *c, mcpc_err rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return rc;
}

void mcpc_rc_init(struct mcpc_rc *c)
{
    memset(c, 0, sizeof *c);
    c->next_id = 1;
}

void mcpc_rc_fini(struct mcpc_rc *c)
{
    if (c->conn)
        c->conn->close(c->conn);
    c->conn = NULL;
    json_decref(c->tools);
    json_decref(c->xheaders);
    c->tools = c->xheaders = NULL;
}

static json_int_t take_id(struct mcpc_rc *c)
{
    return c->flaw[MCPC_RC_FLAW_REUSE_ID] ? 1 : c->next_id++;
}

static bool modern(const struct mcpc_rc *c)
{
    return c->era == MCPC_RC_ERA_MODERN;
}

/* The per-request protocol fields of 2026-07-28. New reference or NULL. */
static json_t *meta(void)
{
    return json_pack("{s:s, s:{}, s:{s:s, s:s}}", MCPC_RC_META_VERSION, MCPC_RC_MODERN,
                     MCPC_RC_META_CAPS, MCPC_RC_META_INFO, "name", MCPC_RC_NAME, "version",
                     MCPC_RC_VERSION);
}

/* The headers of one POST (HTTP only): MCP-Protocol-Version; in 2026-07-28 with a method
 * (requests) also Mcp-Method, Mcp-Name and the Mcp-Param-* of decls (the tool's x-mcp-header
 * declarations, borrowed, may be NULL). params borrowed, may be NULL. */
static mcpc_err add_headers(struct mcpc_rc *c, bool mod, const char *method, json_t *params,
                            json_t *decls, struct mcpc_rc_hdrs *h)
{
    const char *version = mod ? MCPC_RC_MODERN : (c->version[0] ? c->version : NULL);
    json_t *name = NULL, *decl;
    size_t i;

    if (!c->http)
        return MCPC_OK;
    if (version && !c->flaw[MCPC_RC_FLAW_NO_VERSION_HEADER] &&
        mcpc_rc_hdrs_add(h, "MCP-Protocol-Version", version) != MCPC_OK)
        return fail(c, MCPC_ERR_NOMEM, "out of memory");
    if (!mod || !method)
        return MCPC_OK;
    if (mcpc_rc_hdrs_add(h, "Mcp-Method", method) != MCPC_OK)
        return fail(c, MCPC_ERR_NOMEM, "out of memory");

    if (strcmp(method, "tools/call") == 0 && !c->flaw[MCPC_RC_FLAW_NO_MCP_NAME])
        name = json_object_get(params, "name");
    else if (strcmp(method, "prompts/get") == 0)
        name = json_object_get(params, "name");
    else if (strcmp(method, "resources/read") == 0)
        name = json_object_get(params, "uri");
    if (json_is_string(name)) {
        char *v = mcpc_rc_header_encode(json_string_value(name), json_string_length(name), false);
        mcpc_err rc = v ? mcpc_rc_hdrs_add(h, "Mcp-Name", v) : MCPC_ERR_NOMEM;
        free(v);
        if (rc != MCPC_OK)
            return fail(c, MCPC_ERR_NOMEM, "out of memory");
    }

    json_array_foreach(decls, i, decl) {
        const char *header = json_string_value(json_object_get(decl, "header"));
        json_t *v = mcpc_rc_path_value(json_object_get(params, "arguments"),
                                       json_object_get(decl, "path"));
        char why[160], *value = NULL, hname[300];
        mcpc_err rc;

        if (!v || json_is_null(v))
            continue;                          /* no value, no header */
        rc = mcpc_rc_param_value(v, c->flaw[MCPC_RC_FLAW_RAW_PARAM_HEADER], &value, why,
                                 sizeof why);
        if (rc == MCPC_ERR_INVALID)
            return fail(c, rc, "tools/call %s: cannot mirror an argument into Mcp-Param-%s: %s",
                        json_string_value(json_object_get(params, "name")), header, why);
        snprintf(hname, sizeof hname, "Mcp-Param-%s", header);
        if (rc == MCPC_OK)
            rc = mcpc_rc_hdrs_add(h, hname, value);
        free(value);
        if (rc != MCPC_OK)
            return fail(c, MCPC_ERR_NOMEM, "out of memory");
    }
    return MCPC_OK;
}

/* Send method(params) as a request and wait for its response. params is stolen (NULL: no
 * params); with_meta adds the 2026-07-28 `_meta`; mod says which era's headers to send.
 * On MCPC_OK *msg is the response (new ref; NULL when an HTTP status came without one) and
 * *status the HTTP status (0 on stdio). */
static mcpc_err roundtrip(struct mcpc_rc *c, const char *method, json_t *params, bool mod,
                          bool with_meta, json_t *decls, int timeout_ms, json_t **msg,
                          long *status)
{
    struct mcpc_rc_hdrs h = { 0 };
    struct mcpc_rc_reply r = { 0 };
    json_t *req = NULL, *id = NULL;
    char err[sizeof c->err];
    mcpc_err rc;

    *msg = NULL;
    *status = 0;
    if (with_meta) {
        if (!params)
            params = json_object();
        if (!params || json_object_set_new(params, "_meta", meta()) != 0) {
            rc = fail(c, MCPC_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    if ((rc = add_headers(c, mod, method, params, decls, &h)) != MCPC_OK)
        goto out;
    if (!(id = json_integer(take_id(c))) || !(req = mcpc_jsonrpc_request(id, method, params))) {
        rc = fail(c, MCPC_ERR_NOMEM, "out of memory");
        goto out;
    }
    err[0] = '\0';
    rc = c->conn->request(c->conn, req, json_integer_value(id), &h, timeout_ms, &r, err,
                          sizeof err);
    if (rc != MCPC_OK) {
        fail(c, rc, "%s: %s", method, err);
        goto out;
    }
    *msg = r.msg;
    *status = r.status;
out:
    mcpc_rc_hdrs_clear(&h);
    json_decref(params);
    json_decref(id);
    json_decref(req);
    return rc;
}

/* " (HTTP <status>)" on HTTP, "" on stdio, in buf (at least 24 bytes). */
static const char *http_note(const struct mcpc_rc *c, long status, char *buf)
{
    buf[0] = '\0';
    if (c->http)
        snprintf(buf, 24, " (HTTP %ld)", status);
    return buf;
}

/* Judge a response: MCPC_OK with *result (borrowed from msg) when it is a usable result. */
static mcpc_err expect_result(struct mcpc_rc *c, const char *method, json_t *msg, long status,
                              json_t **result)
{
    json_t *e = json_object_get(msg, "error"), *res = json_object_get(msg, "result");
    const char *rt;
    char note[24];

    *result = NULL;
    if (!msg)
        return fail(c, MCPC_ERR_PROTOCOL, "%s: HTTP %ld without a JSON-RPC response", method,
                    status);
    if (e) {
        json_t *code = json_object_get(e, "code");
        const char *text = json_string_value(json_object_get(e, "message"));
        return fail(c, MCPC_ERR_PROTOCOL, "%s: error %" JSON_INTEGER_FORMAT "%s: %s", method,
                    json_is_integer(code) ? json_integer_value(code) : 0,
                    http_note(c, status, note), text ? text : "(no message)");
    }
    if (!json_is_object(res))
        return fail(c, MCPC_ERR_PROTOCOL, "%s: the result is not an object", method);
    /* 2026-07-28: no resultType means complete; input_required needs MRTR, which we lack. */
    rt = json_string_value(json_object_get(res, "resultType"));
    if (modern(c) && json_object_get(res, "resultType")) {
        if (!rt)
            return fail(c, MCPC_ERR_PROTOCOL, "%s: resultType is not a string", method);
        if (strcmp(rt, "input_required") == 0)
            return fail(c, MCPC_ERR_UNSUPPORTED,
                        "%s: the server asks for input (input_required), which this client "
                        "does not support", method);
        if (strcmp(rt, "complete") != 0)
            return fail(c, MCPC_ERR_PROTOCOL, "%s: unknown resultType \"%.64s\"", method, rt);
    }
    *result = res;
    return MCPC_OK;
}

/* A request from the server (borrowed): 2025-11-25 allows them and wants an answer (ping:
 * {}, anything else: -32601); a 2026-07-28 server must send none, and we do not answer. */
static void on_server_request(void *ctx, json_t *request)
{
    struct mcpc_rc *c = ctx;
    const char *method = json_string_value(json_object_get(request, "method"));
    json_t *id = json_object_get(request, "id"), *answer, *empty = json_object();
    struct mcpc_rc_hdrs h = { 0 };
    char err[256];
    long status;

    if (c->era != MCPC_RC_ERA_LEGACY) {
        fprintf(stderr, "refclient: ignoring a %.64s request from the server\n",
                method ? method : "?");
        json_decref(empty);
        return;
    }
    if (method && strcmp(method, "ping") == 0)
        answer = mcpc_jsonrpc_result(id, empty);
    else
        answer = mcpc_jsonrpc_error(id, MCPC_RPC_METHOD_NOT_FOUND, "Method not found", NULL);
    if (answer && add_headers(c, false, NULL, NULL, NULL, &h) == MCPC_OK &&
        c->conn->send(c->conn, answer, &h, &status, err, sizeof err) != MCPC_OK)
        fprintf(stderr, "refclient: answering the server's %.64s request: %s\n",
                method ? method : "?", err);
    mcpc_rc_hdrs_clear(&h);
    json_decref(answer);
    json_decref(empty);
}

/* 1 if the error object e is one only a 2026-07-28 server sends. */
static int modern_error(json_t *e)
{
    json_int_t code = json_integer_value(json_object_get(e, "code"));

    return code == MCPC_RPC_HEADER_MISMATCH || code == MCPC_RPC_MISSING_CLIENT_CAP ||
           code == MCPC_RPC_UNSUPPORTED_VERSION;
}

/* The MCP-S profile a server advertises under holder (capabilities.extensions in 2026-07-28,
 * capabilities.experimental in 2025-11-25), kept in c->mcps_profile. */
static void note_mcps(struct mcpc_rc *c, json_t *holder)
{
    const char *p = json_string_value(json_object_get(json_object_get(holder, MCPC_RC_MCPS), "profile"));
    snprintf(c->mcps_profile, sizeof c->mcps_profile, "%s", p && strlen(p) < 16 ? p : "");
}

/* server/discover. MCPC_OK with *is_modern set, or a failure (c->err). */
static mcpc_err discover(struct mcpc_rc *c, bool *is_modern)
{
    json_t *msg = NULL, *res, *versions, *v, *e;
    long status;
    size_t i;
    mcpc_err rc;
    char note[24];

    *is_modern = false;
    rc = roundtrip(c, "server/discover", NULL, true, true, NULL,
                   c->http ? MCPC_RC_REQUEST_MS : MCPC_RC_PROBE_MS, &msg, &status);
    if (rc == MCPC_ERR_TIMEOUT && !c->http) {
        fprintf(stderr, "refclient: no answer to server/discover in %d ms: speaking %s\n",
                MCPC_RC_PROBE_MS, MCPC_RC_LEGACY);
        return MCPC_OK;
    }
    if (rc != MCPC_OK)
        return rc;
    res = json_object_get(msg, "result");
    e = json_object_get(msg, "error");
    versions = json_object_get(res, "supportedVersions");
    json_array_foreach(versions, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), MCPC_RC_MODERN) == 0)
            *is_modern = true;
    if (*is_modern)
        note_mcps(c, json_object_get(json_object_get(res, "capabilities"), "extensions"));
    if (e && modern_error(e)) {
        const char *text = json_string_value(json_object_get(e, "message"));
        rc = fail(c, MCPC_ERR_PROTOCOL,
                  "server/discover: a %s server refused us: error %" JSON_INTEGER_FORMAT
                  "%s: %s", MCPC_RC_MODERN, json_integer_value(json_object_get(e, "code")),
                  http_note(c, status, note), text ? text : "(no message)");
    } else if (!*is_modern) {
        fprintf(stderr, "refclient: server/discover did not offer %s (%s): speaking %s\n",
                MCPC_RC_MODERN, e ? "an error" : res ? "a result without it" : "no response",
                MCPC_RC_LEGACY);
    }
    json_decref(msg);
    return rc;
}

/* The initialize params. New reference or NULL. */
static json_t *initialize_params(void)
{
    return json_pack("{s:s, s:{}, s:{s:s, s:s}}", "protocolVersion", MCPC_RC_LEGACY,
                     "capabilities", "clientInfo", "name", MCPC_RC_NAME, "version",
                     MCPC_RC_VERSION);
}

/* 2025-11-25: initialize, then notifications/initialized. */
static mcpc_err initialize(struct mcpc_rc *c)
{
    json_t *msg = NULL, *res, *note = NULL;
    struct mcpc_rc_hdrs h = { 0 };
    const char *version;
    char err[sizeof c->err];
    long status;
    mcpc_err rc;
    size_t k;

    c->era = MCPC_RC_ERA_LEGACY;
    c->conn->want_session = true;
    rc = roundtrip(c, "initialize", initialize_params(), false, false, NULL, MCPC_RC_REQUEST_MS,
                   &msg, &status);
    c->conn->want_session = false;
    if (rc != MCPC_OK || (rc = expect_result(c, "initialize", msg, status, &res)) != MCPC_OK)
        goto out;
    note_mcps(c, json_object_get(json_object_get(res, "capabilities"), "experimental"));
    version = json_string_value(json_object_get(res, "protocolVersion"));
    for (k = 0; version && k < sizeof legacy_versions / sizeof *legacy_versions; k++)
        if (strcmp(version, legacy_versions[k]) == 0)
            break;
    if (!version || k == sizeof legacy_versions / sizeof *legacy_versions) {
        rc = fail(c, MCPC_ERR_PROTOCOL, "initialize: the server chose protocol version %.64s, "
                  "which this client does not speak", version ? version : "(none)");
        goto out;
    }
    snprintf(c->version, sizeof c->version, "%s", version);
    if (c->flaw[MCPC_RC_FLAW_NO_INITIALIZED])
        goto out;
    if (!(note = mcpc_jsonrpc_notification("notifications/initialized", NULL))) {
        rc = fail(c, MCPC_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = add_headers(c, false, NULL, NULL, NULL, &h)) != MCPC_OK)
        goto out;
    err[0] = '\0';
    if ((rc = c->conn->send(c->conn, note, &h, &status, err, sizeof err)) != MCPC_OK)
        fail(c, rc, "notifications/initialized: %s", err);
out:
    mcpc_rc_hdrs_clear(&h);
    json_decref(note);
    json_decref(msg);
    return rc;
}

/* initialize-after-discover flaw: an initialize on top of a working 2026-07-28 session, sent
 * like any other modern request (so that only "never initialize" is broken); whatever comes
 * back is ignored. */
static void stray_initialize(struct mcpc_rc *c)
{
    json_t *msg = NULL;
    long status;

    if (roundtrip(c, "initialize", initialize_params(), true, true, NULL, MCPC_RC_PROBE_MS, &msg,
                  &status) != MCPC_OK)
        c->err[0] = '\0';
    json_decref(msg);
}

mcpc_err mcpc_rc_connect(struct mcpc_rc *c)
{
    bool is_modern = false;
    enum mcpc_rc_era forced = c->era;
    mcpc_err rc;

    c->conn->on_request = on_server_request;
    c->conn->on_request_ctx = c;
    c->era = MCPC_RC_ERA_AUTO;
    if (forced == MCPC_RC_ERA_LEGACY)
        return initialize(c);
    if ((rc = discover(c, &is_modern)) != MCPC_OK)
        return rc;
    if (!is_modern) {
        if (forced == MCPC_RC_ERA_MODERN)
            return fail(c, MCPC_ERR_UNSUPPORTED, "server/discover: the server does not offer "
                        "%s, the only version this client was told to speak", MCPC_RC_MODERN);
        return initialize(c);
    }
    c->era = MCPC_RC_ERA_MODERN;
    snprintf(c->version, sizeof c->version, "%s", MCPC_RC_MODERN);
    if (c->flaw[MCPC_RC_FLAW_INITIALIZE_AFTER_DISCOVER])
        stray_initialize(c);
    return MCPC_OK;
}

/* stray-response flaw: a JSON-RPC response frame the server never asked for. */
static void stray_response(struct mcpc_rc *c)
{
    json_t *frame = json_pack("{s:s, s:i, s:{}}", "jsonrpc", "2.0", "id", 1, "result");
    struct mcpc_rc_hdrs h = { 0 };
    char err[256];
    long status;

    c->strayed = true;
    if (frame && add_headers(c, modern(c), NULL, NULL, NULL, &h) == MCPC_OK)
        (void)c->conn->send(c->conn, frame, &h, &status, err, sizeof err);
    mcpc_rc_hdrs_clear(&h);
    json_decref(frame);
    c->err[0] = '\0';
}

/* Add the tools of one page (borrowed) to tools and, on HTTP in 2026-07-28, their
 * x-mcp-header declarations to xh; invalid tools are left out with a warning. */
static mcpc_err take_tools(struct mcpc_rc *c, json_t *page, json_t *tools, json_t *xh)
{
    size_t i;
    json_t *t;

    json_array_foreach(page, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        json_t *decls = NULL;
        char why[200];

        if (!name) {
            fprintf(stderr, "refclient: excluding a tool without a name\n");
            continue;
        }
        if (c->http && modern(c)) {
            mcpc_err rc = mcpc_rc_xheaders_scan(json_object_get(t, "inputSchema"), &decls, why,
                                                sizeof why);
            if (rc == MCPC_ERR_INVALID) {
                fprintf(stderr, "refclient: excluding tool %.128s: %s\n", name, why);
                continue;
            }
            if (rc != MCPC_OK || json_object_set_new(xh, name, decls) != 0)
                return fail(c, MCPC_ERR_NOMEM, "out of memory");
        }
        if (json_array_append(tools, t) != 0)
            return fail(c, MCPC_ERR_NOMEM, "out of memory");
    }
    return MCPC_OK;
}

mcpc_err mcpc_rc_list_tools(struct mcpc_rc *c)
{
    json_t *tools = json_array(), *xh = json_object(), *cursor = NULL, *msg = NULL, *res;
    mcpc_err rc = MCPC_ERR_NOMEM;
    long status;

    if (!tools || !xh) {
        fail(c, rc, "out of memory");
        goto out;
    }
    for (int page = 0;; page++) {
        json_t *params = NULL, *list, *next;

        if (page == MCPC_RC_MAX_PAGES) {
            rc = fail(c, MCPC_ERR_PROTOCOL, "tools/list: still a nextCursor after %d pages",
                      MCPC_RC_MAX_PAGES);
            goto out;
        }
        if (cursor && !(params = json_pack("{s:O}", "cursor", cursor))) {
            rc = fail(c, MCPC_ERR_NOMEM, "out of memory");
            goto out;
        }
        json_decref(msg);
        rc = roundtrip(c, "tools/list", params, modern(c), modern(c), NULL, MCPC_RC_REQUEST_MS,
                       &msg, &status);
        if (rc != MCPC_OK || (rc = expect_result(c, "tools/list", msg, status, &res)) != MCPC_OK)
            goto out;
        list = json_object_get(res, "tools");
        if (!json_is_array(list)) {
            rc = fail(c, MCPC_ERR_PROTOCOL, "tools/list: the result has no tools array");
            goto out;
        }
        if ((rc = take_tools(c, list, tools, xh)) != MCPC_OK)
            goto out;
        next = json_object_get(res, "nextCursor");
        if (!next)
            break;
        if (!json_is_string(next)) {
            rc = fail(c, MCPC_ERR_PROTOCOL, "tools/list: nextCursor is not a string");
            goto out;
        }
        json_decref(cursor);
        cursor = json_incref(next);
    }
    json_decref(c->tools);
    json_decref(c->xheaders);
    c->tools = json_incref(tools);
    c->xheaders = json_incref(xh);
    if (c->flaw[MCPC_RC_FLAW_STRAY_RESPONSE] && !c->strayed)
        stray_response(c);
    rc = MCPC_OK;
out:
    json_decref(tools);
    json_decref(xh);
    json_decref(cursor);
    json_decref(msg);
    return rc;
}

/* The tool called name in the last listing (borrowed), or NULL. */
static json_t *find_tool(struct mcpc_rc *c, const char *name)
{
    size_t i;
    json_t *t;

    json_array_foreach(c->tools, i, t)
        if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0)
            return t;
    return NULL;
}

/* The concatenated text of the text blocks in content (borrowed). New string or NULL. */
static json_t *result_text(json_t *content)
{
    size_t i, len = 0, at = 0;
    json_t *b, *out;
    char *buf;

    json_array_foreach(content, i, b)
        if (json_is_string(json_object_get(b, "text")) &&
            json_is_string(json_object_get(b, "type")) &&
            strcmp(json_string_value(json_object_get(b, "type")), "text") == 0)
            len += json_string_length(json_object_get(b, "text"));
    if (!(buf = malloc(len + 1)))
        return NULL;
    json_array_foreach(content, i, b) {
        json_t *t = json_object_get(b, "text");
        if (json_is_string(t) && json_is_string(json_object_get(b, "type")) &&
            strcmp(json_string_value(json_object_get(b, "type")), "text") == 0) {
            memcpy(buf + at, json_string_value(t), json_string_length(t));
            at += json_string_length(t);
        }
    }
    out = json_stringn_nocheck(buf, at);
    free(buf);
    return out;
}

mcpc_err mcpc_rc_call_tool(struct mcpc_rc *c, const char *name, json_t *arguments,
                           json_t **text, bool *is_error)
{
    json_t *params = NULL, *msg = NULL, *res, *args;
    long status;
    mcpc_err rc;

    *text = NULL;
    *is_error = false;
    if (!c->tools && (rc = mcpc_rc_list_tools(c)) != MCPC_OK)
        return rc;
    if (!find_tool(c, name))
        return fail(c, MCPC_ERR_NOT_FOUND, "tools/call %.128s: no such tool in the listing "
                    "(or it was excluded): not called", name);
    args = c->flaw[MCPC_RC_FLAW_DROP_ARGUMENTS] ? json_object() : json_incref(arguments);
    params = args ? json_pack("{s:s, s:o}", "name", name, "arguments", args)
                  : json_pack("{s:s}", "name", name);
    if (!params)
        return fail(c, MCPC_ERR_NOMEM, "out of memory");
    rc = roundtrip(c, "tools/call", params, modern(c),
                   modern(c) && !c->flaw[MCPC_RC_FLAW_NO_META],
                   json_object_get(c->xheaders, name), MCPC_RC_REQUEST_MS, &msg, &status);
    if (rc != MCPC_OK || (rc = expect_result(c, "tools/call", msg, status, &res)) != MCPC_OK)
        goto out;
    if (!(*text = result_text(json_object_get(res, "content")))) {
        rc = fail(c, MCPC_ERR_NOMEM, "out of memory");
        goto out;
    }
    *is_error = json_is_true(json_object_get(res, "isError"));
out:
    json_decref(msg);
    return rc;
}
