/* refserver's outbound HTTP: one bounded libcurl exchange with a loopback server (the JWKS,
 * the authorization server's metadata and token endpoint, the mock upstream API).
 *
 * Everything the reference server fetches is played by mcpcert on this machine, so anything
 * else is refused twice: the URL's host must be a loopback name or address, and the socket
 * curl opens must connect to a loopback address (a name that resolves elsewhere is caught
 * there). Only plain http, no redirects, no proxies from the environment, no decompression,
 * deadlines on connecting and on the whole exchange, and a cap on the body kept. */
#include "refserver_auth.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define CONNECT_TIMEOUT_MS 2000L
#define TOTAL_TIMEOUT_MS 5000L

/* The body being received. */
struct sink {
    char *p;                       /* owned */
    size_t len, cap, max;
    bool over;                     /* more than max arrived: the exchange is aborted */
};

/* printf into err (when errlen > 0). */

mcpc_err mcpc_ref_fetch_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? MCPC_OK : MCPC_ERR_IO;
}

/* 1 if an IPv6 address is loopback, or an IPv4-mapped loopback address. */
static int v6_loopback(const struct in6_addr *a)
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    if (IN6_IS_ADDR_LOOPBACK(a))
        return 1;
    return memcmp(a->s6_addr, mapped, sizeof mapped) == 0 && a->s6_addr[12] == 127;
}

/* 1 if host (as curl_url gives it: IPv6 in brackets) names this machine. */
static int host_is_loopback(const char *host)
{
    struct in_addr v4;
    struct in6_addr v6;
    char inner[64];
    size_t n = strlen(host);

    if (strcasecmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (n > 2 && n - 2 < sizeof inner && host[0] == '[' && host[n - 1] == ']') {
        memcpy(inner, host + 1, n - 2);
        inner[n - 2] = '\0';
        return inet_pton(AF_INET6, inner, &v6) == 1 && v6_loopback(&v6);
    }
    return 0;
}

mcpc_err mcpc_ref_url_check(const char *url, char *err, size_t errlen)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    mcpc_err rc = MCPC_ERR_USAGE;

    if (!u)
        return MCPC_ERR_NOMEM;
    if (!url || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        mcpc_ref_say(err, errlen, "'%.200s' is not a URL", url ? url : "(null)");
        goto out;
    }
    if (strcasecmp(scheme, "http") != 0) {
        mcpc_ref_say(err, errlen, "'%.200s': only http:// on loopback is fetched", url);
        goto out;
    }
    if (!host_is_loopback(host)) {
        mcpc_ref_say(err, errlen, "'%.200s': the host is not a loopback address", url);
        goto out;
    }
    rc = MCPC_OK;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

/* CURLOPT_OPENSOCKETFUNCTION: refuse any address that is not loopback. */
static curl_socket_t open_loopback(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    const struct sockaddr *sa = &a->addr;
    int ok = 0;

    (void)clientp;
    (void)purpose;
    if (sa->sa_family == AF_INET)
        ok = (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
    else if (sa->sa_family == AF_INET6)
        ok = v6_loopback(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
    if (!ok)
        return CURL_SOCKET_BAD;
    return socket(a->family, a->socktype, a->protocol);
}

/* CURLOPT_WRITEFUNCTION: keep at most sink->max bytes; past that, abort the transfer. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct sink *s = ctx;
    size_t n = size * nmemb;

    if (n > s->max - s->len) {
        s->over = true;
        return 0;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        char *np;
        while (cap < s->len + n + 1)
            cap *= 2;
        if (!(np = realloc(s->p, cap)))
            return 0;
        s->p = np;
        s->cap = cap;
    }
    memcpy(s->p + s->len, data, n);
    s->len += n;
    s->p[s->len] = '\0';
    return n;
}

mcpc_err mcpc_ref_fetch(const char *url, const char *post_body, const char *const *headers,
                        size_t n_headers, size_t max, struct mcpc_ref_fetched *out, char *err,
                        size_t errlen)
{
    struct sink sink = { NULL, 0, 0, max, false };
    struct curl_slist *hl = NULL, *grown;
    CURL *e = NULL;
    CURLcode cc;
    mcpc_err rc;

    memset(out, 0, sizeof *out);
    if ((rc = mcpc_ref_url_check(url, err, errlen)) != MCPC_OK)
        return rc;
    rc = MCPC_ERR_NOMEM;
    for (size_t i = 0; i < n_headers; i++) {
        if (!(grown = curl_slist_append(hl, headers[i])))
            goto out;
        hl = grown;
    }
    /* curl would otherwise add "Expect: 100-continue" to larger POSTs and wait for it */
    if (!(grown = curl_slist_append(hl, "Expect:")))
        goto out;
    hl = grown;
    if (!(e = curl_easy_init()))
        goto out;
    rc = MCPC_ERR_IO;
    if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_NOPROXY, "*") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, TOTAL_TIMEOUT_MS) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_loopback) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &sink) != CURLE_OK) {
        mcpc_ref_say(err, errlen, "libcurl refused an option");
        goto out;
    }
    if (post_body &&
        (curl_easy_setopt(e, CURLOPT_POSTFIELDS, post_body) != CURLE_OK ||
         curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(post_body)) != CURLE_OK)) {
        mcpc_ref_say(err, errlen, "libcurl refused the POST body");
        goto out;
    }
    cc = curl_easy_perform(e);
    if (sink.over) {
        mcpc_ref_say(err, errlen, "%.200s: the answer is over %zu bytes", url, max);
        rc = MCPC_ERR_TOO_BIG;
        goto out;
    }
    if (cc != CURLE_OK) {
        mcpc_ref_say(err, errlen, "%.200s: %s", url, curl_easy_strerror(cc));
        rc = cc == CURLE_OPERATION_TIMEDOUT ? MCPC_ERR_TIMEOUT : MCPC_ERR_IO;
        goto out;
    }
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out->status);
    if (!sink.p && !(sink.p = calloc(1, 1))) {
        rc = MCPC_ERR_NOMEM;
        goto out;
    }
    out->body = sink.p;
    out->len = sink.len;
    sink.p = NULL;
    rc = MCPC_OK;
out:
    free(sink.p);
    curl_slist_free_all(hl);
    if (e)
        curl_easy_cleanup(e);
    return rc;
}

void mcpc_ref_fetched_clear(struct mcpc_ref_fetched *f)
{
    free(f->body);
    memset(f, 0, sizeof *f);
}

char *mcpc_ref_form_escape(const char *s)
{
    CURL *e = curl_easy_init();
    char *esc, *copy = NULL;

    if (!e)
        return NULL;
    /* curl_easy_escape keeps only RFC 3986 unreserved characters: valid form encoding */
    if ((esc = curl_easy_escape(e, s, 0))) {
        copy = strdup(esc);
        curl_free(esc);
    }
    curl_easy_cleanup(e);
    return copy;
}
