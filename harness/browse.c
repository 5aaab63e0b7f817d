/* `mcpcert browse` (see browse.h). Nothing here ever reaches a non-loopback host: the URL's
 * scheme and host are checked before any request, and the HTTP client refuses a connection to
 * anything but loopback on its own (a name that resolves elsewhere included). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <jansson.h>

#include "browse.h"
#include "transport_http.h"

#define MCPC_BROWSE_MS 5000               /* the one GET: connect to answer */
#define MCPC_BROWSE_MAX_URL (64u << 10)   /* bytes of a URL recorded */
#define MCPC_BROWSE_MAX_RECORD (4u << 20) /* the record file stops growing here */

/* Lines already in the record (the new entry's seq is one more). Bounded by the file's size. */
static long mcpc_browse_count(const char *path)
{
    FILE *f = fopen(path, "r");
    long n = 0;
    int c;
    if (!f)
        return 0;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* Append entry (borrowed) as one line, in one write so that concurrent openers interleave
 * whole lines. */
static void mcpc_browse_note(const char *path, json_t *entry)
{
    char *line = json_dumps(entry, JSON_COMPACT);
    int fd;
    if (!line)
        return;
    size_t n = strlen(line);
    line[n] = '\n';
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        off_t size = lseek(fd, 0, SEEK_END);
        if (size >= 0 && (size_t)size + n + 1 <= MCPC_BROWSE_MAX_RECORD &&
            write(fd, line, n + 1) != (ssize_t)(n + 1))
            fprintf(stderr, "mcpcert browse: cannot write %s: %s\n", path, strerror(errno));
        close(fd);
    }
    free(line);
}

/* GET url (a loopback http(s) URL, checked again by the client) without following a redirect.
 * 0 with *status and *location (new string or NULL) set, -1 when no answer came. */
static int mcpc_browse_get(const char *url, long *status, char **location)
{
    mcpc_http_opts o;
    mcpc_http *h = NULL;
    char err[256];
    int rc = -1;

    *status = 0;
    *location = NULL;
    mcpc_http_opts_default(&o);
    o.allow_remote = 0;
    if (mcpc_http_new(url, &o, &h, err, sizeof err) != MCPC_OK) {
        fprintf(stderr, "mcpcert browse: %s\n", err);
        return -1;
    }
    if (mcpc_http_send_method(h, "GET", NULL, 0, MCPC_BROWSE_MS) == MCPC_OK &&
        mcpc_http_last_status(h) > 0) {
        const char *loc = mcpc_http_last_header(h, "location");
        *status = mcpc_http_last_status(h);
        *location = loc ? strdup(loc) : NULL;
        rc = 0;
    } else {
        fprintf(stderr, "mcpcert browse: no answer from %s\n", url);
    }
    mcpc_http_free(h);
    return rc;
}

/* 1 when url is http:// or https:// (a browser would load it) on a loopback host: 127.0.0.0/8,
 * [::1] or localhost, with an optional port. The HTTP client checks again, on the socket too. */
static int mcpc_browse_loopback(const char *url)
{
    char host[64];
    struct in_addr a4;
    const char *h;
    if (strncasecmp(url, "http://", 7) == 0)
        h = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        h = url + 8;
    else
        return 0;
    size_t auth = strcspn(h, "/?#"), hl;
    if (memchr(h, '@', auth))
        return 0; /* userinfo: what looks like the host may not be */
    hl = h[0] == '[' ? strcspn(h, "]/?#") + 1 : strcspn(h, ":/?#");
    if (hl >= sizeof host || hl > auth || (h[hl] && h[hl] != ':' && h[hl] != '/' && h[hl] != '?' &&
                                           h[hl] != '#'))
        return 0;
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
        return 1;
    return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

/* Open url once: record it, fetch it when allowed, print the Location. The exit status. */
static int mcpc_browse_one(const char *record, const char *url, int argc)
{
    json_t *e;
    long status = 0;
    char *location = NULL;
    int fetched = 0, code = 1;

    e = json_pack("{s:I,s:s%,s:i}", "seq", (json_int_t)mcpc_browse_count(record) + 1, "url",
                  url, strnlen(url, MCPC_BROWSE_MAX_URL), "argc", argc);
    if (!e) /* not UTF-8: kept visibly wrong rather than dropped */
        e = json_pack("{s:I,s:s,s:i}", "seq", (json_int_t)mcpc_browse_count(record) + 1, "url",
                      "(not UTF-8)", "argc", argc);
    if (mcpc_browse_loopback(url) && mcpc_browse_get(url, &status, &location) == 0)
        fetched = 1;
    if (e) {
        json_object_set_new(e, "fetched", json_boolean(fetched));
        if (fetched)
            json_object_set_new(e, "status", json_integer(status));
        if (location)
            json_object_set_new(e, "location", json_string(location));
        mcpc_browse_note(record, e);
        json_decref(e);
    }
    if (fetched && status >= 300 && status < 400 && location) {
        printf("%s\n", location);
        code = 0;
    }
    free(location);
    return code;
}

int mcpc_browse_cmd(int argc, char **argv)
{
    const char *record = NULL, *url = NULL;
    int urls = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--record") == 0 && i + 1 < argc && !record) {
            record = argv[++i];
        } else {
            /* the URL is the last argument; any other is counted (a client that split the URL
             * or added arguments of its own shows up in argc) */
            url = argv[i];
            urls++;
        }
    }
    if (!record || !url) {
        fprintf(stderr, "usage: mcpcert browse --record FILE URL\n");
        return 2;
    }
    return mcpc_browse_one(record, url, urls);
}

int mcpc_browse_env_cmd(int argc, char **argv)
{
    const char *record = getenv(MCPC_BROWSE_RECORD_ENV);
    int code = 1;
    if (!record || !*record || argc < 2) {
        fprintf(stderr, "%s: needs $%s and a URL\n", MCPC_BROWSE_LINK, MCPC_BROWSE_RECORD_ENV);
        return 2;
    }
    for (int i = 1; i < argc; i++)
        code = mcpc_browse_one(record, argv[i], argc - 1);
    return code;
}
