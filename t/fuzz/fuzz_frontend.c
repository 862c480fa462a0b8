/* libFuzzer target: what pgpoold parses of a client's bytes before and
 * after authentication.
 *
 * The input is one mode byte, then the byte stream a client sends:
 *
 *   1. Startup phase, framed as pgpoold/session.c process_startup() does
 *      (length word 8..STARTUP_MAX_LEN; SSLRequest/GSSENCRequest of 8
 *      bytes go on to the next packet), each packet parsed by the real
 *      startup_parse (libshared/proto.c).  A CancelRequest or a refused
 *      packet ends the input.
 *   2. Authentication: the real pgpoold/client_auth.c, linked here with
 *      link-time stand-ins for the session's socket (session_send checks
 *      and drops what would be sent) and TLS
 *      (tls_server_end_point returns 32 bytes of 0x42, tls_peer_cn the
 *      mode's CN), against a fixed pool_passwd (TEXT, plain, md5, SCRAM
 *      verifier, AES with the key, a mapped entry; any other user is
 *      unknown).  The mode byte picks the pool_hba method (password, md5,
 *      scram-sha-256, scram-sha-256 over "TLS" = SCRAM-SHA-256-PLUS offered,
 *      cert, trust, reject).  The client's messages are framed by the real
 *      iobuf_take_msg (pgpoold/iobuf.c) with the session's 64 kB limit and
 *      fed to client_auth_message until it answers DONE or FAILED, as
 *      session.c process_auth() does.  Random numbers are deterministic
 *      here (RAND_bytes below), so the md5 salt is "ZZZZ" and the SCRAM
 *      server nonce base64("Z" x 18): seeds hold complete, correct
 *      exchanges and the fuzzer reaches the proof checks.
 *   3. After authentication: the framing of pgpoold/relay.c client_input()
 *      (type byte, length 4..max_message_size + 4, 'X' ends) and, for
 *      Parse/Bind/Execute/Describe/Close, the same msg_reader reads of the
 *      body that relay.c's route_* functions make, applied to the real
 *      statement/portal table (pgpoold/stmt.c).  relay.c itself needs live
 *      backend connections and is not linked: this part mirrors its reads.
 *      Backend replies' ErrorResponse parser (proto_parse_error) runs on
 *      every message body too.
 *
 * Every output the proxy would send (the session's cout buffer) is
 * checked to be a sequence of well-formed protocol messages.
 *
 * Build and run: t/fuzz/run.sh 60 frontend */
#include "session.h"
#include "client_auth.h"
#include "authfiles.h"
#include "iobuf.h"
#include "log.h"
#include "md5.h"
#include "pool_passwd.h"
#include "proto.h"
#include "scram.h"
#include "stmt.h"
#include "tls.h"
#include "util.h"

#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AES_KEY "fuzz key"
#define MAX_MESSAGE_SIZE (1024 * 1024)
#define AUTH_MSG_LIMIT 65536

/* ------------------------------------------- link-time stand-ins
 * The fuzzer has no sockets and no TLS session: these replace the symbols
 * client_auth.c calls for them, deterministically. */

pgpoold_state g;   /* declared by pgpoold.h; unused by the code linked here */

/* Deterministic "randomness": every input sees the same salts and nonces. */
int RAND_bytes(unsigned char *buf, int num)
{
	memset(buf, 'Z', (size_t) num);
	return 1;
}

static const char *peer_cn;

bool tls_server_end_point(SSL *ssl, uint8_t *out, size_t *outlen)
{
	(void) ssl;
	memset(out, 0x42, 32);
	*outlen = 32;
	return true;
}

bool tls_peer_cn(SSL *ssl, char *out, size_t outlen)
{
	(void) ssl;
	if (!peer_cn)
		return false;
	snprintf(out, outlen, "%s", peer_cn);
	return true;
}

/* What the proxy queued for the client: well-formed messages. */
static void check_output(const buf *b)
{
	assert(!b->oom);
	size_t off = 0;
	while (off < b->len) {
		assert(b->len - off >= 5);
		uint32_t len = be32(b->data + off + 1);
		assert(len >= 4 && len <= b->len - off - 1);
		off += 1 + len;
	}
}

bool session_send(session *s)
{
	check_output(&s->cout);
	buf_reset(&s->cout);
	return true;
}

/* ---------------------------------------------------------------- setup */

static pool_passwd *passwd;

static void init(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	int fd = open("/dev/null", O_WRONLY);
	if (fd >= 0)
		log_set_fd(fd);
	static const uint8_t salt[16] = "fuzz-salt-01234";
	scram_verifier v;
	char md5[MD5_PASSWD_LEN + 1];
	char *verifier = NULL, *aes = NULL;
	if (!scram_verifier_from_password("secret", salt, sizeof(salt), 4096, &v) ||
	    !(verifier = scram_verifier_format(&v)) || !md5_password_hash("secret", "md5user", md5) ||
	    !(aes = passwd_aes_encrypt("secret", AES_KEY)))
		abort();
	char text[2048];
	int n = snprintf(text, sizeof(text),
		"textuser:TEXTsecret\n"
		"plainuser:secret\n"
		"md5user:%s\n"
		"scramuser:%s\n"
		"aesuser:AES%s\n"
		"mapped:TEXTsecret:backend:TEXTbackendpw\n"
		"baduser:SCRAM-SHA-256$garbage\n",
		md5, verifier, aes);
	free(verifier);
	free(aes);
	char err[256];
	passwd = pool_passwd_parse(text, (size_t) n, err, sizeof(err));
	if (!passwd)
		abort();
}

/* ---------------------------------------------------------------- phases */

/* process_startup(): true with the StartupMessage parsed into s->sp. */
static bool startup_phase(session *s, const uint8_t *data, size_t size, size_t *used)
{
	size_t off = 0;
	for (int packets = 0; packets < 16; packets++) {
		if (size - off < 4)
			return false;
		uint32_t len = be32(data + off);
		if (len < 8 || len > STARTUP_MAX_LEN || len > size - off)
			return false;
		uint32_t code = be32(data + off + 4);
		if (code == PROTO_SSL_CODE || code == PROTO_GSSENC_CODE) {
			if (len != 8)
				return false;
			off += len;
			continue;
		}
		s->startup_raw = malloc(len);
		assert(s->startup_raw);
		memcpy(s->startup_raw, data + off, len);
		off += len;
		char err[256];
		if (!startup_parse(s->startup_raw, len, &s->sp, err, sizeof(err)))
			return false;
		if (code == PROTO_CANCEL_CODE)
			return false;
		*used = off;
		return true;
	}
	return false;
}

/* process_auth(): the client's messages through the real framing. */
static auth_result auth_phase(session *s, hba_method method, iobuf *in)
{
	auth_result r = client_auth_start(s, method, 1);
	check_output(&s->cout);
	buf_reset(&s->cout);
	while (r == AUTH_CONTINUE) {
		char type;
		const uint8_t *body;
		size_t len;
		int got = iobuf_take_msg(in, AUTH_MSG_LIMIT, &type, &body, &len);
		if (got <= 0)
			return AUTH_FAILED;   /* more bytes needed (none come) or a bad length */
		assert(len <= AUTH_MSG_LIMIT);
		/* the body as a separate exact-size allocation, so that reads past
		 * its end are caught (in the iobuf the next message follows) */
		uint8_t *copy = malloc(len ? len : 1);
		assert(copy);
		memcpy(copy, body, len);
		r = client_auth_message(s, type, copy, len);
		free(copy);
		check_output(&s->cout);
		buf_reset(&s->cout);
	}
	return r;
}

/* relay.c's body reads (route_parse/bind/execute/describe/close) on stmt.c. */
static void route_like_relay(stmt_table *t, char type, const uint8_t *msg, size_t len)
{
	msg_reader r;
	mr_init(&r, msg + MSG_HEADER_LEN, len - MSG_HEADER_LEN);
	switch (type) {
	case 'P': {
		const char *name = mr_str(&r);
		const char *query = mr_str(&r);
		if (name && query) {
			pstmt *st = stmt_add(t, name, msg, len, 0, 0);
			assert(st && st->parse_len == len);
			/* parse_query(): the text again, from the stored copy */
			msg_reader q;
			mr_init(&q, st->parse_msg + MSG_HEADER_LEN, st->parse_len - MSG_HEADER_LEN);
			mr_str(&q);
			const char *again = mr_str(&q);
			assert(again && strcmp(again, query) == 0);
		}
		break;
	}
	case 'B': {
		const char *portal_name = mr_str(&r);
		const char *stmt_name = mr_str(&r);
		pstmt *st = stmt_name ? stmt_find(t, stmt_name) : NULL;
		if (portal_name) {
			portal *p = portal_add(t, portal_name);
			assert(p);
			if (st) {
				msg_reader q;
				mr_init(&q, st->parse_msg + MSG_HEADER_LEN, st->parse_len - MSG_HEADER_LEN);
				mr_str(&q);
				const char *sql = mr_str(&q);
				if (sql) {
					free(p->sql);
					p->sql = strdup(sql);
				}
			}
		}
		/* the rest of Bind as PostgreSQL reads it: formats, values, result formats */
		int16_t nf = mr_i16(&r);
		for (int i = 0; i < nf && !r.err; i++)
			mr_i16(&r);
		int16_t nv = mr_i16(&r);
		for (int i = 0; i < nv && !r.err; i++) {
			int32_t l = mr_i32(&r);
			if (l > 0)
				mr_bytes(&r, (size_t) l);
		}
		break;
	}
	case 'E': {
		const char *portal_name = mr_str(&r);
		int32_t max_rows = mr_i32(&r);
		(void) max_rows;
		if (portal_name)
			(void) portal_find(t, portal_name);
		break;
	}
	case 'D':
	case 'C': {
		uint8_t what = mr_u8(&r);
		const char *name = mr_str(&r);
		if (name && what == 'S') {
			(void) stmt_find(t, name);
			if (type == 'C')
				stmt_remove(t, name);
		} else if (name && what == 'P') {
			(void) portal_find(t, name);
			if (type == 'C')
				portal_remove(t, name);
		}
		break;
	}
	case 'S':
		portal_clear_named(t);
		break;
	default:
		break;
	}
	/* an ErrorResponse body parser the proxy runs on backend replies */
	const char *sqlstate, *message;
	uint8_t *body = malloc(len - MSG_HEADER_LEN + 1);
	assert(body);
	memcpy(body, msg + MSG_HEADER_LEN, len - MSG_HEADER_LEN);
	proto_parse_error(body, len - MSG_HEADER_LEN, &sqlstate, &message);
	if (sqlstate)
		assert((const uint8_t *) sqlstate >= body && (const uint8_t *) sqlstate < body + len - MSG_HEADER_LEN);
	free(body);
}

/* client_input()'s framing of whole messages. */
static void active_phase(const uint8_t *data, size_t size)
{
	stmt_table t = { 0 };
	size_t off = 0;
	for (int msgs = 0; msgs < 256 && size - off >= MSG_HEADER_LEN; msgs++) {
		const uint8_t *p = data + off;
		char type = (char) p[0];
		uint32_t len = be32(p + 1);
		if (len < 4 || len - 4 > (uint32_t) MAX_MESSAGE_SIZE)
			break;   /* "invalid message length" */
		if (type == 'X')
			break;
		size_t whole = (size_t) len + 1;
		if (whole > size - off)
			break;   /* would wait for more, or stream through */
		uint8_t *msg = malloc(whole);
		assert(msg);
		memcpy(msg, p, whole);
		route_like_relay(&t, type, msg, whole);
		free(msg);
		off += whole;
	}
	assert(t.num_stmts >= 0 && t.num_portals >= 0);
	stmt_table_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 200000)
		return 0;
	init();
	static int verbose = -1;
	if (verbose < 0)
		verbose = getenv("FUZZ_VERBOSE") != NULL;   /* seeds check: FUZZ_VERBOSE=1 ./fuzz_frontend SEED... */
	static const hba_method methods[8] = { HBA_PASSWORD, HBA_MD5, HBA_SCRAM, HBA_SCRAM,
		HBA_CERT, HBA_TRUST, HBA_REJECT, HBA_CERT };
	uint8_t mode = data[0];
	hba_method method = methods[mode & 7];
	static char fake_ssl;
	bool tls = (mode & 7) == 3 || (mode & 7) == 4 || (mode & 8);
	peer_cn = (mode & 7) == 4 ? "textuser" : (mode & 7) == 7 ? NULL : "someone";

	session *s = calloc(1, sizeof(*s));
	assert(s);
	buf_init(&s->cout);
	snprintf(s->addr_str, sizeof(s->addr_str), "127.0.0.1:40000");
	snprintf(s->host_str, sizeof(s->host_str), "127.0.0.1");
	s->ev.fd = -1;
	s->ev.ssl = tls ? (SSL *) &fake_ssl : NULL;
	authfiles af = { .hba = NULL, .passwd = passwd, .aes_key = (char *) AES_KEY, .refs = 1 };
	s->af = &af;

	size_t used = 0;
	if (startup_phase(s, data + 1, size - 1, &used)) {
		assert(s->sp.user && s->sp.database);
		size_t rest = size - 1 - used;
		iobuf in = { 0 };
		if (rest) {
			in.data = malloc(rest);
			assert(in.data);
			memcpy(in.data, data + 1 + used, rest);
			in.cap = in.tail = rest;
		}
		auth_result r = auth_phase(s, method, &in);
		if (verbose)
			fprintf(stderr, "fuzz_frontend: user %s method %d: %s\n", s->sp.user, (int) method,
				r == AUTH_DONE ? "authenticated" : "refused");
		if (r == AUTH_DONE) {
			/* the bytes after the last authentication message (none: the
			 * buffer may be NULL, and NULL + 0 is undefined in C) */
			if (in.data)
				active_phase(in.data + in.head, in.tail - in.head);
		}
		iobuf_free(&in);
	}
	client_auth_free(s->auth);
	if (s->backend_password)
		free(s->backend_password);
	buf_free(&s->cout);
	free(s->startup_raw);
	free(s);
	return 0;
}
