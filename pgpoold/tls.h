/* TLS with OpenSSL 3, both sides: clients (SSLRequest or PostgreSQL 17's
 * direct TLS with ALPN "postgresql"), and backends (backend_sslmode).
 * Handshakes are non-blocking; certificates are reloaded on SIGHUP by
 * building a new context (sessions keep the one they started with). */
#ifndef PGPOOLD_TLS_H
#define PGPOOLD_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { TLS_DONE = 1, TLS_WANT_READ = 0, TLS_WANT_WRITE = 2, TLS_FAILED = -1 };

/* Build the contexts from the config; false with err on a bad certificate,
 * key or setting.  Safe to call again (reload): the old server context is
 * released once no handshake uses it. */
bool tls_init(char *err, size_t errlen);
void tls_shutdown(void);
/* Is client TLS (ssl = on) available? */
bool tls_server_enabled(void);
/* A server-side TLS session on fd; NULL on failure. */
SSL *tls_accept_new(int fd);
/* A client-side TLS session to a backend; NULL on failure. */
SSL *tls_connect_new(int fd, const char *hostname);
/* Drive a handshake: TLS_DONE, TLS_WANT_READ/WRITE, or TLS_FAILED (reason
 * logged with who). */
int tls_handshake(SSL *ssl, const char *who);
/* tls-server-end-point channel binding data (RFC 5929) of our certificate;
 * false if there is none. */
bool tls_server_end_point(SSL *ssl, uint8_t *out, size_t *outlen);
/* The client certificate's common name, if one was presented and verified. */
bool tls_peer_cn(SSL *ssl, char *out, size_t outlen);
void tls_free(SSL *ssl);

#endif
