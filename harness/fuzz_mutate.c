/* Mutators for live fuzzing: see fuzz_mutate.h. Everything random goes through one mcpc_fz_rng,
 * so a seed replays exactly; nothing here reads clocks, files or the environment. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_mutate.h"

#define FZ_PH_PREFIX "@@fz"
#define FZ_MAX_LOCS 512
#define FZ_MAX_WALK_DEPTH 16
#define FZ_PATCH_BUDGET ((size_t)3 << 19)  /* 1.5 MiB of patch output per message */

/* ---- PRNG: xoshiro256** (Blackman and Vigna), state from splitmix64 --------------------------- */

static uint64_t mcpc_fz_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t mcpc_fz_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void mcpc_fz_rng_seed(mcpc_fz_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = mcpc_fz_splitmix(&x);
}

uint64_t mcpc_fz_rng_next(mcpc_fz_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = mcpc_fz_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = mcpc_fz_rotl(s[3], 45);
    return out;
}

uint64_t mcpc_fz_rng_below(mcpc_fz_rng *r, uint64_t n)
{
    uint64_t x, lim;
    if (n <= 1)
        return 0;
    /* reject the top sliver so every residue is equally likely */
    lim = UINT64_MAX - UINT64_MAX % n;
    do
        x = mcpc_fz_rng_next(r);
    while (x >= lim);
    return x % n;
}

int mcpc_fz_rng_pct(mcpc_fz_rng *r, unsigned pct)
{
    return mcpc_fz_rng_below(r, 100) < pct;
}

#define FZ_PICK(r, arr) ((arr)[mcpc_fz_rng_below((r), sizeof(arr) / sizeof((arr)[0]))])

/* ---- classes --------------------------------------------------------------------------------- */

static const char *const mcpc_fz_class_names[MCPC_FZ__COUNT] = {
    "none", "type", "number", "deep", "utf8", "id", "method", "bigstr", "keys", "version",
    "header", "raw",
};

/* Weights: most mutations keep the message parseable, so that they reach the code behind the
 * parser; raw bytes and sheer size are the minority. */
static const unsigned mcpc_fz_class_weight[MCPC_FZ__COUNT] = {
    4, 14, 14, 5, 9, 7, 8, 4, 12, 5, 8, 10,
};

const char *mcpc_fz_class_name(mcpc_fz_class c)
{
    return (unsigned)c < MCPC_FZ__COUNT ? mcpc_fz_class_names[c] : "?";
}

mcpc_fz_class mcpc_fz_pick_class(mcpc_fz_rng *r, int http)
{
    unsigned total = 0;
    for (int c = 0; c < MCPC_FZ__COUNT; c++)
        total += (c == MCPC_FZ_HEADER && !http) ? 0 : mcpc_fz_class_weight[c];
    uint64_t x = mcpc_fz_rng_below(r, total);
    for (int c = 0; c < MCPC_FZ__COUNT; c++) {
        unsigned w = (c == MCPC_FZ_HEADER && !http) ? 0 : mcpc_fz_class_weight[c];
        if (x < w)
            return (mcpc_fz_class)c;
        x -= w;
    }
    return MCPC_FZ_NONE;
}

/* ---- messages -------------------------------------------------------------------------------- */

/* tree's reference is stolen. */
void mcpc_fz_msg_init(mcpc_fz_msg *m, json_t *tree)
{
    memset(m, 0, sizeof *m);
    m->tree = tree;
}

/* Release everything m owns; m is left empty. */
void mcpc_fz_msg_clear(mcpc_fz_msg *m)
{
    json_decref(m->tree);
    for (size_t i = 0; i < m->npatch; i++)
        free(m->patch[i].text);
    free(m->raw);
    for (size_t i = 0; i < m->nhdr; i++)
        free(m->hdr[i]);
    memset(m, 0, sizeof *m);
}

/* Deep: dst owns new references of its own. */
int mcpc_fz_msg_copy(mcpc_fz_msg *dst, const mcpc_fz_msg *src)
{
    memset(dst, 0, sizeof *dst);
    if (src->tree && !(dst->tree = json_deep_copy(src->tree)))
        goto fail;
    for (size_t i = 0; i < src->npatch; i++) {
        dst->patch[i] = src->patch[i];
        dst->patch[i].text = malloc(src->patch[i].len + 1);
        if (!dst->patch[i].text)
            goto fail;
        dst->npatch = i + 1;
        memcpy(dst->patch[i].text, src->patch[i].text, src->patch[i].len + 1);
    }
    if (src->raw) {
        if (!(dst->raw = malloc(src->raw_len + 1)))
            goto fail;
        memcpy(dst->raw, src->raw, src->raw_len);
        dst->raw_len = src->raw_len;
    }
    for (size_t i = 0; i < src->nhdr; i++) {
        if (!(dst->hdr[i] = strdup(src->hdr[i])))
            goto fail;
        dst->nhdr = i + 1;
    }
    return 0;
fail:
    mcpc_fz_msg_clear(dst);
    return -1;
}

/* Bytes a patch renders to. */
static size_t mcpc_fz_patch_size(const mcpc_fz_patch *p)
{
    switch (p->kind) {
    case MCPC_FZ_P_DEEP:
        return p->obj ? p->n * 6 + 1 : p->n * 2;
    case MCPC_FZ_P_REPEAT:
        return p->n * p->len + 2;
    default:
        return p->len;
    }
}

/* Append a patch's bytes at out (room checked by the caller). Returns the bytes written. */
static size_t mcpc_fz_patch_emit(const mcpc_fz_patch *p, char *out)
{
    size_t o = 0;
    switch (p->kind) {
    case MCPC_FZ_P_DEEP:
        for (size_t i = 0; i < p->n; i++) {
            memcpy(out + o, p->obj ? "{\"a\":" : "[", p->obj ? 5 : 1);
            o += p->obj ? 5 : 1;
        }
        if (p->obj)
            out[o++] = '0';
        for (size_t i = 0; i < p->n; i++)
            out[o++] = p->obj ? '}' : ']';
        return o;
    case MCPC_FZ_P_REPEAT:
        out[o++] = '"';
        for (size_t i = 0; i < p->n; i++) {
            memcpy(out + o, p->text, p->len);
            o += p->len;
        }
        out[o++] = '"';
        return o;
    default:
        memcpy(out, p->text, p->len);
        return p->len;
    }
}

/* Index of the placeholder "\"@@fzN@@\"" at s (within n bytes), and its length in *plen; -1 if
 * none starts there. */
static long mcpc_fz_placeholder_at(const char *s, size_t n, size_t *plen)
{
    size_t pre = sizeof FZ_PH_PREFIX - 1, i;
    long k = 0;
    if (n < pre + 5 || s[0] != '"' || memcmp(s + 1, FZ_PH_PREFIX, pre) != 0)
        return -1;
    i = 1 + pre;
    if (i >= n || s[i] < '0' || s[i] > '9')
        return -1;
    while (i < n && s[i] >= '0' && s[i] <= '9' && k < 1000)
        k = k * 10 + (s[i++] - '0');
    if (i + 3 > n || memcmp(s + i, "@@\"", 3) != 0)
        return -1;
    *plen = i + 3;
    return k;
}

/* See fuzz_mutate.h: malloc'd bytes; m's references are only read. */
char *mcpc_fz_msg_render(const mcpc_fz_msg *m, size_t *len)
{
    char *text = NULL, *out = NULL;
    size_t tlen, total = 0, o = 0;
    *len = 0;
    if (m->raw) {
        if (!(out = malloc(m->raw_len + 2)))
            return NULL;
        memcpy(out, m->raw, m->raw_len);
        out[m->raw_len] = '\0';
        *len = m->raw_len;
        return out;
    }
    text = json_dumps(m->tree, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return NULL;
    tlen = strlen(text);
    /* first pass: the size, so one allocation holds everything */
    for (size_t i = 0; i < tlen;) {
        size_t pl;
        long k = text[i] == '"' ? mcpc_fz_placeholder_at(text + i, tlen - i, &pl) : -1;
        if (k >= 0 && (size_t)k < m->npatch) {
            total += mcpc_fz_patch_size(&m->patch[k]);
            i += pl;
        } else {
            total++;
            i++;
        }
        if (total > MCPC_FZ_MAX_BYTES)
            goto out;
    }
    if (!(out = malloc(total + 2)))
        goto out;
    for (size_t i = 0; i < tlen;) {
        size_t pl;
        long k = text[i] == '"' ? mcpc_fz_placeholder_at(text + i, tlen - i, &pl) : -1;
        if (k >= 0 && (size_t)k < m->npatch) {
            o += mcpc_fz_patch_emit(&m->patch[k], out + o);
            i += pl;
        } else {
            out[o++] = text[i++];
        }
    }
    out[o] = '\0';
    *len = o;
out:
    free(text);
    return out;
}

/* Release every message of u; u is left empty. */
void mcpc_fz_unit_clear(mcpc_fz_unit *u)
{
    for (size_t i = 0; i < u->n; i++)
        mcpc_fz_msg_clear(&u->m[i]);
    memset(u, 0, sizeof *u);
}

/* Deep copy of every message. 0, or -1 (dst then empty). */
int mcpc_fz_unit_copy(mcpc_fz_unit *dst, const mcpc_fz_unit *src)
{
    memset(dst, 0, sizeof *dst);
    for (size_t i = 0; i < src->n; i++) {
        if (mcpc_fz_msg_copy(&dst->m[i], &src->m[i]) != 0) {
            mcpc_fz_unit_clear(dst);
            return -1;
        }
        dst->n = i + 1;
    }
    dst->cls = src->cls;
    memcpy(dst->what, src->what, sizeof dst->what);
    return 0;
}

/* ---- locations in a tree --------------------------------------------------------------------- */

typedef struct {
    json_t *parent;      /* borrowed; NULL for the root */
    char *key;           /* owned copy of the member name when parent is an object */
    size_t index;        /* when parent is an array */
    json_t *value;       /* borrowed */
    char path[96];       /* JSON Pointer, cut to fit: for the description only */
} mcpc_fz_loc;

typedef struct {
    mcpc_fz_loc v[FZ_MAX_LOCS];
    size_t n;
} mcpc_fz_locs;

/* Free the key copies (the values are borrowed from the tree). */
static void mcpc_fz_locs_free(mcpc_fz_locs *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].key);
    l->n = 0;
}

/* Collect every location below v (pre-order: a container before its members), root excluded
 * when parent is NULL at depth 0. */
static void mcpc_fz_walk(json_t *v, json_t *parent, const char *key, size_t index, const char *path,
                         int depth, mcpc_fz_locs *l)
{
    if (l->n >= FZ_MAX_LOCS || depth > FZ_MAX_WALK_DEPTH)
        return;
    if (parent) {
        mcpc_fz_loc *e = &l->v[l->n];
        memset(e, 0, sizeof *e);
        e->parent = parent;
        e->index = index;
        e->value = v;
        snprintf(e->path, sizeof e->path, "%s", path);
        if (key && !(e->key = strdup(key)))
            return;
        l->n++;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach(v, k, c) {
            char p[96];
            snprintf(p, sizeof p, "%.60s/%.30s", path, k);
            mcpc_fz_walk(c, v, k, 0, p, depth + 1, l);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) {
            char p[96];
            snprintf(p, sizeof p, "%.70s/%zu", path, i);
            mcpc_fz_walk(c, v, NULL, i, p, depth + 1, l);
        }
    }
}

/* Every location of tree (borrowed): values in l stay borrowed from it. */
static void mcpc_fz_locate(json_t *tree, mcpc_fz_locs *l)
{
    l->n = 0;
    mcpc_fz_walk(tree, NULL, NULL, 0, "", 0, l);
}

/* Is s one of our placeholders? */
static int mcpc_fz_is_placeholder(const char *s)
{
    return s && strncmp(s, FZ_PH_PREFIX, sizeof FZ_PH_PREFIX - 1) == 0;
}

enum { FZ_ANY, FZ_STRINGS, FZ_NUMBERS, FZ_OBJECTS, FZ_MEMBERS };

/* A random location matching `want`, or NULL. */
static mcpc_fz_loc *mcpc_fz_pick_loc(mcpc_fz_locs *l, int want, mcpc_fz_rng *r)
{
    size_t idx[FZ_MAX_LOCS], n = 0;
    for (size_t i = 0; i < l->n; i++) {
        json_t *v = l->v[i].value;
        int ok = want == FZ_ANY ||
                 (want == FZ_STRINGS && json_is_string(v) && !mcpc_fz_is_placeholder(json_string_value(v))) ||
                 (want == FZ_NUMBERS && json_is_number(v)) ||
                 (want == FZ_OBJECTS && json_is_object(v)) ||
                 (want == FZ_MEMBERS && l->v[i].key && !mcpc_fz_is_placeholder(l->v[i].key));
        if (ok)
            idx[n++] = i;
    }
    return n ? &l->v[idx[mcpc_fz_rng_below(r, n)]] : NULL;
}

/* Put nv (stolen) at loc of m's tree. */
static void mcpc_fz_loc_set(mcpc_fz_msg *m, mcpc_fz_loc *loc, json_t *nv)
{
    if (!nv)
        return;
    if (!loc->parent) {
        json_decref(m->tree);
        m->tree = nv;
    } else if (json_is_object(loc->parent)) {
        json_object_set_new(loc->parent, loc->key, nv);
    } else {
        json_array_set_new(loc->parent, loc->index, nv);
    }
}

/* Remove loc from its parent. */
static void mcpc_fz_loc_drop(mcpc_fz_loc *loc)
{
    if (json_is_object(loc->parent))
        json_object_del(loc->parent, loc->key);
    else if (json_is_array(loc->parent))
        json_array_remove(loc->parent, loc->index);
}

/* Total bytes m's patches render to. */
static size_t mcpc_fz_patch_total(const mcpc_fz_msg *m)
{
    size_t t = 0;
    for (size_t i = 0; i < m->npatch; i++)
        t += mcpc_fz_patch_size(&m->patch[i]);
    return t;
}

/* Register a patch; returns its placeholder string (new reference) or NULL when m has no room. */
static json_t *mcpc_fz_patch_add(mcpc_fz_msg *m, mcpc_fz_patch_kind kind, const char *text,
                                 size_t len, size_t n, int obj)
{
    char ph[32];
    mcpc_fz_patch p = {kind, NULL, len, n, obj};
    if (m->npatch >= MCPC_FZ_MAX_PATCHES || m->raw)
        return NULL;
    if (mcpc_fz_patch_total(m) + mcpc_fz_patch_size(&p) > FZ_PATCH_BUDGET)
        return NULL;
    if (!(p.text = malloc(len + 1)))
        return NULL;
    memcpy(p.text, text, len);
    p.text[len] = '\0';
    snprintf(ph, sizeof ph, FZ_PH_PREFIX "%zu@@", m->npatch);
    json_t *s = json_string(ph);
    if (!s) {
        free(p.text);
        return NULL;
    }
    m->patch[m->npatch++] = p;
    return s;
}

/* Put raw JSON text (a patch) at loc. 0, or -1 when there is no room. */
static int mcpc_fz_put_raw(mcpc_fz_msg *m, mcpc_fz_loc *loc, const char *text)
{
    json_t *ph = mcpc_fz_patch_add(m, MCPC_FZ_P_BYTES, text, strlen(text), 0, 0);
    if (!ph)
        return -1;
    mcpc_fz_loc_set(m, loc, ph);
    return 0;
}

/* Rename the member at loc to a placeholder whose patch text is the quoted key `qkey`. */
static int mcpc_fz_rename_raw(mcpc_fz_msg *m, mcpc_fz_loc *loc, const char *qkey, size_t qlen)
{
    json_t *ph = mcpc_fz_patch_add(m, MCPC_FZ_P_BYTES, qkey, qlen, 0, 0);
    json_t *v;
    if (!ph)
        return -1;
    v = json_incref(loc->value);
    json_object_del(loc->parent, loc->key);
    json_object_set_new(loc->parent, json_string_value(ph), v);
    json_decref(ph);
    return 0;
}

/* ---- value pools ----------------------------------------------------------------------------- */

/* A value whose JSON type differs from like's (borrowed). New reference. */
static json_t *mcpc_fz_other_type(json_t *like, mcpc_fz_rng *r)
{
    static const char *const strs[] = {"", "x", "1", "-1", "true", "null", "{}", "[]", "NaN"};
    for (int tries = 0; tries < 16; tries++) {
        json_t *v;
        switch (mcpc_fz_rng_below(r, 10)) {
        case 0: v = json_string(FZ_PICK(r, strs)); break;
        case 1: v = json_integer((json_int_t)mcpc_fz_rng_below(r, 3) - 1); break;
        case 2: v = json_real(mcpc_fz_rng_pct(r, 50) ? 1.5 : -0.25); break;
        case 3: v = json_true(); break;
        case 4: v = json_false(); break;
        case 5: v = json_null(); break;
        case 6: v = json_object(); break;
        case 7: v = json_pack("{s:s}", "type", "text"); break;
        case 8: v = json_array(); break;
        default: v = json_pack("[s,i]", "x", 1); break;
        }
        if (!v)
            return NULL;
        if (!like || json_typeof(v) != json_typeof(like))
            return v;
        json_decref(v);
    }
    return json_null();
}

/* ---- the mutators ---------------------------------------------------------------------------- */

/* The mutators: each changes m (its tree takes ownership of what it puts in), describes the
 * change in what, and returns 0, or -1 when it found nothing to work on. */
static int mcpc_fz_mut_type(mcpc_fz_msg *m, mcpc_fz_rng *r, char *what, size_t wl)
{
    mcpc_fz_locs l;
    mcpc_fz_loc *loc;
    int rc = -1;
    mcpc_fz_locate(m->tree, &l);
    loc = mcpc_fz_pick_loc(&l, FZ_ANY, r);
    if (loc) {
        json_t *nv = mcpc_fz_other_type(loc->value, r);
        char *shown = nv ? json_dumps(nv, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        snprintf(what, wl, "%s at %s", shown ? shown : "?", loc->path);
        free(shown);
        mcpc_fz_loc_set(m, loc, nv);
        rc = nv ? 0 : -1;
    }
    mcpc_fz_locs_free(&l);
    return rc;
}

static int mcpc_fz_mut_number(mcpc_fz_msg *m, mcpc_fz_rng *r, char *what, size_t wl)
{
    /* text no jansson value holds: -0 as written, underflow, overflow, past 64 bits */
    static const char *const raws[] = {
        "-0", "1e-400", "1e400", "-1e400", "9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "1E2", "0e0", "-0.0e-0", "123456789012345678901234567890",
        "1.7976931348623157e309", "0.1e1", "1e+2",
    };
    mcpc_fz_locs l;
    mcpc_fz_loc *loc = NULL;
    int rc = -1;
    mcpc_fz_locate(m->tree, &l);
    /* ids are where servers index tables and compare: aim there often */
    if (mcpc_fz_rng_pct(r, 35)) {
        for (size_t i = 0; i < l.n && !loc; i++)
            if (l.v[i].parent == m->tree && l.v[i].key && strcmp(l.v[i].key, "id") == 0)
                loc = &l.v[i];
    }
    if (!loc && mcpc_fz_rng_pct(r, 50))
        loc = mcpc_fz_pick_loc(&l, FZ_NUMBERS, r);
    if (!loc)
        loc = mcpc_fz_pick_loc(&l, FZ_ANY, r);
    if (!loc)
        goto out;
    if (mcpc_fz_rng_pct(r, 60)) {
        json_t *nv;
        switch (mcpc_fz_rng_below(r, 13)) {
        case 0: nv = json_integer(-1); break;
        case 1: nv = json_integer(0); break;
        case 2: nv = json_integer(INT64_MAX); break;
        case 3: nv = json_integer(INT64_MIN); break;
        case 4: nv = json_integer(-2147483649LL); break;
        case 5: nv = json_integer(4294967296LL); break;
        case 6: nv = json_integer(9007199254740993LL); break;
        case 7: nv = json_real(1e308); break;
        case 8: nv = json_real(-1e308); break;
        case 9: nv = json_real(5e-324); break;
        case 10: nv = json_real(0.5); break;
        case 11: nv = json_real(-0.0); break;
        default: nv = json_integer(-42); break;
        }
        char *shown = nv ? json_dumps(nv, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        snprintf(what, wl, "%s at %s", shown ? shown : "?", loc->path);
        free(shown);
        mcpc_fz_loc_set(m, loc, nv);
        rc = nv ? 0 : -1;
    } else {
        const char *t = FZ_PICK(r, raws);
        snprintf(what, wl, "%s (as written) at %s", t, loc->path);
        rc = mcpc_fz_put_raw(m, loc, t);
    }
out:
    mcpc_fz_locs_free(&l);
    return rc;
}

static int mcpc_fz_mut_deep(mcpc_fz_msg *m, mcpc_fz_rng *r, char *what, size_t wl)
{
    static const size_t depths[] = {33, 65, 129, 257, 1025, 4097, MCPC_FZ_MAX_DEPTH};
    mcpc_fz_locs l;
    mcpc_fz_loc *loc;
    int rc = -1;
    mcpc_fz_locate(m->tree, &l);
    loc = mcpc_fz_pick_loc(&l, FZ_ANY, r);
    if (loc) {
        size_t n = FZ_PICK(r, depths);
        int obj = mcpc_fz_rng_pct(r, 40);
        json_t *ph = mcpc_fz_patch_add(m, MCPC_FZ_P_DEEP, "", 0, n, obj);
        if (ph) {
            snprintf(what, wl, "%zu nested %s at %s", n, obj ? "objects" : "arrays", loc->path);
            mcpc_fz_loc_set(m, loc, ph);
            rc = 0;
        }
    }
    mcpc_fz_locs_free(&l);
    return rc;
}

static int mcpc_fz_mut_utf8(mcpc_fz_msg *m, mcpc_fz_rng *r, char *what, size_t wl)
{
    /* quoted strings as bytes: invalid UTF-8 and escapes of unpaired surrogates */
    static const char *const bad[] = {
        "\"\xff\"", "\"a\xc3\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
        "\"\xf8\x88\x80\x80\x80\"", "\"\xe2\x28\xa1\"", "\"\xfe\xfe\xff\xff\"",
        "\"\\ud800\"", "\"\\udc00\"", "\"a\\ud800b\"", "\"\\ud800\\ud800\"", "\"\\uDFFF\\uD800\"",
        "\"\\u0000\"", "\"\\uZZZZ\"", "\"\\x41\"",
    };
    /* valid, but each is a classic trap: BOM, bidi override, noncharacters, ESC, DEL, newlines
     * (one carrying a whole frame, for servers that paste strings into output), U+2028 */
    static const char *const odd[] = {
        "\xef\xbb\xbf", "\xe2\x80\xae" "evil", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "\x1b[31m", "\x7f",
        "\xe2\x80\x8b", "\xf0\x9f\x98\x80", "\n", "\r\n{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{}}\n", "\xe2\x80\xa8",
    };
    mcpc_fz_locs l;
    mcpc_fz_loc *loc;
    int rc = -1, on_key = mcpc_fz_rng_pct(r, 25);
    mcpc_fz_locate(m->tree, &l);
    loc = mcpc_fz_pick_loc(&l, on_key ? FZ_MEMBERS : FZ_STRINGS, r);
    if (!loc) {
        loc = mcpc_fz_pick_loc(&l, FZ_ANY, r);
        on_key = 0;
    }
    if (!loc)
        goto out;
    if (mcpc_fz_rng_pct(r, 70)) {
        const char *b = FZ_PICK(r, bad);
        snprintf(what, wl, "string bytes %s %s %s", b, on_key ? "as the key of" : "at", loc->path);
        rc = on_key ? mcpc_fz_rename_raw(m, loc, b, strlen(b)) : mcpc_fz_put_raw(m, loc, b);
    } else if (mcpc_fz_rng_pct(r, 30)) {
        json_t *nv = json_stringn("a\0b", 3);
        snprintf(what, wl, "a string with a NUL at %s", loc->path);
        mcpc_fz_loc_set(m, loc, nv);
        rc = nv ? 0 : -1;
    } else {
        const char *o = FZ_PICK(r, odd);
        const char *old = json_string_value(loc->value);
        char buf[200];
        snprintf(buf, sizeof buf, "%s%.100s", o, old ? old : "");
        json_t *nv = json_string(buf);
        snprintf(what, wl, "a string with a special character at %s", loc->path);
        mcpc_fz_loc_set(m, loc, nv);
        rc = nv ? 0 : -1;
    }
out:
    mcpc_fz_locs_free(&l);
    return rc;
}

static int mcpc_fz_mut_bigstr(mcpc_fz_msg *m, mcpc_fz_rng *r, char *what, size_t wl)
{
    /* units that need no escaping, or are escapes themselves */
    static const char *const units[] = {"A", "\xc3\xa9", "\\n", "\\u0000", "\\ud83d\\ude00", " ", "\\\\"};
    mcpc_fz_locs l;
    mcpc_fz_loc *loc = NULL;
    int rc = -1;
    mcpc_fz_locate(m->tree, &l);
    if (mcpc_fz_rng_pct(r, 75))
        loc = mcpc_fz_pick_loc(&l, FZ_STRINGS, r);
    if (!loc)
        loc = mcpc_fz_pick_loc(&l, FZ_ANY, r);
    if (loc) {
        /* mostly up to 64 KiB; sometimes up to the 1 MiB bound */
        size_t bytes = (size_t)1 << (10 + mcpc_fz_rng_below(r, mcpc_fz_rng_pct(r, 75) ? 7 : 11));
        const char *u = FZ_PICK(r, units);
        size_t n = bytes / strlen(u);
        json_t *ph = mcpc_fz_patch_add(m, MCPC_FZ_P_REPEAT, u, strlen(u), n ? n : 1, 0);
        if (ph) {
            snprintf(what, wl, "a string of %zu bytes at %s", bytes, loc->path);
            mcpc_fz_loc_set(m, loc, ph);
            rc = 0;
        }
    }
    mcpc_fz_locs_free(&l);
    return rc;
}

static int mcpc_fz_mut_keys(mcpc_fz_msg *m, mcpc_fz_rng *r, char *what, size_t wl)
{
    mcpc_fz_locs l;
    mcpc_fz_loc *loc;
    json_t *obj = NULL;
    int rc = -1;
    mcpc_fz_locate(m->tree, &l);
    switch (mcpc_fz_rng_below(r, 4)) {
    case 0: /* drop a member */
        loc = mcpc_fz_pick_loc(&l, FZ_MEMBERS, r);
        if (loc) {
            snprintf(what, wl, "%s dropped", loc->path);
            mcpc_fz_loc_drop(loc);
            rc = 0;
        }
        break;
    case 1: { /* the same key twice, with another value */
        loc = mcpc_fz_pick_loc(&l, FZ_MEMBERS, r);
        if (!loc)
            break;
        json_t *k = json_string(loc->key);
        char *qkey = k ? json_dumps(k, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        json_t *ph = qkey ? mcpc_fz_patch_add(m, MCPC_FZ_P_BYTES, qkey, strlen(qkey), 0, 0) : NULL;
        json_decref(k);
        free(qkey);
        if (!ph)
            break;
        json_t *nv = mcpc_fz_other_type(loc->value, r);
        snprintf(what, wl, "%s given twice", loc->path);
        if (mcpc_fz_rng_pct(r, 50)) {
            json_object_set_new(loc->parent, json_string_value(ph), nv);
        } else {
            /* the duplicate first: which one a parser keeps is exactly the question */
            json_t *rebuilt = json_object();
            const char *kk;
            json_t *vv;
            json_object_set_new(rebuilt, json_string_value(ph), nv);
            json_object_foreach(loc->parent, kk, vv) json_object_set(rebuilt, kk, vv);
            json_object_clear(loc->parent);
            json_object_update(loc->parent, rebuilt);
            json_decref(rebuilt);
        }
        json_decref(ph);
        rc = 0;
        break;
    }
    case 2: { /* a member nobody expects */
        static const char *const names[] = {"__proto__", "constructor", "result", "error", "", "$ref",
                                            "id", "params", "method", "jsonrpc", "_meta"};
        loc = mcpc_fz_pick_loc(&l, FZ_OBJECTS, r);
        obj = loc ? loc->value : (json_is_object(m->tree) ? m->tree : NULL);
        if (!obj)
            break;
        const char *name = FZ_PICK(r, names);
        json_t *nv = strcmp(name, "__proto__") == 0 ? json_pack("{s:b}", "isAdmin", 1)
                     : strcmp(name, "constructor") == 0 ? json_pack("{s:{s:b}}", "prototype", "polluted", 1)
                     : strcmp(name, "error") == 0 ? json_pack("{s:i,s:s}", "code", -32603, "message", "x")
                     : mcpc_fz_other_type(json_object_get(obj, name), r);
        snprintf(what, wl, "member \"%s\" added at %s", name, loc ? loc->path : "");
        json_object_set_new(obj, name, nv);
        rc = nv ? 0 : -1;
        break;
    }
    default: { /* a near-miss name: case, padding */
        loc = mcpc_fz_pick_loc(&l, FZ_MEMBERS, r);
        if (!loc || strlen(loc->key) > 64)
            break;
        char nk[80];
        if (mcpc_fz_rng_pct(r, 50)) {
            snprintf(nk, sizeof nk, "%s", loc->key);
            for (char *p = nk; *p; p++)
                *p = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
        } else {
            snprintf(nk, sizeof nk, "%s ", loc->key);
        }
        snprintf(what, wl, "%.60s renamed \"%.60s\"", loc->path, nk);
        json_t *v = json_incref(loc->value);
        json_object_del(loc->parent, loc->key);
        json_object_set_new(loc->parent, nk, v);
        rc = 0;
        break;
    }
    }
    mcpc_fz_locs_free(&l);
    return rc;
}

static int mcpc_fz_mut_version(mcpc_fz_msg *m, mcpc_fz_rng *r, char *what, size_t wl)
{
    static const char *const strs[] = {"1.0", "2", "2.0 ", " 2.0", "2.00", "", "\xef\xbc\x92.\xef\xbc\x90", "3.0"};
    if (!json_is_object(m->tree))
        return -1;
    switch (mcpc_fz_rng_below(r, 4)) {
    case 0:
        json_object_del(m->tree, "jsonrpc");
        snprintf(what, wl, "\"jsonrpc\" missing");
        return 0;
    case 1: {
        json_t *nv = mcpc_fz_rng_pct(r, 50) ? json_real(2.0) : json_null();
        snprintf(what, wl, "\"jsonrpc\": %s", json_is_null(nv) ? "null" : "2.0 (a number)");
        json_object_set_new(m->tree, "jsonrpc", nv);
        return 0;
    }
    case 2: {
        json_t *v = json_incref(json_object_get(m->tree, "jsonrpc"));
        json_object_del(m->tree, "jsonrpc");
        json_object_set_new(m->tree, "JSONRPC", v ? v : json_string("2.0"));
        snprintf(what, wl, "\"JSONRPC\" instead of \"jsonrpc\"");
        return 0;
    }
    default: {
        const char *s = FZ_PICK(r, strs);
        snprintf(what, wl, "\"jsonrpc\": \"%s\"", s);
        json_object_set_new(m->tree, "jsonrpc", json_string(s));
        return 0;
    }
    }
}

static int mcpc_fz_mut_method(mcpc_fz_msg *m, mcpc_fz_rng *r, char *what, size_t wl)
{
    static const char *const names[] = {
        "tools/cal", "Tools/List", "tools/list ", "", "/", "tools//call", "rpc.discover",
        "$/cancelRequest", "notifications/initialized", "initialize", "server/discover",
        "completion/complete", "logging/setLevel", "sampling/createMessage", "roots/list",
        "elicitation/create", "tasks/get", "resources/subscribe", "tools/call/../list",
        "__proto__", "constructor", "toString",
    };
    json_t *id;
    if (!json_is_object(m->tree))
        return -1;
    id = json_object_get(m->tree, "id");
    switch (mcpc_fz_rng_below(r, 5)) {
    case 0: /* a request that expects an answer, sent as a notification; or the reverse */
        if (id) {
            json_object_del(m->tree, "id");
            snprintf(what, wl, "the id removed (a notification)");
        } else {
            json_object_set_new(m->tree, "id", json_integer(7));
            snprintf(what, wl, "an id added (a request)");
        }
        return 0;
    case 1: { /* a long method name */
        json_t *ph = mcpc_fz_patch_add(m, MCPC_FZ_P_REPEAT, "tools/", 6, 1 + mcpc_fz_rng_below(r, 8192), 0);
        if (!ph)
            return -1;
        json_object_set_new(m->tree, "method", ph);
        snprintf(what, wl, "a method name of many kilobytes");
        return 0;
    }
    case 2:
        json_object_set_new(m->tree, "method", json_stringn("tools/list\0x", 12));
        snprintf(what, wl, "a method with a NUL byte");
        return 0;
    default: {
        const char *n = FZ_PICK(r, names);
        snprintf(what, wl, "method \"%s\"", n);
        json_object_set_new(m->tree, "method", json_string(n));
        return 0;
    }
    }
}

/* A second (and third) message reusing u's id: collisions while the first is in flight. */
static int mcpc_fz_mut_id(mcpc_fz_unit *u, mcpc_fz_rng *r, char *what, size_t wl)
{
    mcpc_fz_msg *a = &u->m[0];
    json_t *id, *meta, *second = NULL;
    if (!json_is_object(a->tree) || u->n != 1)
        return -1;
    if (!(id = json_object_get(a->tree, "id"))) {
        json_object_set_new(a->tree, "id", json_integer((json_int_t)mcpc_fz_rng_below(r, 100)));
        id = json_object_get(a->tree, "id");
    }
    meta = json_object_get(json_object_get(a->tree, "params"), "_meta");
    switch (mcpc_fz_rng_below(r, 6)) {
    case 0: /* the very same request twice */
        if (mcpc_fz_msg_copy(&u->m[1], a) != 0)
            return -1;
        u->n = 2;
        snprintf(what, wl, "the same request twice, one id in flight twice");
        return 0;
    case 1:
        second = json_pack("{s:s,s:O,s:s,s:{}}", "jsonrpc", "2.0", "id", id, "method", "ping", "params");
        snprintf(what, wl, "a ping with the id of the request in flight");
        break;
    case 2:
        second = json_pack("{s:s,s:s,s:{s:O,s:s}}", "jsonrpc", "2.0", "method", "notifications/cancelled",
                           "params", "requestId", id, "reason", "mcpcert fuzz");
        snprintf(what, wl, "the request cancelled at once");
        break;
    case 3:
        second = json_pack("{s:s,s:O,s:s}", "jsonrpc", "2.0", "id", id, "method",
                           "notifications/initialized");
        snprintf(what, wl, "a notification method carrying the same id");
        break;
    case 4: {
        /* 7 and "7": two ids that only a type-lax server confuses */
        if (mcpc_fz_msg_copy(&u->m[1], a) != 0)
            return -1;
        json_t *twin = json_is_integer(id) ? json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(id))
                                           : json_integer(7);
        json_object_set_new(u->m[1].tree, "id", twin);
        u->n = 2;
        snprintf(what, wl, "the same request with the id as %s", json_is_string(twin) ? "a string" : "an integer");
        return 0;
    }
    default:
        if (mcpc_fz_msg_copy(&u->m[1], a) != 0)
            return -1;
        second = json_pack("{s:s,s:s,s:{s:O}}", "jsonrpc", "2.0", "method", "notifications/cancelled",
                           "params", "requestId", id);
        mcpc_fz_msg_init(&u->m[2], second);
        u->n = 3;
        snprintf(what, wl, "the same request twice, then a cancel of that id");
        return second ? 0 : -1;
    }
    if (!second)
        return -1;
    /* the second message speaks the same era as the first */
    if (meta && json_is_object(json_object_get(second, "params")))
        json_object_set_new(json_object_get(second, "params"), "_meta", json_deep_copy(meta));
    mcpc_fz_msg_init(&u->m[1], second);
    u->n = 2;
    return 0;
}

static int mcpc_fz_mut_header(mcpc_fz_msg *m, mcpc_fz_rng *r, char *what, size_t wl)
{
    static const char *const versions[] = {"2024-01-01", "2026-07-28, 2025-11-25", "9999-99-99", "2025-11-25",
                                           "2026-07-28 ", "latest"};
    static const char *const methods[] = {"tools/list", "TOOLS/CALL", "ping", "tools/call ", "initialize"};
    static const char *const names[] = {"read_notes", "=?base64?DQo=?=", "=?base64?!!?=",
                                        "=?base64?ZWNobw==?=", "echo\x01", "..%2f..%2fetc%2fpasswd"};
    char line[256];
    if (m->nhdr >= MCPC_FZ_MAX_HEADERS - 1)
        return -1;
    switch (mcpc_fz_rng_below(r, 7)) {
    case 0: snprintf(line, sizeof line, "MCP-Protocol-Version: %s", FZ_PICK(r, versions)); break;
    case 1: snprintf(line, sizeof line, "Mcp-Method: %s", FZ_PICK(r, methods)); break;
    case 2: snprintf(line, sizeof line, "Mcp-Name: %s", FZ_PICK(r, names)); break;
    case 3: snprintf(line, sizeof line, "%s;", mcpc_fz_rng_pct(r, 50) ? "Mcp-Method" : "MCP-Protocol-Version"); break;
    case 4: snprintf(line, sizeof line, "Mcp-Session-Id: %s", mcpc_fz_rng_pct(r, 50) ? "0" : "../../x"); break;
    case 5: snprintf(line, sizeof line, "Content-Type: %s",
                     mcpc_fz_rng_pct(r, 50) ? "text/plain" : "application/json; charset=utf-16"); break;
    default: {
        /* one header twice, disagreeing with itself */
        const char *mt = json_string_value(json_object_get(m->tree, "method"));
        snprintf(line, sizeof line, "Mcp-Method: %s", mt ? mt : "ping");
        if (!(m->hdr[m->nhdr] = strdup(line)))
            return -1;
        m->nhdr++;
        snprintf(line, sizeof line, "Mcp-Method: %s", FZ_PICK(r, methods));
        break;
    }
    }
    if (!(m->hdr[m->nhdr] = strdup(line)))
        return -1;
    m->nhdr++;
    snprintf(what, wl, "header %.140s", line);
    for (char *p = what; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = '?';
    return 0;
}

/* Append to what[*o..wl) without ever pointing past the buffer. */
__attribute__((format(printf, 4, 5)))
static void mcpc_fz_appendf(char *what, size_t wl, size_t *o, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (*o >= wl)
        return;
    va_start(ap, fmt);
    n = vsnprintf(what + *o, wl - *o, fmt, ap);
    va_end(ap);
    if (n > 0)
        *o = *o + (size_t)n < wl ? *o + (size_t)n : wl;
}

static int mcpc_fz_mut_raw(mcpc_fz_msg *m, mcpc_fz_rng *r, char *what, size_t wl)
{
    static const char specials[] = {'"', '\\', '{', '}', '[', ']', ',', ':', '\0', '\r', '\n', (char)0xff, (char)0x80, ' '};
    size_t len, ops = 1 + mcpc_fz_rng_below(r, 3), o = 0;
    char *b = mcpc_fz_msg_render(m, &len);
    unsigned char *buf;
    if (!b || len == 0) {
        free(b);
        return -1;
    }
    /* room for every insertion below */
    if (!(buf = malloc(len + ops * 64 + 1))) {
        free(b);
        return -1;
    }
    memcpy(buf, b, len);
    free(b);
    mcpc_fz_appendf(what, wl, &o, "bytes:");
    for (size_t i = 0; i < ops && len > 0; i++) {
        size_t at = mcpc_fz_rng_below(r, len), k;
        switch (mcpc_fz_rng_below(r, 6)) {
        case 0:
            buf[at] ^= (unsigned char)(1u << mcpc_fz_rng_below(r, 8));
            mcpc_fz_appendf(what, wl, &o, " bit flip at %zu;", at);
            break;
        case 1: {
            char c = specials[mcpc_fz_rng_below(r, sizeof specials)];
            /* a raw newline would split the frame: keep it rare */
            if (c == '\n' && mcpc_fz_rng_pct(r, 70))
                c = ' ';
            buf[at] = (unsigned char)c;
            mcpc_fz_appendf(what, wl, &o, " byte 0x%02x at %zu;", (unsigned char)c, at);
            break;
        }
        case 2:
            k = 1 + mcpc_fz_rng_below(r, 16);
            if (k > len - at)
                k = len - at;
            memmove(buf + at, buf + at + k, len - at - k);
            len -= k;
            mcpc_fz_appendf(what, wl, &o, " %zu bytes cut at %zu;", k, at);
            break;
        case 3:
            k = 1 + mcpc_fz_rng_below(r, 8);
            memmove(buf + at + k, buf + at, len - at);
            for (size_t j = 0; j < k; j++)
                buf[at + j] = (unsigned char)specials[mcpc_fz_rng_below(r, sizeof specials - 3)];
            len += k;
            mcpc_fz_appendf(what, wl, &o, " %zu bytes inserted at %zu;", k, at);
            break;
        case 4:
            len = at + 1;
            mcpc_fz_appendf(what, wl, &o, " cut after %zu bytes;", len);
            break;
        default:
            k = 1 + mcpc_fz_rng_below(r, 32);
            if (k > len - at)
                k = len - at;
            memmove(buf + at + k, buf + at, len - at);
            len += k;
            mcpc_fz_appendf(what, wl, &o, " %zu bytes repeated at %zu;", k, at);
            break;
        }
    }
    free(m->raw);
    m->raw = buf;
    m->raw_len = len;
    return 0;
}

/* See fuzz_mutate.h. On failure the first message is restored from a deep copy. */
int mcpc_fz_mutate(mcpc_fz_unit *u, mcpc_fz_class c, mcpc_fz_rng *r)
{
    mcpc_fz_msg saved;
    char what[sizeof u->what];
    int rc;
    if (u->n < 1)
        return -1;
    what[0] = '\0';
    if (c == MCPC_FZ_ID) {
        /* works on the unit; undo is clearing what it added */
        json_t *before = json_deep_copy(u->m[0].tree);
        rc = mcpc_fz_mut_id(u, r, what, sizeof what);
        if (rc != 0) {
            for (size_t i = 1; i < MCPC_FZ_UNIT_MAX; i++)
                mcpc_fz_msg_clear(&u->m[i]);
            u->n = 1;
            json_decref(u->m[0].tree);
            u->m[0].tree = before;
            return -1;
        }
        json_decref(before);
    } else {
        if (mcpc_fz_msg_copy(&saved, &u->m[0]) != 0)
            return -1;
        switch (c) {
        case MCPC_FZ_NONE: snprintf(what, sizeof what, "a valid message"); rc = 0; break;
        case MCPC_FZ_TYPE: rc = mcpc_fz_mut_type(&u->m[0], r, what, sizeof what); break;
        case MCPC_FZ_NUMBER: rc = mcpc_fz_mut_number(&u->m[0], r, what, sizeof what); break;
        case MCPC_FZ_DEEP: rc = mcpc_fz_mut_deep(&u->m[0], r, what, sizeof what); break;
        case MCPC_FZ_UTF8: rc = mcpc_fz_mut_utf8(&u->m[0], r, what, sizeof what); break;
        case MCPC_FZ_METHOD: rc = mcpc_fz_mut_method(&u->m[0], r, what, sizeof what); break;
        case MCPC_FZ_BIGSTR: rc = mcpc_fz_mut_bigstr(&u->m[0], r, what, sizeof what); break;
        case MCPC_FZ_KEYS: rc = mcpc_fz_mut_keys(&u->m[0], r, what, sizeof what); break;
        case MCPC_FZ_VERSION: rc = mcpc_fz_mut_version(&u->m[0], r, what, sizeof what); break;
        case MCPC_FZ_HEADER: rc = mcpc_fz_mut_header(&u->m[0], r, what, sizeof what); break;
        case MCPC_FZ_RAW: rc = mcpc_fz_mut_raw(&u->m[0], r, what, sizeof what); break;
        default: rc = -1; break;
        }
        if (rc != 0) {
            mcpc_fz_msg_clear(&u->m[0]);
            u->m[0] = saved;
            return -1;
        }
        mcpc_fz_msg_clear(&saved);
    }
    u->cls = c;
    snprintf(u->what, sizeof u->what, "%s", what);
    return 0;
}

/* ---- values from a schema -------------------------------------------------------------------- */

/* A string for a string schema s (borrowed): its format if we know one, else letters within
 * the bounds. New reference. */
static json_t *mcpc_fz_sample_string(json_t *s, mcpc_fz_rng *r)
{
    const char *fmt = json_string_value(json_object_get(s, "format"));
    json_t *mn = json_object_get(s, "minLength"), *mx = json_object_get(s, "maxLength");
    size_t lo = json_is_integer(mn) && json_integer_value(mn) > 0 ? (size_t)json_integer_value(mn) : 0;
    size_t hi = json_is_integer(mx) && json_integer_value(mx) >= 0 ? (size_t)json_integer_value(mx) : 24;
    char buf[80];
    if (fmt) {
        if (strcmp(fmt, "uri") == 0 || strcmp(fmt, "iri") == 0 || strcmp(fmt, "uri-reference") == 0)
            return json_string("https://example.com/mcpcert");
        if (strcmp(fmt, "email") == 0)
            return json_string("mcpcert@example.com");
        if (strcmp(fmt, "date-time") == 0)
            return json_string("2026-01-02T03:04:05Z");
        if (strcmp(fmt, "date") == 0)
            return json_string("2026-01-02");
        if (strcmp(fmt, "uuid") == 0)
            return json_string("123e4567-e89b-12d3-a456-426614174000");
    }
    if (hi > 64)
        hi = 64;
    if (lo > hi)
        lo = hi;
    size_t n = lo + mcpc_fz_rng_below(r, hi - lo + 1);
    if (n == 0 && hi > 0 && mcpc_fz_rng_pct(r, 80))
        n = hi < 7 ? hi : 7;
    for (size_t i = 0; i < n; i++)
        buf[i] = "mcpcert"[i % 7];
    buf[n] = '\0';
    return json_string(buf);
}

/* A number within s's minimum/maximum (exclusive bounds as numbers, 2020-12); s borrowed. New
 * reference. */
static json_t *mcpc_fz_sample_number(json_t *s, int integer, mcpc_fz_rng *r)
{
    json_t *mn = json_object_get(s, "minimum"), *mx = json_object_get(s, "maximum");
    json_t *emn = json_object_get(s, "exclusiveMinimum"), *emx = json_object_get(s, "exclusiveMaximum");
    double lo = -100, hi = 100;
    if (json_is_number(mn))
        lo = json_number_value(mn);
    if (json_is_number(emn))
        lo = json_number_value(emn) + 1;
    if (json_is_number(mx))
        hi = json_number_value(mx);
    if (json_is_number(emx))
        hi = json_number_value(emx) - 1;
    if (!json_is_number(mx) && !json_is_number(emx) && hi < lo + 100)
        hi = lo + 100;
    if (!json_is_number(mn) && !json_is_number(emn) && lo > hi - 100)
        lo = hi - 100;
    /* keep every conversion to an integer in range, whatever bounds a server declares */
    lo = lo < -9e15 ? -9e15 : lo > 9e15 ? 9e15 : lo;
    hi = hi < -9e15 ? -9e15 : hi > 9e15 ? 9e15 : hi;
    if (!(hi >= lo))
        hi = lo;
    if (integer) {
        double span = floor(hi) - ceil(lo);
        json_int_t base = (json_int_t)ceil(lo);
        if (span < 0 || !isfinite(span))
            return json_integer(base);
        return json_integer(base + (json_int_t)mcpc_fz_rng_below(r, (uint64_t)(span > 1e6 ? 1e6 : span) + 1));
    }
    return json_real(lo + (hi - lo) * (double)mcpc_fz_rng_below(r, 1001) / 1000.0);
}

/* The sampler proper: s borrowed, depth bounds the recursion. New reference. */
static json_t *mcpc_fz_sample_at(json_t *s, mcpc_fz_rng *r, int depth)
{
    json_t *v, *t;
    const char *type = NULL;
    if (!json_is_object(s))
        return json_string("mcpcert");
    if (depth > 6)
        return json_null();
    if ((v = json_object_get(s, "const")) != NULL)
        return json_deep_copy(v);
    if (json_is_array(v = json_object_get(s, "enum")) && json_array_size(v))
        return json_deep_copy(json_array_get(v, mcpc_fz_rng_below(r, json_array_size(v))));
    if (json_is_array(v = json_object_get(s, "examples")) && json_array_size(v) && mcpc_fz_rng_pct(r, 50))
        return json_deep_copy(json_array_get(v, mcpc_fz_rng_below(r, json_array_size(v))));
    if ((v = json_object_get(s, "default")) != NULL && mcpc_fz_rng_pct(r, 50))
        return json_deep_copy(v);
    if ((json_is_array(v = json_object_get(s, "anyOf")) || json_is_array(v = json_object_get(s, "oneOf"))) &&
        json_array_size(v))
        return mcpc_fz_sample_at(json_array_get(v, mcpc_fz_rng_below(r, json_array_size(v))), r, depth + 1);
    if (json_is_array(v = json_object_get(s, "allOf")) && json_array_size(v) && !json_object_get(s, "type"))
        return mcpc_fz_sample_at(json_array_get(v, 0), r, depth + 1);
    t = json_object_get(s, "type");
    if (json_is_string(t)) {
        type = json_string_value(t);
    } else if (json_is_array(t) && json_array_size(t)) {
        type = json_string_value(json_array_get(t, mcpc_fz_rng_below(r, json_array_size(t))));
    } else if (json_object_get(s, "properties")) {
        type = "object";
    } else if (json_object_get(s, "items")) {
        type = "array";
    }
    if (!type)
        return json_string("mcpcert");
    if (strcmp(type, "string") == 0)
        return mcpc_fz_sample_string(s, r);
    if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0)
        return mcpc_fz_sample_number(s, strcmp(type, "integer") == 0, r);
    if (strcmp(type, "boolean") == 0)
        return json_boolean(mcpc_fz_rng_pct(r, 50));
    if (strcmp(type, "null") == 0)
        return json_null();
    if (strcmp(type, "array") == 0) {
        json_t *a = json_array(), *mn = json_object_get(s, "minItems"), *mx = json_object_get(s, "maxItems");
        size_t lo = json_is_integer(mn) && json_integer_value(mn) > 0 ? (size_t)json_integer_value(mn) : 0;
        size_t hi = json_is_integer(mx) && json_integer_value(mx) >= 0 ? (size_t)json_integer_value(mx) : lo + 2;
        if (lo > 8)
            lo = 8;
        if (hi > lo + 2)
            hi = lo + 2;
        if (hi < lo)
            hi = lo;
        size_t n = lo + mcpc_fz_rng_below(r, hi - lo + 1);
        json_t *prefix = json_object_get(s, "prefixItems");
        for (size_t i = 0; a && i < n; i++) {
            json_t *is = json_is_array(prefix) && i < json_array_size(prefix) ? json_array_get(prefix, i)
                                                                              : json_object_get(s, "items");
            json_array_append_new(a, mcpc_fz_sample_at(is, r, depth + 1));
        }
        return a;
    }
    if (strcmp(type, "object") == 0) {
        json_t *o = json_object(), *props = json_object_get(s, "properties"), *req = json_object_get(s, "required");
        const char *k;
        json_t *ps;
        size_t i;
        json_t *rn;
        json_array_foreach(req, i, rn) {
            const char *name = json_string_value(rn);
            if (name && o)
                json_object_set_new(o, name, mcpc_fz_sample_at(json_object_get(props, name), r, depth + 1));
        }
        json_object_foreach(props, k, ps) {
            if (o && !json_object_get(o, k) && mcpc_fz_rng_pct(r, 40))
                json_object_set_new(o, k, mcpc_fz_sample_at(ps, r, depth + 1));
        }
        return o;
    }
    return json_string("mcpcert");
}

/* See fuzz_mutate.h. schema borrowed; new reference. */
json_t *mcpc_fz_sample(json_t *schema, mcpc_fz_rng *r)
{
    return mcpc_fz_sample_at(schema, r, 0);
}

/* ---- shrinking ------------------------------------------------------------------------------- */

/* s cut to about half its bytes, on a UTF-8 boundary. New reference. */
static json_t *mcpc_fz_halve_string(json_t *s)
{
    size_t n = json_string_length(s) / 2;
    const char *v = json_string_value(s);
    while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
        n--;
    return json_stringn(v, n);
}

/* See fuzz_mutate.h: out owns new references (a deep copy of m, changed once). */
int mcpc_fz_shrink(const mcpc_fz_msg *m, size_t k, mcpc_fz_msg *out)
{
    mcpc_fz_locs l;
    memset(out, 0, sizeof *out);
    if (m->raw) {
        size_t len = m->raw_len;
        for (size_t c = len / 2; c >= 1; c /= 2) {
            size_t count = (len + c - 1) / c;
            if (k < count) {
                size_t a = k * c, b = a + c < len ? a + c : len;
                if (mcpc_fz_msg_copy(out, m) != 0)
                    return 0;
                memmove(out->raw + a, out->raw + b, len - b);
                out->raw_len = len - (b - a);
                return 1;
            }
            k -= count;
        }
        return 0;
    }
    if (k < m->nhdr) {
        if (mcpc_fz_msg_copy(out, m) != 0)
            return 0;
        free(out->hdr[k]);
        memmove(&out->hdr[k], &out->hdr[k + 1], (out->nhdr - k - 1) * sizeof out->hdr[0]);
        out->nhdr--;
        return 1;
    }
    k -= m->nhdr;
    for (size_t i = 0; i < m->npatch; i++) {
        if (m->patch[i].kind == MCPC_FZ_P_BYTES || m->patch[i].n <= 1)
            continue;
        if (k-- == 0) {
            if (mcpc_fz_msg_copy(out, m) != 0)
                return 0;
            out->patch[i].n /= 2;
            return 1;
        }
    }
    /* the tree: enumerate on a copy, so the k-th location found is the one changed */
    if (mcpc_fz_msg_copy(out, m) != 0)
        return 0;
    mcpc_fz_locate(out->tree, &l);
    for (size_t i = 0; i < l.n; i++) {
        mcpc_fz_loc *loc = &l.v[i];
        json_t *v = loc->value;
        if (k-- == 0) {
            mcpc_fz_loc_drop(loc);
            mcpc_fz_locs_free(&l);
            return 1;
        }
        if (json_is_string(v) && json_string_length(v) > 1 && !mcpc_fz_is_placeholder(json_string_value(v))) {
            if (k-- == 0) {
                mcpc_fz_loc_set(out, loc, mcpc_fz_halve_string(v));
                mcpc_fz_locs_free(&l);
                return 1;
            }
        }
        if ((json_is_object(v) && json_object_size(v)) || (json_is_array(v) && json_array_size(v))) {
            if (k-- == 0) {
                mcpc_fz_loc_set(out, loc, json_is_object(v) ? json_object() : json_array());
                mcpc_fz_locs_free(&l);
                return 1;
            }
        }
    }
    mcpc_fz_locs_free(&l);
    mcpc_fz_msg_clear(out);
    return 0;
}
