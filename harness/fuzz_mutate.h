/* Grammar-aware mutation of MCP messages for `mcpcert fuzz` (harness/fuzz_live.c).
 *
 * Pure functions over jansson values and a seeded PRNG (xoshiro256**, seeded through
 * splitmix64; never rand()), so that one seed always yields one sequence of messages. No I/O.
 *
 * A message is a jansson tree plus "patches": bytes no jansson value can hold (invalid UTF-8,
 * lone surrogate escapes, integers past 64 bits, 10^4-deep nesting, duplicate keys, megabyte
 * strings). A patch sits in the tree as a placeholder string "@@fzN@@" and is spliced in when
 * the message is rendered. Keeping the tree lets the minimizer drop members and shrink values
 * structurally; a byte-level mutation instead freezes the rendered bytes (msg.raw). */
#ifndef MCPC_FUZZ_MUTATE_H
#define MCPC_FUZZ_MUTATE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* ---- PRNG ------------------------------------------------------------------------------------ */

typedef struct {
    uint64_t s[4];
} mcpc_fz_rng;

void mcpc_fz_rng_seed(mcpc_fz_rng *r, uint64_t seed);
uint64_t mcpc_fz_rng_next(mcpc_fz_rng *r);
/* Uniform in [0, n); 0 when n <= 1. */
uint64_t mcpc_fz_rng_below(mcpc_fz_rng *r, uint64_t n);
/* 1 with probability pct/100. */
int mcpc_fz_rng_pct(mcpc_fz_rng *r, unsigned pct);

/* ---- mutation classes ------------------------------------------------------------------------ */

typedef enum {
    MCPC_FZ_NONE = 0,   /* the valid message, unchanged */
    MCPC_FZ_TYPE,       /* a value replaced by one of another JSON type */
    MCPC_FZ_NUMBER,     /* huge, negative, tiny, -0, past 64 bits */
    MCPC_FZ_DEEP,       /* deep nesting (up to MCPC_FZ_MAX_DEPTH) */
    MCPC_FZ_UTF8,       /* invalid UTF-8, lone surrogates, NUL, bidi and BOM characters */
    MCPC_FZ_ID,         /* id collisions: one id twice in flight, across request/notification */
    MCPC_FZ_METHOD,     /* unknown and near-miss methods; requests turned into notifications */
    MCPC_FZ_BIGSTR,     /* strings up to MCPC_FZ_MAX_STRING bytes */
    MCPC_FZ_KEYS,       /* members dropped, duplicated, added or renamed */
    MCPC_FZ_VERSION,    /* a wrong "jsonrpc" */
    MCPC_FZ_HEADER,     /* HTTP only: headers that disagree with the body, odd values */
    MCPC_FZ_RAW,        /* bytes flipped, cut, inserted, repeated */
    MCPC_FZ__COUNT
} mcpc_fz_class;

/* "type", "number", ...: static text. */
const char *mcpc_fz_class_name(mcpc_fz_class c);
/* A class by weight; HEADER only when http is set. */
mcpc_fz_class mcpc_fz_pick_class(mcpc_fz_rng *r, int http);

/* ---- messages -------------------------------------------------------------------------------- */

#define MCPC_FZ_MAX_PATCHES 8
#define MCPC_FZ_MAX_HEADERS 4
#define MCPC_FZ_MAX_DEPTH 10000
#define MCPC_FZ_MAX_STRING ((size_t)1 << 20)
#define MCPC_FZ_MAX_BYTES ((size_t)4 << 20)     /* a rendered message never exceeds this */
#define MCPC_FZ_UNIT_MAX 3

typedef enum {
    MCPC_FZ_P_BYTES,    /* text replaces the quoted placeholder as is */
    MCPC_FZ_P_DEEP,     /* n nested arrays (obj 0) or objects {"a":…} (obj 1) */
    MCPC_FZ_P_REPEAT,   /* a string: '"' + text repeated n times + '"' */
} mcpc_fz_patch_kind;

typedef struct {
    mcpc_fz_patch_kind kind;
    char *text;         /* owned */
    size_t len;
    size_t n;
    int obj;
} mcpc_fz_patch;

typedef struct {
    json_t *tree;                         /* owned: the message as a value */
    mcpc_fz_patch patch[MCPC_FZ_MAX_PATCHES];
    size_t npatch;
    unsigned char *raw;                   /* owned: frozen bytes after a RAW mutation, or NULL */
    size_t raw_len;
    char *hdr[MCPC_FZ_MAX_HEADERS];       /* owned: extra HTTP headers, "Name: value" or "Name;" */
    size_t nhdr;
} mcpc_fz_msg;

/* Take tree (the reference is stolen; may be NULL) as a message without patches. */
void mcpc_fz_msg_init(mcpc_fz_msg *m, json_t *tree);
void mcpc_fz_msg_clear(mcpc_fz_msg *m);
/* Deep copy; 0, or -1 on allocation failure (dst is then cleared). */
int mcpc_fz_msg_copy(mcpc_fz_msg *dst, const mcpc_fz_msg *src);
/* The bytes to send (no newline), malloc'd with two spare bytes after *len (a caller may append
 * '\n' and a NUL). NULL when allocation fails or the result would pass MCPC_FZ_MAX_BYTES. */
char *mcpc_fz_msg_render(const mcpc_fz_msg *m, size_t *len);

/* What one iteration sends: 1..MCPC_FZ_UNIT_MAX messages written back to back. */
typedef struct {
    mcpc_fz_msg m[MCPC_FZ_UNIT_MAX];
    size_t n;
    mcpc_fz_class cls;
    char what[160];                       /* the mutation, in words */
} mcpc_fz_unit;

void mcpc_fz_unit_clear(mcpc_fz_unit *u);
int mcpc_fz_unit_copy(mcpc_fz_unit *dst, const mcpc_fz_unit *src);

/* Apply one mutation of class c to u (u->n >= 1; its first message is the target). Sets u->cls
 * and u->what. Returns 0, or -1 when the class has nothing to work on (u is then unchanged). */
int mcpc_fz_mutate(mcpc_fz_unit *u, mcpc_fz_class c, mcpc_fz_rng *r);

/* A value valid for a JSON Schema (borrowed), drawn at random: const, enum, examples, then a
 * value of the declared type within its bounds. New reference; NULL only on allocation failure. */
json_t *mcpc_fz_sample(json_t *schema, mcpc_fz_rng *r);

/* The k-th smaller variant of m, for minimization, in a fixed order: headers dropped, patches
 * halved, then per location of the tree (pre-order) the member dropped, a string halved, a
 * container emptied; for frozen bytes, chunks removed (halves first, then quarters, ...).
 * Returns 1 with *out set (the caller clears it), 0 when there is no k-th variant. */
int mcpc_fz_shrink(const mcpc_fz_msg *m, size_t k, mcpc_fz_msg *out);

#endif
