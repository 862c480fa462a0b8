/* Client authentication against pool_passwd: see client_auth.h. */
#include "client_auth.h"
#include "session.h"
#include "authfiles.h"
#include "log.h"
#include "md5.h"
#include "scram.h"
#include "util.h"
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

typedef struct client_auth {
	hba_method method;
	int hba_line;
	const passwd_entry *entry;    /* NULL: user not in pool_passwd */
	uint8_t md5_salt[4];
	scram_server *scram;
	int scram_step;
} client_auth;

void client_auth_free(client_auth *a)
{
	if (!a)
		return;
	scram_server_free(a->scram);
	free(a);
}

static auth_result fail(session *s, const char *why)
{
	log_log("authentication failed for user \"%s\" from %s: %s", s->sp.user, s->addr_str, why);
	char msg[256];
	snprintf(msg, sizeof(msg), "password authentication failed for user \"%s\"", s->sp.user);
	proto_error(&s->cout, "FATAL", "28P01", msg, NULL);
	return AUTH_FAILED;
}

static void request(session *s, int32_t code, const void *data, size_t len)
{
	proto_auth_request(&s->cout, code, data, len);
	session_send(s);
}

static const passwd_entry *find_entry(session *s)
{
	return s->af && s->af->passwd ? pool_passwd_find(s->af->passwd, s->sp.user) : NULL;
}

/* The stored md5 hash for the entry: from the file, or computed from a plain password. */
static bool entry_md5(const session *s, const passwd_entry *e, char out[MD5_PASSWD_LEN + 1])
{
	if (e->kind == PASSWD_MD5) {
		snprintf(out, MD5_PASSWD_LEN + 1, "%s", e->secret);
		return true;
	}
	char *plain = passwd_entry_plain(e, s->af->aes_key);
	if (!plain)
		return false;
	bool ok = md5_password_hash(plain, s->sp.user, out);
	OPENSSL_cleanse(plain, strlen(plain));
	free(plain);
	return ok;
}

static bool entry_verifier(const session *s, const passwd_entry *e, scram_verifier *v)
{
	if (e && e->kind == PASSWD_SCRAM)
		return scram_verifier_parse(e->secret, v);
	char *plain = e ? passwd_entry_plain(e, s->af->aes_key) : NULL;
	bool ok;
	if (plain) {
		ok = scram_verifier_from_password(plain, NULL, 0, SCRAM_DEFAULT_ITERATIONS, v);
		OPENSSL_cleanse(plain, strlen(plain));
		free(plain);
	} else {
		/* unknown user or unusable entry: run the exchange against a
		 * random verifier so the client cannot tell (as PostgreSQL's mock auth) */
		uint8_t junk[16];
		char junk_pw[2 * sizeof(junk) + 1];   /* a C string: the raw bytes have no NUL */
		ok = random_bytes(junk, sizeof(junk));
		if (ok) {
			hex_encode(junk, sizeof(junk), junk_pw);
			ok = scram_verifier_from_password(junk_pw, NULL, 0, SCRAM_DEFAULT_ITERATIONS, v);
			OPENSSL_cleanse(junk_pw, sizeof(junk_pw));
		}
		if (ok)
			v->stored_key[0] ^= 0xff;
	}
	return ok;
}

static auth_result start_scram(session *s, client_auth *a)
{
	scram_verifier v;
	if (!entry_verifier(s, a->entry, &v))
		return fail(s, "could not prepare SCRAM verifier");
	/* over TLS, SCRAM-SHA-256-PLUS binds the exchange to our certificate
	 * (tls-server-end-point): a man in the middle cannot relay it */
	uint8_t cbind[EVP_MAX_MD_SIZE];
	size_t cbind_len = 0;
	bool plus = s->ev.ssl && tls_server_end_point(s->ev.ssl, cbind, &cbind_len);
	a->scram = scram_server_new(&v, plus ? cbind : NULL, cbind_len);
	OPENSSL_cleanse(&v, sizeof(v));
	if (!a->scram)
		return fail(s, "out of memory");
	a->method = HBA_SCRAM;
	static const char mechs_plus[] = "SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0";
	static const char mechs[] = "SCRAM-SHA-256\0";
	if (plus)
		request(s, AUTH_REQ_SASL, mechs_plus, sizeof(mechs_plus));
	else
		request(s, AUTH_REQ_SASL, mechs, sizeof(mechs));
	return AUTH_CONTINUE;
}

auth_result client_auth_start(session *s, hba_method method, int hba_line)
{
	client_auth *a = calloc(1, sizeof(*a));
	if (!a) {
		proto_error(&s->cout, "FATAL", "53200", "out of memory", NULL);
		return AUTH_FAILED;
	}
	s->auth = a;
	a->method = method;
	a->hba_line = hba_line;
	a->entry = find_entry(s);
	switch (method) {
	case HBA_TRUST:
		return AUTH_DONE;
	case HBA_REJECT: {
		char msg[512];
		snprintf(msg, sizeof(msg), "pool_hba.conf rejects connection for host \"%s\", user \"%s\", database \"%s\"",
			s->host_str, s->sp.user, s->sp.database);
		log_log("connection from %s rejected by pool_hba.conf line %d", s->addr_str, hba_line);
		proto_error(&s->cout, "FATAL", "28000", msg, NULL);
		return AUTH_FAILED;
	}
	case HBA_PASSWORD:
		request(s, AUTH_REQ_PASSWORD, NULL, 0);
		return AUTH_CONTINUE;
	case HBA_MD5:
		/* as PostgreSQL: a SCRAM verifier on file upgrades md5 to SCRAM */
		if (a->entry && a->entry->kind == PASSWD_SCRAM)
			return start_scram(s, a);
		if (!random_bytes(a->md5_salt, sizeof(a->md5_salt)))
			return fail(s, "could not generate salt");
		request(s, AUTH_REQ_MD5, a->md5_salt, sizeof(a->md5_salt));
		return AUTH_CONTINUE;
	case HBA_SCRAM:
		return start_scram(s, a);
	case HBA_CERT: {
		char cn[256];
		if (!s->ev.ssl || !tls_peer_cn(s->ev.ssl, cn, sizeof(cn))) {
			proto_error(&s->cout, "FATAL", "28000",
				"connection requires a valid client certificate", NULL);
			log_log("certificate authentication failed for user \"%s\" from %s: no valid client certificate",
				s->sp.user, s->addr_str);
			return AUTH_FAILED;
		}
		if (strcmp(cn, s->sp.user) != 0) {
			char msg[400];
			snprintf(msg, sizeof(msg), "certificate authentication failed for user \"%s\"", s->sp.user);
			log_log("%s from %s: certificate is for \"%s\"", msg, s->addr_str, cn);
			proto_error(&s->cout, "FATAL", "28000", msg, NULL);
			return AUTH_FAILED;
		}
		return AUTH_DONE;
	}
	default:
		proto_error(&s->cout, "FATAL", "28000", "unsupported authentication method", NULL);
		return AUTH_FAILED;
	}
}

/* Plain password from the client (method "password"). */
static auth_result check_cleartext(session *s, client_auth *a, const char *pw)
{
	const passwd_entry *e = a->entry;
	if (!e) {
		/* not in pool_passwd: the backend checks it, on a fresh connection */
		free(s->backend_password);
		s->backend_password = strdup(pw);
		if (!s->backend_password)
			return fail(s, "out of memory");
		s->need_fresh_server = true;
		return AUTH_DONE;
	}
	bool ok = false;
	if (e->kind == PASSWD_MD5) {
		char h[MD5_PASSWD_LEN + 1];
		ok = md5_password_hash(pw, s->sp.user, h) && timingsafe_streq(h, e->secret);
	} else if (e->kind == PASSWD_SCRAM) {
		scram_verifier stored, mine;
		ok = scram_verifier_parse(e->secret, &stored) &&
			scram_verifier_from_password(pw, stored.salt, stored.salt_len, stored.iterations, &mine) &&
			timingsafe_eq(stored.stored_key, mine.stored_key, SCRAM_KEY_LEN);
	} else {
		char *plain = passwd_entry_plain(e, s->af->aes_key);
		ok = plain && timingsafe_streq(plain, pw);
		if (plain) {
			OPENSSL_cleanse(plain, strlen(plain));
			free(plain);
		}
	}
	return ok ? AUTH_DONE : fail(s, "password does not match pool_passwd");
}

static auth_result check_md5(session *s, client_auth *a, const char *reply)
{
	char stored[MD5_PASSWD_LEN + 1], expected[MD5_PASSWD_LEN + 1];
	if (!a->entry)
		return fail(s, "user not found in pool_passwd");
	if (!entry_md5(s, a->entry, stored))
		return fail(s, "pool_passwd entry cannot be used for md5");
	if (!md5_salted_response(stored, a->md5_salt, expected))
		return fail(s, "could not compute the md5 response");
	return timingsafe_streq(expected, reply) ? AUTH_DONE : fail(s, "md5 password does not match");
}

static auth_result scram_step(session *s, client_auth *a, const uint8_t *body, size_t len)
{
	msg_reader r;
	mr_init(&r, body, len);
	const char *data;
	size_t dlen;
	if (a->scram_step == 0) {
		const char *mech = mr_str(&r);
		int32_t n = mr_i32(&r);
		if (!mech || r.err || n < 0 || (size_t) n != mr_remaining(&r)) {
			proto_error(&s->cout, "FATAL", "08P01", "malformed SASLInitialResponse message", NULL);
			return AUTH_FAILED;
		}
		bool plus = strcmp(mech, "SCRAM-SHA-256-PLUS") == 0 && s->ev.ssl;
		if (!plus && strcmp(mech, "SCRAM-SHA-256") != 0) {
			proto_error(&s->cout, "FATAL", "08P01",
				"client selected an invalid SASL authentication mechanism", NULL);
			return AUTH_FAILED;
		}
		dlen = (size_t) n;
		/* the gs2 flag must agree with the mechanism: 'p' with -PLUS only */
		const uint8_t *first = dlen ? body + r.off : NULL;
		if (first && ((plus && first[0] != 'p') || (!plus && first[0] == 'p'))) {
			proto_error(&s->cout, "FATAL", "08P01",
				"channel binding flag does not match the SASL mechanism", NULL);
			return AUTH_FAILED;
		}
	} else
		dlen = mr_remaining(&r);
	data = (const char *) mr_bytes(&r, dlen);
	if (!data && dlen) {
		proto_error(&s->cout, "FATAL", "08P01", "malformed SCRAM message", NULL);
		return AUTH_FAILED;
	}
	char *reply = NULL;
	const char *err = NULL;
	bool ok = a->scram_step == 0
		? scram_server_client_first(a->scram, data ? data : "", dlen, &reply, &err)
		: scram_server_client_final(a->scram, data ? data : "", dlen, &reply, &err);
	if (!ok) {
		free(reply);
		/* only a proof that does not verify is a wrong password; a malformed
		 * message (bad nonce, channel binding, garbage) is a protocol error
		 * at either step, as in PostgreSQL */
		if (a->scram_step == 0 || (err && strcmp(err, "password authentication failed") != 0)) {
			proto_error(&s->cout, "FATAL", "08P01", err ? err : "malformed SCRAM message", NULL);
			log_log("SCRAM exchange failed for user \"%s\" from %s: %s", s->sp.user, s->addr_str,
				err ? err : "malformed message");
			return AUTH_FAILED;
		}
		return fail(s, err ? err : "SCRAM proof does not match");
	}
	request(s, a->scram_step == 0 ? AUTH_REQ_SASL_CONT : AUTH_REQ_SASL_FIN, reply, strlen(reply));
	free(reply);
	a->scram_step++;
	return a->scram_step == 2 ? AUTH_DONE : AUTH_CONTINUE;
}

auth_result client_auth_message(session *s, char type, const uint8_t *body, size_t len)
{
	client_auth *a = s->auth;
	if (type != 'p') {
		char msg[128];
		snprintf(msg, sizeof(msg), "expected password response, got message type %d", (int) (uint8_t) type);
		proto_error(&s->cout, "FATAL", "08P01", msg, NULL);
		return AUTH_FAILED;
	}
	if (a->method == HBA_SCRAM)
		return scram_step(s, a, body, len);
	/* password and md5 replies are one NUL-terminated string filling the body */
	if (len == 0 || body[len - 1] != '\0' || memchr(body, '\0', len) != body + len - 1) {
		proto_error(&s->cout, "FATAL", "08P01", "invalid password packet size", NULL);
		return AUTH_FAILED;
	}
	const char *pw = (const char *) body;
	if (a->method == HBA_PASSWORD)
		return check_cleartext(s, a, pw);
	return check_md5(s, a, pw);
}
