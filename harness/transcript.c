#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "transcript.h"

int mcpc_transcript_init(mcpc_transcript *t)
{
    t->entries = json_array();
    t->t0 = mcpc_clock_ms();
    t->dropped = 0;
    return t->entries ? 0 : -1;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t mcpc_utf8_seq(const unsigned char *p, size_t left)
{
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) { n = 2; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; min = 0x10000; }
    else return 0;
    if (left < n)
        return 0;
    unsigned cp = c & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

char *mcpc_text_printable(const char *data, size_t len, size_t max)
{
    size_t keep = len < max ? len : max;
    /* worst case every byte becomes \xNN, plus the cut note */
    char *out = malloc(keep * 4 + 64);
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < keep;) {
        const unsigned char *p = (const unsigned char *)data + i;
        size_t n = mcpc_utf8_seq(p, keep - i);
        if (n == 0 || p[0] == 0) {
            o += (size_t)sprintf(out + o, "\\x%02x", p[0]);
            i++;
            continue;
        }
        memcpy(out + o, p, n);
        o += n;
        i += n;
    }
    if (keep < len)
        o += (size_t)sprintf(out + o, "…(%zu bytes in all)", len);
    out[o] = '\0';
    return out;
}

void mcpc_transcript_add(mcpc_transcript *t, const char *dir, const char *data, size_t len)
{
    if (!t->entries)
        return;
    if (json_array_size(t->entries) >= MCPC_TRANSCRIPT_MAX_ENTRIES) {
        t->dropped++;
        return;
    }
    char *text = mcpc_text_printable(data, len, MCPC_TRANSCRIPT_ENTRY_MAX);
    if (!text)
        return;
    json_t *e = json_pack("{s:I,s:s,s:s}", "t_ms", (json_int_t)(mcpc_clock_ms() - t->t0), "dir",
                          dir, "data", text);
    free(text);
    if (e)
        json_array_append_new(t->entries, e);
}

void mcpc_transcript_note(mcpc_transcript *t, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    mcpc_transcript_add(t, "note", buf, strlen(buf));
}

void mcpc_transcript_clear(mcpc_transcript *t)
{
    json_decref(t->entries);
    t->entries = NULL;
}
