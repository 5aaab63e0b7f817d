/* Injection-marker scan with PCRE2 (match-limited) and a hidden-code-point check. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inject.h"

#define MCPC_INJECT_MAX_PATTERNS 64
#define MCPC_INJECT_MAX_DEPTH 32

struct mcpc_inject {
    pcre2_code *re[MCPC_INJECT_MAX_PATTERNS];
    char *src[MCPC_INJECT_MAX_PATTERNS];
    size_t n;
    int invisible;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
};

mcpc_err mcpc_inject_new(json_t *patterns, int invisible, mcpc_inject **out, char *err, size_t errlen)
{
    size_t i;
    json_t *p;
    mcpc_inject *inj = calloc(1, sizeof *inj);
    *out = NULL;
    if (!inj)
        return MCPC_ERR_NOMEM;
    inj->invisible = invisible;
    inj->md = pcre2_match_data_create(4, NULL);
    inj->mctx = pcre2_match_context_create(NULL);
    if (!inj->md || !inj->mctx)
        goto nomem;
    /* a hostile description must not make the scan itself slow */
    pcre2_set_match_limit(inj->mctx, 100000);
    pcre2_set_depth_limit(inj->mctx, 1000);
    json_array_foreach(patterns, i, p) {
        int ec;
        PCRE2_SIZE eo;
        if (inj->n >= MCPC_INJECT_MAX_PATTERNS || !json_is_string(p)) {
            snprintf(err, errlen, "patterns: at most %d strings", MCPC_INJECT_MAX_PATTERNS);
            mcpc_inject_free(inj);
            return MCPC_ERR_CASE;
        }
        inj->re[inj->n] = pcre2_compile((PCRE2_SPTR)json_string_value(p), json_string_length(p),
                                        PCRE2_CASELESS | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec,
                                        &eo, NULL);
        if (!inj->re[inj->n]) {
            PCRE2_UCHAR msg[120];
            pcre2_get_error_message(ec, msg, sizeof msg);
            snprintf(err, errlen, "pattern %zu at offset %zu: %s", i, (size_t)eo, (char *)msg);
            mcpc_inject_free(inj);
            return MCPC_ERR_CASE;
        }
        inj->src[inj->n] = strdup(json_string_value(p));
        if (!inj->src[inj->n++])
            goto nomem;
    }
    *out = inj;
    return MCPC_OK;
nomem:
    mcpc_inject_free(inj);
    return MCPC_ERR_NOMEM;
}

void mcpc_inject_free(mcpc_inject *inj)
{
    if (!inj)
        return;
    for (size_t i = 0; i < inj->n; i++) {
        pcre2_code_free(inj->re[i]);
        free(inj->src[i]);
    }
    pcre2_match_data_free(inj->md);
    pcre2_match_context_free(inj->mctx);
    free(inj);
}

/* Name of a hidden code point, or NULL when cp is harmless. */
static const char *mcpc_inject_hidden(unsigned cp)
{
    if (cp >= 0xE0000 && cp <= 0xE007F)
        return "Unicode tag character";
    if (cp == 0x200B || cp == 0x200C || cp == 0x200D || cp == 0x2060 || cp == 0xFEFF)
        return "zero-width character";
    if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
        cp == 0x200F)
        return "bidirectional control";
    if (cp == 0x1B)
        return "terminal escape (ESC)";
    return NULL;
}

/* Scan one UTF-8 string for hidden code points. */
static const char *mcpc_inject_hidden_scan(const char *s, size_t n, unsigned *cp_out)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i], cp;
        size_t len;
        if (c < 0x80) { cp = c; len = 1; }
        else if ((c & 0xe0) == 0xc0 && i + 1 < n) { cp = ((c & 0x1f) << 6) | (p[i + 1] & 0x3f); len = 2; }
        else if ((c & 0xf0) == 0xe0 && i + 2 < n) {
            cp = ((c & 0x0f) << 12) | ((p[i + 1] & 0x3f) << 6) | (p[i + 2] & 0x3f);
            len = 3;
        } else if ((c & 0xf8) == 0xf0 && i + 3 < n) {
            cp = ((c & 0x07) << 18) | ((p[i + 1] & 0x3f) << 12) | ((p[i + 2] & 0x3f) << 6) |
                 (p[i + 3] & 0x3f);
            len = 4;
        } else { i++; continue; }
        const char *name = mcpc_inject_hidden(cp);
        if (name) {
            *cp_out = cp;
            return name;
        }
        i += len;
    }
    return NULL;
}

static int mcpc_inject_string(mcpc_inject *inj, const char *where, const char *s, size_t n,
                              char *what, size_t whatlen)
{
    unsigned cp = 0;
    if (inj->invisible) {
        const char *name = mcpc_inject_hidden_scan(s, n, &cp);
        if (name) {
            snprintf(what, whatlen, "%s: %s U+%04X", where, name, cp);
            return 1;
        }
    }
    for (size_t i = 0; i < inj->n; i++) {
        int rc = pcre2_match(inj->re[i], (PCRE2_SPTR)s, n, 0, 0, inj->md, inj->mctx);
        if (rc > 0) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(inj->md);
            snprintf(what, whatlen, "%s: text \"%.*s\" matches injection pattern /%s/", where,
                     (int)(ov[1] - ov[0] > 80 ? 80 : ov[1] - ov[0]), s + ov[0], inj->src[i]);
            return 1;
        }
        if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT) {
            snprintf(what, whatlen, "%s: text too costly to scan (regex match limit reached)", where);
            return 1;
        }
    }
    return 0;
}

static int mcpc_inject_walk(mcpc_inject *inj, json_t *v, char *where, size_t wlen, size_t wused,
                            int depth, char *what, size_t whatlen)
{
    if (depth > MCPC_INJECT_MAX_DEPTH)
        return 0;
    if (json_is_string(v))
        return mcpc_inject_string(inj, where, json_string_value(v), json_string_length(v), what,
                                  whatlen);
    if (json_is_object(v)) {
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val) {
            int n = snprintf(where + wused, wlen - wused, "/%s", key);
            size_t nu = n > 0 && (size_t)n < wlen - wused ? wused + (size_t)n : wused;
            if (mcpc_inject_string(inj, where, key, strlen(key), what, whatlen) ||
                mcpc_inject_walk(inj, val, where, wlen, nu, depth + 1, what, whatlen))
                return 1;
            where[wused] = '\0';
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *val;
        json_array_foreach(v, i, val) {
            int n = snprintf(where + wused, wlen - wused, "/%zu", i);
            size_t nu = n > 0 && (size_t)n < wlen - wused ? wused + (size_t)n : wused;
            if (mcpc_inject_walk(inj, val, where, wlen, nu, depth + 1, what, whatlen))
                return 1;
            where[wused] = '\0';
        }
    }
    return 0;
}

int mcpc_inject_scan(mcpc_inject *inj, json_t *v, char *what, size_t whatlen)
{
    char where[256] = "";
    return mcpc_inject_walk(inj, v, where, sizeof where, 0, 0, what, whatlen);
}
