/* Internals shared by the schema_*.c files: the compiled node, regexes, formats, URIs, numbers.
 * Not part of the API; only schema*.c include it. */
#ifndef MCPC_SCHEMA_INT_H
#define MCPC_SCHEMA_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <jansson.h>

#include "schema.h"

/* ---- defaults ------------------------------------------------------------------------------ */

#define MCPC_SCHEMA_DEF_MAX_DEPTH 128
#define MCPC_SCHEMA_DEF_MAX_NODES 20000
#define MCPC_SCHEMA_DEF_MAX_PATTERN 4096
#define MCPC_SCHEMA_DEF_MAX_VDEPTH 256
#define MCPC_SCHEMA_DEF_MAX_STEPS 1000000
#define MCPC_SCHEMA_DEF_MATCH_LIMIT 100000
#define MCPC_SCHEMA_DEF_DEPTH_LIMIT 1000
#define MCPC_SCHEMA_DEF_MAX_ERRORS 64

/* Fill every zero field of *out from lim (may be NULL) or the default. */
void mcpc_schema_limits_resolve(const mcpc_schema_limits *lim, mcpc_schema_limits *out);

/* ---- vocabularies -------------------------------------------------------------------------- */

#define MCPC_VOC_CORE 0x01u
#define MCPC_VOC_APPLICATOR 0x02u
#define MCPC_VOC_UNEVALUATED 0x04u
#define MCPC_VOC_VALIDATION 0x08u
#define MCPC_VOC_META 0x10u
#define MCPC_VOC_FORMAT_ANN 0x20u
#define MCPC_VOC_FORMAT_ASSERT 0x40u
#define MCPC_VOC_CONTENT 0x80u
#define MCPC_VOC_LEGACY 0x100u   /* pre-2020-12 dialect: array "items" + "additionalItems" */
#define MCPC_VOC_DEFAULT 0xBFu   /* 2020-12 meta-schema: all but format-assertion */

/* ---- keyword bits -------------------------------------------------------------------------- */

enum {
    K_TYPE = 0, K_CONST, K_ENUM, K_ALLOF, K_ANYOF, K_ONEOF, K_NOT, K_IF, K_REF, K_DYNREF,
    K_MULTIPLEOF, K_MAXIMUM, K_EXMAXIMUM, K_MINIMUM, K_EXMINIMUM,
    K_MAXLENGTH, K_MINLENGTH, K_PATTERN, K_FORMAT,
    K_PREFIXITEMS, K_ITEMS, K_CONTAINS, K_MAXITEMS, K_MINITEMS, K_UNIQUE, K_UNEVALITEMS,
    K_PROPERTIES, K_PATTERNPROPS, K_ADDPROPS, K_PROPNAMES, K_MAXPROPS, K_MINPROPS, K_REQUIRED,
    K_DEPREQ, K_DEPSCHEMAS, K_UNEVALPROPS,
    K__COUNT
};
#define KB(k) (1ull << (k))
#define G_ANY (KB(K_CONST) | KB(K_ENUM) | KB(K_ALLOF) | KB(K_ANYOF) | KB(K_ONEOF) | KB(K_NOT) | \
               KB(K_IF) | KB(K_REF) | KB(K_DYNREF))
#define G_NUM (KB(K_MULTIPLEOF) | KB(K_MAXIMUM) | KB(K_EXMAXIMUM) | KB(K_MINIMUM) | KB(K_EXMINIMUM))
#define G_STR (KB(K_MAXLENGTH) | KB(K_MINLENGTH) | KB(K_PATTERN) | KB(K_FORMAT))
#define G_ARR (KB(K_PREFIXITEMS) | KB(K_ITEMS) | KB(K_CONTAINS) | KB(K_MAXITEMS) | \
               KB(K_MINITEMS) | KB(K_UNIQUE) | KB(K_UNEVALITEMS))
#define G_OBJ (KB(K_PROPERTIES) | KB(K_PATTERNPROPS) | KB(K_ADDPROPS) | KB(K_PROPNAMES) | \
               KB(K_MAXPROPS) | KB(K_MINPROPS) | KB(K_REQUIRED) | KB(K_DEPREQ) | \
               KB(K_DEPSCHEMAS) | KB(K_UNEVALPROPS))
/* keywords a leaf node may have: none of them applies a subschema */
#define G_LEAF (KB(K_TYPE) | G_STR | G_NUM | KB(K_CONST) | KB(K_ENUM) | KB(K_MINITEMS) | \
                KB(K_MAXITEMS) | KB(K_UNIQUE) | KB(K_MINPROPS) | KB(K_MAXPROPS) | KB(K_REQUIRED))
/* keys the single pass over an object's members serves */
#define G_OBJ_ITER (KB(K_PROPERTIES) | KB(K_PATTERNPROPS) | KB(K_ADDPROPS) | KB(K_PROPNAMES))

/* type mask bits */
#define T_NULL 0x01u
#define T_BOOLEAN 0x02u
#define T_OBJECT 0x04u
#define T_ARRAY 0x08u
#define T_NUMBER 0x10u
#define T_STRING 0x20u
#define T_INTEGER 0x40u

/* ---- numbers ------------------------------------------------------------------------------- */

/* A finite JSON number as an exact decimal: (-1)^neg * mant * 10^exp (shortest round trip for
 * reals), used where binary floating point would be wrong (multipleOf). */
typedef struct {
    uint64_t mant;
    int exp;
    int neg;
} mcpc_schema_dec;

/* A numeric bound from the schema: exact integer when is_int, else the double. */
typedef struct {
    double d;
    json_int_t i;
    int is_int;
} mcpc_schema_num;

int mcpc_schema_dec_from_json(const json_t *x, mcpc_schema_dec *out);
/* 1 when x is an integer multiple of m (m > 0), 0 when not. */
int mcpc_schema_dec_multiple(const mcpc_schema_dec *x, const mcpc_schema_dec *m);
/* <0, 0, >0 as x compares to bound; x is a JSON number. */
int mcpc_schema_num_cmp(const json_t *x, const mcpc_schema_num *b);
/* 1 when x is an integer-valued number (1.0 included). */
int mcpc_schema_is_integral(const json_t *x);

/* ---- JSON equality ------------------------------------------------------------------------- */

/* JSON Schema equality: numbers by value (1 == 1.0), objects unordered. Depth-bounded by the
 * instance, which jansson's parser already bounds. */
int mcpc_schema_json_equal(const json_t *a, const json_t *b);
/* A hash consistent with mcpc_schema_json_equal. */
uint64_t mcpc_schema_json_hash(const json_t *a);
/* FNV-1a over bytes. */
uint64_t mcpc_schema_hash_bytes(const char *s, size_t n, uint64_t h);

/* ---- regexes ------------------------------------------------------------------------------- */

typedef struct mcpc_schema_re mcpc_schema_re;

/* Translate an ECMA-262 pattern to PCRE2 syntax. Returns malloc'd text (len in *outlen) or NULL
 * with err set; *unsupported is set when the pattern is valid ECMA but not expressible. */
char *mcpc_schema_re_translate(const char *pat, size_t len, size_t *outlen, int *unsupported,
                               char *err, size_t errlen);
/* Compile (translate + pcre2_compile + JIT). Returns MCPC_OK, MCPC_ERR_INVALID,
 * MCPC_ERR_UNSUPPORTED, MCPC_ERR_TOO_BIG or MCPC_ERR_NOMEM. */
mcpc_err mcpc_schema_re_compile(const char *pat, size_t len, size_t max_pattern,
                                mcpc_schema_re **out, char *err, size_t errlen);
void mcpc_schema_re_free(mcpc_schema_re *re);
/* 1 match, 0 no match, -1 a match limit was hit. mctx carries the limits; md is scratch, or
 * NULL to use this thread's (fetched only when PCRE2 is actually needed). */
int mcpc_schema_re_match(const mcpc_schema_re *re, const char *s, size_t n,
                         pcre2_match_data *md, const pcre2_match_context *mctx);
const char *mcpc_schema_re_source(const mcpc_schema_re *re);
/* Per-thread scratch match data (created once per thread; NULL on allocation failure). */
pcre2_match_data *mcpc_schema_re_scratch(void);

/* ---- formats ------------------------------------------------------------------------------- */

enum {
    F_UNKNOWN = 0, F_DATE_TIME, F_DATE, F_TIME, F_DURATION, F_EMAIL, F_IDN_EMAIL, F_HOSTNAME,
    F_IDN_HOSTNAME, F_IPV4, F_IPV6, F_URI, F_URI_REF, F_IRI, F_IRI_REF, F_UUID, F_URI_TEMPLATE,
    F_JSON_POINTER, F_REL_JSON_POINTER, F_REGEX
};
int mcpc_schema_format_id(const char *name);
const char *mcpc_schema_format_name(int id);
/* 1 when s (n bytes of UTF-8) is valid for format id; unknown formats are valid. */
int mcpc_schema_format_check(int id, const char *s, size_t n);

/* ---- URIs ---------------------------------------------------------------------------------- */

/* RFC 3986 section 5.2 reference resolution. Returns malloc'd text, or NULL on allocation
 * failure. base may be NULL or empty (ref returned as is). */
char *mcpc_schema_uri_resolve(const char *base, const char *ref);
/* Length of the part before '#' ("" fragments included in the length are excluded). */
size_t mcpc_schema_uri_docpart(const char *uri);
/* 1 when uri has a scheme (is absolute, fragment allowed). */
int mcpc_schema_uri_has_scheme(const char *uri);
/* Percent-decode n bytes into malloc'd NUL-terminated text; NULL on bad escape or nomem. */
char *mcpc_schema_pct_decode(const char *s, size_t n, size_t *outlen);
/* Resolve a JSON Pointer (already percent-decoded, "" or starting with '/') in doc. Borrowed
 * result or NULL. */
json_t *mcpc_schema_pointer_get(json_t *doc, const char *ptr, size_t n);
/* Append a JSON Pointer token (escaping ~ and /) to a growable buffer. */
int mcpc_schema_buf_ptr_token(char **buf, size_t *len, size_t *cap, const char *tok, size_t n);

/* ---- read-only view of jansson values ------------------------------------------------------ */

/* jansson's accessors are out-of-line calls; the validator makes dozens per instance. For
 * jansson 2.14 the value layouts are read directly, but only after
 * mcpc_schema_jview_init() has checked them against the API on sample values; otherwise
 * (another version, or any mismatch) every accessor below calls the API. */
typedef struct {
    json_t json;
    char *value;
    size_t length;
} mcpc_jv_string;

typedef struct {
    json_t json;
    json_int_t value;
} mcpc_jv_integer;

typedef struct {
    json_t json;
    size_t capacity;
    size_t entries;
    json_t **table;
} mcpc_jv_array;

typedef struct {
    int direct;            /* layouts confirmed */
} mcpc_jview;

/* jansson 2.14 object layout, in words: the object's member count and first member (its
 * hashtable's ordered list); a member iterator's next link, value and key length, then the
 * key bytes. mcpc_schema_jview_init() confirms every one before direct is set. */
#define JV_OSIZE_WORD 2
#define JV_OFIRST_WORD 8
#define JV_NEXT_WORD 1
#define JV_VAL_WORD 3
#define JV_LEN_WORD 4
#define JV_KEY_OFF (5 * sizeof(void *))

extern mcpc_jview mcpc_schema_jv;

/* Check the layouts once (thread-safe, idempotent). */
void mcpc_schema_jview_init(void);

#define JV_INL static inline __attribute__((always_inline))

JV_INL const char *jv_str(const json_t *x)
{
    return mcpc_schema_jv.direct ? ((const mcpc_jv_string *)x)->value : json_string_value(x);
}

JV_INL size_t jv_strlen(const json_t *x)
{
    return mcpc_schema_jv.direct ? ((const mcpc_jv_string *)x)->length : json_string_length(x);
}

JV_INL json_int_t jv_int(const json_t *x)
{
    return mcpc_schema_jv.direct ? ((const mcpc_jv_integer *)x)->value : json_integer_value(x);
}

JV_INL size_t jv_asize(const json_t *x)
{
    return mcpc_schema_jv.direct ? ((const mcpc_jv_array *)x)->entries : json_array_size(x);
}

/* i < jv_asize(x) */
JV_INL json_t *jv_aget(const json_t *x, size_t i)
{
    return mcpc_schema_jv.direct ? ((const mcpc_jv_array *)x)->table[i] : json_array_get(x, i);
}

/* Object members: start with jv_ofirst(), step exactly jv_osize() times. */
JV_INL size_t jv_osize(const json_t *x)
{
    return mcpc_schema_jv.direct ? ((const size_t *)x)[JV_OSIZE_WORD]
                                 : json_object_size(x);
}

/* Only meaningful when jv_osize(x) > 0. */
JV_INL void *jv_ofirst(json_t *x)
{
    return mcpc_schema_jv.direct ? ((void **)x)[JV_OFIRST_WORD] : json_object_iter(x);
}

JV_INL void *jv_onext(json_t *x, void *it)
{
    return mcpc_schema_jv.direct ? ((void **)it)[JV_NEXT_WORD]
                                 : json_object_iter_next(x, it);
}

JV_INL const char *jv_okey(void *it)
{
    return mcpc_schema_jv.direct ? (const char *)it + JV_KEY_OFF
                                 : json_object_iter_key(it);
}

JV_INL size_t jv_okeylen(void *it)
{
    return mcpc_schema_jv.direct ? ((size_t *)it)[JV_LEN_WORD]
                                 : json_object_iter_key_len(it);
}

JV_INL json_t *jv_oval(void *it)
{
    return mcpc_schema_jv.direct ? ((json_t **)it)[JV_VAL_WORD]
                                 : json_object_iter_value(it);
}

/* ---- compiled nodes ------------------------------------------------------------------------ */

typedef struct mcpc_schema_node mcpc_schema_node;

enum { NK_OBJ = 0, NK_TRUE, NK_FALSE };

/* Leaf shapes checked inline: "type":"string" (+ string keywords, enum of strings),
 * "type":"integer" or "number" (+ numeric keywords). */
enum { LOP_NONE = 0, LOP_STR, LOP_INT, LOP_NUM };

typedef struct {
    const char *key;       /* owned by the validator */
    size_t len;
    uint64_t head;         /* mcpc_schema_head8 of key */
    mcpc_schema_node *node;/* the "properties" subschema; NULL for a key only "required" names */
    uint64_t reqbit;       /* this key's bit in the node's req_all, 0 if not required */
} mcpc_schema_prop;

/* Open-addressed table of property names; slots hold index+1 into props (0 = empty). */
typedef struct {
    mcpc_schema_prop *props;
    size_t n;
    uint32_t *slots;
    size_t mask;
} mcpc_schema_ptab;

typedef struct {
    mcpc_schema_re *re;
    mcpc_schema_node *node;
} mcpc_schema_pprop;

typedef struct {
    const char *key;
    size_t len;
    const char **names;
    size_t *lens;
    size_t n;
} mcpc_schema_depreq;

typedef struct {
    const char *key;
    size_t len;
    mcpc_schema_node *node;
} mcpc_schema_depschema;

typedef struct {
    json_t *v;             /* own reference */
    uint64_t hash;
    const char *str;       /* when v is a string: its bytes, else NULL */
    size_t len;
    uint64_t head;         /* mcpc_schema_head8 of str */
} mcpc_schema_enumv;

struct mcpc_schema_node {
    uint64_t kw;           /* keyword bits present (and enabled by the vocabulary) */
    uint8_t kind;          /* NK_* */
    uint8_t types;         /* T_* mask when K_TYPE */
    uint8_t fmt_assert;    /* format asserts here */
    uint8_t unique;        /* uniqueItems: true */
    uint8_t leaf;          /* no subschemas: type, string, number, const, enum keywords only */
    uint8_t lop;           /* LOP_*: a leaf shape the fast walker checks inline */
    uint8_t closed;        /* "additionalProperties": false and no patternProperties */
    uint16_t fmt;          /* F_* */
    int32_t res;           /* resource index; -1 for shared boolean nodes */
    uint32_t id;           /* creation index, for cycle detection */

    /* strings */
    size_t min_len, max_len;
    mcpc_schema_re *pattern;
    /* numbers */
    mcpc_schema_num minimum, maximum, exmin, exmax;
    mcpc_schema_dec multiple;
    /* arrays */
    size_t min_items, max_items, min_contains, max_contains;
    mcpc_schema_node **prefix;
    size_t n_prefix;
    mcpc_schema_node *items, *contains, *uneval_items;
    /* objects */
    size_t min_props, max_props;
    mcpc_schema_ptab props;
    mcpc_schema_pprop *pprops;
    size_t n_pprops;
    mcpc_schema_node *addl, *prop_names, *uneval_props;
    const char **req;
    size_t *req_len;
    size_t n_req;
    uint64_t req_all;      /* when req_table: one bit per required key */
    uint8_t req_table;     /* required keys are in props (reqbit), checked in the member pass */
    mcpc_schema_depreq *depreq;
    size_t n_depreq;
    mcpc_schema_depschema *depsch;
    size_t n_depsch;
    /* any type */
    json_t *const_v;       /* own reference */
    mcpc_schema_enumv *enumv;
    size_t n_enum;
    mcpc_schema_ptab enum_str;  /* the string values of "enum", for one-probe lookup */
    mcpc_schema_node **all_of, **any_of, **one_of;
    size_t n_all_of, n_any_of, n_one_of;
    mcpc_schema_node *not_, *if_, *then_, *else_;
    mcpc_schema_node *ref, *dynref;
    const char *dyn_name;  /* $dynamicRef with a bookended anchor: the name to look up */
};

typedef struct {
    const char *name;
    mcpc_schema_node *node;
} mcpc_schema_dynanchor;

typedef struct {
    char *uri;
    mcpc_schema_dynanchor *dyn;
    size_t n_dyn;
} mcpc_schema_resource;

/* Chunked storage for everything the validator owns. */
typedef struct mcpc_schema_chunk mcpc_schema_chunk;

struct mcpc_schema {
    mcpc_schema_node *root;
    mcpc_schema_node n_true, n_false;
    mcpc_schema_limits lim;
    pcre2_match_context *mctx;
    mcpc_schema_resource *res;
    size_t n_res;
    int has_dynamic;       /* some $dynamicRef needs the dynamic scope */
    size_t n_nodes;
    mcpc_schema_node **nodes;  /* every node, for freeing */
    size_t nodes_cap;
    mcpc_schema_re **regexes;
    size_t n_regexes, regexes_cap;
    mcpc_schema_chunk *mem;    /* arena for strings and arrays */
};

/* Arena allocation owned by s (zeroed); NULL on failure. */
void *mcpc_schema_alloc(mcpc_schema *s, size_t n);
char *mcpc_schema_strndup(mcpc_schema *s, const char *p, size_t n);
/* The first (up to) 8 bytes of s as a number, zero-padded: one compare rejects most unequal
 * short strings before memcmp is needed. */
static inline __attribute__((always_inline)) uint64_t mcpc_schema_head8(const char *s, size_t n)
{
    /* two overlapping loads: overlapping bytes are the same bytes, so OR is exact */
    if (n >= 8) {
        uint64_t h;
        memcpy(&h, s, 8);
        return h;
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        return (uint64_t)a | ((uint64_t)b << (8 * (n - 4)));
    }
    if (n >= 2) {
        uint16_t a, b;
        memcpy(&a, s, 2);
        memcpy(&b, s + n - 2, 2);
        return (uint64_t)a | ((uint64_t)b << (8 * (n - 2)));
    }
    return n ? (unsigned char)s[0] : 0;
}

/* Bytes 8..n of two strings of length n whose heads already matched. */
static inline __attribute__((always_inline)) int mcpc_schema_tail_eq(const char *a, const char *b,
                                                                     size_t n)
{
    if (n <= 8)
        return 1;
    if (n <= 16) {
        uint64_t x, y;
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    return memcmp(a + 8, b + 8, n - 8) == 0;
}

/* Property table hash from a key's length and head: cheap for any key length, verified by
 * comparing the head and the tail. */
static inline __attribute__((always_inline)) uint32_t mcpc_schema_ptab_hash2(uint64_t head,
                                                                             size_t n)
{
    uint64_t h = (head ^ ((uint64_t)n << 56)) * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32);
}

static inline uint32_t mcpc_schema_ptab_hash(const char *k, size_t n)
{
    return mcpc_schema_ptab_hash2(mcpc_schema_head8(k, n), n);
}

/* Property table lookup (inline for the validator's hot loop). */
static inline __attribute__((always_inline)) const mcpc_schema_prop *
mcpc_schema_ptab_get(const mcpc_schema_ptab *t, const char *k, size_t n)
{
    uint64_t head = mcpc_schema_head8(k, n);
    size_t i = mcpc_schema_ptab_hash2(head, n) & t->mask;
    for (;;) {
        uint32_t slot = t->slots[i];
        if (!slot)
            return NULL;
        const mcpc_schema_prop *p = &t->props[slot - 1];
        if (p->head == head && p->len == n && mcpc_schema_tail_eq(p->key, k, n))
            return p;
        i = (i + 1) & t->mask;
    }
}

/* Compile entry (schema_compile.c). */
mcpc_err mcpc_schema_compile_impl(mcpc_schema_registry *reg, json_t *schema, const char *base,
                                  const mcpc_schema_limits *lim, mcpc_schema **out, char *err,
                                  size_t errlen);

/* Registry internals, read by the compiler. */
typedef struct {
    char *uri;
    json_t *schema;        /* own reference */
} mcpc_schema_regent;

struct mcpc_schema_registry {
    mcpc_schema_regent *ents;
    size_t n, cap;
};

#endif
