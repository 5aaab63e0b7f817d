/* Injection markers in text an implementation hands to a model: tool descriptions, schemas,
 * results. Two kinds of evidence: text patterns (PCRE2, case-insensitive, with a match limit)
 * and invisible or direction-changing code points a human reviewer cannot see (Unicode tag
 * characters, zero-width characters, bidi controls) and terminal escapes. */
#ifndef MCPC_INJECT_H
#define MCPC_INJECT_H

#include <stddef.h>
#include <jansson.h>
#include "error.h"

typedef struct mcpc_inject mcpc_inject;

/* Compile patterns (array of strings, borrowed). invisible != 0 also flags hidden code points. */
mcpc_err mcpc_inject_new(json_t *patterns, int invisible, mcpc_inject **out, char *err, size_t errlen);
void mcpc_inject_free(mcpc_inject *inj);

/* Scan every string (and object key) inside v (borrowed), recursively to a bounded depth. On the
 * first finding returns 1 and describes it in `what` (where it is, which marker). 0 when clean. */
int mcpc_inject_scan(mcpc_inject *inj, json_t *v, char *what, size_t whatlen);

#endif
