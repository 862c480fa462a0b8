/* PostgreSQL v3 wire protocol helpers: see proto.h. */
#include "proto.h"

#include <stdio.h>
#include <string.h>

void mr_init(msg_reader *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = false;
}

size_t mr_remaining(const msg_reader *r)
{
	return r->err ? 0 : r->len - r->off;
}

const uint8_t *mr_bytes(msg_reader *r, size_t n)
{
	if (r->err || n > r->len - r->off) {
		r->err = true;
		return NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

uint8_t mr_u8(msg_reader *r)
{
	const uint8_t *p = mr_bytes(r, 1);
	return p ? p[0] : 0;
}

int16_t mr_i16(msg_reader *r)
{
	const uint8_t *p = mr_bytes(r, 2);
	return p ? (int16_t) be16(p) : 0;
}

int32_t mr_i32(msg_reader *r)
{
	const uint8_t *p = mr_bytes(r, 4);
	return p ? (int32_t) be32(p) : 0;
}

const char *mr_str(msg_reader *r)
{
	if (r->err)
		return NULL;
	const uint8_t *start = r->p + r->off;
	const uint8_t *nul = memchr(start, 0, r->len - r->off);
	if (!nul) {
		r->err = true;
		return NULL;
	}
	r->off += (size_t) (nul - start) + 1;
	return (const char *) start;
}

static bool startup_params(msg_reader *r, startup_packet *out, char *err, size_t errlen)
{
	for (;;) {
		const char *name = mr_str(r);
		if (!name) {
			snprintf(err, errlen, "invalid startup packet layout: expected terminator as last byte");
			return false;
		}
		if (name[0] == '\0')
			break;
		const char *value = mr_str(r);
		if (!value) {
			snprintf(err, errlen, "invalid startup packet layout: expected terminator as last byte");
			return false;
		}
		if (out->nparams >= STARTUP_MAX_PARAMS) {
			snprintf(err, errlen, "too many parameters in startup packet");
			return false;
		}
		out->params[out->nparams].name = name;
		out->params[out->nparams].value = value;
		out->nparams++;
		if (strcmp(name, "user") == 0)
			out->user = value;
		else if (strcmp(name, "database") == 0)
			out->database = value;
		else if (strcmp(name, "application_name") == 0)
			out->application_name = value;
		else if (strcmp(name, "replication") == 0)
			out->replication = strcmp(value, "false") != 0 && strcmp(value, "off") != 0 &&
				strcmp(value, "no") != 0 && strcmp(value, "0") != 0;
	}
	if (mr_remaining(r) != 0) {
		snprintf(err, errlen, "invalid startup packet layout: expected terminator as last byte");
		return false;
	}
	return true;
}

bool startup_parse(const uint8_t *pkt, size_t len, startup_packet *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (len < 8 || len > STARTUP_MAX_LEN) {
		snprintf(err, errlen, "invalid length of startup packet");
		return false;
	}
	msg_reader r;
	mr_init(&r, pkt + 4, len - 4);
	out->code = (uint32_t) mr_i32(&r);
	if (out->code == PROTO_CANCEL_CODE) {
		if (len != 16) {
			snprintf(err, errlen, "invalid length of cancel request packet");
			return false;
		}
		out->cancel_pid = (uint32_t) mr_i32(&r);
		out->cancel_key = (uint32_t) mr_i32(&r);
		return true;
	}
	if (out->code == PROTO_SSL_CODE || out->code == PROTO_GSSENC_CODE) {
		if (len != 8) {
			snprintf(err, errlen, "invalid length of startup packet");
			return false;
		}
		return true;
	}
	if ((out->code >> 16) != 3) {
		snprintf(err, errlen, "unsupported frontend protocol %u.%u: server supports 3.0 to 3.0",
			out->code >> 16, out->code & 0xffff);
		return false;
	}
	if (!startup_params(&r, out, err, errlen))
		return false;
	if (!out->user || !out->user[0]) {
		snprintf(err, errlen, "no PostgreSQL user name specified in startup packet");
		return false;
	}
	if (!out->database || !out->database[0])
		out->database = out->user;
	return true;
}

static void error_fields(buf *b, char type, const char *severity, const char *sqlstate,
	const char *message, const char *detail)
{
	size_t off = buf_msg_begin(b, type);
	buf_put_u8(b, 'S');
	buf_put_str(b, severity);
	buf_put_u8(b, 'V');
	buf_put_str(b, severity);
	buf_put_u8(b, 'C');
	buf_put_str(b, sqlstate);
	buf_put_u8(b, 'M');
	buf_put_str(b, message);
	if (detail) {
		buf_put_u8(b, 'D');
		buf_put_str(b, detail);
	}
	buf_put_u8(b, 0);
	buf_msg_end(b, off);
}

void proto_error(buf *b, const char *severity, const char *sqlstate, const char *message, const char *detail)
{
	error_fields(b, 'E', severity, sqlstate, message, detail);
}

void proto_notice(buf *b, const char *severity, const char *sqlstate, const char *message)
{
	error_fields(b, 'N', severity, sqlstate, message, NULL);
}

void proto_auth_request(buf *b, int32_t code, const void *data, size_t datalen)
{
	size_t off = buf_msg_begin(b, 'R');
	buf_put_i32(b, code);
	buf_put(b, data, datalen);
	buf_msg_end(b, off);
}

void proto_parameter_status(buf *b, const char *name, const char *value)
{
	size_t off = buf_msg_begin(b, 'S');
	buf_put_str(b, name);
	buf_put_str(b, value);
	buf_msg_end(b, off);
}

void proto_backend_key(buf *b, uint32_t pid, uint32_t key)
{
	size_t off = buf_msg_begin(b, 'K');
	buf_put_i32(b, (int32_t) pid);
	buf_put_i32(b, (int32_t) key);
	buf_msg_end(b, off);
}

void proto_ready(buf *b, char tx_status)
{
	size_t off = buf_msg_begin(b, 'Z');
	buf_put_u8(b, (uint8_t) tx_status);
	buf_msg_end(b, off);
}

void proto_query(buf *b, const char *sql)
{
	size_t off = buf_msg_begin(b, 'Q');
	buf_put_str(b, sql);
	buf_msg_end(b, off);
}

void proto_terminate(buf *b)
{
	size_t off = buf_msg_begin(b, 'X');
	buf_msg_end(b, off);
}

void proto_negotiate_version(buf *b, uint32_t newest_minor, const char *const *options, int noptions)
{
	size_t off = buf_msg_begin(b, 'v');
	buf_put_i32(b, (int32_t) PROTO_VERSION(3, newest_minor));
	buf_put_i32(b, noptions);
	for (int i = 0; i < noptions; i++)
		buf_put_str(b, options[i]);
	buf_msg_end(b, off);
}

void proto_parse_error(const uint8_t *body, size_t len, const char **sqlstate, const char **message)
{
	*sqlstate = NULL;
	*message = NULL;
	msg_reader r;
	mr_init(&r, body, len);
	for (;;) {
		uint8_t field = mr_u8(&r);
		if (r.err || field == 0)
			return;
		const char *value = mr_str(&r);
		if (!value)
			return;
		if (field == 'C')
			*sqlstate = value;
		else if (field == 'M')
			*message = value;
	}
}
