/* gen_corpus: write seed corpora for every fuzz target.
 *
 *   gen_corpus [--shared DIR] [--cases DIR] OUTDIR
 *
 * Seeds go to OUTDIR/{jsonrpc,schema,sse,case}/, one file per seed named by a hash of its bytes,
 * so running it twice into the same directory adds nothing. --shared (default: $MCPC_SHARED,
 * else the configured shared folder) supplies the spec/ schemas, json-schema-test-suite/ and
 * bench/schema-cases.json; when it is absent those seeds are skipped with a message and the
 * case seeds are still written. --cases defaults to the source tree's cases/. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gen_corpus.h"

#ifndef MCPC_DATADIR
#define MCPC_DATADIR "."
#endif
#ifndef MCPC_SHARED_DIR
#define MCPC_SHARED_DIR MCPC_DATADIR "/../shared"
#endif

static const char *const gen_names[GEN_NTARGETS] = {"jsonrpc", "schema", "sse", "case"};

const char *gen_target_name(gen_target t)
{
    return (unsigned)t < GEN_NTARGETS ? gen_names[t] : "?";
}

/* 64-bit FNV-1a: a stable name for a seed's bytes. */
static uint64_t gen_hash(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

void gen_put(gen_out *o, gen_target t, const void *bytes, size_t len)
{
    char path[2200];
    struct stat st;
    FILE *f;

    if (len > GEN_MAX_SEED) {
        o->too_big++;
        return;
    }
    snprintf(path, sizeof path, "%s/%s/%016llx", o->dir, gen_target_name(t),
             (unsigned long long)gen_hash(bytes, len));
    if (stat(path, &st) == 0)
        goto frame;
    f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, len, f) != len) {
        fprintf(stderr, "gen_corpus: cannot write %s: %s\n", path, strerror(errno));
        o->io_error = 1;
    } else
        o->written[t]++;
    if (f && fclose(f) != 0)
        o->io_error = 1;
frame:
    /* every message also travels in an SSE stream, as it does over streamable HTTP */
    if (t == GEN_JSONRPC)
        gen_sse_frame(o, bytes, len);
}

void gen_put_json(gen_out *o, gen_target t, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        return;
    gen_put(o, t, s, strlen(s));
    free(s);
}

void gen_put_schema_pair(gen_out *o, const json_t *schema, const json_t *instance, char sep)
{
    char *a = json_dumps(schema, JSON_COMPACT | JSON_ENCODE_ANY);
    char *b = instance ? json_dumps(instance, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    char *seed = NULL;
    size_t la, lb, n;

    if (!a || (instance && !b))
        goto out;
    la = strlen(a);
    lb = b ? strlen(b) : 0;
    n = la + (b ? 1 + lb : 0);
    if (n > GEN_MAX_SEED) {
        o->too_big++;
        goto out;
    }
    seed = malloc(n ? n : 1);
    if (!seed)
        goto out;
    memcpy(seed, a, la);
    if (b) {
        seed[la] = sep;
        memcpy(seed + la + 1, b, lb);
    }
    gen_put(o, GEN_SCHEMA, seed, n);
out:
    free(seed);
    free(b);
    free(a);
}

char *gen_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;

    if (!f)
        return NULL;
    buf = malloc(max + 1);
    if (!buf)
        goto fail;
    n = fread(buf, 1, max + 1, f);
    if (ferror(f) || n > max)
        goto fail;
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
fail:
    free(buf);
    fclose(f);
    return NULL;
}

/* mkdir -p for the output directory and its target subdirectories; 0 or -1. */
static int gen_mkdirs(const char *dir)
{
    char path[2200];
    size_t n = strlen(dir);

    if (n == 0 || n >= 2048)
        return -1;
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return -1;
        path[i] = c;
    }
    for (int t = 0; t < GEN_NTARGETS; t++) {
        snprintf(path, sizeof path, "%s/%s", dir, gen_names[t]);
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

static int gen_usage(void)
{
    fprintf(stderr, "usage: gen_corpus [--shared DIR] [--cases DIR] OUTDIR\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *shared = getenv("MCPC_SHARED");
    const char *cases = MCPC_DATADIR "/cases", *outdir = NULL;
    char path[2200];
    gen_spec spec;
    gen_out out;
    struct stat st;
    size_t nspec = 0, nsuite = 0, nbench = 0, ncases;

    if (!shared || !*shared)
        shared = MCPC_SHARED_DIR;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--shared") == 0 && i + 1 < argc)
            shared = argv[++i];
        else if (strcmp(argv[i], "--cases") == 0 && i + 1 < argc)
            cases = argv[++i];
        else if (argv[i][0] == '-' || outdir)
            return gen_usage();
        else
            outdir = argv[i];
    }
    if (!outdir)
        return gen_usage();
    memset(&out, 0, sizeof out);
    memset(&spec, 0, sizeof spec);
    if (strlen(outdir) >= sizeof out.dir || gen_mkdirs(outdir) != 0) {
        fprintf(stderr, "gen_corpus: cannot create %s\n", outdir);
        return 1;
    }
    memcpy(out.dir, outdir, strlen(outdir) + 1);

    if (stat(shared, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("gen_corpus: no shared folder at %s: seeds from the MCP schemas, the "
               "JSON-Schema-Test-Suite and the bench schemas skipped\n", shared);
    } else {
        snprintf(path, sizeof path, "%s/spec", shared);
        nspec = gen_spec_load(&spec, path);
        if (nspec == 0)
            printf("gen_corpus: no MCP schemas in %s: spec seeds skipped\n", path);
        gen_spec_seeds(&out, &spec);
        snprintf(path, sizeof path, "%s/json-schema-test-suite/tests/draft2020-12", shared);
        nsuite = gen_suite_seeds(&out, path);
        snprintf(path, sizeof path, "%s/bench/schema-cases.json", shared);
        nbench = gen_bench_seeds(&out, path);
    }
    ncases = gen_case_seeds(&out, cases, &spec);
    if (ncases == 0)
        printf("gen_corpus: no case files in %s\n", cases);
    gen_spec_free(&spec);

    printf("gen_corpus: %zu MCP schemas, %zu test-suite files, %zu bench files, %zu case files -> "
           "new seeds: %zu jsonrpc, %zu schema, %zu sse, %zu case in %s (%zu over %u bytes "
           "dropped)\n",
           nspec, nsuite, nbench, ncases, out.written[GEN_JSONRPC], out.written[GEN_SCHEMA],
           out.written[GEN_SSE], out.written[GEN_CASE], outdir, out.too_big, GEN_MAX_SEED);
    return out.io_error ? 1 : 0;
}
