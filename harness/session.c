/* Sessions in both eras over the stdio transport. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "session.h"
#include "wire.h"

#define MCPC_CLIENT_NAME "mcpcert"
#define MCPC_CLIENT_VERSION "0.1.0"

static const char *const mcpc_era_names[MCPC_ERA__COUNT] = {"2025-11-25", "2026-07-28"};

const char *mcpc_era_name(mcpc_era era)
{
    return era < MCPC_ERA__COUNT ? mcpc_era_names[era] : "?";
}

int mcpc_era_parse(const char *name, mcpc_era *era)
{
    for (int i = 0; i < MCPC_ERA__COUNT; i++) {
        if (name && strcmp(name, mcpc_era_names[i]) == 0) {
            *era = (mcpc_era)i;
            return 0;
        }
    }
    return -1;
}

void mcpc_session_init(mcpc_session *s, mcpc_conn *conn, mcpc_transcript *tr, mcpc_era era,
                       int timeout_ms)
{
    memset(s, 0, sizeof *s);
    s->conn = conn;
    s->tr = tr;
    s->era = era;
    s->timeout_ms = timeout_ms;
    s->next_id = 1;
    s->pending = json_object();
}

void mcpc_session_clear(mcpc_session *s)
{
    json_decref(s->open_result);
    json_decref(s->pending);
    s->open_result = s->pending = NULL;
}

/* The transport's own account of its last failure, or NULL when it has none. */
static const char *mcpc_session_detail(const mcpc_session *s)
{
    const char *d = s->conn->ops->detail ? s->conn->ops->detail(s->conn) : NULL;
    return d && *d ? d : NULL;
}

mcpc_err mcpc_session_send_raw(mcpc_session *s, const char *bytes, size_t len)
{
    size_t body = len && bytes[len - 1] == '\n' ? len - 1 : len;
    mcpc_transcript_add(s->tr, "send", bytes, body);
    /* a stdio message ends with its newline; an HTTP body is just the message */
    mcpc_err rc = s->conn->ops->send(s->conn, bytes, strcmp(s->conn->transport, "http") == 0 ? body : len,
                                     s->timeout_ms);
    if (rc != MCPC_OK) {
        /* over HTTP a send fails on the answer's headers, which the transport can describe */
        const char *d = mcpc_session_detail(s);
        snprintf(s->error, sizeof s->error, "%s%s", d ? "" : "writing to the implementation: ",
                 d ? d : mcpc_strerror(rc));
    }
    return rc;
}

mcpc_err mcpc_session_send(mcpc_session *s, const json_t *msg)
{
    size_t len;
    char *line = mcpc_jsonrpc_dump(msg, 1, &len);
    if (!line)
        return MCPC_ERR_NOMEM;
    mcpc_err rc = mcpc_session_send_raw(s, line, len);
    free(line);
    return rc;
}

/* New reference: the modern per-request _meta. */
static json_t *mcpc_session_meta(void)
{
    return json_pack("{s:s,s:{},s:{s:s,s:s}}", MCPC_META_VERSION, mcpc_era_names[MCPC_ERA_2026_07_28],
                     MCPC_META_CLIENT_CAPS, MCPC_META_CLIENT_INFO, "name", MCPC_CLIENT_NAME,
                     "version", MCPC_CLIENT_VERSION);
}

json_t *mcpc_session_params(mcpc_session *s, const json_t *params, int with_meta)
{
    json_t *p = params ? json_deep_copy(params) : json_object();
    if (!p)
        return NULL;
    if (with_meta && s->era == MCPC_ERA_2026_07_28 && json_is_object(p)) {
        json_t *meta = json_object_get(p, "_meta");
        json_t *add = mcpc_session_meta();
        if (!add) {
            json_decref(p);
            return NULL;
        }
        if (json_is_object(meta))
            json_object_update_missing(meta, add); /* a case's own _meta keys win */
        else
            json_object_set(p, "_meta", add);
        json_decref(add);
    }
    return p;
}

mcpc_err mcpc_session_request(mcpc_session *s, const char *method, const json_t *params,
                              int with_meta, json_t *id, json_t **sent_id)
{
    mcpc_err rc = MCPC_ERR_NOMEM;
    json_t *p = NULL, *msg = NULL, *use_id = id ? json_incref(id) : json_integer(s->next_id++);
    if (!use_id)
        goto out;
    p = mcpc_session_params(s, params, with_meta);
    if (!p)
        goto out;
    msg = mcpc_jsonrpc_request(use_id, method, p);
    if (!msg)
        goto out;
    rc = mcpc_session_send(s, msg);
    if (rc == MCPC_OK) {
        /* remember what each id asked, so its result is checked against the right schema */
        char *key = json_dumps(use_id, JSON_ENCODE_ANY | JSON_COMPACT);
        if (key && json_object_size(s->pending) < 1024)
            json_object_set_new(s->pending, key, json_string(method));
        free(key);
    }
    if (rc == MCPC_OK && sent_id) {
        *sent_id = use_id;
        use_id = NULL;
    }
out:
    json_decref(use_id);
    json_decref(p);
    json_decref(msg);
    return rc;
}

/* Does a stdout line look like an attempt at JSON (first non-blank byte '{' or '[')? */
static int mcpc_session_jsonish(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')
            continue;
        return line[i] == '{' || line[i] == '[';
    }
    return 0;
}

/* Check a received message against the era's official schema; count and note violations. */
static void mcpc_session_wire(mcpc_session *s, const mcpc_msg *m)
{
    char why[400], *key = NULL;
    const char *method = NULL;
    json_t *entry = NULL;
    if ((m->kind == MCPC_MSG_RESULT || m->kind == MCPC_MSG_ERROR) && m->id &&
        (key = json_dumps(m->id, JSON_ENCODE_ANY | JSON_COMPACT)) != NULL) {
        entry = json_incref(json_object_get(s->pending, key));
        json_object_del(s->pending, key);
        method = json_string_value(entry);
    }
    if (s->wire && mcpc_wire_check(s->wire, m, method, why, sizeof why)) {
        if (s->wire_violations++ == 0)
            snprintf(s->wire_first, sizeof s->wire_first, "%s", why);
        mcpc_transcript_note(s->tr, "wire-schema violation: %s", why);
    }
    json_decref(entry);
    free(key);
}

mcpc_err mcpc_session_recv(mcpc_session *s, unsigned kinds_mask, int timeout_ms, mcpc_msg *out)
{
    int64_t deadline = mcpc_clock_ms() + timeout_ms;
    memset(out, 0, sizeof *out);
    for (;;) {
        const char *line;
        size_t len;
        mcpc_err rc = s->conn->ops->recv(s->conn, mcpc_clock_left(deadline), &line, &len);
        const char *d = rc != MCPC_OK ? mcpc_session_detail(s) : NULL;
        if (rc == MCPC_ERR_TOO_BIG) {
            if (d) {
                snprintf(s->error, sizeof s->error, "%s", d);
            } else if (s->conn->ops->flooded(s->conn)) {
                snprintf(s->error, sizeof s->error,
                         "flood: more than the bound of bytes arrived (%zu bytes)",
                         s->conn->ops->received(s->conn));
            } else {
                snprintf(s->error, sizeof s->error, "a message of %zu bytes exceeds the size bound", len);
            }
            mcpc_transcript_note(s->tr, "%s", s->error);
            return rc;
        }
        if (rc == MCPC_ERR_EOF) {
            if (len)
                mcpc_transcript_add(s->tr, "recv", line, len);
            if (d)
                snprintf(s->error, sizeof s->error, "%s", d);
            else
                snprintf(s->error, sizeof s->error, "stdout closed%s",
                         len ? " in the middle of a message" : "");
            return rc;
        }
        if (rc == MCPC_ERR_TIMEOUT) {
            snprintf(s->error, sizeof s->error, "nothing arrived within %d ms%s%s", timeout_ms,
                     d ? ": " : "", d ? d : "");
            return rc;
        }
        if (rc != MCPC_OK) {
            snprintf(s->error, sizeof s->error, "%s", d ? d : mcpc_strerror(rc));
            mcpc_transcript_note(s->tr, "%s", s->error);
            return rc;
        }
        mcpc_transcript_add(s->tr, "recv", line, len);
        if (!mcpc_session_jsonish(line, len)) {
            if (s->noise++ == 0) {
                char *t = mcpc_text_printable(line, len, 100);
                snprintf(s->noise_sample, sizeof s->noise_sample, "%s", t ? t : "");
                free(t);
            }
            continue;
        }
        mcpc_err prc = mcpc_jsonrpc_parse(line, len, 0, out);
        if (prc != MCPC_OK) {
            s->malformed++;
            snprintf(s->error, sizeof s->error, "malformed message: %s", out->reason);
            return prc;
        }
        mcpc_session_wire(s, out);
        if (out->kind == MCPC_MSG_REQUEST) {
            s->server_requests++;
            /* We declare no client capabilities, so refuse what the server asks, as any client
             * would; otherwise a server awaiting an answer stalls the tool call it came from. */
            if (!(kinds_mask & (1u << out->kind)) && out->id) {
                json_t *e = mcpc_jsonrpc_error(out->id, MCPC_RPC_METHOD_NOT_FOUND,
                                               "mcpcert offers no client capabilities", NULL);
                if (e)
                    mcpc_session_send(s, e);
                json_decref(e);
            }
        }
        if (kinds_mask & (1u << out->kind))
            return MCPC_OK;
        s->set_aside++;
        mcpc_msg_clear(out);
    }
}

mcpc_err mcpc_session_call(mcpc_session *s, const char *method, const json_t *params,
                           json_t **response)
{
    json_t *id = NULL;
    mcpc_msg m;
    int64_t deadline;
    mcpc_err rc = mcpc_session_request(s, method, params, 1, NULL, &id);
    *response = NULL;
    if (rc != MCPC_OK)
        return rc;
    deadline = mcpc_clock_ms() + s->timeout_ms;
    for (;;) {
        rc = mcpc_session_recv(s, MCPC_KINDS_RESPONSE, mcpc_clock_left(deadline), &m);
        if (rc != MCPC_OK)
            break;
        if (m.id && json_equal(m.id, id)) {
            *response = json_incref(m.root);
            mcpc_msg_clear(&m);
            break;
        }
        /* a response to something else: keep it for the record, keep waiting */
        s->set_aside++;
        mcpc_msg_clear(&m);
    }
    json_decref(id);
    return rc;
}

mcpc_err mcpc_session_open(mcpc_session *s)
{
    json_t *params = NULL, *resp = NULL, *note = NULL;
    const char *method;
    mcpc_err rc;

    if (s->era == MCPC_ERA_2025_11_25) {
        method = "initialize";
        params = json_pack("{s:s,s:{},s:{s:s,s:s}}", "protocolVersion",
                           mcpc_era_names[MCPC_ERA_2025_11_25], "capabilities", "clientInfo", "name",
                           MCPC_CLIENT_NAME, "version", MCPC_CLIENT_VERSION);
    } else {
        method = "server/discover";
        params = json_object();
    }
    if (!params)
        return MCPC_ERR_NOMEM;
    rc = mcpc_session_call(s, method, params, &resp);
    if (rc != MCPC_OK) {
        char why[200];
        snprintf(why, sizeof why, "%.199s", s->error);
        snprintf(s->error, sizeof s->error, "%s failed: %.200s", method, why);
        goto out;
    }
    json_t *result = json_object_get(resp, "result");
    if (!json_is_object(result)) {
        json_t *err = json_object_get(resp, "error");
        snprintf(s->error, sizeof s->error, "%s answered with an error (code %lld: %.120s)", method,
                 (long long)json_integer_value(json_object_get(err, "code")),
                 json_string_value(json_object_get(err, "message")) ?
                     json_string_value(json_object_get(err, "message")) : "");
        rc = MCPC_ERR_PROTOCOL;
        goto out;
    }
    s->open_result = json_incref(result);
    if (s->era == MCPC_ERA_2025_11_25) {
        const char *v = json_string_value(json_object_get(result, "protocolVersion"));
        if (!v || strcmp(v, mcpc_era_names[MCPC_ERA_2025_11_25]) != 0) {
            snprintf(s->error, sizeof s->error,
                     "initialize: server chose protocol version %.40s, not 2025-11-25", v ? v : "(none)");
            rc = MCPC_ERR_UNSUPPORTED;
            goto out;
        }
        note = mcpc_jsonrpc_notification("notifications/initialized", NULL);
        rc = note ? mcpc_session_send(s, note) : MCPC_ERR_NOMEM;
    }
out:
    json_decref(params);
    json_decref(resp);
    json_decref(note);
    return rc;
}
