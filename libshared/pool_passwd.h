/* pool_passwd: Pgpool-II's "user:password" file.
 * Password forms by prefix: "md5"+32 hex = md5 hash; "SCRAM-SHA-256$" = verifier;
 * "TEXT" = plain text follows; "AES" = base64 AES-256-CBC (needs the pool key);
 * anything else = plain text.  Optional ":backenduser:backendpassword" pair. */
#ifndef PGPOOLD_POOL_PASSWD_H
#define PGPOOLD_POOL_PASSWD_H

#include <stdbool.h>
#include <stddef.h>

typedef enum passwd_kind {
	PASSWD_PLAIN,    /* secret = the password */
	PASSWD_MD5,      /* secret = "md5..." 35 chars */
	PASSWD_SCRAM,    /* secret = verifier text */
	PASSWD_AES       /* secret = base64 cipher text (decrypt with passwd_aes_decrypt) */
} passwd_kind;

typedef struct passwd_entry {
	char *user;
	passwd_kind kind;
	char *secret;
	char *backend_user;      /* NULL unless mapped */
	char *backend_password;  /* NULL unless mapped; classified like secret */
	passwd_kind backend_kind;  /* form of backend_password (when mapped) */
	int lineno;
} passwd_entry;

typedef struct pool_passwd {
	passwd_entry *entries;
	int count;
} pool_passwd;

/* Parse a whole file's text.  Malformed lines (no ':') are reported in err
 * ("line N: ...") and skipped; returns NULL only on allocation failure. */
pool_passwd *pool_passwd_parse(const char *text, size_t len, char *err, size_t errlen);
/* Read and parse a file; NULL with err set if it cannot be read. */
pool_passwd *pool_passwd_load(const char *path, char *err, size_t errlen);
const passwd_entry *pool_passwd_find(const pool_passwd *pw, const char *user);
void pool_passwd_free(pool_passwd *pw);

/* Decrypt an AES entry (base64 of AES-256-CBC, key/IV = EVP_BytesToKey(SHA1,
 * no salt, 1 round) of key) into a malloc'd plain password, or NULL. */
char *passwd_aes_decrypt(const char *b64, const char *key);
/* Encrypt (what pg_enc does) - for tests and tools. malloc'd base64. */
char *passwd_aes_encrypt(const char *plain, const char *key);

/* The plain password of an entry, if it has one (PLAIN, or AES with key).
 * malloc'd; NULL if not available. */
char *passwd_entry_plain(const passwd_entry *e, const char *aes_key);
/* The same for the mapped backend password: NULL if not mapped or not
 * available in plain text. */
char *passwd_entry_backend_plain(const passwd_entry *e, const char *aes_key);

#endif
