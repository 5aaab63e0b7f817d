/* `mcpcert serve CASE-ID --spec-version ERA --record FILE [--nonce N]`: the client role's mock
 * server over stdio. A client under test launches it as its MCP server; it answers on stdout
 * from the case's scenario and appends every message the client sent to FILE, one JSON record
 * per line, flushed at once so that a client that kills it loses nothing. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "case.h"
#include "clock.h"
#include "jsonrpc.h"
#include "mock_server.h"
#include "serve.h"

#define MCPC_SERVE_MAX_LINE (4u << 20)     /* a longer line is recorded as invalid and skipped */
#define MCPC_SERVE_MAX_RECORD (32u << 20)  /* bytes written to the record file, at most */
#define MCPC_SERVE_IDLE_MS 120000          /* no input for this long: the client is gone */

typedef struct {
    mcpc_mock *mock;
    FILE *rec;
    size_t written_entries;
    size_t written_bytes;
} mcpc_serve;

/* Append the record entries not yet written. */
static void mcpc_serve_flush_record(mcpc_serve *sv)
{
    json_t *rec = mcpc_mock_record(sv->mock);
    while (sv->written_entries < json_array_size(rec)) {
        char *line = json_dumps(json_array_get(rec, sv->written_entries++), JSON_COMPACT);
        if (!line)
            continue;
        size_t n = strlen(line);
        if (sv->written_bytes + n + 1 <= MCPC_SERVE_MAX_RECORD) {
            fprintf(sv->rec, "%s\n", line);
            sv->written_bytes += n + 1;
        }
        free(line);
    }
    fflush(sv->rec);
}

/* Write all of buf to stdout; -1 when the client has gone. */
static int mcpc_serve_write(const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(STDOUT_FILENO, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One complete line from the client. -1 when stdout is gone. */
static int mcpc_serve_line(mcpc_serve *sv, const char *line, size_t len)
{
    mcpc_mock_answer ans;
    int rc = 0;
    if (len && line[len - 1] == '\r')
        len--; /* tolerate CRLF framing; the record keeps the message without it */
    if (mcpc_mock_handle(sv->mock, line, len, NULL, &ans) != MCPC_OK)
        return 0;
    mcpc_serve_flush_record(sv);
    if (ans.reply) {
        size_t n;
        char *out = mcpc_jsonrpc_dump(ans.reply, 1, &n);
        if (out)
            rc = mcpc_serve_write(out, n);
        free(out);
        json_decref(ans.reply);
    }
    return rc;
}

/* Read stdin to EOF, answering line by line. */
static void mcpc_serve_loop(mcpc_serve *sv)
{
    char *buf = malloc(MCPC_SERVE_MAX_LINE + 1);
    size_t have = 0;
    int skipping = 0;
    if (!buf)
        return;
    for (;;) {
        struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
        int pr = poll(&p, 1, MCPC_SERVE_IDLE_MS);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            break;
        ssize_t n = read(STDIN_FILENO, buf + have, MCPC_SERVE_MAX_LINE - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
        size_t start = 0;
        for (size_t i = have - (size_t)n; i < have; i++) {
            if (buf[i] != '\n')
                continue;
            if (!skipping && mcpc_serve_line(sv, buf + start, i - start) != 0)
                goto out;
            skipping = 0;
            start = i + 1;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (have == MCPC_SERVE_MAX_LINE) {
            /* over-long line: judged as what it is (not a message), the rest of it skipped */
            if (!skipping)
                mcpc_serve_line(sv, "(line over 4 MiB)", 17);
            skipping = 1;
            have = 0;
        }
    }
    if (have && !skipping)
        mcpc_serve_line(sv, buf, have); /* an unterminated last message is still recorded */
out:
    free(buf);
}

int mcpc_serve_cmd(int argc, char **argv, const char *data_dir)
{
    char cases_dir[4096];
    const char *id = NULL, *era_name = "2026-07-28", *record = NULL, *nonce = "";
    mcpc_case_set set = {0};
    mcpc_serve sv = {0};
    mcpc_era era;
    char err[512];
    int code = 2;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--spec-version") == 0 && i + 1 < argc)
            era_name = argv[++i];
        else if (strcmp(argv[i], "--record") == 0 && i + 1 < argc)
            record = argv[++i];
        else if (strcmp(argv[i], "--nonce") == 0 && i + 1 < argc)
            nonce = argv[++i];
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data_dir = argv[++i];
        else if (argv[i][0] != '-' && !id)
            id = argv[i];
        else {
            fprintf(stderr, "mcpcert serve: unexpected argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!id || !record || mcpc_era_parse(era_name, &era) != 0) {
        fprintf(stderr, "usage: mcpcert serve CASE-ID --record FILE [--spec-version ERA] [--nonce N] [--data DIR]\n");
        return 2;
    }
    snprintf(cases_dir, sizeof cases_dir, "%s/cases", data_dir);
    if (mcpc_case_load_dir(cases_dir, &set, err, sizeof err) != MCPC_OK) {
        fprintf(stderr, "mcpcert serve: %s\n", err);
        return 2;
    }
    const mcpc_case *c = mcpc_case_find(&set, id);
    if (!c || !mcpc_json_strarray_has(c->roles, "client")) {
        fprintf(stderr, "mcpcert serve: %s is not a client-role case\n", id);
        goto out;
    }
    if (mcpc_mock_new(json_object_get(c->doc, "scenario"), era, nonce, &sv.mock, err, sizeof err) != MCPC_OK) {
        fprintf(stderr, "mcpcert serve: %s: %s\n", id, err);
        goto out;
    }
    sv.rec = fopen(record, "a");
    if (!sv.rec) {
        fprintf(stderr, "mcpcert serve: cannot write %s: %s\n", record, strerror(errno));
        goto out;
    }
    mcpc_serve_loop(&sv);
    mcpc_serve_flush_record(&sv);
    code = 0;
out:
    if (sv.rec)
        fclose(sv.rec);
    mcpc_mock_free(sv.mock);
    mcpc_case_set_free(&set);
    return code;
}
