/* gen_corpus: seed corpora for the fuzz targets, made from the data we already have (the MCP
 * schemas, the JSON-Schema-Test-Suite, the bench schemas and our case files). Shared between its
 * files; not part of libmcpc. */
#ifndef MCPC_GEN_CORPUS_H
#define MCPC_GEN_CORPUS_H

#include <stddef.h>
#include <jansson.h>

/* No seed is larger than this: bigger ones only slow the fuzzers down. */
#define GEN_MAX_SEED (32u << 10)

typedef enum { GEN_JSONRPC, GEN_SCHEMA, GEN_SSE, GEN_CASE, GEN_NTARGETS } gen_target;

typedef struct {
    char dir[2048];                 /* the output directory; one subdirectory per target */
    size_t written[GEN_NTARGETS];   /* new seeds (equal bytes are written once) */
    size_t too_big;                 /* seeds over GEN_MAX_SEED, dropped */
    size_t msg_seq;                 /* messages seen, drives the SSE framing variants */
    int io_error;                   /* a seed could not be written */
} gen_out;

/* Name of a target's directory ("jsonrpc", ...). Static. */
const char *gen_target_name(gen_target t);

/* Write one seed under dir/<target>/, named by a hash of its bytes. JSON-RPC seeds are also
 * framed as SSE streams (gen_sse.c). bytes are borrowed. */
void gen_put(gen_out *o, gen_target t, const void *bytes, size_t len);

/* Write v (borrowed) compactly as a seed of target t. */
void gen_put_json(gen_out *o, gen_target t, const json_t *v);

/* A schema seed in mcpc_schema_fuzz_one's format: schema, sep ('\0' or '\n'), instance. Both
 * borrowed; instance NULL writes the schema alone (it then validates itself). */
void gen_put_schema_pair(gen_out *o, const json_t *schema, const json_t *instance, char sep);

/* gen_sse.c: SSE streams carrying the JSON-RPC message msg[0..len) (borrowed). */
void gen_sse_frame(gen_out *o, const char *msg, size_t len);

/* gen_spec.c: the MCP schemas of every era found in a directory. */
typedef struct {
    json_t *docs[8];   /* owned */
    size_t n;
} gen_spec;

/* Load every *.json in dir. Returns the number loaded (0 when dir is absent or empty). */
size_t gen_spec_load(gen_spec *sp, const char *dir);
/* Messages (requests, notifications, results, errors) and schema/instance pairs from every
 * definition of every loaded schema. */
void gen_spec_seeds(gen_out *o, const gen_spec *sp);
/* A schema seed pairing msg (borrowed) with the definition of its method, in every era. */
void gen_spec_pair_message(gen_out *o, const gen_spec *sp, const json_t *msg);
void gen_spec_free(gen_spec *sp);

/* gen_schemas.c: schema seeds from the JSON-Schema-Test-Suite (a directory of test files) and
 * from the bench file (bench/schema-cases.json). Return the number of files read. */
size_t gen_suite_seeds(gen_out *o, const char *dir);
size_t gen_bench_seeds(gen_out *o, const char *path);

/* gen_cases.c: every case file becomes a case seed; the messages its steps send become JSON-RPC
 * seeds (paired with the spec as schema seeds when sp has schemas). Returns files read. */
size_t gen_case_seeds(gen_out *o, const char *dir, const gen_spec *sp);

/* Read a whole file (at most max bytes) into a NUL-terminated malloc'd buffer; NULL on error
 * or when the file is bigger. */
char *gen_read_file(const char *path, size_t max, size_t *len);

#endif
