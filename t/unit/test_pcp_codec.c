/* pcp_codec.c: PCP framing, authentication hashes, requests and replies,
 * checked against the byte examples of spec/pcp-protocol.md. */
#include "suites.h"
#include "buf.h"
#include "pcp_codec.h"

#include <stdio.h>
#include <string.h>

static void assert_bytes(const buf *b, const void *expect, size_t len)
{
	ck_assert_uint_eq(b->len, len);
	ck_assert_msg(memcmp(b->data, expect, len) == 0, "bytes differ");
}

START_TEST(test_frame_parse)
{
	static const uint8_t salt_req[] = { 'M', 0, 0, 0, 4 };
	pcp_frame f;
	for (size_t n = 0; n < sizeof(salt_req); n++)
		ck_assert_int_eq(pcp_frame_parse(salt_req, n, PCP_MAX_REQUEST_LEN, &f), PCP_NEED_MORE);
	ck_assert_int_eq(pcp_frame_parse(salt_req, 5, PCP_MAX_REQUEST_LEN, &f), PCP_OK);
	ck_assert_int_eq(f.type, 'M');
	ck_assert_uint_eq(f.len, 0);
	ck_assert_uint_eq(f.total, 5);

	static const uint8_t node_req[] = { 'I', 0, 0, 0, 7, '-', '1', 0, 'X', 0, 0, 0, 4 };
	ck_assert_int_eq(pcp_frame_parse(node_req, 7, PCP_MAX_REQUEST_LEN, &f), PCP_NEED_MORE);
	ck_assert_int_eq(pcp_frame_parse(node_req, sizeof(node_req), PCP_MAX_REQUEST_LEN, &f), PCP_OK);
	ck_assert_uint_eq(f.total, 8);
	ck_assert_uint_eq(f.len, 3);
	ck_assert_str_eq((const char *) f.payload, "-1");
	/* the next frame follows */
	ck_assert_int_eq(pcp_frame_parse(node_req + f.total, sizeof(node_req) - f.total, PCP_MAX_REQUEST_LEN, &f), PCP_OK);
	ck_assert_int_eq(f.type, 'X');

	/* Pgpool-II's limits: length <= 0 or >= 260 is "incorrect packet length (N)" */
	static const uint8_t too_long[] = { 'I', 0, 0, 1, 4 };
	ck_assert_int_eq(pcp_frame_parse(too_long, 5, PCP_MAX_REQUEST_LEN, &f), PCP_ERR_LENGTH);
	ck_assert_int_eq(f.length_field, 260);
	static const uint8_t max_ok[] = { 'I', 0, 0, 1, 3 };
	ck_assert_int_eq(pcp_frame_parse(max_ok, 5, PCP_MAX_REQUEST_LEN, &f), PCP_NEED_MORE);
	static const uint8_t negative[] = { 'I', 0xff, 0xff, 0xff, 0xfe };
	ck_assert_int_eq(pcp_frame_parse(negative, 5, PCP_MAX_REQUEST_LEN, &f), PCP_ERR_LENGTH);
	ck_assert_int_eq(f.length_field, -2);
	static const uint8_t short_len[] = { 'I', 0, 0, 0, 3 };
	ck_assert_int_eq(pcp_frame_parse(short_len, 5, PCP_MAX_REQUEST_LEN, &f), PCP_ERR_LENGTH);
	/* replies may be larger */
	ck_assert_int_eq(pcp_frame_parse(too_long, 5, PCP_MAX_REPLY_LEN, &f), PCP_NEED_MORE);
}
END_TEST

START_TEST(test_auth_hash_example)
{
	static const uint8_t salt[4] = { 0xde, 0xad, 0xbe, 0xef };
	char out[33];
	ck_assert(pcp_auth_response("secret", "pcpadmin", salt, out));
	ck_assert_str_eq(out, "a59a71ea7f209eb61734ee9be7bd31c3");
	ck_assert(pcp_auth_expected("5ebe2294ecd0e0f08eab7690d2a6ee69", "pcpadmin", salt, out));
	ck_assert_str_eq(out, "a59a71ea7f209eb61734ee9be7bd31c3");
	/* a salt with NUL bytes is still 4 bytes */
	static const uint8_t zero_salt[4] = { 0, 0, 0, 0 };
	char a[33], b[33];
	ck_assert(pcp_auth_response("", "u", zero_salt, a));
	ck_assert(pcp_auth_expected("d41d8cd98f00b204e9800998ecf8427e", "u", zero_salt, b));
	ck_assert_str_eq(a, b);
}
END_TEST

START_TEST(test_request_bytes)
{
	buf b;
	buf_init(&b);
	pcp_req_simple(&b, 'M');
	assert_bytes(&b, "M\0\0\0\4", 5);

	buf_reset(&b);
	pcp_req_auth(&b, "pcpadmin", "a59a71ea7f209eb61734ee9be7bd31c3");
	ck_assert_uint_eq(b.len, 1 + 0x2e);
	ck_assert_int_eq(b.data[4], 0x2e);

	buf_reset(&b);
	pcp_req_int(&b, 'I', -1);
	assert_bytes(&b, "I\0\0\0\7-1", 8);

	buf_reset(&b);
	pcp_req_promote(&b, false, 1, true);
	assert_bytes(&b, "J\0\0\0\x08" "1 \0s", 9);
	buf_reset(&b);
	pcp_req_promote(&b, true, 12, false);
	assert_bytes(&b, "j\0\0\0\x09" "12 \0n", 10);

	buf_reset(&b);
	pcp_req_byte(&b, 'T', 's');
	assert_bytes(&b, "T\0\0\0\5s", 6);
	buf_reset(&b);
	pcp_req_byte(&b, 'Z', 'l');
	assert_bytes(&b, "Z\0\0\0\5l", 6);
	ck_assert(!b.oom);
	buf_free(&b);
}
END_TEST

static pcp_result decode(char type, const void *p, size_t len, pcp_request *r)
{
	char err[128] = "";
	return pcp_request_decode(type, p, len, r, err, sizeof(err));
}

START_TEST(test_request_decode)
{
	pcp_request r;
	ck_assert_int_eq(decode('R', "bob\0hash\0", 9, &r), PCP_OK);
	ck_assert_str_eq(r.user, "bob");
	ck_assert_str_eq(r.response, "hash");
	ck_assert_int_eq(decode('R', "bob\0hash", 8, &r), PCP_ERR_FORMAT);
	ck_assert_int_eq(decode('R', "bob", 3, &r), PCP_ERR_FORMAT);
	ck_assert_int_eq(decode('R', "", 0, &r), PCP_ERR_FORMAT);

	ck_assert_int_eq(decode('I', "5", 2, &r), PCP_OK);
	ck_assert_int_eq(r.number, 5);
	ck_assert_str_eq(r.number_text, "5");
	ck_assert_int_eq(decode('I', "  -3x", 6, &r), PCP_OK);
	ck_assert_int_eq(r.number, -3);
	ck_assert_int_eq(decode('I', "abc", 4, &r), PCP_OK);
	ck_assert_int_eq(r.number, 0);
	ck_assert_int_eq(decode('H', "99999999999999999999", 21, &r), PCP_OK);
	ck_assert_int_eq(r.number, 2147483647);
	ck_assert_int_eq(decode('P', "-99999999999999999999", 22, &r), PCP_OK);
	ck_assert_int_eq(r.number, -2147483647 - 1);
	ck_assert_int_eq(decode('C', "12", 2, &r), PCP_ERR_FORMAT);      /* no NUL */
	ck_assert_int_eq(decode('C', NULL, 0, &r), PCP_ERR_FORMAT);

	ck_assert_int_eq(decode('J', "1 \0s", 4, &r), PCP_OK);
	ck_assert_int_eq(r.number, 1);
	ck_assert(r.switchover);
	ck_assert_int_eq(decode('j', "3 \0n", 4, &r), PCP_OK);
	ck_assert(!r.switchover);
	ck_assert_int_eq(decode('J', "3 ", 3, &r), PCP_OK);                /* no option byte */
	ck_assert_int_eq(r.option, 'n');

	ck_assert_int_eq(decode('T', "f", 1, &r), PCP_OK);
	ck_assert_int_eq(r.option, 'f');
	ck_assert_int_eq(decode('t', "", 0, &r), PCP_ERR_FORMAT);
	ck_assert_int_eq(decode('Z', "c", 1, &r), PCP_OK);
	ck_assert_int_eq(r.option, 'c');

	ck_assert_int_eq(decode('A', "client_min_messages\0debug1\0", 27, &r), PCP_OK);
	ck_assert_str_eq(r.param_name, "client_min_messages");
	ck_assert_str_eq(r.param_value, "debug1");
	ck_assert_int_eq(decode('A', "client_min_messages\0debug1", 26, &r), PCP_ERR_FORMAT);

	ck_assert_int_eq(decode('L', NULL, 0, &r), PCP_OK);
	ck_assert_int_eq(decode('?', "junk", 4, &r), PCP_OK);
	ck_assert_int_eq(r.type, '?');
}
END_TEST

START_TEST(test_reply_bytes)
{
	buf b;
	buf_init(&b);

	pcp_put_command_complete(&b, 'c');
	ck_assert_uint_eq(b.len, 21);
	assert_bytes(&b, "c\0\0\0\x14" "CommandComplete", 21);

	buf_reset(&b);
	pcp_put_node_count(&b, 2);
	assert_bytes(&b, "l\0\0\0\x16" "CommandComplete\0" "2", 23);

	buf_reset(&b);
	pcp_put_array_size_binary(&b, 'b', 170);
	assert_bytes(&b, "b\0\0\0\x12" "ArraySize\0" "\0\0\0\xaa", 19);

	buf_reset(&b);
	pcp_put_array_size(&b, 'i', 2);
	assert_bytes(&b, "i\0\0\0\x10" "ArraySize\0" "2", 17);

	/* the spec's first NodeInfo packet, length 0x4e */
	static const char *const node[] = { "localhost", "5432", "2", "0", "up", "1073741823.500000",
					    "2", "primary", "0", "", "", "1700000000" };
	buf_reset(&b);
	pcp_put_record(&b, 'i', PCP_NODE_INFO, node, PCP_NODE_INFO_FIELDS_43);
	static const uint8_t expect_node[] = {
		0x69, 0x00, 0x00, 0x00, 0x4e, 0x4e, 0x6f, 0x64, 0x65, 0x49, 0x6e, 0x66, 0x6f, 0x00, 0x6c, 0x6f,
		0x63, 0x61, 0x6c, 0x68, 0x6f, 0x73, 0x74, 0x00, 0x35, 0x34, 0x33, 0x32, 0x00, 0x32, 0x00, 0x30,
		0x00, 0x75, 0x70, 0x00, 0x31, 0x30, 0x37, 0x33, 0x37, 0x34, 0x31, 0x38, 0x32, 0x33, 0x2e, 0x35,
		0x30, 0x30, 0x30, 0x30, 0x30, 0x00, 0x32, 0x00, 0x70, 0x72, 0x69, 0x6d, 0x61, 0x72, 0x79, 0x00,
		0x30, 0x00, 0x00, 0x00, 0x31, 0x37, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x00 };
	assert_bytes(&b, expect_node, sizeof(expect_node));

	/* the spec's error packet for pcp_node_info -n 5, length 0x57 */
	buf_reset(&b);
	pcp_put_error(&b, "ERROR", "informing node info failed", "invalid node ID : 5", "pcp_worker.c", 832);
	static const char expect_err[] = "E\0\0\0\x57" "SERROR\0" "CXX000\0" "Minforming node info failed\0"
					 "Dinvalid node ID : 5\0" "Fpcp_worker.c\0" "L832\0";
	assert_bytes(&b, expect_err, sizeof(expect_err));   /* includes the final NUL */

	buf_reset(&b);
	pcp_put_error(&b, "NOTICE", "note", NULL, "x.c", 1);
	ck_assert_int_eq(b.data[0], 'N');

	/* long texts are cut at 255 bytes per field */
	char longmsg[600];
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	buf_reset(&b);
	pcp_put_error(&b, "FATAL", longmsg, NULL, "f", 1);
	pcp_error_fields ef;
	ck_assert_int_eq(pcp_parse_error(b.data + 5, b.len - 5, &ef), PCP_OK);
	ck_assert_uint_eq(strlen(ef.message), 255);
	ck_assert_str_eq(ef.severity, "FATAL");

	buf_reset(&b);
	int pids[3] = { 11, 22, 333 };
	pcp_put_process_count(&b, 3, pids);
	assert_bytes(&b, "n\0\0\0\x20" "CommandComplete\0" "3\0" "11\0" "22\0" "333", 33);

	buf_reset(&b);
	pcp_put_salt(&b, (const uint8_t *) "\xde\xad\x00\xef");
	assert_bytes(&b, "m\0\0\0\x08\xde\xad\x00\xef", 9);
	buf_reset(&b);
	pcp_put_auth_ok(&b);
	assert_bytes(&b, "r\0\0\0\x15" "AuthenticationOK", 22);
	ck_assert(!b.oom);
	buf_free(&b);
}
END_TEST

START_TEST(test_reply_decode)
{
	pcp_reply r;
	char err[128] = "";
	ck_assert_int_eq(pcp_reply_decode('i', (const uint8_t *) "ArraySize\0" "2", 12, &r, err, sizeof(err)), PCP_OK);
	ck_assert_int_eq(r.part, PCP_PART_ARRAY_SIZE);
	ck_assert_int_eq(r.count, 2);
	ck_assert_int_eq(pcp_reply_decode('i', (const uint8_t *) "ArraySize\0" "-2", 13, &r, err, sizeof(err)), PCP_ERR_FORMAT);
	ck_assert_int_eq(pcp_reply_decode('i', (const uint8_t *) "ArraySize\0", 10, &r, err, sizeof(err)), PCP_ERR_FORMAT);
	ck_assert_int_eq(pcp_reply_decode('b', (const uint8_t *) "ArraySize\0\0\0\0\xaa", 14, &r, err, sizeof(err)), PCP_OK);
	ck_assert_int_eq(r.count, 170);
	ck_assert_int_eq(pcp_reply_decode('b', (const uint8_t *) "ArraySize\0\0\0\xaa", 13, &r, err, sizeof(err)), PCP_ERR_FORMAT);
	ck_assert_int_eq(pcp_reply_decode('b', (const uint8_t *) "ArraySize\0\xff\0\0\0", 14, &r, err, sizeof(err)), PCP_ERR_FORMAT);

	ck_assert_int_eq(pcp_reply_decode('i', (const uint8_t *) "NodeInfo\0h\0" "5432", 16, &r, err, sizeof(err)), PCP_OK);
	ck_assert_int_eq(r.part, PCP_PART_RECORD);
	ck_assert_str_eq(r.tag, "NodeInfo");
	ck_assert_int_eq(r.nfields, 2);
	ck_assert_str_eq(r.fields[1], "5432");

	ck_assert_int_eq(pcp_reply_decode('c', (const uint8_t *) "CommandComplete", 16, &r, err, sizeof(err)), PCP_OK);
	ck_assert_int_eq(r.part, PCP_PART_END);
	ck_assert_int_eq(pcp_reply_decode('w', (const uint8_t *) "CommandComplete\0{}", 19, &r, err, sizeof(err)), PCP_OK);
	ck_assert_int_eq(r.part, PCP_PART_COMPLETE_DATA);
	ck_assert_str_eq(pcp_reply_json(&r), "{}");

	/* unterminated, empty, too many fields */
	ck_assert_int_eq(pcp_reply_decode('i', (const uint8_t *) "NodeInfo\0h", 10, &r, err, sizeof(err)), PCP_ERR_FORMAT);
	ck_assert_int_eq(pcp_reply_decode('i', (const uint8_t *) "", 0, &r, err, sizeof(err)), PCP_ERR_FORMAT);
	uint8_t many[PCP_MAX_FIELDS * 2 + 10];
	memset(many, 0, sizeof(many));
	ck_assert_int_eq(pcp_reply_decode('p', many, sizeof(many), &r, err, sizeof(err)), PCP_ERR_FORMAT);

	const char *strs[4];
	pcp_result res;
	ck_assert_int_eq(pcp_split_strings((const uint8_t *) "a\0bb\0", 5, strs, 4, &res), 2);
	ck_assert_int_eq(res, PCP_OK);
	ck_assert_int_eq(pcp_split_strings((const uint8_t *) "a\0bb", 4, strs, 4, &res), 1);
	ck_assert_int_eq(res, PCP_ERR_FORMAT);
}
END_TEST

START_TEST(test_parse_error_fields)
{
	pcp_error_fields ef;
	static const char pkt[] = "SERROR\0CXX000\0Mbad\0Dworse\0Hhint\0Ff.c\0L1\0";
	ck_assert_int_eq(pcp_parse_error((const uint8_t *) pkt, sizeof(pkt), &ef), PCP_OK);
	ck_assert_str_eq(ef.severity, "ERROR");
	ck_assert_str_eq(ef.code, "XX000");
	ck_assert_str_eq(ef.message, "bad");
	ck_assert_str_eq(ef.detail, "worse");
	ck_assert_str_eq(ef.hint, "hint");
	ck_assert_int_eq(pcp_parse_error((const uint8_t *) "SERROR\0Mba", 10, &ef), PCP_ERR_FORMAT);
	ck_assert_int_eq(pcp_parse_error((const uint8_t *) "", 0, &ef), PCP_OK);
	ck_assert_ptr_null(ef.message);
}
END_TEST

Suite *pcp_codec_suite(void)
{
	Suite *s = suite_create("pcp_codec");
	TCase *tc = tcase_create("codec");
	tcase_add_test(tc, test_frame_parse);
	tcase_add_test(tc, test_auth_hash_example);
	tcase_add_test(tc, test_request_bytes);
	tcase_add_test(tc, test_request_decode);
	tcase_add_test(tc, test_reply_bytes);
	tcase_add_test(tc, test_reply_decode);
	tcase_add_test(tc, test_parse_error_fields);
	suite_add_tcase(s, tc);
	return s;
}
