/* SCRAM-SHA-256 (RFC 5802 / RFC 7677), both sides, as PostgreSQL's backend
 * and libpq speak it: see scram.h.
 *
 * Every message is parsed through a bounded cursor (messages arrive as
 * length-delimited protocol payloads, not C strings).  Failures return a
 * static, PostgreSQL-worded error string; nothing here logs, so no secret
 * can end up in a log line. */
#include "scram.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRAM_PREFIX "SCRAM-SHA-256$"
#define SCRAM_PREFIX_LEN (sizeof(SCRAM_PREFIX) - 1)
#define SCRAM_RAW_NONCE_LEN 18          /* PostgreSQL's: 18 random bytes, base64'd */
#define SCRAM_DEFAULT_SALT_LEN 16       /* PostgreSQL's default salt length */
#define SCRAM_MAX_ITERATIONS 10000000   /* refuse backends asking for more work */
#define SCRAM_MAX_MESSAGE_LEN 4096      /* far above any real exchange message */
#define SCRAM_KEY_B64_LEN 44            /* base64 of SCRAM_KEY_LEN bytes */
#define CBIND_TYPE "tls-server-end-point"

/* ---- error strings (static: the caller sends them to the client) ---- */
static const char ERR_ORDER[] = "SCRAM exchange out of order";
static const char ERR_INTERNAL[] = "could not compute SCRAM keys";
static const char ERR_MEMORY[] = "out of memory";
static const char ERR_EMPTY[] = "malformed SCRAM message (empty message)";
static const char ERR_TOO_LONG[] = "malformed SCRAM message (message too long)";
static const char ERR_NUL[] = "malformed SCRAM message (message contains a NUL byte)";
static const char ERR_MALFORMED[] = "malformed SCRAM message";
static const char ERR_CBIND_FLAG[] = "malformed SCRAM message (unexpected channel-binding flag)";
static const char ERR_CBIND_TYPE[] = "unsupported SCRAM channel-binding type";
static const char ERR_CBIND_NO_TLS[] = "SCRAM channel binding is only supported over SSL";
static const char ERR_CBIND_NEGOTIATION[] = "SCRAM channel binding negotiation error";
static const char ERR_CBIND_CHECK[] = "SCRAM channel binding check failed";
static const char ERR_CBIND_UNEXPECTED[] = "unexpected SCRAM channel-binding attribute in client-final-message";
static const char ERR_AUTHZID[] = "client uses authorization identity, but it is not supported";
static const char ERR_EXTENSION[] = "client requires an unsupported SCRAM extension";
static const char ERR_NONCE_FORMAT[] = "malformed SCRAM message (invalid nonce)";
static const char ERR_NONCE_MISMATCH[] = "invalid SCRAM response (nonce does not match)";
static const char ERR_PROOF_MISSING[] = "malformed SCRAM message (proof missing)";
static const char ERR_PROOF_FORMAT[] = "malformed SCRAM message (invalid proof)";
static const char ERR_GARBAGE[] = "malformed SCRAM message (garbage at end of message)";
static const char ERR_AUTH_FAILED[] = "password authentication failed";
static const char ERR_SALT[] = "malformed SCRAM message (invalid salt)";
static const char ERR_ITERATIONS[] = "malformed SCRAM message (invalid iteration count)";
static const char ERR_SERVER_ERROR[] = "error received from server in SCRAM exchange";
static const char ERR_SIGNATURE_FORMAT[] = "malformed SCRAM message (invalid server signature)";
static const char ERR_SIGNATURE[] = "incorrect server signature";

/* ================================================================ crypto */

static bool sha256(const void *data, size_t len, uint8_t out[SCRAM_KEY_LEN])
{
	unsigned int out_len = 0;
	return EVP_Digest(data, len, out, &out_len, EVP_sha256(), NULL) == 1 &&
		out_len == SCRAM_KEY_LEN;
}

static bool hmac_sha256(const uint8_t key[SCRAM_KEY_LEN], const void *data, size_t len,
	uint8_t out[SCRAM_KEY_LEN])
{
	unsigned int out_len = 0;
	return HMAC(EVP_sha256(), key, SCRAM_KEY_LEN, data, len, out, &out_len) != NULL &&
		out_len == SCRAM_KEY_LEN;
}

/* Hi(password, salt, i) of RFC 5802 is PBKDF2 with HMAC-SHA-256. */
static bool salted_password(const char *password, const uint8_t *salt, size_t salt_len,
	int iterations, uint8_t out[SCRAM_KEY_LEN])
{
	size_t password_len = strlen(password);
	if (password_len > INT_MAX || salt_len > INT_MAX || iterations <= 0)
		return false;
	return PKCS5_PBKDF2_HMAC(password, (int) password_len, salt, (int) salt_len,
		iterations, EVP_sha256(), SCRAM_KEY_LEN, out) == 1;
}

/* The client side's salted passwords, remembered: a backend login through
 * SCRAM would otherwise run 4,096 PBKDF2 iterations (milliseconds of a
 * worker's time) on every new backend connection, though the server sends
 * the same salt and iteration count each time.  Keyed by H(password), salt
 * and iterations; as sensitive as the passwords pgpoold already holds. */
#define SALTED_CACHE_SIZE 32

typedef struct salted_entry {
	bool used;
	int iterations;
	size_t salt_len;
	uint8_t salt[SCRAM_MAX_SALT_LEN];
	uint8_t password_hash[SCRAM_KEY_LEN];
	uint8_t salted[SCRAM_KEY_LEN];
} salted_entry;

static salted_entry salted_cache[SALTED_CACHE_SIZE];
static unsigned salted_cache_next;
static unsigned long salted_cache_hits;
static pthread_mutex_t salted_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static salted_entry *salted_find(const uint8_t *password_hash, const uint8_t *salt, size_t salt_len,
	int iterations)
{
	for (int i = 0; i < SALTED_CACHE_SIZE; i++) {
		salted_entry *e = &salted_cache[i];
		if (e->used && e->iterations == iterations && e->salt_len == salt_len &&
		    CRYPTO_memcmp(e->salt, salt, salt_len) == 0 &&
		    CRYPTO_memcmp(e->password_hash, password_hash, SCRAM_KEY_LEN) == 0)
			return e;
	}
	return NULL;
}

static bool salted_password_cached(const char *password, const uint8_t *salt, size_t salt_len,
	int iterations, uint8_t out[SCRAM_KEY_LEN])
{
	uint8_t password_hash[SCRAM_KEY_LEN];
	if (salt_len > SCRAM_MAX_SALT_LEN || !sha256(password, strlen(password), password_hash))
		return salted_password(password, salt, salt_len, iterations, out);
	pthread_mutex_lock(&salted_cache_lock);
	salted_entry *e = salted_find(password_hash, salt, salt_len, iterations);
	if (e) {
		memcpy(out, e->salted, SCRAM_KEY_LEN);
		salted_cache_hits++;
	}
	pthread_mutex_unlock(&salted_cache_lock);
	if (e) {
		OPENSSL_cleanse(password_hash, sizeof(password_hash));
		return true;
	}
	/* computed outside the lock: other workers' logins need not wait */
	if (!salted_password(password, salt, salt_len, iterations, out)) {
		OPENSSL_cleanse(password_hash, sizeof(password_hash));
		return false;
	}
	pthread_mutex_lock(&salted_cache_lock);
	if (!salted_find(password_hash, salt, salt_len, iterations)) {
		e = &salted_cache[salted_cache_next++ % SALTED_CACHE_SIZE];
		e->used = true;
		e->iterations = iterations;
		e->salt_len = salt_len;
		memcpy(e->salt, salt, salt_len);
		memcpy(e->password_hash, password_hash, SCRAM_KEY_LEN);
		memcpy(e->salted, out, SCRAM_KEY_LEN);
	}
	pthread_mutex_unlock(&salted_cache_lock);
	OPENSSL_cleanse(password_hash, sizeof(password_hash));
	return true;
}

unsigned long scram_client_cache_hits(void)
{
	pthread_mutex_lock(&salted_cache_lock);
	unsigned long hits = salted_cache_hits;
	pthread_mutex_unlock(&salted_cache_lock);
	return hits;
}

/* ClientKey, StoredKey = H(ClientKey), ServerKey from the salted password. */
static bool derive_keys(const uint8_t salted[SCRAM_KEY_LEN], uint8_t client_key[SCRAM_KEY_LEN],
	uint8_t stored_key[SCRAM_KEY_LEN], uint8_t server_key[SCRAM_KEY_LEN])
{
	static const char client_label[] = "Client Key";
	static const char server_label[] = "Server Key";
	return hmac_sha256(salted, client_label, sizeof(client_label) - 1, client_key) &&
		sha256(client_key, SCRAM_KEY_LEN, stored_key) &&
		hmac_sha256(salted, server_label, sizeof(server_label) - 1, server_key);
}

static void xor_keys(const uint8_t *a, const uint8_t *b, uint8_t *out)
{
	for (size_t i = 0; i < SCRAM_KEY_LEN; i++)
		out[i] = a[i] ^ b[i];
}

/* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
static char *auth_message(const char *bare, size_t bare_len, const char *server_first,
	size_t server_first_len, const char *final_no_proof, size_t final_len, size_t *out_len)
{
	size_t len = bare_len + 1 + server_first_len + 1 + final_len;
	char *msg = malloc(len + 1);
	if (!msg)
		return NULL;
	char *p = msg;
	memcpy(p, bare, bare_len);
	p += bare_len;
	*p++ = ',';
	memcpy(p, server_first, server_first_len);
	p += server_first_len;
	*p++ = ',';
	memcpy(p, final_no_proof, final_len);
	msg[len] = '\0';
	*out_len = len;
	return msg;
}

/* ServerSignature = HMAC(ServerKey, AuthMessage); sent as "v=" + base64. */
static bool server_signature(const uint8_t server_key[SCRAM_KEY_LEN], const char *auth, size_t auth_len,
	uint8_t out[SCRAM_KEY_LEN])
{
	return hmac_sha256(server_key, auth, auth_len, out);
}

static char *random_nonce(void)
{
	uint8_t raw[SCRAM_RAW_NONCE_LEN];
	if (!random_bytes(raw, sizeof(raw)))
		return NULL;
	return base64_encode(raw, sizeof(raw));
}

/* ================================================================ parsing */

typedef struct scram_cursor {
	const char *pos;
	const char *end;
} scram_cursor;

static bool at_end(const scram_cursor *c)
{
	return c->pos >= c->end;
}

static bool skip_comma(scram_cursor *c)
{
	if (at_end(c) || *c->pos != ',')
		return false;
	c->pos++;
	return true;
}

static bool is_attr_name(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* One "x=value" attribute, value running to the next ',' or the end. */
static bool read_attr(scram_cursor *c, char *attr, const char **value, size_t *value_len)
{
	if (c->end - c->pos < 2 || !is_attr_name(c->pos[0]) || c->pos[1] != '=')
		return false;
	const char *start = c->pos + 2;
	const char *comma = memchr(start, ',', (size_t) (c->end - start));
	const char *stop = comma ? comma : c->end;
	*attr = c->pos[0];
	*value = start;
	*value_len = (size_t) (stop - start);
	c->pos = stop;
	return true;
}

static bool read_expected_attr(scram_cursor *c, char want, const char **value, size_t *value_len)
{
	char attr;
	return read_attr(c, &attr, value, value_len) && attr == want;
}

/* Length, NUL bytes: the checks every incoming message gets first. */
static const char *check_message(const char *msg, size_t len)
{
	if (!msg || len == 0)
		return ERR_EMPTY;
	if (len > SCRAM_MAX_MESSAGE_LEN)
		return ERR_TOO_LONG;
	if (memchr(msg, '\0', len))
		return ERR_NUL;
	return NULL;
}

/* RFC 5802 "printable": %x21-2B / %x2D-7E, i.e. visible ASCII except ','. */
static bool is_printable_nonce(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7E || s[i] == ',')
			return false;
	return true;
}

/* Decimal digits only, 1..max (leading zeros allowed, no sign). */
static bool parse_positive_int(const char *s, size_t len, long max, int *out)
{
	if (len == 0)
		return false;
	long value = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		value = value * 10 + (s[i] - '0');
		if (value > max)
			return false;
	}
	if (value <= 0)
		return false;
	*out = (int) value;
	return true;
}

/* Decode base64 into exactly want (<= SCRAM_KEY_LEN) bytes. */
static bool decode_exact(const char *b64, size_t len, uint8_t *out, size_t want)
{
	uint8_t buf[SCRAM_KEY_LEN + 3];     /* room for the decoder's padding bytes */
	size_t got = 0;
	if (want > SCRAM_KEY_LEN || !base64_decode(b64, len, buf, sizeof(buf), &got) || got != want) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return false;
	}
	memcpy(out, buf, want);
	OPENSSL_cleanse(buf, sizeof(buf));
	return true;
}

/* ================================================================ verifier */

/* Span of s up to the first stop character; false if there is none. */
static bool span_until(const char *s, char stop, size_t *len)
{
	const char *p = strchr(s, stop);
	if (!p)
		return false;
	*len = (size_t) (p - s);
	return true;
}

/* The fields after the "SCRAM-SHA-256$" prefix, into v. */
static bool parse_verifier_fields(const char *p, scram_verifier *v)
{
	size_t len;
	if (!span_until(p, ':', &len) || !parse_positive_int(p, len, INT_MAX, &v->iterations))
		return false;
	p += len + 1;
	uint8_t salt[SCRAM_MAX_SALT_LEN + 3];
	if (!span_until(p, '$', &len) || !base64_decode(p, len, salt, sizeof(salt), &v->salt_len) ||
		v->salt_len == 0 || v->salt_len > SCRAM_MAX_SALT_LEN)
		return false;
	memcpy(v->salt, salt, v->salt_len);
	p += len + 1;
	if (!span_until(p, ':', &len) || !decode_exact(p, len, v->stored_key, SCRAM_KEY_LEN))
		return false;
	p += len + 1;
	return decode_exact(p, strlen(p), v->server_key, SCRAM_KEY_LEN);
}

bool scram_verifier_parse(const char *text, scram_verifier *out)
{
	if (!text || !out || strncmp(text, SCRAM_PREFIX, SCRAM_PREFIX_LEN) != 0)
		return false;
	scram_verifier v;
	memset(&v, 0, sizeof(v));
	bool ok = parse_verifier_fields(text + SCRAM_PREFIX_LEN, &v);
	if (ok)
		*out = v;
	OPENSSL_cleanse(&v, sizeof(v));
	return ok;
}

bool scram_verifier_from_password(const char *password, const uint8_t *salt,
	size_t salt_len, int iterations, scram_verifier *out)
{
	if (!password || !out || iterations <= 0)
		return false;
	scram_verifier v;
	memset(&v, 0, sizeof(v));
	v.iterations = iterations;
	if (salt) {
		if (salt_len == 0 || salt_len > SCRAM_MAX_SALT_LEN)
			return false;
		memcpy(v.salt, salt, salt_len);
		v.salt_len = salt_len;
	} else {
		if (!random_bytes(v.salt, SCRAM_DEFAULT_SALT_LEN))
			return false;
		v.salt_len = SCRAM_DEFAULT_SALT_LEN;
	}
	uint8_t salted[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN];
	bool ok = salted_password(password, v.salt, v.salt_len, iterations, salted) &&
		derive_keys(salted, client_key, v.stored_key, v.server_key);
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(client_key, sizeof(client_key));
	if (ok)
		*out = v;
	OPENSSL_cleanse(&v, sizeof(v));
	return ok;
}

char *scram_verifier_format(const scram_verifier *v)
{
	if (!v || v->iterations <= 0 || v->salt_len == 0 || v->salt_len > SCRAM_MAX_SALT_LEN)
		return NULL;
	char *salt = base64_encode(v->salt, v->salt_len);
	char *stored = base64_encode(v->stored_key, SCRAM_KEY_LEN);
	char *server = base64_encode(v->server_key, SCRAM_KEY_LEN);
	char *text = NULL;
	if (salt && stored && server) {
		int len = snprintf(NULL, 0, SCRAM_PREFIX "%d:%s$%s:%s", v->iterations, salt, stored, server);
		if (len > 0 && (text = malloc((size_t) len + 1)) != NULL)
			snprintf(text, (size_t) len + 1, SCRAM_PREFIX "%d:%s$%s:%s", v->iterations, salt, stored, server);
	}
	free(salt);
	free(stored);
	free(server);
	return text;
}

/* ================================================================ server */

typedef enum server_state {
	SERVER_INIT,            /* waiting for client-first-message */
	SERVER_SENT_FIRST,      /* waiting for client-final-message */
	SERVER_DONE,
	SERVER_FAILED
} server_state;

struct scram_server {
	server_state state;
	scram_verifier verifier;
	uint8_t *cbind_data;        /* NULL: no TLS, channel binding unavailable */
	size_t cbind_len;
	char cbind_flag;            /* 'n', 'y' or 'p' as the client chose */
	char *gs2_header;           /* as the client sent it, e.g. "n,," */
	size_t gs2_len;
	char *client_first_bare;
	size_t client_first_bare_len;
	char *client_nonce;
	char *server_nonce;
	char *server_first;
};

scram_server *scram_server_new(const scram_verifier *v, const uint8_t *cbind_data, size_t cbind_len)
{
	if (!v || v->iterations <= 0 || v->salt_len == 0 || v->salt_len > SCRAM_MAX_SALT_LEN)
		return NULL;
	scram_server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->verifier = *v;
	s->server_nonce = random_nonce();
	if (!s->server_nonce)
		goto fail;
	if (cbind_data && cbind_len > 0) {
		s->cbind_data = malloc(cbind_len);
		if (!s->cbind_data)
			goto fail;
		memcpy(s->cbind_data, cbind_data, cbind_len);
		s->cbind_len = cbind_len;
	}
	return s;
fail:
	scram_server_free(s);
	return NULL;
}

void scram_server_free(scram_server *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(&s->verifier, sizeof(s->verifier));
	free(s->cbind_data);
	free(s->gs2_header);
	free(s->client_first_bare);
	free(s->client_nonce);
	free(s->server_nonce);
	free(s->server_first);
	free(s);
}

bool scram_server_set_nonce_for_tests(scram_server *s, const char *nonce)
{
	if (!s || s->state != SERVER_INIT || !nonce || !is_printable_nonce(nonce, strlen(nonce)))
		return false;
	char *copy = strdup(nonce);
	if (!copy)
		return false;
	free(s->server_nonce);
	s->server_nonce = copy;
	return true;
}

static bool server_fail(scram_server *s, const char **errmsg, const char *why)
{
	s->state = SERVER_FAILED;
	if (errmsg)
		*errmsg = why;
	return false;
}

/* gs2-header: cbind-flag "," [authzid] ","  - and remember what was sent,
 * since the client-final-message must echo it in c=. */
static const char *parse_gs2_header(scram_server *s, scram_cursor *c)
{
	const char *start = c->pos;
	if (at_end(c))
		return ERR_MALFORMED;
	char flag = *c->pos;
	const char *value;
	size_t value_len;
	switch (flag) {
	case 'n':
		c->pos++;
		break;
	case 'y':
		/* The client could do channel binding but thinks we cannot: if we
		 * can, someone in the middle stripped -PLUS from our offer. */
		if (s->cbind_data)
			return ERR_CBIND_NEGOTIATION;
		c->pos++;
		break;
	case 'p':
		if (!read_expected_attr(c, 'p', &value, &value_len))
			return ERR_MALFORMED;
		if (value_len != strlen(CBIND_TYPE) || memcmp(value, CBIND_TYPE, value_len) != 0)
			return ERR_CBIND_TYPE;
		if (!s->cbind_data)
			return ERR_CBIND_NO_TLS;
		break;
	default:
		return ERR_CBIND_FLAG;
	}
	if (!skip_comma(c))
		return ERR_MALFORMED;
	if (!at_end(c) && *c->pos == 'a')
		return ERR_AUTHZID;
	if (!skip_comma(c))
		return ERR_MALFORMED;
	s->cbind_flag = flag;
	s->gs2_len = (size_t) (c->pos - start);
	s->gs2_header = strndup(start, s->gs2_len);
	return s->gs2_header ? NULL : ERR_MEMORY;
}

/* client-first-message-bare: [reserved-mext ","] username "," nonce ["," extensions].
 * The user name is ignored, as PostgreSQL does: the startup packet's counts. */
static const char *parse_client_first_bare(scram_server *s, scram_cursor *c)
{
	const char *start = c->pos;
	const char *value;
	size_t value_len;
	char attr;

	if (!at_end(c) && *c->pos == 'm')
		return ERR_EXTENSION;
	if (!read_expected_attr(c, 'n', &value, &value_len) || !skip_comma(c))
		return ERR_MALFORMED;
	if (!read_expected_attr(c, 'r', &value, &value_len))
		return ERR_MALFORMED;
	if (!is_printable_nonce(value, value_len))
		return ERR_NONCE_FORMAT;
	s->client_nonce = strndup(value, value_len);
	if (!s->client_nonce)
		return ERR_MEMORY;
	while (!at_end(c))
		if (!skip_comma(c) || !read_attr(c, &attr, &value, &value_len))
			return ERR_MALFORMED;
	s->client_first_bare_len = (size_t) (c->end - start);
	s->client_first_bare = strndup(start, s->client_first_bare_len);
	return s->client_first_bare ? NULL : ERR_MEMORY;
}

/* server-first-message: "r=" client-nonce server-nonce ",s=" salt ",i=" iterations */
static char *build_server_first(const scram_server *s)
{
	char *salt = base64_encode(s->verifier.salt, s->verifier.salt_len);
	if (!salt)
		return NULL;
	char *msg = NULL;
	int len = snprintf(NULL, 0, "r=%s%s,s=%s,i=%d", s->client_nonce, s->server_nonce,
		salt, s->verifier.iterations);
	if (len > 0 && (msg = malloc((size_t) len + 1)) != NULL)
		snprintf(msg, (size_t) len + 1, "r=%s%s,s=%s,i=%d", s->client_nonce, s->server_nonce,
			salt, s->verifier.iterations);
	free(salt);
	return msg;
}

bool scram_server_client_first(scram_server *s, const char *msg, size_t len,
	char **reply, const char **errmsg)
{
	if (reply)
		*reply = NULL;
	if (!s || !reply) {
		if (errmsg)
			*errmsg = ERR_ORDER;
		return false;
	}
	if (s->state != SERVER_INIT)
		return server_fail(s, errmsg, ERR_ORDER);
	const char *err = check_message(msg, len);
	if (err)
		return server_fail(s, errmsg, err);
	scram_cursor c = { msg, msg + len };
	if ((err = parse_gs2_header(s, &c)) != NULL || (err = parse_client_first_bare(s, &c)) != NULL)
		return server_fail(s, errmsg, err);
	s->server_first = build_server_first(s);
	if (!s->server_first)
		return server_fail(s, errmsg, ERR_MEMORY);
	*reply = strdup(s->server_first);
	if (!*reply)
		return server_fail(s, errmsg, ERR_MEMORY);
	s->state = SERVER_SENT_FIRST;
	return true;
}

/* c= must be base64 of the gs2 header we saw, followed by our
 * tls-server-end-point hash when the client chose 'p'. */
static const char *check_channel_binding(const scram_server *s, const char *b64, size_t b64_len)
{
	const char *mismatch = s->cbind_flag == 'p' ? ERR_CBIND_CHECK : ERR_CBIND_UNEXPECTED;
	size_t expected_len = s->gs2_len + (s->cbind_flag == 'p' ? s->cbind_len : 0);
	if (b64_len != 4 * ((expected_len + 2) / 3))
		return mismatch;
	size_t cap = base64_decoded_max(b64_len);
	uint8_t *decoded = malloc(cap ? cap : 1);
	if (!decoded)
		return ERR_MEMORY;
	size_t decoded_len = 0;
	const char *err = NULL;
	if (!base64_decode(b64, b64_len, decoded, cap, &decoded_len) || decoded_len != expected_len ||
		memcmp(decoded, s->gs2_header, s->gs2_len) != 0 ||
		(s->cbind_flag == 'p' && memcmp(decoded + s->gs2_len, s->cbind_data, s->cbind_len) != 0))
		err = mismatch;
	free(decoded);
	return err;
}

/* The nonce must be exactly the one we put in server-first-message. */
static bool nonce_matches(const scram_server *s, const char *nonce, size_t len)
{
	size_t client_len = strlen(s->client_nonce), server_len = strlen(s->server_nonce);
	return len == client_len + server_len &&
		memcmp(nonce, s->client_nonce, client_len) == 0 &&
		memcmp(nonce + client_len, s->server_nonce, server_len) == 0;
}

typedef struct client_final_parts {
	size_t without_proof_len;   /* client-final-message-without-proof = msg[0..this) */
	uint8_t proof[SCRAM_KEY_LEN];
} client_final_parts;

/* client-final-message: "c=" cbind ",r=" nonce ["," extensions] ",p=" proof */
static const char *parse_client_final(const scram_server *s, const char *msg, size_t len,
	client_final_parts *out)
{
	scram_cursor c = { msg, msg + len };
	const char *value;
	size_t value_len;
	char attr;
	const char *err;

	if (!read_expected_attr(&c, 'c', &value, &value_len))
		return ERR_MALFORMED;
	if ((err = check_channel_binding(s, value, value_len)) != NULL)
		return err;
	if (!skip_comma(&c) || !read_expected_attr(&c, 'r', &value, &value_len))
		return ERR_MALFORMED;
	if (!nonce_matches(s, value, value_len))
		return ERR_NONCE_MISMATCH;
	for (;;) {
		if (at_end(&c))
			return ERR_PROOF_MISSING;
		out->without_proof_len = (size_t) (c.pos - msg);
		if (!skip_comma(&c) || !read_attr(&c, &attr, &value, &value_len))
			return ERR_MALFORMED;
		if (attr == 'p')
			break;
	}
	if (value_len != SCRAM_KEY_B64_LEN || !decode_exact(value, value_len, out->proof, SCRAM_KEY_LEN))
		return ERR_PROOF_FORMAT;
	if (!at_end(&c))
		return ERR_GARBAGE;
	return NULL;
}

/* ClientKey = proof XOR HMAC(StoredKey, AuthMessage); it is right if
 * H(ClientKey) == StoredKey.  Compared in constant time. */
static bool proof_is_valid(const scram_verifier *v, const uint8_t proof[SCRAM_KEY_LEN],
	const char *auth, size_t auth_len, bool *computed)
{
	uint8_t signature[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN], stored_key[SCRAM_KEY_LEN];
	*computed = hmac_sha256(v->stored_key, auth, auth_len, signature);
	if (*computed) {
		xor_keys(proof, signature, client_key);
		*computed = sha256(client_key, SCRAM_KEY_LEN, stored_key);
	}
	bool valid = *computed && timingsafe_eq(stored_key, v->stored_key, SCRAM_KEY_LEN);
	OPENSSL_cleanse(client_key, sizeof(client_key));
	OPENSSL_cleanse(signature, sizeof(signature));
	return valid;
}

static char *build_server_final(const uint8_t signature[SCRAM_KEY_LEN])
{
	char *b64 = base64_encode(signature, SCRAM_KEY_LEN);
	if (!b64)
		return NULL;
	size_t len = 2 + strlen(b64);
	char *msg = malloc(len + 1);
	if (msg)
		snprintf(msg, len + 1, "v=%s", b64);
	free(b64);
	return msg;
}

bool scram_server_client_final(scram_server *s, const char *msg, size_t len,
	char **reply, const char **errmsg)
{
	if (reply)
		*reply = NULL;
	if (!s || !reply) {
		if (errmsg)
			*errmsg = ERR_ORDER;
		return false;
	}
	if (s->state != SERVER_SENT_FIRST)
		return server_fail(s, errmsg, ERR_ORDER);
	client_final_parts parts;
	const char *err = check_message(msg, len);
	if (!err)
		err = parse_client_final(s, msg, len, &parts);
	if (err)
		return server_fail(s, errmsg, err);

	size_t auth_len;
	char *auth = auth_message(s->client_first_bare, s->client_first_bare_len, s->server_first,
		strlen(s->server_first), msg, parts.without_proof_len, &auth_len);
	if (!auth)
		return server_fail(s, errmsg, ERR_MEMORY);
	bool computed;
	bool valid = proof_is_valid(&s->verifier, parts.proof, auth, auth_len, &computed);
	uint8_t signature[SCRAM_KEY_LEN];
	bool signed_ok = valid && server_signature(s->verifier.server_key, auth, auth_len, signature);
	free(auth);
	if (!computed || (valid && !signed_ok))
		return server_fail(s, errmsg, ERR_INTERNAL);
	if (!valid)
		return server_fail(s, errmsg, ERR_AUTH_FAILED);
	*reply = build_server_final(signature);
	if (!*reply)
		return server_fail(s, errmsg, ERR_MEMORY);
	s->state = SERVER_DONE;
	return true;
}

/* ================================================================ client */

typedef enum client_state {
	CLIENT_INIT,            /* client-first-message not produced yet */
	CLIENT_SENT_FIRST,      /* waiting for server-first-message */
	CLIENT_SENT_FINAL,      /* waiting for server-final-message */
	CLIENT_DONE,
	CLIENT_FAILED
} client_state;

struct scram_client {
	client_state state;
	char *password;
	char *client_nonce;         /* random, made by scram_client_first */
	char *username;             /* n= value: empty unless set for tests */
	char *client_first_bare;
	uint8_t expected_server_signature[SCRAM_KEY_LEN];
};

scram_client *scram_client_new(const char *password)
{
	if (!password)
		return NULL;
	scram_client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->password = strdup(password);
	c->username = strdup("");
	if (!c->password || !c->username) {
		scram_client_free(c);
		return NULL;
	}
	return c;
}

static void free_secret_string(char *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void scram_client_free(scram_client *c)
{
	if (!c)
		return;
	free_secret_string(c->password);
	free(c->client_nonce);
	free(c->username);
	free(c->client_first_bare);
	OPENSSL_cleanse(c->expected_server_signature, sizeof(c->expected_server_signature));
	free(c);
}

bool scram_client_set_nonce_for_tests(scram_client *c, const char *nonce, const char *username)
{
	if (!c || c->state != CLIENT_INIT || !nonce || !is_printable_nonce(nonce, strlen(nonce)))
		return false;
	/* saslname escaping (=2C, =3D) is not needed by the tests: refuse instead */
	if (username && strpbrk(username, ",="))
		return false;
	char *nonce_copy = strdup(nonce);
	char *user_copy = strdup(username ? username : "");
	if (!nonce_copy || !user_copy) {
		free(nonce_copy);
		free(user_copy);
		return false;
	}
	free(c->client_nonce);
	free(c->username);
	c->client_nonce = nonce_copy;
	c->username = user_copy;
	return true;
}

static bool client_fail(scram_client *c, const char **errmsg, const char *why)
{
	c->state = CLIENT_FAILED;
	if (errmsg)
		*errmsg = why;
	return false;
}

char *scram_client_first(scram_client *c)
{
	if (!c || c->state != CLIENT_INIT)
		return NULL;
	if (!c->client_nonce && !(c->client_nonce = random_nonce()))
		return NULL;
	int bare_len = snprintf(NULL, 0, "n=%s,r=%s", c->username, c->client_nonce);
	if (bare_len <= 0)
		return NULL;
	c->client_first_bare = malloc((size_t) bare_len + 1);
	char *msg = malloc((size_t) bare_len + 4);
	if (!c->client_first_bare || !msg) {
		free(msg);
		free(c->client_first_bare);
		c->client_first_bare = NULL;
		return NULL;
	}
	snprintf(c->client_first_bare, (size_t) bare_len + 1, "n=%s,r=%s", c->username, c->client_nonce);
	/* gs2 header "n,,": no channel binding, no authorization identity */
	snprintf(msg, (size_t) bare_len + 4, "n,,%s", c->client_first_bare);
	c->state = CLIENT_SENT_FIRST;
	return msg;
}

typedef struct server_first_parts {
	const char *nonce;          /* combined nonce, within the message */
	size_t nonce_len;
	uint8_t *salt;              /* malloc'd */
	size_t salt_len;
	int iterations;
} server_first_parts;

/* server-first-message: "r=" nonce ",s=" salt ",i=" iterations, nothing after
 * (libpq refuses extensions here too). */
static const char *parse_server_first(const scram_client *c, const char *msg, size_t len,
	server_first_parts *out)
{
	scram_cursor cur = { msg, msg + len };
	const char *value;
	size_t value_len;

	if (!read_expected_attr(&cur, 'r', &out->nonce, &out->nonce_len))
		return ERR_MALFORMED;
	size_t ours = strlen(c->client_nonce);
	if (!is_printable_nonce(out->nonce, out->nonce_len))
		return ERR_NONCE_FORMAT;
	/* the server must append a nonce part of its own to ours */
	if (out->nonce_len <= ours || memcmp(out->nonce, c->client_nonce, ours) != 0)
		return ERR_NONCE_MISMATCH;
	if (!skip_comma(&cur) || !read_expected_attr(&cur, 's', &value, &value_len))
		return ERR_MALFORMED;
	size_t cap = base64_decoded_max(value_len);
	out->salt = malloc(cap ? cap : 1);
	if (!out->salt)
		return ERR_MEMORY;
	if (!base64_decode(value, value_len, out->salt, cap, &out->salt_len) || out->salt_len == 0)
		return ERR_SALT;
	if (!skip_comma(&cur) || !read_expected_attr(&cur, 'i', &value, &value_len))
		return ERR_MALFORMED;
	if (!parse_positive_int(value, value_len, SCRAM_MAX_ITERATIONS, &out->iterations))
		return ERR_ITERATIONS;
	if (!at_end(&cur))
		return ERR_GARBAGE;
	return NULL;
}

typedef struct client_keys {
	uint8_t client_key[SCRAM_KEY_LEN];
	uint8_t stored_key[SCRAM_KEY_LEN];
	uint8_t server_key[SCRAM_KEY_LEN];
} client_keys;

/* Proof for AuthMessage, and the server signature we will expect back. */
static bool compute_proof(scram_client *c, const client_keys *keys, const char *auth,
	size_t auth_len, uint8_t proof[SCRAM_KEY_LEN])
{
	uint8_t client_signature[SCRAM_KEY_LEN];
	bool ok = hmac_sha256(keys->stored_key, auth, auth_len, client_signature) &&
		server_signature(keys->server_key, auth, auth_len, c->expected_server_signature);
	if (ok)
		xor_keys(keys->client_key, client_signature, proof);
	OPENSSL_cleanse(client_signature, sizeof(client_signature));
	return ok;
}

/* "c=biws,r=<nonce>" + ",p=<proof>"; biws = base64("n,,") */
static char *build_client_final(scram_client *c, const server_first_parts *sf,
	const char *server_first, size_t server_first_len, const client_keys *keys)
{
	size_t without_proof_len = strlen("c=biws,r=") + sf->nonce_len;
	char *msg = malloc(without_proof_len + strlen(",p=") + SCRAM_KEY_B64_LEN + 1);
	if (!msg)
		return NULL;
	memcpy(msg, "c=biws,r=", strlen("c=biws,r="));
	memcpy(msg + strlen("c=biws,r="), sf->nonce, sf->nonce_len);
	msg[without_proof_len] = '\0';

	size_t auth_len;
	char *auth = auth_message(c->client_first_bare, strlen(c->client_first_bare), server_first,
		server_first_len, msg, without_proof_len, &auth_len);
	uint8_t proof[SCRAM_KEY_LEN];
	bool ok = auth && compute_proof(c, keys, auth, auth_len, proof);
	free(auth);
	char *proof_b64 = ok ? base64_encode(proof, SCRAM_KEY_LEN) : NULL;
	OPENSSL_cleanse(proof, sizeof(proof));
	if (!proof_b64) {
		free(msg);
		return NULL;
	}
	snprintf(msg + without_proof_len, strlen(",p=") + SCRAM_KEY_B64_LEN + 1, ",p=%s", proof_b64);
	free(proof_b64);
	return msg;
}

char *scram_client_final(scram_client *c, const char *server_first, size_t len, const char **errmsg)
{
	if (!c) {
		if (errmsg)
			*errmsg = ERR_ORDER;
		return NULL;
	}
	if (c->state != CLIENT_SENT_FIRST) {
		client_fail(c, errmsg, ERR_ORDER);
		return NULL;
	}
	server_first_parts sf;
	memset(&sf, 0, sizeof(sf));
	const char *err = check_message(server_first, len);
	if (!err)
		err = parse_server_first(c, server_first, len, &sf);
	if (err) {
		free(sf.salt);
		client_fail(c, errmsg, err);
		return NULL;
	}

	uint8_t salted[SCRAM_KEY_LEN];
	client_keys keys;
	bool derived = salted_password_cached(c->password, sf.salt, sf.salt_len, sf.iterations, salted) &&
		derive_keys(salted, keys.client_key, keys.stored_key, keys.server_key);
	OPENSSL_cleanse(salted, sizeof(salted));
	free(sf.salt);
	char *msg = derived ? build_client_final(c, &sf, server_first, len, &keys) : NULL;
	OPENSSL_cleanse(&keys, sizeof(keys));
	if (!msg) {
		client_fail(c, errmsg, derived ? ERR_MEMORY : ERR_INTERNAL);
		return NULL;
	}
	c->state = CLIENT_SENT_FINAL;
	return msg;
}

/* server-final-message: "v=" signature, or "e=" server-error */
bool scram_client_verify_final(scram_client *c, const char *server_final, size_t len, const char **errmsg)
{
	if (!c) {
		if (errmsg)
			*errmsg = ERR_ORDER;
		return false;
	}
	if (c->state != CLIENT_SENT_FINAL)
		return client_fail(c, errmsg, ERR_ORDER);
	const char *err = check_message(server_final, len);
	if (err)
		return client_fail(c, errmsg, err);
	scram_cursor cur = { server_final, server_final + len };
	const char *value;
	size_t value_len;
	char attr;
	if (!read_attr(&cur, &attr, &value, &value_len) || (attr != 'v' && attr != 'e'))
		return client_fail(c, errmsg, ERR_MALFORMED);
	if (attr == 'e')
		return client_fail(c, errmsg, ERR_SERVER_ERROR);
	uint8_t signature[SCRAM_KEY_LEN];
	if (value_len != SCRAM_KEY_B64_LEN || !decode_exact(value, value_len, signature, SCRAM_KEY_LEN))
		return client_fail(c, errmsg, ERR_SIGNATURE_FORMAT);
	if (!at_end(&cur))
		return client_fail(c, errmsg, ERR_GARBAGE);
	if (!timingsafe_eq(signature, c->expected_server_signature, SCRAM_KEY_LEN))
		return client_fail(c, errmsg, ERR_SIGNATURE);
	c->state = CLIENT_DONE;
	return true;
}
