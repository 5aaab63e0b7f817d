/* Validate an instance against compiled nodes.
 *
 * Fast path (no error sink): a node tests its keyword bitmask per instance type, so absent
 * keywords cost nothing; nothing is allocated unless unevaluated* meets more than 256 members;
 * the first failure unwinds. With a sink every failure is recorded with instance and keyword
 * paths. Subschemas whose failures are not failures of the whole (anyOf/oneOf branches, not,
 * if, contains) always run in fast mode: one error is recorded for the keyword instead.
 *
 * Annotations for unevaluatedProperties/unevaluatedItems are bitmaps over the members (in
 * jansson's iteration order) or items of the one instance being evaluated in place; a
 * subschema whose failure does not fail its parent gets a scratch bitmap merged only on
 * success, so annotations of failed branches are dropped as the spec requires.
 *
 * Every walker takes a constant "col" (collecting) flag and is always inlined into the two
 * recursion points, v_fast and v_slow, so the fast instantiation carries no error or path
 * bookkeeping at all. The suite runner and the fuzz target check that both agree.
 *
 * Bounds: every node application is a step against max_steps, recursion against max_vdepth,
 * regexes against the PCRE2 limits, and a $ref re-entering the same node for the same instance
 * location with nothing consumed in between is reported as a loop. All are MCPC_ERR_TOO_BIG. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_int.h"

#define INL static inline __attribute__((always_inline))

#define R_OK 0
#define R_BAD 1
#define R_RES 2

typedef struct scope {
    int32_t res;
    const struct scope *up;
} scope_t;

typedef struct refframe {
    const mcpc_schema_node *n;
    const json_t *x;
    const struct refframe *up;
} refframe_t;

typedef struct {
    const mcpc_schema *s;
    mcpc_schema_errors *errs;   /* the caller's sink (only the collecting walker records) */
    mcpc_schema_errors *sink;   /* the same, for resource errors met in fast-mode branches */
    pcre2_match_data *md;       /* NULL: the regex layer uses its per-thread scratch */
    size_t steps, max_steps, depth, max_depth;
    const scope_t *scope;
    const refframe_t *refs;
    char *ip, *sp;              /* instance and schema paths (collecting mode only) */
    size_t ipn, ipcap, spn, spcap;
    int nomem, budget_noted;
    int dynamic;                /* the schema has a $dynamicRef: track the dynamic scope */
} vctx;

typedef struct {
    uint64_t *bits;
    size_t n;
    uint64_t inl[4];
} ann_t;

/* The recursion points: general and leaf nodes, fast and collecting instantiations. */
static int v_fast(vctx *c, const mcpc_schema_node *n, json_t *x, ann_t *ev);
static int v_slow(vctx *c, const mcpc_schema_node *n, json_t *x, ann_t *ev);
static int v_leaf_fast(vctx *c, const mcpc_schema_node *n, json_t *x);
static int v_leaf_slow(vctx *c, const mcpc_schema_node *n, json_t *x);
INL int v_leaf_inline(vctx *c, const mcpc_schema_node *n, json_t *x);
/* Apply a subschema: leaves (no subschemas, no annotations) skip the general walker, and in
 * fast mode the commonest leaf shapes are checked inline. */
#define V_NODE(n, x, ev)                                                                         \
    ((n)->leaf ? (col ? v_leaf_slow(c, n, x) : v_leaf_inline(c, n, x))                           \
               : (col ? v_slow(c, n, x, ev) : v_fast(c, n, x, ev)))

/* ---- annotations --------------------------------------------------------------------------- */

static int ann_init(vctx *c, ann_t *a, size_t n)
{
    a->n = n;
    if (n <= 256) {
        a->bits = a->inl;
        memset(a->inl, 0, sizeof a->inl);
        return 0;
    }
    a->bits = calloc((n + 63) / 64, sizeof *a->bits);
    if (!a->bits) {
        a->bits = a->inl;
        a->n = 0;
        c->nomem = 1;
        return -1;
    }
    return 0;
}

/* Release a bitmap from ann_init. */
static void ann_free(ann_t *a)
{
    if (a->bits != a->inl)
        free(a->bits);
}

/* Mark member/item i evaluated. */
static inline void ann_set(ann_t *a, size_t i)
{
    if (i < a->n)
        a->bits[i >> 6] |= 1ull << (i & 63);
}

/* 1 when member/item i was evaluated. */
static inline int ann_get(const ann_t *a, size_t i)
{
    return i < a->n && (a->bits[i >> 6] >> (i & 63)) & 1;
}

/* Merge a successful branch's annotations into d (same size). */
static void ann_or(ann_t *d, const ann_t *s)
{
    for (size_t i = 0; i < (d->n + 63) / 64; i++)
        d->bits[i] |= s->bits[i];
}

/* Everything evaluated (after unevaluated* passed). */
static void ann_all(ann_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        ann_set(a, i);
}

/* ---- paths and errors ---------------------------------------------------------------------- */

static void path_put(vctx *c, char **b, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t nc = *cap ? *cap * 2 : 128;
        while (nc < *len + n + 1)
            nc *= 2;
        char *p = realloc(*b, nc);
        if (!p) {
            c->nomem = 1;
            return;
        }
        *b = p;
        *cap = nc;
    }
    memcpy(*b + *len, s, n);
    *len += n;
    (*b)[*len] = '\0';
}

typedef struct {
    size_t ip, sp;
} mark_t;

/* Remember both path lengths (collecting mode). */
static inline mark_t mark(const vctx *c)
{
    return (mark_t){c->ipn, c->spn};
}

/* Cut both paths back to a mark. */
static inline void unmark(vctx *c, mark_t m)
{
    if (!c->errs)
        return;
    c->ipn = m.ip;
    c->spn = m.sp;
    if (c->ip)
        c->ip[c->ipn] = '\0';
    if (c->sp)
        c->sp[c->spn] = '\0';
}

/* Append a member name to the instance path. */
static void ip_key(vctx *c, const char *k, size_t n)
{
    if (c->errs && mcpc_schema_buf_ptr_token(&c->ip, &c->ipn, &c->ipcap, k, n))
        c->nomem = 1;
}

/* Append an array index to the instance path. */
static void ip_idx(vctx *c, size_t i)
{
    char t[24];
    if (c->errs)
        path_put(c, &c->ip, &c->ipn, &c->ipcap, t, (size_t)snprintf(t, sizeof t, "/%zu", i));
}

/* "/kw" then optionally an escaped key token or an index. */
static void sp_kw(vctx *c, const char *kw)
{
    if (!c->errs)
        return;
    path_put(c, &c->sp, &c->spn, &c->spcap, "/", 1);
    path_put(c, &c->sp, &c->spn, &c->spcap, kw, strlen(kw));
}

/* Append a key token (property name, pattern) to the schema path. */
static void sp_key(vctx *c, const char *k, size_t n)
{
    if (c->errs && mcpc_schema_buf_ptr_token(&c->sp, &c->spn, &c->spcap, k, n))
        c->nomem = 1;
}

/* Append an index (allOf/0, prefixItems/2) to the schema path. */
static void sp_idx(vctx *c, size_t i)
{
    char t[24];
    if (c->errs)
        path_put(c, &c->sp, &c->spn, &c->spcap, t, (size_t)snprintf(t, sizeof t, "/%zu", i));
}

/* Append one error with the current paths to e; counts it as dropped when full. */
static void record(vctx *c, mcpc_schema_errors *e, const char *kw, const char *fmt, va_list ap)
{
    mcpc_schema_error *it;
    char msg[256];
    if (e->count >= e->max) {
        e->dropped++;
        return;
    }
    if (e->count == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        it = realloc(e->items, cap * sizeof *it);
        if (!it) {
            c->nomem = 1;
            return;
        }
        e->items = it;
        e->cap = cap;
    }
    vsnprintf(msg, sizeof msg, fmt, ap);
    it = &e->items[e->count];
    it->keyword = kw;
    it->instance_path = strdup(c->ip && c->errs ? c->ip : "");
    size_t sl = c->sp && c->errs ? c->spn : 0;
    it->schema_path = malloc(sl + strlen(kw) + 2);
    it->message = strdup(msg);
    if (!it->instance_path || !it->schema_path || !it->message) {
        free(it->instance_path);
        free(it->schema_path);
        free(it->message);
        c->nomem = 1;
        return;
    }
    if (sl)
        memcpy(it->schema_path, c->sp, sl);
    it->schema_path[sl] = '/';
    strcpy(it->schema_path + sl + 1, kw);
    e->count++;
}

/* A keyword failed: record it in collecting mode. Returns R_BAD. */
__attribute__((format(printf, 3, 4))) static int fail(vctx *c, const char *kw, const char *fmt,
                                                       ...)
{
    if (c->errs) {
        va_list ap;
        va_start(ap, fmt);
        record(c, c->errs, kw, fmt, ap);
        va_end(ap);
    }
    return R_BAD;
}

/* A bound was hit: recorded once in the caller's sink, whatever the mode. Returns R_RES. */
__attribute__((format(printf, 2, 3))) static int budget(vctx *c, const char *fmt, ...)
{
    if (c->sink && !c->budget_noted) {
        va_list ap;
        mcpc_schema_errors *saved = c->errs;
        c->budget_noted = 1;
        c->errs = c->sink;
        va_start(ap, fmt);
        record(c, c->sink, "budget", fmt, ap);
        va_end(ap);
        c->errs = saved;
    }
    return R_RES;
}

/* Combine results: a resource error beats a failure beats success. */
static inline int worst(int a, int b)
{
    return a > b ? a : b;
}

/* Stop walking a node: a resource error always, a failure unless collecting. */
INL int stop_walk(int r, int col)
{
    return r == R_RES || (r && !col);
}
/* a function, not a macro body: its argument (often an assignment) is evaluated once */
#define STOP(r) stop_walk((r), col)
/* A keyword failure: recorded only when collecting (the message is never built otherwise). */
#define FAIL(...) (col ? fail(c, __VA_ARGS__) : R_BAD)

/* Path bookkeeping, compiled out of the fast instantiation. */
#define PATH(stmt)                                                                               \
    do {                                                                                         \
        if (col) {                                                                               \
            stmt;                                                                                \
        }                                                                                        \
    } while (0)

/* ---- scalars ------------------------------------------------------------------------------- */

static const char *type_name(const json_t *x)
{
    switch (json_typeof(x)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return mcpc_schema_is_integral(x) ? "integer" : "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

/* 1 when x (borrowed) is of a type in the mask; 1.0 counts as an integer. */
INL int type_ok(unsigned types, const json_t *x)
{
    switch (json_typeof(x)) {
    case JSON_OBJECT: return types & T_OBJECT;
    case JSON_ARRAY: return types & T_ARRAY;
    case JSON_STRING: return types & T_STRING;
    case JSON_INTEGER: return types & T_INTEGER;
    case JSON_REAL:
        return (types & T_NUMBER) || ((types & T_INTEGER) && mcpc_schema_is_integral(x));
    case JSON_TRUE:
    case JSON_FALSE: return types & T_BOOLEAN;
    default: return types & T_NULL;
    }
}

/* Record a "type" failure naming what was wanted and what came. */
static int type_fail(vctx *c, const mcpc_schema_node *n, const json_t *x)
{
    static const char *const names[] = {"null", "boolean", "object", "array", "number",
                                        "string", "integer"};
    char want[96] = "";
    size_t w = 0;
    for (int i = 0; i < 7; i++) {
        if (!(n->types & (1u << i)) || (i == 6 && (n->types & T_NUMBER)))
            continue;
        w += (size_t)snprintf(want + w, sizeof want - w, "%s%s", w ? " or " : "", names[i]);
        if (w >= sizeof want)
            break;
    }
    return fail(c, "type", "expected %s, got %s", want, type_name(x));
}

/* Code points in UTF-8 text: every byte that is not a continuation byte. */
static size_t utf8_count(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

/* String keywords, and "enum" for strings (one table probe). */
INL int v_str(vctx *c, const mcpc_schema_node *n, json_t *x, const int col)
{
    uint64_t kw = n->kw;
    const char *s = jv_str(x);
    size_t bl = jv_strlen(x);
    int r = R_OK;
    if ((kw & KB(K_ENUM)) && !(n->enum_str.n && mcpc_schema_ptab_get(&n->enum_str, s, bl)) &&
        STOP(r = FAIL("enum", "value is not one of the %zu allowed values", n->n_enum)))
        return r;
    if (kw & (KB(K_MAXLENGTH) | KB(K_MINLENGTH))) {
        /* the byte length bounds the code point count both ways: count only when needed */
        size_t cps = (size_t)-1;
        if ((kw & KB(K_MAXLENGTH)) && bl > n->max_len) {
            cps = utf8_count(s, bl);
            if (cps > n->max_len &&
                STOP(r = FAIL("maxLength", "string longer than %zu characters", n->max_len)))
                return r;
        }
        if ((kw & KB(K_MINLENGTH)) && (bl + 3) / 4 < n->min_len) {
            if (cps == (size_t)-1)
                cps = bl < n->min_len ? 0 : utf8_count(s, bl);
            if (cps < n->min_len &&
                STOP(r = FAIL("minLength", "string shorter than %zu characters", n->min_len)))
                return r;
        }
    }
    if (kw & KB(K_PATTERN)) {
        int m = mcpc_schema_re_match(n->pattern, s, bl, c->md, c->s->mctx);
        if (m < 0)
            return budget(c, "regex /%.60s/ hit its match limit",
                          mcpc_schema_re_source(n->pattern));
        if (!m && STOP(r = FAIL("pattern", "string does not match /%.80s/",
                                mcpc_schema_re_source(n->pattern))))
            return r;
    }
    if ((kw & KB(K_FORMAT)) && !mcpc_schema_format_check(n->fmt, s, bl))
        r = FAIL("format", "string is not a valid %s", mcpc_schema_format_name(n->fmt));
    return r;
}

/* <0, 0, >0: integers against integer bounds inline, everything else exactly, out of line. */
INL int num_cmp(const json_t *x, const mcpc_schema_num *b)
{
    if (json_is_integer(x) && b->is_int) {
        json_int_t v = jv_int(x);
        return v < b->i ? -1 : v > b->i;
    }
    return mcpc_schema_num_cmp(x, b);
}

/* Numeric keywords on x (borrowed). */
INL int v_num(vctx *c, const mcpc_schema_node *n, json_t *x, const int col)
{
    uint64_t kw = n->kw;
    int r = R_OK;
    if ((kw & KB(K_MAXIMUM)) && num_cmp(x, &n->maximum) > 0 &&
        STOP(r = FAIL("maximum", "must be <= %.17g", n->maximum.d)))
        return r;
    if ((kw & KB(K_EXMAXIMUM)) && num_cmp(x, &n->exmax) >= 0 &&
        STOP(r = FAIL("exclusiveMaximum", "must be < %.17g", n->exmax.d)))
        return r;
    if ((kw & KB(K_MINIMUM)) && num_cmp(x, &n->minimum) < 0 &&
        STOP(r = FAIL("minimum", "must be >= %.17g", n->minimum.d)))
        return r;
    if ((kw & KB(K_EXMINIMUM)) && num_cmp(x, &n->exmin) <= 0 &&
        STOP(r = FAIL("exclusiveMinimum", "must be > %.17g", n->exmin.d)))
        return r;
    if (kw & KB(K_MULTIPLEOF)) {
        int ok;
        const mcpc_schema_dec *m = &n->multiple;
        if (json_is_integer(x) && m->exp == 0) {
            json_int_t v = jv_int(x);
            uint64_t a = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
            ok = a % m->mant == 0;
        } else {
            mcpc_schema_dec d;
            ok = mcpc_schema_dec_from_json(x, &d) == 0 && mcpc_schema_dec_multiple(&d, m);
        }
        if (!ok)
            r = FAIL("multipleOf", "not a multiple of the divisor");
    }
    return r;
}

/* ---- any type ------------------------------------------------------------------------------ */

/* "enum" for non-strings (strings were looked up in v_str). */
static int in_enum(const mcpc_schema_node *n, const json_t *x)
{
    uint64_t h = mcpc_schema_json_hash(x);
    for (size_t i = 0; i < n->n_enum; i++)
        if (n->enumv[i].hash == h && mcpc_schema_json_equal(n->enumv[i].v, x))
            return 1;
    return 0;
}

/* Follow a reference: refuse to re-enter a node already active for this very instance. */
INL int v_ref(vctx *c, const mcpc_schema_node *t, json_t *x, ann_t *ev, const char *kw,
              const int col)
{
    int r;
    mark_t m;
    for (const refframe_t *f = c->refs; f && f->x == x; f = f->up)
        if (f->n == t)
            return budget(c, "%s loop: the same subschema re-entered without consuming the "
                          "instance", kw);
    refframe_t fr = {t, x, c->refs};
    c->refs = &fr;
    PATH(m = mark(c); sp_kw(c, kw));
    r = V_NODE(t, x, ev);
    PATH(unmark(c, m));
    c->refs = fr.up;
    return r;
}

static const mcpc_schema_node *dyn_target(const vctx *c, const mcpc_schema_node *n)
{
    const mcpc_schema_node *t = n->dynref;
    if (!n->dyn_name)
        return t;
    /* the outermost resource in the dynamic scope that declares the anchor wins */
    for (const scope_t *s = c->scope; s; s = s->up) {
        const mcpc_schema_resource *r = &c->s->res[s->res];
        for (size_t i = 0; i < r->n_dyn; i++)
            if (strcmp(r->dyn[i].name, n->dyn_name) == 0) {
                t = r->dyn[i].node;
                break;
            }
    }
    return t;
}

/* Run a subschema whose failure is not itself a failure: fast mode, scratch annotations. */
static int v_branch(vctx *c, const mcpc_schema_node *b, json_t *x, ann_t *ev, ann_t *tmp)
{
    int r;
    if (!ev)
        return b->leaf ? v_leaf_inline(c, b, x) : v_fast(c, b, x, NULL);
    if (ann_init(c, tmp, ev->n))
        return R_RES;
    r = v_fast(c, b, x, tmp);
    if (r == R_OK)
        ann_or(ev, tmp);
    ann_free(tmp);
    return r;
}

/* Keywords for every type, in-place applicators included; ev collects annotations. */
INL int v_any(vctx *c, const mcpc_schema_node *n, json_t *x, ann_t *ev, const int col)
{
    uint64_t kw = n->kw;
    int r = R_OK, rr;
    ann_t tmp;
    mark_t m;
    if ((kw & KB(K_CONST)) && !mcpc_schema_json_equal(n->const_v, x) &&
        STOP(r = FAIL("const", "value does not equal the constant")))
        return r;
    if ((kw & KB(K_ENUM)) && !json_is_string(x) && !in_enum(n, x) &&
        STOP(r = FAIL("enum", "value is not one of the %zu allowed values", n->n_enum)))
        return r;
    if (kw & KB(K_REF)) {
        rr = v_ref(c, n->ref, x, ev, "$ref", col);
        if (STOP(r = worst(r, rr)))
            return r;
    }
    if (kw & KB(K_DYNREF)) {
        rr = v_ref(c, dyn_target(c, n), x, ev, "$dynamicRef", col);
        if (STOP(r = worst(r, rr)))
            return r;
    }
    if (kw & KB(K_ALLOF)) {
        for (size_t i = 0; i < n->n_all_of; i++) {
            PATH(m = mark(c); sp_kw(c, "allOf"); sp_idx(c, i));
            rr = V_NODE(n->all_of[i], x, ev);
            PATH(unmark(c, m));
            if (STOP(r = worst(r, rr)))
                return r;
        }
    }
    if (kw & KB(K_ANYOF)) {
        int any = 0;
        for (size_t i = 0; i < n->n_any_of; i++) {
            rr = v_branch(c, n->any_of[i], x, ev, &tmp);
            if (rr == R_RES)
                return rr;
            if (rr == R_OK) {
                any = 1;
                if (!ev)
                    break;   /* annotations need every branch; validity needs one */
            }
        }
        if (!any && STOP(r = worst(r, FAIL("anyOf", "value matches none of the %zu "
                                           "alternatives", n->n_any_of))))
            return r;
    }
    if (kw & KB(K_ONEOF)) {
        size_t ok = 0, first = 0;
        for (size_t i = 0; i < n->n_one_of && ok < 2; i++) {
            rr = v_branch(c, n->one_of[i], x, NULL, &tmp);
            if (rr == R_RES)
                return rr;
            if (rr == R_OK && ok++ == 0)
                first = i;
        }
        if (ok == 1 && ev) {
            /* re-run the one match for its annotations */
            rr = v_branch(c, n->one_of[first], x, ev, &tmp);
            if (rr == R_RES)
                return rr;
        }
        if (ok != 1 && STOP(r = worst(r, ok ? FAIL("oneOf", "value matches more than one of "
                                                   "the %zu alternatives", n->n_one_of)
                                            : FAIL("oneOf", "value matches none of the %zu "
                                                   "alternatives", n->n_one_of))))
            return r;
    }
    if (kw & KB(K_NOT)) {
        rr = v_branch(c, n->not_, x, NULL, &tmp);
        if (rr == R_RES)
            return rr;
        if (rr == R_OK && STOP(r = worst(r, FAIL("not", "value must not match the subschema"))))
            return r;
    }
    if ((kw & KB(K_IF)) && (n->then_ || n->else_ || ev)) {
        rr = v_branch(c, n->if_, x, ev, &tmp);
        if (rr == R_RES)
            return rr;
        const mcpc_schema_node *next = rr == R_OK ? n->then_ : n->else_;
        if (next) {
            PATH(m = mark(c); sp_kw(c, rr == R_OK ? "then" : "else"));
            rr = V_NODE(next, x, ev);
            PATH(unmark(c, m));
            if (STOP(r = worst(r, rr)))
                return r;
        }
    }
    return r;
}

/* ---- objects ------------------------------------------------------------------------------- */

/* One member of the instance object, as the member pass found it. */
typedef struct {
    const char *k;
    size_t kl;
    json_t *v;
    const mcpc_schema_prop *p;   /* table entry for the key, or NULL */
} member_t;

#define MEMBERS_CACHED 16

/* "required" by lookups into the instance: for nodes whose keys are not in the table. */
INL int required_getn(vctx *c, const mcpc_schema_node *n, json_t *x, const int col)
{
    int r = R_OK;
    for (size_t i = 0; i < n->n_req; i++)
        if (!json_object_getn(x, n->req[i], n->req_len[i]) &&
            STOP(r = FAIL("required", "missing required property \"%.100s\"", n->req[i])))
            return r;
    return r;
}

/* Validate one member against properties / patternProperties / additionalProperties /
 * propertyNames. i is its position (for annotations). */
INL int v_member(vctx *c, const mcpc_schema_node *n, const member_t *mb, size_t i, ann_t *ev,
                 const int col)
{
    uint64_t kw = n->kw;
    int r = R_OK, rr, hit = 0;
    mark_t m;
    const char *k = mb->k;
    size_t kl = mb->kl;
    if (mb->p && mb->p->node) {
        hit = 1;
        PATH(m = mark(c); ip_key(c, k, kl); sp_kw(c, "properties"); sp_key(c, k, kl));
        rr = V_NODE(mb->p->node, mb->v, NULL);
        PATH(unmark(c, m));
        if (STOP(r = worst(r, rr)))
            return r;
    }
    if (kw & KB(K_PATTERNPROPS)) {
        for (size_t j = 0; j < n->n_pprops; j++) {
            int mm = mcpc_schema_re_match(n->pprops[j].re, k, kl, c->md, c->s->mctx);
            if (mm < 0)
                return budget(c, "regex /%.60s/ hit its match limit",
                              mcpc_schema_re_source(n->pprops[j].re));
            if (!mm)
                continue;
            hit = 1;
            PATH(m = mark(c); ip_key(c, k, kl); sp_kw(c, "patternProperties");
                 sp_key(c, mcpc_schema_re_source(n->pprops[j].re),
                        strlen(mcpc_schema_re_source(n->pprops[j].re))));
            rr = V_NODE(n->pprops[j].node, mb->v, NULL);
            PATH(unmark(c, m));
            if (STOP(r = worst(r, rr)))
                return r;
        }
    }
    if (!hit && (kw & KB(K_ADDPROPS))) {
        hit = 1;
        if (n->addl->kind == NK_FALSE) {
            /* the usual "additionalProperties": false reads better at the object */
            rr = FAIL("additionalProperties", "property \"%.100s\" is not allowed", k);
        } else {
            PATH(m = mark(c); ip_key(c, k, kl); sp_kw(c, "additionalProperties"));
            rr = V_NODE(n->addl, mb->v, NULL);
            PATH(unmark(c, m));
        }
        if (STOP(r = worst(r, rr)))
            return r;
    }
    if (kw & KB(K_PROPNAMES)) {
        json_t *ks = json_stringn_nocheck(k, kl);
        if (!ks) {
            c->nomem = 1;
            return R_RES;
        }
        PATH(m = mark(c); ip_key(c, k, kl); sp_kw(c, "propertyNames"));
        rr = V_NODE(n->prop_names, ks, NULL);
        PATH(unmark(c, m));
        json_decref(ks);
        if (STOP(r = worst(r, rr)))
            return r;
    }
    if (hit && ev)
        ann_set(ev, i);
    return r;
}

/* Object keywords. A member pass looks each key up once (table of properties and
 * required keys); required and closed-object failures are known before any value is walked. */
INL int v_obj(vctx *c, const mcpc_schema_node *n, json_t *x, ann_t *ev, const int col)
{
    uint64_t kw = n->kw;
    size_t size = jv_osize(x);
    int r = R_OK, rr, cached = 0;
    mark_t m;
    member_t mem[MEMBERS_CACHED];
    if ((kw & KB(K_MINPROPS)) && size < n->min_props &&
        STOP(r = FAIL("minProperties", "fewer than %zu properties", n->min_props)))
        return r;
    if ((kw & KB(K_MAXPROPS)) && size > n->max_props &&
        STOP(r = FAIL("maxProperties", "more than %zu properties", n->max_props)))
        return r;
    if (!col && n->req_table && n->n_req <= 2 && size <= MEMBERS_CACHED &&
        mcpc_schema_jv.direct) {
        /* one or two required keys: a scan of the (short) member list finds a missing one
         * without a lookup per member */
        for (size_t j = 0; j < n->n_req; j++) {
            size_t rl = n->req_len[j];
            uint64_t rh = mcpc_schema_head8(n->req[j], rl);
            void *it = jv_ofirst(x);
            size_t i = 0;
            for (; i < size; i++, it = jv_onext(x, it))
                if (jv_okeylen(it) == rl && mcpc_schema_head8(jv_okey(it), rl) == rh &&
                    mcpc_schema_tail_eq(jv_okey(it), n->req[j], rl))
                    break;
            if (i == size)
                return R_BAD;
        }
    }
    if ((kw & G_OBJ_ITER) && size <= MEMBERS_CACHED) {
        /* member pass: look every key up once; "required" and a closed object
         * ("additionalProperties": false, no patterns) fail here, before any value is walked */
        uint64_t seen = 0;
        int closed = !col && n->closed;
        void *it = size ? jv_ofirst(x) : NULL;
        for (size_t i = 0; i < size; i++, it = jv_onext(x, it)) {
            member_t *mb = &mem[i];
            mb->k = jv_okey(it);
            mb->kl = jv_okeylen(it);
            mb->v = jv_oval(it);
            mb->p = n->props.slots ? mcpc_schema_ptab_get(&n->props, mb->k, mb->kl) : NULL;
            if (mb->p)
                seen |= mb->p->reqbit;
            if (closed && !(mb->p && mb->p->node))
                return R_BAD;
        }
        cached = 1;
        if (n->req_table && (seen & n->req_all) != n->req_all) {
            if (!col)
                return R_BAD;
            for (size_t j = 0; j < n->n_req && j < 64; j++)
                if (!(seen & (1ull << j)) && (n->req_all & (1ull << j)))
                    r = fail(c, "required", "missing required property \"%.100s\"", n->req[j]);
        }
    }
    if ((kw & KB(K_REQUIRED)) && !n->req_table && STOP(r = worst(r, required_getn(c, n, x, col))))
        return r;
    if (kw & KB(K_DEPREQ)) {
        for (size_t i = 0; i < n->n_depreq; i++) {
            const mcpc_schema_depreq *d = &n->depreq[i];
            if (!json_object_getn(x, d->key, d->len))
                continue;
            for (size_t j = 0; j < d->n; j++)
                if (!json_object_getn(x, d->names[j], d->lens[j]) &&
                    STOP(r = FAIL("dependentRequired", "property \"%.60s\" requires \"%.60s\"",
                                  d->key, d->names[j])))
                    return r;
        }
    }
    if (kw & G_OBJ_ITER) {
        if (cached && !col && !ev && !(kw & (KB(K_PATTERNPROPS) | KB(K_PROPNAMES))) &&
            (!(kw & KB(K_ADDPROPS)) || n->addl->kind == NK_FALSE)) {
            /* plain "properties" (closed or open): the member pass settled everything else */
            for (size_t i = 0; i < size; i++)
                if (mem[i].p && mem[i].p->node &&
                    (rr = V_NODE(mem[i].p->node, mem[i].v, NULL)) != R_OK)
                    return rr;
        } else if (cached) {
            for (size_t i = 0; i < size; i++)
                if (STOP(r = worst(r, v_member(c, n, &mem[i], i, ev, col))))
                    return r;
        } else {
            /* large objects: look up as we go */
            uint64_t seen = 0;
            void *it = size ? jv_ofirst(x) : NULL;
            for (size_t i = 0; i < size; i++, it = jv_onext(x, it)) {
                member_t mb;
                mb.k = jv_okey(it);
                mb.kl = jv_okeylen(it);
                mb.v = jv_oval(it);
                mb.p = n->props.slots ? mcpc_schema_ptab_get(&n->props, mb.k, mb.kl) : NULL;
                if (mb.p)
                    seen |= mb.p->reqbit;
                if (STOP(r = worst(r, v_member(c, n, &mb, i, ev, col))))
                    return r;
            }
            if (n->req_table && (seen & n->req_all) != n->req_all) {
                if (!col)
                    return R_BAD;
                for (size_t j = 0; j < n->n_req && j < 64; j++)
                    if (!(seen & (1ull << j)) && (n->req_all & (1ull << j)))
                        r = fail(c, "required", "missing required property \"%.100s\"",
                                 n->req[j]);
            }
        }
    }
    if (kw & KB(K_DEPSCHEMAS)) {
        for (size_t i = 0; i < n->n_depsch; i++) {
            const mcpc_schema_depschema *d = &n->depsch[i];
            if (!json_object_getn(x, d->key, d->len))
                continue;
            PATH(m = mark(c); sp_kw(c, "dependentSchemas"); sp_key(c, d->key, d->len));
            rr = V_NODE(d->node, x, ev);
            PATH(unmark(c, m));
            if (STOP(r = worst(r, rr)))
                return r;
        }
    }
    return r;
}

/* ---- arrays -------------------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* 1 when all items differ (JSON equality), 0 with the first pair found, -1 on a bound.
 * Small arrays (items given in v) compare pairwise, strings by length and head first; large
 * ones sort hashes. */
static int unique(vctx *c, json_t *x, json_t *const *v, size_t len, size_t *dup_a,
                  size_t *dup_b)
{
    if (len <= 16) {
        uint64_t head[16];
        size_t l[16];
        int strings = 1;
        c->steps += len * len / 2;
        for (size_t i = 0; i < len && strings; i++) {
            if (!json_is_string(v[i]))
                strings = 0;
            else {
                l[i] = jv_strlen(v[i]);
                head[i] = mcpc_schema_head8(jv_str(v[i]), l[i]);
            }
        }
        for (size_t i = 1; i < len; i++)
            for (size_t j = 0; j < i; j++) {
                int eq;
                if (strings)
                    eq = l[i] == l[j] && head[i] == head[j] &&
                         mcpc_schema_tail_eq(jv_str(v[i]), jv_str(v[j]),
                                             l[i]);
                else
                    eq = mcpc_schema_json_equal(v[i], v[j]);
                if (eq) {
                    *dup_a = j;
                    *dup_b = i;
                    return 0;
                }
            }
        return 1;
    }
    if (len > 0xFFFFF || c->steps + len > c->max_steps)
        return -1;   /* beyond the index packing below, and beyond any sane budget */
    /* hash in the high bits, index in the low 20: sorting groups equal hashes together */
    uint64_t *h = malloc(len * sizeof *h);
    int ok = 1;
    if (!h) {
        c->nomem = 1;
        return -1;
    }
    c->steps += len;
    for (size_t i = 0; i < len; i++)
        h[i] = (mcpc_schema_json_hash(jv_aget(x, i)) & ~0xFFFFFull) | (i & 0xFFFFF);
    qsort(h, len, sizeof *h, cmp_u64);
    for (size_t i = 0; i < len && ok == 1; i++)
        for (size_t j = i + 1; j < len && (h[j] >> 20) == (h[i] >> 20); j++) {
            if (++c->steps > c->max_steps) {
                ok = -1;
                break;
            }
            size_t a = (size_t)(h[i] & 0xFFFFF), b = (size_t)(h[j] & 0xFFFFF);
            if (mcpc_schema_json_equal(jv_aget(x, a), jv_aget(x, b))) {
                *dup_a = a < b ? a : b;
                *dup_b = a < b ? b : a;
                ok = 0;
                break;
            }
        }
    free(h);
    return ok;
}

/* Array keywords on x (borrowed); ev collects evaluated item indices. */
INL int v_arr(vctx *c, const mcpc_schema_node *n, json_t *x, ann_t *ev, const int col)
{
    uint64_t kw = n->kw;
    size_t len = jv_asize(x), i = 0;
    int r = R_OK, rr;
    mark_t m;
    json_t *item[16];   /* small arrays: fetch each item once */
    if (len <= 16)
        for (i = 0; i < len; i++)
            item[i] = jv_aget(x, i);
#define ITEM(k) (len <= 16 ? item[k] : jv_aget(x, k))
    i = 0;
    if ((kw & KB(K_MINITEMS)) && len < n->min_items &&
        STOP(r = FAIL("minItems", "fewer than %zu items", n->min_items)))
        return r;
    if ((kw & KB(K_MAXITEMS)) && len > n->max_items &&
        STOP(r = FAIL("maxItems", "more than %zu items", n->max_items)))
        return r;
    if (kw & KB(K_PREFIXITEMS)) {
        for (; i < len && i < n->n_prefix; i++) {
            PATH(m = mark(c); ip_idx(c, i); sp_kw(c, "prefixItems"); sp_idx(c, i));
            rr = V_NODE(n->prefix[i], ITEM(i), NULL);
            PATH(unmark(c, m));
            if (STOP(r = worst(r, rr)))
                return r;
            if (ev)
                ann_set(ev, i);
        }
    }
    if (kw & KB(K_ITEMS)) {
        for (i = n->n_prefix; i < len; i++) {
            PATH(m = mark(c); ip_idx(c, i); sp_kw(c, "items"));
            rr = V_NODE(n->items, ITEM(i), NULL);
            PATH(unmark(c, m));
            if (STOP(r = worst(r, rr)))
                return r;
            if (ev)
                ann_set(ev, i);
        }
    }
    if (kw & KB(K_CONTAINS)) {
        size_t cnt = 0;
        ann_t tmp;
        for (i = 0; i < len; i++) {
            rr = v_branch(c, n->contains, ITEM(i), NULL, &tmp);
            if (rr == R_RES)
                return rr;
            if (rr == R_OK) {
                cnt++;
                if (ev)
                    ann_set(ev, i);
                else if (cnt >= n->min_contains && n->max_contains == SIZE_MAX)
                    break;   /* enough, and no upper bound to watch */
                else if (cnt > n->max_contains)
                    break;
            }
        }
        if (cnt < n->min_contains &&
            STOP(r = worst(r, n->min_contains == 1
                                  ? FAIL("contains", "no item matches \"contains\"")
                                  : FAIL("minContains", "fewer than %zu items match "
                                         "\"contains\"", n->min_contains))))
            return r;
        if (cnt > n->max_contains &&
            STOP(r = worst(r, FAIL("maxContains", "more than %zu items match \"contains\"",
                                   n->max_contains))))
            return r;
    }
    if (kw & KB(K_UNIQUE)) {
        size_t a = 0, b = 0;
        int u = unique(c, x, item, len, &a, &b);
        if (u < 0)
            return c->nomem ? R_RES : budget(c, "work budget of %zu steps exceeded",
                                             c->max_steps);
        if (!u)
            r = worst(r, FAIL("uniqueItems", "items %zu and %zu are equal", a, b));
    }
#undef ITEM
    return r;
}

/* Objects and arrays out of line: their member cache would otherwise sit in every frame. */
__attribute__((noinline)) static int v_obj_fast(vctx *c, const mcpc_schema_node *n, json_t *x,
                                                ann_t *ev)
{
    return v_obj(c, n, x, ev, 0);
}

/* Collecting-mode object walker. */
__attribute__((noinline)) static int v_obj_slow(vctx *c, const mcpc_schema_node *n, json_t *x,
                                                ann_t *ev)
{
    return v_obj(c, n, x, ev, 1);
}

/* Fast-mode array walker. */
__attribute__((noinline)) static int v_arr_fast(vctx *c, const mcpc_schema_node *n, json_t *x,
                                                ann_t *ev)
{
    return v_arr(c, n, x, ev, 0);
}

/* Collecting-mode array walker. */
__attribute__((noinline)) static int v_arr_slow(vctx *c, const mcpc_schema_node *n, json_t *x,
                                                ann_t *ev)
{
    return v_arr(c, n, x, ev, 1);
}

#define V_OBJ(n, x, ev) (col ? v_obj_slow(c, n, x, ev) : v_obj_fast(c, n, x, ev))
#define V_ARR(n, x, ev) (col ? v_arr_slow(c, n, x, ev) : v_arr_fast(c, n, x, ev))

/* ---- unevaluated --------------------------------------------------------------------------- */

INL int v_uneval(vctx *c, const mcpc_schema_node *n, json_t *x, ann_t *own, const int col)
{
    int r = R_OK, rr;
    mark_t m;
    if (json_is_object(x)) {
        size_t size = jv_osize(x);
        void *it = size ? jv_ofirst(x) : NULL;
        for (size_t i = 0; i < size; i++, it = jv_onext(x, it)) {
            if (ann_get(own, i))
                continue;
            const char *k = jv_okey(it);
            size_t kl = jv_okeylen(it);
            if (n->uneval_props->kind == NK_FALSE)
                rr = FAIL("unevaluatedProperties", "property \"%.100s\" is not allowed "
                          "(unevaluated)", k);
            else {
                PATH(m = mark(c); ip_key(c, k, kl); sp_kw(c, "unevaluatedProperties"));
                rr = V_NODE(n->uneval_props, jv_oval(it), NULL);
                PATH(unmark(c, m));
            }
            if (STOP(r = worst(r, rr)))
                return r;
        }
    } else {
        for (size_t i = 0; i < jv_asize(x); i++) {
            if (ann_get(own, i))
                continue;
            PATH(m = mark(c); ip_idx(c, i); sp_kw(c, "unevaluatedItems"));
            rr = V_NODE(n->uneval_items, jv_aget(x, i), NULL);
            PATH(unmark(c, m));
            if (STOP(r = worst(r, rr)))
                return r;
        }
    }
    return r;
}

/* ---- node ---------------------------------------------------------------------------------- */

INL int v_node(vctx *c, const mcpc_schema_node *n, json_t *x, ann_t *ev, const int col)
{
    int r = R_OK;
    uint64_t kw;
    scope_t sc;
    ann_t local, *own = ev;
    json_type t;
    if (n->kind != NK_OBJ)
        return n->kind == NK_TRUE ? R_OK
                                  : FAIL("false", "no value is valid here (false schema)");
    if (++c->steps > c->max_steps)
        return budget(c, "work budget of %zu steps exceeded", c->max_steps);
    if (c->depth >= c->max_depth)
        return budget(c, "validation deeper than %zu levels", c->max_depth);
    c->depth++;
    kw = n->kw;
    t = json_typeof(x);
    sc.up = c->scope;
    if (c->dynamic && (!c->scope || c->scope->res != n->res)) {
        sc.res = n->res;
        c->scope = &sc;
    }
    local.bits = NULL;
    if ((kw & (KB(K_UNEVALPROPS) | KB(K_UNEVALITEMS))) &&
        (((kw & KB(K_UNEVALPROPS)) && t == JSON_OBJECT) ||
         ((kw & KB(K_UNEVALITEMS)) && t == JSON_ARRAY))) {
        /* unevaluated* sees only this schema's own annotations, not its siblings' */
        if (ann_init(c, &local, t == JSON_OBJECT ? json_object_size(x) : jv_asize(x))) {
            r = R_RES;
            goto out;
        }
        own = &local;
    }
    if ((kw & KB(K_TYPE)) && !type_ok(n->types, x) &&
        STOP(r = col ? type_fail(c, n, x) : R_BAD))
        goto out;
    switch (t) {
    case JSON_OBJECT:
        if (kw & G_OBJ)
            r = worst(r, v_obj(c, n, x, own, col));
        break;
    case JSON_ARRAY:
        if (kw & G_ARR)
            r = worst(r, V_ARR(n, x, own));
        break;
    case JSON_STRING:
        if (kw & (G_STR | KB(K_ENUM)))
            r = worst(r, v_str(c, n, x, col));
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        if (kw & G_NUM)
            r = worst(r, v_num(c, n, x, col));
        break;
    default:
        break;
    }
    if (STOP(r))
        goto out;
    if (kw & G_ANY & ~(t == JSON_STRING ? KB(K_ENUM) : 0)) {
        r = worst(r, v_any(c, n, x, own, col));
        if (STOP(r))
            goto out;
    }
    if (own == &local) {
        r = worst(r, v_uneval(c, n, x, own, col));
        if (r == R_OK && ev)
            ann_all(ev);   /* everything is evaluated once unevaluated* passed */
    }
out:
    if (local.bits)
        ann_free(&local);
    c->scope = sc.up;
    c->depth--;
    if (c->nomem)
        return R_RES;
    return r;
}

/* A node without subschemas: no depth, scope or annotations to track. */
INL int v_leafnode(vctx *c, const mcpc_schema_node *n, json_t *x, const int col)
{
    uint64_t kw = n->kw;
    int r = R_OK;
    if (++c->steps > c->max_steps)
        return budget(c, "work budget of %zu steps exceeded", c->max_steps);
    if ((kw & KB(K_TYPE)) && !type_ok(n->types, x) && STOP(r = col ? type_fail(c, n, x) : R_BAD))
        return r;
    switch (json_typeof(x)) {
    case JSON_OBJECT:
        if (kw & G_OBJ)
            r = worst(r, V_OBJ(n, x, NULL));
        break;
    case JSON_ARRAY:
        if (kw & G_ARR)
            r = worst(r, V_ARR(n, x, NULL));
        break;
    case JSON_STRING:
        if (kw & (G_STR | KB(K_ENUM)))
            r = worst(r, v_str(c, n, x, col));
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        if (kw & G_NUM)
            r = worst(r, v_num(c, n, x, col));
        break;
    default:
        break;
    }
    if (STOP(r))
        return r;
    if (kw & G_ANY & ~(json_is_string(x) ? KB(K_ENUM) : 0))
        r = worst(r, v_any(c, n, x, NULL, col));
    return c->nomem ? R_RES : r;
}

/* Leaf node, fast mode. */
static int v_leaf_fast(vctx *c, const mcpc_schema_node *n, json_t *x)
{
    return v_leafnode(c, n, x, 0);
}

/* Leaf node, collecting mode. */
static int v_leaf_slow(vctx *c, const mcpc_schema_node *n, json_t *x)
{
    return v_leafnode(c, n, x, 1);
}

/* Fast mode: a typed string or number leaf without the call and the generic dispatch. */
INL int v_leaf_inline(vctx *c, const mcpc_schema_node *n, json_t *x)
{
    const int col = 0;
    switch (n->lop) {
    case LOP_STR:
        if (++c->steps > c->max_steps)
            return budget(c, "work budget of %zu steps exceeded", c->max_steps);
        if (!json_is_string(x))
            return R_BAD;
        return (n->kw & (G_STR | KB(K_ENUM))) ? v_str(c, n, x, col) : R_OK;
    case LOP_INT:
        if (++c->steps > c->max_steps)
            return budget(c, "work budget of %zu steps exceeded", c->max_steps);
        if (!json_is_integer(x) && !(json_is_real(x) && mcpc_schema_is_integral(x)))
            return R_BAD;
        return (n->kw & G_NUM) ? v_num(c, n, x, col) : R_OK;
    case LOP_NUM:
        if (++c->steps > c->max_steps)
            return budget(c, "work budget of %zu steps exceeded", c->max_steps);
        if (!json_is_number(x))
            return R_BAD;
        return (n->kw & G_NUM) ? v_num(c, n, x, col) : R_OK;
    default:
        return v_leaf_fast(c, n, x);
    }
}

/* The two instantiations: no sink (first failure unwinds), and collecting. */
static int v_fast(vctx *c, const mcpc_schema_node *n, json_t *x, ann_t *ev)
{
    return v_node(c, n, x, ev, 0);
}

/* General node, collecting mode. */
static int v_slow(vctx *c, const mcpc_schema_node *n, json_t *x, ann_t *ev)
{
    return v_node(c, n, x, ev, 1);
}

/* x is borrowed; errs may be NULL. The jansson view was checked by compile, which happened
 * before any validation of its result. (Defined here, not in schema.c, to save a call.) */
mcpc_err mcpc_schema_validate(const mcpc_schema *s, json_t *x, mcpc_schema_errors *errs)
{
    vctx c;
    int r;
    if (!s || !x)
        return MCPC_ERR_INVALID;
    /* only what the fast walker reads; the path buffers are set up for collecting mode */
    c.s = s;
    c.errs = errs;
    c.sink = errs;
    c.md = NULL;   /* the regex layer fetches this thread's scratch only if PCRE2 runs */
    c.steps = 0;
    c.max_steps = s->lim.max_steps;
    c.depth = 0;
    c.max_depth = s->lim.max_vdepth;
    c.scope = NULL;
    c.refs = NULL;
    c.nomem = 0;
    c.budget_noted = 0;
    c.dynamic = s->has_dynamic;
    if (!errs) {
        r = s->root->leaf ? v_leaf_fast(&c, s->root, x) : v_fast(&c, s->root, x, NULL);
    } else {
        c.ip = c.sp = NULL;
        c.ipn = c.ipcap = c.spn = c.spcap = 0;
        r = s->root->leaf ? v_leaf_slow(&c, s->root, x) : v_slow(&c, s->root, x, NULL);
        free(c.ip);
        free(c.sp);
    }
    if (c.nomem)
        return MCPC_ERR_NOMEM;
    return r == R_OK ? MCPC_OK : r == R_BAD ? MCPC_ERR_INVALID : MCPC_ERR_TOO_BIG;
}
