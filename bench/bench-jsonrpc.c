/* Benchmark (not a test): what strict classification costs over a bare json_loadb.
 *
 * For each representative MCP message, and for a round-robin mix of all of them, time
 *   bare:   json_loadb(buf, len, 0, &err) + json_decref
 *   strict: mcpc_jsonrpc_parse(buf, len, 0, &msg) + mcpc_msg_clear
 * Each measurement auto-calibrates to about 0.5 s (or argv[1] seconds), split into REPS
 * interleaved repetitions of which the fastest is kept.
 *
 * Output, one line per message and a final "mix" line:
 *   <name> bare <ns/msg> strict <ns/msg> ratio <strict/bare> strict_msg_per_s <n> bytes <n>
 * Lines starting with '#' are commentary. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonrpc.h"

struct msg {
    const char *name;
    char *buf;              /* malloc'd serialised message */
    size_t len;
    mcpc_msg_kind kind;     /* what strict parsing must say, checked before timing */
};

/* Defeats dead-code elimination: every timed loop folds something into it. */
static volatile unsigned long sink;

/* Seconds on the monotonic clock. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Serialise v (consumed: this drops the caller's reference) into m; exits on failure. */
static void set_from_json(struct msg *m, const char *name, json_t *v, mcpc_msg_kind kind)
{
    if (!v) {
        fprintf(stderr, "bench-jsonrpc: cannot build %s\n", name);
        exit(2);
    }
    m->name = name;
    m->kind = kind;
    m->buf = mcpc_jsonrpc_dump(v, 0, &m->len);
    json_decref(v);
    if (!m->buf) {
        fprintf(stderr, "bench-jsonrpc: cannot dump %s\n", name);
        exit(2);
    }
}

/* Copy a literal into m. */
static void set_from_text(struct msg *m, const char *name, const char *text, mcpc_msg_kind kind)
{
    m->name = name;
    m->kind = kind;
    m->len = strlen(text);
    m->buf = malloc(m->len + 1);
    if (!m->buf) {
        fprintf(stderr, "bench-jsonrpc: out of memory\n");
        exit(2);
    }
    memcpy(m->buf, text, m->len + 1);
}

/* A tools/list result with five tools, each with a JSON Schema for its input. New reference. */
static json_t *tools_list_result(void)
{
    static const char *const names[] = { "echo", "add", "search_files", "fetch_url", "get_weather" };
    json_t *tools = json_array();

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        json_t *tool = json_pack(
            "{s:s, s:s, s:s, s:{s:s, s:{s:{s:s, s:s}, s:{s:s, s:i, s:i, s:s}, "
            "s:{s:s, s:[s, s, s]}}, s:[s], s:b}, s:{s:b, s:b}}",
            "name", names[i],
            "title", "A tool for the benchmark",
            "description", "Does one thing well; the description is long enough to be typical "
                           "of real servers, which explain arguments in prose.",
            "inputSchema",
                "type", "object",
                "properties",
                    "query", "type", "string", "description", "What to look for",
                    "limit", "type", "integer", "minimum", 1, "maximum", 100,
                             "description", "How many results",
                    "mode", "type", "string", "enum", "fast", "exact", "fuzzy",
                "required", "query",
                "additionalProperties", 0,
            "annotations", "readOnlyHint", 1, "openWorldHint", 0);
        if (!tool || json_array_append_new(tools, tool) != 0) {
            json_decref(tools);
            return NULL;
        }
    }
    return json_pack("{s:s, s:i, s:{s:o, s:s}}", "jsonrpc", "2.0", "id", 3, "result",
                     "tools", tools, "nextCursor", "page-2");
}

/* A tools/call result carrying about 4 KB of text, with escapes a real one would have.
 * New reference. */
static json_t *text_4k_result(void)
{
    char text[4200];
    size_t o = 0;

    for (int line = 0; o < 4000; line++)
        o += (size_t)snprintf(text + o, sizeof text - o,
                              "%04d: the \"quick\" brown fox \xe2\x80\x94 caf\xc3\xa9\tjumps "
                              "over C:\\lazy\\dog, then returns.\n", line);
    return json_pack("{s:s, s:i, s:{s:[{s:s, s:s}], s:b}}", "jsonrpc", "2.0", "id", 7,
                     "result", "content", "type", "text", "text", text, "isError", 0);
}

#define NMSG 8

/* Fill ms[] with the message set. */
static void build_messages(struct msg *ms)
{
    set_from_text(&ms[0], "initialize-request",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
        "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{\"roots\":{\"listChanged\":true},"
        "\"sampling\":{},\"elicitation\":{}},\"clientInfo\":{\"name\":\"mcpcert\","
        "\"version\":\"0.1.0\"}}}", MCPC_MSG_REQUEST);
    set_from_text(&ms[1], "tools-list-request-meta",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{"
        "\"_meta\":{\"progressToken\":\"tok-2\"},\"cursor\":\"page-1\"}}", MCPC_MSG_REQUEST);
    set_from_text(&ms[2], "tools-call-request",
        "{\"jsonrpc\":\"2.0\",\"id\":\"call-17\",\"method\":\"tools/call\",\"params\":{"
        "\"name\":\"search_files\",\"arguments\":{\"query\":\"TODO\",\"limit\":20,"
        "\"mode\":\"exact\",\"paths\":[\"src/\",\"include/\"]},"
        "\"_meta\":{\"progressToken\":17}}}", MCPC_MSG_REQUEST);
    set_from_json(&ms[3], "tools-list-result-5", tools_list_result(), MCPC_MSG_RESULT);
    set_from_text(&ms[4], "error-response",
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"error\":{\"code\":-32602,\"message\":\"Invalid params\","
        "\"data\":{\"field\":\"arguments.limit\",\"expected\":\"integer\"}}}", MCPC_MSG_ERROR);
    set_from_text(&ms[5], "progress-notification",
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{"
        "\"progressToken\":17,\"progress\":50,\"total\":100,\"message\":\"halfway\"}}",
        MCPC_MSG_NOTIFICATION);
    set_from_json(&ms[6], "text-4k-result", text_4k_result(), MCPC_MSG_RESULT);
    set_from_text(&ms[7], "initialize-result",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":\"2025-11-25\","
        "\"capabilities\":{\"tools\":{\"listChanged\":true},\"resources\":{\"subscribe\":true,"
        "\"listChanged\":true},\"prompts\":{},\"logging\":{}},\"serverInfo\":{\"name\":\"ref\","
        "\"version\":\"1.0.0\"},\"instructions\":\"Call tools/list first.\"}}", MCPC_MSG_RESULT);
}

/* One timed pass: iters rounds over ms[0..n). Returns elapsed seconds. */
static double run(int strict, const struct msg *ms, size_t n, unsigned long iters)
{
    unsigned long acc = 0;
    double t0 = now_s();

    for (unsigned long it = 0; it < iters; it++) {
        for (size_t i = 0; i < n; i++) {
            if (strict) {
                mcpc_msg m;
                acc += (unsigned long)mcpc_jsonrpc_parse(ms[i].buf, ms[i].len, 0, &m);
                acc += (unsigned long)m.kind;
                mcpc_msg_clear(&m);
            } else {
                json_error_t err;
                json_t *v = json_loadb(ms[i].buf, ms[i].len, 0, &err);
                acc += (unsigned long)(v != NULL);
                json_decref(v);
            }
        }
    }
    double dt = now_s() - t0;
    sink += acc;
    return dt;
}

/* Repetitions per measurement; the fastest one is reported, since on a shared machine noise
 * only ever adds time. */
#define REPS 5

/* Iterations of run() that take about seconds. */
static unsigned long calibrate(int strict, const struct msg *ms, size_t n, double seconds)
{
    unsigned long iters = 1;
    double dt;

    /* Double until a pass takes a quarter of the goal, so the estimate is not timer noise. */
    for (;;) {
        dt = run(strict, ms, n, iters);
        if (dt >= seconds / 4 || iters > (1UL << 40))
            break;
        iters *= 2;
    }
    double scaled = (double)iters * seconds / (dt > 0 ? dt : 1e-9);
    return scaled < 1 ? 1 : (unsigned long)scaled;
}

/* Measure bare and strict for about target seconds each, interleaving their repetitions so
 * drift hits both alike. Stores nanoseconds per message (best repetition) in *bare_ns and
 * *strict_ns. */
static void measure(const struct msg *ms, size_t n, double target, double *bare_ns,
                    double *strict_ns)
{
    unsigned long ib = calibrate(0, ms, n, target / REPS);
    unsigned long is = calibrate(1, ms, n, target / REPS);
    double best_b = 0, best_s = 0;

    for (int r = 0; r < REPS; r++) {
        double b = run(0, ms, n, ib) * 1e9 / ((double)ib * (double)n);
        double s = run(1, ms, n, is) * 1e9 / ((double)is * (double)n);
        if (r == 0 || b < best_b)
            best_b = b;
        if (r == 0 || s < best_s)
            best_s = s;
    }
    *bare_ns = best_b;
    *strict_ns = best_s;
}

/* Print one result line. */
static void report(const char *name, double bare, double strict, size_t bytes)
{
    printf("%-24s bare %9.1f strict %9.1f ratio %.3f strict_msg_per_s %.0f bytes %zu\n", name,
           bare, strict, strict / bare, 1e9 / strict, bytes);
}

int main(int argc, char **argv)
{
    struct msg ms[NMSG];
    double target = 0.5;
    size_t total = 0;

    if (argc > 1) {
        target = strtod(argv[1], NULL);
        if (!(target > 0 && target < 60)) {
            fprintf(stderr, "usage: %s [seconds-per-measurement]\n", argv[0]);
            return 2;
        }
    }
    json_object_seed(1);   /* fixed hash seed: same bucket layout, same work, every run */
    build_messages(ms);

    /* The timing is meaningless if strict parsing rejects what it is timed on. */
    for (size_t i = 0; i < NMSG; i++) {
        mcpc_msg m;
        mcpc_err rc = mcpc_jsonrpc_parse(ms[i].buf, ms[i].len, 0, &m);
        if (rc != MCPC_OK || m.kind != ms[i].kind) {
            fprintf(stderr, "bench-jsonrpc: %s: %s (%s)\n", ms[i].name,
                    mcpc_msg_kind_name(m.kind), m.reason);
            mcpc_msg_clear(&m);
            return 1;
        }
        mcpc_msg_clear(&m);
        total += ms[i].len;
    }

    printf("# bench-jsonrpc: jansson %s, %.2f s per measurement (best of %d), ns per message\n",
           JANSSON_VERSION, target, REPS);
    double bare, strict;
    for (size_t i = 0; i < NMSG; i++) {
        measure(&ms[i], 1, target, &bare, &strict);
        report(ms[i].name, bare, strict, ms[i].len);
    }
    measure(ms, NMSG, target, &bare, &strict);
    report("mix", bare, strict, total / NMSG);

    for (size_t i = 0; i < NMSG; i++)
        free(ms[i].buf);
    return 0;
}
