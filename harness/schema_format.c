/* "format" checkers, hand-written so an assertion costs a scan of the string and no regex.
 * Grammars: RFC 3339 (date-time, date, time, duration), RFC 5321 (email), RFC 1123 + RFC 5890
 * A-labels (hostname), RFC 3986/3987 (uri, uri-reference, iri, iri-reference), RFC 4291 (ipv6),
 * RFC 4122 (uuid), RFC 6570 (uri-template), RFC 6901 (json-pointer), draft relative pointers,
 * and ECMA-262 (regex, through the same translator as "pattern"). */
#include <stdlib.h>
#include <string.h>

#include "schema_int.h"

static const char *const fmt_names[] = {
    [F_UNKNOWN] = "", [F_DATE_TIME] = "date-time", [F_DATE] = "date", [F_TIME] = "time",
    [F_DURATION] = "duration", [F_EMAIL] = "email", [F_IDN_EMAIL] = "idn-email",
    [F_HOSTNAME] = "hostname", [F_IDN_HOSTNAME] = "idn-hostname", [F_IPV4] = "ipv4",
    [F_IPV6] = "ipv6", [F_URI] = "uri", [F_URI_REF] = "uri-reference", [F_IRI] = "iri",
    [F_IRI_REF] = "iri-reference", [F_UUID] = "uuid", [F_URI_TEMPLATE] = "uri-template",
    [F_JSON_POINTER] = "json-pointer", [F_REL_JSON_POINTER] = "relative-json-pointer",
    [F_REGEX] = "regex",
};

/* F_* for a format name; F_UNKNOWN when not one of ours. */
int mcpc_schema_format_id(const char *name)
{
    for (int i = 1; i < (int)(sizeof fmt_names / sizeof fmt_names[0]); i++)
        if (strcmp(fmt_names[i], name) == 0)
            return i;
    return F_UNKNOWN;
}

/* Static name of a format id ("" for unknown). */
const char *mcpc_schema_format_name(int id)
{
    return id > 0 && id < (int)(sizeof fmt_names / sizeof fmt_names[0]) ? fmt_names[id] : "";
}

/* ASCII only: locale-free, and non-ASCII digits must not count. */
static int isdig(int c)
{
    return c >= '0' && c <= '9';
}

/* ASCII letters. */
static int isalph(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ASCII hex digits. */
static int ishex(int c)
{
    return isdig(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* k ASCII digits at s[*i] as a number, or -1. */
static int digits(const char *s, size_t n, size_t *i, int k)
{
    int v = 0;
    if (*i + (size_t)k > n)
        return -1;
    for (int j = 0; j < k; j++) {
        unsigned char c = (unsigned char)s[*i + (size_t)j];
        if (!isdig(c))
            return -1;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)k;
    return v;
}

/* Decode one UTF-8 code point at s[*i]; -1 on a bad sequence. */
static long utf8_next(const char *s, size_t n, size_t *i)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned c = p[*i];
    long cp;
    size_t len;
    if (c < 0x80) {
        (*i)++;
        return c;
    }
    if ((c & 0xE0) == 0xC0) {
        cp = c & 0x1F;
        len = 2;
    } else if ((c & 0xF0) == 0xE0) {
        cp = c & 0x0F;
        len = 3;
    } else if ((c & 0xF8) == 0xF0) {
        cp = c & 0x07;
        len = 4;
    } else
        return -1;
    if (*i + len > n)
        return -1;
    for (size_t k = 1; k < len; k++) {
        if ((p[*i + k] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (p[*i + k] & 0x3F);
    }
    *i += len;
    return cp;
}

/* ---- dates and times (RFC 3339 section 5.6) ------------------------------------------------ */

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* RFC 3339 full-date at s[*i], advancing *i; days checked per month and leap year. */
static int full_date(const char *s, size_t n, size_t *i)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = digits(s, n, i, 4), m, d;
    if (y < 0 || *i >= n || s[(*i)++] != '-')
        return 0;
    m = digits(s, n, i, 2);
    if (m < 1 || m > 12 || *i >= n || s[(*i)++] != '-')
        return 0;
    d = digits(s, n, i, 2);
    return d >= 1 && d <= mdays[m - 1] + (m == 2 && leap(y));
}

/* RFC 3339 full-time at s[*i] (offset required); leap seconds only at 23:59:60 UTC. */
static int full_time(const char *s, size_t n, size_t *i)
{
    int h = digits(s, n, i, 2), m, sec, oh = 0, om = 0, sign = 0;
    if (h < 0 || h > 23 || *i >= n || s[(*i)++] != ':')
        return 0;
    m = digits(s, n, i, 2);
    if (m < 0 || m > 59 || *i >= n || s[(*i)++] != ':')
        return 0;
    sec = digits(s, n, i, 2);
    if (sec < 0 || sec > 60)
        return 0;
    if (*i < n && s[*i] == '.') {
        size_t st = ++(*i);
        while (*i < n && isdig((unsigned char)s[*i]))
            (*i)++;
        if (*i == st)
            return 0;
    }
    if (*i >= n)
        return 0;
    if (s[*i] == 'Z' || s[*i] == 'z')
        (*i)++;
    else if (s[*i] == '+' || s[*i] == '-') {
        sign = s[(*i)++] == '+' ? 1 : -1;
        oh = digits(s, n, i, 2);
        if (oh < 0 || oh > 23 || *i >= n || s[(*i)++] != ':')
            return 0;
        om = digits(s, n, i, 2);
        if (om < 0 || om > 59)
            return 0;
    } else
        return 0;
    if (sec == 60) {
        /* a leap second exists only at 23:59:60 UTC */
        int utc = (h * 60 + m - sign * (oh * 60 + om)) % 1440;
        if (utc < 0)
            utc += 1440;
        if (utc != 23 * 60 + 59)
            return 0;
    }
    return 1;
}

/* "date". */
static int f_date(const char *s, size_t n)
{
    size_t i = 0;
    return full_date(s, n, &i) && i == n;
}

/* "time". */
static int f_time(const char *s, size_t n)
{
    size_t i = 0;
    return full_time(s, n, &i) && i == n;
}

/* "date-time": full-date "T" full-time (T and Z in either case). */
static int f_date_time(const char *s, size_t n)
{
    size_t i = 0;
    if (!full_date(s, n, &i) || i >= n || (s[i] != 'T' && s[i] != 't'))
        return 0;
    i++;
    return full_time(s, n, &i) && i == n;
}

/* RFC 3339 appendix A: P (date [T time] | T time | nW), units in order without gaps. */
static int f_duration(const char *s, size_t n)
{
    static const char date_units[] = "YMD", time_units[] = "HMS";
    size_t i = 1;
    int last = -1, in_time = 0, any = 0, any_time = 0, week = 0;
    if (n < 2 || s[0] != 'P')
        return 0;
    while (i < n) {
        if (s[i] == 'T') {
            if (in_time || week)
                return 0;
            in_time = 1;
            last = -1;
            i++;
            continue;
        }
        size_t st = i;
        while (i < n && isdig((unsigned char)s[i]))
            i++;
        if (i == st || i >= n)
            return 0;
        char u = s[i++];
        if (u == 'W') {
            if (any || in_time)
                return 0;
            week = 1;
            any = 1;
            continue;
        }
        if (week)
            return 0;
        const char *units = in_time ? time_units : date_units;
        const char *p = strchr(units, u);
        if (!p || !u)
            return 0;
        int idx = (int)(p - units);
        /* each unit must follow the one before it directly (no Y..D, no H..S) */
        if (last >= 0 ? idx != last + 1 : 0)
            return 0;
        last = idx;
        any = 1;
        if (in_time)
            any_time = 1;
    }
    if (!any || (in_time && !any_time))
        return 0;
    return 1;
}

/* ---- IP addresses -------------------------------------------------------------------------- */

static int ipv4_at(const char *s, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        size_t st = i;
        int v = 0;
        if (part && (i >= n || s[i++] != '.'))
            return 0;
        st = i;
        while (i < n && isdig((unsigned char)s[i]) && i - st < 4)
            v = v * 10 + (s[i++] - '0');
        if (i == st || i - st > 3 || v > 255 || (i - st > 1 && s[st] == '0'))
            return 0;
    }
    return i == n;
}

/* RFC 4291 text forms: at most one "::", an embedded IPv4 tail, no zone, no brackets. */
static int f_ipv6(const char *s, size_t n)
{
    int groups = 0, dbl = 0;
    size_t i = 0;
    if (n < 2)
        return 0;
    if (s[0] == ':') {
        if (s[1] != ':')
            return 0;
        dbl = 1;
        i = 2;
        if (i == n)
            return 1;
    }
    while (i < n) {
        size_t st = i;
        while (i < n && ishex((unsigned char)s[i]))
            i++;
        if (i < n && s[i] == '.') {
            /* embedded IPv4 takes the last 32 bits */
            if (!ipv4_at(s + st, n - st))
                return 0;
            groups += 2;
            i = n;
            break;
        }
        if (i == st || i - st > 4)
            return 0;
        groups++;
        if (i == n)
            break;
        if (s[i] != ':')
            return 0;
        i++;
        if (i < n && s[i] == ':') {
            if (dbl)
                return 0;
            dbl = 1;
            i++;
            if (i == n)
                break;
        } else if (i == n)
            return 0;
    }
    return dbl ? groups <= 7 : groups == 8;
}

/* ---- host names ---------------------------------------------------------------------------- */

/* RFC 3492 punycode decode of an A-label body into code points; count or -1. */
static int puny_decode(const char *s, size_t n, long *out, int cap)
{
    enum { BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700, IBIAS = 72, INITN = 128 };
    long nn = INITN, bias = IBIAS, i = 0;
    int len = 0;
    size_t b = 0, in;
    for (size_t j = 0; j < n; j++)
        if (s[j] == '-')
            b = j;
    for (size_t j = 0; j < b; j++) {
        if ((unsigned char)s[j] >= 0x80 || len >= cap)
            return -1;
        out[len++] = (unsigned char)s[j];
    }
    for (in = b > 0 ? b + 1 : 0; in < n;) {
        long oldi = i, w = 1;
        for (long k = BASE;; k += BASE) {
            if (in >= n)
                return -1;
            int c = (unsigned char)s[in++], d;
            if (c >= '0' && c <= '9')
                d = c - '0' + 26;
            else if (c >= 'a' && c <= 'z')
                d = c - 'a';
            else if (c >= 'A' && c <= 'Z')
                d = c - 'A';
            else
                return -1;
            if (d > (0x7FFFFFFF - i) / w)
                return -1;
            i += d * w;
            long t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
            if (d < t)
                break;
            if (w > 0x7FFFFFFF / (BASE - t))
                return -1;
            w *= BASE - t;
        }
        /* adapt */
        long delta = oldi == 0 ? (i - oldi) / DAMP : (i - oldi) / 2, k = 0;
        delta += delta / (len + 1);
        while (delta > ((BASE - TMIN) * TMAX) / 2) {
            delta /= BASE - TMIN;
            k += BASE;
        }
        bias = k + (BASE - TMIN + 1) * delta / (delta + SKEW);
        if (i / (len + 1) > 0x10FFFF - nn)
            return -1;
        nn += i / (len + 1);
        i %= len + 1;
        if (len >= cap || nn > 0x10FFFF || (nn >= 0xD800 && nn <= 0xDFFF))
            return -1;
        memmove(out + i + 1, out + i, (size_t)(len - i) * sizeof *out);
        out[i++] = nn;
        len++;
    }
    return len;
}

/* 1 when cp is in one of the n [lo, hi] ranges. */
static int in_ranges(long cp, const long (*r)[2], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (cp >= r[i][0] && cp <= r[i][1])
            return 1;
    return 0;
}

/* Combining marks (Mn/Mc/Me), main blocks: a label may not start with one (RFC 5891 4.2.3.2). */
static const long marks[][2] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x05BF, 0x05BF}, {0x05C1, 0x05C2},
    {0x05C4, 0x05C5}, {0x05C7, 0x05C7}, {0x0610, 0x061A}, {0x064B, 0x065F}, {0x0670, 0x0670},
    {0x06D6, 0x06DC}, {0x06DF, 0x06E4}, {0x06E7, 0x06E8}, {0x06EA, 0x06ED}, {0x0900, 0x0903},
    {0x093A, 0x093C}, {0x093E, 0x094F}, {0x0951, 0x0957}, {0x0962, 0x0963}, {0x0981, 0x0983},
    {0x09BC, 0x09BC}, {0x09BE, 0x09CD}, {0x0A01, 0x0A03}, {0x0A3C, 0x0A51}, {0x0B01, 0x0B03},
    {0x0BBE, 0x0BCD}, {0x0C00, 0x0C04}, {0x0C3E, 0x0C56}, {0x0D00, 0x0D03}, {0x0D3E, 0x0D4D},
    {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF},
    {0x20D0, 0x20FF}, {0x302A, 0x302F}, {0x3099, 0x309A}, {0xFE20, 0xFE2F},
};
/* Viramas (canonical combining class 9) for the ZERO WIDTH JOINER/NON-JOINER rules. */
static const long viramas[][2] = {
    {0x094D, 0x094D}, {0x09CD, 0x09CD}, {0x0A4D, 0x0A4D}, {0x0ACD, 0x0ACD}, {0x0B4D, 0x0B4D},
    {0x0BCD, 0x0BCD}, {0x0C4D, 0x0C4D}, {0x0CCD, 0x0CCD}, {0x0D3B, 0x0D3C}, {0x0D4D, 0x0D4D},
    {0x0DCA, 0x0DCA}, {0x0E3A, 0x0E3A}, {0x0EBA, 0x0EBA}, {0x0F84, 0x0F84}, {0x1039, 0x103A},
    {0x1714, 0x1715}, {0x1734, 0x1734}, {0x17D2, 0x17D2}, {0x1A60, 0x1A60}, {0x1B44, 0x1B44},
    {0x1BAA, 0x1BAB}, {0x1BF2, 0x1BF3}, {0x2D7F, 0x2D7F}, {0xA806, 0xA806}, {0xA8C4, 0xA8C4},
    {0xA953, 0xA953}, {0xA9C0, 0xA9C0}, {0xAAF6, 0xAAF6}, {0xABED, 0xABED},
};
/* Code points IDNA2008 disallows that the tests and common abuse reach (RFC 5892 + exceptions). */
static const long disallowed[][2] = {
    {0x0000, 0x002C}, {0x002E, 0x002F}, {0x003A, 0x0060}, {0x007B, 0x00B6}, {0x00B8, 0x00DE},
    {0x0640, 0x0640}, {0x07FA, 0x07FA}, {0x302E, 0x302F}, {0x3031, 0x3035}, {0x303B, 0x303B},
    {0x2000, 0x200B}, {0x200E, 0x2FFF}, {0x3000, 0x3000}, {0xFF00, 0xFFEF},
};

/* Greek script (RFC 5892 KERAIA rule). */
static int is_greek(long c)
{
    return (c >= 0x0370 && c <= 0x03FF && c != 0x0375) || (c >= 0x1F00 && c <= 0x1FFF);
}

/* Hebrew script (GERESH/GERSHAYIM rules). */
static int is_hebrew(long c)
{
    return c >= 0x0590 && c <= 0x05FF;
}

/* Hiragana, Katakana (but the middle dot) or Han (KATAKANA MIDDLE DOT rule). */
static int is_kana_han(long c)
{
    return (c >= 0x3040 && c <= 0x30FF && c != 0x30FB) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF);
}

/* RFC 5892 contextual rules and the checks of RFC 5891 5.4 on one U-label. */
static int ulabel_ok(const long *cp, int n)
{
    int arabic = 0, ext_arabic = 0, kana = 0, has_kdot = 0;
    if (n == 0 || in_ranges(cp[0], marks, sizeof marks / sizeof marks[0]))
        return 0;
    if (n >= 4 && cp[2] == '-' && cp[3] == '-')
        return 0;   /* RFC 5891 4.2.3.1 */
    for (int i = 0; i < n; i++) {
        long c = cp[i];
        if (c >= 'A' && c <= 'Z')
            return 0;   /* A-labels decode to lower case only */
        if (c != 0x200C && c != 0x200D && c != 0x00B7 && c != 0x0375 && c != 0x05F3 &&
            c != 0x05F4 && c != 0x30FB && in_ranges(c, disallowed, sizeof disallowed / sizeof disallowed[0]))
            return 0;
        switch (c) {
        case 0x00B7:   /* MIDDLE DOT: between two 'l' */
            if (i == 0 || i == n - 1 || cp[i - 1] != 'l' || cp[i + 1] != 'l')
                return 0;
            break;
        case 0x0375:   /* GREEK KERAIA: followed by Greek */
            if (i == n - 1 || !is_greek(cp[i + 1]))
                return 0;
            break;
        case 0x05F3:
        case 0x05F4:   /* HEBREW GERESH/GERSHAYIM: preceded by Hebrew */
            if (i == 0 || !is_hebrew(cp[i - 1]))
                return 0;
            break;
        case 0x30FB:
            has_kdot = 1;
            break;
        case 0x200D:   /* ZERO WIDTH JOINER: after a virama */
            if (i == 0 || !in_ranges(cp[i - 1], viramas, sizeof viramas / sizeof viramas[0]))
                return 0;
            break;
        case 0x200C:   /* ZWNJ: after a virama, or inside an Arabic joining context */
            if (i == 0 || (!in_ranges(cp[i - 1], viramas, sizeof viramas / sizeof viramas[0]) &&
                           !(cp[i - 1] >= 0x0620 && cp[i - 1] <= 0x06FF && i + 1 < n &&
                             cp[i + 1] >= 0x0620 && cp[i + 1] <= 0x06FF)))
                return 0;
            break;
        default:
            break;
        }
        if (c >= 0x0660 && c <= 0x0669)
            arabic = 1;
        if (c >= 0x06F0 && c <= 0x06F9)
            ext_arabic = 1;
        if (is_kana_han(c))
            kana = 1;
    }
    if (arabic && ext_arabic)
        return 0;
    if (has_kdot && !kana)
        return 0;
    return 1;
}

/* One LDH label, plus A-label validation for "xn--". */
static int ldh_label(const char *s, size_t n)
{
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalph(c) && !isdig(c) && c != '-')
            return 0;
    }
    if (n >= 4 && s[2] == '-' && s[3] == '-') {
        long cps[64];
        int k;
        if (!((s[0] == 'x' || s[0] == 'X') && (s[1] == 'n' || s[1] == 'N')))
            return 0;   /* "--" in positions 3-4 is reserved for A-labels */
        k = puny_decode(s + 4, n - 4, cps, 64);
        if (k <= 0)
            return 0;
        int ascii = 1;
        for (int i = 0; i < k; i++)
            if (cps[i] >= 0x80)
                ascii = 0;
        if (ascii)
            return 0;
        return ulabel_ok(cps, k);
    }
    return 1;
}

/* "hostname": RFC 1123 LDH labels, A-labels checked, at most 253 bytes. */
static int f_hostname(const char *s, size_t n)
{
    size_t st = 0;
    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i <= n; i++)
        if (i == n || s[i] == '.') {
            if (!ldh_label(s + st, i - st))
                return 0;
            st = i + 1;
        }
    return 1;
}

/* IDN host names: U-labels checked by code point, LDH and A-labels as for hostname. */
static int f_idn_hostname(const char *s, size_t n)
{
    size_t i = 0, st = 0;
    long cps[256];
    int k = 0, ascii = 1;
    if (n == 0)
        return 0;
    while (i <= n) {
        long c = -2;
        size_t here = i;
        if (i < n) {
            c = utf8_next(s, n, &i);
            if (c < 0)
                return 0;
        } else
            i++;
        if (c == -2 || c == '.' || c == 0x3002 || c == 0xFF0E || c == 0xFF61) {
            if (k == 0)
                return 0;
            if (ascii) {
                if (!ldh_label(s + st, here - st))
                    return 0;
            } else {
                for (int j = 0; j < k; j++)
                    if (cps[j] < 0x80 && !isalph((int)cps[j]) && !isdig((int)cps[j]) &&
                        cps[j] != '-')
                        return 0;
                if (cps[0] == '-' || cps[k - 1] == '-' ||
                    (k >= 4 && cps[2] == '-' && cps[3] == '-'))
                    return 0;
                for (int j = 0; j < k; j++)
                    if (cps[j] >= 'A' && cps[j] <= 'Z')
                        cps[j] += 32;
                if (!ulabel_ok(cps, k))
                    return 0;
            }
            st = i;
            k = 0;
            ascii = 1;
            continue;
        }
        if (k >= 256)
            return 0;
        if (c >= 0x80)
            ascii = 0;
        cps[k++] = c;
    }
    return n <= 1024;
}

/* ---- e-mail (RFC 5321 Mailbox) ------------------------------------------------------------- */

static int atext(long c, int idn)
{
    if (c >= 0x80)
        return idn;
    return isalph((int)c) || isdig((int)c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", (int)c));
}

/* "email" / "idn-email": dot-atom or quoted local part, host name or address literal. */
static int f_email_any(const char *s, size_t n, int idn)
{
    size_t i = 0, at;
    if (n == 0)
        return 0;
    if (s[0] == '"') {
        /* quoted-string: printable ASCII except " and \, or a quoted pair */
        i = 1;
        while (i < n && s[i] != '"') {
            if (s[i] == '\\') {
                if (i + 1 >= n)
                    return 0;
                i += 2;
                continue;
            }
            if ((unsigned char)s[i] < 0x20 && !idn)
                return 0;
            if ((unsigned char)s[i] >= 0x80 && !idn)
                return 0;
            i++;
        }
        if (i >= n)
            return 0;
        i++;
    } else {
        int prev_dot = 1;
        while (i < n && s[i] != '@') {
            if (s[i] == '.') {
                if (prev_dot)
                    return 0;
                prev_dot = 1;
                i++;
                continue;
            }
            long c = utf8_next(s, n, &i);
            if (c < 0 || !atext(c, idn))
                return 0;
            prev_dot = 0;
        }
        if (prev_dot)
            return 0;
    }
    if (i >= n || s[i] != '@')
        return 0;
    at = i + 1;
    if (at >= n)
        return 0;
    if (s[at] == '[') {
        if (s[n - 1] != ']')
            return 0;
        const char *lit = s + at + 1;
        size_t ll = n - at - 2;
        if (ll > 5 && strncmp(lit, "IPv6:", 5) == 0)
            return f_ipv6(lit + 5, ll - 5);
        return ipv4_at(lit, ll);
    }
    return idn ? f_idn_hostname(s + at, n - at) : f_hostname(s + at, n - at);
}

/* ---- URIs and IRIs (RFC 3986, RFC 3987) ---------------------------------------------------- */

static int unreserved(int c)
{
    return isalph(c) || isdig(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 3986 sub-delims. */
static int subdelim(int c)
{
    return c && strchr("!$&'()*+,;=", c) != NULL;
}

/* Advance over one allowed character of a component: extra lists the allowed delimiters. */
static int uri_char(const char *s, size_t n, size_t *i, const char *extra, int iri)
{
    unsigned char c = (unsigned char)s[*i];
    if (c == '%') {
        if (*i + 2 >= n)
            return 0;
        if (!ishex((unsigned char)s[*i + 1]) || !ishex((unsigned char)s[*i + 2]))
            return 0;
        *i += 3;
        return 1;
    }
    if (c >= 0x80) {
        long cp;
        if (!iri)
            return 0;
        cp = utf8_next(s, n, i);
        /* ucschar and iprivate ranges; controls and specials excluded */
        return cp >= 0xA0 && !(cp >= 0xFDD0 && cp <= 0xFDEF) && (cp & 0xFFFE) != 0xFFFE;
    }
    if (unreserved(c) || subdelim(c) || (c && strchr(extra, c))) {
        (*i)++;
        return 1;
    }
    return 0;
}

/* RFC 3986 authority: [userinfo "@"] host [":" port]; one "@" at most. */
static int uri_authority(const char *s, size_t n, int iri)
{
    size_t i = 0, at = n, he;
    for (size_t j = 0; j < n; j++)
        if (s[j] == '@') {
            if (at != n)
                return 0;
            at = j;
        }
    if (at != n) {
        while (i < at)
            if (!uri_char(s, at, &i, ":", iri))
                return 0;
        i = at + 1;
    }
    if (i < n && s[i] == '[') {
        const char *close = memchr(s + i, ']', n - i);
        if (!close)
            return 0;
        he = (size_t)(close - s);
        const char *h = s + i + 1;
        size_t hl = he - i - 1;
        if (hl > 1 && (h[0] == 'v' || h[0] == 'V')) {
            size_t k = 1;
            while (k < hl && ishex((unsigned char)h[k]))
                k++;
            if (k == 1 || k >= hl || h[k] != '.' || k + 1 >= hl)
                return 0;
            for (k++; k < hl; k++)
                if (!unreserved((unsigned char)h[k]) && !subdelim((unsigned char)h[k]) &&
                    h[k] != ':')
                    return 0;
        } else if (!f_ipv6(h, hl))
            return 0;
        i = he + 1;
    } else {
        while (i < n && s[i] != ':')
            if (!uri_char(s, n, &i, "", iri))
                return 0;
    }
    if (i < n) {
        if (s[i] != ':')
            return 0;
        for (i++; i < n; i++)
            if (!isdig((unsigned char)s[i]))
                return 0;
    }
    return 1;
}

/* A URI or relative reference; need_scheme for uri/iri. */
static int f_uri_any(const char *s, size_t n, int need_scheme, int iri)
{
    size_t i = 0, j;
    int scheme = 0;
    for (j = 0; j < n && s[j] != ':' && s[j] != '/' && s[j] != '?' && s[j] != '#'; j++)
        ;
    if (j < n && s[j] == ':') {
        if (j == 0 || !isalph((unsigned char)s[0]))
            return 0;
        for (size_t k = 1; k < j; k++) {
            unsigned char c = (unsigned char)s[k];
            if (!isalph(c) && !isdig(c) && c != '+' && c != '-' && c != '.')
                return 0;
        }
        scheme = 1;
        i = j + 1;
    } else if (need_scheme)
        return 0;
    if (i + 1 < n && s[i] == '/' && s[i + 1] == '/') {
        size_t a = i + 2, e = a;
        while (e < n && s[e] != '/' && s[e] != '?' && s[e] != '#')
            e++;
        if (!uri_authority(s + a, e - a, iri))
            return 0;
        i = e;
    } else if (!scheme) {
        /* path-noscheme: no ':' in the first segment */
        for (j = i; j < n && s[j] != '/' && s[j] != '?' && s[j] != '#'; j++)
            if (s[j] == ':')
                return 0;
    }
    while (i < n && s[i] != '?' && s[i] != '#')
        if (!uri_char(s, n, &i, ":@/", iri))
            return 0;
    if (i < n && s[i] == '?') {
        i++;
        while (i < n && s[i] != '#')
            if (!uri_char(s, n, &i, ":@/?", iri))
                return 0;
    }
    if (i < n && s[i] == '#') {
        i++;
        while (i < n)
            if (!uri_char(s, n, &i, ":@/?", iri))
                return 0;
    }
    return 1;
}

/* RFC 6570 level 4 syntax. */
static int f_uri_template(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '}')
            return 0;
        if (c == '{') {
            size_t e = i + 1;
            while (e < n && s[e] != '}' && s[e] != '{')
                e++;
            if (e >= n || s[e] != '}')
                return 0;
            size_t k = i + 1;
            if (k < e && strchr("+#./;?&", s[k]))
                k++;
            /* variable-list = varspec *( "," varspec ) */
            for (;;) {
                size_t vs = k;
                int prev_dot = 1;
                while (k < e && s[k] != ',' && s[k] != ':' && s[k] != '*') {
                    if (s[k] == '%') {
                        if (k + 2 >= e || !ishex((unsigned char)s[k + 1]) ||
                            !ishex((unsigned char)s[k + 2]))
                            return 0;
                        k += 3;
                        prev_dot = 0;
                    } else if (s[k] == '.') {
                        if (prev_dot)
                            return 0;
                        prev_dot = 1;
                        k++;
                    } else if (isalph((unsigned char)s[k]) || isdig((unsigned char)s[k]) ||
                               s[k] == '_') {
                        prev_dot = 0;
                        k++;
                    } else
                        return 0;
                }
                if (k == vs || prev_dot)
                    return 0;
                if (k < e && s[k] == ':') {
                    size_t ds = ++k;
                    while (k < e && isdig((unsigned char)s[k]))
                        k++;
                    if (k == ds || k - ds > 4 || s[ds] == '0')
                        return 0;
                } else if (k < e && s[k] == '*')
                    k++;
                if (k == e)
                    break;
                if (s[k] != ',')
                    return 0;
                k++;
            }
            i = e + 1;
            continue;
        }
        if (c == '%') {
            if (i + 2 >= n || !ishex((unsigned char)s[i + 1]) || !ishex((unsigned char)s[i + 2]))
                return 0;
            i += 3;
            continue;
        }
        if (c >= 0x80) {
            if (utf8_next(s, n, &i) < 0)
                return 0;
            continue;
        }
        if (c <= 0x20 || c == 0x7F || strchr("\"'<>\\^`|", c)) {
            if (c != '\'')
                return 0;
        }
        i++;
    }
    return 1;
}

/* ---- small ones ---------------------------------------------------------------------------- */

static int f_uuid(const char *s, size_t n)
{
    if (n != 36)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!ishex((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

/* "json-pointer": RFC 6901, "~" only as ~0 or ~1. */
static int f_json_pointer(const char *s, size_t n)
{
    if (n && s[0] != '/')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '~' && (i + 1 >= n || (s[i + 1] != '0' && s[i + 1] != '1')))
            return 0;
    return 1;
}

/* "relative-json-pointer": integer prefix, then "#" or a JSON Pointer. */
static int f_rel_json_pointer(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && isdig((unsigned char)s[i]))
        i++;
    if (i == 0 || (i > 1 && s[0] == '0'))
        return 0;
    if (i == n)
        return 1;
    if (s[i] == '#')
        return i + 1 == n;
    return f_json_pointer(s + i, n - i);
}

/* "regex": compiles under the same ECMA translation as "pattern". */
static int f_regex(const char *s, size_t n)
{
    mcpc_schema_re *re = NULL;
    char err[8];
    mcpc_err rc = mcpc_schema_re_compile(s, n, n + 1, &re, err, sizeof err);
    mcpc_schema_re_free(re);
    /* valid ECMA that PCRE2 cannot run is still a valid regex */
    return rc == MCPC_OK || rc == MCPC_ERR_UNSUPPORTED || rc == MCPC_ERR_NOMEM;
}

/* Dispatch; s need not be NUL-terminated. */
int mcpc_schema_format_check(int id, const char *s, size_t n)
{
    switch (id) {
    case F_DATE_TIME: return f_date_time(s, n);
    case F_DATE: return f_date(s, n);
    case F_TIME: return f_time(s, n);
    case F_DURATION: return f_duration(s, n);
    case F_EMAIL: return f_email_any(s, n, 0);
    case F_IDN_EMAIL: return f_email_any(s, n, 1);
    case F_HOSTNAME: return f_hostname(s, n);
    case F_IDN_HOSTNAME: return f_idn_hostname(s, n);
    case F_IPV4: return ipv4_at(s, n);
    case F_IPV6: return f_ipv6(s, n);
    case F_URI: return f_uri_any(s, n, 1, 0);
    case F_URI_REF: return f_uri_any(s, n, 0, 0);
    case F_IRI: return f_uri_any(s, n, 1, 1);
    case F_IRI_REF: return f_uri_any(s, n, 0, 1);
    case F_UUID: return f_uuid(s, n);
    case F_URI_TEMPLATE: return f_uri_template(s, n);
    case F_JSON_POINTER: return f_json_pointer(s, n);
    case F_REL_JSON_POINTER: return f_rel_json_pointer(s, n);
    case F_REGEX: return f_regex(s, n);
    default: return 1;
    }
}
