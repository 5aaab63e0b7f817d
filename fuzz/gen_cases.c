/* Seeds from our case files: each file itself is a case seed, and what its steps put on the
 * wire becomes a JSON-RPC seed: request and notify steps, pipelined and HTTP requests (as the
 * message they build), raw sends (their bytes, text or hex) and any embedded message. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gen_corpus.h"

#define GEN_CASE_MAX_BYTES (1u << 20)
#define GEN_CASE_MAX_DEPTH 8

/* Decode a hex string into a malloc'd buffer; NULL when it is not even-length hex. */
static unsigned char *gen_unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    unsigned char *out;

    if (strlen(hex) % 2)
        return NULL;
    out = malloc(n ? n : 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned hi, lo;
        if (sscanf(hex + 2 * i, "%1x%1x", &hi, &lo) != 2) {
            free(out);
            return NULL;
        }
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    *len = n;
    return out;
}

/* The message a request-like object (borrowed) describes, as the runner would build it; a new
 * reference. id_default is used when the object has no "id". */
static json_t *gen_message_of(const json_t *st, int notify, json_int_t id_default)
{
    json_t *msg = json_pack("{s:s,s:O}", "jsonrpc", "2.0", "method", json_object_get(st, "method"));
    json_t *id = json_object_get(st, "id"), *params = json_object_get(st, "params");

    if (!msg)
        return NULL;
    if (!notify)
        json_object_set_new(msg, "id", id ? json_deep_copy(id) : json_integer(id_default));
    if (params)
        json_object_set(msg, "params", params);
    return msg;
}

/* Seeds from one step (borrowed); seq numbers the requests of the file. */
static void gen_step(gen_out *o, const json_t *st, const gen_spec *sp, json_int_t *seq)
{
    const char *kind = json_string_value(json_object_get(st, "do"));
    json_t *msg = NULL, *r;
    size_t i;

    if (!kind)
        return;
    if (!strcmp(kind, "send_raw")) {
        const char *data = json_string_value(json_object_get(st, "data"));
        const char *hex = json_string_value(json_object_get(st, "hex"));
        size_t n = 0;
        unsigned char *bytes = hex ? gen_unhex(hex, &n) : NULL;
        if (data)
            gen_put(o, GEN_JSONRPC, data, strlen(data));
        if (bytes)
            gen_put(o, GEN_JSONRPC, bytes, n);
        free(bytes);
        return;
    }
    if (!strcmp(kind, "pipeline")) {
        json_array_foreach(json_object_get(st, "requests"), i, r) {
            msg = gen_message_of(r, 0, ++*seq);
            if (msg) {
                gen_put_json(o, GEN_JSONRPC, msg);
                gen_spec_pair_message(o, sp, msg);
            }
            json_decref(msg);
        }
        return;
    }
    if (!strcmp(kind, "http_request") && json_is_string(json_object_get(st, "body"))) {
        const char *body = json_string_value(json_object_get(st, "body"));
        gen_put(o, GEN_JSONRPC, body, strlen(body));
        return;
    }
    if (!json_is_string(json_object_get(st, "method")))
        return;
    if (!strcmp(kind, "request") || !strcmp(kind, "http_request"))
        msg = gen_message_of(st, json_is_true(json_object_get(st, "notification")), ++*seq);
    else if (!strcmp(kind, "notify"))
        msg = gen_message_of(st, 1, 0);
    if (msg) {
        gen_put_json(o, GEN_JSONRPC, msg);
        gen_spec_pair_message(o, sp, msg);
    }
    json_decref(msg);
}

/* Any object below v (borrowed) that carries "jsonrpc" is a message someone wrote down. */
static void gen_embedded(gen_out *o, const json_t *v, int depth)
{
    const char *key;
    json_t *sub;
    size_t i;

    if (depth > 32)
        return;
    if (json_is_object(v) && json_object_get(v, "jsonrpc") && depth > 0)
        gen_put_json(o, GEN_JSONRPC, v);
    if (json_is_array(v))
        json_array_foreach((json_t *)v, i, sub) gen_embedded(o, sub, depth + 1);
    else
        json_object_foreach((json_t *)v, key, sub) gen_embedded(o, sub, depth + 1);
}

/* One case file: 1 when read. */
static int gen_case_file(gen_out *o, const char *path, const gen_spec *sp)
{
    size_t len = 0, i;
    char *text = gen_read_file(path, GEN_CASE_MAX_BYTES, &len);
    json_t *doc = NULL, *st;
    json_int_t seq = 0;

    if (!text) {
        fprintf(stderr, "gen_corpus: cannot read %s\n", path);
        return 0;
    }
    gen_put(o, GEN_CASE, text, len);
    doc = json_loadb(text, len, 0, NULL);
    json_array_foreach(json_object_get(doc, "steps"), i, st) gen_step(o, st, sp, &seq);
    gen_embedded(o, doc, 0);
    json_decref(doc);
    free(text);
    return 1;
}

/* Every *.json below dir, to a bounded depth. */
static size_t gen_case_walk(gen_out *o, const char *dir, const gen_spec *sp, int depth)
{
    DIR *d;
    struct dirent *e;
    size_t files = 0;

    if (depth > GEN_CASE_MAX_DEPTH || (d = opendir(dir)) == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char path[2200];
        struct stat st;
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.')
            continue;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path ||
            stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            files += gen_case_walk(o, path, sp, depth + 1);
        else if (len > 5 && !strcmp(e->d_name + len - 5, ".json"))
            files += (size_t)gen_case_file(o, path, sp);
    }
    closedir(d);
    return files;
}

size_t gen_case_seeds(gen_out *o, const char *dir, const gen_spec *sp)
{
    return gen_case_walk(o, dir, sp, 0);
}
