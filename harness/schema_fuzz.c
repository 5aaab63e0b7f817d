/* Fuzz target for the schema module: bytes -> (schema, instance) -> compile -> validate.
 * The input is a schema, then a NUL byte or a newline, then an instance; without a separator
 * the schema validates itself. Small bounds keep every input fast; the checks are that nothing
 * crashes or hangs, that fast and collecting mode agree on validity, and that validating again
 * gives the same answer (the compiled validator is immutable). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

/* data is borrowed; everything made here is released before returning. */
int mcpc_schema_fuzz_one(const uint8_t *data, size_t size)
{
    const uint8_t *sep = memchr(data, '\0', size);
    size_t slen, ioff;
    json_t *schema = NULL, *inst = NULL;
    mcpc_schema *s = NULL;
    mcpc_schema_errors errs;
    mcpc_schema_limits lim = {0};
    char err[256];
    if (!sep)
        sep = memchr(data, '\n', size);
    slen = sep ? (size_t)(sep - data) : size;
    ioff = sep ? slen + 1 : 0;
    mcpc_schema_errors_init(&errs, 16);
    /* jansson bounds nesting itself; JSON_DECODE_ANY lets scalars through as instances */
    schema = json_loadb((const char *)data, slen, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (!schema)
        goto out;
    inst = sep ? json_loadb((const char *)data + ioff, size - ioff, JSON_DECODE_ANY, NULL)
               : json_incref(schema);
    if (!inst)
        goto out;
    lim.max_depth = 64;
    lim.max_nodes = 2000;
    lim.max_pattern = 256;
    lim.max_vdepth = 64;
    lim.max_steps = 20000;
    lim.regex_match_limit = 10000;
    lim.regex_depth_limit = 200;
    lim.flags = (size & 1) ? MCPC_SCHEMA_FORMAT_ASSERT : 0;
    if (mcpc_schema_compile(NULL, schema, NULL, &lim, &s, err, sizeof err) != MCPC_OK)
        goto out;
    mcpc_err a = mcpc_schema_validate(s, inst, NULL);
    mcpc_err b = mcpc_schema_validate(s, inst, &errs);
    mcpc_err a2 = mcpc_schema_validate(s, inst, NULL);
    if (a != a2) {
        fprintf(stderr, "schema fuzz: repeat validation differs (%d vs %d)\n", a, a2);
        abort();
    }
    /* a bound may trip in one mode and not the other: only verdicts are compared */
    if ((a == MCPC_OK || a == MCPC_ERR_INVALID) && (b == MCPC_OK || b == MCPC_ERR_INVALID) &&
        a != b) {
        fprintf(stderr, "schema fuzz: fast mode says %d, collecting mode %d\n", a, b);
        abort();
    }
    if (b == MCPC_ERR_INVALID && errs.count == 0 && errs.dropped == 0) {
        fprintf(stderr, "schema fuzz: invalid without any recorded error\n");
        abort();
    }
out:
    mcpc_schema_errors_clear(&errs);
    mcpc_schema_free(s);
    json_decref(schema);
    json_decref(inst);
    return 0;
}
