/* Backend connections: see server.h. */
#include "server.h"
#include "worker.h"
#include "session.h"
#include "pool.h"
#include "log.h"
#include "md5.h"
#include "scram.h"
#include "util.h"
#include "tls.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOGIN_MSG_LIMIT (1024 * 1024)

static void server_fail(server *srv, const char *reason);

static void set_state(server *srv, server_state st)
{
	srv->state = st;
	srv->state_since_ms = now_ms();
}

/* ---------------------------------------------------------------- params */

const char *server_param(const server *srv, const char *name)
{
	for (int i = 0; i < srv->num_params; i++)
		if (strcmp(srv->params[i].name, name) == 0)
			return srv->params[i].value;
	return NULL;
}

static bool set_param(server *srv, const char *name, const char *value)
{
	for (int i = 0; i < srv->num_params; i++) {
		if (strcmp(srv->params[i].name, name) == 0) {
			char *v = strdup(value);
			if (!v)
				return false;
			free(srv->params[i].value);
			srv->params[i].value = v;
			return true;
		}
	}
	server_kv *p = realloc(srv->params, sizeof(*p) * (size_t) (srv->num_params + 1));
	if (!p)
		return false;
	srv->params = p;
	char *n = strdup(name), *v = strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return false;
	}
	p[srv->num_params].name = n;
	p[srv->num_params].value = v;
	srv->num_params++;
	return true;
}

bool server_note_param(server *srv, const uint8_t *body, size_t len)
{
	msg_reader r;
	mr_init(&r, body, len);
	const char *name = mr_str(&r);
	const char *value = mr_str(&r);
	if (!name || !value)
		return false;
	return set_param(srv, name, value);
}

/* ---------------------------------------------------------------- output */

void server_update_interest(server *srv)
{
	uint32_t mask = EPOLLIN;
	if (srv->state == SRV_CONNECTING || srv->tls_want_write)
		mask = EPOLLOUT;
	else if (srv->out_sent < srv->out.len)
		mask = EPOLLIN | EPOLLOUT;
	ev_set(&srv->ev, mask);
}

bool server_flush(server *srv)
{
	return buf_send_pending(&srv->ev, &srv->out, &srv->out_sent);
}

/* ---------------------------------------------------------------- login */

static void build_startup(server *srv, const startup_packet *sp)
{
	buf *b = &srv->startup;
	size_t off = buf_msg_begin(b, 0);
	buf_put_i32(b, (int32_t) PROTO_V3);
	for (int i = 0; i < sp->nparams; i++) {
		/* protocol extensions are negotiated by us with the client */
		if (strncmp(sp->params[i].name, "_pq_.", 5) == 0)
			continue;
		buf_put_str(b, sp->params[i].name);
		buf_put_str(b, sp->params[i].value);
	}
	buf_put_u8(b, 0);
	buf_msg_end(b, off);
}

/* Connected (and TLS settled): send the startup packet. */
static bool enter_login(server *srv)
{
	set_state(srv, SRV_LOGIN);
	buf_put(&srv->out, srv->startup.data, srv->startup.len);
	buf_free(&srv->startup);
	return !srv->out.oom && server_flush(srv);
}

static bool wants_tls(const server *srv)
{
	return strcmp(g.cfg->backend_sslmode, "disable") != 0 &&
		g.nodes[srv->node_id].addr.ss_family != AF_UNIX;
}

static bool requires_tls(void)
{
	const char *mode = g.cfg->backend_sslmode;
	return strcmp(mode, "disable") != 0 && strcmp(mode, "prefer") != 0;
}

/* The TCP connection is up: ask for TLS first if configured. */
static bool connected(server *srv)
{
	if (!wants_tls(srv))
		return enter_login(srv);
	set_state(srv, SRV_SSLREQ);
	uint8_t req[8];
	put_be32(req, 8);
	put_be32(req + 4, PROTO_SSL_CODE);
	buf_put(&srv->out, req, sizeof(req));
	return !srv->out.oom && server_flush(srv);
}

static void drive_tls(server *srv)
{
	srv->tls_want_write = false;
	char who[64];
	snprintf(who, sizeof(who), "backend node %d", srv->node_id);
	int rc = tls_handshake(srv->ev.ssl, who);
	if (rc == TLS_FAILED) {
		server_fail(srv, "TLS handshake with the backend failed");
		return;
	}
	if (rc == TLS_DONE) {
		if (!enter_login(srv)) {
			server_fail(srv, "error writing to backend");
			return;
		}
	} else
		srv->tls_want_write = rc == TLS_WANT_WRITE;
	server_update_interest(srv);
}

/* The backend's one-byte answer to SSLRequest. */
static void ssl_answer(server *srv)
{
	uint8_t answer;
	ssize_t n = recv(srv->ev.fd, &answer, 1, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n != 1 || (answer != 'S' && answer != 'N')) {
		server_fail(srv, "backend did not answer the SSLRequest");
		return;
	}
	if (answer == 'N') {
		if (requires_tls()) {
			server_fail(srv, "backend does not support TLS and backend_sslmode requires it");
			return;
		}
		if (!enter_login(srv))
			server_fail(srv, "error writing to backend");
		else
			server_update_interest(srv);
		return;
	}
	srv->ev.ssl = tls_connect_new(srv->ev.fd, g.cfg->backends[srv->node_id].hostname);
	if (!srv->ev.ssl) {
		server_fail(srv, "could not start TLS with the backend");
		return;
	}
	set_state(srv, SRV_TLS);
	drive_tls(srv);
}

static void send_password_msg(server *srv, const void *data, size_t len)
{
	size_t off = buf_msg_begin(&srv->out, 'p');
	buf_put(&srv->out, data, len);
	buf_msg_end(&srv->out, off);
}

static bool auth_md5(server *srv, msg_reader *r)
{
	const uint8_t *salt = mr_bytes(r, 4);
	if (!salt)
		return false;
	char stored[MD5_PASSWD_LEN + 1], reply[MD5_PASSWD_LEN + 1];
	bool ok;
	if (strncmp(srv->password, "md5", 3) == 0 && strlen(srv->password) == MD5_PASSWD_LEN) {
		snprintf(stored, sizeof(stored), "%s", srv->password);
		ok = true;
	} else
		ok = md5_password_hash(srv->password, srv->user, stored);
	ok = ok && md5_salted_response(stored, salt, reply);
	OPENSSL_cleanse(stored, sizeof(stored));
	if (!ok) {
		srv->fail_reason = "could not compute the md5 password response";
		return false;
	}
	send_password_msg(srv, reply, strlen(reply) + 1);
	return true;
}

static bool auth_sasl_start(server *srv, msg_reader *r)
{
	bool offered = false;
	for (;;) {
		const char *mech = mr_str(r);
		if (!mech)
			return false;
		if (!mech[0])
			break;
		if (strcmp(mech, "SCRAM-SHA-256") == 0)
			offered = true;
	}
	if (!offered) {
		srv->fail_reason = "backend offered no SASL mechanism pgpoold supports";
		return false;
	}
	if (strncmp(srv->password, "md5", 3) == 0 && strlen(srv->password) == MD5_PASSWD_LEN) {
		srv->fail_reason = "pool_passwd holds an md5 hash for this user; SCRAM authentication to the backend needs the password itself (TEXT or AES entry)";
		return false;
	}
	srv->scram = scram_client_new(srv->password);
	char *first = srv->scram ? scram_client_first(srv->scram) : NULL;
	if (!first)
		return false;
	size_t off = buf_msg_begin(&srv->out, 'p');
	buf_put_str(&srv->out, "SCRAM-SHA-256");
	buf_put_i32(&srv->out, (int32_t) strlen(first));
	buf_put(&srv->out, first, strlen(first));
	buf_msg_end(&srv->out, off);
	free(first);
	return true;
}

static bool auth_sasl_continue(server *srv, msg_reader *r)
{
	const char *err = "SCRAM exchange out of order";
	size_t len = mr_remaining(r);
	const char *data = (const char *) mr_bytes(r, len);
	char *final = srv->scram && data ? scram_client_final(srv->scram, data, len, &err) : NULL;
	if (!final) {
		srv->fail_reason = err;
		return false;
	}
	send_password_msg(srv, final, strlen(final));
	free(final);
	return true;
}

static bool auth_sasl_final(server *srv, msg_reader *r)
{
	const char *err = "SCRAM exchange out of order";
	size_t len = mr_remaining(r);
	const char *data = (const char *) mr_bytes(r, len);
	if (!srv->scram || !data || !scram_client_verify_final(srv->scram, data, len, &err)) {
		srv->fail_reason = err;
		return false;
	}
	return true;
}

/* An AuthenticationXXX request from the backend during login. */
static bool handle_auth_request(server *srv, const uint8_t *body, size_t len)
{
	msg_reader r;
	mr_init(&r, body, len);
	int32_t code = mr_i32(&r);
	if (r.err)
		return false;
	if (code == AUTH_REQ_OK || code == AUTH_REQ_SASL_CONT || code == AUTH_REQ_SASL_FIN) {
		if (code == AUTH_REQ_SASL_CONT)
			return auth_sasl_continue(srv, &r);
		if (code == AUTH_REQ_SASL_FIN)
			return auth_sasl_final(srv, &r);
		return true;
	}
	if (srv->auth_code == 0)
		srv->auth_code = code;
	if (code != AUTH_REQ_PASSWORD && code != AUTH_REQ_MD5 && code != AUTH_REQ_SASL) {
		srv->fail_reason = "backend asked for an authentication method pgpoold does not support";
		return false;
	}
	if (!srv->password) {
		srv->fail_reason = "backend requires a password and pool_passwd has none for this user";
		return false;
	}
	if (code == AUTH_REQ_PASSWORD) {
		send_password_msg(srv, srv->password, strlen(srv->password) + 1);
		return true;
	}
	if (code == AUTH_REQ_MD5)
		return auth_md5(srv, &r);
	return auth_sasl_start(srv, &r);
}

static void wipe_login_secrets(server *srv)
{
	if (srv->password) {
		OPENSSL_cleanse(srv->password, strlen(srv->password));
		free(srv->password);
		srv->password = NULL;
	}
	if (srv->scram) {
		scram_client_free(srv->scram);
		srv->scram = NULL;
	}
}

/* One complete message during login; false ends the login as failed. */
static bool login_message(server *srv, char type, const uint8_t *body, size_t len, bool *ready)
{
	switch (type) {
	case 'R':
		if (!handle_auth_request(srv, body, len)) {
			if (!srv->fail_reason)
				srv->fail_reason = "backend authentication failed";
			return false;
		}
		return true;
	case 'S':
		return server_note_param(srv, body, len);
	case 'K':
		if (len != 8)
			return false;
		srv->be_pid = be32(body);
		srv->be_key = be32(body + 4);
		return true;
	case 'E':
		/* keep the backend's own error for the client: PostgreSQL's text */
		free(srv->login_error);
		srv->login_error = malloc(len + 5);
		if (srv->login_error) {
			srv->login_error[0] = 'E';
			put_be32(srv->login_error + 1, (uint32_t) len + 4);
			memcpy(srv->login_error + 5, body, len);
			srv->login_error_len = len + 5;
		}
		srv->fail_reason = "backend refused the connection";
		return false;
	case 'N':
	case 'v':
		return true;
	case 'Z':
		if (len != 1)
			return false;
		srv->tx_status = (char) body[0];
		*ready = true;
		return true;
	default:
		srv->fail_reason = "unexpected message from backend during login";
		return false;
	}
}

/* One complete message while running internal queries. */
static bool internal_message(server *srv, char type, const uint8_t *body, size_t len, bool *ready)
{
	switch (type) {
	case 'E':
		srv->internal_failed = true;
		return true;
	case 'S':
		return server_note_param(srv, body, len);
	case 'Z':
		if (len != 1)
			return false;
		srv->tx_status = (char) body[0];
		if (--srv->internal_left <= 0)
			*ready = true;
		return true;
	default:
		return true;   /* CommandComplete, NoticeResponse, rows... */
	}
}

static void finish_phase(server *srv, bool ok)
{
	server_done_fn done = srv->done;
	srv->done = NULL;
	if (srv->state == SRV_LOGIN)
		wipe_login_secrets(srv);
	if (done)
		done(srv, ok);
}

static void read_phase_messages(server *srv)
{
	int rc = iobuf_recv(&srv->in, &srv->ev);
	if (rc == IO_EOF || rc == IO_ERR) {
		server_fail(srv, rc == IO_EOF ? "backend closed the connection" : "error reading from backend");
		return;
	}
	for (;;) {
		char type;
		const uint8_t *body;
		size_t len;
		int got = iobuf_take_msg(&srv->in, LOGIN_MSG_LIMIT, &type, &body, &len);
		if (got == 0)
			break;
		if (got < 0) {
			server_fail(srv, "invalid message length from backend");
			return;
		}
		bool ready = false;
		bool ok = srv->state == SRV_LOGIN ? login_message(srv, type, body, len, &ready)
		                                  : internal_message(srv, type, body, len, &ready);
		if (!ok) {
			server_fail(srv, srv->fail_reason ? srv->fail_reason : "protocol violation from backend");
			return;
		}
		if (srv->out.len > srv->out_sent && !server_flush(srv)) {
			server_fail(srv, "error writing to backend");
			return;
		}
		if (ready) {
			finish_phase(srv, !srv->internal_failed);
			return;
		}
	}
	server_update_interest(srv);
}

static void server_fail(server *srv, const char *reason)
{
	if (!srv->fail_reason)
		srv->fail_reason = reason;
	log_debug("backend connection to node %d failed: %s", srv->node_id, srv->fail_reason);
	finish_phase(srv, false);
}

bool server_abandon_phase(server *srv, const char *reason)
{
	if (!srv->done)
		return false;
	server_fail(srv, reason);
	return true;
}

void server_own_event(ev_handler *h, uint32_t events)
{
	server *srv = (server *) h;
	if (h->fd < 0)
		return;
	if (srv->state == SRV_CONNECTING) {
		int err = 0;
		socklen_t elen = sizeof(err);
		if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0) {
			srv->fail_reason = "could not connect to backend";
			log_warning("could not connect to backend node %d (%s): %s", srv->node_id,
				g.nodes[srv->node_id].label, strerror(err ? err : errno));
			server_fail(srv, srv->fail_reason);
			return;
		}
		if (!connected(srv)) {
			server_fail(srv, "error writing to backend");
			return;
		}
		server_update_interest(srv);
		return;
	}
	if (srv->state == SRV_SSLREQ) {
		if (!server_flush(srv))
			server_fail(srv, "error writing to backend");
		else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			ssl_answer(srv);
		else
			server_update_interest(srv);
		return;
	}
	if (srv->state == SRV_TLS) {
		drive_tls(srv);
		return;
	}
	if (srv->state != SRV_LOGIN && srv->state != SRV_INTERNAL)
		return;
	if (!server_flush(srv)) {
		server_fail(srv, "error writing to backend");
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		read_phase_messages(srv);
		return;
	}
	server_update_interest(srv);
}

server *server_connect(worker *w, int node_id, struct pool_entry *pool,
	const startup_packet *sp, const char *password, server_done_fn done)
{
	const node_addr *nd = &g.nodes[node_id];
	server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return NULL;
	buf_init(&srv->out);
	buf_init(&srv->startup);
	srv->ev.fn = server_own_event;
	srv->ev.w = w;
	srv->node_id = node_id;
	srv->pool = pool;
	srv->done = done;
	srv->tx_status = 'I';
	srv->created_ms = now_ms();
	srv->created_at = time(NULL);
	srv->user = strdup(sp->user);
	srv->password = password ? strdup(password) : NULL;
	build_startup(srv, sp);
	if (!srv->user || (password && !srv->password) || srv->startup.oom)
		goto fail;
	srv->ev.fd = socket(nd->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->ev.fd < 0) {
		log_error("could not create socket for backend node %d: %s", node_id, strerror(errno));
		goto fail;
	}
	if (nd->addr.ss_family != AF_UNIX) {
		int one = 1;
		setsockopt(srv->ev.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	set_state(srv, SRV_CONNECTING);
	if (connect(srv->ev.fd, (const struct sockaddr *) &nd->addr, nd->addrlen) == 0) {
		if (!connected(srv))
			goto fail;
	} else if (errno != EINPROGRESS && errno != EAGAIN) {
		log_warning("could not connect to backend node %d (%s): %s", node_id, nd->label, strerror(errno));
		goto fail;
	}
	server_update_interest(srv);
	if (srv->ev.mask == 0)
		goto fail;
	return srv;
fail:
	if (srv->ev.fd > 0)
		close(srv->ev.fd);
	srv->ev.fd = -1;
	wipe_login_secrets(srv);
	buf_free(&srv->out);
	buf_free(&srv->startup);
	free(srv->user);
	free(srv);
	return NULL;
}

int server_attach(server *srv, worker *w)
{
	srv->ev.w = w;
	srv->ev.mask = 0;
	return ev_set(&srv->ev, EPOLLIN);
}

void server_run_internal(server *srv, const char *const *queries, int n, server_done_fn done)
{
	set_state(srv, SRV_INTERNAL);
	srv->done = done;
	srv->internal_failed = false;
	srv->internal_left = n;
	for (int i = 0; i < n; i++)
		proto_query(&srv->out, queries[i]);
	if (srv->out.oom || !server_flush(srv)) {
		server_fail(srv, "error sending to backend");
		return;
	}
	srv->ev.fn = server_own_event;
	server_update_interest(srv);
	/* replies may already be buffered */
	if (srv->in.tail > srv->in.head)
		server_own_event(&srv->ev, EPOLLIN);
}

/* ---------------------------------------------------------------- close */

void server_close(server *srv)
{
	if (srv->state == SRV_CLOSED)
		return;
	bool logged_in = srv->state == SRV_ACTIVE || srv->state == SRV_INTERNAL || srv->state == SRV_IDLE;
	if (srv->ev.fd >= 0) {
		if (logged_in) {
			/* best effort: a backend that gets no Terminate logs an EOF */
			static const uint8_t terminate[5] = { 'X', 0, 0, 0, 4 };
			sock_write(&srv->ev, terminate, sizeof(terminate));
		}
		if (srv->ev.ssl) {
			tls_free(srv->ev.ssl);
			srv->ev.ssl = NULL;
		}
		if (srv->ev.mask)
			ev_set(&srv->ev, 0);
		close(srv->ev.fd);
		srv->ev.fd = -1;
	}
	set_state(srv, SRV_CLOSED);
	pool_count_close(srv->pool);
	worker *w = srv->ev.w;
	if (w) {
		srv->next = w->dead_servers;
		w->dead_servers = srv;
	} else
		server_free(srv);
}

bool server_has_prepared(const server *srv, uint64_t hash)
{
	for (int i = 0; i < srv->num_prepared; i++)
		if (srv->prepared[i] == hash)
			return true;
	return false;
}

bool server_add_prepared(server *srv, uint64_t hash)
{
	if (server_has_prepared(srv, hash))
		return true;
	if (srv->num_prepared == srv->cap_prepared) {
		int cap = srv->cap_prepared ? srv->cap_prepared * 2 : 16;
		uint64_t *p = realloc(srv->prepared, sizeof(*p) * (size_t) cap);
		if (!p)
			return false;
		srv->prepared = p;
		srv->cap_prepared = cap;
	}
	srv->prepared[srv->num_prepared++] = hash;
	return true;
}

void server_forget_prepared(server *srv)
{
	srv->num_prepared = 0;
}

void server_free(server *srv)
{
	free(srv->prepared);
	wipe_login_secrets(srv);
	iobuf_free(&srv->in);
	buf_free(&srv->out);
	buf_free(&srv->startup);
	for (int i = 0; i < srv->num_params; i++) {
		free(srv->params[i].name);
		free(srv->params[i].value);
	}
	free(srv->params);
	free(srv->login_error);
	free(srv->user);
	free(srv);
}
