/* Fuzz target: the strict JSON-RPC parser and classifier (harness/jsonrpc.c).
 *
 * Invariants checked (the two marked * on one input in eight, picked by its last byte):
 * - the return code and the message agree (OK <=> a kind; PARSE <=> -32700 and no root;
 *   INVALID <=> -32600 and a root), and the reason is one bounded line of valid UTF-8;
 * - * parsing the same bytes again gives the same code, kind and reason (refusals are stable);
 * - classifying the parsed root directly agrees with the parse;
 * - * a tighter depth bound either gives the same answer or refuses with -32700;
 * - whatever parsed as JSON re-serialises on one line to bytes that parse to the same value,
 *   classification, kind, id, method, params/result/error and reason;
 * - a valid message rebuilt with the builders classifies as the same kind with the same parts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "jsonrpc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(MCPC_FUZZ_HASH_SEED);
    return 0;
}

/* 1 when s (NUL-terminated within cap bytes) is one line of valid UTF-8 without controls. */
static int fuzz_reason_ok(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        return 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (k == 0 || i + k > n || (k == 1 && (c < 0x20 || c == 0x7f)))
            return 0;
        for (size_t j = 1; j < k; j++)
            if (((unsigned char)s[i + j] >> 6) != 2)
                return 0;
        i += k;
    }
    return 1;
}

/* 1 when two borrowed values are both absent or equal. */
static int fuzz_same(const json_t *a, const json_t *b)
{
    if (!a || !b)
        return a == b;
    return json_equal((json_t *)a, (json_t *)b);
}

/* The parts of two classified messages agree. Both are borrowed. */
static void fuzz_check_same_msg(const mcpc_msg *a, const mcpc_msg *b, const char *what)
{
    MCPC_FUZZ_CHECK(a->kind == b->kind, what);
    MCPC_FUZZ_CHECK(a->rpc_code == b->rpc_code, what);
    MCPC_FUZZ_CHECK(fuzz_same(a->id, b->id), what);
    MCPC_FUZZ_CHECK((!a->method && !b->method) ||
                        (a->method && b->method && strcmp(a->method, b->method) == 0),
                    what);
    MCPC_FUZZ_CHECK(fuzz_same(a->params, b->params), what);
    MCPC_FUZZ_CHECK(fuzz_same(a->result, b->result), what);
    MCPC_FUZZ_CHECK(fuzz_same(a->error, b->error), what);
}

/* Rebuild a valid message m (borrowed) with the builders; new reference, or NULL when the
 * builders cannot express it (an error code outside int) or on allocation failure. */
static json_t *fuzz_rebuild(const mcpc_msg *m)
{
    switch (m->kind) {
    case MCPC_MSG_REQUEST:
        return mcpc_jsonrpc_request(m->id, m->method, m->params);
    case MCPC_MSG_NOTIFICATION:
        return mcpc_jsonrpc_notification(m->method, m->params);
    case MCPC_MSG_RESULT:
        return mcpc_jsonrpc_result(m->id, m->result);
    case MCPC_MSG_ERROR: {
        json_int_t code = json_integer_value(json_object_get(m->error, "code"));
        const char *text = json_string_value(json_object_get(m->error, "message"));
        if (code < -2147483647 - 1 || code > 2147483647)
            return NULL;
        return mcpc_jsonrpc_error(m->id, (int)code, text, json_object_get(m->error, "data"));
    }
    case MCPC_MSG_INVALID:
        break;
    }
    return NULL;
}

/* Dump v (borrowed) on one line and parse the bytes back into *out (caller clears it).
 * Returns the parse code; aborts when the dump is not one line. */
static mcpc_err fuzz_reparse(const json_t *v, mcpc_msg *out)
{
    size_t len = 0;
    char *bytes = mcpc_jsonrpc_dump(v, 1, &len);
    mcpc_err rc;
    MCPC_FUZZ_CHECK(bytes != NULL, "a parsed value must serialise");
    MCPC_FUZZ_CHECK(len > 0 && bytes[len - 1] == '\n', "dump ends with its newline");
    MCPC_FUZZ_CHECK(!memchr(bytes, '\n', len - 1) && !memchr(bytes, '\r', len - 1),
                    "dump is one line");
    rc = mcpc_jsonrpc_parse(bytes, len - 1, 0, out);
    free(bytes);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    mcpc_msg m, again, direct, shallow, round, built;
    json_t *rebuilt = NULL;
    mcpc_err rc, rc2;

    memset(&direct, 0, sizeof direct);
    memset(&round, 0, sizeof round);
    memset(&built, 0, sizeof built);

    rc = mcpc_jsonrpc_parse(buf, size, 0, &m);
    if (rc == MCPC_ERR_NOMEM)
        goto out_first;
    MCPC_FUZZ_CHECK((rc == MCPC_OK) == (m.kind != MCPC_MSG_INVALID), "code and kind agree");
    if (rc == MCPC_OK)
        MCPC_FUZZ_CHECK(m.root && m.rpc_code == 0, "a valid message has a root and no code");
    else if (rc == MCPC_ERR_PARSE)
        MCPC_FUZZ_CHECK(!m.root && m.rpc_code == MCPC_RPC_PARSE_ERROR, "not JSON is -32700");
    else
        MCPC_FUZZ_CHECK(rc == MCPC_ERR_INVALID && m.root &&
                            m.rpc_code == MCPC_RPC_INVALID_REQUEST,
                        "JSON but not a message is -32600");
    MCPC_FUZZ_CHECK(fuzz_reason_ok(m.reason, sizeof m.reason), "reason is one line of UTF-8");
    if (m.kind == MCPC_MSG_REQUEST || m.kind == MCPC_MSG_NOTIFICATION)
        MCPC_FUZZ_CHECK(m.method != NULL, "requests and notifications have a method");

    /* The stability and depth-bound checks parse the input twice more. They are properties of
     * the parser as a whole, not of one input, so one input in eight (chosen by its own bytes,
     * to stay deterministic) pays for them: throughput goes to the round trip instead. */
    if (size == 0 || (data[size - 1] & 7) != 0)
        goto after_stability;

    /* the same bytes, the same answer */
    rc2 = mcpc_jsonrpc_parse(buf, size, 0, &again);
    MCPC_FUZZ_CHECK(rc2 == rc, "parse is stable");
    fuzz_check_same_msg(&m, &again, "parse is stable");
    MCPC_FUZZ_CHECK(strcmp(m.reason, again.reason) == 0, "reason is stable");
    mcpc_msg_clear(&again);

    /* a shallower bound may only add a -32700 refusal */
    rc2 = mcpc_jsonrpc_parse(buf, size, 3, &shallow);
    if (rc2 != MCPC_ERR_PARSE && rc2 != MCPC_ERR_NOMEM) {
        MCPC_FUZZ_CHECK(rc2 == rc, "a depth bound only refuses");
        fuzz_check_same_msg(&m, &shallow, "a depth bound only refuses");
    }
    mcpc_msg_clear(&shallow);

after_stability:
    if (!m.root)
        goto out;

    /* classifying the parsed value directly agrees with parsing the bytes */
    rc2 = mcpc_jsonrpc_classify(m.root, &direct);
    MCPC_FUZZ_CHECK(rc2 == rc, "classify agrees with parse");
    fuzz_check_same_msg(&m, &direct, "classify agrees with parse");
    MCPC_FUZZ_CHECK(strcmp(m.reason, direct.reason) == 0, "classify gives the same reason");

    /* serialise and parse back: the same value and the same verdict */
    rc2 = fuzz_reparse(m.root, &round);
    if (rc2 == MCPC_ERR_NOMEM)
        goto out;
    MCPC_FUZZ_CHECK(rc2 == rc, "round trip keeps the verdict");
    MCPC_FUZZ_CHECK(json_equal(m.root, round.root), "round trip keeps the value");
    fuzz_check_same_msg(&m, &round, "round trip keeps the message");
    MCPC_FUZZ_CHECK(strcmp(m.reason, round.reason) == 0, "round trip keeps the reason");

    /* what the harness builds from a valid message is the same message */
    if (rc != MCPC_OK)
        goto out;
    rebuilt = fuzz_rebuild(&m);
    if (!rebuilt)
        goto out;
    rc2 = fuzz_reparse(rebuilt, &built);
    if (rc2 == MCPC_ERR_NOMEM)
        goto out;
    MCPC_FUZZ_CHECK(rc2 == MCPC_OK, "a rebuilt message is valid");
    MCPC_FUZZ_CHECK(built.kind == m.kind && fuzz_same(built.id, m.id), "rebuilt kind and id");
    if (m.kind == MCPC_MSG_REQUEST || m.kind == MCPC_MSG_NOTIFICATION) {
        MCPC_FUZZ_CHECK(strcmp(built.method, m.method) == 0, "rebuilt method");
        MCPC_FUZZ_CHECK(fuzz_same(built.params, m.params), "rebuilt params");
    }
    if (m.kind == MCPC_MSG_RESULT)
        MCPC_FUZZ_CHECK(fuzz_same(built.result, m.result), "rebuilt result");
    if (m.kind == MCPC_MSG_ERROR)
        MCPC_FUZZ_CHECK(fuzz_same(json_object_get(built.error, "code"),
                                  json_object_get(m.error, "code")) &&
                            fuzz_same(json_object_get(built.error, "message"),
                                      json_object_get(m.error, "message")) &&
                            fuzz_same(json_object_get(built.error, "data"),
                                      json_object_get(m.error, "data")),
                        "rebuilt error");
out:
    json_decref(rebuilt);
    mcpc_msg_clear(&built);
    mcpc_msg_clear(&round);
    mcpc_msg_clear(&direct);
out_first:
    mcpc_msg_clear(&m);
    return 0;
}
