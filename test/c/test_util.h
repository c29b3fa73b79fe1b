/*
 * test_util.h - the small harness the C unit tests of the core share.
 *
 * CHECK macros count passes and failures and print each failure with its
 * file, line and the case being run; tu_done() prints the closing line
 * "N passed, N failed" and gives the exit status. The key and token helpers
 * sign with OpenSSL's own EVP_DigestSign and encode with the base64url
 * encoder below, so nothing a test feeds the core was produced by the core.
 */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "jv.h"

extern int tu_passed;
extern int tu_failed;

/* Names the case that the following checks belong to (printf format). */
void tu_case(const char *fmt, ...);
/* Records one check; prints the message when ok is false. Returns ok. */
int tu_check(int ok, const char *file, int line, const char *fmt, ...);
/* Prints "N passed, N failed" and returns the process exit status. */
int tu_done(void);
/* jv_err_name(e), or a placeholder when the code has no name. */
const char *tu_err_name(jv_err e);

#define CHECK(cond) tu_check((cond) != 0, __FILE__, __LINE__, "%s", #cond)

#define CHECK_ERR(expr, want)                                                                      \
    do {                                                                                           \
        jv_err got_ = (expr), want_ = (want);                                                      \
        tu_check(got_ == want_, __FILE__, __LINE__, "%s: got %s, want %s", #expr,                  \
                 tu_err_name(got_), tu_err_name(want_));                                           \
    } while (0)

/* For the few cases jv.h leaves open between two codes. */
#define CHECK_ERR2(expr, want1, want2)                                                             \
    do {                                                                                           \
        jv_err got_ = (expr), w1_ = (want1), w2_ = (want2);                                        \
        tu_check(got_ == w1_ || got_ == w2_, __FILE__, __LINE__, "%s: got %s, want %s or %s",      \
                 #expr, tu_err_name(got_), tu_err_name(w1_), tu_err_name(w2_));                    \
    } while (0)

#define CHECK_NOT_OK(expr)                                                                         \
    do {                                                                                           \
        jv_err got_ = (expr);                                                                      \
        tu_check(got_ != JV_OK, __FILE__, __LINE__, "%s: accepted", #expr);                        \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        tu_check(a_ == b_, __FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_);          \
    } while (0)

/* A length-delimited value (p, n) equals the NUL-terminated s. */
#define CHECK_STRN(p, n, s)                                                                        \
    do {                                                                                           \
        const void *p_ = (p);                                                                      \
        size_t n_ = (n);                                                                           \
        const char *s_ = (s);                                                                      \
        tu_check(p_ != NULL && n_ == strlen(s_) && memcmp(p_, s_, n_) == 0, __FILE__, __LINE__,    \
                 "%s equals \"%s\"", #p, s_);                                                      \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        tu_check(a_ != NULL && b_ != NULL && strcmp(a_, b_) == 0, __FILE__, __LINE__,              \
                 "%s == \"%s\": got \"%s\"", #a, b_ ? b_ : "(null)", a_ ? a_ : "(null)");          \
    } while (0)

/* Memory and formatting. */
void *tu_malloc(size_t n);
char *tu_fmt(const char *fmt, ...);

/* base64url without padding (RFC 7515 §2), written here and not taken from
 * the core. Returns a NUL-terminated string the caller frees. */
char *tu_b64url(const uint8_t *p, size_t len);
char *tu_b64url_str(const char *s);

/* Keys, generated with EVP_PKEY_Q_keygen. crv is "P-256", "P-384" or "P-521". */
EVP_PKEY *tu_rsa_key(unsigned bits);
EVP_PKEY *tu_ec_key(const char *crv);
EVP_PKEY *tu_ed25519_key(void);

/* The key's public JWK as a JSON object; extra, when not NULL, is text
 * inserted as further members (e.g. "\"kid\":\"a\",\"use\":\"sig\""). */
char *tu_jwk(EVP_PKEY *k, const char *extra);
/* An RSA or EC key's BIGNUM parameter ("n", "e", "qx", "qy") as base64url,
 * left-padded with zeros to pad bytes (0: minimal length). */
char *tu_bn_b64(EVP_PKEY *k, const char *param, size_t pad);
/* The JWK "crv" name of an EC key and its coordinate length in bytes. */
const char *tu_ec_crv(EVP_PKEY *k, size_t *coord_len);
/* The group order n of an EC key, big-endian, left-padded to len bytes. */
void tu_ec_order(EVP_PKEY *k, uint8_t *out, size_t len);
/* {"keys":[...]} from a NULL-terminated list of JWK texts, or from n of them. */
char *tu_jwks(const char *first, ...);
char *tu_jwks_array(char *const *keys, size_t n);

/* Signs data as alg (JV_ALG_*) with EVP_DigestSign; ES signatures come back
 * as the JWS raw r||s, each zero-padded to the curve's length. For PS*, the
 * salt length is pss_salt bytes, or the digest length when pss_salt < 0.
 * Returns a buffer the caller frees, or NULL. */
uint8_t *tu_sign(EVP_PKEY *k, int alg, const uint8_t *data, size_t len, int pss_salt,
                 size_t *sig_len);

/* b64url(header) "." b64url(payload). */
char *tu_signing_input(const uint8_t *h, size_t hlen, const uint8_t *p, size_t plen);
/* signing_input "." b64url(sig). */
char *tu_attach(const char *signing_input, const uint8_t *sig, size_t sig_len);
/* A compact JWS of header and payload texts, signed by k as alg. */
char *tu_token(EVP_PKEY *k, int alg, const char *header, const char *payload);
char *tu_token_n(EVP_PKEY *k, int alg, const uint8_t *h, size_t hlen, const uint8_t *p,
                 size_t plen);

/* The options most tests start from: algs, now, everything else unset. */
jv_opts tu_opts(uint32_t algs, int64_t now);
#define TU_ALL_ALGS ((1u << JV_ALG__COUNT) - 1)

/* Parses a JWKS text, checking it succeeds; NULL on failure. */
jv_keyset *tu_keyset(const char *jwks);
/* jv_jws_verify / jv_jwt_verify on a NUL-terminated token, result cleared. */
jv_err tu_verify(const jv_keyset *ks, const char *tok, const jv_opts *o);
jv_err tu_verify_jwt(const jv_keyset *ks, const char *tok, const jv_opts *o);

/* The token trees a verify hands back (jv_val): a member by name, whether a
 * value is the string s, and whether it equals a cJSON tree (numbers by
 * value, objects whatever their members' order). */
const jv_val *tu_val_get(const jv_val *obj, const char *name);
int tu_val_is_str(const jv_val *v, const char *s);
int tu_val_equal(const jv_val *v, const cJSON *c);

/* A whole file, NUL-terminated, its length in *len (may be NULL); NULL when
 * it cannot be read. */
char *tu_read_file(const char *path, size_t *len);

#endif
