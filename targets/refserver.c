/* The reference server's dispatcher: one input line in, zero or more output lines out.
 *
 * It applies the project's strict JSON-RPC reading (mcpc_jsonrpc_parse), decides the era of
 * each request (a request carrying the 2026-07-28 per-request _meta fields is served
 * statelessly; anything else is legacy 2025-11-25 and needs initialize first), routes it, and
 * decorates modern results (resultType, serverInfo, cache hints). Every flaw that concerns
 * framing, ids, eras or methods is implemented here; fixture flaws live in refserver_tools.c. */
#include "refserver.h"
#include "jsonrpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INSTRUCTIONS \
    "Reference server of the mcpcert conformance harness. Fixture tools: echo, add, " \
    "write_note, read_notes, fail, log, delete_notes. Side effects are recorded in the ledger " \
    "file named by MCPCERT_LEDGER."

static const char *const flaw_names[MCPC_REF_FLAW__COUNT] = {
#define MCPC_REF_FLAW_NAME(e, name) name,
    MCPC_REF_FLAWS(MCPC_REF_FLAW_NAME)
#undef MCPC_REF_FLAW_NAME
};

/* Notifications we know; they are consumed silently. */
static const char *const known_notifications[] = {
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/progress",
    "notifications/roots/list_changed",
};

/* Methods that exist in MCP but are gated by a capability this server does not advertise. */
static const char *const gated_methods[] = {
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
    "subscriptions/listen",
};

/* Zero s and set defaults. */
void mcpc_ref_server_init(struct mcpc_ref_server *s)
{
    memset(s, 0, sizeof *s);
    s->page_size = MCPC_REF_DEFAULT_PAGE_SIZE;
    s->exit_status = -1;
}

/* Free what s owns. */
void mcpc_ref_server_fini(struct mcpc_ref_server *s)
{
    mcpc_ref_notes_clear(s);
}

/* Flaw by CLI name. */
mcpc_err mcpc_ref_flaw_find(const char *name, enum mcpc_ref_flaw *out)
{
    for (size_t i = 0; i < MCPC_REF_FLAW__COUNT; i++) {
        if (strcmp(flaw_names[i], name) == 0) {
            *out = (enum mcpc_ref_flaw)i;
            return MCPC_OK;
        }
    }
    return MCPC_ERR_NOT_FOUND;
}

/* CLI name of a flaw; static. */
const char *mcpc_ref_flaw_name(enum mcpc_ref_flaw f)
{
    if ((size_t)f >= MCPC_REF_FLAW__COUNT)
        return "?";
    return flaw_names[f];
}

/* Cut an incomplete UTF-8 sequence off the end of s (snprintf truncation may leave one). */
void mcpc_ref_utf8_trim(char *s)
{
    size_t n = strlen(s), p = n, need;
    unsigned char lead;

    while (p > 0 && n - p < 4 && ((unsigned char)s[p - 1] & 0xC0) == 0x80)
        p--;
    if (p == 0)
        return;
    p--;                                  /* s[p] is the last non-continuation byte */
    lead = (unsigned char)s[p];
    if (lead < 0x80)
        return;
    need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (n - p < need)
        s[p] = '\0';
}

/* Make r an error reply with a formatted one-line message. */
void mcpc_ref_reply_error(struct mcpc_ref_reply *r, int code, const char *fmt, ...)
{
    va_list ap;

    r->code = code;
    va_start(ap, fmt);
    if (vsnprintf(r->message, sizeof r->message, fmt, ap) < 0)
        snprintf(r->message, sizeof r->message, "error %d", code);
    va_end(ap);
    mcpc_ref_utf8_trim(r->message);
}

/* Release what r owns and zero it. */
void mcpc_ref_reply_clear(struct mcpc_ref_reply *r)
{
    json_decref(r->result);
    json_decref(r->data);
    free(r->raw_text);
    memset(r, 0, sizeof *r);
}

/* Emit raw bytes through the current sink. bytes borrowed. */
void mcpc_ref_emit_raw(struct mcpc_ref_server *s, const char *bytes, size_t len)
{
    if (s->emit && len > 0)
        s->emit(s->emit_ctx, bytes, len);
}

/* Serialise msg (borrowed) on one line and emit it. */
static mcpc_err emit_msg(struct mcpc_ref_server *s, const json_t *msg)
{
    size_t len = 0;
    char *line = mcpc_jsonrpc_dump(msg, 1, &len);

    if (!line)
        return MCPC_ERR_NOMEM;
    mcpc_ref_emit_raw(s, line, len);
    free(line);
    return MCPC_OK;
}

/* The id to write in a response. Returns a new ref (NULL on allocation failure); id is
 * borrowed and non-NULL. id-type flaw: integers go back as strings. */
static json_t *wire_id(struct mcpc_ref_server *s, json_t *id)
{
    if (s->flaw[MCPC_REF_FLAW_ID_TYPE] && json_is_integer(id))
        return json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(id));
    return json_incref(id);
}

/* Emit an error response. id and data are borrowed and may be NULL (no id member). */
static mcpc_err emit_error(struct mcpc_ref_server *s, json_t *id, int code, const char *message,
                           json_t *data)
{
    json_t *wid = NULL, *msg = NULL;
    mcpc_err rc = MCPC_ERR_NOMEM;

    if (id && !(wid = wire_id(s, id)))
        goto out;
    msg = mcpc_jsonrpc_error(wid, code, message, data);
    if (!msg)
        goto out;
    rc = emit_msg(s, msg);
out:
    json_decref(msg);
    json_decref(wid);
    return rc;
}

/* Emit a result response. id (non-NULL) and result are borrowed. */
static mcpc_err emit_result(struct mcpc_ref_server *s, json_t *id, json_t *result)
{
    json_t *wid = NULL, *msg = NULL;
    mcpc_err rc = MCPC_ERR_NOMEM;

    if (!(wid = wire_id(s, id)))
        goto out;
    msg = mcpc_jsonrpc_result(wid, result);
    if (!msg)
        goto out;
    rc = emit_msg(s, msg);
out:
    json_decref(msg);
    json_decref(wid);
    return rc;
}

/* raw-newlines flaw: serialise the response with an empty text, then splice the echo text
 * into it unescaped, as a server building JSON with printf would. id and result borrowed. */
static mcpc_err emit_raw_text(struct mcpc_ref_server *s, json_t *id, json_t *result,
                              const char *raw)
{
    static const char marker[] = "\"text\":\"\"";
    json_t *wid = NULL, *msg = NULL;
    char *line = NULL, *at, *out = NULL;
    size_t len = 0, rawlen = strlen(raw), head;
    mcpc_err rc = MCPC_ERR_NOMEM;

    if (!(wid = wire_id(s, id)) || !(msg = mcpc_jsonrpc_result(wid, result)))
        goto out;
    if (!(line = mcpc_jsonrpc_dump(msg, 1, &len)))
        goto out;
    at = strstr(line, marker);
    if (!at) {
        mcpc_ref_emit_raw(s, line, len);
        rc = MCPC_OK;
        goto out;
    }
    head = (size_t)(at - line) + sizeof marker - 2;   /* up to and including the opening " */
    out = malloc(len + rawlen + 1);
    if (!out)
        goto out;
    memcpy(out, line, head);
    memcpy(out + head, raw, rawlen);
    memcpy(out + head + rawlen, line + head, len - head);
    mcpc_ref_emit_raw(s, out, len + rawlen);
    rc = MCPC_OK;
out:
    free(out);
    free(line);
    json_decref(msg);
    json_decref(wid);
    return rc;
}

/* Answer bytes that are not JSON: -32700 without id (parse-error-code flaw: -32600);
 * die-on-parse-error flaw: ask the front end to exit afterwards. reason borrowed. */
static mcpc_err answer_parse_error(struct mcpc_ref_server *s, const char *reason)
{
    char msg[256];
    int code = s->flaw[MCPC_REF_FLAW_PARSE_ERROR_CODE] ? MCPC_RPC_INVALID_REQUEST
                                                       : MCPC_RPC_PARSE_ERROR;
    mcpc_err rc;

    snprintf(msg, sizeof msg, "Parse error: %s", reason);
    mcpc_ref_utf8_trim(msg);
    rc = emit_error(s, NULL, code, msg, NULL);
    if (s->flaw[MCPC_REF_FLAW_DIE_ON_PARSE_ERROR])
        s->exit_status = 1;
    return rc;
}

/* 1 if name is in the list of n names. */
static int in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, list[i]) == 0)
            return 1;
    return 0;
}

/* ---- method handlers (same signature as the fixtures in refserver_tools.c) ------------ */

/* The MCP-S extension (catalogue-security §8: SEP-2133 extension negotiation): the profile this
 * server claims, under capabilities.extensions (2026-07-28) or capabilities.experimental
 * (2025-11-25, whose schema has no extensions member). It claims Bronze: Silver and Gold need
 * controls it does not have yet (manifests, audit). no-mcps-extension flaw: says nothing, so a
 * client cannot tell an MCP-S server from a plain one. 0, or -1 without memory. */
static int mcpc_ref_mcps_advertise(struct mcpc_ref_server *s, json_t *caps, const char *member)
{
    json_t *holder;
    if (s->flaw[MCPC_REF_FLAW_NO_MCPS_EXTENSION])
        return 0;
    holder = json_object_get(caps, member);
    if (!holder) {
        if (json_object_set_new(caps, member, json_object()) != 0)
            return -1;
        holder = json_object_get(caps, member);
    }
    return json_object_set_new(holder, MCPC_REF_MCPS_EXTENSION,
                               json_pack("{s:s,s:s}", "profile", "bronze", "version", "0.1"));
}

/* Legacy initialize: negotiate the version, describe the server, start the session. */
static mcpc_err do_initialize(struct mcpc_ref_server *s, const struct mcpc_ref_call *c,
                              struct mcpc_ref_reply *r)
{
    json_t *pv = c->params ? json_object_get(c->params, "protocolVersion") : NULL;
    json_t *caps = c->params ? json_object_get(c->params, "capabilities") : NULL;
    json_t *info = c->params ? json_object_get(c->params, "clientInfo") : NULL;
    const char *chosen = MCPC_REF_LEGACY_VERSION;

    if (!json_is_string(pv)) {
        mcpc_ref_reply_error(r, MCPC_RPC_INVALID_PARAMS,
                             "Invalid params: initialize needs params.protocolVersion (a string)");
        return MCPC_OK;
    }
    if ((caps && !json_is_object(caps)) || (info && !json_is_object(info))) {
        mcpc_ref_reply_error(r, MCPC_RPC_INVALID_PARAMS,
                             "Invalid params: capabilities and clientInfo must be objects");
        return MCPC_OK;
    }
    if (strcmp(json_string_value(pv), MCPC_REF_LEGACY_VERSION) == 0 ||
        strcmp(json_string_value(pv), MCPC_REF_LEGACY_OLDER) == 0 ||
        s->flaw[MCPC_REF_FLAW_VERSION_ECHO])
        chosen = json_string_value(pv);

    r->result = json_pack("{s:s, s:{s:{s:b}, s:{}, s:{}}, s:s}",
                          "protocolVersion", chosen,
                          "capabilities", "tools", "listChanged", 0, "resources", "prompts",
                          "instructions", INSTRUCTIONS);
    if (!r->result)
        return MCPC_ERR_NOMEM;
    if (!s->flaw[MCPC_REF_FLAW_INIT_NO_SERVERINFO] &&
        json_object_set_new(r->result, "serverInfo",
                            json_pack("{s:s, s:s}", "name", MCPC_REF_SERVER_NAME,
                                      "version", MCPC_REF_SERVER_VERSION)) != 0)
        return MCPC_ERR_NOMEM;
    if (mcpc_ref_mcps_advertise(s, json_object_get(r->result, "capabilities"), "experimental") != 0)
        return MCPC_ERR_NOMEM;
    s->initialized = true;
    return MCPC_OK;
}

/* ping: an empty result. */
static mcpc_err do_ping(struct mcpc_ref_server *s, const struct mcpc_ref_call *c,
                        struct mcpc_ref_reply *r)
{
    r->result = json_object();
    return r->result ? MCPC_OK : MCPC_ERR_NOMEM;
}

/* server/discover (2026-07-28 only). discover-incomplete flaw: no cache hints. */
static mcpc_err do_discover(struct mcpc_ref_server *s, const struct mcpc_ref_call *c,
                            struct mcpc_ref_reply *r)
{
    r->result = json_pack("{s:[s], s:{s:{}, s:{}, s:{}}, s:s}",
                          "supportedVersions", MCPC_REF_MODERN_VERSION,
                          "capabilities", "tools", "resources", "prompts",
                          "instructions", INSTRUCTIONS);
    r->cacheable = !s->flaw[MCPC_REF_FLAW_DISCOVER_INCOMPLETE];
    if (!r->result || mcpc_ref_mcps_advertise(s, json_object_get(r->result, "capabilities"), "extensions") != 0)
        return MCPC_ERR_NOMEM;
    return MCPC_OK;
}

/* completion/complete: the capability is not advertised, so -32601
 * (unadvertised-completions flaw: an empty completion). */
static mcpc_err do_complete(struct mcpc_ref_server *s, const struct mcpc_ref_call *c,
                            struct mcpc_ref_reply *r)
{
    if (s->flaw[MCPC_REF_FLAW_UNADVERTISED_COMPLETIONS]) {
        r->result = json_pack("{s:{s:[]}}", "completion", "values");
        return r->result ? MCPC_OK : MCPC_ERR_NOMEM;
    }
    mcpc_ref_reply_error(r, MCPC_RPC_METHOD_NOT_FOUND,
                         "Method not found: completion/complete (the completions capability "
                         "is not advertised)");
    return MCPC_OK;
}

typedef mcpc_err (*method_fn)(struct mcpc_ref_server *, const struct mcpc_ref_call *,
                              struct mcpc_ref_reply *);

#define ERA_LEGACY 1u
#define ERA_MODERN 2u
#define ERA_BOTH (ERA_LEGACY | ERA_MODERN)

static const struct method_entry {
    const char *method;
    unsigned eras;
    method_fn fn;
} methods[] = {
    { "initialize", ERA_LEGACY, do_initialize },
    { "ping", ERA_BOTH, do_ping },
    { "server/discover", ERA_MODERN, do_discover },
    { "tools/list", ERA_BOTH, mcpc_ref_tools_list },
    { "tools/call", ERA_BOTH, mcpc_ref_tools_call },
    { "resources/list", ERA_BOTH, mcpc_ref_resources_list },
    { "resources/templates/list", ERA_BOTH, mcpc_ref_resources_templates_list },
    { "resources/read", ERA_BOTH, mcpc_ref_resources_read },
    { "prompts/list", ERA_BOTH, mcpc_ref_prompts_list },
    { "prompts/get", ERA_BOTH, mcpc_ref_prompts_get },
    { "completion/complete", ERA_BOTH, do_complete },
};

/* Route c to its handler; fills r. */
static mcpc_err dispatch(struct mcpc_ref_server *s, const struct mcpc_ref_call *c,
                         struct mcpc_ref_reply *r)
{
    unsigned era = c->modern ? ERA_MODERN : ERA_LEGACY;

    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        if (strcmp(c->method, methods[i].method) != 0)
            continue;
        if (methods[i].eras & era)
            return methods[i].fn(s, c, r);
        if (strcmp(c->method, "initialize") == 0)
            mcpc_ref_reply_error(r, MCPC_RPC_METHOD_NOT_FOUND,
                                 "Method not found: initialize is not a %s method; use "
                                 "server/discover (supported versions: %s)",
                                 MCPC_REF_MODERN_VERSION, MCPC_REF_MODERN_VERSION);
        else
            mcpc_ref_reply_error(r, MCPC_RPC_METHOD_NOT_FOUND, "Method not found: %s",
                                 c->method);
        return MCPC_OK;
    }
    if (in_list(c->method, gated_methods, sizeof gated_methods / sizeof gated_methods[0])) {
        mcpc_ref_reply_error(r, MCPC_RPC_METHOD_NOT_FOUND,
                             "Method not found: %s (capability not advertised)", c->method);
        return MCPC_OK;
    }
    if (s->flaw[MCPC_REF_FLAW_UNKNOWN_METHOD_CODE]) {
        r->result = json_object();
        return r->result ? MCPC_OK : MCPC_ERR_NOMEM;
    }
    mcpc_ref_reply_error(r, MCPC_RPC_METHOD_NOT_FOUND, "Method not found: %s", c->method);
    return MCPC_OK;
}

/* Decide the era of c (sets c->modern). Returns 1 to serve it, 0 when r now holds the
 * refusal, -1 on allocation failure. */
static int choose_era(struct mcpc_ref_server *s, struct mcpc_ref_call *c,
                      struct mcpc_ref_reply *r)
{
    json_t *meta = c->params ? json_object_get(c->params, "_meta") : NULL;
    json_t *pv = NULL, *caps = NULL;

    if (json_is_object(meta)) {
        pv = json_object_get(meta, MCPC_REF_META_PROTOCOL);
        caps = json_object_get(meta, MCPC_REF_META_CLIENT_CAPS);
    }
    if (pv || caps) {
        if (!pv) {
            mcpc_ref_reply_error(r, MCPC_RPC_INVALID_PARAMS,
                                 "Invalid params: params._meta[\"%s\"] is missing",
                                 MCPC_REF_META_PROTOCOL);
            return 0;
        }
        if (!json_is_string(pv)) {
            mcpc_ref_reply_error(r, MCPC_RPC_INVALID_PARAMS,
                                 "Invalid params: params._meta[\"%s\"] must be a string",
                                 MCPC_REF_META_PROTOCOL);
            return 0;
        }
        if (strcmp(json_string_value(pv), MCPC_REF_MODERN_VERSION) != 0 &&
            !s->flaw[MCPC_REF_FLAW_VERSION_UNCHECKED]) {
            mcpc_ref_reply_error(r, MCPC_RPC_UNSUPPORTED_VERSION,
                                 "Unsupported protocol version (supported: %s)",
                                 MCPC_REF_MODERN_VERSION);
            r->data = json_pack("{s:[s], s:O}", "supported", MCPC_REF_MODERN_VERSION,
                                "requested", pv);
            return r->data ? 0 : -1;
        }
        if (!json_is_object(caps) && !s->flaw[MCPC_REF_FLAW_META_OPTIONAL]) {
            mcpc_ref_reply_error(r, MCPC_RPC_INVALID_PARAMS,
                                 "Invalid params: params._meta[\"%s\"] %s",
                                 MCPC_REF_META_CLIENT_CAPS,
                                 caps ? "must be an object" : "is missing");
            return 0;
        }
        c->modern = true;
        return 1;
    }
    if (strcmp(c->method, "server/discover") == 0) {
        if (s->flaw[MCPC_REF_FLAW_META_OPTIONAL]) {
            c->modern = true;
            return 1;
        }
        mcpc_ref_reply_error(r, MCPC_RPC_INVALID_PARAMS,
                             "Invalid params: missing _meta: server/discover is a %s method and "
                             "needs params._meta[\"%s\"] and params._meta[\"%s\"]",
                             MCPC_REF_MODERN_VERSION, MCPC_REF_META_PROTOCOL,
                             MCPC_REF_META_CLIENT_CAPS);
        return 0;
    }
    if (!s->initialized && strcmp(c->method, "initialize") != 0 &&
        strcmp(c->method, "ping") != 0 && !s->flaw[MCPC_REF_FLAW_PRE_INIT]) {
        mcpc_ref_reply_error(r, MCPC_RPC_INVALID_REQUEST,
                             "server not initialized: send initialize first (%s), or, as a %s "
                             "client, use server/discover and give every request "
                             "params._meta[\"%s\"]",
                             MCPC_REF_LEGACY_VERSION, MCPC_REF_MODERN_VERSION,
                             MCPC_REF_META_PROTOCOL);
        return 0;
    }
    return 1;
}

/* Add the 2026-07-28 result fields to r->result (new fields owned by it). */
static mcpc_err decorate_modern(const struct mcpc_ref_reply *r)
{
    json_t *res = r->result;

    if (!r->no_result_type && json_object_set_new(res, "resultType", json_string("complete")))
        return MCPC_ERR_NOMEM;
    if (r->cacheable &&
        (json_object_set_new(res, "ttlMs", json_integer(0)) ||
         json_object_set_new(res, "cacheScope", json_string("private"))))
        return MCPC_ERR_NOMEM;
    if (json_object_set_new(res, "_meta",
                            json_pack("{s:{s:s, s:s}}", MCPC_REF_META_SERVER_INFO,
                                      "name", MCPC_REF_SERVER_NAME,
                                      "version", MCPC_REF_SERVER_VERSION)))
        return MCPC_ERR_NOMEM;
    return MCPC_OK;
}

/* Serve one request. method/params borrowed; id borrowed (the id to answer with; JSON null
 * only under the null-id flaw). */
static mcpc_err serve_request(struct mcpc_ref_server *s, const char *method, json_t *params,
                              json_t *id)
{
    struct mcpc_ref_call c = { method, json_is_object(params) ? params : NULL, false };
    struct mcpc_ref_reply r;
    mcpc_err rc = MCPC_OK;
    int go;

    memset(&r, 0, sizeof r);
    go = choose_era(s, &c, &r);
    if (go < 0) {
        rc = MCPC_ERR_NOMEM;
        goto out;
    }
    /* crash-on-negative-id flaw: a server that files its tools/call requests in a table indexed
     * by the request id trusts the id to be a small non-negative integer; a negative one is a
     * wild write. abort() stands in for it, so the death is the same under every build. */
    if (go > 0 && s->flaw[MCPC_REF_FLAW_CRASH_ON_NEGATIVE_ID] && strcmp(method, "tools/call") == 0 &&
        json_is_integer(id) && json_integer_value(id) < 0)
        abort();
    if (go > 0) {
        if (params && !json_is_object(params))
            mcpc_ref_reply_error(&r, MCPC_RPC_INVALID_PARAMS,
                                 "Invalid params: params must be an object");
        else
            rc = dispatch(s, &c, &r);
        if (rc != MCPC_OK)
            goto out;
    }
    if (!r.result) {
        rc = emit_error(s, id, r.code, r.message, r.data);
    } else {
        if (c.modern && (rc = decorate_modern(&r)) != MCPC_OK)
            goto out;
        if (r.raw_text)
            rc = emit_raw_text(s, id, r.result, r.raw_text);
        else
            rc = emit_result(s, id, r.result);
    }
out:
    if (rc == MCPC_ERR_NOMEM)
        emit_error(s, id, MCPC_RPC_INTERNAL_ERROR, "Internal error: out of memory", NULL);
    if (s->flaw[MCPC_REF_FLAW_SERVER_REQUEST] && strcmp(method, "tools/list") == 0) {
        json_t *srv_id = json_string("srv-1");
        json_t *req = srv_id ? mcpc_jsonrpc_request(srv_id, "roots/list", NULL) : NULL;
        if (req)
            emit_msg(s, req);
        json_decref(req);
        json_decref(srv_id);
    }
    mcpc_ref_reply_clear(&r);
    return rc;
}

/* Consume a notification: never answered, except unknown ones under answer-notifications. */
static mcpc_err serve_notification(struct mcpc_ref_server *s, const char *method)
{
    char msg[200];

    if (in_list(method, known_notifications,
                sizeof known_notifications / sizeof known_notifications[0]))
        return MCPC_OK;
    if (!s->flaw[MCPC_REF_FLAW_ANSWER_NOTIFICATIONS])
        return MCPC_OK;
    snprintf(msg, sizeof msg, "Method not found: %s", method);
    mcpc_ref_utf8_trim(msg);
    return emit_error(s, NULL, MCPC_RPC_METHOD_NOT_FOUND, msg, NULL);
}

/* Serve a classified message. reply_id borrowed: the id to answer a request with. */
static mcpc_err serve_msg(struct mcpc_ref_server *s, const mcpc_msg *m, json_t *reply_id)
{
    switch (m->kind) {
    case MCPC_MSG_REQUEST:
        return serve_request(s, m->method, m->params, reply_id);
    case MCPC_MSG_NOTIFICATION:
        return serve_notification(s, m->method);
    case MCPC_MSG_RESULT:
    case MCPC_MSG_ERROR:
        return MCPC_OK;              /* we never send requests; nothing to correlate */
    case MCPC_MSG_INVALID:
        break;
    }
    return MCPC_OK;
}

static mcpc_err serve_value(struct mcpc_ref_server *s, json_t *v, int in_batch);

/* lax-version / null-id flaws: repair root (borrowed) the way a lenient server would and
 * serve it. *served says whether it was. */
static mcpc_err serve_repaired(struct mcpc_ref_server *s, json_t *root, int *served)
{
    json_t *jv = json_object_get(root, "jsonrpc");
    json_t *idv = json_object_get(root, "id");
    int fix_version = s->flaw[MCPC_REF_FLAW_LAX_VERSION] &&
                      !(json_is_string(jv) && strcmp(json_string_value(jv), "2.0") == 0);
    int fix_null = s->flaw[MCPC_REF_FLAW_NULL_ID] && json_is_null(idv);
    json_t *copy = NULL;
    mcpc_msg m;
    mcpc_err rc = MCPC_OK;

    memset(&m, 0, sizeof m);
    *served = 0;
    if (!fix_version && !fix_null)
        return MCPC_OK;
    if (!(copy = json_copy(root)))
        return MCPC_ERR_NOMEM;
    if ((fix_version && json_object_set_new(copy, "jsonrpc", json_string("2.0"))) ||
        (fix_null && json_object_set_new(copy, "id", json_integer(0)))) {
        rc = MCPC_ERR_NOMEM;
        goto out;
    }
    if (mcpc_jsonrpc_classify(copy, &m) != MCPC_OK)
        goto out;
    if (fix_null && m.kind != MCPC_MSG_REQUEST)
        goto out;
    *served = 1;
    rc = serve_msg(s, &m, fix_null ? json_null() : m.id);
out:
    mcpc_msg_clear(&m);
    json_decref(copy);
    return rc;
}

/* Answer a value that is JSON but not a valid message (batches included). m borrowed. */
static mcpc_err serve_invalid(struct mcpc_ref_server *s, const mcpc_msg *m, int in_batch)
{
    json_t *root = m->root;
    int code = MCPC_RPC_INVALID_REQUEST, served = 0;
    char msg[256];
    mcpc_err rc;

    if (json_is_array(root)) {
        if (s->flaw[MCPC_REF_FLAW_ACCEPT_BATCH] && !in_batch && json_array_size(root) > 0) {
            size_t i;
            json_t *elem;
            rc = MCPC_OK;
            json_array_foreach(root, i, elem) {
                mcpc_err erc = serve_value(s, elem, 1);
                if (erc != MCPC_OK)
                    rc = erc;
            }
            return rc;
        }
        return emit_error(s, NULL, MCPC_RPC_INVALID_REQUEST,
                          "Invalid Request: batches are not supported", NULL);
    }
    if (json_is_object(root)) {
        rc = serve_repaired(s, root, &served);
        if (served || rc != MCPC_OK)
            return rc;
        if (s->flaw[MCPC_REF_FLAW_INVALID_REQUEST_CODE] && !json_object_get(root, "result") &&
            !json_object_get(root, "error") && !json_is_string(json_object_get(root, "method")))
            code = MCPC_RPC_METHOD_NOT_FOUND;
    }
    snprintf(msg, sizeof msg, "Invalid Request: %s", m->reason);
    mcpc_ref_utf8_trim(msg);
    return emit_error(s, m->id, code, msg, NULL);
}

/* Serve one parsed value v (borrowed): a batch element under accept-batch. */
static mcpc_err serve_value(struct mcpc_ref_server *s, json_t *v, int in_batch)
{
    mcpc_msg m;
    mcpc_err rc;

    if (mcpc_jsonrpc_classify(v, &m) == MCPC_OK)
        rc = serve_msg(s, &m, m.id);
    else
        rc = serve_invalid(s, &m, in_batch);
    mcpc_msg_clear(&m);
    return rc;
}

/* 1 if buf holds only JSON whitespace. */
static int is_blank(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' && buf[i] != '\n')
            return 0;
    return 1;
}

/* Serve one input line. */
mcpc_err mcpc_ref_handle_line(struct mcpc_ref_server *s, const char *buf, size_t len,
                              mcpc_ref_emit_fn emit, void *ctx)
{
    mcpc_msg m;
    mcpc_err rc;

    s->emit = emit;
    s->emit_ctx = ctx;
    if (is_blank(buf, len))
        return MCPC_OK;
    switch (mcpc_jsonrpc_parse(buf, len, 0, &m)) {
    case MCPC_OK:
        rc = serve_msg(s, &m, m.id);
        break;
    case MCPC_ERR_PARSE:
        rc = answer_parse_error(s, m.reason);
        break;
    case MCPC_ERR_NOMEM:
        emit_error(s, NULL, MCPC_RPC_INTERNAL_ERROR, "Internal error: out of memory", NULL);
        rc = MCPC_ERR_NOMEM;
        break;
    default:
        rc = serve_invalid(s, &m, 0);
        break;
    }
    mcpc_msg_clear(&m);
    return rc;
}

/* Answer an over-long input line with one parse error without id. */
mcpc_err mcpc_ref_handle_overlong(struct mcpc_ref_server *s, mcpc_ref_emit_fn emit, void *ctx)
{
    char reason[96];

    s->emit = emit;
    s->emit_ctx = ctx;
    snprintf(reason, sizeof reason, "line longer than %zu bytes, discarded",
             (size_t)MCPC_REF_MAX_LINE);
    return answer_parse_error(s, reason);
}
