/* Validations per second of the compiled JSON Schema validator, measured the way
 * shared/bench/ajv-bench.js measures ajv (allErrors:false): per case, compile once; for the
 * valid instance and each invalid one, calibrate a loop to about 300 ms, run it 5 times and
 * report the median rate. Formats assert, as ajv-formats makes them do in ajv.
 *
 *   schema-bench FILE                one line per measurement:
 *                                      mcpcert <name> valid <N>/s
 *                                      mcpcert <name> invalid[<why>] <N>/s
 *   schema-bench --count N FILE      no timing: every validation exactly N times (for
 *                                    callgrind: instructions / (N * validations))
 *
 * FILE: { "<name>": { "schema": {...}, "valid": <instance>,
 *                     "invalid": [ {"why": "...", "data": <instance>} ] } }
 * Exit 1 when a valid instance is rejected or an invalid one accepted, 2 on usage/IO errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema.h"

#define REPS 5
#define TARGET_MS 300.0

static volatile int sink;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double run(const mcpc_schema *s, json_t *x, long n)
{
    double t0 = now_ms();
    int acc = 0;
    for (long i = 0; i < n; i++)
        acc += (int)mcpc_schema_validate(s, x, NULL);
    sink += acc;
    return now_ms() - t0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ajv-bench.js rate(): grow n by 4x until a loop takes over a quarter of the target, scale n
 * to the target, then the median of REPS timed loops. */
static double rate(const mcpc_schema *s, json_t *x)
{
    long n = 1000;
    double rates[REPS];
    for (;;) {
        double ms = run(s, x, n);
        if (ms > TARGET_MS / 4) {
            n = (long)((double)n * TARGET_MS / ms) + 1;   /* ceil without libm */
            break;
        }
        n *= 4;
    }
    for (int r = 0; r < REPS; r++)
        rates[r] = (double)n / (run(s, x, n) / 1e3);
    qsort(rates, REPS, sizeof rates[0], cmp_d);
    return rates[REPS >> 1];
}

int main(int argc, char **argv)
{
    long count = 0;
    const char *file = NULL;
    json_error_t je;
    json_t *cases, *c;
    const char *name;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--count") && i + 1 < argc)
            count = atol(argv[++i]);
        else if (!file)
            file = argv[i];
        else
            file = NULL, i = argc;
    }
    if (!file) {
        fprintf(stderr, "usage: schema-bench [--count N] FILE\n");
        return 2;
    }
    cases = json_load_file(file, 0, &je);
    if (!json_is_object(cases)) {
        fprintf(stderr, "%s: %s\n", file, cases ? "not an object" : je.text);
        json_decref(cases);
        return 2;
    }
    long total = 0;
    json_object_foreach(cases, name, c) {
        mcpc_schema_limits lim = {0};
        mcpc_schema *s = NULL;
        char err[256];
        json_t *valid = json_object_get(c, "valid"), *inv = json_object_get(c, "invalid"), *it;
        size_t i;
        lim.flags = MCPC_SCHEMA_FORMAT_ASSERT;
        if (mcpc_schema_compile(NULL, json_object_get(c, "schema"), NULL, &lim, &s, err,
                                sizeof err) != MCPC_OK) {
            fprintf(stderr, "%s: compile: %s\n", name, err);
            rc = 1;
            continue;
        }
        if (mcpc_schema_validate(s, valid, NULL) != MCPC_OK) {
            fprintf(stderr, "%s: valid instance rejected\n", name);
            rc = 1;
        } else if (count) {
            run(s, valid, count);
            total += count;
        } else
            printf("mcpcert %s valid %.0f/s\n", name, rate(s, valid));
        json_array_foreach(inv, i, it) {
            const char *why = json_string_value(json_object_get(it, "why"));
            json_t *data = json_object_get(it, "data");
            if (mcpc_schema_validate(s, data, NULL) != MCPC_ERR_INVALID) {
                fprintf(stderr, "%s: invalid instance accepted (%s)\n", name, why);
                rc = 1;
                continue;
            }
            if (count) {
                run(s, data, count);
                total += count;
            } else
                printf("mcpcert %s invalid[%s] %.0f/s\n", name, why ? why : "?", rate(s, data));
        }
        fflush(stdout);
        mcpc_schema_free(s);
    }
    if (count)
        printf("mcpcert %ld validations\n", total);
    json_decref(cases);
    return rc;
}
