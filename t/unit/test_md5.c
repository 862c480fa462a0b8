/* md5.c: PostgreSQL's md5 password forms. */
#include "suites.h"
#include "md5.h"

#include <string.h>

START_TEST(test_md5_hex_known_digests)
{
	char out[33];
	ck_assert(md5_hex("", 0, out));
	ck_assert_str_eq(out, "d41d8cd98f00b204e9800998ecf8427e");
	ck_assert(md5_hex("abc", 3, out));
	ck_assert_str_eq(out, "900150983cd24fb0d6963f7d28e17f72");
}
END_TEST

START_TEST(test_password_hash_is_pg_authid_form)
{
	/* what PostgreSQL stores for user postgres, password postgres */
	char out[MD5_PASSWD_LEN + 1];
	ck_assert(md5_password_hash("postgres", "postgres", out));
	ck_assert_str_eq(out, "md53175bce1d3201d16594cebf9d7eb3f9d");
	ck_assert_uint_eq(strlen(out), MD5_PASSWD_LEN);
}
END_TEST

START_TEST(test_password_hash_long_input)
{
	/* longer than the stack buffer: the heap path must give the same digest */
	char password[300], user[100], joined[400], expected_hex[33], out[MD5_PASSWD_LEN + 1];
	memset(password, 'p', sizeof(password) - 1);
	password[sizeof(password) - 1] = '\0';
	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	strcpy(joined, password);
	strcat(joined, user);
	ck_assert(md5_hex(joined, strlen(joined), expected_hex));
	ck_assert(md5_password_hash(password, user, out));
	ck_assert_str_eq(out + 3, expected_hex);
	ck_assert(strncmp(out, "md5", 3) == 0);
}
END_TEST

START_TEST(test_salted_response)
{
	static const uint8_t salt[4] = { 1, 2, 3, 4 };
	char out[MD5_PASSWD_LEN + 1];
	ck_assert(md5_salted_response("md53175bce1d3201d16594cebf9d7eb3f9d", salt, out));
	ck_assert_str_eq(out, "md568be9ed08db75f318087ab337aaea044");
}
END_TEST

START_TEST(test_salted_response_rejects_non_md5_forms)
{
	static const uint8_t salt[4] = { 1, 2, 3, 4 };
	char out[MD5_PASSWD_LEN + 1];
	ck_assert(!md5_salted_response("md53175bce1d3201d16594cebf9d7eb3f9", salt, out));     /* 34 */
	ck_assert_str_eq(out, "");
	ck_assert(!md5_salted_response("md53175bce1d3201d16594cebf9d7eb3f9d0", salt, out));   /* 36 */
	ck_assert(!md5_salted_response("MD53175bce1d3201d16594cebf9d7eb3f9d", salt, out));
	ck_assert(!md5_salted_response("md53175BCE1d3201d16594cebf9d7eb3f9d", salt, out));
	ck_assert(!md5_salted_response("md5zz75bce1d3201d16594cebf9d7eb3f9d", salt, out));
	ck_assert(!md5_salted_response("plain text password of 35 chars!!", salt, out));
	ck_assert(!md5_salted_response(NULL, salt, out));
	ck_assert(!md5_password_hash(NULL, "u", out));
	ck_assert(!md5_password_hash("p", NULL, out));
}
END_TEST

Suite *md5_suite(void)
{
	Suite *s = suite_create("md5");
	TCase *tc = tcase_create("md5");
	tcase_add_test(tc, test_md5_hex_known_digests);
	tcase_add_test(tc, test_password_hash_is_pg_authid_form);
	tcase_add_test(tc, test_password_hash_long_input);
	tcase_add_test(tc, test_salted_response);
	tcase_add_test(tc, test_salted_response_rejects_non_md5_forms);
	suite_add_tcase(s, tc);
	return s;
}
