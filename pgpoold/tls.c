/* TLS: see tls.h. */
#include "tls.h"
#include "pgpoold.h"
#include "log.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *server_ctx;   /* NULL when ssl = off */
static SSL_CTX *client_ctx;   /* for backends; NULL when backend_sslmode = disable */

static void openssl_error(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
	ERR_clear_error();
}

static int min_version(const char *name)
{
	if (strcasecmp(name, "TLSv1.3") == 0)
		return TLS1_3_VERSION;
	if (strcasecmp(name, "TLSv1.1") == 0)
		return TLS1_1_VERSION;
	if (strcasecmp(name, "TLSv1") == 0)
		return TLS1_VERSION;
	return TLS1_2_VERSION;
}

/* PostgreSQL 17 direct TLS: the client must ask for ALPN "postgresql". */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
	const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char proto[] = { 10, 'p', 'o', 's', 't', 'g', 'r', 'e', 's', 'q', 'l' };
	if (SSL_select_next_proto((unsigned char **) out, outlen, proto, sizeof(proto), in, inlen)
	    != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *build_server_ctx(char *err, size_t errlen)
{
	const pool_config *cfg = g.cfg;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		openssl_error(err, errlen, "could not create TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, min_version(cfg->ssl_min_protocol_version));
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
		(cfg->ssl_prefer_server_ciphers ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->ssl_cert) != 1) {
		openssl_error(err, errlen, "could not load ssl_cert");
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->ssl_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		openssl_error(err, errlen, "could not load ssl_key (or it does not match ssl_cert)");
		goto fail;
	}
	if (cfg->ssl_ciphers[0] && SSL_CTX_set_cipher_list(ctx, cfg->ssl_ciphers) != 1) {
		openssl_error(err, errlen, "bad ssl_ciphers");
		goto fail;
	}
	if (cfg->ssl_ecdh_curve[0] && SSL_CTX_set1_groups_list(ctx, cfg->ssl_ecdh_curve) != 1) {
		openssl_error(err, errlen, "bad ssl_ecdh_curve");
		goto fail;
	}
	if (cfg->ssl_ca_cert[0]) {
		/* client certificates are asked for, and checked when given (cert auth) */
		if (SSL_CTX_load_verify_locations(ctx, cfg->ssl_ca_cert, NULL) != 1) {
			openssl_error(err, errlen, "could not load ssl_ca_cert");
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->ssl_ca_cert);
		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
	}
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static SSL_CTX *build_client_ctx(char *err, size_t errlen)
{
	const pool_config *cfg = g.cfg;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		openssl_error(err, errlen, "could not create backend TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
	bool verify = strcmp(cfg->backend_sslmode, "verify-ca") == 0 || strcmp(cfg->backend_sslmode, "verify-full") == 0;
	if (verify) {
		if (!cfg->backend_ssl_ca_cert[0] ||
		    SSL_CTX_load_verify_locations(ctx, cfg->backend_ssl_ca_cert, NULL) != 1) {
			openssl_error(err, errlen, "backend_sslmode verify-* needs a readable backend_ssl_ca_cert");
			SSL_CTX_free(ctx);
			return NULL;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return ctx;
}

bool tls_init(char *err, size_t errlen)
{
	SSL_CTX *srv = NULL, *cli = NULL;
	if (g.cfg->ssl && !(srv = build_server_ctx(err, errlen)))
		return false;
	if (strcmp(g.cfg->backend_sslmode, "disable") != 0 && !(cli = build_client_ctx(err, errlen))) {
		SSL_CTX_free(srv);
		return false;
	}
	pthread_mutex_lock(&ctx_lock);
	SSL_CTX *old_srv = server_ctx, *old_cli = client_ctx;
	server_ctx = srv;
	client_ctx = cli;
	pthread_mutex_unlock(&ctx_lock);
	/* sessions hold their own reference (SSL_new): freeing ours is safe */
	SSL_CTX_free(old_srv);
	SSL_CTX_free(old_cli);
	return true;
}

void tls_shutdown(void)
{
	pthread_mutex_lock(&ctx_lock);
	SSL_CTX_free(server_ctx);
	SSL_CTX_free(client_ctx);
	server_ctx = client_ctx = NULL;
	pthread_mutex_unlock(&ctx_lock);
}

bool tls_server_enabled(void)
{
	pthread_mutex_lock(&ctx_lock);
	bool on = server_ctx != NULL;
	pthread_mutex_unlock(&ctx_lock);
	return on;
}

static SSL *new_ssl(SSL_CTX **ctxp, int fd)
{
	pthread_mutex_lock(&ctx_lock);
	SSL *ssl = *ctxp ? SSL_new(*ctxp) : NULL;
	pthread_mutex_unlock(&ctx_lock);
	if (ssl && SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		ssl = NULL;
	}
	return ssl;
}

SSL *tls_accept_new(int fd)
{
	SSL *ssl = new_ssl(&server_ctx, fd);
	if (ssl)
		SSL_set_accept_state(ssl);
	return ssl;
}

SSL *tls_connect_new(int fd, const char *hostname)
{
	SSL *ssl = new_ssl(&client_ctx, fd);
	if (!ssl)
		return NULL;
	SSL_set_connect_state(ssl);
	if (hostname && hostname[0] && hostname[0] != '/') {
		SSL_set_tlsext_host_name(ssl, hostname);
		if (strcmp(g.cfg->backend_sslmode, "verify-full") == 0)
			SSL_set1_host(ssl, hostname);
	}
	return ssl;
}

int tls_handshake(SSL *ssl, const char *who)
{
	ERR_clear_error();
	int rc = SSL_do_handshake(ssl);
	if (rc == 1)
		return TLS_DONE;
	int e = SSL_get_error(ssl, rc);
	if (e == SSL_ERROR_WANT_READ)
		return TLS_WANT_READ;
	if (e == SSL_ERROR_WANT_WRITE)
		return TLS_WANT_WRITE;
	char err[256];
	openssl_error(err, sizeof(err), "TLS handshake failed");
	if (SSL_get_verify_result(ssl) != X509_V_OK)
		log_log("%s with %s: certificate verification failed: %s", err, who,
			X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
	else
		log_log("%s with %s", err, who);
	return TLS_FAILED;
}

bool tls_server_end_point(SSL *ssl, uint8_t *out, size_t *outlen)
{
	X509 *cert = SSL_get_certificate(ssl);
	if (!cert)
		return false;
	/* RFC 5929: the certificate's signature hash, SHA-256 for MD5/SHA-1 */
	int md_nid, pk_nid;
	if (!OBJ_find_sigid_algs(X509_get_signature_nid(cert), &md_nid, &pk_nid))
		return false;
	const EVP_MD *md = (md_nid == NID_md5 || md_nid == NID_sha1) ? EVP_sha256() : EVP_get_digestbynid(md_nid);
	unsigned int len = 0;
	if (!md || X509_digest(cert, md, out, &len) != 1)
		return false;
	*outlen = len;
	return true;
}

bool tls_peer_cn(SSL *ssl, char *out, size_t outlen)
{
	X509 *peer = SSL_get0_peer_certificate(ssl);
	if (!peer || SSL_get_verify_result(ssl) != X509_V_OK)
		return false;
	X509_NAME *name = X509_get_subject_name(peer);
	int len = X509_NAME_get_text_by_NID(name, NID_commonName, out, (int) outlen);
	/* an embedded NUL would let "admin\0.evil" pass as "admin" */
	return len > 0 && (size_t) len < outlen && strlen(out) == (size_t) len;
}

void tls_free(SSL *ssl)
{
	if (!ssl)
		return;
	SSL_shutdown(ssl);   /* best effort close_notify; non-blocking socket */
	SSL_free(ssl);
}
