/* Numbers for JSON Schema: exact decimal multipleOf, exact integer/real comparison, integrality.
 * Binary floating point would call 0.0075 not a multiple of 0.0001; decimals do not. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_int.h"

/* Drop trailing decimal zeros so mantissas stay small. */
static void dec_norm(mcpc_schema_dec *d)
{
    if (d->mant == 0) {
        d->exp = 0;
        d->neg = 0;
        return;
    }
    while (d->mant % 10 == 0) {
        d->mant /= 10;
        d->exp++;
    }
}

/* Shortest decimal that reads back as v (15, 16 or 17 significant digits, zeros stripped). */
static int dec_from_double(double v, mcpc_schema_dec *out)
{
    char buf[48];
    memset(out, 0, sizeof *out);
    if (!isfinite(v))
        return -1;
    if (v == 0)
        return 0;
    for (int p = 15; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, v);
        if (strtod(buf, NULL) != v && p < 17)
            continue;
        /* "-d.ddde+XX" */
        const char *c = buf;
        uint64_t m = 0;
        int digits = 0;
        if (*c == '-') {
            out->neg = 1;
            c++;
        }
        for (; *c && *c != 'e'; c++)
            if (*c >= '0' && *c <= '9') {
                m = m * 10 + (uint64_t)(*c - '0');
                digits++;
            }
        int e = *c == 'e' ? atoi(c + 1) : 0;
        out->mant = m;
        out->exp = e - (digits - 1);
        dec_norm(out);
        return 0;
    }
    return -1;
}

/* x is borrowed; 0 on success, -1 when x is not a finite number. */
int mcpc_schema_dec_from_json(const json_t *x, mcpc_schema_dec *out)
{
    memset(out, 0, sizeof *out);
    if (json_is_integer(x)) {
        json_int_t v = json_integer_value(x);
        out->neg = v < 0;
        out->mant = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
        dec_norm(out);
        return 0;
    }
    if (json_is_real(x))
        return dec_from_double(json_real_value(x), out);
    return -1;
}

/* Exact: is x / m an integer, for decimals x and m (m > 0)? */
int mcpc_schema_dec_multiple(const mcpc_schema_dec *x, const mcpc_schema_dec *m)
{
    if (x->mant == 0)
        return 1;
    if (m->mant == 0)
        return 0;
    long k = (long)x->exp - (long)m->exp;
    if (k >= 0) {
        /* x.mant * 10^k mod m.mant, by modular arithmetic: no overflow for any k */
        unsigned __int128 r = x->mant % m->mant, p = 1 % m->mant, base = 10 % m->mant;
        long e = k;
        while (e > 0) {
            if (e & 1)
                p = p * base % m->mant;
            base = base * base % m->mant;
            e >>= 1;
        }
        return (r * p) % m->mant == 0;
    }
    /* need x.mant divisible by m.mant * 10^-k; a divisor larger than x.mant cannot divide it */
    uint64_t d = m->mant;
    for (long i = 0; i < -k; i++) {
        if (d > x->mant / 10)
            return 0;
        d *= 10;
    }
    return x->mant % d == 0;
}

/* x is borrowed. Integers against integer bounds compare exactly; otherwise long double, whose
 * 64-bit mantissa holds every int64 and every double exactly. */
int mcpc_schema_num_cmp(const json_t *x, const mcpc_schema_num *b)
{
    long double xv, bv;
    if (json_is_integer(x)) {
        json_int_t v = json_integer_value(x);
        if (b->is_int)
            return v < b->i ? -1 : v > b->i;
        xv = (long double)v;
    } else
        xv = (long double)json_real_value(x);
    bv = b->is_int ? (long double)b->i : (long double)b->d;
    return xv < bv ? -1 : xv > bv;
}

/* x is borrowed. Without libm: every double of magnitude 2^53 or more is an integer, and
 * below that the int64 round trip is exact. */
int mcpc_schema_is_integral(const json_t *x)
{
    if (json_is_integer(x))
        return 1;
    if (json_is_real(x)) {
        double d = json_real_value(x);
        if (!isfinite(d))
            return 0;
        if (d >= 9007199254740992.0 || d <= -9007199254740992.0)
            return 1;
        return (double)(json_int_t)d == d;
    }
    return 0;
}
