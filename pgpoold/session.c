/* Client sessions: see session.h. */
#include "session.h"
#include "worker.h"
#include "server.h"
#include "pool.h"
#include "cancel.h"
#include "client_auth.h"
#include "authfiles.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define CLOSING_GRACE_MS 5000
#define RESET_TIMEOUT_MS 10000
#define AUTH_MSG_LIMIT 65536

static void client_event(ev_handler *h, uint32_t events);
static void server_event(ev_handler *h, uint32_t events);
static void acquire_server(session *s);
static void finalize(session *s);

/* ---------------------------------------------------------------- output */

static void update_interest(session *s)
{
	if (s->ev.fd < 0)
		return;
	uint32_t cmask = 0, smask = 0;
	server *srv = s->srv;
	bool to_client = s->cout_sent < s->cout.len || (srv && srv->in.head < srv->in.scan);
	if (to_client)
		cmask |= EPOLLOUT;
	switch (s->state) {
	case SESS_STARTUP:
	case SESS_AUTH:
		cmask |= EPOLLIN;
		break;
	case SESS_ACTIVE:
		/* read from one side only while the other side can take it */
		if (s->cin.head == s->cin.scan)
			cmask |= EPOLLIN;
		if (!to_client)
			smask |= EPOLLIN;
		if (s->cin.head < s->cin.scan)
			smask |= EPOLLOUT;
		break;
	default:
		break;
	}
	ev_set(&s->ev, cmask);
	if (srv && srv->state == SRV_ACTIVE)
		ev_set(&srv->ev, smask);
}

/* Send queued messages of our own; false if the client socket failed. */
static bool flush_cout(session *s)
{
	while (s->cout_sent < s->cout.len) {
		ssize_t n = send(s->ev.fd, s->cout.data + s->cout_sent, s->cout.len - s->cout_sent, MSG_NOSIGNAL);
		if (n > 0) {
			s->cout_sent += (size_t) n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		return false;
	}
	buf_reset(&s->cout);
	s->cout_sent = 0;
	return true;
}

bool session_send(session *s)
{
	if (s->cout.oom) {
		session_close(s, NULL, NULL);
		return false;
	}
	if (!flush_cout(s)) {
		s->client_gone = true;
		session_close(s, NULL, NULL);
		return false;
	}
	update_interest(s);
	return true;
}

/* ---------------------------------------------------------------- lifecycle */

static void format_addr(session *s)
{
	if (s->is_unix) {
		snprintf(s->addr_str, sizeof(s->addr_str), "[local]");
		snprintf(s->host_str, sizeof(s->host_str), "[local]");
		return;
	}
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (s->addr.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *) &s->addr;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
	} else if (s->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *) &s->addr;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
	}
	snprintf(s->addr_str, sizeof(s->addr_str), "%s:%d", host, port);
	snprintf(s->host_str, sizeof(s->host_str), "%s", host);
}

void session_accept(worker *w, int fd, const struct sockaddr *addr, socklen_t addrlen, bool is_unix)
{
	session *s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return;
	}
	s->ev.fn = client_event;
	s->ev.fd = fd;
	s->ev.w = w;
	s->is_unix = is_unix;
	s->cancel_slot = -1;
	if (addrlen > sizeof(s->addr))
		addrlen = sizeof(s->addr);
	memcpy(&s->addr, addr, addrlen);
	s->addrlen = addrlen;
	format_addr(s);
	buf_init(&s->cout);
	s->connected_ms = s->last_client_ms = now_ms();
	s->state = SESS_STARTUP;
	if (!is_unix) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	s->next = w->sessions;
	if (w->sessions)
		w->sessions->prev = s;
	w->sessions = s;
	w->num_sessions++;
	atomic_fetch_add(&g.clients, 1);
	if (g.cfg->log_connections)
		log_log("connection received: host=%s", s->addr_str);
	if (ev_set(&s->ev, EPOLLIN) < 0)
		session_close(s, NULL, NULL);
}

static void unlink_session(session *s)
{
	worker *w = s->ev.w;
	if (s->prev)
		s->prev->next = s->next;
	else
		w->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = NULL;
	s->next = w->dead_sessions;
	w->dead_sessions = s;
	w->num_sessions--;
}

/* Hand the backend connection back: reset it and cache it if it sits at a
 * message boundary with nothing owed, else close it. */
static void release_server(session *s)
{
	server *srv = s->srv;
	if (!srv)
		return;
	s->srv = NULL;
	srv->client = NULL;
	bool clean = srv->state == SRV_ACTIVE && s->cin.head == s->cin.tail && server_is_idle_point(srv) &&
		g.cfg->connection_cache && atomic_load(&g.shutdown) != SHUTDOWN_FAST;
	if (!clean) {
		server_close(srv);
		return;
	}
	worker *w = s->ev.w;
	srv->next = w->orphans;
	srv->prev = NULL;
	if (w->orphans)
		w->orphans->prev = srv;
	w->orphans = srv;
	const char *queries[32];
	int n = 0;
	for (int i = 0; i < g.num_reset_queries && n < 32; i++) {
		/* ABORT only inside a transaction, as Pgpool-II */
		if (srv->tx_status == 'I' && strcasecmp(g.reset_queries[i], "ABORT") == 0)
			continue;
		queries[n++] = g.reset_queries[i];
	}
	iobuf_clear(&srv->in);
	if (n == 0)
		session_server_reset_done(srv, true);
	else
		server_run_internal(srv, queries, n, session_server_reset_done);
}

static void unlink_orphan(server *srv)
{
	worker *w = srv->ev.w;
	if (srv->prev)
		srv->prev->next = srv->next;
	else if (w->orphans == srv)
		w->orphans = srv->next;
	if (srv->next)
		srv->next->prev = srv->prev;
	srv->next = srv->prev = NULL;
}

void session_server_reset_done(server *srv, bool ok)
{
	worker *w = srv->ev.w;
	unlink_orphan(srv);
	if (!ok || srv->tx_status != 'I') {
		log_debug("closing backend connection to node %d: reset failed", srv->node_id);
		server_close(srv);
		return;
	}
	/* to the cache after this event batch: later events in the batch may
	 * still name it, and another worker could take it at once */
	if (srv->ev.mask)
		ev_set(&srv->ev, 0);
	srv->next = w->to_pool;
	w->to_pool = srv;
}

static void finalize(session *s)
{
	if (s->state == SESS_CLOSED)
		return;
	s->state = SESS_CLOSED;
	release_server(s);
	cancel_unregister(s->cancel_slot);
	s->cancel_slot = -1;
	if (s->ev.fd >= 0) {
		ev_set(&s->ev, 0);
		close(s->ev.fd);
		s->ev.fd = -1;
	}
	if (g.cfg->log_disconnections)
		log_log("disconnection: session time: %.3f s user=%s database=%s host=%s",
			(double) (now_ms() - s->connected_ms) / 1000.0,
			s->sp.user ? s->sp.user : "", s->sp.database ? s->sp.database : "", s->addr_str);
	atomic_fetch_sub(&g.clients, 1);
	unlink_session(s);
}

void session_close(session *s, const char *sqlstate, const char *message)
{
	if (s->state == SESS_CLOSED)
		return;
	if (sqlstate && !s->client_gone) {
		proto_error(&s->cout, "FATAL", sqlstate, message, NULL);
	}
	if (s->client_gone || s->cout_sent >= s->cout.len || s->cout.oom) {
		finalize(s);
		return;
	}
	/* let the last message out first; the client socket is read no more */
	if (s->state == SESS_CLOSING)
		return;
	s->state = SESS_CLOSING;
	release_server(s);
	if (!flush_cout(s) || s->cout_sent >= s->cout.len) {
		finalize(s);
		return;
	}
	s->last_client_ms = now_ms();
	ev_set(&s->ev, EPOLLOUT);
}

void session_free(session *s)
{
	iobuf_free(&s->cin);
	buf_free(&s->cout);
	client_auth_free(s->auth);
	authfiles_put(s->af);
	if (s->backend_password) {
		OPENSSL_cleanse(s->backend_password, strlen(s->backend_password));
		free(s->backend_password);
	}
	free(s->startup_raw);
	free(s);
}

/* ---------------------------------------------------------------- going active */

static void go_active(session *s)
{
	server *srv = s->srv;
	proto_auth_request(&s->cout, AUTH_REQ_OK, NULL, 0);
	for (int i = 0; i < srv->num_params; i++)
		proto_parameter_status(&s->cout, srv->params[i].name, srv->params[i].value);
	if (!random_bytes(&s->key_secret, sizeof(s->key_secret))) {
		session_close(s, "53000", "could not generate cancel key");
		return;
	}
	s->key_pid = srv->be_pid;
	cancel_target t = { srv->node_id, srv->be_pid, srv->be_key };
	s->cancel_slot = cancel_register(s->key_pid, s->key_secret, &t);
	proto_backend_key(&s->cout, s->key_pid, s->key_secret);
	proto_ready(&s->cout, srv->tx_status);
	srv->pending_syncs = 0;
	srv->unsynced = false;
	s->state = SESS_ACTIVE;
	srv->state = SRV_ACTIVE;
	srv->ev.fn = server_event;
	s->last_client_ms = now_ms();
	if (g.cfg->log_connections)
		log_log("connection authorized: user=%s database=%s host=%s node=%d backend_pid=%u",
			s->sp.user, s->sp.database, s->addr_str, srv->node_id, srv->be_pid);
	session_send(s);
}

static hba_method method_of_backend(int auth_code)
{
	switch (auth_code) {
	case 0: return HBA_TRUST;
	case AUTH_REQ_PASSWORD: return HBA_PASSWORD;
	case AUTH_REQ_MD5: return HBA_MD5;
	default: return HBA_SCRAM;
	}
}

static void server_ready(server *srv, bool ok)
{
	session *s = srv->client;
	if (!ok) {
		s->srv = NULL;
		server_close(srv);
		session_close(s, "08006", "could not prepare the backend connection");
		return;
	}
	srv->state = SRV_ACTIVE;
	srv->ev.fn = server_event;
	if (s->auth_after_server && !s->auth_done) {
		/* enable_pool_hba is off: ask the client what the backend asked us */
		auth_result r = client_auth_start(s, method_of_backend(srv->auth_code), 0);
		ev_set(&srv->ev, 0);
		if (r == AUTH_DONE)
			session_auth_ok(s);
		else if (r == AUTH_FAILED)
			session_close(s, NULL, NULL);
		else {
			s->state = SESS_AUTH;
			update_interest(s);
		}
		return;
	}
	go_active(s);
}

/* A connection is ours (new or cached): align application_name, then go. */
static void prepare_server(session *s, server *srv)
{
	const char *want = s->sp.application_name ? s->sp.application_name : "";
	const char *have = server_param(srv, "application_name");
	if (have && strcmp(have, want) == 0) {
		server_ready(srv, true);
		return;
	}
	buf q;
	buf_init(&q);
	buf_put(&q, "SET application_name = '", 24);
	for (const char *p = want; *p; p++) {
		if (*p == '\'')
			buf_put_u8(&q, '\'');
		buf_put_u8(&q, (uint8_t) *p);
	}
	buf_put_str(&q, "'");
	if (q.oom) {
		buf_free(&q);
		server_ready(srv, false);
		return;
	}
	const char *queries[1] = { (const char *) q.data };
	server_run_internal(srv, queries, 1, server_ready);
	buf_free(&q);
}

static void login_done(server *srv, bool ok)
{
	session *s = srv->client;
	if (ok) {
		prepare_server(s, srv);
		return;
	}
	s->srv = NULL;
	if (srv->login_error) {
		/* the backend's own FATAL (unknown database, bad password...) */
		buf_put(&s->cout, srv->login_error, srv->login_error_len);
		log_log("backend node %d refused user=%s database=%s for %s", srv->node_id,
			s->sp.user, s->sp.database, s->addr_str);
		server_close(srv);
		session_close(s, NULL, NULL);
		return;
	}
	char msg[512];
	snprintf(msg, sizeof(msg), "could not connect to backend node %d: %s", srv->node_id,
		srv->fail_reason ? srv->fail_reason : "unknown error");
	log_warning("%s (client %s)", msg, s->addr_str);
	server_close(srv);
	session_close(s, "08006", msg);
}

static void acquire_server(session *s)
{
	worker *w = s->ev.w;
	s->state = SESS_WAIT_SERVER;
	server *srv = s->need_fresh_server ? NULL : pool_take(s->pool);
	if (srv) {
		if (server_attach(srv, w) < 0) {
			server_close(srv);
			session_close(s, "08006", "could not use a cached backend connection");
			return;
		}
		srv->client = s;
		s->srv = srv;
		srv->state = SRV_ACTIVE;
		prepare_server(s, srv);
		return;
	}
	srv = server_connect(w, s->pool->node_id, s->pool, &s->sp, s->backend_password, login_done);
	if (!srv) {
		char msg[400];
		snprintf(msg, sizeof(msg), "could not connect to backend node %d (%s)", s->pool->node_id,
			g.nodes[s->pool->node_id].label);
		session_close(s, "08006", msg);
		return;
	}
	srv->client = s;
	s->srv = srv;
	update_interest(s);
}

void session_auth_ok(session *s)
{
	s->auth_done = true;
	client_auth_free(s->auth);
	s->auth = NULL;
	if (s->srv) {
		go_active(s);
		return;
	}
	acquire_server(s);
}

/* ---------------------------------------------------------------- startup */

/* Password to log in to backends with, from pool_passwd: plain text if we
 * have it, else the md5 hash (good for md5 backends). */
static void pick_backend_password(session *s)
{
	const passwd_entry *e = s->af && s->af->passwd ? pool_passwd_find(s->af->passwd, s->sp.user) : NULL;
	if (!e)
		return;
	s->backend_password = passwd_entry_plain(e, NULL);
	if (!s->backend_password && e->kind == PASSWD_MD5)
		s->backend_password = strdup(e->secret);
}

static void begin_auth(session *s)
{
	s->af = authfiles_get();
	pick_backend_password(s);
	s->pool = pool_entry_for(0, &s->sp);
	if (!s->af || !s->pool) {
		session_close(s, "53200", "out of memory");
		return;
	}
	if (!s->af->hba) {
		s->auth_after_server = true;
		acquire_server(s);
		return;
	}
	hba_client c = {
		.is_local = s->is_unix, .is_ssl = false,
		.addr = s->is_unix ? NULL : (const struct sockaddr *) &s->addr,
		.addrlen = s->addrlen, .user = s->sp.user, .database = s->sp.database,
	};
	hba_match m = hba_check(s->af->hba, &c);
	if (!m.matched) {
		char msg[512];
		snprintf(msg, sizeof(msg), "no pool_hba.conf entry for host \"%s\", user \"%s\", database \"%s\"",
			s->host_str, s->sp.user, s->sp.database);
		log_log("%s", msg);
		session_close(s, "28000", msg);
		return;
	}
	auth_result r = client_auth_start(s, m.method, m.lineno);
	if (r == AUTH_DONE)
		session_auth_ok(s);
	else if (r == AUTH_FAILED)
		session_close(s, NULL, NULL);
	else {
		s->state = SESS_AUTH;
		update_interest(s);
	}
}

/* Protocol 3.x with x > 0, or _pq_ options: say what we speak (3.0, none). */
static void negotiate_protocol(session *s)
{
	const char *unknown[STARTUP_MAX_PARAMS];
	int n = 0;
	for (int i = 0; i < s->sp.nparams; i++)
		if (strncmp(s->sp.params[i].name, "_pq_.", 5) == 0)
			unknown[n++] = s->sp.params[i].name;
	if ((s->sp.code & 0xffff) != 0 || n > 0)
		proto_negotiate_version(&s->cout, 0, unknown, n);
}

static void startup_message(session *s, const uint8_t *pkt, size_t len)
{
	char err[256];
	s->startup_raw = malloc(len);
	if (!s->startup_raw) {
		session_close(s, "53200", "out of memory");
		return;
	}
	memcpy(s->startup_raw, pkt, len);
	if (!startup_parse(s->startup_raw, len, &s->sp, err, sizeof(err))) {
		/* an unsupported protocol version is "feature not supported", as PostgreSQL */
		session_close(s, (s->sp.code >> 16) != 3 ? "0A000" : "08P01", err);
		return;
	}
	if (atomic_load(&g.shutdown) != SHUTDOWN_NONE) {
		session_close(s, "57P03", "the database system is shutting down");
		return;
	}
	if (atomic_load(&g.clients) > g.cfg->max_clients) {
		log_warning("max_clients (%d) reached; refusing %s", g.cfg->max_clients, s->addr_str);
		session_close(s, "53300", "sorry, too many clients already");
		return;
	}
	if (s->sp.replication) {
		session_close(s, "0A000", "replication connections are not supported through pgpoold");
		return;
	}
	negotiate_protocol(s);
	begin_auth(s);
}

static void cancel_request(session *s, const startup_packet *sp)
{
	cancel_target t;
	if (cancel_lookup(sp->cancel_pid, sp->cancel_key, &t))
		cancel_forward(s->ev.w, &t);
	else
		log_log("cancel request from %s did not match any session", s->addr_str);
	s->client_gone = true;   /* nothing is sent back, as PostgreSQL */
	session_close(s, NULL, NULL);
}

/* Startup-phase packets: SSLRequest/GSSENCRequest (answered 'N'),
 * CancelRequest, StartupMessage. */
static void process_startup(session *s)
{
	iobuf *b = &s->cin;
	while (s->state == SESS_STARTUP) {
		size_t avail = b->tail - b->head;
		if (avail < 4)
			return;
		uint32_t len = be32(b->data + b->head);
		if (len < 8 || len > STARTUP_MAX_LEN) {
			log_log("invalid length of startup packet (%u) from %s", len, s->addr_str);
			session_close(s, "08P01", "invalid length of startup packet");
			return;
		}
		if (avail < len) {
			if (!iobuf_make_room(b, len - avail))
				session_close(s, "53200", "out of memory");
			return;
		}
		const uint8_t *pkt = b->data + b->head;
		uint32_t code = be32(pkt + 4);
		b->head += len;
		b->scan = b->head;
		if (code == PROTO_SSL_CODE || code == PROTO_GSSENC_CODE) {
			if (len != 8) {
				session_close(s, "08P01", "invalid length of startup packet");
				return;
			}
			buf_put_u8(&s->cout, 'N');
			if (!session_send(s))
				return;
			continue;
		}
		if (code == PROTO_CANCEL_CODE) {
			startup_packet sp;
			char err[128];
			if (!startup_parse(pkt, len, &sp, err, sizeof(err))) {
				session_close(s, "08P01", err);
				return;
			}
			cancel_request(s, &sp);
			return;
		}
		startup_message(s, pkt, len);
	}
}

/* ---------------------------------------------------------------- authentication */

static void process_auth(session *s)
{
	while (s->state == SESS_AUTH) {
		char type;
		const uint8_t *body;
		size_t len;
		int got = iobuf_take_msg(&s->cin, AUTH_MSG_LIMIT, &type, &body, &len);
		if (got == 0)
			return;
		if (got < 0) {
			session_close(s, "08P01", "invalid message length during authentication");
			return;
		}
		auth_result r = client_auth_message(s, type, body, len);
		if (r == AUTH_FAILED) {
			session_close(s, NULL, NULL);
			return;
		}
		if (r == AUTH_DONE)
			session_auth_ok(s);
	}
}

/* ---------------------------------------------------------------- relay */

/* CREATE/DROP/ALTER DATABASE fail while any other session is connected to the
 * database concerned: idle cached connections must not be that session. */
static bool is_database_ddl(const uint8_t *sql, size_t len)
{
	size_t i = 0;
	while (i < len && (sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r'))
		i++;
	static const char *const verbs[] = { "create", "drop", "alter" };
	for (size_t v = 0; v < 3; v++) {
		size_t vl = strlen(verbs[v]);
		if (len - i > vl && strncasecmp((const char *) sql + i, verbs[v], vl) == 0) {
			size_t j = i + vl;
			if (sql[j] != ' ' && sql[j] != '\t' && sql[j] != '\n' && sql[j] != '\r')
				return false;
			while (j < len && (sql[j] == ' ' || sql[j] == '\t' || sql[j] == '\n' || sql[j] == '\r'))
				j++;
			return len - j >= 8 && strncasecmp((const char *) sql + j, "database", 8) == 0;
		}
	}
	return false;
}

#define DDL_PEEK 96

/* Check client bytes [scan, tail) message by message.  Returns false when
 * the session must end (Terminate or a bad message; error queued). */
static bool scan_client(session *s)
{
	iobuf *b = &s->cin;
	server *srv = s->srv;
	while (b->scan < b->tail) {
		size_t avail = b->tail - b->scan;
		if (b->pass) {
			size_t n = avail < b->pass ? avail : b->pass;
			b->scan += n;
			b->pass -= n;
			continue;
		}
		if (avail < MSG_HEADER_LEN)
			return iobuf_make_room(b, MSG_HEADER_LEN) || (session_close(s, "53200", "out of memory"), false);
		const uint8_t *p = b->data + b->scan;
		char type = (char) p[0];
		uint32_t len = be32(p + 1);
		if (len < 4 || len - 4 > (uint32_t) g.cfg->max_message_size) {
			log_warning("invalid message length %u (type %d) from %s", len, (int) (uint8_t) type, s->addr_str);
			b->tail = b->scan;   /* nothing of it reaches the backend */
			session_close(s, "08P01", "invalid message length");
			return false;
		}
		if (type == 'X') {
			b->tail = b->scan;
			s->client_gone = true;
			return false;
		}
		size_t whole = (size_t) len + 1;
		if (type == 'Q') {
			size_t peek = len - 4 < DDL_PEEK ? len - 4 : DDL_PEEK;
			if (avail < MSG_HEADER_LEN + peek)
				return iobuf_make_room(b, MSG_HEADER_LEN + peek - avail) ||
					(session_close(s, "53200", "out of memory"), false);
			if (is_database_ddl(p + MSG_HEADER_LEN, peek))
				pool_drop_idle(NULL);
		}
		server_note_client_msg(srv, type);
		if (avail >= whole)
			b->scan += whole;
		else {
			b->scan = b->tail;
			b->pass = whole - avail;
		}
	}
	return true;
}

static void backend_lost(session *s, const char *why)
{
	server *srv = s->srv;
	log_warning("backend node %d connection lost for %s (user=%s database=%s): %s",
		srv->node_id, s->addr_str, s->sp.user, s->sp.database, why);
	/* what the backend managed to say still goes out, then our error unless
	 * its own FATAL already did */
	bool had_fatal = srv->last_msg == 'E';
	if (srv->in.head < srv->in.scan)
		buf_put(&s->cout, srv->in.data + srv->in.head, srv->in.scan - srv->in.head);
	bool boundary = srv->in.pass == 0;
	s->srv = NULL;
	server_close(srv);
	if (had_fatal || !boundary)
		session_close(s, NULL, NULL);
	else
		session_close(s, "08006", "server closed the connection unexpectedly");
}

/* Move bytes client -> backend. */
static bool pump_to_server(session *s, bool readable)
{
	server *srv = s->srv;
	if (s->cin.head < s->cin.scan) {
		int rc = iobuf_send_scanned(&s->cin, srv->ev.fd);
		if (rc == IO_ERR) {
			backend_lost(s, "write failed");
			return false;
		}
		if (rc == IO_AGAIN)
			return true;
	}
	if (!readable)
		return true;
	int rc = iobuf_recv(&s->cin, s->ev.fd);
	if (rc == IO_AGAIN)
		return true;
	if (rc == IO_EOF || rc == IO_ERR) {
		s->client_gone = true;
		session_close(s, NULL, NULL);
		return false;
	}
	s->last_client_ms = now_ms();
	if (!scan_client(s)) {
		if (s->client_gone && s->state == SESS_ACTIVE) {
			/* Terminate: pass on what came before it, then leave */
			iobuf_send_scanned(&s->cin, srv->ev.fd);
			session_close(s, NULL, NULL);
		}
		return false;
	}
	int src = iobuf_send_scanned(&s->cin, srv->ev.fd);
	if (src == IO_ERR) {
		backend_lost(s, "write failed");
		return false;
	}
	return true;
}

/* Move bytes backend -> client. */
static bool pump_to_client(session *s, bool readable)
{
	server *srv = s->srv;
	if (s->cout_sent < s->cout.len) {
		if (!flush_cout(s)) {
			s->client_gone = true;
			session_close(s, NULL, NULL);
			return false;
		}
		if (s->cout_sent < s->cout.len)
			return true;
	}
	if (srv->in.head < srv->in.scan) {
		int rc = iobuf_send_scanned(&srv->in, s->ev.fd);
		if (rc == IO_ERR) {
			s->client_gone = true;
			session_close(s, NULL, NULL);
			return false;
		}
		if (rc == IO_AGAIN)
			return true;
	}
	if (!readable)
		return true;
	int rc = iobuf_recv(&srv->in, srv->ev.fd);
	if (rc == IO_AGAIN)
		return true;
	if (rc == IO_EOF || rc == IO_ERR) {
		backend_lost(s, rc == IO_EOF ? "backend closed the connection" : "read error");
		return false;
	}
	if (!server_scan_relay(srv)) {
		backend_lost(s, "protocol violation from backend");
		return false;
	}
	rc = iobuf_send_scanned(&srv->in, s->ev.fd);
	if (rc == IO_ERR) {
		s->client_gone = true;
		session_close(s, NULL, NULL);
		return false;
	}
	return true;
}

static void relay(session *s, bool client_readable, bool server_readable)
{
	if (!pump_to_client(s, server_readable) || s->state != SESS_ACTIVE)
		return;
	if (!pump_to_server(s, client_readable) || s->state != SESS_ACTIVE)
		return;
	update_interest(s);
}

static void server_event(ev_handler *h, uint32_t events)
{
	server *srv = (server *) h;
	if (h->fd < 0 || !srv->client)
		return;
	session *s = srv->client;
	if (s->state != SESS_ACTIVE)
		return;
	relay(s, false, (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0);
}

static void client_event(ev_handler *h, uint32_t events)
{
	session *s = (session *) h;
	if (h->fd < 0)
		return;
	bool readable = (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0;
	switch (s->state) {
	case SESS_ACTIVE:
		relay(s, readable, false);
		return;
	case SESS_CLOSING:
		if (!flush_cout(s) || s->cout_sent >= s->cout.len)
			finalize(s);
		return;
	case SESS_STARTUP:
	case SESS_AUTH:
		if (!session_send(s))
			return;
		if (!readable)
			return;
		{
			int rc = iobuf_recv(&s->cin, h->fd);
			if (rc == IO_EOF || rc == IO_ERR) {
				s->client_gone = true;
				session_close(s, NULL, NULL);
				return;
			}
			if (rc == IO_AGAIN)
				return;
		}
		if (s->state == SESS_STARTUP)
			process_startup(s);
		else
			process_auth(s);
		return;
	case SESS_WAIT_SERVER:
		session_send(s);
		return;
	default:
		return;
	}
}

/* ---------------------------------------------------------------- timers */

void session_tick(session *s, uint64_t now)
{
	const pool_config *cfg = g.cfg;
	switch (s->state) {
	case SESS_STARTUP:
	case SESS_AUTH:
		if (cfg->authentication_timeout > 0 &&
		    now - s->connected_ms > (uint64_t) cfg->authentication_timeout * 1000u) {
			log_log("authentication timeout for %s", s->addr_str);
			session_close(s, "08P01", "canceling authentication due to timeout");
		}
		return;
	case SESS_WAIT_SERVER:
		if (s->srv && s->srv->state != SRV_ACTIVE &&
		    now - s->srv->state_since_ms > (uint64_t) cfg->connect_timeout) {
			char msg[400];
			snprintf(msg, sizeof(msg), "timeout connecting to backend node %d (%s)",
				s->srv->node_id, g.nodes[s->srv->node_id].label);
			log_warning("%s for %s", msg, s->addr_str);
			server *srv = s->srv;
			s->srv = NULL;
			server_close(srv);
			session_close(s, "08006", msg);
		}
		return;
	case SESS_ACTIVE:
		if (cfg->client_idle_limit > 0 && s->srv && server_is_idle_point(s->srv) &&
		    now - s->last_client_ms > (uint64_t) cfg->client_idle_limit * 1000u) {
			char detail[128];
			snprintf(detail, sizeof(detail),
				"child connection forced to terminate due to client_idle_limit:%d is reached",
				cfg->client_idle_limit);
			log_log("client %s idle for more than client_idle_limit (%d s): disconnecting",
				s->addr_str, cfg->client_idle_limit);
			proto_error(&s->cout, "FATAL", "57000", "unable to read data", detail);
			session_close(s, NULL, NULL);
		}
		return;
	case SESS_CLOSING:
		if (now - s->last_client_ms > CLOSING_GRACE_MS)
			finalize(s);
		return;
	default:
		return;
	}
}

/* Orphan connections (resetting) that take too long are closed. */
void server_orphan_tick(server *srv, uint64_t now)
{
	if (now - srv->state_since_ms > RESET_TIMEOUT_MS) {
		log_warning("reset of a backend connection to node %d timed out; closing it", srv->node_id);
		unlink_orphan(srv);
		server_close(srv);
	}
}
