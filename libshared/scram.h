/* SCRAM-SHA-256 (RFC 5802 / RFC 7677) as PostgreSQL speaks it, both sides:
 * the server side verifies a client against a verifier, the client side logs
 * in to a backend with a plain password.  Channel binding: the gs2 flags
 * 'n' and 'y' are handled; 'p' (SCRAM-SHA-256-PLUS) needs a TLS session and
 * is rejected unless cbind_data is supplied. */
#ifndef PGPOOLD_SCRAM_H
#define PGPOOLD_SCRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCRAM_KEY_LEN 32
#define SCRAM_DEFAULT_ITERATIONS 4096
#define SCRAM_MAX_SALT_LEN 64

typedef struct scram_verifier {
	int iterations;
	uint8_t salt[SCRAM_MAX_SALT_LEN];
	size_t salt_len;
	uint8_t stored_key[SCRAM_KEY_LEN];
	uint8_t server_key[SCRAM_KEY_LEN];
} scram_verifier;

/* Parse "SCRAM-SHA-256$<iter>:<b64 salt>$<b64 StoredKey>:<b64 ServerKey>". */
bool scram_verifier_parse(const char *text, scram_verifier *out);
/* Derive a verifier from a plain password (SASLprep is not applied, as
 * PostgreSQL does for non-UTF8/ASCII passwords). salt NULL = random 16 bytes. */
bool scram_verifier_from_password(const char *password, const uint8_t *salt,
	size_t salt_len, int iterations, scram_verifier *out);
/* Format a verifier as text (malloc'd). */
char *scram_verifier_format(const scram_verifier *v);

/* ---- server side: authenticating a client ---- */
typedef struct scram_server scram_server;

/* cbind_data: tls-server-end-point hash of our certificate, or NULL (no TLS). */
scram_server *scram_server_new(const scram_verifier *v, const uint8_t *cbind_data, size_t cbind_len);
/* Feed the client-first-message (payload of SASLInitialResponse).  On success
 * returns true and sets *reply (malloc'd server-first-message). On failure
 * returns false and *errmsg says why (static string, for the client). */
bool scram_server_client_first(scram_server *s, const char *msg, size_t len,
	char **reply, const char **errmsg);
/* Feed client-final-message.  true + *reply (server-final-message "v=...") if
 * the proof is right; false + *errmsg otherwise (wrong password, bad nonce...). */
bool scram_server_client_final(scram_server *s, const char *msg, size_t len,
	char **reply, const char **errmsg);
void scram_server_free(scram_server *s);

/* ---- client side: logging in to a backend ---- */
typedef struct scram_client scram_client;

scram_client *scram_client_new(const char *password);
/* client-first-message "n,,n=,r=<nonce>" (malloc'd). */
char *scram_client_first(scram_client *c);
/* Given server-first-message, produce client-final-message (malloc'd) or NULL
 * with *errmsg set (bad nonce, bad iteration count, ...). */
char *scram_client_final(scram_client *c, const char *server_first, size_t len, const char **errmsg);
/* Check server-final-message's signature. */
bool scram_client_verify_final(scram_client *c, const char *server_final, size_t len, const char **errmsg);
void scram_client_free(scram_client *c);
/* How many client-final computations found their salted password in the
 * cache (same password, salt and iteration count as an earlier login). */
unsigned long scram_client_cache_hits(void);

/* ---- test-only hooks (t/unit): fixed nonces, so that RFC 7677's example
 * exchange can be replayed byte for byte.  Never call them anywhere else:
 * a fixed nonce defeats SCRAM's replay protection. ---- */
/* Replace our random server nonce part; before scram_server_client_first. */
bool scram_server_set_nonce_for_tests(scram_server *s, const char *nonce);
/* Replace our random client nonce, and send n=<username> (NULL = empty, as
 * PostgreSQL does); before scram_client_first. */
bool scram_client_set_nonce_for_tests(scram_client *c, const char *nonce, const char *username);

#endif
