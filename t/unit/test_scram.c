/* scram.c: SCRAM-SHA-256 both sides, RFC 7677's example, and hostile input. */
#include "suites.h"
#include "scram.h"
#include "util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 7677 section 3 */
#define RFC_PASSWORD "pencil"
#define RFC_CLIENT_NONCE "rOprNGfwEbeRWgbNEkqO"
#define RFC_SERVER_NONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_CLIENT_FIRST "n,,n=user,r=" RFC_CLIENT_NONCE
#define RFC_SERVER_FIRST "r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_CLIENT_FINAL "c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE \
	",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
/* the same keys as a PostgreSQL verifier (computed independently, Python hashlib) */
#define RFC_VERIFIER "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$" \
	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

static const uint8_t rfc_salt[16] = {
	0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e,
	0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81 };

static scram_verifier rfc_verifier(void)
{
	scram_verifier v;
	ck_assert(scram_verifier_parse(RFC_VERIFIER, &v));
	return v;
}

/* Server positioned after a successful client-first-message. */
static scram_server *server_after_first(const scram_verifier *v, const char *client_first,
	const uint8_t *cbind, size_t cbind_len)
{
	scram_server *s = scram_server_new(v, cbind, cbind_len);
	ck_assert_ptr_nonnull(s);
	ck_assert(scram_server_set_nonce_for_tests(s, RFC_SERVER_NONCE));
	char *reply = NULL;
	const char *err = NULL;
	ck_assert_msg(scram_server_client_first(s, client_first, strlen(client_first), &reply, &err),
		"client-first refused: %s", err ? err : "?");
	free(reply);
	return s;
}

/* Feed a whole exchange to a fresh RFC server; returns the error (NULL = accepted). */
static const char *server_final_error(const char *client_first, const char *client_final)
{
	scram_verifier v = rfc_verifier();
	scram_server *s = server_after_first(&v, client_first, NULL, 0);
	char *reply = NULL;
	const char *err = NULL;
	bool ok = scram_server_client_final(s, client_final, strlen(client_final), &reply, &err);
	ck_assert(ok == (reply != NULL));
	free(reply);
	scram_server_free(s);
	return ok ? NULL : err;
}

static const char *server_first_error(const char *client_first, const uint8_t *cbind, size_t cbind_len)
{
	scram_verifier v = rfc_verifier();
	scram_server *s = scram_server_new(&v, cbind, cbind_len);
	ck_assert_ptr_nonnull(s);
	char *reply = NULL;
	const char *err = NULL;
	bool ok = scram_server_client_first(s, client_first, strlen(client_first), &reply, &err);
	ck_assert(ok == (reply != NULL));
	free(reply);
	scram_server_free(s);
	return ok ? NULL : err;
}

/* A client in the state after client-first with the RFC nonce. */
static scram_client *rfc_client(const char *password)
{
	scram_client *c = scram_client_new(password);
	ck_assert_ptr_nonnull(c);
	ck_assert(scram_client_set_nonce_for_tests(c, RFC_CLIENT_NONCE, "user"));
	char *first = scram_client_first(c);
	ck_assert_ptr_nonnull(first);
	ck_assert_str_eq(first, RFC_CLIENT_FIRST);
	free(first);
	return c;
}

static const char *client_first_reply_error(const char *server_first)
{
	scram_client *c = rfc_client(RFC_PASSWORD);
	const char *err = NULL;
	char *final = scram_client_final(c, server_first, strlen(server_first), &err);
	free(final);
	scram_client_free(c);
	return final ? NULL : err;
}

/* ---------------------------------------------------------------- verifier */

START_TEST(test_verifier_parse_and_format)
{
	scram_verifier v = rfc_verifier();
	ck_assert_int_eq(v.iterations, 4096);
	ck_assert_uint_eq(v.salt_len, sizeof(rfc_salt));
	ck_assert_mem_eq(v.salt, rfc_salt, sizeof(rfc_salt));
	char *text = scram_verifier_format(&v);
	ck_assert_str_eq(text, RFC_VERIFIER);
	free(text);
}
END_TEST

START_TEST(test_verifier_from_password_matches_rfc)
{
	scram_verifier derived, parsed = rfc_verifier();
	ck_assert(scram_verifier_from_password(RFC_PASSWORD, rfc_salt, sizeof(rfc_salt), 4096, &derived));
	ck_assert_int_eq(derived.iterations, 4096);
	ck_assert_mem_eq(derived.stored_key, parsed.stored_key, SCRAM_KEY_LEN);
	ck_assert_mem_eq(derived.server_key, parsed.server_key, SCRAM_KEY_LEN);
}
END_TEST

START_TEST(test_verifier_random_salt)
{
	scram_verifier a, b;
	ck_assert(scram_verifier_from_password("secret", NULL, 0, SCRAM_DEFAULT_ITERATIONS, &a));
	ck_assert(scram_verifier_from_password("secret", NULL, 0, SCRAM_DEFAULT_ITERATIONS, &b));
	ck_assert_uint_eq(a.salt_len, 16);
	ck_assert(memcmp(a.salt, b.salt, 16) != 0);
	ck_assert(memcmp(a.stored_key, b.stored_key, SCRAM_KEY_LEN) != 0);
	/* and it parses back */
	char *text = scram_verifier_format(&a);
	scram_verifier c;
	ck_assert(scram_verifier_parse(text, &c));
	ck_assert_mem_eq(c.stored_key, a.stored_key, SCRAM_KEY_LEN);
	free(text);
}
END_TEST

START_TEST(test_verifier_from_password_rejects_bad_arguments)
{
	scram_verifier v;
	uint8_t big_salt[SCRAM_MAX_SALT_LEN + 1] = { 0 };
	ck_assert(!scram_verifier_from_password(NULL, NULL, 0, 4096, &v));
	ck_assert(!scram_verifier_from_password("x", NULL, 0, 0, &v));
	ck_assert(!scram_verifier_from_password("x", NULL, 0, -1, &v));
	ck_assert(!scram_verifier_from_password("x", big_salt, sizeof(big_salt), 4096, &v));
	ck_assert(!scram_verifier_from_password("x", big_salt, 0, 4096, &v));
}
END_TEST

START_TEST(test_verifier_parse_rejects_malformed)
{
	static const char *const bad[] = {
		"",
		"SCRAM-SHA-256$",
		"SCRAM-SHA-1$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
		"SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
		"SCRAM-SHA-256$-1:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
		"SCRAM-SHA-256$4x96:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
		"SCRAM-SHA-256$99999999999:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
		"SCRAM-SHA-256$4096:$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
		"SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ=$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
		"SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4q=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
		"SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=",
		"SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=x",
		"SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=:",
		"SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAm?7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
		/* 66-byte salt: over SCRAM_MAX_SALT_LEN */
		"SCRAM-SHA-256$4096:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
		"md53175bce1d3201d16594cebf9d7eb3f9d",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		scram_verifier v;
		ck_assert_msg(!scram_verifier_parse(bad[i], &v), "accepted: %s", bad[i]);
	}
	scram_verifier v;
	ck_assert(!scram_verifier_parse(NULL, &v));
}
END_TEST

/* ---------------------------------------------------------------- RFC 7677 */

START_TEST(test_rfc7677_server_side)
{
	scram_verifier v = rfc_verifier();
	scram_server *s = scram_server_new(&v, NULL, 0);
	ck_assert_ptr_nonnull(s);
	ck_assert(scram_server_set_nonce_for_tests(s, RFC_SERVER_NONCE));
	char *reply = NULL;
	const char *err = NULL;
	ck_assert(scram_server_client_first(s, RFC_CLIENT_FIRST, strlen(RFC_CLIENT_FIRST), &reply, &err));
	ck_assert_str_eq(reply, RFC_SERVER_FIRST);
	free(reply);
	ck_assert(scram_server_client_final(s, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL), &reply, &err));
	ck_assert_str_eq(reply, RFC_SERVER_FINAL);
	free(reply);
	scram_server_free(s);
}
END_TEST

START_TEST(test_rfc7677_client_side)
{
	scram_client *c = rfc_client(RFC_PASSWORD);
	const char *err = NULL;
	char *final = scram_client_final(c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &err);
	ck_assert_ptr_nonnull(final);
	ck_assert_str_eq(final, RFC_CLIENT_FINAL);
	free(final);
	ck_assert(scram_client_verify_final(c, RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL), &err));
	scram_client_free(c);
}
END_TEST

/* The second login with the same password, salt and iterations takes the
 * salted password from the cache, and gets the same, right, proof; another
 * password with that salt does not get the first one's. */
START_TEST(test_client_salted_password_cache)
{
	const char *err = NULL;
	for (int i = 0; i < 3; i++) {
		unsigned long hits = scram_client_cache_hits();
		scram_client *c = rfc_client(RFC_PASSWORD);
		char *final = scram_client_final(c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &err);
		ck_assert_ptr_nonnull(final);
		ck_assert_str_eq(final, RFC_CLIENT_FINAL);
		ck_assert(scram_client_verify_final(c, RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL), &err));
		free(final);
		scram_client_free(c);
		if (i > 0)
			ck_assert_uint_eq(scram_client_cache_hits(), hits + 1);
	}
	scram_client *c = rfc_client("pencils");
	char *final = scram_client_final(c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &err);
	ck_assert_ptr_nonnull(final);
	ck_assert_str_ne(final, RFC_CLIENT_FINAL);
	ck_assert_str_eq(server_final_error(RFC_CLIENT_FIRST, final), "password authentication failed");
	free(final);
	scram_client_free(c);
}
END_TEST

START_TEST(test_messages_need_not_be_nul_terminated)
{
	/* the server reads exactly len bytes: copy into a buffer with junk after */
	char first[sizeof(RFC_CLIENT_FIRST) + 8], final[sizeof(RFC_CLIENT_FINAL) + 8];
	memcpy(first, RFC_CLIENT_FIRST, strlen(RFC_CLIENT_FIRST));
	memcpy(first + strlen(RFC_CLIENT_FIRST), ",x=junk!", 8);
	memcpy(final, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL));
	memcpy(final + strlen(RFC_CLIENT_FINAL), "garbage!", 8);
	scram_verifier v = rfc_verifier();
	scram_server *s = scram_server_new(&v, NULL, 0);
	ck_assert(scram_server_set_nonce_for_tests(s, RFC_SERVER_NONCE));
	char *reply = NULL;
	const char *err = NULL;
	ck_assert(scram_server_client_first(s, first, strlen(RFC_CLIENT_FIRST), &reply, &err));
	free(reply);
	ck_assert(scram_server_client_final(s, final, strlen(RFC_CLIENT_FINAL), &reply, &err));
	ck_assert_str_eq(reply, RFC_SERVER_FINAL);
	free(reply);
	scram_server_free(s);
}
END_TEST

/* ---------------------------------------------------------------- round trips */

/* Full exchange between our client and our server; returns true if both
 * sides accepted.  server_err gets the server's complaint, if any. */
static bool round_trip(const char *client_password, const scram_verifier *v, const char **server_err)
{
	scram_client *c = scram_client_new(client_password);
	scram_server *s = scram_server_new(v, NULL, 0);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(s);
	const char *cerr = NULL;
	char *reply = NULL;
	*server_err = NULL;

	char *first = scram_client_first(c);
	ck_assert_ptr_nonnull(first);
	ck_assert(strncmp(first, "n,,n=,r=", 8) == 0);
	ck_assert_uint_eq(strlen(first), 8 + 24);     /* 18 random bytes, base64 */
	ck_assert(scram_server_client_first(s, first, strlen(first), &reply, server_err));
	free(first);
	char *final = scram_client_final(c, reply, strlen(reply), &cerr);
	free(reply);
	ck_assert_msg(final != NULL, "client refused server-first: %s", cerr);
	bool ok = scram_server_client_final(s, final, strlen(final), &reply, server_err);
	free(final);
	if (ok) {
		ck_assert(scram_client_verify_final(c, reply, strlen(reply), &cerr));
		free(reply);
	}
	scram_client_free(c);
	scram_server_free(s);
	return ok;
}

START_TEST(test_round_trip)
{
	scram_verifier v;
	const char *err;
	ck_assert(scram_verifier_from_password("correct horse", NULL, 0, SCRAM_DEFAULT_ITERATIONS, &v));
	ck_assert(round_trip("correct horse", &v, &err));
	ck_assert_ptr_null(err);
}
END_TEST

START_TEST(test_round_trip_random_nonces_differ)
{
	scram_client *a = scram_client_new("x"), *b = scram_client_new("x");
	char *fa = scram_client_first(a), *fb = scram_client_first(b);
	ck_assert_str_ne(fa, fb);
	free(fa);
	free(fb);
	scram_client_free(a);
	scram_client_free(b);
}
END_TEST

START_TEST(test_wrong_password)
{
	scram_verifier v;
	const char *err;
	ck_assert(scram_verifier_from_password("correct horse", NULL, 0, 4096, &v));
	ck_assert(!round_trip("wrong horse", &v, &err));
	ck_assert_str_eq(err, "password authentication failed");
	ck_assert(!round_trip("", &v, &err));
}
END_TEST

START_TEST(test_wrong_password_rfc_proof)
{
	/* a proof made with another password, otherwise the RFC exchange */
	scram_client *c = rfc_client("pencils");
	const char *err = NULL;
	char *final = scram_client_final(c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &err);
	ck_assert_ptr_nonnull(final);
	ck_assert_str_eq(server_final_error(RFC_CLIENT_FIRST, final), "password authentication failed");
	free(final);
	scram_client_free(c);
}
END_TEST

/* ---------------------------------------------------------------- server: hostile client */

START_TEST(test_server_tampered_nonce)
{
	/* last character of the combined nonce changed */
	const char *err = server_final_error(RFC_CLIENT_FIRST,
		"c=biws,r=" RFC_CLIENT_NONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	ck_assert_str_eq(err, "invalid SCRAM response (nonce does not match)");
	/* only the client's part */
	err = server_final_error(RFC_CLIENT_FIRST,
		"c=biws,r=" RFC_CLIENT_NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	ck_assert_str_eq(err, "invalid SCRAM response (nonce does not match)");
	/* a longer one */
	err = server_final_error(RFC_CLIENT_FIRST,
		"c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE "x,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	ck_assert_str_eq(err, "invalid SCRAM response (nonce does not match)");
}
END_TEST

START_TEST(test_server_tampered_proof)
{
	const char *err = server_final_error(RFC_CLIENT_FIRST,
		"c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVA=");
	ck_assert_str_eq(err, "password authentication failed");
	/* proof of the wrong length */
	err = server_final_error(RFC_CLIENT_FIRST,
		"c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndQ==");
	ck_assert_str_eq(err, "malformed SCRAM message (invalid proof)");
	err = server_final_error(RFC_CLIENT_FIRST,
		"c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",p=!HzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	ck_assert_str_eq(err, "malformed SCRAM message (invalid proof)");
}
END_TEST

START_TEST(test_server_client_final_malformed)
{
	static const char *const bad[] = {
		"",
		"c=biws",
		"c=biws,",
		"c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE,
		"c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",",
		"c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",p=",
		"c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",x=1",
		"r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1",
		"c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,",
		"c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",1=x,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",p:dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(server_final_error(RFC_CLIENT_FIRST, bad[i]) != NULL, "accepted: %s", bad[i]);
}
END_TEST

START_TEST(test_server_extension_before_proof_is_covered)
{
	/* An unknown extension attribute is allowed before p=, but it is part of
	 * client-final-message-without-proof: the RFC proof no longer fits. */
	const char *err = server_final_error(RFC_CLIENT_FIRST,
		"c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",x=ext,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	ck_assert_str_eq(err, "password authentication failed");
}
END_TEST

START_TEST(test_server_truncated_client_final)
{
	size_t full = strlen(RFC_CLIENT_FINAL);
	for (size_t len = 0; len < full; len++) {
		scram_verifier v = rfc_verifier();
		scram_server *s = server_after_first(&v, RFC_CLIENT_FIRST, NULL, 0);
		char *copy = malloc(len ? len : 1);     /* exactly len bytes: valgrind sees overreads */
		memcpy(copy, RFC_CLIENT_FINAL, len);
		char *reply = NULL;
		const char *err = NULL;
		ck_assert_msg(!scram_server_client_final(s, copy, len, &reply, &err), "accepted %zu bytes", len);
		ck_assert_ptr_null(reply);
		ck_assert_ptr_nonnull(err);
		free(copy);
		scram_server_free(s);
	}
}
END_TEST

START_TEST(test_server_truncated_client_first)
{
	/* every prefix shorter than "n,,n=user,r=X" lacks the nonce */
	size_t min_valid = strlen("n,,n=user,r=r");
	for (size_t len = 0; len < min_valid; len++) {
		scram_verifier v = rfc_verifier();
		scram_server *s = scram_server_new(&v, NULL, 0);
		char *copy = malloc(len ? len : 1);
		memcpy(copy, RFC_CLIENT_FIRST, len);
		char *reply = NULL;
		const char *err = NULL;
		ck_assert_msg(!scram_server_client_first(s, copy, len, &reply, &err), "accepted %zu bytes", len);
		ck_assert_ptr_nonnull(err);
		free(copy);
		scram_server_free(s);
	}
}
END_TEST

START_TEST(test_server_client_first_malformed)
{
	static const char *const bad[] = {
		"",
		"x,,n=,r=abc",                  /* unknown cbind flag */
		"n",
		"n,",
		"n,,",
		"n,n=,r=abc",                   /* authzid field missing */
		"n,,r=abc",                     /* n= missing */
		"n,,n=",
		"n,,n=,",
		"n,,n=,r=",                     /* empty nonce */
		"n,,n=,r=ab c",                 /* not printable */
		"n,,n=,r=ab\x7f",
		"n,,n=,r=ab\xc3\xa9",
		"n,,n=,x=abc",
		"n,,n=,r=abc,",                 /* empty extension */
		"n,,n=,r=abc,xyz",
		"n,,n=,r=abc,=x",
		"n,,n,r=abc",
		"N,,n=,r=abc",
		" n,,n=,r=abc",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(server_first_error(bad[i], NULL, 0) != NULL, "accepted: %s", bad[i]);
	ck_assert_str_eq(server_first_error("n,a=admin,n=,r=abc", NULL, 0),
		"client uses authorization identity, but it is not supported");
	ck_assert_str_eq(server_first_error("n,,m=ext,n=,r=abc", NULL, 0),
		"client requires an unsupported SCRAM extension");
	/* optional extensions after the nonce are accepted */
	ck_assert_ptr_null(server_first_error("n,,n=,r=abc,x=1,y=2", NULL, 0));
	/* the user name is ignored, whatever it says */
	ck_assert_ptr_null(server_first_error("n,,n=someone=2Celse,r=abc", NULL, 0));
}
END_TEST

START_TEST(test_server_embedded_nul_and_oversize)
{
	scram_verifier v = rfc_verifier();
	scram_server *s = scram_server_new(&v, NULL, 0);
	char *reply = NULL;
	const char *err = NULL;
	static const char with_nul[] = "n,,n=,r=ab\0cd";
	ck_assert(!scram_server_client_first(s, with_nul, sizeof(with_nul) - 1, &reply, &err));
	ck_assert_str_eq(err, "malformed SCRAM message (message contains a NUL byte)");
	scram_server_free(s);

	size_t big = 5000;
	char *huge = malloc(big);
	memset(huge, 'a', big);
	memcpy(huge, "n,,n=,r=", 8);
	s = scram_server_new(&v, NULL, 0);
	ck_assert(!scram_server_client_first(s, huge, big, &reply, &err));
	ck_assert_str_eq(err, "malformed SCRAM message (message too long)");
	scram_server_free(s);
	free(huge);

	s = server_after_first(&v, RFC_CLIENT_FIRST, NULL, 0);
	static const char final_nul[] = "c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE "\0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
	ck_assert(!scram_server_client_final(s, final_nul, sizeof(final_nul) - 1, &reply, &err));
	ck_assert_str_eq(err, "malformed SCRAM message (message contains a NUL byte)");
	scram_server_free(s);
}
END_TEST

START_TEST(test_server_out_of_order)
{
	scram_verifier v = rfc_verifier();
	scram_server *s = scram_server_new(&v, NULL, 0);
	char *reply = NULL;
	const char *err = NULL;
	ck_assert(!scram_server_client_final(s, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL), &reply, &err));
	ck_assert_str_eq(err, "SCRAM exchange out of order");
	scram_server_free(s);

	/* a failed exchange stays failed */
	s = server_after_first(&v, RFC_CLIENT_FIRST, NULL, 0);
	ck_assert(!scram_server_client_final(s, "c=biws", 6, &reply, &err));
	ck_assert(!scram_server_client_final(s, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL), &reply, &err));
	scram_server_free(s);

	/* and a finished one cannot be replayed */
	s = server_after_first(&v, RFC_CLIENT_FIRST, NULL, 0);
	ck_assert(scram_server_client_final(s, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL), &reply, &err));
	free(reply);
	ck_assert(!scram_server_client_final(s, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL), &reply, &err));
	ck_assert(!scram_server_client_first(s, RFC_CLIENT_FIRST, strlen(RFC_CLIENT_FIRST), &reply, &err));
	scram_server_free(s);
}
END_TEST

START_TEST(test_server_rejects_bad_verifier)
{
	scram_verifier v = rfc_verifier();
	v.iterations = 0;
	ck_assert_ptr_null(scram_server_new(&v, NULL, 0));
	v = rfc_verifier();
	v.salt_len = SCRAM_MAX_SALT_LEN + 1;
	ck_assert_ptr_null(scram_server_new(&v, NULL, 0));
	ck_assert_ptr_null(scram_server_new(NULL, NULL, 0));
}
END_TEST

/* ---------------------------------------------------------------- channel binding */

static const uint8_t cbind_hash[32] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

#define PLUS_HEADER "p=tls-server-end-point,,"
#define PLUS_CLIENT_FIRST PLUS_HEADER "n=,r=" RFC_CLIENT_NONCE

/* An independent client-final computation (OpenSSL directly), for gs2
 * headers our own client never sends. */
static char *make_client_final(const char *password, const char *client_first_bare,
	const char *server_first, const uint8_t *cbind_input, size_t cbind_input_len)
{
	scram_verifier v = rfc_verifier();
	uint8_t salted[32], client_key[32], stored_key[32], signature[32], proof[32];
	unsigned int n = 0;
	ck_assert(PKCS5_PBKDF2_HMAC(password, (int) strlen(password), v.salt, (int) v.salt_len,
		v.iterations, EVP_sha256(), 32, salted) == 1);
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), salted, 32, (const uint8_t *) "Client Key", 10, client_key, &n));
	ck_assert(EVP_Digest(client_key, 32, stored_key, &n, EVP_sha256(), NULL) == 1);

	char *c_b64 = base64_encode(cbind_input, cbind_input_len);
	char without_proof[512], auth[1024];
	snprintf(without_proof, sizeof(without_proof), "c=%s,r=%s%s", c_b64, RFC_CLIENT_NONCE, RFC_SERVER_NONCE);
	snprintf(auth, sizeof(auth), "%s,%s,%s", client_first_bare, server_first, without_proof);
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), stored_key, 32, (const uint8_t *) auth, strlen(auth), signature, &n));
	for (int i = 0; i < 32; i++)
		proof[i] = client_key[i] ^ signature[i];
	char *p_b64 = base64_encode(proof, 32);
	char *out = malloc(strlen(without_proof) + strlen(p_b64) + 4);
	sprintf(out, "%s,p=%s", without_proof, p_b64);
	free(c_b64);
	free(p_b64);
	return out;
}

/* gs2 header || cbind data */
static size_t cbind_input(const char *header, const uint8_t *data, size_t data_len, uint8_t *out)
{
	size_t hl = strlen(header);
	memcpy(out, header, hl);
	if (data)
		memcpy(out + hl, data, data_len);
	return hl + data_len;
}

static const char *plus_exchange(const uint8_t *cbind_in_proof, size_t cbind_len, char **server_final)
{
	scram_verifier v = rfc_verifier();
	scram_server *s = scram_server_new(&v, cbind_hash, sizeof(cbind_hash));
	ck_assert(scram_server_set_nonce_for_tests(s, RFC_SERVER_NONCE));
	char *reply = NULL;
	const char *err = NULL;
	ck_assert_msg(scram_server_client_first(s, PLUS_CLIENT_FIRST, strlen(PLUS_CLIENT_FIRST), &reply, &err),
		"refused: %s", err);
	uint8_t input[128];
	size_t input_len = cbind_input(PLUS_HEADER, cbind_in_proof, cbind_len, input);
	char *final = make_client_final(RFC_PASSWORD, "n=,r=" RFC_CLIENT_NONCE, reply, input, input_len);
	free(reply);
	bool ok = scram_server_client_final(s, final, strlen(final), server_final, &err);
	free(final);
	scram_server_free(s);
	return ok ? NULL : err;
}

START_TEST(test_channel_binding_plus)
{
	char *server_final = NULL;
	ck_assert_ptr_null(plus_exchange(cbind_hash, sizeof(cbind_hash), &server_final));
	ck_assert(strncmp(server_final, "v=", 2) == 0);
	free(server_final);
}
END_TEST

START_TEST(test_channel_binding_wrong_data)
{
	uint8_t other[32];
	memcpy(other, cbind_hash, sizeof(other));
	other[31] ^= 1;
	char *server_final = NULL;
	ck_assert_str_eq(plus_exchange(other, sizeof(other), &server_final), "SCRAM channel binding check failed");
	ck_assert_ptr_null(server_final);
	/* header only, no data */
	ck_assert_str_eq(plus_exchange(NULL, 0, &server_final), "SCRAM channel binding check failed");
}
END_TEST

START_TEST(test_channel_binding_flags)
{
	/* 'p' needs TLS; only tls-server-end-point is known */
	ck_assert_str_eq(server_first_error(PLUS_CLIENT_FIRST, NULL, 0),
		"SCRAM channel binding is only supported over SSL");
	ck_assert_str_eq(server_first_error("p=tls-unique,,n=,r=abc", cbind_hash, sizeof(cbind_hash)),
		"unsupported SCRAM channel-binding type");
	ck_assert_ptr_nonnull(server_first_error("p,,n=,r=abc", cbind_hash, sizeof(cbind_hash)));
	/* 'y' (client thinks we cannot bind): fine without TLS, a downgrade with it */
	ck_assert_ptr_null(server_first_error("y,,n=,r=abc", NULL, 0));
	ck_assert_str_eq(server_first_error("y,,n=,r=abc", cbind_hash, sizeof(cbind_hash)),
		"SCRAM channel binding negotiation error");
	/* 'n' is allowed with TLS too (client chose plain SCRAM-SHA-256) */
	ck_assert_ptr_null(server_first_error("n,,n=,r=abc", cbind_hash, sizeof(cbind_hash)));
}
END_TEST

START_TEST(test_channel_binding_c_must_echo_header)
{
	/* client said "y,," so c= must be eSws, not biws */
	const char *y_first = "y,,n=user,r=" RFC_CLIENT_NONCE;
	uint8_t input[8];
	size_t len = cbind_input("y,,", NULL, 0, input);
	char *final = make_client_final(RFC_PASSWORD, "n=user,r=" RFC_CLIENT_NONCE, RFC_SERVER_FIRST, input, len);
	ck_assert_ptr_null(server_final_error(y_first, final));
	ck_assert_str_eq(server_final_error(RFC_CLIENT_FIRST, final),
		"unexpected SCRAM channel-binding attribute in client-final-message");
	free(final);
	ck_assert_str_eq(server_final_error(y_first, RFC_CLIENT_FINAL),
		"unexpected SCRAM channel-binding attribute in client-final-message");
	/* a 'p' header smuggled into c= without having been negotiated */
	uint8_t buf[64];
	len = cbind_input(PLUS_HEADER, cbind_hash, sizeof(cbind_hash), buf);
	final = make_client_final(RFC_PASSWORD, "n=user,r=" RFC_CLIENT_NONCE, RFC_SERVER_FIRST, buf, len);
	ck_assert_str_eq(server_final_error(RFC_CLIENT_FIRST, final),
		"unexpected SCRAM channel-binding attribute in client-final-message");
	free(final);
	ck_assert_ptr_nonnull(server_final_error(RFC_CLIENT_FIRST,
		"c=bi,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
	ck_assert_ptr_nonnull(server_final_error(RFC_CLIENT_FIRST,
		"c=b!ws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
}
END_TEST

/* ---------------------------------------------------------------- client: hostile server */

START_TEST(test_client_nonce_checks)
{
	/* server nonce does not begin with ours */
	ck_assert_str_eq(client_first_reply_error("r=XOprNGfwEbeRWgbNEkqO%hvY,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
		"invalid SCRAM response (nonce does not match)");
	/* server added nothing */
	ck_assert_str_eq(client_first_reply_error("r=" RFC_CLIENT_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
		"invalid SCRAM response (nonce does not match)");
	/* shorter than ours */
	ck_assert_str_eq(client_first_reply_error("r=rOprNG,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
		"invalid SCRAM response (nonce does not match)");
	ck_assert_str_eq(client_first_reply_error("r=" RFC_CLIENT_NONCE "a b,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
		"malformed SCRAM message (invalid nonce)");
}
END_TEST

START_TEST(test_client_iteration_counts)
{
	static const char *const bad[] = { "0", "-1", "+4096", "", "abc", "4096x", "10000001", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char msg[256];
		snprintf(msg, sizeof(msg), "r=%s%s,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=%s", RFC_CLIENT_NONCE,
			RFC_SERVER_NONCE, bad[i]);
		ck_assert_msg(client_first_reply_error(msg) != NULL, "accepted i=%s", bad[i]);
		ck_assert_str_eq(client_first_reply_error(msg), "malformed SCRAM message (invalid iteration count)");
	}
	ck_assert_ptr_null(client_first_reply_error(
		"r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1"));
}
END_TEST

START_TEST(test_client_server_first_malformed)
{
	static const char *const bad[] = {
		"",
		"r=",
		"s=W22ZaJ0SNY7soEsUEjb6gQ==,r=" RFC_CLIENT_NONCE "xyz,i=4096",
		"r=" RFC_CLIENT_NONCE "xyz",
		"r=" RFC_CLIENT_NONCE "xyz,",
		"r=" RFC_CLIENT_NONCE "xyz,s=",
		"r=" RFC_CLIENT_NONCE "xyz,s=,i=4096",
		"r=" RFC_CLIENT_NONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096",
		"r=" RFC_CLIENT_NONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==",
		"r=" RFC_CLIENT_NONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,x=1",
		"r=" RFC_CLIENT_NONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,",
		"m=ext,r=" RFC_CLIENT_NONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		"e=other-error",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(client_first_reply_error(bad[i]) != NULL, "accepted: %s", bad[i]);
	ck_assert_str_eq(client_first_reply_error("r=" RFC_CLIENT_NONCE "xyz,s=W22Z!J0SNY7soEsUEjb6gQ==,i=4096"),
		"malformed SCRAM message (invalid salt)");
}
END_TEST

START_TEST(test_client_truncated_server_first)
{
	/* every prefix that stops before the iteration count's first digit */
	size_t limit = strlen(RFC_SERVER_FIRST) - strlen("096");
	for (size_t len = 0; len < limit; len++) {
		scram_client *c = rfc_client(RFC_PASSWORD);
		char *copy = malloc(len ? len : 1);
		memcpy(copy, RFC_SERVER_FIRST, len);
		const char *err = NULL;
		char *final = scram_client_final(c, copy, len, &err);
		ck_assert_msg(final == NULL, "accepted %zu bytes", len);
		ck_assert_ptr_nonnull(err);
		free(copy);
		scram_client_free(c);
	}
}
END_TEST

START_TEST(test_client_server_final_checks)
{
	static const struct { const char *msg; const char *err; } cases[] = {
		{ "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G8=", "incorrect server signature" },
		{ "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", "incorrect server signature" },
		/* same bytes, but non-zero unused bits: not canonical base64 */
		{ "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G5=", "malformed SCRAM message (invalid server signature)" },
		{ "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G=", "malformed SCRAM message (invalid server signature)" },
		{ "v=", "malformed SCRAM message (invalid server signature)" },
		{ RFC_SERVER_FINAL ",x=1", "malformed SCRAM message (garbage at end of message)" },
		{ "e=invalid-proof", "error received from server in SCRAM exchange" },
		{ "x=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", "malformed SCRAM message" },
		{ "", "malformed SCRAM message (empty message)" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		scram_client *c = rfc_client(RFC_PASSWORD);
		const char *err = NULL;
		char *final = scram_client_final(c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &err);
		ck_assert_ptr_nonnull(final);
		free(final);
		ck_assert_msg(!scram_client_verify_final(c, cases[i].msg, strlen(cases[i].msg), &err),
			"accepted: %s", cases[i].msg);
		ck_assert_str_eq(err, cases[i].err);
		scram_client_free(c);
	}
	/* truncated server-final: every proper prefix fails */
	for (size_t len = 0; len < strlen(RFC_SERVER_FINAL); len++) {
		scram_client *c = rfc_client(RFC_PASSWORD);
		const char *err = NULL;
		char *final = scram_client_final(c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &err);
		free(final);
		char *copy = malloc(len ? len : 1);
		memcpy(copy, RFC_SERVER_FINAL, len);
		ck_assert(!scram_client_verify_final(c, copy, len, &err));
		free(copy);
		scram_client_free(c);
	}
}
END_TEST

START_TEST(test_client_out_of_order)
{
	scram_client *c = scram_client_new("pw");
	const char *err = NULL;
	ck_assert_ptr_null(scram_client_final(c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), &err));
	ck_assert_str_eq(err, "SCRAM exchange out of order");
	scram_client_free(c);

	c = rfc_client(RFC_PASSWORD);
	ck_assert(!scram_client_verify_final(c, RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL), &err));
	ck_assert_str_eq(err, "SCRAM exchange out of order");
	scram_client_free(c);

	c = rfc_client(RFC_PASSWORD);
	ck_assert_ptr_null(scram_client_first(c));       /* only once */
	ck_assert(!scram_client_set_nonce_for_tests(c, "abc", NULL));
	scram_client_free(c);

	ck_assert_ptr_null(scram_client_new(NULL));
	c = scram_client_new("pw");
	ck_assert(!scram_client_set_nonce_for_tests(c, "a,b", NULL));
	ck_assert(!scram_client_set_nonce_for_tests(c, "", NULL));
	ck_assert(!scram_client_set_nonce_for_tests(c, "abc", "us,er"));
	scram_client_free(c);
}
END_TEST

/* ---------------------------------------------------------------- base64 (util.c, SCRAM's encoding) */

START_TEST(test_base64_rfc4648_vectors)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const encoded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	for (size_t i = 0; i < 7; i++) {
		char *e = base64_encode((const uint8_t *) plain[i], strlen(plain[i]));
		ck_assert_str_eq(e, encoded[i]);
		free(e);
		uint8_t out[8];
		size_t n = 99;
		ck_assert(base64_decode(encoded[i], strlen(encoded[i]), out, sizeof(out), &n));
		ck_assert_uint_eq(n, strlen(plain[i]));
		ck_assert(memcmp(out, plain[i], n) == 0);
	}
}
END_TEST

START_TEST(test_base64_decode_is_strict)
{
	static const char *const bad[] = {
		"Zg=", "Zg", "Z", "Zm9", " Zm9v", "Zm9v ", "Zm 9v", "Zm9v\n", "Z===", "====", "=Zm9",
		"Zg=a", "Zh==", "Zm9=", "Zm-v", "Zm_v",
	};
	uint8_t out[16];
	size_t n;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!base64_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n), "accepted \"%s\"", bad[i]);
	/* the output buffer is checked, not trusted */
	ck_assert(!base64_decode("Zm9vYmFy", 8, out, 5, &n));
	ck_assert(base64_decode("Zm9vYmFy", 8, out, 6, &n));
	ck_assert_uint_eq(base64_decoded_max(8), 6);
}
END_TEST

Suite *scram_suite(void)
{
	Suite *s = suite_create("scram");
	TCase *tc = tcase_create("verifier");
	tcase_add_test(tc, test_verifier_parse_and_format);
	tcase_add_test(tc, test_verifier_from_password_matches_rfc);
	tcase_add_test(tc, test_verifier_random_salt);
	tcase_add_test(tc, test_verifier_from_password_rejects_bad_arguments);
	tcase_add_test(tc, test_verifier_parse_rejects_malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("base64");
	tcase_add_test(tc, test_base64_rfc4648_vectors);
	tcase_add_test(tc, test_base64_decode_is_strict);
	suite_add_tcase(s, tc);

	tc = tcase_create("exchange");
	tcase_set_timeout(tc, 60);      /* PBKDF2 under valgrind */
	tcase_add_test(tc, test_rfc7677_server_side);
	tcase_add_test(tc, test_rfc7677_client_side);
	tcase_add_test(tc, test_client_salted_password_cache);
	tcase_add_test(tc, test_messages_need_not_be_nul_terminated);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_round_trip_random_nonces_differ);
	tcase_add_test(tc, test_wrong_password);
	tcase_add_test(tc, test_wrong_password_rfc_proof);
	suite_add_tcase(s, tc);

	tc = tcase_create("server");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_server_tampered_nonce);
	tcase_add_test(tc, test_server_tampered_proof);
	tcase_add_test(tc, test_server_client_final_malformed);
	tcase_add_test(tc, test_server_extension_before_proof_is_covered);
	tcase_add_test(tc, test_server_truncated_client_final);
	tcase_add_test(tc, test_server_truncated_client_first);
	tcase_add_test(tc, test_server_client_first_malformed);
	tcase_add_test(tc, test_server_embedded_nul_and_oversize);
	tcase_add_test(tc, test_server_out_of_order);
	tcase_add_test(tc, test_server_rejects_bad_verifier);
	suite_add_tcase(s, tc);

	tc = tcase_create("channel binding");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_channel_binding_plus);
	tcase_add_test(tc, test_channel_binding_wrong_data);
	tcase_add_test(tc, test_channel_binding_flags);
	tcase_add_test(tc, test_channel_binding_c_must_echo_header);
	suite_add_tcase(s, tc);

	tc = tcase_create("client");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_client_nonce_checks);
	tcase_add_test(tc, test_client_iteration_counts);
	tcase_add_test(tc, test_client_server_first_malformed);
	tcase_add_test(tc, test_client_truncated_server_first);
	tcase_add_test(tc, test_client_server_final_checks);
	tcase_add_test(tc, test_client_out_of_order);
	suite_add_tcase(s, tc);
	return s;
}
