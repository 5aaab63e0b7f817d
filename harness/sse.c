/* Server-Sent Events parser: a byte-level state machine, so any chunking gives the same events
 * (the fuzz entry point checks exactly that). Values of data lines are appended in runs, not
 * byte by byte, so a large event costs little more than a memcpy. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

#define MCPC_SSE_DEFAULT_MAX_EVENT (4u << 20)
#define MCPC_SSE_DEFAULT_MAX_LINE (64u << 10)
#define MCPC_SSE_DEFAULT_MAX_QUEUE 1024u

/* Where we are in the current line. */
enum {
    MCPC_SSE_L_START,   /* nothing of the line seen yet */
    MCPC_SSE_L_FIELD,   /* reading the field name */
    MCPC_SSE_L_VSTART,  /* just after ':' (one space may follow and is dropped) */
    MCPC_SSE_L_VALUE,   /* reading the value */
    MCPC_SSE_L_SKIP,    /* a comment, or a line of an event being skipped */
};

enum {
    MCPC_SSE_F_OTHER,   /* unknown field: its value is ignored */
    MCPC_SSE_F_DATA,
    MCPC_SSE_F_EVENT,
    MCPC_SSE_F_ID,
    MCPC_SSE_F_RETRY,
};

typedef struct {
    char *p;            /* always NUL-terminated once allocated */
    size_t len, cap;
} mcpc_sse_buf;

typedef struct mcpc_sse_node {
    struct mcpc_sse_node *next;
    mcpc_sse_event ev;  /* strings point into the same allocation */
} mcpc_sse_node;

struct mcpc_sse {
    mcpc_sse_limits lim;
    mcpc_sse_cb cb;
    void *ud;
    int state, field;
    char fname[6];      /* the longest known field name is 5 bytes */
    size_t fname_len;   /* saturates just past sizeof fname */
    int last_cr;        /* the previous byte was a CR: an LF right after it is not a new line */
    int bom_done;
    size_t bom_seen;    /* BOM bytes matched so far at the stream start */
    int skipping;       /* the event went over a bound: skip up to its blank line */
    int has_data;       /* at least one data line in the event being built */
    mcpc_sse_buf data, val, type, last_id;
    long retry;
    int nomem;
    mcpc_err call_rc;   /* result of the feed in progress */
    mcpc_sse_node *head, *tail, *cur;
    size_t qlen, dropped;
};

static const unsigned char mcpc_sse_bom[3] = {0xEF, 0xBB, 0xBF};

void mcpc_sse_limits_default(mcpc_sse_limits *lim)
{
    lim->max_event = MCPC_SSE_DEFAULT_MAX_EVENT;
    lim->max_line = MCPC_SSE_DEFAULT_MAX_LINE;
    lim->max_queue = MCPC_SSE_DEFAULT_MAX_QUEUE;
}

/* Append n bytes, keeping a NUL after them. -1 on allocation failure. */
static int mcpc_sse_buf_add(mcpc_sse_buf *b, const void *bytes, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, bytes, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

/* Copy src into dst (both NUL-terminated afterwards). -1 on allocation failure. */
static int mcpc_sse_buf_set(mcpc_sse_buf *dst, const mcpc_sse_buf *src)
{
    dst->len = 0;
    return mcpc_sse_buf_add(dst, src->p ? src->p : "", src->len);
}

static const char *mcpc_sse_str(const mcpc_sse_buf *b)
{
    return b->p ? b->p : "";
}

mcpc_sse *mcpc_sse_new(const mcpc_sse_limits *lim, mcpc_sse_cb cb, void *ud)
{
    mcpc_sse *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (lim)
        p->lim = *lim;
    else
        mcpc_sse_limits_default(&p->lim);
    p->cb = cb;
    p->ud = ud;
    p->retry = -1;
    return p;
}

/* Queue (or hand to the callback) one event; strings are copied when queued. */
static void mcpc_sse_emit(mcpc_sse *p, mcpc_err err, const char *data, size_t len)
{
    mcpc_sse_event ev;
    ev.err = err;
    ev.type = p->type.len ? p->type.p : "message";
    ev.data = data;
    ev.len = len;
    ev.id = mcpc_sse_str(&p->last_id);
    if (p->cb) {
        p->cb(p->ud, &ev);
        return;
    }
    if (p->qlen >= p->lim.max_queue) {
        p->dropped++;
        p->call_rc = MCPC_ERR_TOO_BIG;
        return;
    }
    size_t tl = strlen(ev.type), dl = err == MCPC_OK ? len : 0, il = strlen(ev.id);
    mcpc_sse_node *n = malloc(sizeof *n + tl + dl + il + 3);
    if (!n) {
        p->nomem = 1;
        return;
    }
    char *s = (char *)(n + 1);
    n->next = NULL;
    n->ev = ev;
    memcpy(s, ev.type, tl + 1);
    n->ev.type = s;
    s += tl + 1;
    if (dl)
        memcpy(s, data, dl);
    s[dl] = '\0';
    n->ev.data = s;
    s += dl + 1;
    memcpy(s, ev.id, il + 1);
    n->ev.id = s;
    if (p->tail)
        p->tail->next = n;
    else
        p->head = n;
    p->tail = n;
    p->qlen++;
}

/* Forget the event being built (data and type; the last id stays, as the standard says). */
static void mcpc_sse_reset_event(mcpc_sse *p)
{
    p->data.len = 0;
    p->type.len = 0;
    p->has_data = 0;
}

/* The event went over a bound: report it now (a stream may never finish it) and skip the rest. */
static void mcpc_sse_overflow(mcpc_sse *p, size_t bound)
{
    mcpc_sse_emit(p, MCPC_ERR_TOO_BIG, "", bound + 1);
    mcpc_sse_reset_event(p);
    p->skipping = 1;
    p->state = MCPC_SSE_L_SKIP;
    p->call_rc = MCPC_ERR_TOO_BIG;
}

/* Blank line: dispatch the event if it has data lines. */
static void mcpc_sse_dispatch(mcpc_sse *p)
{
    if (p->skipping) {
        p->skipping = 0;   /* already reported when the bound was hit */
    } else if (p->has_data) {
        mcpc_sse_emit(p, MCPC_OK, mcpc_sse_str(&p->data), p->data.len);
    }
    mcpc_sse_reset_event(p);
}

/* The field name is complete (at ':' or at the end of a line without one). */
static void mcpc_sse_field_begin(mcpc_sse *p)
{
    size_t n = p->fname_len;
    p->val.len = 0;
    if (n == 4 && memcmp(p->fname, "data", 4) == 0) {
        p->field = MCPC_SSE_F_DATA;
        /* lines are joined with "\n": counted now, so the bound is on the data as dispatched */
        if (p->has_data) {
            if (p->data.len + 1 > p->lim.max_event) {
                mcpc_sse_overflow(p, p->lim.max_event);
                return;
            }
            if (mcpc_sse_buf_add(&p->data, "\n", 1) < 0)
                p->nomem = 1;
        }
        p->has_data = 1;
    } else if (n == 5 && memcmp(p->fname, "event", 5) == 0) {
        p->field = MCPC_SSE_F_EVENT;
    } else if (n == 2 && memcmp(p->fname, "id", 2) == 0) {
        p->field = MCPC_SSE_F_ID;
    } else if (n == 5 && memcmp(p->fname, "retry", 5) == 0) {
        p->field = MCPC_SSE_F_RETRY;
    } else {
        p->field = MCPC_SSE_F_OTHER;
    }
}

/* n more bytes of the current field's value. */
static void mcpc_sse_value(mcpc_sse *p, const char *s, size_t n)
{
    switch (p->field) {
    case MCPC_SSE_F_DATA:
        if (n > p->lim.max_event - p->data.len) {
            mcpc_sse_overflow(p, p->lim.max_event);
            return;
        }
        if (mcpc_sse_buf_add(&p->data, s, n) < 0)
            p->nomem = 1;
        return;
    case MCPC_SSE_F_EVENT:
    case MCPC_SSE_F_ID:
    case MCPC_SSE_F_RETRY:
        if (n > p->lim.max_line - p->val.len) {
            mcpc_sse_overflow(p, p->lim.max_line);
            return;
        }
        if (mcpc_sse_buf_add(&p->val, s, n) < 0)
            p->nomem = 1;
        return;
    default:
        return;
    }
}

/* The line ended: apply the field. */
static void mcpc_sse_field_end(mcpc_sse *p)
{
    const char *v = mcpc_sse_str(&p->val);
    size_t n = p->val.len;
    switch (p->field) {
    case MCPC_SSE_F_EVENT:
        if (mcpc_sse_buf_set(&p->type, &p->val) < 0)
            p->nomem = 1;
        break;
    case MCPC_SSE_F_ID:
        if (!memchr(v, '\0', n) && mcpc_sse_buf_set(&p->last_id, &p->val) < 0)
            p->nomem = 1;
        break;
    case MCPC_SSE_F_RETRY: {
        long r = 0;
        size_t i;
        for (i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++)
            r = r > (LONG_MAX - (v[i] - '0')) / 10 ? LONG_MAX : r * 10 + (v[i] - '0');
        if (n > 0 && i == n)
            p->retry = r;
        break;
    }
    default:
        break;
    }
}

static void mcpc_sse_eol(mcpc_sse *p)
{
    switch (p->state) {
    case MCPC_SSE_L_START:
        mcpc_sse_dispatch(p);
        break;
    case MCPC_SSE_L_FIELD:
        mcpc_sse_field_begin(p);
        if (!p->skipping)
            mcpc_sse_field_end(p);
        break;
    case MCPC_SSE_L_VSTART:
    case MCPC_SSE_L_VALUE:
        mcpc_sse_field_end(p);
        break;
    default:
        break;
    }
    p->state = MCPC_SSE_L_START;
}

/* Bytes up to (not including) the next CR or LF. */
static size_t mcpc_sse_span(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != '\r' && s[i] != '\n')
        i++;
    return i;
}

/* The stream after the BOM check. */
static void mcpc_sse_bytes(mcpc_sse *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && !p->nomem) {
        char c = s[i];
        if (p->last_cr) {
            p->last_cr = 0;
            if (c == '\n') {
                i++;
                continue;
            }
        }
        if (c == '\r' || c == '\n') {
            mcpc_sse_eol(p);
            p->last_cr = c == '\r';
            i++;
            continue;
        }
        switch (p->state) {
        case MCPC_SSE_L_START:
            if (p->skipping || c == ':') {
                p->state = MCPC_SSE_L_SKIP;
            } else {
                p->state = MCPC_SSE_L_FIELD;
                p->fname_len = 0;
            }
            break;   /* the byte is looked at again in the new state */
        case MCPC_SSE_L_FIELD:
            if (c == ':') {
                mcpc_sse_field_begin(p);
                if (!p->skipping)
                    p->state = MCPC_SSE_L_VSTART;
            } else {
                if (p->fname_len < sizeof p->fname)
                    p->fname[p->fname_len] = c;
                if (p->fname_len <= sizeof p->fname)
                    p->fname_len++;
            }
            i++;
            break;
        case MCPC_SSE_L_VSTART:
            p->state = MCPC_SSE_L_VALUE;
            if (c == ' ')
                i++;
            break;
        case MCPC_SSE_L_VALUE: {
            size_t run = mcpc_sse_span(s + i, n - i);
            mcpc_sse_value(p, s + i, run);
            i += run;
            break;
        }
        default: /* MCPC_SSE_L_SKIP */
            i += mcpc_sse_span(s + i, n - i);
            break;
        }
    }
}

mcpc_err mcpc_sse_feed(mcpc_sse *p, const void *bytes, size_t len)
{
    const char *b = bytes;
    size_t i = 0;
    if (p->nomem)
        return MCPC_ERR_NOMEM;
    p->call_rc = MCPC_OK;
    /* the BOM may arrive split across feeds: hold matching bytes until we know */
    while (!p->bom_done && i < len) {
        if ((unsigned char)b[i] == mcpc_sse_bom[p->bom_seen]) {
            i++;
            if (++p->bom_seen == sizeof mcpc_sse_bom)
                p->bom_done = 1;
        } else {
            p->bom_done = 1;
            mcpc_sse_bytes(p, (const char *)mcpc_sse_bom, p->bom_seen);
        }
    }
    mcpc_sse_bytes(p, b + i, len - i);
    return p->nomem ? MCPC_ERR_NOMEM : p->call_rc;
}

mcpc_err mcpc_sse_end(mcpc_sse *p)
{
    int partial;
    if (p->nomem)
        return MCPC_ERR_NOMEM;
    if (!p->bom_done && p->bom_seen)
        mcpc_sse_bytes(p, (const char *)mcpc_sse_bom, p->bom_seen);
    partial = p->has_data || p->skipping || p->state != MCPC_SSE_L_START;
    mcpc_sse_reset_event(p);
    p->skipping = 0;
    p->state = MCPC_SSE_L_START;
    p->last_cr = 0;
    p->bom_done = 0;
    p->bom_seen = 0;
    if (p->nomem)
        return MCPC_ERR_NOMEM;
    return partial ? MCPC_ERR_EOF : MCPC_OK;
}

int mcpc_sse_next(mcpc_sse *p, mcpc_sse_event *ev)
{
    free(p->cur);
    p->cur = p->head;
    if (!p->cur)
        return 0;
    p->head = p->cur->next;
    if (!p->head)
        p->tail = NULL;
    p->qlen--;
    *ev = p->cur->ev;
    return 1;
}

size_t mcpc_sse_dropped(const mcpc_sse *p)
{
    return p->dropped;
}

long mcpc_sse_retry(const mcpc_sse *p)
{
    return p->retry;
}

const char *mcpc_sse_last_id(const mcpc_sse *p)
{
    return mcpc_sse_str(&p->last_id);
}

void mcpc_sse_free(mcpc_sse *p)
{
    if (!p)
        return;
    free(p->cur);
    while (p->head) {
        mcpc_sse_node *n = p->head;
        p->head = n->next;
        free(n);
    }
    free(p->data.p);
    free(p->val.p);
    free(p->type.p);
    free(p->last_id.p);
    free(p);
}

/* ---- fuzz entry point ------------------------------------------------------------------------ */

/* Every event of one run, serialized, for comparing runs byte for byte. */
typedef struct {
    unsigned char *p;
    size_t len, cap;
    int nomem;
} mcpc_sse_rec;

static void mcpc_sse_rec_add(mcpc_sse_rec *r, const void *bytes, size_t n)
{
    if (r->nomem)
        return;
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 256;
        while (cap < r->len + n)
            cap *= 2;
        unsigned char *p = realloc(r->p, cap);
        if (!p) {
            r->nomem = 1;
            return;
        }
        r->p = p;
        r->cap = cap;
    }
    memcpy(r->p + r->len, bytes, n);
    r->len += n;
}

/* Length-prefixed, so no two event sequences serialize alike. */
static void mcpc_sse_rec_field(mcpc_sse_rec *r, const char *s, size_t n)
{
    mcpc_sse_rec_add(r, &n, sizeof n);
    mcpc_sse_rec_add(r, s, n);
}

static void mcpc_sse_rec_event(void *ud, const mcpc_sse_event *ev)
{
    mcpc_sse_rec *r = ud;
    int err = (int)ev->err;
    mcpc_sse_rec_add(r, &err, sizeof err);
    mcpc_sse_rec_field(r, ev->type, strlen(ev->type));
    mcpc_sse_rec_field(r, ev->data, ev->err == MCPC_OK ? ev->len : 0);
    mcpc_sse_rec_add(r, &ev->len, sizeof ev->len);
    mcpc_sse_rec_field(r, ev->id, strlen(ev->id));
}

/* The parser's state at the end of a run. */
static void mcpc_sse_rec_final(mcpc_sse_rec *r, mcpc_sse *p, mcpc_err end_rc)
{
    long retry = mcpc_sse_retry(p);
    int rc = (int)end_rc;
    const char *id = mcpc_sse_last_id(p);
    mcpc_sse_rec_add(r, &rc, sizeof rc);
    mcpc_sse_rec_add(r, &retry, sizeof retry);
    mcpc_sse_rec_field(r, id, strlen(id));
}

int mcpc_sse_fuzz_one(const uint8_t *d, size_t n)
{
    /* small bounds, so the over-bound paths are reached by small inputs */
    mcpc_sse_limits lim = {512, 64, 4};
    mcpc_sse_rec rec[3];
    mcpc_sse *p[3] = {NULL, NULL, NULL};
    uint64_t seed = 1469598103934665603ull;   /* FNV-1a of the input drives the chunking */
    int i;

    memset(rec, 0, sizeof rec);
    for (size_t k = 0; k < n; k++)
        seed = (seed ^ d[k]) * 1099511628211ull;
    p[0] = mcpc_sse_new(&lim, mcpc_sse_rec_event, &rec[0]);
    p[1] = mcpc_sse_new(&lim, mcpc_sse_rec_event, &rec[1]);
    p[2] = mcpc_sse_new(&lim, NULL, NULL);
    if (!p[0] || !p[1] || !p[2])
        goto out;

    /* 1: all at once */
    (void)mcpc_sse_feed(p[0], d, n);
    mcpc_sse_rec_final(&rec[0], p[0], mcpc_sse_end(p[0]));

    /* 2: pseudo-random chunks, mostly tiny (to split CRLF and the BOM), sometimes large */
    for (size_t off = 0; off < n;) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        size_t c = (seed % 8 == 0) ? 1 + (size_t)(seed >> 8) % 300 : 1 + (size_t)(seed >> 8) % 4;
        if (c > n - off)
            c = n - off;
        (void)mcpc_sse_feed(p[1], d + off, c);
        off += c;
    }
    mcpc_sse_rec_final(&rec[1], p[1], mcpc_sse_end(p[1]));

    /* 3: byte by byte through the queue, popping as we go (one byte dispatches at most one
     * event, so the queue of 4 never drops) */
    for (size_t off = 0; off <= n; off++) {
        mcpc_sse_event ev;
        mcpc_err end_rc = MCPC_OK;
        if (off < n)
            (void)mcpc_sse_feed(p[2], d + off, 1);
        else
            end_rc = mcpc_sse_end(p[2]);
        while (mcpc_sse_next(p[2], &ev))
            mcpc_sse_rec_event(&rec[2], &ev);
        if (off == n)
            mcpc_sse_rec_final(&rec[2], p[2], end_rc);
    }

    for (i = 0; i < 3; i++)
        if (rec[i].nomem || p[i]->nomem)
            goto out;   /* out of memory is not a finding of this target */
    if (mcpc_sse_dropped(p[2]) != 0)
        abort();
    for (i = 1; i < 3; i++)
        if (rec[i].len != rec[0].len || (rec[0].len && memcmp(rec[i].p, rec[0].p, rec[0].len) != 0))
            abort();
out:
    for (i = 0; i < 3; i++) {
        mcpc_sse_free(p[i]);
        free(rec[i].p);
    }
    return 0;
}
