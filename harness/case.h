/* Cases are data: one JSON file per case. This module loads and validates case files, the
 * requirement catalogue they trace to, and finds them by id. The step vocabulary itself lives in
 * step.c; validation asks it whether each step is well-formed. */
#ifndef MCPC_CASE_H
#define MCPC_CASE_H

#include <stddef.h>
#include <jansson.h>
#include "error.h"

typedef struct {
    char *path;
    json_t *doc;              /* owned: the whole case file */
    /* borrowed from doc: */
    const char *id, *title, *level, *profile, *suite, *session, *fix;
    json_t *requirements;     /* array of requirement ids */
    json_t *eras, *roles, *transports, *flaws, *steps, *hooks;
} mcpc_case;

typedef struct {
    mcpc_case *v;
    size_t n;
} mcpc_case_set;

/* Validate a parsed case document: known keys only, types, id format, known step vocabulary.
 * doc is borrowed. */
mcpc_err mcpc_case_validate(json_t *doc, char *err, size_t errlen);

/* Load and validate one case file held in buf[0..len) (size bound, duplicate keys refused).
 * Returns a new reference, or NULL with err set. */
json_t *mcpc_case_parse(const char *buf, size_t len, char *err, size_t errlen);

/* Load every *.json below dir (recursively), validate each, reject duplicate ids; sorted by id.
 * On error err names the file and the problem. */
mcpc_err mcpc_case_load_dir(const char *dir, mcpc_case_set *set, char *err, size_t errlen);

/* Load one case file from anywhere (validated, named after its id) and add it to set, which
 * stays sorted; its id must be new. *id (borrowed from the set) names it. */
mcpc_err mcpc_case_load_file(const char *path, mcpc_case_set *set, const char **id, char *err,
                             size_t errlen);

/* Find by id, or NULL. */
const mcpc_case *mcpc_case_find(const mcpc_case_set *set, const char *id);
void mcpc_case_set_free(mcpc_case_set *set);

/* 1 when a string array (borrowed) contains s. */
int mcpc_json_strarray_has(const json_t *arr, const char *s);

/* The requirement catalogue: {"<REQ-ID>": {"level","title","text","source"}}. New reference. */
json_t *mcpc_requirements_load(const char *path, char *err, size_t errlen);

/* Every case's requirement ids exist in the catalogue (doc borrowed). */
mcpc_err mcpc_case_trace(const mcpc_case_set *set, json_t *reqs, char *err, size_t errlen);

#endif
