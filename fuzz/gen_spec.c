/* Seeds from the official MCP schemas: every definition yields a small instance (built from its
 * consts, enums, defaults, examples and types), which becomes a JSON-RPC message when the
 * definition is a request, notification, result or error, and a schema seed (the definition with
 * the definitions it references, paired with the instance). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_corpus.h"

#define GEN_MAX_DEPTH 10      /* instance nesting; the schemas recurse (content blocks) */
#define GEN_MAX_STRING 64     /* minLength honoured up to this */

static const char gen_defs_prefix[] = "#/$defs/";

/* Borrowed: the definition a local "$ref" names, or NULL. */
static json_t *gen_deref(const json_t *root, const char *ref)
{
    if (!ref || strncmp(ref, gen_defs_prefix, sizeof gen_defs_prefix - 1) != 0)
        return NULL;
    return json_object_get(json_object_get(root, "$defs"), ref + sizeof gen_defs_prefix - 1);
}

/* Borrowed: element i of a non-empty array, counted from the end when last is set. */
static json_t *gen_pick(const json_t *arr, int last)
{
    size_t n = json_array_size(arr);
    return n ? json_array_get(arr, last ? n - 1 : 0) : NULL;
}

static json_t *gen_instance(const json_t *root, const json_t *s, int full, int depth);

/* New reference: an object with the required properties (all of them when full). */
static json_t *gen_object(const json_t *root, const json_t *s, int full, int depth)
{
    json_t *obj = json_object(), *props = json_object_get(s, "properties");
    json_t *req = json_object_get(s, "required"), *sub;
    const char *key;

    json_object_foreach(props, key, sub) {
        int needed = full && depth < GEN_MAX_DEPTH / 2;
        size_t i;
        json_t *r;
        json_array_foreach(req, i, r) needed |= json_is_string(r) && !strcmp(json_string_value(r), key);
        if (!needed)
            continue;
        /* a free-form string in the schema, but one of a few values on the wire */
        if (strstr(key, "protocolVersion"))
            json_object_set_new(obj, key, json_string(full ? "2026-07-28" : "2025-11-25"));
        else
            json_object_set_new(obj, key, gen_instance(root, sub, full, depth + 1));
    }
    return obj;
}

/* New reference: a string that suits the schema's format and length bounds. */
static json_t *gen_string(const json_t *s, int full)
{
    const char *fmt = json_string_value(json_object_get(s, "format"));
    json_int_t min = json_integer_value(json_object_get(s, "minLength"));
    char buf[GEN_MAX_STRING + 1];

    if (fmt && !strcmp(fmt, "uri"))
        return json_string(full ? "https://example.com/mcpcert?x=1#y" : "file:///tmp/mcpcert");
    if (fmt && !strcmp(fmt, "date-time"))
        return json_string("2025-11-25T12:00:00Z");
    if (fmt && !strcmp(fmt, "byte"))
        return json_string("bWNwY2VydA==");
    if (fmt && !strcmp(fmt, "email"))
        return json_string("a@example.com");
    if (min <= 0)
        return json_string(full ? "mcpcert \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" : "x");
    if (min > GEN_MAX_STRING)
        min = GEN_MAX_STRING;
    memset(buf, 'x', (size_t)min);
    buf[min] = '\0';
    return json_string(buf);
}

/* New reference: an instance of schema s (borrowed; its local $refs resolve in root). Not
 * always valid (anyOf takes one branch blindly), which suits a seed: it only needs to be
 * close to what the implementations exchange. */
static json_t *gen_instance(const json_t *root, const json_t *s, int full, int depth)
{
    json_t *v, *type;
    const char *t = NULL;

    if (json_is_false(s))
        return json_null();
    if (!json_is_object(s) || depth > GEN_MAX_DEPTH)
        return json_object();
    if ((v = gen_deref(root, json_string_value(json_object_get(s, "$ref")))) != NULL)
        return gen_instance(root, v, full, depth + 1);
    if ((v = json_object_get(s, "const")) != NULL)
        return json_deep_copy(v);
    if ((v = gen_pick(json_object_get(s, "examples"), full)) != NULL ||
        (v = gen_pick(json_object_get(s, "enum"), full)) != NULL ||
        (!full && (v = json_object_get(s, "default")) != NULL))
        return json_deep_copy(v);
    if ((v = gen_pick(json_object_get(s, "anyOf"), full)) != NULL ||
        (v = gen_pick(json_object_get(s, "oneOf"), full)) != NULL ||
        (v = gen_pick(json_object_get(s, "allOf"), 0)) != NULL)
        return gen_instance(root, v, full, depth + 1);
    type = json_object_get(s, "type");
    t = json_is_array(type) ? json_string_value(gen_pick(type, full)) : json_string_value(type);
    if (!t)
        t = json_object_get(s, "properties") ? "object" : "null";
    if (!strcmp(t, "object"))
        return gen_object(root, s, full, depth);
    if (!strcmp(t, "array")) {
        json_t *arr = json_array();
        if (full || json_integer_value(json_object_get(s, "minItems")) > 0)
            json_array_append_new(arr, gen_instance(root, json_object_get(s, "items"), full,
                                                    depth + 1));
        return arr;
    }
    if (!strcmp(t, "string"))
        return gen_string(s, full);
    if (!strcmp(t, "integer")) {
        json_t *min = json_object_get(s, "minimum");
        return json_integer(json_is_integer(min) ? json_integer_value(min) : full ? 7 : 1);
    }
    if (!strcmp(t, "number"))
        return json_real(full ? 0.25 : 1.5);
    if (!strcmp(t, "boolean"))
        return json_boolean(!full);
    return json_null();
}

/* Add to defs (borrowed) every definition s refers to, transitively. */
static void gen_closure(const json_t *root, const json_t *s, json_t *defs, int depth)
{
    const char *key;
    json_t *sub;
    size_t i;

    if (depth > 64)
        return;
    if (json_is_array(s)) {
        json_array_foreach((json_t *)s, i, sub) gen_closure(root, sub, defs, depth + 1);
        return;
    }
    json_object_foreach((json_t *)s, key, sub) {
        const char *ref = json_string_value(sub);
        json_t *target;
        if (!strcmp(key, "$ref") && (target = gen_deref(root, ref)) != NULL) {
            const char *name = ref + sizeof gen_defs_prefix - 1;
            if (!json_object_get(defs, name)) {
                json_object_set(defs, name, target);
                gen_closure(root, target, defs, depth + 1);
            }
        } else if (json_is_object(sub) || json_is_array(sub))
            gen_closure(root, sub, defs, depth + 1);
    }
}

/* New reference: a standalone schema for definition name of root, carrying the definitions
 * it needs; NULL on allocation failure. */
static json_t *gen_standalone(const json_t *root, const char *name)
{
    char ref[256];
    json_t *defs = json_object(), *out = json_object();
    json_t *def = json_object_get(json_object_get(root, "$defs"), name);

    if (!defs || !out || !def)
        goto fail;
    json_object_set(defs, name, def);
    gen_closure(root, def, defs, 0);
    snprintf(ref, sizeof ref, "%s%s", gen_defs_prefix, name);
    json_object_set(out, "$schema", json_object_get(root, "$schema"));
    json_object_set_new(out, "$defs", defs);
    json_object_set_new(out, "$ref", json_string(ref));
    return out;
fail:
    json_decref(defs);
    json_decref(out);
    return NULL;
}

/* 1 when name ends with suffix. */
static int gen_ends_with(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n >= k && !strcmp(name + n - k, suffix);
}

/* JSON-RPC seeds for one definition's instance (borrowed). */
static void gen_messages(gen_out *o, const json_t *def, const char *name, json_t *inst, int full)
{
    static const int codes[] = {-32700, -32600, -32601, -32602, -32603, -32002, -32042};
    json_t *props = json_object_get(def, "properties"), *msg = NULL;

    if (json_object_get(props, "method") || json_object_get(props, "jsonrpc")) {
        gen_put_json(o, GEN_JSONRPC, inst);   /* already a whole message */
        return;
    }
    if (gen_ends_with(name, "Result")) {
        msg = json_pack("{s:s,s:o,s:O}", "jsonrpc", "2.0", "id",
                        full ? json_string("req-7") : json_integer(7), "result", inst);
        if (msg)
            gen_put_json(o, GEN_JSONRPC, msg);
        json_decref(msg);
        return;
    }
    if (gen_ends_with(name, "Error")) {
        int code = codes[(strlen(name) + (size_t)full) % (sizeof codes / sizeof codes[0])];
        if (json_is_object(inst) && !json_is_integer(json_object_get(inst, "code")))
            json_object_set_new(inst, "code", json_integer(code));
        msg = json_pack("{s:s,s:i,s:O}", "jsonrpc", "2.0", "id", 3, "error", inst);
        if (msg)
            gen_put_json(o, GEN_JSONRPC, msg);
        json_decref(msg);
    }
}

void gen_spec_seeds(gen_out *o, const gen_spec *sp)
{
    for (size_t k = 0; k < sp->n; k++) {
        const json_t *root = sp->docs[k];
        const char *name;
        json_t *def;
        json_object_foreach(json_object_get(root, "$defs"), name, def) {
            json_t *schema = gen_standalone(root, name);
            for (int full = 0; full < 2; full++) {
                json_t *inst = gen_instance(root, def, full, 0);
                if (!inst)
                    continue;
                gen_messages(o, def, name, inst, full);
                if (schema)
                    gen_put_schema_pair(o, schema, inst, full ? '\0' : '\n');
                json_decref(inst);
            }
            json_decref(schema);
        }
    }
}

void gen_spec_pair_message(gen_out *o, const gen_spec *sp, const json_t *msg)
{
    const char *method = json_string_value(json_object_get(msg, "method"));

    for (size_t k = 0; method && k < sp->n; k++) {
        const json_t *root = sp->docs[k];
        const char *name;
        json_t *def;
        json_object_foreach(json_object_get(root, "$defs"), name, def) {
            json_t *m = json_object_get(json_object_get(def, "properties"), "method");
            const char *c = json_string_value(json_object_get(m, "const"));
            if (c && !strcmp(c, method)) {
                json_t *schema = gen_standalone(root, name);
                if (schema)
                    gen_put_schema_pair(o, schema, msg, '\n');
                json_decref(schema);
            }
        }
    }
}

size_t gen_spec_load(gen_spec *sp, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL && sp->n < sizeof sp->docs / sizeof sp->docs[0]) {
        char path[2200];
        size_t len = strlen(e->d_name);
        json_error_t je;
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        json_t *doc = json_load_file(path, 0, &je);
        if (!doc || !json_is_object(json_object_get(doc, "$defs"))) {
            fprintf(stderr, "gen_corpus: %s: not an MCP schema (%s), skipped\n", path,
                    doc ? "no $defs" : je.text);
            json_decref(doc);
            continue;
        }
        sp->docs[sp->n++] = doc;
    }
    closedir(d);
    return sp->n;
}

void gen_spec_free(gen_spec *sp)
{
    for (size_t k = 0; k < sp->n; k++)
        json_decref(sp->docs[k]);
    sp->n = 0;
}
