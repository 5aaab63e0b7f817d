/* Strict JSON-RPC 2.0 for MCP: parse, classify and build single messages. No I/O.
 *
 * The bytes we parse come from the implementation under test, so they are hostile by
 * assumption: nesting is bounded before jansson ever recurses, duplicate keys are refused,
 * and every reason string we write is one line of valid UTF-8 whatever the input held. */
#include "jsonrpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Members a top-level message may carry. Anything else is refused, because an extra member
 * is either a bug in the peer or an attempt to smuggle something past a lenient reader. */
static const char *const known_members[] = {
    "jsonrpc", "id", "method", "params", "result", "error",
};

/* Length of the valid UTF-8 sequence starting at s[0] (at most avail bytes), or 0 when the
 * bytes there are not one. Overlongs, surrogates and code points above U+10FFFF are invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;   /* allowed range of the second byte */

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;         /* overlong */
        if (c == 0xED) hi = 0x9F;         /* UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;         /* overlong */
        if (c == 0xF4) hi = 0x8F;         /* above U+10FFFF */
    } else
        return 0;
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* Format into m->reason as one line of valid UTF-8: control bytes and invalid UTF-8 become
 * '?', and truncation never splits a character. jansson's error text quotes raw input, and
 * reasons end up in JSON reports, where jansson would refuse an invalid string outright. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void set_reason(mcpc_msg *m, const char *fmt, ...);

static void set_reason(mcpc_msg *m, const char *fmt, ...)
{
    char raw[512];
    va_list ap;
    const unsigned char *s = (const unsigned char *)raw;
    size_t cap = sizeof m->reason - 1, o = 0;

    va_start(ap, fmt);
    int n = vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    if (n < 0)
        raw[0] = '\0';

    size_t len = strlen(raw);
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq_len(s + i, len - i);
        if (k <= 1) {
            if (o + 1 > cap)
                break;
            m->reason[o++] = (k == 0 || s[i] < 0x20 || s[i] == 0x7F) ? '?' : (char)s[i];
            i++;
            continue;
        }
        if (o + k > cap)
            break;
        memcpy(m->reason + o, s + i, k);
        o += k;
        i += k;
    }
    m->reason[o] = '\0';
}

/* Mark m invalid with the given JSON-RPC code and reason. */
static void set_invalid(mcpc_msg *m, int rpc_code)
{
    m->kind = MCPC_MSG_INVALID;
    m->method = NULL;
    m->params = NULL;
    m->result = NULL;
    m->error = NULL;
    m->rpc_code = rpc_code;
}

/* Name of a JSON type, for reasons. */
static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    }
    return "an unknown type";
}

/* Scan buf for array/object nesting deeper than max_depth, outside strings. Returns the byte
 * offset where the bound is first exceeded, or (size_t)-1 when it never is. Linear, no
 * recursion, so a megabyte of '[' costs a megabyte of reads rather than a stack. For valid
 * JSON this count is exact; for invalid JSON it may be wrong, but jansson refuses that input
 * anyway, and its own 2048 limit caps what it recurses on before it notices. */
static size_t depth_exceeded_at(const char *buf, size_t len, size_t max_depth)
{
    size_t depth = 0;
    int in_string = 0;

    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_string) {
            if (c == '\\')
                i++;              /* skip the escaped byte: \" must not end the string */
            else if (c == '"')
                in_string = 0;
            continue;
        }
        switch (c) {
        case '"':
            in_string = 1;
            break;
        case '[':
        case '{':
            if (++depth > max_depth)
                return i;
            break;
        case ']':
        case '}':
            if (depth > 0)        /* an unmatched close is jansson's to report */
                depth--;
            break;
        default:
            break;
        }
    }
    return (size_t)-1;
}

/* Check the error member of an error response; returns 0 when it is well formed, else
 * fills the reason and returns -1. err is borrowed. */
static int check_error_object(const json_t *err, mcpc_msg *m)
{
    const json_t *code, *message;

    if (!json_is_object(err)) {
        set_reason(m, "\"error\" must be an object, not %s", type_name(err));
        return -1;
    }
    code = json_object_get(err, "code");
    if (!code) {
        set_reason(m, "\"error\" has no \"code\"");
        return -1;
    }
    if (!json_is_integer(code)) {
        set_reason(m, "\"error.code\" must be an integer, not %s", type_name(code));
        return -1;
    }
    message = json_object_get(err, "message");
    if (!message) {
        set_reason(m, "\"error\" has no \"message\"");
        return -1;
    }
    if (!json_is_string(message)) {
        set_reason(m, "\"error.message\" must be a string, not %s", type_name(message));
        return -1;
    }
    /* "data" may be anything; other members of the error object are tolerated, since the
     * JSON-RPC spec does not forbid them and MCP does not either. */
    return 0;
}

/* Fill out from root, which must already be stored (owned) in out->root. Returns MCPC_OK or
 * MCPC_ERR_INVALID. On failure out->id is still set when the id member itself is readable
 * (a string or an integer), so the caller can address its -32600 reply. */
static mcpc_err classify_owned(mcpc_msg *out)
{
    json_t *root = out->root;
    json_t *jsonrpc, *id, *method, *params, *result, *error;
    const char *key;
    json_t *val;

    set_invalid(out, MCPC_RPC_INVALID_REQUEST);

    if (json_is_array(root)) {
        if (json_array_size(root) == 0)
            set_reason(out, "empty array: batches are not accepted");
        else
            set_reason(out, "array at top level: batches are not accepted");
        return MCPC_ERR_INVALID;
    }
    if (!json_is_object(root)) {
        set_reason(out, "top-level value must be an object, not %s", type_name(root));
        return MCPC_ERR_INVALID;
    }

    id = json_object_get(root, "id");
    if (id && (json_is_string(id) || json_is_integer(id)))
        out->id = id;

    json_object_foreach(root, key, val) {
        size_t i;
        for (i = 0; i < sizeof known_members / sizeof known_members[0]; i++)
            if (strcmp(key, known_members[i]) == 0)
                break;
        if (i == sizeof known_members / sizeof known_members[0]) {
            set_reason(out, "unknown top-level member \"%s\"", key);
            return MCPC_ERR_INVALID;
        }
    }

    jsonrpc = json_object_get(root, "jsonrpc");
    if (!jsonrpc) {
        set_reason(out, "missing \"jsonrpc\" member");
        return MCPC_ERR_INVALID;
    }
    if (!json_is_string(jsonrpc)) {
        set_reason(out, "\"jsonrpc\" must be the string \"2.0\", not %s", type_name(jsonrpc));
        return MCPC_ERR_INVALID;
    }
    /* Compare with the length: jansson strings are counted, and "2.0" must be all of it. */
    if (json_string_length(jsonrpc) != 3 || memcmp(json_string_value(jsonrpc), "2.0", 3) != 0) {
        set_reason(out, "\"jsonrpc\" is \"%s\", must be \"2.0\"", json_string_value(jsonrpc));
        return MCPC_ERR_INVALID;
    }

    /* JSON-RPC 2.0 answers an unreadable request with "id": null. MCP's schemas forbid it, but
     * it is still an error response: classify it as one and let the wire-schema check and the
     * case outcomes judge it, rather than calling it a broken message. */
    if (id && json_is_null(id) && json_object_get(root, "error") && !json_object_get(root, "method") &&
        !json_object_get(root, "result"))
        out->id = id;
    if (id && !out->id) {
        set_reason(out, "\"id\" must be a string or an integer, not %s", type_name(id));
        return MCPC_ERR_INVALID;
    }

    method = json_object_get(root, "method");
    params = json_object_get(root, "params");
    result = json_object_get(root, "result");
    error = json_object_get(root, "error");

    if (method) {
        if (!json_is_string(method)) {
            set_reason(out, "\"method\" must be a string, not %s", type_name(method));
            return MCPC_ERR_INVALID;
        }
        if (result || error) {
            set_reason(out, "a message with \"method\" must not carry \"%s\"",
                       result ? "result" : "error");
            return MCPC_ERR_INVALID;
        }
        if (params && !json_is_object(params) && !json_is_array(params)) {
            set_reason(out, "\"params\" must be an object or an array, not %s",
                       type_name(params));
            return MCPC_ERR_INVALID;
        }
        out->kind = id ? MCPC_MSG_REQUEST : MCPC_MSG_NOTIFICATION;
        out->method = json_string_value(method);
        out->params = params;
        out->rpc_code = 0;
        return MCPC_OK;
    }

    if (params) {
        set_reason(out, "\"params\" without \"method\"");
        return MCPC_ERR_INVALID;
    }
    if (result && error) {
        set_reason(out, "response carries both \"result\" and \"error\"");
        return MCPC_ERR_INVALID;
    }
    if (!result && !error) {
        set_reason(out, "no \"method\", \"result\" or \"error\"");
        return MCPC_ERR_INVALID;
    }
    if (result) {
        if (!id) {
            set_reason(out, "result response without \"id\"");
            return MCPC_ERR_INVALID;
        }
        out->kind = MCPC_MSG_RESULT;
        out->result = result;
        out->rpc_code = 0;
        return MCPC_OK;
    }
    /* An error response may omit the id (the request's id was unreadable), or carry null as
     * plain JSON-RPC does (see above). */
    if (check_error_object(error, out) != 0)
        return MCPC_ERR_INVALID;
    out->kind = MCPC_MSG_ERROR;
    out->error = error;
    out->rpc_code = 0;
    return MCPC_OK;
}

/* Parse one message. out->root becomes a new reference (NULL when the bytes are not JSON);
 * every other json_t in out is borrowed from it. */
mcpc_err mcpc_jsonrpc_parse(const char *buf, size_t len, size_t max_depth, mcpc_msg *out)
{
    json_error_t jerr;
    size_t at;

    memset(out, 0, sizeof *out);
    out->kind = MCPC_MSG_INVALID;
    out->rpc_code = MCPC_RPC_PARSE_ERROR;

    if (!buf || len == 0) {
        set_reason(out, "not JSON: empty input");
        return MCPC_ERR_PARSE;
    }
    if (max_depth == 0)
        max_depth = MCPC_JSONRPC_DEFAULT_MAX_DEPTH;
    at = depth_exceeded_at(buf, len, max_depth);
    if (at != (size_t)-1) {
        set_reason(out, "not JSON: nesting exceeds the depth bound of %zu at byte %zu",
                   max_depth, at);
        return MCPC_ERR_PARSE;
    }

    /* DECODE_ANY so that a bare scalar is "JSON but not a message" (-32600), not a parse
     * error; no ALLOW_NUL, so "\u0000" cannot truncate a C string downstream. */
    out->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!out->root) {
        if (json_error_code(&jerr) == json_error_out_of_memory) {
            out->rpc_code = MCPC_RPC_INTERNAL_ERROR;
            set_reason(out, "out of memory while parsing");
            return MCPC_ERR_NOMEM;
        }
        set_reason(out, "not JSON at byte %d: %s", jerr.position, jerr.text);
        return MCPC_ERR_PARSE;
    }
    return classify_owned(out);
}

/* Classify root, which is borrowed; out->root gets a new reference even when the value is
 * not a valid message, so mcpc_msg_clear() is always required. */
mcpc_err mcpc_jsonrpc_classify(json_t *root, mcpc_msg *out)
{
    memset(out, 0, sizeof *out);
    if (!root) {
        set_invalid(out, MCPC_RPC_INVALID_REQUEST);
        set_reason(out, "no value");
        return MCPC_ERR_INVALID;
    }
    out->root = json_incref(root);
    return classify_owned(out);
}

/* Drop the reference in m->root and zero m; everything else in m was borrowed from it. */
void mcpc_msg_clear(mcpc_msg *m)
{
    if (!m)
        return;
    json_decref(m->root);
    memset(m, 0, sizeof *m);
}

/* Start a message object holding "jsonrpc":"2.0". Returns a new reference or NULL. */
static json_t *new_message(void)
{
    json_t *msg = json_object();

    if (!msg)
        return NULL;
    if (json_object_set_new(msg, "jsonrpc", json_string("2.0")) != 0) {
        json_decref(msg);
        return NULL;
    }
    return msg;
}

/* Build a request. Returns a new reference; id and params are borrowed (params may be NULL).
 * The id type is not checked: the harness sometimes sends bad ids on purpose. */
json_t *mcpc_jsonrpc_request(json_t *id, const char *method, json_t *params)
{
    json_t *msg = NULL;

    if (!id || !method)
        return NULL;
    msg = new_message();
    if (!msg)
        goto fail;
    if (json_object_set(msg, "id", id) != 0 ||
        json_object_set_new(msg, "method", json_string(method)) != 0)
        goto fail;
    if (params && json_object_set(msg, "params", params) != 0)
        goto fail;
    return msg;
fail:
    json_decref(msg);
    return NULL;
}

/* Build a notification. Returns a new reference; params is borrowed and may be NULL. */
json_t *mcpc_jsonrpc_notification(const char *method, json_t *params)
{
    json_t *msg = NULL;

    if (!method)
        return NULL;
    msg = new_message();
    if (!msg)
        goto fail;
    if (json_object_set_new(msg, "method", json_string(method)) != 0)
        goto fail;
    if (params && json_object_set(msg, "params", params) != 0)
        goto fail;
    return msg;
fail:
    json_decref(msg);
    return NULL;
}

/* Build a result response. Returns a new reference; id and result are borrowed and both are
 * required (an empty result is an empty object, which the caller passes). */
json_t *mcpc_jsonrpc_result(json_t *id, json_t *result)
{
    json_t *msg = NULL;

    if (!id || !result)
        return NULL;
    msg = new_message();
    if (!msg)
        goto fail;
    if (json_object_set(msg, "id", id) != 0 || json_object_set(msg, "result", result) != 0)
        goto fail;
    return msg;
fail:
    json_decref(msg);
    return NULL;
}

/* Build an error response. Returns a new reference; id and data are borrowed and may be NULL.
 * A NULL id omits the member (never "id": null, which the eras we test refuse). */
json_t *mcpc_jsonrpc_error(json_t *id, int code, const char *message, json_t *data)
{
    json_t *msg = NULL, *err = NULL;

    if (!message)
        return NULL;
    msg = new_message();
    err = json_object();
    if (!msg || !err)
        goto fail;
    if (id && json_object_set(msg, "id", id) != 0)
        goto fail;
    if (json_object_set_new(err, "code", json_integer(code)) != 0 ||
        json_object_set_new(err, "message", json_string(message)) != 0)
        goto fail;
    if (data && json_object_set(err, "data", data) != 0)
        goto fail;
    if (json_object_set(msg, "error", err) != 0)
        goto fail;
    json_decref(err);
    return msg;
fail:
    json_decref(err);
    json_decref(msg);
    return NULL;
}

/* Growing output buffer for json_dump_callback, so the result is ours (malloc) even if
 * someone installed other jansson allocators. */
struct dumpbuf {
    char *p;
    size_t len, cap;
};

/* json_dump_callback sink: append size bytes; 0 on success, -1 on allocation failure. */
static int dump_sink(const char *chunk, size_t size, void *data)
{
    struct dumpbuf *b = data;

    if (size > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        while (size > cap - b->len) {
            if (cap > ((size_t)-1) / 2)
                return -1;
            cap *= 2;
        }
        char *np = realloc(b->p, cap);
        if (!np)
            return -1;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, chunk, size);
    b->len += size;
    return 0;
}

/* Serialise msg (borrowed) on one line; returns malloc'd bytes (NUL-terminated, the NUL not
 * counted in *len_out) or NULL. */
char *mcpc_jsonrpc_dump(const json_t *msg, int newline, size_t *len_out)
{
    struct dumpbuf b = { NULL, 0, 0 };

    if (len_out)
        *len_out = 0;
    if (!msg)
        return NULL;
    if (json_dump_callback(msg, dump_sink, &b, JSON_COMPACT | JSON_ENCODE_ANY) != 0)
        goto fail;
    /* JSON escapes every control character inside strings, so a raw CR or LF here would be
     * a jansson bug; framing depends on it, so refuse rather than emit a split message. */
    if (!b.p || memchr(b.p, '\n', b.len) || memchr(b.p, '\r', b.len))
        goto fail;
    if ((newline && dump_sink("\n", 1, &b) != 0) || dump_sink("", 1, &b) != 0)
        goto fail;
    b.len--;                      /* the NUL terminator is not part of the message */
    if (len_out)
        *len_out = b.len;
    return b.p;
fail:
    free(b.p);
    return NULL;
}

/* Static name of a kind; never NULL. */
const char *mcpc_msg_kind_name(mcpc_msg_kind kind)
{
    switch (kind) {
    case MCPC_MSG_INVALID: return "invalid";
    case MCPC_MSG_REQUEST: return "request";
    case MCPC_MSG_NOTIFICATION: return "notification";
    case MCPC_MSG_RESULT: return "result";
    case MCPC_MSG_ERROR: return "error";
    }
    return "unknown";
}
