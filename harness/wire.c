/* Validation of received messages against the official MCP schema of the era. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "wire.h"

#define MCPC_WIRE_MAX_DEFS 64

struct mcpc_wire {
    mcpc_schema_registry *reg;
    json_t *doc;                        /* owned: the spec schema */
    char base[96];                      /* the URI it is registered under */
    int modern;
    /* compiled validators, one per definition used so far */
    char *names[MCPC_WIRE_MAX_DEFS];
    mcpc_schema *compiled[MCPC_WIRE_MAX_DEFS];
    size_t n;
};

/* Results by request method; the same names in both eras except where noted. */
static const struct {
    const char *method, *def;
} mcpc_wire_results[] = {
    {"initialize", "InitializeResult"},
    {"server/discover", "DiscoverResult"},
    {"ping", "EmptyResult"},
    {"tools/list", "ListToolsResult"},
    {"tools/call", "CallToolResult"},
    {"resources/list", "ListResourcesResult"},
    {"resources/templates/list", "ListResourceTemplatesResult"},
    {"resources/read", "ReadResourceResult"},
    {"prompts/list", "ListPromptsResult"},
    {"prompts/get", "GetPromptResult"},
    {"completion/complete", "CompleteResult"},
};

mcpc_err mcpc_wire_load(const char *spec_dir, const char *era, mcpc_wire **out, char *err,
                        size_t errlen)
{
    char path[4200];
    json_error_t je;
    mcpc_wire *w = calloc(1, sizeof *w);
    *out = NULL;
    if (!w)
        return MCPC_ERR_NOMEM;
    snprintf(path, sizeof path, "%s/mcp-%s.schema.json", spec_dir, era);
    w->doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!w->doc) {
        snprintf(err, errlen, "%s: %s", path, je.text);
        free(w);
        return MCPC_ERR_NOT_FOUND;
    }
    w->modern = strcmp(era, "2026-07-28") == 0;
    snprintf(w->base, sizeof w->base, "https://mcpcert.invalid/spec/mcp-%s.schema.json", era);
    w->reg = mcpc_schema_registry_new();
    if (!w->reg || mcpc_schema_registry_add(w->reg, w->base, w->doc) != MCPC_OK) {
        mcpc_wire_free(w);
        return MCPC_ERR_NOMEM;
    }
    *out = w;
    return MCPC_OK;
}

void mcpc_wire_free(mcpc_wire *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++) {
        free(w->names[i]);
        mcpc_schema_free(w->compiled[i]);
    }
    mcpc_schema_registry_free(w->reg);
    json_decref(w->doc);
    free(w);
}

/* The validator for one definition, compiled on first use (borrowed), or NULL. */
static mcpc_schema *mcpc_wire_def(mcpc_wire *w, const char *def)
{
    char err[256];
    for (size_t i = 0; i < w->n; i++) {
        if (strcmp(w->names[i], def) == 0)
            return w->compiled[i];
    }
    if (w->n >= MCPC_WIRE_MAX_DEFS || !json_object_get(json_object_get(w->doc, "$defs"), def))
        return NULL;
    char ref[256];
    snprintf(ref, sizeof ref, "%s#/$defs/%s", w->base, def);
    json_t *wrapper = json_pack("{s:s}", "$ref", ref);
    mcpc_schema *s = NULL;
    if (!wrapper || mcpc_schema_compile(w->reg, wrapper, "https://mcpcert.invalid/wire", NULL, &s,
                                        err, sizeof err) != MCPC_OK) {
        /* never skip a definition silently: a check that cannot fail must be visible */
        fprintf(stderr, "mcpcert: wire-schema: %s is not checked: %s\n", def,
                wrapper ? err : "out of memory");
        s = NULL;
    }
    json_decref(wrapper);
    /* remember a failure too (compiled NULL), so it is reported once */
    w->names[w->n] = strdup(def);
    w->compiled[w->n] = s;
    if (!w->names[w->n]) {
        mcpc_schema_free(s);
        return NULL;
    }
    return w->compiled[w->n++];
}

const char *mcpc_wire_result_def(const mcpc_wire *w, const char *method, json_t *result)
{
    if (!method)
        return NULL;
    /* 2026-07-28: a request may be answered "come back with more input" instead */
    if (w->modern && json_is_object(result)) {
        const char *rt = json_string_value(json_object_get(result, "resultType"));
        if (rt && strcmp(rt, "input_required") == 0)
            return "InputRequiredResult";
    }
    for (size_t i = 0; i < sizeof mcpc_wire_results / sizeof mcpc_wire_results[0]; i++) {
        if (strcmp(mcpc_wire_results[i].method, method) == 0)
            return mcpc_wire_results[i].def;
    }
    return NULL;
}

/* Validate v against def; on failure describe the first error. */
static int mcpc_wire_one(mcpc_wire *w, const char *def, json_t *v, const char *prefix, char *why,
                         size_t whylen)
{
    mcpc_schema *s = mcpc_wire_def(w, def);
    mcpc_schema_errors errs;
    if (!s)
        return 0;
    mcpc_schema_errors_init(&errs, 4);
    mcpc_err rc = mcpc_schema_validate(s, v, &errs);
    int bad = rc != MCPC_OK;
    if (bad) {
        const mcpc_schema_error *e = errs.count ? &errs.items[0] : NULL;
        snprintf(why, whylen, "%s: %s%s: %s (keyword %s)", def, prefix,
                 e && e->instance_path[0] ? e->instance_path : (prefix[0] ? "" : "/"),
                 e ? e->message : "invalid", e ? e->keyword : "?");
    }
    mcpc_schema_errors_clear(&errs);
    return bad;
}

int mcpc_wire_check(mcpc_wire *w, const mcpc_msg *m, const char *method, char *why, size_t whylen)
{
    const char *env;
    switch (m->kind) {
    case MCPC_MSG_RESULT: env = "JSONRPCResultResponse"; break;
    case MCPC_MSG_ERROR: env = "JSONRPCErrorResponse"; break;
    case MCPC_MSG_NOTIFICATION: env = "JSONRPCNotification"; break;
    case MCPC_MSG_REQUEST: env = "JSONRPCRequest"; break;
    default: return 0;
    }
    if (mcpc_wire_one(w, env, m->root, "", why, whylen))
        return 1;
    if (m->kind == MCPC_MSG_RESULT) {
        const char *def = mcpc_wire_result_def(w, method, m->result);
        if (def && mcpc_wire_one(w, def, m->result, "/result", why, whylen))
            return 1;
    }
    if (m->kind == MCPC_MSG_NOTIFICATION && mcpc_wire_one(w, "ServerNotification", m->root, "", why, whylen))
        return 1;
    return 0;
}

int mcpc_wire_check_client(mcpc_wire *w, const mcpc_msg *m, char *why, size_t whylen)
{
    switch (m->kind) {
    case MCPC_MSG_REQUEST:
        return mcpc_wire_one(w, "JSONRPCRequest", m->root, "", why, whylen) ||
               mcpc_wire_one(w, "ClientRequest", m->root, "", why, whylen);
    case MCPC_MSG_NOTIFICATION:
        return mcpc_wire_one(w, "JSONRPCNotification", m->root, "", why, whylen) ||
               mcpc_wire_one(w, "ClientNotification", m->root, "", why, whylen);
    default:
        return 0; /* responses from a client are judged by the cases (MSG-13) */
    }
}
