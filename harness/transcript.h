/* The wire transcript of one case: what was sent, what arrived, stderr, notes. Bounded: each
 * entry keeps at most MCPC_TRANSCRIPT_ENTRY_MAX bytes, the whole transcript at most
 * MCPC_TRANSCRIPT_MAX_ENTRIES entries; the rest is counted, not kept. Bytes that are not valid
 * UTF-8 are kept as \xNN text so the report stays valid JSON. */
#ifndef MCPC_TRANSCRIPT_H
#define MCPC_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define MCPC_TRANSCRIPT_ENTRY_MAX 8192
#define MCPC_TRANSCRIPT_MAX_ENTRIES 400

typedef struct {
    json_t *entries;      /* owned: array of {"t_ms","dir","data"} */
    int64_t t0;
    size_t dropped;       /* entries not kept */
} mcpc_transcript;

/* Start an empty transcript; t0 is the case start (mcpc_clock_ms). 0 or -1 on allocation failure. */
int mcpc_transcript_init(mcpc_transcript *t);
/* Record len bytes in direction dir ("send", "recv", "stderr", "note"). */
void mcpc_transcript_add(mcpc_transcript *t, const char *dir, const char *data, size_t len);
/* printf-style note. */
void mcpc_transcript_note(mcpc_transcript *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void mcpc_transcript_clear(mcpc_transcript *t);

/* A printable, valid-UTF-8 copy of len bytes, at most max bytes of input kept (an ellipsis and
 * the full size are appended when cut). Returns malloc'd text or NULL. */
char *mcpc_text_printable(const char *data, size_t len, size_t max);

#endif
