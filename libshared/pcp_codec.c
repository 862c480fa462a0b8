/* The PCP wire protocol: see pcp_codec.h. */
#include "pcp_codec.h"
#include "md5.h"
#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* ---- framing ---- */

pcp_result pcp_frame_parse(const uint8_t *data, size_t avail, uint32_t max_len, pcp_frame *out)
{
	memset(out, 0, sizeof(*out));
	if (avail < PCP_HEADER_LEN)
		return PCP_NEED_MORE;
	out->type = (char) data[0];
	out->length_field = (int32_t) be32(data + 1);
	if (out->length_field < 4 || (uint32_t) out->length_field >= max_len)
		return PCP_ERR_LENGTH;
	size_t len = (size_t) out->length_field - 4;
	if (avail - PCP_HEADER_LEN < len)
		return PCP_NEED_MORE;
	out->payload = data + PCP_HEADER_LEN;
	out->len = len;
	out->total = PCP_HEADER_LEN + len;
	return PCP_OK;
}

/* ---- authentication ---- */

bool pcp_auth_expected(const char *stored_md5hex, const char *user, const uint8_t salt[PCP_SALT_LEN],
		       char out[PCP_MD5_HEX_LEN + 1])
{
	out[0] = '\0';
	size_t slen = strlen(stored_md5hex), ulen = strlen(user);
	/* stored + user, then h2 + salt; both small, but never trust the sizes */
	if (slen > 1024 || ulen > 1024)
		return false;
	char joined[2048 + 1];
	memcpy(joined, stored_md5hex, slen);
	memcpy(joined + slen, user, ulen);
	char h2[PCP_MD5_HEX_LEN + 1];
	if (!md5_hex(joined, slen + ulen, h2))
		return false;
	uint8_t salted[PCP_MD5_HEX_LEN + PCP_SALT_LEN];
	memcpy(salted, h2, PCP_MD5_HEX_LEN);
	memcpy(salted + PCP_MD5_HEX_LEN, salt, PCP_SALT_LEN);
	return md5_hex(salted, sizeof(salted), out);
}

bool pcp_auth_response(const char *password, const char *user, const uint8_t salt[PCP_SALT_LEN],
		       char out[PCP_MD5_HEX_LEN + 1])
{
	char h1[PCP_MD5_HEX_LEN + 1];
	out[0] = '\0';
	if (!md5_hex(password, strlen(password), h1))
		return false;
	return pcp_auth_expected(h1, user, salt, out);
}

/* ---- requests ---- */

void pcp_req_simple(buf *b, char type)
{
	size_t at = buf_msg_begin(b, type);
	buf_msg_end(b, at);
}

void pcp_req_auth(buf *b, const char *user, const char *response)
{
	size_t at = buf_msg_begin(b, 'R');
	buf_put_str(b, user);
	buf_put_str(b, response);
	buf_msg_end(b, at);
}

void pcp_req_int(buf *b, char type, int value)
{
	char text[16];
	snprintf(text, sizeof(text), "%d", value);
	size_t at = buf_msg_begin(b, type);
	buf_put_str(b, text);
	buf_msg_end(b, at);
}

void pcp_req_promote(buf *b, bool graceful, int node, bool switchover)
{
	/* "<id>" space NUL option: the byte layout Pgpool-II's client sends */
	char text[16];
	snprintf(text, sizeof(text), "%d ", node);
	size_t at = buf_msg_begin(b, graceful ? 'j' : 'J');
	buf_put_str(b, text);
	buf_put_u8(b, switchover ? 's' : 'n');
	buf_msg_end(b, at);
}

void pcp_req_byte(buf *b, char type, char byte)
{
	size_t at = buf_msg_begin(b, type);
	buf_put_u8(b, (uint8_t) byte);
	buf_msg_end(b, at);
}

void pcp_req_set_param(buf *b, const char *name, const char *value)
{
	size_t at = buf_msg_begin(b, 'A');
	buf_put_str(b, name);
	buf_put_str(b, value);
	buf_msg_end(b, at);
}

/* atoi() as the Pgpool-II server applies it, without its undefined overflow. */
static int parse_number(const char *s)
{
	while (isspace((unsigned char) *s))
		s++;
	bool neg = false;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	long long v = 0;
	while (isdigit((unsigned char) *s)) {
		if (v < (long long) INT_MAX + 1)
			v = v * 10 + (*s - '0');
		s++;
	}
	if (neg)
		v = -v;
	if (v > INT_MAX)
		return INT_MAX;
	if (v < INT_MIN)
		return INT_MIN;
	return (int) v;
}

/* The first string of a payload; NULL if it is not terminated. */
static const char *first_string(const uint8_t *payload, size_t len)
{
	if (!payload || !memchr(payload, '\0', len))
		return NULL;
	return (const char *) payload;
}

static pcp_result decode_number(const uint8_t *p, size_t len, pcp_request *out, char *err, size_t errlen)
{
	const char *text = first_string(p, len);
	if (!text) {
		err_appendf(err, errlen, "argument is not a NUL-terminated string");
		return PCP_ERR_FORMAT;
	}
	out->number_text = text;
	out->number = parse_number(text);
	return PCP_OK;
}

static pcp_result decode_auth(const uint8_t *p, size_t len, pcp_request *out, char *err, size_t errlen)
{
	const char *user = first_string(p, len);
	if (!user) {
		err_appendf(err, errlen, "error while reading authentication packet");
		return PCP_ERR_FORMAT;
	}
	size_t used = strlen(user) + 1;
	const char *resp = first_string(p + used, len - used);
	if (!resp) {
		err_appendf(err, errlen, "error while reading authentication packet");
		return PCP_ERR_FORMAT;
	}
	out->user = user;
	out->response = resp;
	return PCP_OK;
}

static pcp_result decode_promote(const uint8_t *p, size_t len, pcp_request *out, char *err, size_t errlen)
{
	pcp_result r = decode_number(p, len, out, err, errlen);
	if (r != PCP_OK)
		return r;
	size_t used = strlen(out->number_text) + 1;
	out->option = used < len ? (char) p[used] : 'n';
	out->switchover = out->option == 's';
	return PCP_OK;
}

static pcp_result decode_byte(const uint8_t *p, size_t len, pcp_request *out, char *err, size_t errlen)
{
	if (len < 1) {
		err_appendf(err, errlen, "missing mode byte");
		return PCP_ERR_FORMAT;
	}
	out->option = (char) p[0];
	return PCP_OK;
}

static pcp_result decode_set_param(const uint8_t *p, size_t len, pcp_request *out, char *err, size_t errlen)
{
	const char *name = first_string(p, len);
	const char *value = name ? first_string(p + strlen(name) + 1, len - strlen(name) - 1) : NULL;
	if (!name || !value) {
		err_appendf(err, errlen, "parameter name and value must be NUL-terminated strings");
		return PCP_ERR_FORMAT;
	}
	out->param_name = name;
	out->param_value = value;
	return PCP_OK;
}

pcp_result pcp_request_decode(char type, const uint8_t *payload, size_t len,
			      pcp_request *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->type = type;
	switch (type) {
	case 'R':
		return decode_auth(payload, len, out, err, errlen);
	case 'I': case 'H': case 'C': case 'D': case 'd': case 'O': case 'W': case 'P':
		return decode_number(payload, len, out, err, errlen);
	case 'J': case 'j':
		return decode_promote(payload, len, out, err, errlen);
	case 'T': case 't': case 'Z':
		return decode_byte(payload, len, out, err, errlen);
	case 'A':
		return decode_set_param(payload, len, out, err, errlen);
	default:
		return PCP_OK;
	}
}

/* ---- replies ---- */

static void put_field(buf *b, char code, const char *text)
{
	char value[PCP_ERROR_FIELD_MAX + 1];
	snprintf(value, sizeof(value), "%s", text);
	buf_put_u8(b, (uint8_t) code);
	buf_put_str(b, value);
}

static bool is_error_severity(const char *severity)
{
	return strcmp(severity, "ERROR") == 0 || strcmp(severity, "FATAL") == 0 ||
	       strcmp(severity, "PANIC") == 0;
}

void pcp_put_error(buf *b, const char *severity, const char *message, const char *detail,
		   const char *file, int line)
{
	char line_text[16];
	snprintf(line_text, sizeof(line_text), "%d", line);
	size_t at = buf_msg_begin(b, is_error_severity(severity) ? 'E' : 'N');
	put_field(b, 'S', severity);
	put_field(b, 'C', "XX000");
	put_field(b, 'M', message);
	if (detail)
		put_field(b, 'D', detail);
	put_field(b, 'F', file ? file : "");
	put_field(b, 'L', line_text);
	buf_put_u8(b, 0);
	buf_msg_end(b, at);
}

void pcp_put_salt(buf *b, const uint8_t salt[PCP_SALT_LEN])
{
	size_t at = buf_msg_begin(b, 'm');
	buf_put(b, salt, PCP_SALT_LEN);
	buf_msg_end(b, at);
}

void pcp_put_auth_ok(buf *b)
{
	size_t at = buf_msg_begin(b, 'r');
	buf_put_str(b, PCP_AUTH_OK);
	buf_msg_end(b, at);
}

void pcp_put_command_complete(buf *b, char type)
{
	size_t at = buf_msg_begin(b, type);
	buf_put_str(b, PCP_COMMAND_COMPLETE);
	buf_msg_end(b, at);
}

void pcp_put_end(buf *b, char type)
{
	pcp_put_command_complete(b, type);
}

void pcp_put_node_count(buf *b, int count)
{
	char text[16];
	snprintf(text, sizeof(text), "%d", count);
	size_t at = buf_msg_begin(b, 'l');
	buf_put_str(b, PCP_COMMAND_COMPLETE);
	buf_put_str(b, text);
	buf_msg_end(b, at);
}

void pcp_put_array_size(buf *b, char type, int n)
{
	char text[16];
	snprintf(text, sizeof(text), "%d", n);
	size_t at = buf_msg_begin(b, type);
	buf_put_str(b, PCP_ARRAY_SIZE);
	buf_put_str(b, text);
	buf_msg_end(b, at);
}

void pcp_put_array_size_binary(buf *b, char type, int32_t n)
{
	size_t at = buf_msg_begin(b, type);
	buf_put_str(b, PCP_ARRAY_SIZE);
	buf_put_i32(b, n);
	buf_msg_end(b, at);
}

void pcp_put_record(buf *b, char type, const char *tag, const char *const *fields, int n)
{
	size_t at = buf_msg_begin(b, type);
	buf_put_str(b, tag);
	for (int i = 0; i < n; i++)
		buf_put_str(b, fields[i] ? fields[i] : "");
	buf_msg_end(b, at);
}

void pcp_put_process_count(buf *b, int n, const int *pids)
{
	char text[16];
	snprintf(text, sizeof(text), "%d", n);
	size_t at = buf_msg_begin(b, 'n');
	buf_put_str(b, PCP_COMMAND_COMPLETE);
	buf_put_str(b, text);
	for (int i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "%d", pids[i]);
		buf_put_str(b, text);
	}
	buf_msg_end(b, at);
}

void pcp_put_health_check_stats(buf *b, const char *const fields[PCP_HEALTH_CHECK_FIELDS])
{
	size_t at = buf_msg_begin(b, 'h');
	buf_put_str(b, PCP_COMMAND_COMPLETE);
	for (int i = 0; i < PCP_HEALTH_CHECK_FIELDS; i++)
		buf_put_str(b, fields[i] ? fields[i] : "");
	buf_msg_end(b, at);
}

void pcp_put_watchdog_info(buf *b, const char *json)
{
	size_t at = buf_msg_begin(b, 'w');
	buf_put_str(b, PCP_COMMAND_COMPLETE);
	buf_put_str(b, json);
	buf_msg_end(b, at);
}

/* ---- decoding replies ---- */

pcp_result pcp_parse_error(const uint8_t *payload, size_t len, pcp_error_fields *out)
{
	memset(out, 0, sizeof(*out));
	size_t pos = 0;
	while (pos < len) {
		char code = (char) payload[pos++];
		if (code == '\0')
			return PCP_OK;
		const uint8_t *nul = memchr(payload + pos, '\0', len - pos);
		if (!nul)
			return PCP_ERR_FORMAT;
		const char *text = (const char *) payload + pos;
		pos = (size_t) (nul - payload) + 1;
		switch (code) {
		case 'S': out->severity = text; break;
		case 'C': out->code = text; break;
		case 'M': out->message = text; break;
		case 'D': out->detail = text; break;
		case 'H': out->hint = text; break;
		default: break;
		}
	}
	/* Pgpool-II always closes the list with a NUL; tolerate its absence */
	return PCP_OK;
}

int pcp_split_strings(const uint8_t *payload, size_t len, const char **out, int max, pcp_result *res)
{
	int n = 0;
	size_t pos = 0;
	*res = PCP_OK;
	while (pos < len) {
		const uint8_t *nul = memchr(payload + pos, '\0', len - pos);
		if (!nul || n >= max) {
			*res = PCP_ERR_FORMAT;
			return n;
		}
		out[n++] = (const char *) payload + pos;
		pos = (size_t) (nul - payload) + 1;
	}
	return n;
}

/* Decimal text to a count: digits only, bounded. */
static bool parse_count(const char *s, long *out)
{
	if (!*s)
		return false;
	long v = 0;
	for (; *s; s++) {
		if (!isdigit((unsigned char) *s) || v > 100000000L)
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return true;
}

static pcp_result decode_binary_array_size(const uint8_t *payload, size_t len, pcp_reply *out,
					   char *err, size_t errlen)
{
	size_t taglen = sizeof(PCP_ARRAY_SIZE);   /* with its NUL */
	if (len != taglen + 4) {
		err_appendf(err, errlen, "invalid ArraySize packet (length %zu)", len);
		return PCP_ERR_FORMAT;
	}
	int32_t n = (int32_t) be32(payload + taglen);
	if (n < 0) {
		err_appendf(err, errlen, "invalid ArraySize %d", (int) n);
		return PCP_ERR_FORMAT;
	}
	out->part = PCP_PART_ARRAY_SIZE;
	out->count = n;
	return PCP_OK;
}

pcp_result pcp_reply_decode(char type, const uint8_t *payload, size_t len, pcp_reply *out,
			    char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (type == 'b' && len >= sizeof(PCP_ARRAY_SIZE) &&
	    memcmp(payload, PCP_ARRAY_SIZE, sizeof(PCP_ARRAY_SIZE)) == 0)
		return decode_binary_array_size(payload, len, out, err, errlen);

	const char *strs[PCP_MAX_FIELDS + 1];
	pcp_result res;
	int n = pcp_split_strings(payload, len, strs, PCP_MAX_FIELDS + 1, &res);
	if (res != PCP_OK || n == 0) {
		err_appendf(err, errlen, n == 0 && res == PCP_OK ? "empty reply packet"
			    : "reply packet is not a list of NUL-terminated strings (or has too many)");
		return PCP_ERR_FORMAT;
	}
	out->tag = strs[0];
	out->nfields = n - 1;
	for (int i = 1; i < n; i++)
		out->fields[i - 1] = strs[i];

	if (strcmp(strs[0], PCP_ARRAY_SIZE) == 0) {
		if (n != 2 || !parse_count(strs[1], &out->count)) {
			err_appendf(err, errlen, "invalid ArraySize packet");
			return PCP_ERR_FORMAT;
		}
		out->part = PCP_PART_ARRAY_SIZE;
	} else if (strcmp(strs[0], PCP_COMMAND_COMPLETE) == 0) {
		out->part = n == 1 ? PCP_PART_END : PCP_PART_COMPLETE_DATA;
	} else {
		out->part = PCP_PART_RECORD;
	}
	return PCP_OK;
}

const char *pcp_reply_json(const pcp_reply *r)
{
	if (r->part != PCP_PART_COMPLETE_DATA || r->nfields < 1)
		return NULL;
	return r->fields[0];
}
