/* Wire-protocol framing: message builders, the bounded reader and the
 * startup packet parser. */
#include "suites.h"
#include "buf.h"
#include "proto.h"

#include <stdio.h>
#include <string.h>

static size_t startup_bytes(uint8_t *out, uint32_t code, const char *params, size_t plen)
{
	put_be32(out + 4, code);
	memcpy(out + 8, params, plen);
	put_be32(out, (uint32_t) (8 + plen));
	return 8 + plen;
}

START_TEST(builder_sets_length)
{
	buf b;
	buf_init(&b);
	proto_ready(&b, 'T');
	ck_assert_uint_eq(b.len, 6);
	ck_assert_int_eq(b.data[0], 'Z');
	ck_assert_uint_eq(be32(b.data + 1), 5);
	ck_assert_int_eq(b.data[5], 'T');
	buf_reset(&b);
	proto_parameter_status(&b, "server_version", "15.18");
	ck_assert_uint_eq(b.len, 1 + 4 + sizeof("server_version") + sizeof("15.18"));
	ck_assert_uint_eq(be32(b.data + 1), b.len - 1);
	buf_free(&b);
}
END_TEST

START_TEST(error_response_fields)
{
	buf b;
	buf_init(&b);
	proto_error(&b, "FATAL", "53300", "sorry, too many clients already", "detail text");
	ck_assert_int_eq(b.data[0], 'E');
	ck_assert_uint_eq(be32(b.data + 1), b.len - 1);
	const char *state, *msg;
	proto_parse_error(b.data + 5, b.len - 5, &state, &msg);
	ck_assert_str_eq(state, "53300");
	ck_assert_str_eq(msg, "sorry, too many clients already");
	ck_assert_int_eq(b.data[b.len - 1], 0);
	buf_free(&b);
}
END_TEST

START_TEST(parse_error_truncated)
{
	/* a field without its terminator must not be read past the end */
	const uint8_t body[] = { 'C', '5', '3', '3' };
	const char *state, *msg;
	proto_parse_error(body, sizeof(body), &state, &msg);
	ck_assert_ptr_null(state);
	ck_assert_ptr_null(msg);
}
END_TEST

START_TEST(reader_bounds)
{
	const uint8_t data[] = { 0, 0, 0, 7, 'a', 'b', 0, 'c' };
	msg_reader r;
	mr_init(&r, data, sizeof(data));
	ck_assert_int_eq(mr_i32(&r), 7);
	ck_assert_str_eq(mr_str(&r), "ab");
	ck_assert_ptr_null(mr_str(&r));     /* "c" has no NUL */
	ck_assert(r.err);
	ck_assert_int_eq(mr_i32(&r), 0);    /* sticky */
	ck_assert_uint_eq(mr_remaining(&r), 0);
	mr_init(&r, data, 3);
	ck_assert_int_eq(mr_i32(&r), 0);
	ck_assert(r.err);
}
END_TEST

START_TEST(startup_ok)
{
	uint8_t pkt[256];
	static const char p[] = "user\0alice\0database\0shop\0application_name\0psql\0options\0-c x=1\0";
	size_t len = startup_bytes(pkt, PROTO_V3, p, sizeof(p));
	startup_packet sp;
	char err[128];
	ck_assert(startup_parse(pkt, len, &sp, err, sizeof(err)));
	ck_assert_str_eq(sp.user, "alice");
	ck_assert_str_eq(sp.database, "shop");
	ck_assert_str_eq(sp.application_name, "psql");
	ck_assert_int_eq(sp.nparams, 4);
	ck_assert_str_eq(sp.params[3].value, "-c x=1");
	ck_assert(!sp.replication);
}
END_TEST

START_TEST(startup_database_defaults_to_user)
{
	uint8_t pkt[64];
	static const char p[] = "user\0bob\0";
	size_t len = startup_bytes(pkt, PROTO_V3, p, sizeof(p));
	startup_packet sp;
	char err[128];
	ck_assert(startup_parse(pkt, len, &sp, err, sizeof(err)));
	ck_assert_str_eq(sp.database, "bob");
}
END_TEST

START_TEST(startup_rejects)
{
	uint8_t pkt[64];
	startup_packet sp;
	char err[128];
	static const char nouser[] = "database\0x\0";
	size_t len = startup_bytes(pkt, PROTO_V3, nouser, sizeof(nouser));
	ck_assert(!startup_parse(pkt, len, &sp, err, sizeof(err)));
	ck_assert_str_eq(err, "no PostgreSQL user name specified in startup packet");

	static const char unterminated[] = { 'u', 's', 'e', 'r', 0, 'x' };
	len = startup_bytes(pkt, PROTO_V3, unterminated, sizeof(unterminated));
	ck_assert(!startup_parse(pkt, len, &sp, err, sizeof(err)));
	ck_assert_str_eq(err, "invalid startup packet layout: expected terminator as last byte");

	static const char v2[] = "user\0x\0";
	len = startup_bytes(pkt, PROTO_VERSION(2, 0), v2, sizeof(v2));
	ck_assert(!startup_parse(pkt, len, &sp, err, sizeof(err)));
	ck_assert_str_eq(err, "unsupported frontend protocol 2.0: server supports 3.0 to 3.0");
	ck_assert_uint_eq(sp.code >> 16, 2);

	ck_assert(!startup_parse(pkt, 4, &sp, err, sizeof(err)));
	ck_assert_str_eq(err, "invalid length of startup packet");
	ck_assert(!startup_parse(pkt, STARTUP_MAX_LEN + 1, &sp, err, sizeof(err)));
}
END_TEST

START_TEST(startup_minor_version_and_replication)
{
	uint8_t pkt[128];
	static const char p[] = "user\0x\0replication\0true\0_pq_.foo\0bar\0";
	size_t len = startup_bytes(pkt, PROTO_VERSION(3, 2), p, sizeof(p));
	startup_packet sp;
	char err[128];
	ck_assert(startup_parse(pkt, len, &sp, err, sizeof(err)));
	ck_assert(sp.replication);
	ck_assert_uint_eq(sp.code & 0xffff, 2);
}
END_TEST

START_TEST(cancel_and_ssl_requests)
{
	uint8_t pkt[16];
	put_be32(pkt, 16);
	put_be32(pkt + 4, PROTO_CANCEL_CODE);
	put_be32(pkt + 8, 1234);
	put_be32(pkt + 12, 0xdeadbeef);
	startup_packet sp;
	char err[128];
	ck_assert(startup_parse(pkt, 16, &sp, err, sizeof(err)));
	ck_assert_uint_eq(sp.code, PROTO_CANCEL_CODE);
	ck_assert_uint_eq(sp.cancel_pid, 1234);
	ck_assert_uint_eq(sp.cancel_key, 0xdeadbeef);
	ck_assert(!startup_parse(pkt, 12, &sp, err, sizeof(err)));   /* short cancel */
	put_be32(pkt, 8);
	put_be32(pkt + 4, PROTO_SSL_CODE);
	ck_assert(startup_parse(pkt, 8, &sp, err, sizeof(err)));
	ck_assert_uint_eq(sp.code, PROTO_SSL_CODE);
}
END_TEST

START_TEST(too_many_params)
{
	uint8_t pkt[STARTUP_MAX_LEN];
	char params[STARTUP_MAX_LEN];
	size_t n = 0;
	for (int i = 0; i < STARTUP_MAX_PARAMS + 1; i++) {
		n += (size_t) snprintf(params + n, sizeof(params) - n, "p%d", i) + 1;
		params[n++] = 'v';
		params[n++] = 0;
	}
	params[n++] = 0;
	size_t len = startup_bytes(pkt, PROTO_V3, params, n);
	startup_packet sp;
	char err[128];
	ck_assert(!startup_parse(pkt, len, &sp, err, sizeof(err)));
	ck_assert_str_eq(err, "too many parameters in startup packet");
}
END_TEST

START_TEST(negotiate_version_message)
{
	buf b;
	buf_init(&b);
	const char *opts[] = { "_pq_.a", "_pq_.b" };
	proto_negotiate_version(&b, 0, opts, 2);
	ck_assert_int_eq(b.data[0], 'v');
	ck_assert_uint_eq(be32(b.data + 1), b.len - 1);
	ck_assert_uint_eq(be32(b.data + 5), PROTO_V3);
	ck_assert_uint_eq(be32(b.data + 9), 2);
	ck_assert_str_eq((const char *) b.data + 13, "_pq_.a");
	buf_free(&b);
}
END_TEST

Suite *proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("framing");
	tcase_add_test(tc, builder_sets_length);
	tcase_add_test(tc, error_response_fields);
	tcase_add_test(tc, parse_error_truncated);
	tcase_add_test(tc, reader_bounds);
	tcase_add_test(tc, startup_ok);
	tcase_add_test(tc, startup_database_defaults_to_user);
	tcase_add_test(tc, startup_rejects);
	tcase_add_test(tc, startup_minor_version_and_replication);
	tcase_add_test(tc, cancel_and_ssl_requests);
	tcase_add_test(tc, too_many_params);
	tcase_add_test(tc, negotiate_version_message);
	suite_add_tcase(s, tc);
	return s;
}
