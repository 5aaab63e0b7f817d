/* SSE seeds: JSON-RPC messages framed as event streams the way servers send them over
 * streamable HTTP, rotating through the framings the parser must handle: LF, CRLF and CR line
 * ends, a BOM, event/id/retry fields, comments, data split over lines, several events, an id
 * holding NUL, a field without a colon and an unterminated last event. */
#include <stdio.h>
#include <string.h>

#include "gen_corpus.h"

#define GEN_SSE_MAX_MSG 4096   /* longer messages are framed by other seeds already */

/* Bounded appender over a fixed buffer; overflow marks it full and later appends do nothing. */
typedef struct {
    char buf[GEN_SSE_MAX_MSG * 3 + 512];
    size_t len;
    int full;
} gen_sbuf;

static void gen_add(gen_sbuf *b, const void *p, size_t n)
{
    if (b->full || n > sizeof b->buf - b->len) {
        b->full = 1;
        return;
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

static void gen_adds(gen_sbuf *b, const char *s)
{
    gen_add(b, s, strlen(s));
}

/* "data: " + msg + eol */
static void gen_data(gen_sbuf *b, const char *msg, size_t len, const char *eol)
{
    gen_adds(b, "data: ");
    gen_add(b, msg, len);
    gen_adds(b, eol);
}

void gen_sse_frame(gen_out *o, const char *msg, size_t len)
{
    static gen_sbuf b;   /* large; one at a time */
    size_t half = len / 2;

    if (len > GEN_SSE_MAX_MSG)
        return;
    memset(&b, 0, sizeof b);
    switch (o->msg_seq++ % 10) {
    case 0:
        gen_data(&b, msg, len, "\n\n");
        break;
    case 1:
        gen_data(&b, msg, len, "\r\n\r\n");
        break;
    case 2:
        gen_data(&b, msg, len, "\r\r");
        break;
    case 3:
        gen_adds(&b, "\xef\xbb\xbf" "event: message\nid: 42\n");
        gen_data(&b, msg, len, "\n\n");
        break;
    case 4:
        gen_adds(&b, "retry: 3000\n: keep-alive\n\ndata:");
        gen_add(&b, msg, len);
        gen_adds(&b, "\n\n");
        break;
    case 5:   /* one message over two data lines, joined again with "\n" by the parser */
        gen_data(&b, msg, half, "\n");
        gen_data(&b, msg + half, len - half, "\n\n");
        break;
    case 6:
        gen_adds(&b, "id: 1\n");
        gen_data(&b, msg, len, "\n\n");
        gen_adds(&b, "id: 2\nevent: message\n");
        gen_data(&b, msg, len, "\n\n");
        gen_adds(&b, "id\n\n");   /* resets the last id */
        break;
    case 7:   /* the last event never ends: discarded at the end of the stream */
        gen_data(&b, msg, len, "\n\n");
        gen_data(&b, msg, len, "\n");
        break;
    case 8:
        gen_add(&b, "id: a\0b\n", 8);   /* an id with NUL is ignored */
        gen_adds(&b, "data\nunknown: field\n");
        gen_data(&b, msg, len, "\n\n");
        break;
    default:
        gen_adds(&b, "event: message\r\nretry: 99999999999999999999\r\n");
        gen_data(&b, msg, len, "\r\n\n");
        break;
    }
    if (!b.full)
        gen_put(o, GEN_SSE, b.buf, b.len);
}
