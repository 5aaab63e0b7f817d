/* Server-Sent Events parser (WHATWG HTML "event stream interpretation"), incremental and
 * bounded. No I/O: the caller feeds bytes as they arrive, in any chunking, and gets complete
 * events through a callback or from a bounded queue. A fuzz target.
 *
 * - A UTF-8 BOM at the very start of the stream is skipped; lines end with CRLF, LF or CR (a CRLF
 *   split across two feeds is one line end).
 * - Fields: data (lines joined with "\n"), event, id (ignored when it contains NUL), retry
 *   (ASCII digits only); lines starting with ':' are comments; other fields are ignored.
 * - An event is dispatched at a blank line when it has at least one data line (its data may be
 *   empty); an unterminated event at the end of the stream is discarded.
 * - Bytes are kept as they are: invalid UTF-8 is not replaced (the JSON parser that reads the
 *   data rejects it, which is the verdict we want).
 * - Bounds: max_event (data bytes of one event), max_line (an event:, id: or retry: value; data
 *   lines are bounded by max_event, comments and unknown fields are never stored), max_queue
 *   (events held when there is no callback). Going over max_event or max_line makes that event
 *   an error (MCPC_ERR_TOO_BIG), reported once, as soon as the bound is hit; the rest of the
 *   event, up to its blank line, is skipped and parsing goes on with the next event. */
#ifndef MCPC_SSE_H
#define MCPC_SSE_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

typedef struct {
    size_t max_event;   /* data bytes of one event [4 MiB] */
    size_t max_line;    /* bytes of one event:, id: or retry: value [64 KiB] */
    size_t max_queue;   /* events held by the queue when there is no callback [1024] */
} mcpc_sse_limits;

void mcpc_sse_limits_default(mcpc_sse_limits *lim);

typedef struct {
    mcpc_err err;       /* MCPC_OK, or MCPC_ERR_TOO_BIG: over a bound (data is "") */
    const char *type;   /* the event: field, "message" when none */
    const char *data;   /* NUL-terminated (data may hold NULs of its own: use len) */
    size_t len;         /* data bytes; for TOO_BIG, the bound that was exceeded plus one */
    const char *id;     /* the last event id at dispatch, "" when none */
} mcpc_sse_event;

/* Called once per dispatched event; the strings are borrowed for the call only. */
typedef void (*mcpc_sse_cb)(void *ud, const mcpc_sse_event *ev);

typedef struct mcpc_sse mcpc_sse;

/* A parser. With cb, events go to cb(ud, ev); without (NULL), they are queued for
 * mcpc_sse_next. lim NULL: defaults. NULL on allocation failure. */
mcpc_sse *mcpc_sse_new(const mcpc_sse_limits *lim, mcpc_sse_cb cb, void *ud);

/* Parse len more bytes. MCPC_OK; MCPC_ERR_TOO_BIG when an event went over a bound during this
 * call (each over-bound event is reported once, also as an event with err set) or the queue was
 * full and events were dropped (mcpc_sse_dropped counts them); MCPC_ERR_NOMEM, after which the
 * parser only returns MCPC_ERR_NOMEM. */
mcpc_err mcpc_sse_feed(mcpc_sse *p, const void *bytes, size_t len);

/* End of stream: an unterminated event is discarded (as the standard says). MCPC_ERR_EOF when
 * there was one (data lines or a partial line were pending), else MCPC_OK. The parser is reset
 * to the start of a new stream (a BOM is skipped again), keeping the last event id and retry. */
mcpc_err mcpc_sse_end(mcpc_sse *p);

/* Queue mode: pop the oldest event into *ev (strings owned by the parser, valid until the next
 * call to mcpc_sse_next or mcpc_sse_free). 1 when an event was popped, 0 when the queue is empty. */
int mcpc_sse_next(mcpc_sse *p, mcpc_sse_event *ev);

/* Events dropped because the queue was full. */
size_t mcpc_sse_dropped(const mcpc_sse *p);
/* The last retry: value in milliseconds (saturated at LONG_MAX), -1 when none. */
long mcpc_sse_retry(const mcpc_sse *p);
/* The last event id, "" when none. Borrowed. */
const char *mcpc_sse_last_id(const mcpc_sse *p);

/* NULL-safe. */
void mcpc_sse_free(mcpc_sse *p);

/* Fuzz entry point: parse d[0..n) whole, in pseudo-random chunks derived from the input, and
 * byte by byte through the queue, with small bounds; abort() unless all three give the same
 * events, last id and retry. Returns 0. */
int mcpc_sse_fuzz_one(const uint8_t *d, size_t n);

#endif
