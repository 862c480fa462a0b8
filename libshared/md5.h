/* MD5 as PostgreSQL uses it for passwords (OpenSSL EVP underneath).
 * Every function returns false (and leaves out as "") if the digest cannot
 * be computed - e.g. MD5 disabled by a FIPS provider - or the input is not
 * in the expected form: callers must not compare against out then. */
#ifndef PGPOOLD_MD5_H
#define PGPOOLD_MD5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MD5_PASSWD_LEN 35     /* "md5" + 32 hex digits */

/* out = lower-case hex md5 of data (33 bytes with NUL). */
bool md5_hex(const void *data, size_t len, char out[33]);
/* out = "md5" + md5hex(password || user): PostgreSQL's stored form. */
bool md5_password_hash(const char *password, const char *user, char out[MD5_PASSWD_LEN + 1]);
/* Response to AuthenticationMD5Password given the stored form (35 chars):
 * out = "md5" + md5hex(hash_hex_part || salt). */
bool md5_salted_response(const char *stored_hash, const uint8_t salt[4], char out[MD5_PASSWD_LEN + 1]);

#endif
