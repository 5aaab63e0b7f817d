/* Runs the JSON-Schema-Test-Suite (draft 2020-12) against harness/schema.c.
 *
 * Data: $MCPC_SHARED (else $MCPC_SRCDIR/../shared, else ../shared) +
 * /json-schema-test-suite/tests/draft2020-12/. Every file under .../remotes/ is registered as
 * http://localhost:1234/<relative path>; the 2020-12
 * meta-schemas are not part of the suite's remotes and are never fetched, so the few tests that
 * need them are listed, with the reason, in tests/schema-suite-exclusions.txt
 * (nothing is fetched). Required tests must all pass except those listed, with a reason, in
 * tests/schema-suite-exclusions.txt; optional/ and optional/format/ (the latter with format
 * assertion on) are counted and reported but never fail the run.
 *
 * Each test validates twice, without and with an error sink: both verdicts must equal the
 * expected one, and an invalid verdict with a sink must come with at least one error.
 *
 * Output: "not ok" lines for failures, per-file counts, then
 *   required: N passed, N failed, N excluded
 *   optional: N passed, N failed
 *   N passed, N failed            (required only; the last line)
 * Exit: 0, 1 on a required failure, 77 when the suite is absent. -v prints every test. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema.h"


typedef struct {
    char *file, *kase, *test;
} excl_t;

typedef struct {
    excl_t *v;
    size_t n;
    unsigned char *used;
} excls_t;

static int verbose;

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return d;
}

/* Trim spaces at both ends in place. */
static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* "file | case | test | reason" lines; '#' starts a comment. */
static void load_exclusions(const char *path, excls_t *ex)
{
    char line[2048];
    FILE *f = fopen(path, "r");
    memset(ex, 0, sizeof *ex);
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        char *p = trim(line), *parts[4];
        int k = 0;
        if (!*p || *p == '#')
            continue;
        for (char *tok = p; k < 4; k++) {
            char *bar = strstr(tok, " | ");
            parts[k] = tok;
            if (!bar) {
                k++;
                break;
            }
            *bar = '\0';
            tok = bar + 3;
        }
        if (k < 4) {
            fprintf(stderr, "%s: malformed exclusion (need file | case | test | reason): %s\n",
                    path, p);
            exit(2);
        }
        excl_t *v = realloc(ex->v, (ex->n + 1) * sizeof *v);
        if (!v)
            exit(2);
        ex->v = v;
        ex->v[ex->n].file = xstrdup(trim(parts[0]));
        ex->v[ex->n].kase = xstrdup(trim(parts[1]));
        ex->v[ex->n].test = xstrdup(trim(parts[2]));
        ex->n++;
    }
    fclose(f);
    ex->used = calloc(ex->n + 1, 1);
}

static int excluded(excls_t *ex, const char *file, const char *kase, const char *test)
{
    for (size_t i = 0; i < ex->n; i++)
        if (!strcmp(ex->v[i].file, file) && !strcmp(ex->v[i].kase, kase) &&
            !strcmp(ex->v[i].test, test)) {
            ex->used[i] = 1;
            return 1;
        }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of regular *.json files in dir (NULL-terminated); NULL if dir is absent. */
static char **list_json(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **v = NULL;
    size_t n = 0;
    if (!d)
        return NULL;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        char path[4096];
        struct stat st;
        if (l < 6 || strcmp(e->d_name + l - 5, ".json"))
            continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            stat(path, &st) || !S_ISREG(st.st_mode))
            continue;
        v = realloc(v, (n + 2) * sizeof *v);
        if (!v)
            exit(2);
        v[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (!v) {
        v = calloc(1, sizeof *v);
        if (!v)
            exit(2);
    }
    qsort(v, n, sizeof *v, cmp_str);
    v[n] = NULL;
    return v;
}

static void free_list(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* Register every file under root/rel as http://localhost:1234/rel/<name>. */
static int register_remotes(mcpc_schema_registry *reg, const char *root, const char *rel)
{
    char dir[4096];
    DIR *d;
    struct dirent *e;
    int n = 0;
    if (snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel) >= (int)sizeof dir)
        return 0;
    d = opendir(dir);
    if (!d)
        return 0;
    while ((e = readdir(d))) {
        char path[4096], sub[4096];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >=
                (int)sizeof sub ||
            stat(path, &st))
            continue;
        if (S_ISDIR(st.st_mode)) {
            n += register_remotes(reg, root, sub);
        } else if (S_ISREG(st.st_mode)) {
            json_error_t je;
            char uri[4200];
            json_t *doc = json_load_file(path, JSON_DECODE_ANY, &je);
            if (!doc) {
                fprintf(stderr, "remote %s: %s\n", path, je.text);
                continue;
            }
            if (snprintf(uri, sizeof uri, "http://localhost:1234/%s", sub) < (int)sizeof uri &&
                mcpc_schema_registry_add(reg, uri, doc) == MCPC_OK)
                n++;
            json_decref(doc);
        }
    }
    closedir(d);
    return n;
}

typedef struct {
    int passed, failed, excluded;
} counts_t;

/* Run one test file; adds to *tot. */
static void run_file(mcpc_schema_registry *reg, const char *dir, const char *label,
                     const char *name, unsigned flags, excls_t *ex, counts_t *tot, int required)
{
    char path[4096], fname[4200];
    json_error_t je;
    json_t *doc;
    size_t ci, ti;
    json_t *kase, *test;
    counts_t cnt = {0, 0, 0};
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(fname, sizeof fname, "%s%s", label, name);
    doc = json_load_file(path, JSON_ALLOW_NUL, &je);
    if (!doc)   /* bignum.json: integers beyond 64 bits load as reals */
        doc = json_load_file(path, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
    if (!json_is_array(doc)) {
        printf("not ok - %s: cannot load: %s\n", fname, je.text);
        tot->failed++;
        json_decref(doc);
        return;
    }
    json_array_foreach(doc, ci, kase) {
        const char *cdesc = json_string_value(json_object_get(kase, "description"));
        json_t *tests = json_object_get(kase, "tests");
        mcpc_schema_limits lim = {0};
        mcpc_schema *s = NULL;
        char err[512];
        mcpc_err crc;
        lim.flags = flags;
        crc = mcpc_schema_compile(reg, json_object_get(kase, "schema"), NULL, &lim, &s, err,
                                  sizeof err);
        json_array_foreach(tests, ti, test) {
            const char *tdesc = json_string_value(json_object_get(test, "description"));
            int want = json_is_true(json_object_get(test, "valid"));
            json_t *data = json_object_get(test, "data");
            const char *why = NULL;
            char buf[600];
            if (ex && excluded(ex, fname, cdesc ? cdesc : "", tdesc ? tdesc : "")) {
                cnt.excluded++;
                if (verbose)
                    printf("ok - %s | %s | %s # excluded\n", fname, cdesc, tdesc);
                continue;
            }
            if (crc != MCPC_OK) {
                snprintf(buf, sizeof buf, "compile failed (%s): %s", mcpc_strerror(crc), err);
                why = buf;
            } else {
                mcpc_schema_errors errs;
                mcpc_err fast = mcpc_schema_validate(s, data, NULL);
                mcpc_schema_errors_init(&errs, 0);
                mcpc_err full = mcpc_schema_validate(s, data, &errs);
                if ((fast == MCPC_OK) != want || (fast != MCPC_OK && fast != MCPC_ERR_INVALID)) {
                    snprintf(buf, sizeof buf, "expected %s, got %s%s%s", want ? "valid" : "invalid",
                             fast == MCPC_OK ? "valid" : mcpc_strerror(fast),
                             errs.count ? ": " : "", errs.count ? errs.items[0].message : "");
                    why = buf;
                } else if (full != fast) {
                    snprintf(buf, sizeof buf, "collecting mode disagrees: %s vs %s",
                             mcpc_strerror(full), mcpc_strerror(fast));
                    why = buf;
                } else if (full == MCPC_ERR_INVALID && errs.count == 0) {
                    why = "invalid, but the error sink is empty";
                }
                mcpc_schema_errors_clear(&errs);
            }
            if (why) {
                cnt.failed++;
                printf("not ok - %s | %s | %s # %s\n", fname, cdesc, tdesc, why);
            } else {
                cnt.passed++;
                if (verbose)
                    printf("ok - %s | %s | %s\n", fname, cdesc, tdesc);
            }
        }
        mcpc_schema_free(s);
    }
    json_decref(doc);
    printf("# %-48s %3d passed, %d failed%s", fname, cnt.passed, cnt.failed,
           required ? "" : " (optional)");
    if (cnt.excluded)
        printf(", %d excluded", cnt.excluded);
    printf("\n");
    tot->passed += cnt.passed;
    tot->failed += cnt.failed;
    tot->excluded += cnt.excluded;
}

static void run_dir(mcpc_schema_registry *reg, const char *dir, const char *label,
                    unsigned flags, excls_t *ex, counts_t *tot, int required)
{
    char **files = list_json(dir);
    for (size_t i = 0; files && files[i]; i++)
        run_file(reg, dir, label, files[i], flags, ex, tot, required);
    free_list(files);
}

int main(int argc, char **argv)
{
    const char *shared = getenv("MCPC_SHARED"), *srcdir = getenv("MCPC_SRCDIR");
    char base[4096], tests[4200], remotes[4200], opt[4300], fmt[4400], exfile[4200];
    struct stat st;
    mcpc_schema_registry *reg;
    excls_t ex;
    counts_t req = {0, 0, 0}, opt_c = {0, 0, 0};
    int stale = 0;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-v"))
            verbose = 1;
    if (shared && *shared)
        snprintf(base, sizeof base, "%s", shared);
    else
        snprintf(base, sizeof base, "%s/../shared", srcdir && *srcdir ? srcdir : ".");
    snprintf(tests, sizeof tests, "%s/json-schema-test-suite/tests/draft2020-12", base);
    snprintf(remotes, sizeof remotes, "%s/json-schema-test-suite/remotes", base);
    if (stat(tests, &st) || !S_ISDIR(st.st_mode)) {
        printf("SKIP: %s not found\n", tests);
        return 77;
    }
    snprintf(exfile, sizeof exfile, "%s/tests/schema-suite-exclusions.txt",
             srcdir && *srcdir ? srcdir : ".");
    load_exclusions(exfile, &ex);
    reg = mcpc_schema_registry_new();
    if (!reg)
        return 2;
    int nrem = register_remotes(reg, remotes, "");
    printf("# suite: %s (%d remotes registered, %zu exclusions)\n", tests, nrem, ex.n);

    run_dir(reg, tests, "", 0, &ex, &req, 1);
    snprintf(opt, sizeof opt, "%s/optional", tests);
    run_dir(reg, opt, "optional/", 0, NULL, &opt_c, 0);
    snprintf(fmt, sizeof fmt, "%s/optional/format", tests);
    run_dir(reg, fmt, "optional/format/", MCPC_SCHEMA_FORMAT_ASSERT, NULL, &opt_c, 0);

    for (size_t i = 0; i < ex.n; i++) {
        if (!ex.used[i]) {
            printf("not ok - exclusion names no test: %s | %s | %s\n", ex.v[i].file,
                   ex.v[i].kase, ex.v[i].test);
            stale++;
        }
        free(ex.v[i].file);
        free(ex.v[i].kase);
        free(ex.v[i].test);
    }
    free(ex.v);
    free(ex.used);
    mcpc_schema_registry_free(reg);
    printf("required: %d passed, %d failed, %d excluded\n", req.passed, req.failed,
           req.excluded);
    printf("optional: %d passed, %d failed\n", opt_c.passed, opt_c.failed);
    printf("%d passed, %d failed\n", req.passed, req.failed + stale);
    return req.failed || stale ? 1 : 0;
}
