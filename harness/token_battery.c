/* The token battery (docs/auth.md §5). Each entry starts from the claims of a good token and
 * breaks exactly one thing, so a server that accepts it has exactly one check missing. */
#include "token_battery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "b64url.h"
#include "dpop.h"

struct mcpc_battery_state {
    mcpc_jose_key *key;
    char *last_call;  /* the last call-valid token */
    char *last_proof; /* and its proof */
};

/* The entries, in the order of docs/auth.md §5: name, per_call, accept, status, reason, what.
 * One list expands into the info table and the name list, so the two cannot drift apart. */
#define ENTRIES(X)                                                                                 \
    X("valid", 0, 1, 0, "", "a valid access token")                                              \
    X("expired", 0, 0, 401, "expired", "exp five minutes ago")                                   \
    X("nbf-future", 0, 0, 401, "nbf", "nbf ten minutes ahead")                                   \
    X("bad-signature", 0, 0, 401, "signature", "one bit of the signature flipped")               \
    X("alg-none", 0, 0, 401, "alg-none", "alg none, empty signature")                            \
    X("hs256-public-key", 0, 0, 401, "alg-hmac",                                                 \
      "HS256 keyed with the AS's published ES256 public key (PEM)")                              \
    X("unknown-kid", 0, 0, 401, "kid-unknown", "signed by the AS key under a kid never published") \
    X("foreign-issuer", 0, 0, 401, "issuer", "iss and signing key of an issuer nobody trusts")   \
    X("wrong-audience", 0, 0, 401, "audience", "aud is another resource")                        \
    X("audience-client-id", 0, 0, 401, "audience", "aud is the client_id, not the resource")     \
    X("query-only", 0, 0, 401, "not-in-header", "a valid token in ?access_token= only")          \
    X("body-only", 0, 0, 401, "not-in-header", "a valid token in a form body only")              \
    X("insufficient-scope", 0, 0, 403, "scope", "a valid token without the scope the call needs") \
    X("static-key", 0, 0, 401, "format", "a fixed string no AS issued")                          \
    X("call-valid", 1, 1, 0, "", "a valid per-call token with its DPoP proof")                   \
    X("call-replayed", 1, 0, 401, "replayed", "the last call-valid token again")                 \
    X("call-other-tool", 1, 0, 401, "tool", "bound to another tool")                             \
    X("call-other-args", 1, 0, 401, "args", "args_sha256 of other arguments")                    \
    X("call-lifetime-61", 1, 0, 401, "lifetime", "exp - iat = 61 s")                             \
    X("call-expired", 1, 0, 401, "expired", "exp a minute ago")                                  \
    X("call-wrong-typ", 1, 0, 401, "typ", "a call token's claims under typ at+jwt")              \
    X("call-wrong-audience", 1, 0, 401, "audience", "aud is another resource")                   \
    X("dpop-missing", 1, 0, 401, "dpop-missing", "no DPoP header")                               \
    X("dpop-wrong-htm", 1, 0, 401, "dpop-htm", "proof htm GET")                                  \
    X("dpop-wrong-htu", 1, 0, 401, "dpop-htu", "proof htu another URL")                          \
    X("dpop-old-iat", 1, 0, 401, "dpop-iat", "proof iat ten minutes ago")                        \
    X("dpop-bad-signature", 1, 0, 401, "dpop-jws", "one bit of the proof's signature flipped")   \
    X("dpop-wrong-ath", 1, 0, 401, "dpop-ath", "proof ath hashes another token")                 \
    X("dpop-other-key", 1, 0, 401, "dpop-jkt", "proof signed by a key the token is not bound to") \
    X("dpop-hmac", 1, 0, 401, "dpop-jws", "proof HS256 keyed with its own jwk's public key")

#define AS_INFO(n, pc, acc, st, why, what) { n, pc, acc, st, why, what },
#define AS_NAME(n, pc, acc, st, why, what) n,
static const mcpc_battery_info infos[] = { ENTRIES(AS_INFO) };
static const char *const names[] = { ENTRIES(AS_NAME) NULL };
#define N_INFOS (sizeof infos / sizeof infos[0])

const char *const *mcpc_battery_names(void)
{
    return names;
}

const mcpc_battery_info *mcpc_battery_lookup(const char *name)
{
    for (size_t i = 0; name && i < N_INFOS; i++)
        if (strcmp(infos[i].name, name) == 0)
            return &infos[i];
    return NULL;
}

mcpc_battery_state *mcpc_battery_state_new(void)
{
    mcpc_battery_state *st = calloc(1, sizeof *st);

    if (st && !(st->key = mcpc_dpop_key_new())) {
        free(st);
        st = NULL;
    }
    return st;
}

void mcpc_battery_state_free(mcpc_battery_state *st)
{
    if (!st)
        return;
    mcpc_jose_key_free(st->key);
    free(st->last_call);
    free(st->last_proof);
    free(st);
}

const mcpc_jose_key *mcpc_battery_state_key(const mcpc_battery_state *st)
{
    return st->key;
}

void mcpc_battery_token_clear(mcpc_battery_token *t)
{
    free(t->token);
    free(t->authorization);
    free(t->dpop);
    free(t->param);
    memset(t, 0, sizeof *t);
}

/* "<prefix> <token>". New string, or NULL. */
static char *join(const char *prefix, const char *sep, const char *token)
{
    size_t n = strlen(prefix) + strlen(sep) + strlen(token) + 1;
    char *s = malloc(n);

    if (s)
        snprintf(s, n, "%s%s%s", prefix, sep, token);
    return s;
}

/* Set a numeric claim; 0 on failure. */
static int set_int(json_t *claims, const char *name, long long v)
{
    return json_object_set_new(claims, name, json_integer((json_int_t)v)) == 0;
}

/* Sign claims with key under {"alg","typ","kid"} where kid (non-NULL) replaces the key's. */
static char *sign_as(const mcpc_jose_key *key, const char *typ, const char *kid,
                     const json_t *claims)
{
    json_t *h = mcpc_jose_header(key, typ);
    char *s = NULL;

    if (h && (!kid || json_object_set_new(h, "kid", json_string(kid)) == 0))
        s = mcpc_jose_sign(key, h, claims);
    json_decref(h);
    return s;
}

/* A header {"alg": alg, "typ", "kid": the key's} for the unsigned and HMAC forgeries. */
static json_t *forged_header(const mcpc_jose_key *key, const char *alg, const char *typ)
{
    return json_pack("{s:s, s:s, s:s}", "alg", alg, "typ", typ, "kid", mcpc_jose_key_kid(key));
}

/* An HMAC-SHA-256 JWS keyed with key's public bytes in the chosen form. */
static char *hmac_with_public(const mcpc_jose_key *key, mcpc_jose_pub_form form,
                              const json_t *header, const json_t *claims)
{
    size_t len = 0;
    unsigned char *secret = mcpc_jose_key_public_bytes(key, form ? form : MCPC_JOSE_PUB_PEM, &len);
    char *s = secret && header ? mcpc_jose_mint_hs256_with(secret, len, header, claims) : NULL;

    free(secret);
    return s;
}

/* The access-token entries: the token in t->token (placement is the caller's). */
static mcpc_err make_access(const mcpc_as *as, const char *name, const mcpc_battery_ctx *ctx,
                            const char *other_resource, long long now, mcpc_battery_token *t)
{
    const mcpc_jose_key *signing = mcpc_as_key(as, MCPC_AS_KEY_SIGNING);
    const char *scope = ctx->scope ? ctx->scope : MCPC_AS_SCOPES;
    json_t *claims = NULL, *h = NULL;
    char kid[44] = "unknown-", *tok = NULL;
    unsigned char rnd[12];
    mcpc_err rc = MCPC_ERR_NOMEM;
    int ok = 1;

    if (strcmp(name, "insufficient-scope") == 0)
        scope = ctx->narrow_scope ? ctx->narrow_scope : "mcp:tools";
    if (strcmp(name, "static-key") == 0) {
        t->token = strdup(MCPC_BATTERY_STATIC_KEY);
        return t->token ? MCPC_OK : MCPC_ERR_NOMEM;
    }
    claims = mcpc_as_access_claims(as, ctx->resource, scope, MCPC_BATTERY_ACCESS_LIFETIME, now);
    if (!claims)
        goto out;
    if (strcmp(name, "expired") == 0) {
        ok = set_int(claims, "iat", now - 600) && set_int(claims, "nbf", now - 600) &&
             set_int(claims, "exp", now - 300);
    } else if (strcmp(name, "nbf-future") == 0) {
        ok = set_int(claims, "nbf", now + 600) && set_int(claims, "exp", now + 900);
    } else if (strcmp(name, "wrong-audience") == 0) {
        ok = json_object_set_new(claims, "aud", json_string(other_resource)) == 0;
    } else if (strcmp(name, "audience-client-id") == 0) {
        ok = json_object_set(claims, "aud", json_object_get(claims, "client_id")) == 0;
    } else if (strcmp(name, "foreign-issuer") == 0) {
        ok = json_object_set_new(claims, "iss", json_string(mcpc_as_foreign_issuer())) == 0;
    }
    if (!ok)
        goto out;

    if (strcmp(name, "alg-none") == 0) {
        h = forged_header(signing, "none", MCPC_AS_ACCESS_TYP);
        tok = h ? mcpc_jose_unsigned(h, claims) : NULL;
    } else if (strcmp(name, "hs256-public-key") == 0) {
        const mcpc_jose_key *es = mcpc_as_key(as, MCPC_AS_KEY_ES256);
        h = forged_header(es, "HS256", MCPC_AS_ACCESS_TYP);
        tok = hmac_with_public(es, ctx->hs256_form, h, claims);
    } else if (strcmp(name, "unknown-kid") == 0) {
        if (RAND_bytes(rnd, sizeof rnd) != 1) {
            ERR_clear_error();
            goto out;
        }
        mcpc_b64url_encode_to(rnd, sizeof rnd, kid + strlen(kid));
        tok = sign_as(signing, MCPC_AS_ACCESS_TYP, kid, claims);
    } else if (strcmp(name, "foreign-issuer") == 0) {
        tok = sign_as(mcpc_as_key(as, MCPC_AS_KEY_FOREIGN), MCPC_AS_ACCESS_TYP, NULL, claims);
    } else {
        tok = mcpc_as_sign(as, MCPC_AS_ACCESS_TYP, claims);
        if (tok && strcmp(name, "bad-signature") == 0) {
            char *bad = mcpc_jose_tamper(tok, MCPC_JOSE_TAMPER_SIGNATURE);
            free(tok);
            tok = bad;
        }
    }
    if (!tok)
        goto out;
    t->token = tok;
    tok = NULL;
    rc = MCPC_OK;
out:
    free(tok);
    json_decref(h);
    json_decref(claims);
    return rc;
}

/* A copy of arguments (NULL: {}) that canonicalizes differently. New reference, or NULL. */
static json_t *other_arguments(const json_t *arguments)
{
    json_t *o = json_is_object(arguments) ? json_deep_copy(arguments) : json_object();

    if (o && json_object_set_new(o, "mcpcert-other", json_true())) {
        json_decref(o);
        return NULL;
    }
    if (o && json_equal(o, arguments)) /* it was there already: change its value instead */
        json_object_set_new(o, "mcpcert-other", json_string("other"));
    return o;
}

/* The per-call entries: token, "DPoP <token>" and the proof. */
static mcpc_err make_call(const mcpc_as *as, const char *name, const mcpc_battery_ctx *ctx,
                          const char *other_resource, long long now, mcpc_battery_token *t)
{
    mcpc_jose_key *fresh = NULL, *other = NULL;
    const mcpc_jose_key *key;
    const char *resource = ctx->resource, *tool = ctx->tool, *typ = MCPC_AS_CALL_TYP;
    const char *htm = "POST", *ath_of = NULL;
    json_t *args = NULL, *claims = NULL, *h = NULL, *pc = NULL;
    long long lifetime = MCPC_BATTERY_CALL_LIFETIME, iat = now, proof_iat = now;
    char jkt[44], *tok = NULL, *proof = NULL, *htu = NULL;
    mcpc_err rc = MCPC_ERR_NOMEM;

    if (!ctx->endpoint || !ctx->tool)
        return MCPC_ERR_USAGE;
    key = ctx->state ? ctx->state->key : (fresh = mcpc_dpop_key_new());
    if (!key || mcpc_dpop_thumbprint(key, jkt) != MCPC_OK)
        goto out;
    if (strcmp(name, "call-replayed") == 0) {
        if (!ctx->state || !ctx->state->last_call) {
            rc = MCPC_ERR_USAGE;
            goto out;
        }
        tok = strdup(ctx->state->last_call);
    } else {
        if (strcmp(name, "call-other-tool") == 0)
            tool = ctx->other_tool ? ctx->other_tool : "mcpcert-other-tool";
        else if (strcmp(name, "call-lifetime-61") == 0)
            lifetime = 61;
        else if (strcmp(name, "call-expired") == 0)
            iat = now - 2 * MCPC_BATTERY_CALL_LIFETIME;
        else if (strcmp(name, "call-wrong-typ") == 0)
            typ = MCPC_AS_ACCESS_TYP;
        else if (strcmp(name, "call-wrong-audience") == 0)
            resource = other_resource;
        if (strcmp(name, "call-other-args") == 0 && !(args = other_arguments(ctx->arguments)))
            goto out;
        claims = mcpc_as_call_claims(as, resource, tool, args ? args : ctx->arguments, jkt,
                                     lifetime, iat);
        tok = claims ? mcpc_as_sign(as, typ, claims) : NULL;
    }
    if (!tok)
        goto out;

    /* the proof: good unless the entry is a dpop-* one */
    ath_of = tok;
    htu = strdup(ctx->endpoint);
    if (!htu)
        goto out;
    if (strcmp(name, "dpop-wrong-htm") == 0) {
        htm = "GET";
    } else if (strcmp(name, "dpop-wrong-htu") == 0) {
        free(htu);
        if (!(htu = join(ctx->endpoint, "", "-other")))
            goto out;
    } else if (strcmp(name, "dpop-old-iat") == 0) {
        proof_iat = now - 2 * MCPC_DPOP_MAX_SKEW;
    } else if (strcmp(name, "dpop-wrong-ath") == 0) {
        ath_of = "mcpcert-some-other-token";
    } else if (strcmp(name, "dpop-other-key") == 0) {
        if (!(other = mcpc_dpop_key_new()))
            goto out;
        key = other;
    }
    if (strcmp(name, "dpop-missing") == 0) {
        proof = NULL;
    } else if (strcmp(name, "call-replayed") == 0 && ctx->replay_proof) {
        if (!(proof = strdup(ctx->state->last_proof)))
            goto out;
    } else if (strcmp(name, "dpop-hmac") == 0) {
        h = mcpc_dpop_header(key);
        pc = mcpc_dpop_claims(htm, htu, ath_of, proof_iat, NULL);
        if (!h || !pc || json_object_set_new(h, "alg", json_string("HS256")))
            goto out;
        if (!(proof = hmac_with_public(key, ctx->hs256_form, h, pc)))
            goto out;
    } else {
        if (!(proof = mcpc_dpop_proof(key, htm, htu, ath_of, proof_iat, NULL)))
            goto out;
        if (strcmp(name, "dpop-bad-signature") == 0) {
            char *bad = mcpc_jose_tamper(proof, MCPC_JOSE_TAMPER_SIGNATURE);
            free(proof);
            if (!(proof = bad))
                goto out;
        }
    }
    if (strcmp(name, "call-valid") == 0 && ctx->state) {
        free(ctx->state->last_call);
        free(ctx->state->last_proof);
        ctx->state->last_call = strdup(tok);
        ctx->state->last_proof = strdup(proof);
        if (!ctx->state->last_call || !ctx->state->last_proof)
            goto out;
    }
    t->authorization = join("DPoP", " ", tok);
    if (!t->authorization)
        goto out;
    t->token = tok;
    t->dpop = proof;
    tok = proof = NULL;
    rc = MCPC_OK;
out:
    free(tok);
    free(proof);
    free(htu);
    json_decref(pc);
    json_decref(h);
    json_decref(claims);
    json_decref(args);
    mcpc_jose_key_free(other);
    mcpc_jose_key_free(fresh);
    return rc;
}

mcpc_err mcpc_battery_make(const mcpc_as *as, const char *name, const mcpc_battery_ctx *ctx,
                           mcpc_battery_token *out)
{
    const mcpc_battery_info *info = mcpc_battery_lookup(name);
    char *other = NULL;
    long long now;
    mcpc_err rc;

    memset(out, 0, sizeof *out);
    if (!info)
        return MCPC_ERR_NOT_FOUND;
    if (!as || !ctx || !ctx->resource)
        return MCPC_ERR_USAGE;
    now = ctx->now ? ctx->now : (long long)time(NULL);
    other = ctx->other_resource ? strdup(ctx->other_resource) : join(ctx->resource, "", "-other");
    if (!other)
        return MCPC_ERR_NOMEM;
    out->info = info;
    if (info->per_call) {
        rc = make_call(as, name, ctx, other, now, out);
    } else {
        rc = make_access(as, name, ctx, other, now, out);
        if (!rc && strcmp(name, "query-only") == 0)
            out->place = MCPC_BATTERY_QUERY;
        else if (!rc && strcmp(name, "body-only") == 0)
            out->place = MCPC_BATTERY_BODY;
        if (!rc && out->place != MCPC_BATTERY_HEADER)
            rc = (out->param = join("access_token=", "", out->token)) ? MCPC_OK : MCPC_ERR_NOMEM;
        else if (!rc)
            rc = (out->authorization = join("Bearer", " ", out->token)) ? MCPC_OK
                                                                         : MCPC_ERR_NOMEM;
    }
    free(other);
    if (rc) {
        mcpc_battery_token_clear(out);
        return rc;
    }
    out->info = info;
    return MCPC_OK;
}
