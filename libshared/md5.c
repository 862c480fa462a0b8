/* MD5 password hashing, PostgreSQL style: see md5.h. */
#include "md5.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define MD5_DIGEST_BYTES 16
#define MD5_HEX_LEN 32
#define MD5_PREFIX "md5"
#define MD5_PREFIX_LEN 3

bool md5_hex(const void *data, size_t len, char out[33])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;

	out[0] = '\0';
	if (EVP_Digest(data, len, digest, &digest_len, EVP_md5(), NULL) != 1 ||
		digest_len != MD5_DIGEST_BYTES)
		return false;
	hex_encode(digest, MD5_DIGEST_BYTES, out);
	return true;
}

/* md5hex of a || b, without building the concatenation on the heap for
 * small inputs (the common case) - but correct for any size. */
static bool md5_hex_concat(const void *a, size_t alen, const void *b, size_t blen, char out[33])
{
	out[0] = '\0';
	if (alen > SIZE_MAX - blen)
		return false;
	unsigned char stackbuf[256];
	unsigned char *buf = stackbuf;
	size_t total = alen + blen;
	if (total > sizeof(stackbuf)) {
		buf = malloc(total);
		if (!buf)
			return false;
	}
	memcpy(buf, a, alen);
	memcpy(buf + alen, b, blen);
	bool ok = md5_hex(buf, total, out);
	/* the buffer held a password (or a hash that works like one) */
	OPENSSL_cleanse(buf, total);
	if (buf != stackbuf)
		free(buf);
	return ok;
}

bool md5_password_hash(const char *password, const char *user, char out[MD5_PASSWD_LEN + 1])
{
	out[0] = '\0';
	if (!password || !user)
		return false;
	char hex[MD5_HEX_LEN + 1];
	if (!md5_hex_concat(password, strlen(password), user, strlen(user), hex))
		return false;
	memcpy(out, MD5_PREFIX, MD5_PREFIX_LEN);
	memcpy(out + MD5_PREFIX_LEN, hex, MD5_HEX_LEN + 1);
	return true;
}

static bool is_md5_stored_form(const char *s)
{
	if (strncmp(s, MD5_PREFIX, MD5_PREFIX_LEN) != 0 || strlen(s) != MD5_PASSWD_LEN)
		return false;
	for (size_t i = MD5_PREFIX_LEN; i < MD5_PASSWD_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool md5_salted_response(const char *stored_hash, const uint8_t salt[4], char out[MD5_PASSWD_LEN + 1])
{
	out[0] = '\0';
	if (!stored_hash || !is_md5_stored_form(stored_hash))
		return false;
	char hex[MD5_HEX_LEN + 1];
	if (!md5_hex_concat(stored_hash + MD5_PREFIX_LEN, MD5_HEX_LEN, salt, 4, hex))
		return false;
	memcpy(out, MD5_PREFIX, MD5_PREFIX_LEN);
	memcpy(out + MD5_PREFIX_LEN, hex, MD5_HEX_LEN + 1);
	return true;
}
