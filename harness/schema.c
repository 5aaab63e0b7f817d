/* JSON Schema module glue: registry, limits, error sink, arena, lifetime of a validator. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_int.h"

/* ---- limits -------------------------------------------------------------------------------- */

/* Fill every zero field from lim or the default. */
void mcpc_schema_limits_resolve(const mcpc_schema_limits *lim, mcpc_schema_limits *out)
{
    mcpc_schema_limits z = {0};
    if (!lim)
        lim = &z;
    *out = *lim;
    if (!out->max_depth)
        out->max_depth = MCPC_SCHEMA_DEF_MAX_DEPTH;
    if (!out->max_nodes)
        out->max_nodes = MCPC_SCHEMA_DEF_MAX_NODES;
    if (!out->max_pattern)
        out->max_pattern = MCPC_SCHEMA_DEF_MAX_PATTERN;
    if (!out->max_vdepth)
        out->max_vdepth = MCPC_SCHEMA_DEF_MAX_VDEPTH;
    if (!out->max_steps)
        out->max_steps = MCPC_SCHEMA_DEF_MAX_STEPS;
    if (!out->regex_match_limit)
        out->regex_match_limit = MCPC_SCHEMA_DEF_MATCH_LIMIT;
    if (!out->regex_depth_limit)
        out->regex_depth_limit = MCPC_SCHEMA_DEF_DEPTH_LIMIT;
}

/* ---- registry ------------------------------------------------------------------------------ */

/* New registry; NULL on allocation failure. */
mcpc_schema_registry *mcpc_schema_registry_new(void)
{
    return calloc(1, sizeof(mcpc_schema_registry));
}

/* schema is borrowed; the registry keeps a new reference. */
mcpc_err mcpc_schema_registry_add(mcpc_schema_registry *reg, const char *uri, json_t *schema)
{
    size_t n;
    if (!reg || !uri || !*uri || !(json_is_object(schema) || json_is_boolean(schema)))
        return MCPC_ERR_INVALID;
    n = mcpc_schema_uri_docpart(uri);
    for (size_t i = 0; i < reg->n; i++)
        if (strlen(reg->ents[i].uri) == n && memcmp(reg->ents[i].uri, uri, n) == 0)
            return MCPC_OK;
    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 16;
        mcpc_schema_regent *e = realloc(reg->ents, cap * sizeof *e);
        if (!e)
            return MCPC_ERR_NOMEM;
        reg->ents = e;
        reg->cap = cap;
    }
    reg->ents[reg->n].uri = strndup(uri, n);
    if (!reg->ents[reg->n].uri)
        return MCPC_ERR_NOMEM;
    reg->ents[reg->n].schema = json_incref(schema);
    reg->n++;
    return MCPC_OK;
}

/* Drops the registry's references. */
void mcpc_schema_registry_free(mcpc_schema_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n; i++) {
        free(reg->ents[i].uri);
        json_decref(reg->ents[i].schema);
    }
    free(reg->ents);
    free(reg);
}

/* ---- arena --------------------------------------------------------------------------------- */

struct mcpc_schema_chunk {
    mcpc_schema_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

/* Zeroed memory that lives as long as s. */
void *mcpc_schema_alloc(mcpc_schema *s, size_t n)
{
    mcpc_schema_chunk *c = s->mem;
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!n)
        n = sizeof(max_align_t);
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        c = calloc(1, sizeof *c + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->next = s->mem;
        s->mem = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

/* NUL-terminated copy of p[0..n) in the arena. */
char *mcpc_schema_strndup(mcpc_schema *s, const char *p, size_t n)
{
    char *d = mcpc_schema_alloc(s, n + 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

/* ---- lifetime ------------------------------------------------------------------------------ */

/* Drops the references the nodes hold (const/enum values) and frees everything. */
void mcpc_schema_free(mcpc_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_nodes; i++) {
        mcpc_schema_node *n = s->nodes[i];
        json_decref(n->const_v);
        for (size_t j = 0; j < n->n_enum; j++)
            json_decref(n->enumv[j].v);
    }
    free(s->nodes);
    free(s->res);
    for (size_t i = 0; i < s->n_regexes; i++)
        mcpc_schema_re_free(s->regexes[i]);
    free(s->regexes);
    pcre2_match_context_free(s->mctx);
    for (mcpc_schema_chunk *c = s->mem, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(s);
}

/* Subschemas compiled into s (0 for NULL). */
size_t mcpc_schema_node_count(const mcpc_schema *s)
{
    return s ? s->n_nodes : 0;
}

/* schema is borrowed. */
mcpc_err mcpc_schema_compile(mcpc_schema_registry *reg, json_t *schema, const char *base_uri,
                             const mcpc_schema_limits *lim, mcpc_schema **out, char *err,
                             size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    return mcpc_schema_compile_impl(reg, schema, base_uri, lim, out, err, errlen);
}

/* ---- error sink ---------------------------------------------------------------------------- */

void mcpc_schema_errors_init(mcpc_schema_errors *e, size_t max)
{
    memset(e, 0, sizeof *e);
    e->max = max ? max : MCPC_SCHEMA_DEF_MAX_ERRORS;
}

/* Frees what the sink owns; keeps max. */
void mcpc_schema_errors_clear(mcpc_schema_errors *e)
{
    for (size_t i = 0; i < e->count; i++) {
        free(e->items[i].instance_path);
        free(e->items[i].schema_path);
        free(e->items[i].message);
    }
    free(e->items);
    size_t max = e->max;
    memset(e, 0, sizeof *e);
    e->max = max;
}
