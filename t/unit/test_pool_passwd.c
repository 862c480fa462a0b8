/* pool_passwd.c: Pgpool-II's password file and pg_enc's AES form. */
#include "suites.h"
#include "pool_passwd.h"

#include <stdlib.h>
#include <string.h>

/* echo -n pass | openssl enc -aes-256-cbc -md sha1 -nosalt -pass pass:secret -a
 * (EVP_BytesToKey with SHA1, no salt, one round: the derivation pg_enc uses) */
#define AES_PASS_SECRET "qIe8cwCrYLv5q4muLzCHqQ=="
/* a multi-block one: the same command with key "my pool key" */
#define AES_LONG_PLAIN "longer password with spaces: and colons!"
#define AES_LONG_CIPHER "YzEypUYIFHenOIaXoLJdrvxPgeXLp+U2w7ctbSLG/ze7gdGM/FVmOH+3CWy/k5yV"

#define RFC_VERIFIER "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$" \
	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

static pool_passwd *parse(const char *text, char *err, size_t errlen)
{
	pool_passwd *pw = pool_passwd_parse(text, strlen(text), err, errlen);
	ck_assert_ptr_nonnull(pw);
	return pw;
}

static const passwd_entry *must_find(const pool_passwd *pw, const char *user)
{
	const passwd_entry *e = pool_passwd_find(pw, user);
	ck_assert_msg(e != NULL, "no entry for %s", user);
	return e;
}

START_TEST(test_password_forms)
{
	char err[256];
	pool_passwd *pw = parse(
		"plain:secret\n"
		"hashed:md53175bce1d3201d16594cebf9d7eb3f9d\n"
		"short_md5:md53175bce1d3201d16594cebf9d7eb3f9\n"
		"upper_md5:md53175BCE1D3201D16594CEBF9D7EB3F9D\n"
		"text:TEXTmd53175bce1d3201d16594cebf9d7eb3f9d\n"
		"aes:AES" AES_PASS_SECRET "\n"
		"scram:" RFC_VERIFIER "\n", err, sizeof(err));
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(pw->count, 7);

	const passwd_entry *e = must_find(pw, "plain");
	ck_assert_int_eq(e->kind, PASSWD_PLAIN);
	ck_assert_str_eq(e->secret, "secret");
	ck_assert_ptr_null(e->backend_user);
	ck_assert_int_eq(e->lineno, 1);

	e = must_find(pw, "hashed");
	ck_assert_int_eq(e->kind, PASSWD_MD5);
	ck_assert_str_eq(e->secret, "md53175bce1d3201d16594cebf9d7eb3f9d");

	/* "md5" of another length, or not lower-case hex, is just a password */
	ck_assert_int_eq(must_find(pw, "short_md5")->kind, PASSWD_PLAIN);
	ck_assert_int_eq(must_find(pw, "upper_md5")->kind, PASSWD_PLAIN);

	/* TEXT: the prefix goes, even if what follows looks like a hash */
	e = must_find(pw, "text");
	ck_assert_int_eq(e->kind, PASSWD_PLAIN);
	ck_assert_str_eq(e->secret, "md53175bce1d3201d16594cebf9d7eb3f9d");

	e = must_find(pw, "aes");
	ck_assert_int_eq(e->kind, PASSWD_AES);
	ck_assert_str_eq(e->secret, AES_PASS_SECRET);

	e = must_find(pw, "scram");
	ck_assert_int_eq(e->kind, PASSWD_SCRAM);
	ck_assert_str_eq(e->secret, RFC_VERIFIER);
	ck_assert_int_eq(e->lineno, 7);

	ck_assert_ptr_null(pool_passwd_find(pw, "nobody"));
	ck_assert_ptr_null(pool_passwd_find(pw, "PLAIN"));
	ck_assert_ptr_null(pool_passwd_find(pw, NULL));
	pool_passwd_free(pw);
}
END_TEST

START_TEST(test_mapping_pair)
{
	char err[256];
	pool_passwd *pw = parse(
		"alice:TEXTfront_pw:bob:TEXTback_pw\n"
		"carol:md53175bce1d3201d16594cebf9d7eb3f9d:dave:AES" AES_PASS_SECRET "\n"
		"erin:" RFC_VERIFIER ":frank:plainback\n", err, sizeof(err));
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(pw->count, 3);

	const passwd_entry *e = must_find(pw, "alice");
	ck_assert_str_eq(e->secret, "front_pw");
	ck_assert_str_eq(e->backend_user, "bob");
	ck_assert_str_eq(e->backend_password, "back_pw");
	ck_assert_int_eq(e->backend_kind, PASSWD_PLAIN);
	char *plain = passwd_entry_backend_plain(e, NULL);
	ck_assert_str_eq(plain, "back_pw");
	free(plain);

	e = must_find(pw, "carol");
	ck_assert_int_eq(e->kind, PASSWD_MD5);
	ck_assert_str_eq(e->backend_user, "dave");
	ck_assert_int_eq(e->backend_kind, PASSWD_AES);
	ck_assert_ptr_null(passwd_entry_backend_plain(e, NULL));
	plain = passwd_entry_backend_plain(e, "secret");
	ck_assert_str_eq(plain, "pass");
	free(plain);

	/* the verifier's own colons do not split it */
	e = must_find(pw, "erin");
	ck_assert_int_eq(e->kind, PASSWD_SCRAM);
	ck_assert_str_eq(e->secret, RFC_VERIFIER);
	ck_assert_str_eq(e->backend_user, "frank");
	ck_assert_str_eq(e->backend_password, "plainback");
	pool_passwd_free(pw);
}
END_TEST

START_TEST(test_comments_blank_lines_crlf_escapes)
{
	char err[256];
	pool_passwd *pw = parse(
		"# a comment: with a colon\n"
		"\n"
		"   \t\n"
		"crlf:pw1\r\n"
		"esc\\:aped:pa\\:ss\\\\word\n"
		"\\#hash:pw2\n"
		"last:no newline", err, sizeof(err));
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(pw->count, 4);
	ck_assert_str_eq(must_find(pw, "crlf")->secret, "pw1");
	ck_assert_int_eq(must_find(pw, "crlf")->lineno, 4);
	ck_assert_str_eq(must_find(pw, "esc:aped")->secret, "pa:ss\\word");
	ck_assert_str_eq(must_find(pw, "#hash")->secret, "pw2");
	ck_assert_str_eq(must_find(pw, "last")->secret, "no newline");
	pool_passwd_free(pw);

	/* spaces inside a password are kept */
	pw = parse("u: spaced pw \n", err, sizeof(err));
	ck_assert_str_eq(must_find(pw, "u")->secret, " spaced pw ");
	pool_passwd_free(pw);

	pw = parse("", err, sizeof(err));
	ck_assert_int_eq(pw->count, 0);
	pool_passwd_free(pw);
}
END_TEST

START_TEST(test_malformed_lines)
{
	char err[1024];
	pool_passwd *pw = parse(
		"good1:pw\n"
		"no colon here\n"
		":nouser\n"
		"nopassword:\n"
		"three:pw:buser\n"
		"five:pw:bu:bp:extra\n"
		"emptymap:pw::bp\n"
		"badscram:SCRAM-SHA-256$4096:bad$bad:bad\n"
		"emptytext:TEXT\n"
		"good2:pw2\n", err, sizeof(err));
	ck_assert_int_eq(pw->count, 2);
	ck_assert_ptr_nonnull(pool_passwd_find(pw, "good1"));
	ck_assert_ptr_nonnull(pool_passwd_find(pw, "good2"));
	ck_assert_int_eq(must_find(pw, "good2")->lineno, 10);
	ck_assert_ptr_null(pool_passwd_find(pw, "three"));
	ck_assert_ptr_null(pool_passwd_find(pw, "five"));
	ck_assert_ptr_nonnull(strstr(err, "line 2: missing ':'"));
	ck_assert_ptr_nonnull(strstr(err, "line 3: empty user name"));
	ck_assert_ptr_nonnull(strstr(err, "line 4: empty password"));
	ck_assert_ptr_nonnull(strstr(err, "line 5: backend user without backend password"));
	ck_assert_ptr_nonnull(strstr(err, "line 6: too many fields"));
	ck_assert_ptr_nonnull(strstr(err, "line 7: empty backend user"));
	ck_assert_ptr_nonnull(strstr(err, "line 8: invalid SCRAM-SHA-256 verifier"));
	ck_assert_ptr_nonnull(strstr(err, "line 9: empty password"));
	ck_assert_ptr_null(strstr(err, "line 1:"));
	ck_assert_ptr_null(strstr(err, "line 10:"));
	/* messages are separated by newlines, and no password is echoed */
	ck_assert_ptr_nonnull(strchr(err, '\n'));
	ck_assert_ptr_null(strstr(err, "pw"));
	pool_passwd_free(pw);
}
END_TEST

START_TEST(test_nul_byte_and_error_truncation)
{
	static const char text[] = "a:b\0c\nok:pw\n";
	char err[8];
	pool_passwd *pw = pool_passwd_parse(text, sizeof(text) - 1, err, sizeof(err));
	ck_assert_ptr_nonnull(pw);
	ck_assert_int_eq(pw->count, 1);
	ck_assert_str_eq(pw->entries[0].user, "ok");
	/* truncated to the buffer, still a string */
	ck_assert_uint_eq(strlen(err), sizeof(err) - 1);
	ck_assert_str_eq(err, "line 1:");
	pool_passwd_free(pw);

	/* no error buffer at all */
	pw = pool_passwd_parse("bad\n", 4, NULL, 0);
	ck_assert_ptr_nonnull(pw);
	ck_assert_int_eq(pw->count, 0);
	pool_passwd_free(pw);
}
END_TEST

START_TEST(test_aes_vectors)
{
	char *plain = passwd_aes_decrypt(AES_PASS_SECRET, "secret");
	ck_assert_str_eq(plain, "pass");
	free(plain);
	char *cipher = passwd_aes_encrypt("pass", "secret");
	ck_assert_str_eq(cipher, AES_PASS_SECRET);
	free(cipher);

	plain = passwd_aes_decrypt(AES_LONG_CIPHER, "my pool key");
	ck_assert_str_eq(plain, AES_LONG_PLAIN);
	free(plain);
	cipher = passwd_aes_encrypt(AES_LONG_PLAIN, "my pool key");
	ck_assert_str_eq(cipher, AES_LONG_CIPHER);
	free(cipher);
}
END_TEST

START_TEST(test_aes_round_trip)
{
	char plain[64];
	for (size_t len = 0; len < sizeof(plain); len++) {
		memset(plain, 'a' + (int) (len % 26), len);
		plain[len] = '\0';
		char *cipher = passwd_aes_encrypt(plain, "round trip key");
		ck_assert_ptr_nonnull(cipher);
		size_t cipher_bytes = (len / 16 + 1) * 16;     /* PKCS padding adds 1..16 */
		ck_assert_uint_eq(strlen(cipher), 4 * ((cipher_bytes + 2) / 3));
		char *back = passwd_aes_decrypt(cipher, "round trip key");
		ck_assert_ptr_nonnull(back);
		ck_assert_str_eq(back, plain);
		free(back);
		free(cipher);
	}
}
END_TEST

START_TEST(test_aes_rejects_bad_input)
{
	ck_assert_ptr_null(passwd_aes_decrypt(AES_PASS_SECRET, "wrong"));
	ck_assert_ptr_null(passwd_aes_decrypt("", "secret"));
	ck_assert_ptr_null(passwd_aes_decrypt("qIe8cwCrYLv5q4muLzCHqQ=", "secret"));     /* bad padding */
	ck_assert_ptr_null(passwd_aes_decrypt("qIe8cwCrYLv5q4mu!zCHqQ==", "secret"));    /* bad alphabet */
	ck_assert_ptr_null(passwd_aes_decrypt("qIe8cwCrYLv5q4muLzCH", "secret"));        /* 15 bytes */
	ck_assert_ptr_null(passwd_aes_decrypt(" qIe8cwCrYLv5q4muLzCHqQ==", "secret"));
	ck_assert_ptr_null(passwd_aes_decrypt(NULL, "secret"));
	ck_assert_ptr_null(passwd_aes_decrypt(AES_PASS_SECRET, NULL));
	ck_assert_ptr_null(passwd_aes_encrypt(NULL, "k"));
	ck_assert_ptr_null(passwd_aes_encrypt("p", NULL));
}
END_TEST

START_TEST(test_entry_plain)
{
	char err[256];
	pool_passwd *pw = parse(
		"p:plainpw\n"
		"t:TEXTtextpw\n"
		"a:AES" AES_PASS_SECRET "\n"
		"m:md53175bce1d3201d16594cebf9d7eb3f9d\n"
		"s:" RFC_VERIFIER "\n", err, sizeof(err));
	char *plain = passwd_entry_plain(must_find(pw, "p"), NULL);
	ck_assert_str_eq(plain, "plainpw");
	free(plain);
	plain = passwd_entry_plain(must_find(pw, "t"), "secret");
	ck_assert_str_eq(plain, "textpw");
	free(plain);
	plain = passwd_entry_plain(must_find(pw, "a"), "secret");
	ck_assert_str_eq(plain, "pass");
	free(plain);
	ck_assert_ptr_null(passwd_entry_plain(must_find(pw, "a"), NULL));
	ck_assert_ptr_null(passwd_entry_plain(must_find(pw, "a"), "wrong"));
	ck_assert_ptr_null(passwd_entry_plain(must_find(pw, "m"), "secret"));
	ck_assert_ptr_null(passwd_entry_plain(must_find(pw, "s"), "secret"));
	ck_assert_ptr_null(passwd_entry_backend_plain(must_find(pw, "p"), "secret"));
	ck_assert_ptr_null(passwd_entry_plain(NULL, NULL));
	pool_passwd_free(pw);
}
END_TEST

START_TEST(test_load_file)
{
	char err[256];
	pool_passwd *pw = pool_passwd_load(TEST_SRCDIR "/data/pool_passwd", err, sizeof(err));
	ck_assert_msg(pw != NULL, "%s", err);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(pw->count, 4);
	ck_assert_int_eq(must_find(pw, "postgres")->kind, PASSWD_MD5);
	ck_assert_str_eq(must_find(pw, "app")->secret, "app secret");
	char *plain = passwd_entry_plain(must_find(pw, "encrypted"), "secret");
	ck_assert_str_eq(plain, "pass");
	free(plain);
	const passwd_entry *e = must_find(pw, "mapped");
	ck_assert_int_eq(e->lineno, 6);
	ck_assert_str_eq(e->backend_user, "backend_app");
	plain = passwd_entry_backend_plain(e, "secret");
	ck_assert_str_eq(plain, "pass");
	free(plain);
	pool_passwd_free(pw);

	ck_assert_ptr_null(pool_passwd_load(TEST_SRCDIR "/data/no_such_file", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "no_such_file"));
	ck_assert_ptr_null(pool_passwd_load(TEST_SRCDIR "/data", err, sizeof(err)));
}
END_TEST

Suite *pool_passwd_suite(void)
{
	Suite *s = suite_create("pool_passwd");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, test_password_forms);
	tcase_add_test(tc, test_mapping_pair);
	tcase_add_test(tc, test_comments_blank_lines_crlf_escapes);
	tcase_add_test(tc, test_malformed_lines);
	tcase_add_test(tc, test_nul_byte_and_error_truncation);
	tcase_add_test(tc, test_entry_plain);
	tcase_add_test(tc, test_load_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("aes");
	tcase_add_test(tc, test_aes_vectors);
	tcase_add_test(tc, test_aes_round_trip);
	tcase_add_test(tc, test_aes_rejects_bad_input);
	suite_add_tcase(s, tc);
	return s;
}
