/* pool_passwd: Pgpool-II's "user:password[:backenduser:backendpassword]"
 * file, and the AES form of its passwords (what pg_enc writes): see
 * pool_passwd.h.
 *
 * As in Pgpool-II, fields are separated by ':' and a backslash escapes the
 * next character (so "\:" is a literal colon).  A SCRAM verifier contains
 * two colons of its own ("SCRAM-SHA-256$iter:salt$stored:server"); it is
 * recognised by its shape and kept whole.  Nothing here logs: the file's
 * contents are secrets. */
#include "pool_passwd.h"
#include "scram.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define POOL_PASSWD_MAX_FILE (16u * 1024u * 1024u)
#define MAX_FIELDS 4            /* user, password, backend user, backend password */

#define MD5_PREFIX "md5"
#define MD5_STORED_LEN 35       /* "md5" + 32 hex digits */
#define AES_PREFIX "AES"
#define TEXT_PREFIX "TEXT"
#define SCRAM_PREFIX "SCRAM-SHA-256$"

#define AES_KEY_LEN 32
#define AES_IV_LEN 16
#define AES_BLOCK 16

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void free_secret(char *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* ================================================================ AES */

/* pg_enc's key and IV: EVP_BytesToKey(aes-256-cbc, SHA1, no salt, 1 round). */
static bool derive_aes_key(const char *key, unsigned char k[AES_KEY_LEN], unsigned char iv[AES_IV_LEN])
{
	size_t key_len = strlen(key);
	if (key_len > INT_MAX)
		return false;
	return EVP_BytesToKey(EVP_aes_256_cbc(), EVP_sha1(), NULL, (const unsigned char *) key,
		(int) key_len, 1, k, iv) == AES_KEY_LEN;
}

/* One-shot AES-256-CBC with PKCS padding; *out_len <= in_len + AES_BLOCK. */
static bool aes_crypt(bool encrypt, const char *key, const unsigned char *in, size_t in_len,
	unsigned char *out, size_t *out_len)
{
	unsigned char k[AES_KEY_LEN], iv[AES_IV_LEN];
	EVP_CIPHER_CTX *ctx = NULL;
	int n1 = 0, n2 = 0;
	bool ok = in_len <= INT_MAX - AES_BLOCK && derive_aes_key(key, k, iv) &&
		(ctx = EVP_CIPHER_CTX_new()) != NULL &&
		EVP_CipherInit_ex2(ctx, EVP_aes_256_cbc(), k, iv, encrypt ? 1 : 0, NULL) == 1 &&
		EVP_CipherUpdate(ctx, out, &n1, in, (int) in_len) == 1 &&
		EVP_CipherFinal_ex(ctx, out + n1, &n2) == 1;
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(iv, sizeof(iv));
	if (ok)
		*out_len = (size_t) n1 + (size_t) n2;
	return ok;
}

char *passwd_aes_encrypt(const char *plain, const char *key)
{
	if (!plain || !key)
		return NULL;
	size_t plain_len = strlen(plain);
	if (plain_len > SIZE_MAX - AES_BLOCK)
		return NULL;
	unsigned char *cipher = malloc(plain_len + AES_BLOCK);
	if (!cipher)
		return NULL;
	size_t cipher_len = 0;
	char *b64 = NULL;
	if (aes_crypt(true, key, (const unsigned char *) plain, plain_len, cipher, &cipher_len))
		b64 = base64_encode(cipher, cipher_len);
	free(cipher);
	return b64;
}

char *passwd_aes_decrypt(const char *b64, const char *key)
{
	if (!b64 || !key)
		return NULL;
	size_t b64_len = strlen(b64);
	size_t cap = base64_decoded_max(b64_len);
	if (cap == 0)
		return NULL;
	unsigned char *cipher = malloc(cap);
	unsigned char *plain = malloc(cap + AES_BLOCK + 1);
	size_t cipher_len = 0, plain_len = 0;
	bool ok = cipher && plain && base64_decode(b64, b64_len, cipher, cap, &cipher_len) &&
		cipher_len > 0 && cipher_len % AES_BLOCK == 0 &&
		aes_crypt(false, key, cipher, cipher_len, plain, &plain_len) &&
		memchr(plain, '\0', plain_len) == NULL;    /* must be a C string */
	free(cipher);
	if (!ok) {
		if (plain)
			OPENSSL_cleanse(plain, cap + AES_BLOCK + 1);
		free(plain);
		return NULL;
	}
	plain[plain_len] = '\0';
	return (char *) plain;
}

/* ================================================================ entries */

/* Password forms by prefix, as Pgpool-II's get_password_type(): strips the
 * TEXT / AES prefix in place. */
static passwd_kind classify_password(char *pw)
{
	if (has_prefix(pw, MD5_PREFIX)) {
		if (strlen(pw) != MD5_STORED_LEN)
			return PASSWD_PLAIN;
		for (size_t i = strlen(MD5_PREFIX); i < MD5_STORED_LEN; i++)
			if (!((pw[i] >= '0' && pw[i] <= '9') || (pw[i] >= 'a' && pw[i] <= 'f')))
				return PASSWD_PLAIN;
		return PASSWD_MD5;
	}
	if (has_prefix(pw, AES_PREFIX)) {
		memmove(pw, pw + strlen(AES_PREFIX), strlen(pw) - strlen(AES_PREFIX) + 1);
		return PASSWD_AES;
	}
	if (has_prefix(pw, SCRAM_PREFIX))
		return PASSWD_SCRAM;
	if (has_prefix(pw, TEXT_PREFIX)) {
		memmove(pw, pw + strlen(TEXT_PREFIX), strlen(pw) - strlen(TEXT_PREFIX) + 1);
		return PASSWD_PLAIN;
	}
	return PASSWD_PLAIN;
}

static char *plain_of(passwd_kind kind, const char *secret, const char *aes_key)
{
	if (!secret)
		return NULL;
	if (kind == PASSWD_PLAIN)
		return strdup(secret);
	if (kind == PASSWD_AES && aes_key)
		return passwd_aes_decrypt(secret, aes_key);
	return NULL;
}

char *passwd_entry_plain(const passwd_entry *e, const char *aes_key)
{
	return e ? plain_of(e->kind, e->secret, aes_key) : NULL;
}

char *passwd_entry_backend_plain(const passwd_entry *e, const char *aes_key)
{
	if (!e || !e->backend_user)
		return NULL;
	return plain_of(e->backend_kind, e->backend_password, aes_key);
}

static void entry_clear(passwd_entry *e)
{
	free(e->user);
	free_secret(e->secret);
	free(e->backend_user);
	free_secret(e->backend_password);
	memset(e, 0, sizeof(*e));
}

void pool_passwd_free(pool_passwd *pw)
{
	if (!pw)
		return;
	for (int i = 0; i < pw->count; i++)
		entry_clear(&pw->entries[i]);
	free(pw->entries);
	free(pw);
}

const passwd_entry *pool_passwd_find(const pool_passwd *pw, const char *user)
{
	if (!pw || !user)
		return NULL;
	for (int i = 0; i < pw->count; i++)
		if (strcmp(pw->entries[i].user, user) == 0)
			return &pw->entries[i];
	return NULL;
}

/* ================================================================ parsing */

/* Length of a SCRAM verifier starting at p ("SCRAM-SHA-256$" iter ":" salt
 * "$" stored ":" server), which ends at the next ':' or the end; 0 if p
 * does not have that shape. */
static size_t scram_span(const char *p, const char *end)
{
	size_t prefix_len = strlen(SCRAM_PREFIX);
	if ((size_t) (end - p) < prefix_len || memcmp(p, SCRAM_PREFIX, prefix_len) != 0)
		return 0;
	const char *q = p + prefix_len;
	static const char separators[] = ":$:";
	for (const char *sep = separators; *sep; sep++) {
		q = memchr(q, *sep, (size_t) (end - q));
		if (!q)
			return 0;
		q++;
	}
	const char *stop = memchr(q, ':', (size_t) (end - q));
	return (size_t) ((stop ? stop : end) - p);
}

/* Next ':'-separated field from *pos, with "\x" unescaped to x.  Returns a
 * malloc'd string (NULL: out of memory); *more says a ':' followed it. */
static char *next_field(const char **pos, const char *end, bool *more)
{
	const char *p = *pos;
	size_t verifier_len = scram_span(p, end);
	char *out = malloc((size_t) (end - p) + 1);
	if (!out)
		return NULL;
	size_t n = 0;
	if (verifier_len > 0) {
		memcpy(out, p, verifier_len);
		n = verifier_len;
		p += verifier_len;
	}
	while (p < end && *p != ':') {
		if (*p == '\\' && p + 1 < end)
			p++;
		out[n++] = *p++;
	}
	out[n] = '\0';
	*more = p < end;
	*pos = *more ? p + 1 : p;
	return out;
}

typedef enum line_result { LINE_OK, LINE_BAD, LINE_NOMEM } line_result;

/* Split a line into at most MAX_FIELDS fields (fields[] get malloc'd strings). */
static line_result split_fields(const char *line, size_t len, char *fields[MAX_FIELDS],
	int *count, const char **why)
{
	const char *pos = line, *end = line + len;
	bool more = true;
	*count = 0;
	while (more) {
		if (*count == MAX_FIELDS) {
			*why = "too many fields (expected user:password[:backenduser:backendpassword])";
			return LINE_BAD;
		}
		fields[*count] = next_field(&pos, end, &more);
		if (!fields[*count])
			return LINE_NOMEM;
		(*count)++;
	}
	return LINE_OK;
}

/* Why a field-count / emptiness check fails, or NULL. */
static const char *check_field_shape(char *fields[MAX_FIELDS], int count)
{
	if (count < 2)
		return "missing ':' (expected user:password)";
	if (count == 3)
		return "backend user without backend password (expected user:password:backenduser:backendpassword)";
	if (fields[0][0] == '\0')
		return "empty user name";
	if (fields[1][0] == '\0')
		return "empty password";
	if (count == 4 && (fields[2][0] == '\0' || fields[3][0] == '\0'))
		return "empty backend user or backend password";
	return NULL;
}

/* Classify a password in place; why it is unusable, or NULL. */
static const char *classify_checked(char *password, passwd_kind *kind)
{
	*kind = classify_password(password);
	if (password[0] == '\0')
		return "empty password after the TEXT/AES prefix";
	if (*kind == PASSWD_SCRAM) {
		scram_verifier v;
		bool valid = scram_verifier_parse(password, &v);
		OPENSSL_cleanse(&v, sizeof(v));
		if (!valid)
			return "invalid SCRAM-SHA-256 verifier";
	}
	return NULL;
}

/* Fill e from the fields of one line; takes ownership of fields[]. */
static line_result entry_from_fields(char *fields[MAX_FIELDS], int count, passwd_entry *e,
	const char **why)
{
	*why = check_field_shape(fields, count);
	e->user = fields[0];
	e->secret = fields[1];
	if (count == 4) {
		e->backend_user = fields[2];
		e->backend_password = fields[3];
	} else if (count == 3) {
		free(fields[2]);
	}
	if (*why)
		return LINE_BAD;
	*why = classify_checked(e->secret, &e->kind);
	if (!*why && e->backend_password)
		*why = classify_checked(e->backend_password, &e->backend_kind);
	return *why ? LINE_BAD : LINE_OK;
}

static bool is_blank_line(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return false;
	return true;
}

static line_result parse_line(const char *line, size_t len, passwd_entry *e, const char **why)
{
	char *fields[MAX_FIELDS] = { NULL };
	int count = 0;
	memset(e, 0, sizeof(*e));
	if (memchr(line, '\0', len)) {
		*why = "line contains a NUL byte";
		return LINE_BAD;
	}
	line_result r = split_fields(line, len, fields, &count, why);
	if (r != LINE_OK) {
		for (int i = 0; i < count; i++)
			free_secret(fields[i]);
		return r;
	}
	r = entry_from_fields(fields, count, e, why);
	if (r != LINE_OK)
		entry_clear(e);
	return r;
}

static bool append_entry(pool_passwd *pw, int *cap, const passwd_entry *e)
{
	if (pw->count == *cap) {
		if (*cap > INT_MAX / 2)
			return false;
		int ncap = *cap ? *cap * 2 : 16;
		passwd_entry *n = realloc(pw->entries, (size_t) ncap * sizeof(*n));
		if (!n)
			return false;
		pw->entries = n;
		*cap = ncap;
	}
	pw->entries[pw->count++] = *e;
	return true;
}

pool_passwd *pool_passwd_parse(const char *text, size_t len, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	pool_passwd *pw = calloc(1, sizeof(*pw));
	if (!pw)
		return NULL;
	int cap = 0, lineno = 0;
	const char *p = text, *end = text ? text + len : text;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *line_end = nl ? nl : end;
		size_t line_len = (size_t) (line_end - p);
		lineno++;
		if (line_len > 0 && p[line_len - 1] == '\r')
			line_len--;
		if (!is_blank_line(p, line_len) && p[0] != '#') {
			passwd_entry e;
			const char *why = NULL;
			line_result r = parse_line(p, line_len, &e, &why);
			if (r == LINE_BAD)
				err_appendf(err, errlen, "line %d: %s", lineno, why);
			e.lineno = lineno;
			if (r == LINE_NOMEM || (r == LINE_OK && !append_entry(pw, &cap, &e))) {
				if (r == LINE_OK)
					entry_clear(&e);
				pool_passwd_free(pw);
				return NULL;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return pw;
}

pool_passwd *pool_passwd_load(const char *path, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!path) {
		err_appendf(err, errlen, "no pool_passwd file name");
		return NULL;
	}
	size_t len = 0;
	char *text = file_read_all(path, POOL_PASSWD_MAX_FILE, &len);
	if (!text) {
		err_appendf(err, errlen, "could not read pool_passwd file \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	pool_passwd *pw = pool_passwd_parse(text, len, err, errlen);
	OPENSSL_cleanse(text, len);
	free(text);
	if (!pw)
		err_appendf(err, errlen, "out of memory reading pool_passwd file \"%s\"", path);
	return pw;
}
