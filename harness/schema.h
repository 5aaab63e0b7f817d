/* JSON Schema draft 2020-12: compile once into an immutable validator, validate many. No I/O.
 *
 * Remote references resolve only against schemas registered up front; nothing is ever fetched.
 * Every cost is bounded: compile depth and size, $ref cycles, validation depth, a work budget
 * per validation, and PCRE2 match limits. A bound hit is a resource error (MCPC_ERR_TOO_BIG),
 * never a crash or a hang, so the validator can face schemas and instances from hostile peers.
 *
 * Result codes (error.h):
 *   compile:  MCPC_OK; MCPC_ERR_INVALID (malformed schema, or a static $ref loop that never
 *             descends into the instance); MCPC_ERR_NOT_FOUND (unresolved $ref or unregistered
 *             $schema); MCPC_ERR_UNSUPPORTED (required unknown vocabulary, regex feature PCRE2
 *             cannot express); MCPC_ERR_TOO_BIG (a compile bound); MCPC_ERR_NOMEM.
 *   validate: MCPC_OK (valid); MCPC_ERR_INVALID (invalid); MCPC_ERR_TOO_BIG (a validation bound:
 *             depth, work budget, regex limit, in-place $ref loop); MCPC_ERR_NOMEM. */
#ifndef MCPC_SCHEMA_H
#define MCPC_SCHEMA_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "error.h"

typedef struct mcpc_schema_registry mcpc_schema_registry;
typedef struct mcpc_schema mcpc_schema;

/* Behaviour flags (mcpc_schema_limits.flags). */
#define MCPC_SCHEMA_FORMAT_ASSERT 0x1u  /* "format" fails validation instead of annotating */

/* Bounds for compile and validation. Zero in any field means its default (in brackets). */
typedef struct {
    size_t max_depth;          /* compile: nesting of schemas and $ref chains [128] */
    size_t max_nodes;          /* compile: subschemas in one validator [20000] */
    size_t max_pattern;        /* compile: bytes in one regex [4096] */
    size_t max_vdepth;         /* validate: recursion depth [256] */
    size_t max_steps;          /* validate: work budget, subschema applications and
                                * comparisons, per validation [1000000] */
    uint32_t regex_match_limit;/* PCRE2 match limit per match [100000] */
    uint32_t regex_depth_limit;/* PCRE2 depth limit per match [1000] */
    unsigned flags;            /* MCPC_SCHEMA_* behaviour flags (not a bound) */
} mcpc_schema_limits;

/* One validation error. All strings are owned by the error list. */
typedef struct {
    char *instance_path;       /* JSON Pointer into the instance ("" = root) */
    char *schema_path;         /* keyword location: JSON Pointer through the schema, $ref
                                * traversals included ("/properties/a/$ref/type") */
    const char *keyword;       /* static: "type", "required", ..., or "budget" for a bound */
    char *message;             /* one line of text */
} mcpc_schema_error;

/* An error sink: at most max errors are kept; the rest are only counted in dropped. */
typedef struct {
    mcpc_schema_error *items;
    size_t count;
    size_t cap;
    size_t max;
    size_t dropped;
} mcpc_schema_errors;

/* ---- registry ------------------------------------------------------------------------------ */

/* New empty registry, or NULL on allocation failure. */
mcpc_schema_registry *mcpc_schema_registry_new(void);

/* Register schema under an absolute URI (no fragment). schema is borrowed: the registry takes
 * its own reference. The schema's own "$id" values become resolvable too. Returns MCPC_OK,
 * MCPC_ERR_INVALID (not an object/boolean, or uri empty) or MCPC_ERR_NOMEM. A URI registered
 * twice keeps the first schema. */
mcpc_err mcpc_schema_registry_add(mcpc_schema_registry *reg, const char *uri, json_t *schema);

/* Release the registry and its references. Compiled validators do not need it. NULL is fine. */
void mcpc_schema_registry_free(mcpc_schema_registry *reg);

/* ---- compile / validate -------------------------------------------------------------------- */

/* Compile schema (borrowed; the validator keeps references only to the const/enum values it
 * needs) with base_uri as the initial base (NULL: an internal placeholder). reg and lim may be
 * NULL. On failure *out is NULL and err (if errlen > 0) holds one line saying why. */
mcpc_err mcpc_schema_compile(mcpc_schema_registry *reg, json_t *schema, const char *base_uri,
                             const mcpc_schema_limits *lim, mcpc_schema **out, char *err,
                             size_t errlen);

/* Validate instance (borrowed) against a compiled validator. s is only read, so one validator
 * serves any number of callers, concurrently too. With errs == NULL the first failure stops the
 * walk; with a sink every failure is recorded (up to errs->max), and resource errors are
 * recorded too, under keyword "budget". The sink is appended to, not cleared. */
mcpc_err mcpc_schema_validate(const mcpc_schema *s, json_t *instance, mcpc_schema_errors *errs);

/* Release a validator. NULL is fine. */
void mcpc_schema_free(mcpc_schema *s);

/* Number of compiled subschemas (for tests and reports). */
size_t mcpc_schema_node_count(const mcpc_schema *s);

/* ---- error sink ---------------------------------------------------------------------------- */

/* Empty sink keeping at most max errors (0 = 64). */
void mcpc_schema_errors_init(mcpc_schema_errors *e, size_t max);

/* Free every error and reset the sink to empty (max is kept). */
void mcpc_schema_errors_clear(mcpc_schema_errors *e);

/* ---- fuzzing ------------------------------------------------------------------------------- */

/* libFuzzer/AFL entry: data is a schema, then a NUL byte or newline, then an instance. Compiles
 * with small bounds, validates twice (fast and collecting mode) and aborts if the two validity
 * verdicts disagree or a repeat differs. Returns 0. Never crashes or hangs on any input. */
int mcpc_schema_fuzz_one(const uint8_t *data, size_t size);

#endif
