/* ECMA-262 patterns on PCRE2: translation to PCRE2 syntax where the two differ, compile with
 * JIT, and bounded matching (match and depth limits come from the validator's match context).
 *
 * Differences handled: "\s"/"\S" are Unicode white space in ECMA (ASCII in PCRE2 without UCP);
 * "." excludes only line terminators; "$" never matches before a final newline; "\v" is a
 * character, not a class; "\uXXXX" (surrogate pairs joined) and "\u{...}" escapes; "[]" and
 * "[^]"; "[" inside a class is literal (PCRE2 would read "[:alpha:]"); long Unicode property
 * names. Rejected as ECMA syntax errors (unicode mode): unknown escapes such as "\a" or "\Z",
 * "(?i)" and other PCRE-only groups, possessive quantifiers, backtracking verbs. "\d" and "\w"
 * are ASCII in both without PCRE2_UCP, so they are left alone. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "schema_int.h"

enum { RE_PCRE = 0, RE_EXACT, RE_PREFIX, RE_SUFFIX, RE_CONTAINS };

/* One step of a "simple" pattern: an ASCII character set repeated min..max times. */
typedef struct {
    uint64_t set[2];
    uint32_t min, max;
} re_item;

#define RE_MAX_ITEMS 24
#define RE_UNBOUNDED 0xFFFFFFFFu

struct mcpc_schema_re {
    pcre2_code *code;
    int jit;
    int kind;          /* RE_* : literal patterns skip PCRE2 entirely */
    char *lit;
    size_t litlen;
    char *src;
    /* patterns made only of ASCII sets and quantifiers (no groups, alternation, assertions
     * but ^ and $) match ASCII subjects of < 64 bytes by a bit-parallel scan: no PCRE2 call,
     * linear time, no backtracking */
    int simple, anch_start, anch_end;
    size_t n_items;
    re_item items[RE_MAX_ITEMS];
    /* anchored at both ends with fixed counts: the subject length is fixed and position p
     * must be in items[at[p]].set */
    size_t fixed_len;
    int fixed;
    unsigned char at[64];
};

/* ECMA white space and line terminators, as class contents. */
#define ECMA_WS "\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}" \
                "\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}"

typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

/* Append n bytes to the growable buffer; a failed allocation sticks as oom. */
static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 64;
        while (c < b->n + n + 1)
            c *= 2;
        char *q = realloc(b->p, c);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = c;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

/* Append a C string. */
static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* Append a code point as \\x{...}. */
static void sb_cp(sbuf *b, unsigned long cp)
{
    char t[24];
    snprintf(t, sizeof t, "\\x{%lX}", cp & 0x1FFFFFul);
    sb_str(b, t);
}


/* Read exactly k hex digits at p[*i]; -1 when absent. */
static long read_hex(const char *p, size_t n, size_t *i, int k)
{
    long v = 0;
    if (*i + (size_t)k > n)
        return -1;
    for (int j = 0; j < k; j++) {
        int h = mcpc_hex_value((unsigned char)p[*i + (size_t)j]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    *i += (size_t)k;
    return v;
}

/* Parse the part after "\u" at p[*i]: XXXX (surrogate pairs joined) or {X...}. */
static long read_u(const char *p, size_t n, size_t *i)
{
    if (*i < n && p[*i] == '{') {
        long v = 0;
        size_t j = *i + 1;
        int digits = 0;
        while (j < n && p[j] != '}') {
            int h = mcpc_hex_value((unsigned char)p[j]);
            if (h < 0 || v > 0x10FFFF)
                return -1;
            v = v * 16 + h;
            digits++;
            j++;
        }
        if (j >= n || !digits || v > 0x10FFFF)
            return -1;
        *i = j + 1;
        return v;
    }
    long v = read_hex(p, n, i, 4);
    if (v >= 0xD800 && v <= 0xDBFF && *i + 6 <= n && p[*i] == '\\' && p[*i + 1] == 'u') {
        size_t j = *i + 2;
        long lo = read_hex(p, n, &j, 4);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
            *i = j;
            return 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
        }
    }
    return v;
}

/* Long general-category names PCRE2 10.42 does not know. */
static const char *const gc_names[][2] = {
    {"Letter", "L"}, {"Cased_Letter", "L&"}, {"Uppercase_Letter", "Lu"},
    {"Lowercase_Letter", "Ll"}, {"Titlecase_Letter", "Lt"}, {"Modifier_Letter", "Lm"},
    {"Other_Letter", "Lo"}, {"Mark", "M"}, {"Nonspacing_Mark", "Mn"},
    {"Spacing_Mark", "Mc"}, {"Enclosing_Mark", "Me"}, {"Number", "N"},
    {"Decimal_Number", "Nd"}, {"digit", "Nd"}, {"Letter_Number", "Nl"}, {"Other_Number", "No"},
    {"Punctuation", "P"}, {"punct", "P"}, {"Connector_Punctuation", "Pc"},
    {"Dash_Punctuation", "Pd"}, {"Open_Punctuation", "Ps"}, {"Close_Punctuation", "Pe"},
    {"Initial_Punctuation", "Pi"}, {"Final_Punctuation", "Pf"}, {"Other_Punctuation", "Po"},
    {"Symbol", "S"}, {"Math_Symbol", "Sm"}, {"Currency_Symbol", "Sc"},
    {"Modifier_Symbol", "Sk"}, {"Other_Symbol", "So"}, {"Separator", "Z"},
    {"Space_Separator", "Zs"}, {"Line_Separator", "Zl"}, {"Paragraph_Separator", "Zp"},
    {"Other", "C"}, {"Control", "Cc"}, {"cntrl", "Cc"}, {"Format", "Cf"},
    {"Surrogate", "Cs"}, {"Private_Use", "Co"}, {"Unassigned", "Cn"},
};

/* Translate "\p{...}" content; 0 on success. */
static int put_prop(sbuf *b, int neg, const char *name, size_t len)
{
    char tmp[80];
    const char *v = name;
    size_t vl = len;
    const char *eq = memchr(name, '=', len);
    if (len == 0 || len >= sizeof tmp)
        return -1;
    if (eq) {
        size_t kl = (size_t)(eq - name);
        v = eq + 1;
        vl = len - kl - 1;
        if (!((kl == 16 && !memcmp(name, "General_Category", 16)) ||
              (kl == 2 && !memcmp(name, "gc", 2)) || (kl == 6 && !memcmp(name, "Script", 6)) ||
              (kl == 2 && !memcmp(name, "sc", 2))))
            return -1;   /* Script_Extensions and friends: not expressible in 10.42 */
        if (!vl)
            return -1;
    }
    for (size_t i = 0; i < sizeof gc_names / sizeof gc_names[0]; i++)
        if (strlen(gc_names[i][0]) == vl && !memcmp(gc_names[i][0], v, vl)) {
            v = gc_names[i][1];
            vl = strlen(v);
            break;
        }
    for (size_t i = 0; i < vl; i++)
        if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
              (v[i] >= '0' && v[i] <= '9') || v[i] == '_' || v[i] == '&'))
            return -1;
    snprintf(tmp, sizeof tmp, "\\%c{%.*s}", neg ? 'P' : 'p', (int)vl, v);
    sb_str(b, tmp);
    return 0;
}

/* ECMA SyntaxCharacter (and "/"): the escapes allowed in unicode mode. */
static int is_syntax(int c)
{
    return c && strchr("^$\\.*+?()[]{}|/", c) != NULL;
}

/* Skip a "{n}", "{n,}" or "{n,m}" quantifier at p[*i] when there is one (1), else 0. */
static int quantifier(const char *p, size_t n, size_t *i)
{
    size_t j = *i + 1, d1 = 0;
    while (j < n && p[j] >= '0' && p[j] <= '9') {
        j++;
        d1++;
    }
    if (!d1)
        return 0;
    if (j < n && p[j] == ',')
        for (j++; j < n && p[j] >= '0' && p[j] <= '9'; j++)
            ;
    if (j < n && p[j] == '}') {
        *i = j + 1;
        return 1;
    }
    return 0;
}

/* New malloc'd PCRE2 pattern, or NULL with err. */
char *mcpc_schema_re_translate(const char *p, size_t n, size_t *outlen, int *unsupported,
                               char *err, size_t errlen)
{
    sbuf b = {0};
    int in_class = 0;
    size_t i = 0;
    const char *why = NULL;
    *unsupported = 0;
    sb_put(&b, "", 0);
    while (i < n && !why && !b.oom) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\\') {
            if (i + 1 >= n) {
                why = "trailing backslash";
                break;
            }
            unsigned char e = (unsigned char)p[i + 1];
            i += 2;
            switch (e) {
            case 'd': case 'D': case 'w': case 'W':
                sb_put(&b, (const char *)p + i - 2, 2);
                break;
            case 's':
                sb_str(&b, in_class ? ECMA_WS : "[" ECMA_WS "]");
                break;
            case 'S':
                if (in_class) {
                    why = "\\S inside a character class";
                    *unsupported = 1;
                } else
                    sb_str(&b, "[^" ECMA_WS "]");
                break;
            case 'b':
                sb_str(&b, in_class ? "\\x{8}" : "\\b");
                break;
            case 'B':
                if (in_class)
                    why = "\\B inside a character class";
                else
                    sb_str(&b, "\\B");
                break;
            case 'f': sb_str(&b, "\\f"); break;
            case 'n': sb_str(&b, "\\n"); break;
            case 'r': sb_str(&b, "\\r"); break;
            case 't': sb_str(&b, "\\t"); break;
            case 'v': sb_str(&b, "\\x{B}"); break;
            case 'c':
                if (i < n && ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z'))) {
                    sb_cp(&b, (unsigned long)((unsigned char)p[i] % 32));
                    i++;
                } else
                    why = "\\c must be followed by a letter";
                break;
            case '0':
                if (i < n && p[i] >= '0' && p[i] <= '9')
                    why = "octal escapes are not allowed";
                else
                    sb_str(&b, "\\x{0}");
                break;
            case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8':
            case '9': {
                if (in_class) {
                    why = "back-reference inside a character class";
                    break;
                }
                unsigned long v = e - '0';
                while (i < n && p[i] >= '0' && p[i] <= '9' && v < 100000)
                    v = v * 10 + (unsigned long)(p[i++] - '0');
                char t[32];
                snprintf(t, sizeof t, "\\g{%lu}", v);
                sb_str(&b, t);
                break;
            }
            case 'x': {
                long v = read_hex(p, n, &i, 2);
                if (v < 0)
                    why = "\\x needs two hex digits";
                else
                    sb_cp(&b, (unsigned long)v);
                break;
            }
            case 'u': {
                long v = read_u(p, n, &i);
                if (v < 0)
                    why = "bad \\u escape";
                else if (v >= 0xD800 && v <= 0xDFFF) {
                    why = "lone surrogate in \\u escape";
                    *unsupported = 1;
                } else
                    sb_cp(&b, (unsigned long)v);
                break;
            }
            case 'p': case 'P': {
                const char *close = i < n && p[i] == '{' ? memchr(p + i, '}', n - i) : NULL;
                if (!close || put_prop(&b, e == 'P', p + i + 1, (size_t)(close - p - i - 1))) {
                    why = "unknown Unicode property";
                    *unsupported = close != NULL;
                } else
                    i = (size_t)(close - p) + 1;
                break;
            }
            case 'k': {
                const char *close = i < n && p[i] == '<' ? memchr(p + i, '>', n - i) : NULL;
                if (in_class || !close)
                    why = "bad \\k escape";
                else {
                    sb_put(&b, p + i - 2, (size_t)(close - p) + 1 - (i - 2));
                    i = (size_t)(close - p) + 1;
                }
                break;
            }
            case '-':
                if (!in_class)
                    why = "\\- outside a character class";
                else
                    sb_str(&b, "\\-");
                break;
            default:
                if (is_syntax(e)) {
                    char t[3] = {'\\', (char)e, 0};
                    sb_str(&b, t);
                } else
                    why = "invalid escape";
            }
            continue;
        }
        if (in_class) {
            if (c == ']')
                in_class = 0;
            if (c == '[')
                sb_str(&b, "\\[");
            else
                sb_put(&b, p + i, 1);
            i++;
            continue;
        }
        switch (c) {
        case '.':
            sb_str(&b, "[^\\n\\r\\x{2028}\\x{2029}]");
            i++;
            break;
        case '[':
            if (i + 1 < n && p[i + 1] == ']') {
                sb_str(&b, "(?!)");
                i += 2;
            } else if (i + 2 < n && p[i + 1] == '^' && p[i + 2] == ']') {
                sb_str(&b, "[\\x{0}-\\x{10FFFF}]");
                i += 3;
            } else {
                in_class = 1;
                if (i + 1 < n && p[i + 1] == '^') {
                    sb_str(&b, "[^");
                    i += 2;
                } else {
                    sb_str(&b, "[");
                    i++;
                }
            }
            break;
        case '(':
            if (i + 1 < n && p[i + 1] == '*')
                why = "nothing to repeat";
            else if (i + 1 < n && p[i + 1] == '?') {
                size_t r = n - i;
                if ((r >= 3 && (p[i + 2] == ':' || p[i + 2] == '=' || p[i + 2] == '!')) ||
                    (r >= 4 && p[i + 2] == '<' && (p[i + 3] == '=' || p[i + 3] == '!'))) {
                    sb_put(&b, p + i, 3);
                    i += 3;
                } else if (r >= 4 && p[i + 2] == '<') {
                    /* named group: ECMA names are identifiers */
                    size_t j = i + 3;
                    while (j < n && p[j] != '>' &&
                           ((p[j] >= 'a' && p[j] <= 'z') || (p[j] >= 'A' && p[j] <= 'Z') ||
                            (p[j] >= '0' && p[j] <= '9') || p[j] == '_' || p[j] == '$'))
                        j++;
                    if (j >= n || p[j] != '>' || j == i + 3)
                        why = "bad group name";
                    else {
                        sb_put(&b, p + i, j + 1 - i);
                        i = j + 1;
                    }
                } else
                    why = "unsupported group syntax";
            } else {
                sb_put(&b, "(", 1);
                i++;
            }
            break;
        case '*': case '+': case '?':
            sb_put(&b, p + i, 1);
            i++;
            if (c != '?' && i < n && p[i] == '+')
                why = "nothing to repeat";
            else if (c == '?' && i < n && p[i] == '+' && i >= 2)
                why = "nothing to repeat";
            break;
        case '{': {
            size_t j = i;
            if (quantifier(p, n, &j)) {
                sb_put(&b, p + i, j - i);
                i = j;
                if (i < n && p[i] == '+')
                    why = "nothing to repeat";
            } else
                why = "lone quantifier brackets";
            break;
        }
        case '}':
            why = "lone quantifier brackets";
            break;
        case ']':
            why = "lone ']'";
            break;
        default:
            sb_put(&b, p + i, 1);
            i++;
        }
    }
    if (!why && in_class)
        why = "unterminated character class";
    if (b.oom)
        why = "out of memory";
    if (why) {
        snprintf(err, errlen, "regex /%.*s/: %s", (int)(n > 60 ? 60 : n), p, why);
        free(b.p);
        return NULL;
    }
    *outlen = b.n;
    return b.p;
}

/* Add ASCII character c to a 128-bit set. */
static void set_add(uint64_t set[2], unsigned c)
{
    set[c >> 6] |= 1ull << (c & 63);
}

/* Add the ASCII range a..b. */
static void set_range(uint64_t set[2], unsigned a, unsigned b)
{
    for (unsigned c = a; c <= b && c < 128; c++)
        set_add(set, c);
}

/* ASCII members of a class escape (\d \w \s and their negations); -1 if not one. */
static int set_escape(uint64_t set[2], int e)
{
    uint64_t t[2] = {0, 0};
    switch (e) {
    case 'd': case 'D':
        set_range(t, '0', '9');
        break;
    case 'w': case 'W':
        set_range(t, 'a', 'z');
        set_range(t, 'A', 'Z');
        set_range(t, '0', '9');
        set_add(t, '_');
        break;
    case 's': case 'S':
        set_range(t, 9, 13);
        set_add(t, ' ');
        break;
    default:
        return -1;
    }
    if (e >= 'A' && e <= 'Z') {
        t[0] = ~t[0];
        t[1] = ~t[1];
    }
    set[0] |= t[0];
    set[1] |= t[1];
    return 0;
}

/* A single-character escape outside \d\w\s: its character, or -1. */
static int char_escape(int e)
{
    switch (e) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'f': return '\f';
    case 'v': return '\v';
    default: return is_syntax(e) || e == '-' ? e : -1;
    }
}

/* Parse p as a "simple" pattern into re->items; leaves re->simple 0 when it is not one. */
static void simple_kind(mcpc_schema_re *re, const char *p, size_t n)
{
    size_t i = 0, k = 0;
    if (i < n && p[i] == '^') {
        re->anch_start = 1;
        i++;
    }
    while (i < n) {
        re_item it;
        memset(&it, 0, sizeof it);
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x80 || k >= RE_MAX_ITEMS)
            return;
        if (c == '$') {
            if (i + 1 != n)
                return;
            re->anch_end = 1;
            break;
        }
        if (c == '\\') {
            if (i + 1 >= n)
                return;
            int e = (unsigned char)p[i + 1];
            if (set_escape(it.set, e) < 0) {
                int ch = char_escape(e);
                if (ch < 0)
                    return;
                set_add(it.set, (unsigned)ch);
            }
            i += 2;
        } else if (c == '[') {
            int neg = 0;
            i++;
            if (i < n && p[i] == '^') {
                neg = 1;
                i++;
            }
            while (i < n && p[i] != ']') {
                int a = (unsigned char)p[i], b;
                if (a >= 0x80)
                    return;
                if (a == '\\') {
                    if (i + 1 >= n)
                        return;
                    if (set_escape(it.set, (unsigned char)p[i + 1]) == 0) {
                        i += 2;
                        continue;
                    }
                    a = char_escape((unsigned char)p[i + 1]);
                    if (a < 0)
                        return;
                    i += 2;
                } else
                    i++;
                if (i + 1 < n && p[i] == '-' && p[i + 1] != ']') {
                    b = (unsigned char)p[i + 1];
                    if (b >= 0x80 || b == '\\' || b < a)
                        return;
                    set_range(it.set, (unsigned)a, (unsigned)b);
                    i += 2;
                } else
                    set_add(it.set, (unsigned)a);
            }
            if (i >= n)
                return;
            i++;
            if (neg) {
                it.set[0] = ~it.set[0];
                it.set[1] = ~it.set[1];
            }
        } else if (c == '.') {
            it.set[0] = ~0ull & ~(1ull << '\n') & ~(1ull << '\r');
            it.set[1] = ~0ull;
            i++;
        } else if (strchr("^$()|*+?{}]", c))
            return;
        else {
            set_add(it.set, c);
            i++;
        }
        it.min = it.max = 1;
        if (i < n && (p[i] == '*' || p[i] == '+' || p[i] == '?')) {
            it.min = p[i] == '+';
            it.max = p[i] == '?' ? 1 : RE_UNBOUNDED;
            i++;
        } else if (i < n && p[i] == '{') {
            unsigned long lo = 0, hi;
            size_t j = i + 1;
            if (j >= n || p[j] < '0' || p[j] > '9')
                return;
            while (j < n && p[j] >= '0' && p[j] <= '9' && lo < 100000)
                lo = lo * 10 + (unsigned long)(p[j++] - '0');
            hi = lo;
            if (j < n && p[j] == ',') {
                j++;
                if (j < n && p[j] == '}')
                    hi = RE_UNBOUNDED;
                else {
                    hi = 0;
                    while (j < n && p[j] >= '0' && p[j] <= '9' && hi < 100000)
                        hi = hi * 10 + (unsigned long)(p[j++] - '0');
                }
            }
            if (j >= n || p[j] != '}' || hi < lo || lo > 1000 || (hi > 1000 && hi != RE_UNBOUNDED))
                return;
            it.min = (uint32_t)lo;
            it.max = (uint32_t)hi;
            i = j + 1;
        }
        if (i < n && p[i] == '?')
            i++;   /* laziness changes which match, not whether one exists */
        re->items[k++] = it;
    }
    re->n_items = k;
    re->simple = 1;
    if (re->anch_start && re->anch_end) {
        size_t len = 0;
        for (size_t j = 0; j < k; j++) {
            if (re->items[j].min != re->items[j].max || len + re->items[j].min > 63)
                return;
            for (uint32_t q = 0; q < re->items[j].min; q++)
                re->at[len++] = (unsigned char)j;
        }
        re->fixed_len = len;
        re->fixed = 1;
    }
}

/* Anchored shapes that need one pass: "^[set]{m,n}$" and fixed-length sequences. 1 match, 0
 * no match, -2 when a non-ASCII byte decides (code points are PCRE2's business). */
static int simple_anchored(const mcpc_schema_re *re, const char *s, size_t n)
{
    int ok = 1;
    if (re->n_items == 1) {
        const re_item *it = &re->items[0];
        if (n < it->min || n > it->max)
            ok = 0;
        for (size_t p = 0; p < n; p++) {
            unsigned ch = (unsigned char)s[p];
            if (ch >= 0x80)
                return -2;
            if (ok && !((it->set[ch >> 6] >> (ch & 63)) & 1))
                return 0;
        }
        return ok;
    }
    if (n != re->fixed_len)
        ok = 0;
    for (size_t p = 0; p < n; p++) {
        unsigned ch = (unsigned char)s[p];
        if (ch >= 0x80)
            return -2;
        if (ok && !((re->items[re->at[p]].set[ch >> 6] >> (ch & 63)) & 1))
            return 0;
    }
    return ok;
}

/* Bit-parallel run of a simple pattern over an ASCII subject of n < 64 bytes: bit p of R is
 * "the items so far can end at position p". */
static int simple_match(const mcpc_schema_re *re, const char *s, size_t n)
{
    uint64_t all = n == 63 ? ~0ull : (2ull << n) - 1;   /* positions 0..n */
    uint64_t R = re->anch_start ? 1 : all;
    for (size_t k = 0; k < re->n_items && R; k++) {
        const re_item *it = &re->items[k];
        uint64_t M = 0, acc = 0, cur = R;
        for (size_t p = 0; p < n; p++) {
            unsigned ch = (unsigned char)s[p];
            M |= ((it->set[ch >> 6] >> (ch & 63)) & 1) << p;
        }
        for (uint32_t step = 0;; step++) {
            if (step >= it->min)
                acc |= cur;
            if (step == it->max || !cur)
                break;
            uint64_t next = (cur & M) << 1;
            if (step >= it->min && (next & ~acc) == 0 && it->max == RE_UNBOUNDED)
                break;   /* nothing new can be reached */
            cur = next & all;
        }
        R = acc;
    }
    return re->anch_end ? (R >> n) & 1 : R != 0;
}

/* Plain text between an optional "^" and an optional "$": matched without PCRE2. */
static void literal_kind(mcpc_schema_re *re, const char *p, size_t n)
{
    size_t a = 0, z = n;
    int head = 0, tail = 0;
    if (z > a && p[a] == '^') {
        head = 1;
        a++;
    }
    if (z > a && p[z - 1] == '$' && (z < 2 || p[z - 2] != '\\')) {
        tail = 1;
        z--;
    }
    for (size_t i = a; i < z; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x80 || strchr("\\^$.|?*+()[]{}", c))
            return;
    }
    re->lit = malloc(z - a + 1);
    if (!re->lit)
        return;
    memcpy(re->lit, p + a, z - a);
    re->lit[z - a] = '\0';
    re->litlen = z - a;
    re->kind = head && tail ? RE_EXACT : head ? RE_PREFIX : tail ? RE_SUFFIX : RE_CONTAINS;
}

/* New *out; the caller frees it with mcpc_schema_re_free. */
mcpc_err mcpc_schema_re_compile(const char *pat, size_t len, size_t max_pattern,
                                mcpc_schema_re **out, char *err, size_t errlen)
{
    mcpc_err rc = MCPC_ERR_NOMEM;
    int unsupported = 0, ec;
    size_t tl = 0;
    PCRE2_SIZE eo;
    char *t = NULL;
    pcre2_compile_context *cc = NULL;
    mcpc_schema_re *re = calloc(1, sizeof *re);
    *out = NULL;
    if (!re)
        goto out;
    if (len > max_pattern) {
        snprintf(err, errlen, "regex of %zu bytes exceeds the %zu-byte bound", len, max_pattern);
        rc = MCPC_ERR_TOO_BIG;
        goto out;
    }
    re->src = strndup(pat, len);
    if (!re->src)
        goto out;
    t = mcpc_schema_re_translate(pat, len, &tl, &unsupported, err, errlen);
    if (!t) {
        rc = unsupported ? MCPC_ERR_UNSUPPORTED : MCPC_ERR_INVALID;
        goto out;
    }
    cc = pcre2_compile_context_create(NULL);
    if (!cc)
        goto out;
    /* nesting and size bounds keep compile time and memory small for hostile patterns */
    pcre2_set_parens_nest_limit(cc, 64);
    pcre2_set_max_pattern_length(cc, 4 * max_pattern + 256);
    re->code = pcre2_compile((PCRE2_SPTR)t, tl,
                             PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C,
                             &ec, &eo, cc);
    if (!re->code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "regex /%.*s/: %s", (int)(len > 60 ? 60 : len), pat, (char *)msg);
        /* lookbehind of variable length is valid ECMA that PCRE2 cannot do */
        rc = ec == 125 ? MCPC_ERR_UNSUPPORTED : MCPC_ERR_INVALID;
        goto out;
    }
    re->jit = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0;
    literal_kind(re, pat, len);
    if (re->kind == RE_PCRE)
        simple_kind(re, pat, len);
    *out = re;
    re = NULL;
    rc = MCPC_OK;
out:
    if (rc == MCPC_ERR_NOMEM && errlen && !err[0])
        snprintf(err, errlen, "out of memory compiling a regex");
    pcre2_compile_context_free(cc);
    free(t);
    mcpc_schema_re_free(re);
    return rc;
}

/* NULL is fine. */
void mcpc_schema_re_free(mcpc_schema_re *re)
{
    if (!re)
        return;
    pcre2_code_free(re->code);
    free(re->lit);
    free(re->src);
    free(re);
}

/* The pattern as written in the schema. */
const char *mcpc_schema_re_source(const mcpc_schema_re *re)
{
    return re->src;
}

/* memmem is a GNU extension; literals are short, so the plain scan is enough. */
static int contains(const char *s, size_t n, const char *lit, size_t ln)
{
    if (ln == 0)
        return 1;
    for (size_t i = 0; i + ln <= n; i++)
        if (s[i] == lit[0] && memcmp(s + i, lit, ln) == 0)
            return 1;
    return 0;
}

/* 1 when no byte has the high bit set, 8 bytes at a time. */
static int ascii(const char *s, size_t n)
{
    uint64_t acc = 0, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= (unsigned char)s[i];
    return (acc & 0x8080808080808080ull) == 0;
}

/* Literal and simple patterns first, then PCRE2 (JIT when compiled) under mctx's limits. */
int mcpc_schema_re_match(const mcpc_schema_re *re, const char *s, size_t n,
                         pcre2_match_data *md, const pcre2_match_context *mctx)
{
    int rc;
    switch (re->kind) {
    case RE_EXACT:
        return n == re->litlen && memcmp(s, re->lit, n) == 0;
    case RE_PREFIX:
        return n >= re->litlen && memcmp(s, re->lit, re->litlen) == 0;
    case RE_SUFFIX:
        return n >= re->litlen && memcmp(s + n - re->litlen, re->lit, re->litlen) == 0;
    case RE_CONTAINS:
        return contains(s, n, re->lit, re->litlen);
    default:
        break;
    }
    if (re->simple && re->anch_start && re->anch_end && (re->n_items == 1 || re->fixed)) {
        int m = simple_anchored(re, s, n);
        if (m != -2)
            return m;
    } else if (re->simple && n < 64 && ascii(s, n))
        return simple_match(re, s, n);
    if (!md && !(md = mcpc_schema_re_scratch()))
        return -1;
    /* The context is only read by PCRE2; its API is not const-qualified. The JIT fast path
     * skips the UTF-8 check, so it only gets text known to be ASCII; anything else goes
     * through pcre2_match, which checks (and still runs the JIT code). PCRE2_MATCH_INVALID_UTF
     * is not used: 10.42's JIT then fails to match \D, \W, \S against non-ASCII. */
    if (re->jit && ascii(s, n))
        rc = pcre2_jit_match(re->code, (PCRE2_SPTR)s, n, 0, 0, md, (pcre2_match_context *)mctx);
    else
        rc = pcre2_match(re->code, (PCRE2_SPTR)s, n, 0, 0, md, (pcre2_match_context *)mctx);
    if (rc == PCRE2_ERROR_NOMATCH || rc >= 0)
        return rc >= 0;
    if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21)
        return 0;   /* not UTF-8 (only reachable through jansson's *_nocheck): no match */
    return -1;   /* match/depth/JIT stack limit */
}

/* Scratch match data, one per thread: the validator itself stays read-only. The thread-local
 * pointer is the fast path; the pthread key only frees the block when a thread exits. */
static _Thread_local pcre2_match_data *tl_md;
static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static int md_key_ok;

/* Thread-exit destructor for the scratch match data. */
static void md_free(void *p)
{
    pcre2_match_data_free(p);
}

/* Create the key once per process. */
static void md_init(void)
{
    md_key_ok = pthread_key_create(&md_key, md_free) == 0;
}

pcre2_match_data *mcpc_schema_re_scratch(void)
{
    if (tl_md)
        return tl_md;
    pthread_once(&md_once, md_init);
    tl_md = pcre2_match_data_create(1, NULL);
    if (tl_md && md_key_ok)
        pthread_setspecific(md_key, tl_md);
    return tl_md;
}
