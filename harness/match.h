/* Conditions over a received message: the small predicate vocabulary of `expect` outcomes.
 * A condition is an object: {"path": <JSON Pointer>, <one test>} where the test is one of
 * equals, present, type, in, contains, nonempty, equals_var, equals_sent_id; or {"kind": K}
 * (the message kind) or {"era": V} (the session's era). No expression language. */
#ifndef MCPC_MATCH_H
#define MCPC_MATCH_H

#include <stddef.h>
#include <jansson.h>
#include "error.h"

typedef struct {
    json_t *msg;            /* borrowed: the whole message (NULL when none arrived) */
    const char *kind;       /* "request" | "notification" | "result" | "error" */
    json_t *sent_id;        /* borrowed: id of the last request sent (may be NULL) */
    json_t *vars;           /* borrowed: captured variables (object) */
    const char *era;        /* "2025-11-25" | "2026-07-28" */
} mcpc_match_ctx;

/* RFC 6901 JSON Pointer lookup. Returns a borrowed reference or NULL. "" is the root. */
json_t *mcpc_pointer_get(json_t *root, const char *ptr);

/* 1 when every condition in `when` (array, borrowed) holds, 0 when one does not (why names it). */
int mcpc_match_all(json_t *when, const mcpc_match_ctx *ctx, char *why, size_t whylen);

/* Check a condition array is well-formed; err says what is wrong. */
mcpc_err mcpc_match_validate(json_t *when, char *err, size_t errlen);

/* A captured variable: "name" or "name/json/pointer" into it. Borrowed, or NULL. */
json_t *mcpc_match_var(json_t *vars, const char *ref);

/* Replace every string value of the exact form "${name}" or "${name/pointer}" by a copy of that variable. Returns a new
 * reference (a deep copy of tmpl) or NULL when a variable is missing (err names it). */
json_t *mcpc_match_subst(const json_t *tmpl, json_t *vars, char *err, size_t errlen);

#endif
