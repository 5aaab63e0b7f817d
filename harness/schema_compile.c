/* Compile a JSON Schema 2020-12 document into validator nodes.
 *
 * Two passes over each document: scan finds every schema location along the known applicator
 * keywords and records its resource (base URI), $anchor and $dynamicAnchor; compile then builds
 * one node per location, resolving $ref/$dynamicRef to nodes once, so validation never looks
 * anything up by URI. Documents other than the root come only from the registry, scanned when
 * first referenced. A node is entered in the location map before its children are compiled,
 * which lets recursive schemas compile into cyclic graphs. Afterwards in-place cycles (a $ref
 * loop that never descends into the instance) are rejected. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_int.h"

#define DIALECT_2020 "https://json-schema.org/draft/2020-12/schema"
#define VOCAB_PREFIX "https://json-schema.org/draft/2020-12/vocab/"
#define DEFAULT_BASE "urn:mcpcert:schema:root"

typedef struct {
    json_t *s;
    int32_t res;
    mcpc_schema_node *node;
} loc_t;

typedef struct {
    char *uri;             /* "base#name" */
    json_t *s;
} anchor_t;

typedef struct {
    json_t *root;
    json_t *dialect;       /* "$schema" at this resource's root, or NULL (inherit) */
    int32_t parent;        /* enclosing resource for vocabulary inheritance, or -1 */
    unsigned vocab;
    int vocab_done, used, dyn_done;
    char **dyn_names;
    json_t **dyn_s;
    size_t n_dyn;
} rinfo_t;

typedef struct {
    mcpc_schema *out;
    mcpc_schema_registry *reg;
    mcpc_schema_limits lim;
    rinfo_t *ri;
    size_t res_cap;
    loc_t *locs;           /* open addressing on the json_t pointer */
    size_t n_locs, locs_cap;
    anchor_t *anchors;
    size_t n_anchors, anchors_cap;
    unsigned char *reg_scanned;
    int all_scanned;
    mcpc_err rc;
    char *err;
    size_t errlen;
} cc_t;

/* Record the first failure; later ones are consequences. Returns -1 for convenience. */
static int fail(cc_t *c, mcpc_err rc, const char *fmt, ...)
{
    if (c->rc == MCPC_OK) {
        va_list ap;
        c->rc = rc;
        if (c->errlen) {
            va_start(ap, fmt);
            vsnprintf(c->err, c->errlen, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

/* Out of memory: recorded like any failure. */
static int nomem(cc_t *c)
{
    return fail(c, MCPC_ERR_NOMEM, "out of memory while compiling a schema");
}

/* Grow *arr (element size sz) to hold need elements. */
static int grow(cc_t *c, void **arr, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * sz);
    if (!p)
        return nomem(c);
    memset((char *)p + *cap * sz, 0, (n - *cap) * sz);
    *arr = p;
    *cap = n;
    return 0;
}

/* ---- location map -------------------------------------------------------------------------- */

static size_t ptr_hash(const void *p)
{
    uintptr_t v = (uintptr_t)p;
    v ^= v >> 17;
    v *= 0x9E3779B97F4A7C15ull;
    return (size_t)(v ^ (v >> 29));
}

/* The scan record of schema s, or NULL (s is borrowed). */
static loc_t *loc_find(cc_t *c, json_t *s)
{
    if (!c->locs_cap)
        return NULL;
    for (size_t i = ptr_hash(s) & (c->locs_cap - 1);; i = (i + 1) & (c->locs_cap - 1)) {
        if (!c->locs[i].s)
            return NULL;
        if (c->locs[i].s == s)
            return &c->locs[i];
    }
}

/* Record schema location s (borrowed) in resource res; grows the map at half load. */
static int loc_add(cc_t *c, json_t *s, int32_t res)
{
    if ((c->n_locs + 1) * 2 > c->locs_cap) {
        size_t cap = c->locs_cap ? c->locs_cap * 2 : 256;
        loc_t *old = c->locs;
        size_t oldcap = c->locs_cap;
        c->locs = calloc(cap, sizeof *c->locs);
        if (!c->locs) {
            c->locs = old;
            return nomem(c);
        }
        c->locs_cap = cap;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].s) {
                size_t j = ptr_hash(old[i].s) & (cap - 1);
                while (c->locs[j].s)
                    j = (j + 1) & (cap - 1);
                c->locs[j] = old[i];
            }
        free(old);
    }
    size_t j = ptr_hash(s) & (c->locs_cap - 1);
    while (c->locs[j].s)
        j = (j + 1) & (c->locs_cap - 1);
    c->locs[j].s = s;
    c->locs[j].res = res;
    c->locs[j].node = NULL;
    c->n_locs++;
    return 0;
}

/* ---- resources ----------------------------------------------------------------------------- */

/* Index of the resource named uri[0..n), or -1. */
static int32_t res_lookup(cc_t *c, const char *uri, size_t n)
{
    for (size_t i = 0; i < c->out->n_res; i++) {
        const char *u = c->out->res[i].uri;
        if (strlen(u) == n && memcmp(u, uri, n) == 0)
            return (int32_t)i;
    }
    return -1;
}

/* New resource; uri is taken over (malloc'd). res and ri grow together. */
static int32_t res_add(cc_t *c, char *uri, json_t *root, json_t *dialect, int32_t parent)
{
    int32_t r;
    if (c->out->n_res == c->res_cap) {
        size_t cap = c->res_cap ? c->res_cap * 2 : 16;
        mcpc_schema_resource *res = realloc(c->out->res, cap * sizeof *res);
        if (!res)
            goto nomem;
        c->out->res = res;
        rinfo_t *ri = realloc(c->ri, cap * sizeof *ri);
        if (!ri)
            goto nomem;
        c->ri = ri;
        c->res_cap = cap;
    }
    char *copy = mcpc_schema_strndup(c->out, uri, strlen(uri));
    if (!copy)
        goto nomem;
    free(uri);
    r = (int32_t)c->out->n_res++;
    memset(&c->out->res[r], 0, sizeof c->out->res[r]);
    c->out->res[r].uri = copy;
    memset(&c->ri[r], 0, sizeof c->ri[r]);
    c->ri[r].root = root;
    c->ri[r].dialect = dialect;
    c->ri[r].parent = parent;
    return r;
nomem:
    free(uri);
    nomem(c);
    return -1;
}

/* Register "$anchor"/"$dynamicAnchor" name of resource res; s is borrowed. */
static int anchor_add(cc_t *c, int32_t res, const char *name, json_t *s)
{
    const char *base = c->out->res[res].uri;
    size_t n = strlen(base) + strlen(name) + 2;
    char *u = malloc(n);
    if (!u)
        return nomem(c);
    snprintf(u, n, "%s#%s", base, name);
    for (size_t i = 0; i < c->n_anchors; i++)
        if (strcmp(c->anchors[i].uri, u) == 0) {
            free(u);   /* first declaration wins */
            return 0;
        }
    if (grow(c, (void **)&c->anchors, &c->anchors_cap, c->n_anchors + 1, sizeof *c->anchors)) {
        free(u);
        return -1;
    }
    c->anchors[c->n_anchors].uri = u;
    c->anchors[c->n_anchors++].s = s;
    return 0;
}

/* ---- scan ---------------------------------------------------------------------------------- */

static const char *const kw_map[] = {"$defs", "definitions", "properties", "patternProperties",
                                     "dependentSchemas", NULL};
static const char *const kw_arr[] = {"prefixItems", "allOf", "anyOf", "oneOf", "items", NULL};
static const char *const kw_one[] = {"items", "contains", "additionalProperties",
                                     "propertyNames", "not", "if", "then", "else",
                                     "unevaluatedItems", "unevaluatedProperties",
                                     "contentSchema", "additionalItems", NULL};

static int scan(cc_t *c, json_t *s, int32_t pres, int is_root, size_t depth);

/* Scan one subschema value (borrowed). */
static int scan_child(cc_t *c, json_t *v, int32_t res, size_t depth)
{
    if (json_is_object(v))
        return scan(c, v, res, 0, depth + 1);
    return 0;   /* booleans need nothing; other values are reported by compile */
}

/* Walk schema locations under s, registering resources and anchors. */
static int scan(cc_t *c, json_t *s, int32_t pres, int is_root, size_t depth)
{
    int32_t res = pres;
    json_t *id, *v, *dialect;
    const char *k;
    size_t i;
    if (depth > c->lim.max_depth)
        return fail(c, MCPC_ERR_TOO_BIG, "schema nesting deeper than %zu", c->lim.max_depth);
    if (loc_find(c, s))
        return 0;
    id = json_object_get(s, "$id");
    dialect = json_object_get(s, "$schema");
    if (!json_is_string(dialect))
        dialect = NULL;
    if (json_is_string(id)) {
        char *abs = mcpc_schema_uri_resolve(c->out->res[pres].uri, json_string_value(id));
        if (!abs)
            return nomem(c);
        size_t dl = mcpc_schema_uri_docpart(abs);
        if (abs[dl] == '#') {
            if (abs[dl + 1]) {
                free(abs);
                return fail(c, MCPC_ERR_INVALID, "$id \"%.80s\" must not have a fragment",
                            json_string_value(id));
            }
            abs[dl] = '\0';
        }
        int32_t have = res_lookup(c, abs, strlen(abs));
        if (have >= 0 && c->ri[have].root == s) {
            free(abs);
            res = have;
            if (dialect)
                c->ri[have].dialect = dialect;
        } else if (have >= 0) {
            free(abs);   /* a duplicate $id: the first keeps the name; this one keeps the base */
            res = have;
        } else {
            res = res_add(c, abs, s, dialect, pres);
            if (res < 0)
                return -1;
        }
    } else if (is_root && dialect)
        c->ri[pres].dialect = dialect;
    if (loc_add(c, s, res))
        return -1;
    v = json_object_get(s, "$anchor");
    if (json_is_string(v) && anchor_add(c, res, json_string_value(v), s))
        return -1;
    v = json_object_get(s, "$dynamicAnchor");
    if (json_is_string(v)) {
        rinfo_t *r = &c->ri[res];
        char **names = realloc(r->dyn_names, (r->n_dyn + 1) * sizeof *names);
        if (!names)
            return nomem(c);
        r->dyn_names = names;
        json_t **ss = realloc(r->dyn_s, (r->n_dyn + 1) * sizeof *ss);
        if (!ss)
            return nomem(c);
        r->dyn_s = ss;
        r->dyn_names[r->n_dyn] = strdup(json_string_value(v));
        if (!r->dyn_names[r->n_dyn])
            return nomem(c);
        r->dyn_s[r->n_dyn++] = s;
        if (anchor_add(c, res, json_string_value(v), s))
            return -1;
    }
    for (i = 0; kw_map[i]; i++) {
        json_t *m = json_object_get(s, kw_map[i]);
        json_object_foreach(m, k, v)
            if (scan_child(c, v, res, depth))
                return -1;
    }
    for (i = 0; kw_arr[i]; i++) {
        json_t *a = json_object_get(s, kw_arr[i]);
        size_t j;
        if (json_is_array(a))
            json_array_foreach(a, j, v)
                if (scan_child(c, v, res, depth))
                    return -1;
    }
    for (i = 0; kw_one[i]; i++)
        if (scan_child(c, json_object_get(s, kw_one[i]), res, depth))
            return -1;
    /* draft 2019-09 and older "dependencies": schema values only */
    json_t *deps = json_object_get(s, "dependencies");
    json_object_foreach(deps, k, v)
        if (scan_child(c, v, res, depth))
            return -1;
    return 0;
}

/* Register a whole document under uri (taken over) and scan it. Returns the resource. */
static int32_t scan_doc(cc_t *c, char *uri, json_t *doc)
{
    int32_t r = res_add(c, uri, doc, NULL, -1);
    if (r < 0)
        return -1;
    if (json_is_object(doc) && scan(c, doc, r, 1, 0))
        return -1;
    return r;
}

/* Scan registry entry i once. */
static int scan_reg(cc_t *c, size_t i)
{
    if (c->reg_scanned[i])
        return 0;
    c->reg_scanned[i] = 1;
    if (res_lookup(c, c->reg->ents[i].uri, strlen(c->reg->ents[i].uri)) >= 0)
        return 0;
    char *u = strdup(c->reg->ents[i].uri);
    if (!u)
        return nomem(c);
    return scan_doc(c, u, c->reg->ents[i].schema) < 0 ? -1 : 0;
}

/* Resource for uri[0..n): known, a registered document, or an $id inside one. -1 if none. */
static int32_t find_resource(cc_t *c, const char *uri, size_t n)
{
    int32_t r = res_lookup(c, uri, n);
    if (r >= 0 || !c->reg)
        return r;
    for (size_t i = 0; i < c->reg->n; i++)
        if (!c->reg_scanned[i] && strlen(c->reg->ents[i].uri) == n &&
            memcmp(c->reg->ents[i].uri, uri, n) == 0) {
            if (scan_reg(c, i))
                return -1;
            return res_lookup(c, uri, n);
        }
    if (!c->all_scanned) {
        c->all_scanned = 1;
        for (size_t i = 0; i < c->reg->n; i++)
            if (scan_reg(c, i))
                return -1;
        return res_lookup(c, uri, n);
    }
    return -1;
}

/* ---- vocabularies -------------------------------------------------------------------------- */

static unsigned vocab_of(cc_t *c, int32_t r, size_t depth);

/* Vocabulary mask for a "$schema" value. */
static int dialect_vocab(cc_t *c, const char *d, unsigned *out, size_t depth)
{
    static const char *const legacy[] = {
        "https://json-schema.org/draft/2019-09/schema", "http://json-schema.org/draft-07/schema",
        "http://json-schema.org/draft-06/schema", "http://json-schema.org/draft-04/schema",
        "http://json-schema.org/draft-03/schema", NULL};
    static const char *const vocabs[] = {"core", "applicator", "unevaluated", "validation",
                                         "meta-data", "format-annotation", "format-assertion",
                                         "content", NULL};
    size_t n = mcpc_schema_uri_docpart(d);
    if (d[n] == '#' && d[n + 1])
        return fail(c, MCPC_ERR_INVALID, "$schema \"%.80s\" has a fragment", d);
    if (n == strlen(DIALECT_2020) && memcmp(d, DIALECT_2020, n) == 0) {
        *out = MCPC_VOC_DEFAULT;
        return 0;
    }
    for (size_t i = 0; legacy[i]; i++)
        if (n == strlen(legacy[i]) && memcmp(d, legacy[i], n) == 0) {
            *out = MCPC_VOC_DEFAULT | MCPC_VOC_LEGACY;
            return 0;
        }
    int32_t r = find_resource(c, d, n);
    if (r < 0)
        return fail(c, c->rc ? c->rc : MCPC_ERR_NOT_FOUND,
                    "$schema \"%.120s\" is not a known dialect and no meta-schema is registered "
                    "under that URI (nothing is fetched)", d);
    json_t *voc = json_is_object(c->ri[r].root) ? json_object_get(c->ri[r].root, "$vocabulary")
                                                 : NULL;
    if (!json_is_object(voc)) {
        /* a meta-schema without $vocabulary uses the dialect of its own $schema */
        if (depth > 8)
            *out = MCPC_VOC_DEFAULT;
        else
            *out = vocab_of(c, r, depth + 1);
        return c->rc ? -1 : 0;
    }
    const char *k;
    json_t *v;
    unsigned m = 0;
    json_object_foreach(voc, k, v) {
        size_t j;
        if (strncmp(k, VOCAB_PREFIX, strlen(VOCAB_PREFIX)) == 0) {
            for (j = 0; vocabs[j]; j++)
                if (strcmp(k + strlen(VOCAB_PREFIX), vocabs[j]) == 0) {
                    m |= 1u << j;
                    break;
                }
            if (vocabs[j])
                continue;
        }
        if (json_is_true(v))
            return fail(c, MCPC_ERR_UNSUPPORTED, "meta-schema \"%.80s\" requires unknown "
                        "vocabulary \"%.80s\"", d, k);
    }
    *out = m | MCPC_VOC_CORE;
    return 0;
}

/* Vocabulary of resource r (computed on first use, inherited from the enclosing resource). */
static unsigned vocab_of(cc_t *c, int32_t r, size_t depth)
{
    rinfo_t *ri = &c->ri[r];
    unsigned v = MCPC_VOC_DEFAULT;
    if (ri->vocab_done)
        return ri->vocab;
    if (ri->dialect) {
        if (dialect_vocab(c, json_string_value(ri->dialect), &v, depth))
            return MCPC_VOC_DEFAULT;
    } else if (ri->parent >= 0)
        v = vocab_of(c, ri->parent, depth + 1);
    ri = &c->ri[r];   /* dialect_vocab may have grown the table */
    ri->vocab = v;
    ri->vocab_done = 1;
    return v;
}

/* ---- references ---------------------------------------------------------------------------- */

/* The schema a reference (already absolute) names; borrowed. NULL with an error when unknown. */
static json_t *resolve_target(cc_t *c, const char *abs)
{
    size_t dl = mcpc_schema_uri_docpart(abs);
    const char *frag = abs[dl] == '#' ? abs + dl + 1 : "";
    int32_t r = find_resource(c, abs, dl);
    json_t *t = NULL;
    if (c->rc)
        return NULL;
    if (r < 0) {
        fail(c, MCPC_ERR_NOT_FOUND, "unresolved reference \"%.160s\": no schema registered "
             "under \"%.*s\" (remote schemas are never fetched)", abs, (int)(dl > 120 ? 120 : dl),
             abs);
        return NULL;
    }
    if (!*frag)
        return c->ri[r].root;
    if (frag[0] == '/') {
        size_t pl;
        char *p = mcpc_schema_pct_decode(frag, strlen(frag), &pl);
        if (!p) {
            fail(c, MCPC_ERR_INVALID, "bad percent-encoding in reference \"%.160s\"", abs);
            return NULL;
        }
        t = mcpc_schema_pointer_get(c->ri[r].root, p, pl);
        free(p);
        if (!t) {
            fail(c, MCPC_ERR_NOT_FOUND, "reference \"%.160s\": JSON Pointer names nothing", abs);
            return NULL;
        }
        /* a pointer into a non-schema location (unknown keyword, examples): scan it now */
        if (json_is_object(t) && !loc_find(c, t) && scan(c, t, r, 0, 0))
            return NULL;
        return t;
    }
    size_t need = dl + strlen(frag) + 2;
    char *key = malloc(need);
    if (!key) {
        nomem(c);
        return NULL;
    }
    /* anchors are keyed by the resource's canonical URI */
    snprintf(key, need, "%s#%s", c->out->res[r].uri, frag);
    for (size_t i = 0; i < c->n_anchors; i++)
        if (strcmp(c->anchors[i].uri, key) == 0) {
            t = c->anchors[i].s;
            break;
        }
    free(key);
    if (!t)
        fail(c, MCPC_ERR_NOT_FOUND, "reference \"%.160s\": no such anchor", abs);
    return t;
}

/* ---- nodes --------------------------------------------------------------------------------- */

static mcpc_schema_node *comp(cc_t *c, json_t *s, size_t depth);
/* Insert t->props[idx] by linear probing (the table never fills: load <= 1/2). */
static void ptab_insert(mcpc_schema_ptab *t, size_t idx);

/* A zeroed node owned by the validator, within max_nodes. */
static mcpc_schema_node *new_node(cc_t *c)
{
    mcpc_schema *o = c->out;
    if (o->n_nodes >= c->lim.max_nodes) {
        fail(c, MCPC_ERR_TOO_BIG, "schema has more than %zu subschemas", c->lim.max_nodes);
        return NULL;
    }
    if (o->n_nodes == o->nodes_cap) {
        size_t cap = o->nodes_cap ? o->nodes_cap * 2 : 64;
        mcpc_schema_node **nn = realloc(o->nodes, cap * sizeof *nn);
        if (!nn) {
            nomem(c);
            return NULL;
        }
        o->nodes = nn;
        o->nodes_cap = cap;
    }
    mcpc_schema_node *n = mcpc_schema_alloc(o, sizeof *n);
    if (!n) {
        nomem(c);
        return NULL;
    }
    n->id = (uint32_t)o->n_nodes;
    o->nodes[o->n_nodes++] = n;
    return n;
}

/* A non-negative integer keyword value (2.0 counts); -1 with an error otherwise. */
static int get_count(cc_t *c, json_t *v, const char *kw, size_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (size_t)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v) && mcpc_schema_is_integral(v) && json_real_value(v) >= 0) {
        double d = json_real_value(v);
        *out = d >= 1.8e19 ? SIZE_MAX : (size_t)d;
        return 0;
    }
    return fail(c, MCPC_ERR_INVALID, "\"%s\" must be a non-negative integer", kw);
}

/* A numeric bound; v is borrowed. */
static int get_num(cc_t *c, json_t *v, const char *kw, mcpc_schema_num *out)
{
    memset(out, 0, sizeof *out);
    if (json_is_integer(v)) {
        out->i = json_integer_value(v);
        out->d = (double)out->i;
        out->is_int = 1;
        return 0;
    }
    if (json_is_real(v)) {
        out->d = json_real_value(v);
        if (mcpc_schema_is_integral(v) && out->d >= -9.2e18 && out->d <= 9.2e18) {
            out->i = (json_int_t)out->d;
            out->is_int = 1;
        }
        return 0;
    }
    return fail(c, MCPC_ERR_INVALID, "\"%s\" must be a number", kw);
}

/* Compile the subschema v (borrowed) of keyword kw. */
static mcpc_schema_node *child(cc_t *c, json_t *v, const char *kw, size_t depth)
{
    if (!json_is_object(v) && !json_is_boolean(v)) {
        fail(c, MCPC_ERR_INVALID, "\"%s\" must hold a schema (object or boolean)", kw);
        return NULL;
    }
    return comp(c, v, depth + 1);
}

/* Array of schemas (non-empty unless allow_empty). */
static int child_array(cc_t *c, json_t *a, const char *kw, size_t depth, mcpc_schema_node ***out,
                       size_t *n)
{
    size_t i;
    json_t *v;
    if (!json_is_array(a) || json_array_size(a) == 0)
        return fail(c, MCPC_ERR_INVALID, "\"%s\" must be a non-empty array of schemas", kw);
    if (json_array_size(a) > c->lim.max_nodes)
        return fail(c, MCPC_ERR_TOO_BIG, "\"%s\" has more than %zu subschemas", kw,
                    c->lim.max_nodes);
    *out = mcpc_schema_alloc(c->out, json_array_size(a) * sizeof **out);
    if (!*out)
        return nomem(c);
    json_array_foreach(a, i, v) {
        (*out)[i] = child(c, v, kw, depth);
        if (!(*out)[i])
            return -1;
    }
    *n = json_array_size(a);
    return 0;
}

/* "type": string or array of type names; v is borrowed. */
static int comp_type(cc_t *c, mcpc_schema_node *n, json_t *v)
{
    static const char *const names[] = {"null", "boolean", "object", "array", "number",
                                        "string", "integer"};
    json_t *one[1] = {v};
    size_t cnt = 1;
    if (json_is_array(v))
        cnt = json_array_size(v);
    else if (!json_is_string(v))
        return fail(c, MCPC_ERR_INVALID, "\"type\" must be a string or an array of strings");
    for (size_t i = 0; i < cnt; i++) {
        json_t *t = json_is_array(v) ? json_array_get(v, i) : one[0];
        size_t j;
        if (!json_is_string(t))
            return fail(c, MCPC_ERR_INVALID, "\"type\" entries must be strings");
        for (j = 0; j < 7; j++)
            if (strcmp(json_string_value(t), names[j]) == 0)
                break;
        if (j == 7)
            return fail(c, MCPC_ERR_INVALID, "unknown type \"%.40s\"", json_string_value(t));
        n->types |= (uint8_t)(1u << j);
    }
    /* "number" includes every integer */
    if (n->types & T_NUMBER)
        n->types |= T_INTEGER;
    n->kw |= KB(K_TYPE);
    return 0;
}

/* "enum": the validator keeps a new reference to each value. */
static int comp_enum(cc_t *c, mcpc_schema_node *n, json_t *v)
{
    size_t i;
    json_t *e;
    if (!json_is_array(v))
        return fail(c, MCPC_ERR_INVALID, "\"enum\" must be an array");
    if (json_array_size(v) > c->lim.max_nodes)
        return fail(c, MCPC_ERR_TOO_BIG, "\"enum\" has more than %zu values", c->lim.max_nodes);
    n->enumv = mcpc_schema_alloc(c->out, (json_array_size(v) + 1) * sizeof *n->enumv);
    if (!n->enumv)
        return nomem(c);
    size_t nstr = 0, cap = 4;
    json_array_foreach(v, i, e) {
        mcpc_schema_enumv *ev = &n->enumv[n->n_enum++];
        ev->v = json_incref(e);
        ev->hash = mcpc_schema_json_hash(e);
        if (json_is_string(e)) {
            ev->str = json_string_value(e);
            ev->len = json_string_length(e);
            ev->head = mcpc_schema_head8(ev->str, ev->len);
            nstr++;
        }
    }
    n->kw |= KB(K_ENUM);
    /* string members also go into a property-style table: one probe per instance string */
    mcpc_schema_ptab *t = &n->enum_str;
    while (cap < nstr * 2)
        cap *= 2;
    t->props = mcpc_schema_alloc(c->out, (nstr + 1) * sizeof *t->props);
    t->slots = mcpc_schema_alloc(c->out, cap * sizeof *t->slots);
    if (!t->props || !t->slots)
        return nomem(c);
    t->mask = cap - 1;
    for (i = 0; i < n->n_enum; i++) {
        const mcpc_schema_enumv *ev = &n->enumv[i];
        if (!ev->str || mcpc_schema_ptab_get(t, ev->str, ev->len))
            continue;
        mcpc_schema_prop *p = &t->props[t->n];
        p->key = ev->str;
        p->len = ev->len;
        p->head = ev->head;
        ptab_insert(t, t->n++);
    }
    return 0;
}

/* Strings of an array into arena copies. */
static int comp_strings(cc_t *c, json_t *a, const char *kw, const char ***names, size_t **lens,
                        size_t *cnt)
{
    size_t i;
    json_t *v;
    if (!json_is_array(a))
        return fail(c, MCPC_ERR_INVALID, "\"%s\" must be an array of strings", kw);
    *names = mcpc_schema_alloc(c->out, (json_array_size(a) + 1) * sizeof **names);
    *lens = mcpc_schema_alloc(c->out, (json_array_size(a) + 1) * sizeof **lens);
    if (!*names || !*lens)
        return nomem(c);
    json_array_foreach(a, i, v) {
        if (!json_is_string(v))
            return fail(c, MCPC_ERR_INVALID, "\"%s\" must be an array of strings", kw);
        (*names)[i] = mcpc_schema_strndup(c->out, json_string_value(v), json_string_length(v));
        (*lens)[i] = json_string_length(v);
        if (!(*names)[i])
            return nomem(c);
    }
    *cnt = json_array_size(a);
    return 0;
}

/* Collect "properties" entries; the lookup table is built once "required" is known too. */
static int comp_properties(cc_t *c, mcpc_schema_node *n, json_t *v, size_t depth)
{
    const char *k;
    size_t kl;
    json_t *sv;
    if (!json_is_object(v))
        return fail(c, MCPC_ERR_INVALID, "\"properties\" must be an object");
    n->props.props = mcpc_schema_alloc(c->out, (json_object_size(v) + 1) * sizeof *n->props.props);
    if (!n->props.props)
        return nomem(c);
    json_object_keylen_foreach(v, k, kl, sv) {
        mcpc_schema_prop *p = &n->props.props[n->props.n];
        p->key = mcpc_schema_strndup(c->out, k, kl);
        p->len = kl;
        if (!p->key)
            return nomem(c);
        p->head = mcpc_schema_head8(k, kl);
        p->node = child(c, sv, "properties", depth);
        if (!p->node)
            return -1;
        n->props.n++;
    }
    n->kw |= KB(K_PROPERTIES);
    return 0;
}

/* Insert t->props[idx] by linear probing (the table never fills: load <= 1/2). */
static void ptab_insert(mcpc_schema_ptab *t, size_t idx)
{
    const mcpc_schema_prop *p = &t->props[idx];
    size_t i = mcpc_schema_ptab_hash(p->key, p->len) & t->mask;
    while (t->slots[i])
        i = (i + 1) & t->mask;
    t->slots[i] = (uint32_t)idx + 1;
}

/* Property table: "properties" entries, plus entries without a subschema for up to 64
 * "required" keys when the node walks the members anyway, so that the one pass over the
 * instance answers "required" too (no hash lookups into the instance). */
static int build_ptab(cc_t *c, mcpc_schema_node *n)
{
    mcpc_schema_ptab *t = &n->props;
    int req_in = (n->kw & KB(K_REQUIRED)) && n->n_req <= 64 && (n->kw & G_OBJ_ITER);
    size_t total = t->n + (req_in ? n->n_req : 0), cap = 4;
    if (!total)
        return 0;
    while (cap < total * 2)
        cap *= 2;
    mcpc_schema_prop *props = mcpc_schema_alloc(c->out, (total + 1) * sizeof *props);
    t->slots = mcpc_schema_alloc(c->out, cap * sizeof *t->slots);
    if (!props || !t->slots)
        return nomem(c);
    if (t->n)
        memcpy(props, t->props, t->n * sizeof *props);
    t->props = props;
    t->mask = cap - 1;
    for (size_t i = 0; i < t->n; i++)
        ptab_insert(t, i);
    if (!req_in)
        return 0;
    for (size_t i = 0; i < n->n_req; i++) {
        mcpc_schema_prop *p = (mcpc_schema_prop *)mcpc_schema_ptab_get(t, n->req[i], n->req_len[i]);
        if (!p) {
            p = &t->props[t->n];
            p->key = n->req[i];
            p->len = n->req_len[i];
            p->head = mcpc_schema_head8(p->key, p->len);
            ptab_insert(t, t->n++);
        }
        if (p->reqbit)
            continue;   /* a key listed twice counts once */
        p->reqbit = 1ull << i;
        n->req_all |= p->reqbit;
    }
    n->req_table = 1;
    return 0;
}

/* The validator owns re from here on (freed on failure too). */
static int add_regex(cc_t *c, mcpc_schema_re *re)
{
    mcpc_schema *o = c->out;
    if (o->n_regexes == o->regexes_cap) {
        size_t cap = o->regexes_cap ? o->regexes_cap * 2 : 8;
        mcpc_schema_re **r = realloc(o->regexes, cap * sizeof *r);
        if (!r) {
            mcpc_schema_re_free(re);
            return nomem(c);
        }
        o->regexes = r;
        o->regexes_cap = cap;
    }
    o->regexes[o->n_regexes++] = re;
    return 0;
}

/* Compile an ECMA pattern (bytes, not borrowed beyond the call) into *out. */
static int comp_regex(cc_t *c, const char *p, size_t len, mcpc_schema_re **out)
{
    char msg[200];
    mcpc_err rc = mcpc_schema_re_compile(p, len, c->lim.max_pattern, out, msg, sizeof msg);
    if (rc != MCPC_OK)
        return fail(c, rc, "%s", msg);
    return add_regex(c, *out);
}

/* "patternProperties": v is borrowed; keys are ECMA patterns. */
static int comp_pattern_props(cc_t *c, mcpc_schema_node *n, json_t *v, size_t depth)
{
    const char *k;
    size_t kl;
    json_t *sv;
    if (!json_is_object(v))
        return fail(c, MCPC_ERR_INVALID, "\"patternProperties\" must be an object");
    n->pprops = mcpc_schema_alloc(c->out, (json_object_size(v) + 1) * sizeof *n->pprops);
    if (!n->pprops)
        return nomem(c);
    json_object_keylen_foreach(v, k, kl, sv) {
        mcpc_schema_pprop *pp = &n->pprops[n->n_pprops];
        if (comp_regex(c, k, kl, &pp->re))
            return -1;
        pp->node = child(c, sv, "patternProperties", depth);
        if (!pp->node)
            return -1;
        n->n_pprops++;
    }
    n->kw |= KB(K_PATTERNPROPS);
    return 0;
}

/* "dependentRequired": v is borrowed; names are copied into the arena. */
static int comp_dep_required(cc_t *c, mcpc_schema_node *n, json_t *v)
{
    const char *k;
    size_t kl;
    json_t *a;
    if (!json_is_object(v))
        return fail(c, MCPC_ERR_INVALID, "\"dependentRequired\" must be an object");
    n->depreq = mcpc_schema_alloc(c->out, (json_object_size(v) + 1) * sizeof *n->depreq);
    if (!n->depreq)
        return nomem(c);
    json_object_keylen_foreach(v, k, kl, a) {
        mcpc_schema_depreq *d = &n->depreq[n->n_depreq++];
        d->key = mcpc_schema_strndup(c->out, k, kl);
        d->len = kl;
        if (!d->key)
            return nomem(c);
        if (comp_strings(c, a, "dependentRequired", &d->names, &d->lens, &d->n))
            return -1;
    }
    n->kw |= KB(K_DEPREQ);
    return 0;
}

/* "dependentSchemas": v is borrowed. */
static int comp_dep_schemas(cc_t *c, mcpc_schema_node *n, json_t *v, size_t depth)
{
    const char *k;
    size_t kl;
    json_t *sv;
    if (!json_is_object(v))
        return fail(c, MCPC_ERR_INVALID, "\"dependentSchemas\" must be an object");
    n->depsch = mcpc_schema_alloc(c->out, (json_object_size(v) + 1) * sizeof *n->depsch);
    if (!n->depsch)
        return nomem(c);
    json_object_keylen_foreach(v, k, kl, sv) {
        mcpc_schema_depschema *d = &n->depsch[n->n_depsch];
        d->key = mcpc_schema_strndup(c->out, k, kl);
        d->len = kl;
        if (!d->key)
            return nomem(c);
        d->node = child(c, sv, "dependentSchemas", depth);
        if (!d->node)
            return -1;
        n->n_depsch++;
    }
    n->kw |= KB(K_DEPSCHEMAS);
    return 0;
}

/* Pre-2019 "dependencies", still common in the wild: arrays are dependentRequired, schemas
 * dependentSchemas. Only used when the 2020-12 keywords are absent. */
static int comp_dependencies(cc_t *c, mcpc_schema_node *n, json_t *v, size_t depth)
{
    const char *k;
    size_t kl, na = 0, ns = 0;
    json_t *x;
    if (!json_is_object(v) || (n->kw & (KB(K_DEPREQ) | KB(K_DEPSCHEMAS))))
        return 0;
    json_object_foreach(v, k, x) {
        if (json_is_array(x))
            na++;
        else
            ns++;
    }
    n->depreq = mcpc_schema_alloc(c->out, (na + 1) * sizeof *n->depreq);
    n->depsch = mcpc_schema_alloc(c->out, (ns + 1) * sizeof *n->depsch);
    if (!n->depreq || !n->depsch)
        return nomem(c);
    json_object_keylen_foreach(v, k, kl, x) {
        const char *key = mcpc_schema_strndup(c->out, k, kl);
        if (!key)
            return nomem(c);
        if (json_is_array(x)) {
            mcpc_schema_depreq *d = &n->depreq[n->n_depreq++];
            d->key = key;
            d->len = kl;
            if (comp_strings(c, x, "dependencies", &d->names, &d->lens, &d->n))
                return -1;
        } else {
            mcpc_schema_depschema *d = &n->depsch[n->n_depsch];
            d->key = key;
            d->len = kl;
            if (!(d->node = child(c, x, "dependencies", depth)))
                return -1;
            n->n_depsch++;
        }
    }
    if (n->n_depreq)
        n->kw |= KB(K_DEPREQ);
    if (n->n_depsch)
        n->kw |= KB(K_DEPSCHEMAS);
    return 0;
}

/* $ref / $dynamicRef: resolve against the node's base and compile the target. */
static int comp_ref(cc_t *c, mcpc_schema_node *n, json_t *v, int dynamic, size_t depth)
{
    const char *kw = dynamic ? "$dynamicRef" : "$ref";
    char *abs;
    json_t *t;
    if (!json_is_string(v))
        return fail(c, MCPC_ERR_INVALID, "\"%s\" must be a string", kw);
    abs = mcpc_schema_uri_resolve(c->out->res[n->res].uri, json_string_value(v));
    if (!abs)
        return nomem(c);
    t = resolve_target(c, abs);
    if (!t) {
        free(abs);
        return -1;
    }
    mcpc_schema_node *target = comp(c, t, depth + 1);
    if (!target) {
        free(abs);
        return -1;
    }
    if (!dynamic) {
        n->ref = target;
        n->kw |= KB(K_REF);
    } else {
        n->dynref = target;
        n->kw |= KB(K_DYNREF);
        /* bookending: the static target must declare a matching $dynamicAnchor */
        size_t dl = mcpc_schema_uri_docpart(abs);
        const char *frag = abs[dl] == '#' ? abs + dl + 1 : "";
        json_t *da = json_is_object(t) ? json_object_get(t, "$dynamicAnchor") : NULL;
        if (*frag && frag[0] != '/' && json_is_string(da) &&
            strcmp(json_string_value(da), frag) == 0) {
            n->dyn_name = mcpc_schema_strndup(c->out, frag, strlen(frag));
            if (!n->dyn_name) {
                free(abs);
                return nomem(c);
            }
            c->out->has_dynamic = 1;
        }
    }
    free(abs);
    return 0;
}

/* Compile one schema location (memoised). */
static mcpc_schema_node *comp(cc_t *c, json_t *s, size_t depth)
{
    mcpc_schema_node *n;
    loc_t *loc;
    json_t *v, *pv;
    unsigned voc;
    if (c->rc)
        return NULL;
    if (json_is_true(s))
        return &c->out->n_true;
    if (json_is_false(s))
        return &c->out->n_false;
    if (!json_is_object(s)) {
        fail(c, MCPC_ERR_INVALID, "a schema must be an object or a boolean");
        return NULL;
    }
    loc = loc_find(c, s);
    if (!loc) {
        fail(c, MCPC_ERR_INVALID, "internal: schema location was not scanned");
        return NULL;
    }
    if (loc->node)
        return loc->node;
    if (depth > c->lim.max_depth) {
        fail(c, MCPC_ERR_TOO_BIG, "schema nesting or $ref chain deeper than %zu",
             c->lim.max_depth);
        return NULL;
    }
    n = new_node(c);
    if (!n)
        return NULL;
    loc->node = n;   /* loc may move when the map grows: not used below */
    n->res = loc->res;
    c->ri[n->res].used = 1;
    voc = vocab_of(c, n->res, 0);
    if (c->rc)
        return NULL;

    if ((v = json_object_get(s, "$ref")) && comp_ref(c, n, v, 0, depth))
        return NULL;
    if ((v = json_object_get(s, "$dynamicRef")) && comp_ref(c, n, v, 1, depth))
        return NULL;

    if (voc & MCPC_VOC_APPLICATOR) {
        if ((v = json_object_get(s, "allOf"))) {
            if (child_array(c, v, "allOf", depth, &n->all_of, &n->n_all_of))
                return NULL;
            n->kw |= KB(K_ALLOF);
        }
        if ((v = json_object_get(s, "anyOf"))) {
            if (child_array(c, v, "anyOf", depth, &n->any_of, &n->n_any_of))
                return NULL;
            n->kw |= KB(K_ANYOF);
        }
        if ((v = json_object_get(s, "oneOf"))) {
            if (child_array(c, v, "oneOf", depth, &n->one_of, &n->n_one_of))
                return NULL;
            n->kw |= KB(K_ONEOF);
        }
        if ((v = json_object_get(s, "not"))) {
            if (!(n->not_ = child(c, v, "not", depth)))
                return NULL;
            n->kw |= KB(K_NOT);
        }
        if ((v = json_object_get(s, "if"))) {
            json_t *t = json_object_get(s, "then"), *e = json_object_get(s, "else");
            if (!(n->if_ = child(c, v, "if", depth)))
                return NULL;
            if (t && !(n->then_ = child(c, t, "then", depth)))
                return NULL;
            if (e && !(n->else_ = child(c, e, "else", depth)))
                return NULL;
            n->kw |= KB(K_IF);
        }
        if ((v = json_object_get(s, "dependentSchemas")) && comp_dep_schemas(c, n, v, depth))
            return NULL;
        if ((v = json_object_get(s, "dependencies")) && comp_dependencies(c, n, v, depth))
            return NULL;
        v = json_object_get(s, "items");
        if (voc & MCPC_VOC_LEGACY) {
            /* 2019-09 and older: array "items" is the tuple, "additionalItems" the rest */
            if (json_is_array(v)) {
                if (child_array(c, v, "items", depth, &n->prefix, &n->n_prefix))
                    return NULL;
                n->kw |= KB(K_PREFIXITEMS);
                v = json_object_get(s, "additionalItems");
            }
        } else if ((pv = json_object_get(s, "prefixItems"))) {
            if (child_array(c, pv, "prefixItems", depth, &n->prefix, &n->n_prefix))
                return NULL;
            n->kw |= KB(K_PREFIXITEMS);
        }
        if (v) {
            if (!(n->items = child(c, v, "items", depth)))
                return NULL;
            n->kw |= KB(K_ITEMS);
        }
        if ((v = json_object_get(s, "contains"))) {
            if (!(n->contains = child(c, v, "contains", depth)))
                return NULL;
            n->kw |= KB(K_CONTAINS);
            n->min_contains = 1;
            n->max_contains = SIZE_MAX;
        }
        if ((v = json_object_get(s, "properties")) && comp_properties(c, n, v, depth))
            return NULL;
        if ((v = json_object_get(s, "patternProperties")) && comp_pattern_props(c, n, v, depth))
            return NULL;
        if ((v = json_object_get(s, "additionalProperties"))) {
            if (!(n->addl = child(c, v, "additionalProperties", depth)))
                return NULL;
            n->kw |= KB(K_ADDPROPS);
        }
        if ((v = json_object_get(s, "propertyNames"))) {
            if (!(n->prop_names = child(c, v, "propertyNames", depth)))
                return NULL;
            n->kw |= KB(K_PROPNAMES);
        }
    }
    if (voc & MCPC_VOC_UNEVALUATED) {
        if ((v = json_object_get(s, "unevaluatedItems"))) {
            if (!(n->uneval_items = child(c, v, "unevaluatedItems", depth)))
                return NULL;
            n->kw |= KB(K_UNEVALITEMS);
        }
        if ((v = json_object_get(s, "unevaluatedProperties"))) {
            if (!(n->uneval_props = child(c, v, "unevaluatedProperties", depth)))
                return NULL;
            n->kw |= KB(K_UNEVALPROPS);
        }
    }
    if (voc & MCPC_VOC_VALIDATION) {
        if ((v = json_object_get(s, "type")) && comp_type(c, n, v))
            return NULL;
        if ((v = json_object_get(s, "const"))) {
            n->const_v = json_incref(v);
            n->kw |= KB(K_CONST);
        }
        if ((v = json_object_get(s, "enum")) && comp_enum(c, n, v))
            return NULL;
        if ((v = json_object_get(s, "multipleOf"))) {
            if (!json_is_number(v) || json_number_value(v) <= 0 ||
                mcpc_schema_dec_from_json(v, &n->multiple))
                return fail(c, MCPC_ERR_INVALID, "\"multipleOf\" must be a number above 0"),
                       NULL;
            n->kw |= KB(K_MULTIPLEOF);
        }
#define NUMKW(name, field, bit)                                                                   \
        if ((v = json_object_get(s, name))) {                                                     \
            if (get_num(c, v, name, &n->field))                                                   \
                return NULL;                                                                      \
            n->kw |= KB(bit);                                                                     \
        }
        NUMKW("maximum", maximum, K_MAXIMUM)
        NUMKW("exclusiveMaximum", exmax, K_EXMAXIMUM)
        NUMKW("minimum", minimum, K_MINIMUM)
        NUMKW("exclusiveMinimum", exmin, K_EXMINIMUM)
#undef NUMKW
#define CNTKW(name, field, bit)                                                                   \
        if ((v = json_object_get(s, name))) {                                                     \
            if (get_count(c, v, name, &n->field))                                                 \
                return NULL;                                                                      \
            n->kw |= KB(bit);                                                                     \
        }
        CNTKW("maxLength", max_len, K_MAXLENGTH)
        CNTKW("minLength", min_len, K_MINLENGTH)
        CNTKW("maxItems", max_items, K_MAXITEMS)
        CNTKW("minItems", min_items, K_MINITEMS)
        CNTKW("maxProperties", max_props, K_MAXPROPS)
        CNTKW("minProperties", min_props, K_MINPROPS)
#undef CNTKW
        if (n->kw & KB(K_CONTAINS)) {
            if ((v = json_object_get(s, "minContains")) &&
                get_count(c, v, "minContains", &n->min_contains))
                return NULL;
            if ((v = json_object_get(s, "maxContains")) &&
                get_count(c, v, "maxContains", &n->max_contains))
                return NULL;
        }
        if ((v = json_object_get(s, "pattern"))) {
            if (!json_is_string(v))
                return fail(c, MCPC_ERR_INVALID, "\"pattern\" must be a string"), NULL;
            if (comp_regex(c, json_string_value(v), json_string_length(v), &n->pattern))
                return NULL;
            n->kw |= KB(K_PATTERN);
        }
        if ((v = json_object_get(s, "uniqueItems"))) {
            if (!json_is_boolean(v))
                return fail(c, MCPC_ERR_INVALID, "\"uniqueItems\" must be a boolean"), NULL;
            if (json_is_true(v)) {
                n->unique = 1;
                n->kw |= KB(K_UNIQUE);
            }
        }
        if ((v = json_object_get(s, "required"))) {
            if (comp_strings(c, v, "required", &n->req, &n->req_len, &n->n_req))
                return NULL;
            if (n->n_req)
                n->kw |= KB(K_REQUIRED);
        }
        if ((v = json_object_get(s, "dependentRequired")) && comp_dep_required(c, n, v))
            return NULL;
    }
    if (voc & (MCPC_VOC_FORMAT_ANN | MCPC_VOC_FORMAT_ASSERT)) {
        v = json_object_get(s, "format");
        if (json_is_string(v)) {
            int id = mcpc_schema_format_id(json_string_value(v));
            if (id != F_UNKNOWN && ((voc & MCPC_VOC_FORMAT_ASSERT) ||
                                    (c->lim.flags & MCPC_SCHEMA_FORMAT_ASSERT))) {
                n->fmt = (uint16_t)id;
                n->fmt_assert = 1;
                n->kw |= KB(K_FORMAT);
            }
        }
    }
    if (build_ptab(c, n))
        return NULL;
    n->closed = (n->kw & KB(K_ADDPROPS)) && n->addl->kind == NK_FALSE &&
                !(n->kw & KB(K_PATTERNPROPS));
    n->leaf = (n->kw & ~G_LEAF) == 0;
    if (n->leaf && (n->kw & KB(K_TYPE))) {
        uint64_t rest = n->kw & ~KB(K_TYPE);
        if (n->types == T_STRING && !(rest & ~(G_STR | KB(K_ENUM))) &&
            (!(rest & KB(K_ENUM)) || n->enum_str.n == n->n_enum))
            n->lop = LOP_STR;
        else if (n->types == T_INTEGER && !(rest & ~G_NUM))
            n->lop = LOP_INT;
        else if (n->types == (T_NUMBER | T_INTEGER) && !(rest & ~G_NUM))
            n->lop = LOP_NUM;
    }
    return n;
}

/* ---- in-place cycles ----------------------------------------------------------------------- */

/* Number of in-place edge slots of n (some slots may be empty). */
static size_t inplace_count(const mcpc_schema_node *n)
{
    return 6 + n->n_all_of + n->n_any_of + n->n_one_of + n->n_depsch;
}

/* k-th subschema applied to the same instance location; NULL for an empty slot. */
static mcpc_schema_node *inplace_edge(const mcpc_schema_node *n, size_t k)
{
    mcpc_schema_node *fixed[6] = {n->ref, n->dynref, n->not_, n->if_, n->then_, n->else_};
    if (k < 6)
        return fixed[k];
    k -= 6;
    if (k < n->n_all_of)
        return n->all_of[k];
    k -= n->n_all_of;
    if (k < n->n_any_of)
        return n->any_of[k];
    k -= n->n_any_of;
    if (k < n->n_one_of)
        return n->one_of[k];
    k -= n->n_one_of;
    return n->depsch[k].node;
}

/* Iterative DFS over in-place edges; a back edge is a loop that never consumes the instance. */
static int check_cycles(cc_t *c)
{
    mcpc_schema *o = c->out;
    size_t nn = o->n_nodes, sp = 0;
    unsigned char *color = calloc(nn ? nn : 1, 1);
    struct frame {
        mcpc_schema_node *n;
        size_t k;
    } *st = malloc((nn + 1) * sizeof *st);
    int rc = 0;
    if (!color || !st) {
        rc = nomem(c);
        goto out;
    }
    for (size_t r = 0; r < nn && !rc; r++) {
        if (color[r])
            continue;
        st[sp++] = (struct frame){o->nodes[r], 0};
        color[r] = 1;
        while (sp && !rc) {
            struct frame *f = &st[sp - 1];
            if (f->k >= inplace_count(f->n)) {
                color[f->n->id] = 2;
                sp--;
                continue;
            }
            mcpc_schema_node *m = inplace_edge(f->n, f->k++);
            if (!m || m->kind != NK_OBJ)
                continue;
            if (color[m->id] == 1)
                rc = fail(c, MCPC_ERR_INVALID, "schema has a $ref loop that never descends "
                          "into the instance (infinite recursion)");
            else if (!color[m->id]) {
                color[m->id] = 1;
                st[sp++] = (struct frame){m, 0};
            }
        }
    }
out:
    free(color);
    free(st);
    return rc;
}

/* ---- driver -------------------------------------------------------------------------------- */

/* Compile the $dynamicAnchor targets of every resource in use, until no new resource is used. */
static int compile_dynamic(cc_t *c)
{
    int again = 1;
    while (again && !c->rc) {
        again = 0;
        for (size_t r = 0; r < c->out->n_res && !c->rc; r++) {
            rinfo_t *ri = &c->ri[r];
            if (!ri->used || ri->dyn_done || !ri->n_dyn)
                continue;
            ri->dyn_done = 1;
            again = 1;
            mcpc_schema_dynanchor *d = mcpc_schema_alloc(c->out, ri->n_dyn * sizeof *d);
            if (!d)
                return nomem(c);
            size_t nd = ri->n_dyn;
            for (size_t i = 0; i < nd; i++) {
                d[i].name = mcpc_schema_strndup(c->out, c->ri[r].dyn_names[i],
                                                strlen(c->ri[r].dyn_names[i]));
                d[i].node = comp(c, c->ri[r].dyn_s[i], 0);
                if (!d[i].name || !d[i].node)
                    return c->rc ? -1 : nomem(c);
            }
            c->out->res[r].dyn = d;
            c->out->res[r].n_dyn = nd;
        }
    }
    return c->rc ? -1 : 0;
}

/* Release the compile-time tables (not the validator). */
static void cc_free(cc_t *c)
{
    for (size_t i = 0; i < c->out->n_res && c->ri; i++) {
        for (size_t j = 0; j < c->ri[i].n_dyn; j++)
            free(c->ri[i].dyn_names[j]);
        free(c->ri[i].dyn_names);
        free(c->ri[i].dyn_s);
    }
    free(c->ri);
    free(c->locs);
    for (size_t i = 0; i < c->n_anchors; i++)
        free(c->anchors[i].uri);
    free(c->anchors);
    free(c->reg_scanned);
}

/* schema is borrowed; *out is new. */
mcpc_err mcpc_schema_compile_impl(mcpc_schema_registry *reg, json_t *schema, const char *base,
                                  const mcpc_schema_limits *lim, mcpc_schema **out, char *err,
                                  size_t errlen)
{
    cc_t c;
    char *b = NULL;
    memset(&c, 0, sizeof c);
    *out = NULL;
    c.err = err;
    c.errlen = errlen;
    c.reg = reg;
    mcpc_schema_limits_resolve(lim, &c.lim);
    mcpc_schema_jview_init();
    c.out = calloc(1, sizeof *c.out);
    if (!c.out)
        return MCPC_ERR_NOMEM;
    c.out->lim = c.lim;
    c.out->n_true.kind = NK_TRUE;
    c.out->n_true.res = -1;
    c.out->n_false.kind = NK_FALSE;
    c.out->n_false.res = -1;
    if (!json_is_object(schema) && !json_is_boolean(schema)) {
        fail(&c, MCPC_ERR_INVALID, "a schema must be an object or a boolean");
        goto out;
    }
    if (reg && reg->n) {
        c.reg_scanned = calloc(reg->n, 1);
        if (!c.reg_scanned) {
            nomem(&c);
            goto out;
        }
    }
    c.out->mctx = pcre2_match_context_create(NULL);
    if (!c.out->mctx) {
        nomem(&c);
        goto out;
    }
    pcre2_set_match_limit(c.out->mctx, c.lim.regex_match_limit);
    pcre2_set_depth_limit(c.out->mctx, c.lim.regex_depth_limit);
    b = strdup(base && *base ? base : DEFAULT_BASE);
    if (!b) {
        nomem(&c);
        goto out;
    }
    b[mcpc_schema_uri_docpart(b)] = '\0';
    if (scan_doc(&c, b, schema) < 0)
        goto out;
    c.out->root = comp(&c, schema, 0);
    if (!c.out->root || compile_dynamic(&c) || check_cycles(&c))
        goto out;
out:
    cc_free(&c);
    if (c.rc != MCPC_OK) {
        mcpc_schema_free(c.out);
        return c.rc;
    }
    *out = c.out;
    return MCPC_OK;
}
