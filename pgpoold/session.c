/* Client sessions: see session.h.  This file is the life cycle: accept,
 * startup, authentication, getting backend connections, closing; relay.c
 * is what happens in between. */
#include "session.h"
#include "worker.h"
#include "server.h"
#include "pool.h"
#include "nodes.h"
#include "route.h"
#include "cancel.h"
#include "client_auth.h"
#include "authfiles.h"
#include "log.h"
#include "util.h"
#include "tls.h"
#include "client_limits.h"
#include "failover.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define IDLE_TRIM_MS 1000   /* idle this long: the relay buffers are freed */

#define CLOSING_GRACE_MS 5000
#define RESET_TIMEOUT_MS 10000
#define AUTH_MSG_LIMIT 65536

static void client_event(ev_handler *h, uint32_t events);
static void server_event(ev_handler *h, uint32_t events);
static void finalize(session *s);

/* ---------------------------------------------------------------- output */

static bool has_output_for_client(const session *s)
{
	if (s->cout_sent < s->cout.len)
		return true;
	if (s->relay_node >= 0 && s->conns[s->relay_node]) {
		const server *srv = s->conns[s->relay_node];
		return srv->in.head < srv->in.scan;
	}
	return false;
}

void session_update_interest(session *s)
{
	if (s->ev.fd < 0)
		return;
	uint32_t cmask = has_output_for_client(s) ? EPOLLOUT : 0;
	switch (s->state) {
	case SESS_TLS:
		cmask = s->tls_want_write ? EPOLLOUT : EPOLLIN;
		break;
	case SESS_STARTUP:
	case SESS_AUTH:
		cmask |= EPOLLIN;
		break;
	case SESS_ACTIVE: {
		/* stop reading the client while a backend has a backlog */
		bool backlog = false;
		for (int n = 0; n < s->num_conns; n++) {
			server *srv = s->conns[n];
			if (srv && srv->out.len - srv->out_sent > 256 * 1024)
				backlog = true;
		}
		if (!backlog)
			cmask |= EPOLLIN;
		for (int n = 0; n < s->num_conns; n++) {
			server *srv = s->conns[n];
			if (!srv || srv->state != SRV_ACTIVE)
				continue;
			uint32_t smask = 0;
			/* read a backend while its buffer has room and the client is not
			 * behind; replies wait in the kernel otherwise */
			if (!has_output_for_client(s) && (srv->in.tail < srv->in.cap || srv->in.head > 0 || !srv->in.data))
				smask |= EPOLLIN;
			if (srv->out_sent < srv->out.len)
				smask |= EPOLLOUT;
			ev_set(&srv->ev, smask ? smask : EPOLLRDHUP);
		}
		break;
	}
	default:
		break;
	}
	ev_set(&s->ev, cmask);
}

/* Send queued messages of our own; false if the client socket failed. */
static bool flush_cout(session *s)
{
	return buf_send_pending(&s->ev, &s->cout, &s->cout_sent);
}

bool session_flush_cout(session *s)
{
	return flush_cout(s);
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
	session_update_interest(s);
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
	int nn = g.num_nodes ? g.num_nodes : 1;
	session *s = calloc(1, sizeof(*s));
	server **conns = calloc((size_t) nn, sizeof(server *));
	pool_waiter *waits = calloc((size_t) nn, sizeof(pool_waiter));
	if (!s || !conns || !waits) {
		free(s);
		free(conns);
		free(waits);
		close(fd);
		return;
	}
	s->conns = conns;
	s->waits = waits;
	for (int n = 0; n < nn; n++) {
		waits[n].session = s;
		waits[n].w = w;
		waits[n].node_id = n;
	}
	s->waiting_node = -1;
	s->num_conns = g.num_nodes;
	s->ev.fn = client_event;
	s->ev.fd = fd;
	s->ev.w = w;
	s->is_unix = is_unix;
	s->cancel_slot = -1;
	s->relay_node = -1;
	s->copy_node = -1;
	s->pass_node = -1;
	s->primary = -1;
	s->lb_node = -1;
	s->tx_status = 'I';
	s->idle_limit = g.cfg->client_idle_limit;
	s->log_statement = g.cfg->log_statement;
	s->slot = status_session_acquire(g.status);
	if (addrlen > sizeof(s->addr))
		addrlen = sizeof(s->addr);
	memcpy(&s->addr, addr, addrlen);
	s->addrlen = addrlen;
	format_addr(s);
	buf_init(&s->cout);
	s->cin.initial = IOBUF_CLIENT_INITIAL;
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
	if (srv->reset_done_discards)
		server_forget_prepared(srv);   /* DISCARD ALL dropped them */
	/* to the cache after this event batch: later events in the batch may
	 * still name it, and another worker could take it at once */
	if (srv->ev.mask)
		ev_set(&srv->ev, 0);
	srv->next = w->to_pool;
	w->to_pool = srv;
}

/* Reset one backend connection and cache it, or close it when it is not at
 * a clean boundary. */
static void release_one(session *s, server *srv, bool clean)
{
	srv->client = NULL;
	if (!clean || srv->state != SRV_ACTIVE || srv->out_sent < srv->out.len ||
	    srv->in.pass || srv->in.head != srv->in.tail ||
	    !g.cfg->connection_cache || atomic_load(&g.shutdown) == SHUTDOWN_FAST ||
	    !node_usable(srv->node_id)) {
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
	/* a session that changed nothing but table rows leaves nothing to reset */
	bool clean_session = !s->session_dirty && srv->tx_status == 'I';
	for (int i = 0; i < g.num_reset_queries && n < 32 && !clean_session; i++) {
		/* ABORT only inside a transaction, as Pgpool-II */
		if (srv->tx_status == 'I' && strcasecmp(g.reset_queries[i], "ABORT") == 0)
			continue;
		queries[n++] = g.reset_queries[i];
	}
	iobuf_clear(&srv->in);
	srv->reset_done_discards = n > 0;
	if (n == 0)
		session_server_reset_done(srv, true);
	else
		server_run_internal(srv, queries, n, session_server_reset_done);
}

static void stop_waiting(session *s)
{
	if (s->waiting_node < 0)
		return;
	pool_cancel_wait(&s->waits[s->waiting_node]);
	s->waiting_node = -1;
}

static void release_servers(session *s)
{
	stop_waiting(s);
	bool clean = relay_idle(s);
	for (int n = 0; n < s->num_conns; n++) {
		server *srv = s->conns[n];
		if (!srv)
			continue;
		s->conns[n] = NULL;
		release_one(s, srv, clean);
	}
	s->relay_node = -1;
}

static void finalize(session *s)
{
	if (s->state == SESS_CLOSED)
		return;
	s->state = SESS_CLOSED;
	release_servers(s);
	cancel_unregister(s->cancel_slot);
	s->cancel_slot = -1;
	if (s->slot >= 0) {
		status_session_release(g.status, s->slot);
		s->slot = -1;
	}
	if (s->counted) {
		limits_leave(s->sp.database, s->sp.user);
		s->counted = false;
	}
	if (s->ev.fd >= 0) {
		ev_set(&s->ev, 0);
		if (s->ev.ssl) {
			tls_free(s->ev.ssl);
			s->ev.ssl = NULL;
		}
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
	if (sqlstate && !s->client_gone)
		proto_error(&s->cout, "FATAL", sqlstate, message, NULL);
	if (s->client_gone || s->cout_sent >= s->cout.len || s->cout.oom) {
		finalize(s);
		return;
	}
	/* let the last message out first; the client socket is read no more */
	if (s->state == SESS_CLOSING)
		return;
	s->state = SESS_CLOSING;
	release_servers(s);
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
	expect_free(&s->eq);
	stmt_table_free(&s->stmts);
	for (int i = 0; i < s->num_locals; i++)
		buf_free(&s->locals[i]);
	free(s->locals);
	route_names_clear(&s->temp_tables, &s->num_temp_tables);
	route_names_clear(&s->tx_written, &s->num_tx_written);
	route_sqlprep_free(s);
	free(s->begin_sql);
	free(s->startup_raw);
	free(s->conns);
	free(s->waits);
	free(s);
}

/* ---------------------------------------------------------------- going active */

/* The cancel targets are this session's current backends. */
static void update_cancel_targets(session *s)
{
	cancel_target targets[CANCEL_MAX_TARGETS];
	int nt = 0;
	for (int n = 0; n < s->num_conns && nt < CANCEL_MAX_TARGETS; n++)
		if (s->conns[n])
			targets[nt++] = (cancel_target) { n, s->conns[n]->be_pid, s->conns[n]->be_key };
	if (s->cancel_slot < 0)
		s->cancel_slot = cancel_register(s->key_pid, s->key_secret, targets, nt);
	else
		cancel_update(s->cancel_slot, targets, nt);
}

/* The session's backends serve it from now on: counted and shown in its
 * status slot (pool_pools' use counts). */
static void attach_backends(session *s)
{
	for (int n = 0; n < s->num_conns; n++) {
		server *srv = s->conns[n];
		if (!srv)
			continue;
		srv->uses++;
		if (s->slot >= 0)
			status_session_backend_attach(g.status, s->slot, n, (int) srv->be_pid,
				srv->created_at, srv->uses);
	}
}

/* Transaction pooling: the next transaction's backends are all here. */
static void backends_acquired(session *s)
{
	attach_backends(s);
	s->acquiring = false;
	update_cancel_targets(s);
}

static void go_active(session *s)
{
	server *prim = s->conns[s->primary];
	proto_auth_request(&s->cout, AUTH_REQ_OK, NULL, 0);
	for (int i = 0; i < prim->num_params; i++)
		proto_parameter_status(&s->cout, prim->params[i].name, prim->params[i].value);
	if (!random_bytes(&s->key_secret, sizeof(s->key_secret))) {
		session_close(s, "53000", "could not generate cancel key");
		return;
	}
	/* the primary's real pid: PQbackendPID() matches pg_backend_pid() there */
	s->key_pid = prim->be_pid;
	update_cancel_targets(s);
	proto_backend_key(&s->cout, s->key_pid, s->key_secret);
	proto_ready(&s->cout, prim->tx_status);
	s->state = SESS_ACTIVE;
	if (s->slot >= 0) {
		status_session_start(g.status, s->slot, s->sp.database, s->sp.user, 3, 0);
		status_session_set_lb_node(g.status, s->slot, s->lb_node);
		status_session_set_state(g.status, s->slot, SESSION_IDLE);
	}
	attach_backends(s);
	s->last_client_ms = now_ms();
	if (g.cfg->log_connections)
		log_log("connection authorized: user=%s database=%s host=%s primary=%d load_balance_node=%d backend_pid=%u",
			s->sp.user, s->sp.database, s->addr_str, s->primary, s->lb_node, prim->be_pid);
	session_send(s);
	/* transaction pooling: an idle client holds no backend, from the start */
	if (s->tx_pooling && s->state == SESS_ACTIVE)
		session_release_after_tx(s);
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

/* Every connection is logged in and prepared (server_prepared made each
 * SRV_ACTIVE): authenticate the client if that waited for the backend's
 * method, else go. */
static void all_servers_ready(session *s)
{
	if (s->state == SESS_ACTIVE) {
		backends_acquired(s);
		relay_resume(s);
		return;
	}
	if (s->auth_after_server && !s->auth_done) {
		/* enable_pool_hba is off: ask the client what the primary asked us */
		auth_result r = client_auth_start(s, method_of_backend(s->conns[s->primary]->auth_code), 0);
		if (r == AUTH_DONE)
			session_auth_ok(s);
		else if (r == AUTH_FAILED)
			session_close(s, NULL, NULL);
		else {
			s->state = SESS_AUTH;
			session_update_interest(s);
		}
		return;
	}
	go_active(s);
}

/* A backend connection of ours could not be had: the primary's failure ends
 * the session; a standby's only means reads go to the primary. */
static void server_unavailable(session *s, server *srv, const char *msg)
{
	int node_id = srv->node_id;
	s->conns[node_id] = NULL;
	bool primary = node_id == s->primary;
	if (primary && srv->login_error) {
		/* the backend's own FATAL (unknown database, bad password...) */
		buf_put(&s->cout, srv->login_error, srv->login_error_len);
		log_log("backend node %d refused user=%s database=%s for %s", node_id,
			s->sp.user, s->sp.database, s->addr_str);
		server_close(srv);
		session_close(s, NULL, NULL);
		return;
	}
	/* could not even connect or log in (no FATAL from PostgreSQL): the node
	 * may be gone; the failover manager checks before acting */
	if (!srv->login_error && g.cfg->failover_on_backend_error && node_usable(node_id))
		failover_request_detach_verify(node_id, "could not connect");
	server_close(srv);
	if (primary) {
		log_warning("%s (client %s)", msg, s->addr_str);
		session_close(s, "08006", msg);
		return;
	}
	log_warning("%s; reads of %s go to the primary", msg, s->addr_str);
	if (s->lb_node == node_id)
		s->lb_node = s->primary;
	if (--s->logins_pending == 0)
		all_servers_ready(s);
}

static void server_prepared(server *srv, bool ok)
{
	session *s = srv->client;
	if (!ok) {
		char msg[300];
		snprintf(msg, sizeof(msg), "could not prepare the backend connection to node %d: %s", srv->node_id,
			srv->fail_reason ? srv->fail_reason : "the backend returned an error");
		server_unavailable(s, srv, msg);
		return;
	}
	srv->state = SRV_ACTIVE;
	srv->ev.fn = server_event;
	/* while the session logs in, only a hang-up matters; an active
	 * session's backend keeps its EPOLLIN, which the relay wants next
	 * (every epoll_ctl counts on the transaction-pooling path) */
	if (s->state != SESS_ACTIVE)
		ev_set(&srv->ev, EPOLLRDHUP);
	if (--s->logins_pending == 0)
		all_servers_ready(s);
}

/* A connection is ours (new or cached): align application_name, then go. */
static void prepare_server(session *s, server *srv)
{
	const char *want = s->sp.application_name ? s->sp.application_name : "";
	const char *have = server_param(srv, "application_name");
	if (have && strcmp(have, want) == 0) {
		server_prepared(srv, true);
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
		server_prepared(srv, false);
		return;
	}
	const char *queries[1] = { (const char *) q.data };
	server_run_internal(srv, queries, 1, server_prepared);
	buf_free(&q);
}

static void login_done(server *srv, bool ok)
{
	session *s = srv->client;
	if (ok) {
		/* as Pgpool-II: a node is "waiting" until a session first uses it */
		if (node_status(srv->node_id) == NODE_STATUS_WAITING)
			node_set_status(srv->node_id, NODE_STATUS_UP);
		prepare_server(s, srv);
		return;
	}
	char msg[512];
	snprintf(msg, sizeof(msg), "could not connect to backend node %d: %s", srv->node_id,
		srv->fail_reason ? srv->fail_reason : "unknown error");
	server_unavailable(s, srv, msg);
}

typedef enum open_result { OPEN_FAILED, OPEN_STARTED, OPEN_WAITING } open_result;

/* Get a connection to node: from the cache, else a new login, else (the
 * pool is full) wait for one. */
static open_result open_server(session *s, int node_id)
{
	worker *w = s->ev.w;
	/* entries live until shutdown: look the key up once per session and
	 * node, not once per transaction */
	pool_entry *pe = s->waits[node_id].pe_cached;
	if (!pe && (pe = s->waits[node_id].pe_cached = pool_entry_for(node_id, &s->sp)) == NULL)
		return OPEN_FAILED;
	server *srv = NULL;
	switch (pool_get(pe, &s->waits[node_id], s->need_fresh_server, &srv)) {
	case POOL_WAIT:
		s->waiting_node = node_id;
		return OPEN_WAITING;
	case POOL_GOT:
		if (server_attach(srv, w) < 0) {
			server_close(srv);
			return OPEN_FAILED;
		}
		srv->client = s;
		s->conns[node_id] = srv;
		srv->state = SRV_ACTIVE;
		s->logins_pending++;
		prepare_server(s, srv);
		return OPEN_STARTED;
	case POOL_CONNECT:
		break;
	}
	srv = server_connect(w, node_id, pe, &s->sp, s->backend_password, login_done);
	if (!srv) {
		pool_count_close(pe);
		return OPEN_FAILED;
	}
	srv->client = s;
	s->conns[node_id] = srv;
	s->logins_pending++;
	return OPEN_STARTED;
}

/* Open, in a fixed order (the primary, then the load-balance node, then
 * with statement-level balancing every other usable node), the connections
 * the session lacks.  The order is the same for every session, so that
 * sessions waiting for full pools while holding a connection can never wait
 * for each other.  -1: the session was closed; 1: waiting for a pool;
 * 0: every connection is there or logging in. */
static int open_needed(session *s)
{
	if (!s->conns[s->primary]) {
		open_result r = open_server(s, s->primary);
		if (r == OPEN_WAITING)
			return 1;
		if (r == OPEN_FAILED) {
			char msg[400];
			snprintf(msg, sizeof(msg), "could not connect to backend node %d (%s)", s->primary,
				g.nodes[s->primary].label);
			session_close(s, "08006", msg);
			return -1;
		}
		if (s->state == SESS_CLOSING || s->state == SESS_CLOSED)
			return -1;
	}
	if (s->lb_node != s->primary && !s->conns[s->lb_node]) {
		open_result r = open_server(s, s->lb_node);
		if (r == OPEN_WAITING)
			return 1;
		if (r == OPEN_FAILED)
			s->lb_node = s->primary;
		if (s->state == SESS_CLOSING || s->state == SESS_CLOSED)
			return -1;
	}
	/* statement-level balancing needs every usable node (Pgpool-II 4.3
	 * connects to all of them anyway) */
	for (int n = 0; g.cfg->statement_level_load_balance && n < s->num_conns; n++) {
		if (s->conns[n] || !node_usable(n))
			continue;
		if (open_server(s, n) == OPEN_WAITING)
			return 1;
		if (s->state == SESS_CLOSING || s->state == SESS_CLOSED)
			return -1;
	}
	return 0;
}

/* Go on opening; logins_pending holds one count for the opening itself,
 * released here once nothing is left to open. */
static void acquire_continue(session *s)
{
	int r = open_needed(s);
	if (r < 0)
		return;
	if (r == 0 && --s->logins_pending == 0) {
		all_servers_ready(s);
		return;
	}
	session_update_interest(s);
}

void session_close_primary_failed(session *s)
{
	char msg[200];
	snprintf(msg, sizeof(msg), "terminating connection because backend node %d (the primary) failed over",
		s->primary);
	session_close(s, "57P01", msg);
}

/* The node this session queues for went down: stop waiting; without a
 * standby the reads go to the primary, without the primary it ends. */
void session_wait_node_down(session *s)
{
	int n = s->waiting_node;
	if (n < 0 || node_usable(n))
		return;
	stop_waiting(s);
	if (n == s->primary) {
		session_close_primary_failed(s);
		return;
	}
	if (s->lb_node == n)
		s->lb_node = s->primary;
	acquire_continue(s);
}

void session_pool_ready(session *s)
{
	s->waiting_node = -1;
	if (s->state == SESS_WAIT_SERVER || (s->state == SESS_ACTIVE && s->acquiring))
		acquire_continue(s);
}

/* The primary, and the load-balance node when it is another one. */
static void acquire_servers(session *s)
{
	s->state = SESS_WAIT_SERVER;
	s->primary = nodes_primary();
	if (s->primary < 0 || !node_usable(s->primary)) {
		session_close(s, "57P03", "no primary node is available");
		return;
	}
	s->lb_node = route_choose_lb_node(s);
	s->logins_pending = 1;
	acquire_continue(s);
}

int session_acquire_for_tx(session *s)
{
	int primary = nodes_primary();
	if (primary < 0 || !node_usable(primary)) {
		session_close(s, "57P03", "no primary node is available");
		return -1;
	}
	s->primary = primary;
	if (s->lb_node < 0 || !node_usable(s->lb_node))
		s->lb_node = route_choose_lb_node(s);
	s->acquiring = true;
	s->logins_pending = 1;
	int r = open_needed(s);
	if (r < 0)
		return -1;
	if (r > 0 || --s->logins_pending > 0)
		return 0;   /* all_servers_ready() resumes the relay */
	/* everything came from the cache without a round trip */
	backends_acquired(s);
	return 1;
}

void session_release_after_tx(session *s)
{
	for (int n = 0; n < s->num_conns; n++) {
		server *srv = s->conns[n];
		if (!srv)
			continue;
		s->conns[n] = NULL;
		if (s->slot >= 0)
			status_session_backend_detach(g.status, s->slot, n);
		srv->client = NULL;
		if (srv->state != SRV_ACTIVE || srv->out_sent < srv->out.len || srv->in.pass ||
		    srv->in.head != srv->in.tail || !node_usable(n)) {
			server_close(srv);
			continue;
		}
		/* no reset between transactions (as PgBouncer): prepared statements stay */
		srv->reset_done_discards = false;
		session_server_reset_done(srv, true);
	}
	s->relay_node = -1;
	update_cancel_targets(s);
}

void session_auth_ok(session *s)
{
	s->auth_done = true;
	client_auth_free(s->auth);
	s->auth = NULL;
	if (s->primary >= 0 && s->conns[s->primary]) {
		go_active(s);
		return;
	}
	acquire_servers(s);
}

/* ---------------------------------------------------------------- startup */

/* Password to log in to backends with, from pool_passwd: plain text if we
 * have it, else the md5 hash (good for md5 backends). */
static void pick_backend_password(session *s)
{
	const passwd_entry *e = s->af && s->af->passwd ? pool_passwd_find(s->af->passwd, s->sp.user) : NULL;
	if (!e)
		return;
	s->backend_password = passwd_entry_plain(e, s->af->aes_key);
	if (!s->backend_password && e->kind == PASSWD_MD5)
		s->backend_password = strdup(e->secret);
}

static void begin_auth(session *s)
{
	s->af = authfiles_get();
	pick_backend_password(s);
	if (!s->af) {
		session_close(s, "53200", "out of memory");
		return;
	}
	if (!s->af->hba) {
		s->auth_after_server = true;
		acquire_servers(s);
		return;
	}
	hba_client c = {
		.is_local = s->is_unix, .is_ssl = s->ev.ssl != NULL,
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
		session_update_interest(s);
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
	char msg[300];
	s->tx_pooling = pool_transaction_mode(s->sp.user, s->sp.database);
	if (!limits_enter(s->sp.database, s->sp.user, msg, sizeof(msg))) {
		log_warning("%s; refusing %s", msg, s->addr_str);
		session_close(s, "53300", msg);
		return;
	}
	s->counted = true;
	negotiate_protocol(s);
	begin_auth(s);
}

static void cancel_request(session *s, const startup_packet *sp)
{
	cancel_target t[CANCEL_MAX_TARGETS];
	int n = cancel_lookup(sp->cancel_pid, sp->cancel_key, t);
	for (int i = 0; i < n; i++)
		cancel_forward(s->ev.w, &t[i]);
	if (n == 0)
		log_log("cancel request from %s did not match any session", s->addr_str);
	s->client_gone = true;   /* nothing is sent back, as PostgreSQL */
	session_close(s, NULL, NULL);
}

/* Startup-phase packets: SSLRequest/GSSENCRequest (answered 'N'),
 * CancelRequest, StartupMessage. */
/* ---------------------------------------------------------------- TLS */

static void drive_tls(session *s);

/* Start the server side of a handshake on the client socket. */
static void start_tls(session *s, bool direct)
{
	s->ev.ssl = tls_accept_new(s->ev.fd);
	if (!s->ev.ssl) {
		session_close(s, NULL, NULL);
		return;
	}
	s->tls_direct = direct;
	s->state = SESS_TLS;
	drive_tls(s);
}

static void drive_tls(session *s)
{
	s->tls_want_write = false;
	int rc = tls_handshake(s->ev.ssl, s->addr_str);
	if (rc == TLS_FAILED) {
		s->client_gone = true;   /* nothing can be said to it in clear */
		session_close(s, NULL, NULL);
		return;
	}
	if (rc != TLS_DONE) {
		s->tls_want_write = rc == TLS_WANT_WRITE;
		ev_set(&s->ev, s->tls_want_write ? EPOLLOUT : EPOLLIN);
		return;
	}
	if (s->tls_direct) {
		/* PostgreSQL 17's direct TLS must negotiate ALPN "postgresql" */
		const unsigned char *alpn = NULL;
		unsigned int alpn_len = 0;
		SSL_get0_alpn_selected(s->ev.ssl, &alpn, &alpn_len);
		if (alpn_len != 10 || memcmp(alpn, "postgresql", 10) != 0) {
			log_log("direct TLS connection from %s without ALPN \"postgresql\": closed", s->addr_str);
			session_close(s, "08P01", "direct SSL connection without ALPN protocol negotiation extension");
			return;
		}
	}
	s->state = SESS_STARTUP;
	session_update_interest(s);
}

/* PostgreSQL 17's direct TLS: the first byte is a TLS handshake record
 * (0x16) instead of a startup packet length.  Peeked, not read, so that
 * OpenSSL reads the ClientHello itself. */
static bool peek_tls_hello(session *s)
{
	uint8_t first;
	if (recv(s->ev.fd, &first, 1, MSG_PEEK) != 1 || first != 0x16 || !tls_server_enabled())
		return false;
	start_tls(s, true);
	return true;
}

/* Answer SSLRequest: 'S' and a handshake when TLS is on, else 'N'. */
static void ssl_request(session *s)
{
	iobuf *b = &s->cin;
	if (s->ev.ssl || !tls_server_enabled()) {
		buf_put_u8(&s->cout, 'N');
		session_send(s);
		return;
	}
	if (b->head != b->tail) {
		/* CVE-2021-23214: bytes sent before the handshake could be injected */
		session_close(s, "08P01", "received unencrypted data after SSL request");
		return;
	}
	buf_put_u8(&s->cout, 'S');
	if (!flush_cout(s) || s->cout.len) {
		session_close(s, NULL, NULL);
		return;
	}
	start_tls(s, false);
}

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
			if (code == PROTO_SSL_CODE) {
				ssl_request(s);
				if (s->state != SESS_STARTUP)
					return;
				continue;
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

/* ---------------------------------------------------------------- events */

static void server_event(ev_handler *h, uint32_t events)
{
	server *srv = (server *) h;
	if (h->fd < 0 || !srv->client)
		return;
	session *s = srv->client;
	if (s->state == SESS_ACTIVE) {
		relay_server_event(s, srv, events);
		return;
	}
	/* logged in, waiting for the others or for the client's password */
	if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
		if (srv->node_id == s->primary) {
			s->conns[srv->node_id] = NULL;
			server_close(srv);
			session_close(s, "08006", "backend connection lost during login");
		} else {
			s->conns[srv->node_id] = NULL;
			server_close(srv);
			if (s->lb_node == srv->node_id)
				s->lb_node = s->primary;
		}
	}
}

static void client_event(ev_handler *h, uint32_t events)
{
	session *s = (session *) h;
	if (h->fd < 0)
		return;
	bool readable = (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0;
	switch (s->state) {
	case SESS_ACTIVE:
		relay_client_event(s, events);
		return;
	case SESS_CLOSING:
		if (!flush_cout(s) || s->cout_sent >= s->cout.len)
			finalize(s);
		return;
	case SESS_TLS:
		drive_tls(s);
		if (s->state != SESS_STARTUP)
			return;
		/* the handshake may have brought the startup packet along */
		/* fall through */
	case SESS_STARTUP:
	case SESS_AUTH:
		if (!session_send(s))
			return;
		if (!readable && !(s->ev.ssl && SSL_pending(s->ev.ssl) > 0))
			return;
		if (s->state == SESS_STARTUP && !s->ev.ssl && s->cin.tail == 0 && peek_tls_hello(s))
			return;
		{
			int rc = iobuf_recv(&s->cin, h);
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

static void login_timeout(session *s, uint64_t now)
{
	for (int n = 0; n < s->num_conns; n++) {
		server *srv = s->conns[n];
		if (!srv || srv->state == SRV_ACTIVE ||
		    now - srv->state_since_ms <= (uint64_t) g.cfg->connect_timeout)
			continue;
		/* the phase's own callback takes it out of the logins waited for */
		if (server_abandon_phase(srv, "connect_timeout reached"))
			return;   /* the session may be gone; the next tick sees the rest */
	}
}

/* An idle client holds no relay buffers; they come back with its next
 * message.  Most of what 10,000 idle clients cost is these. */
static void trim_idle_buffers(session *s, uint64_t now)
{
	if (now - s->last_client_ms < IDLE_TRIM_MS || !relay_idle(s))
		return;
	if (s->cin.data && s->cin.head == s->cin.tail)
		iobuf_free(&s->cin);
	if (s->cout.data && s->cout_sent >= s->cout.len) {
		buf_free(&s->cout);
		s->cout_sent = 0;
	}
}

void session_tick(session *s, uint64_t now)
{
	const pool_config *cfg = g.cfg;
	switch (s->state) {
	case SESS_STARTUP:
	case SESS_TLS:
	case SESS_AUTH:
		if (cfg->authentication_timeout > 0 &&
		    now - s->connected_ms > (uint64_t) cfg->authentication_timeout * 1000u) {
			log_log("authentication timeout for %s", s->addr_str);
			session_close(s, "08P01", "canceling authentication due to timeout");
		}
		return;
	case SESS_WAIT_SERVER:
		login_timeout(s, now);
		return;
	case SESS_ACTIVE:
		if (s->acquiring) {
			/* transaction pooling: the next transaction's logins */
			login_timeout(s, now);
			return;
		}
		if (s->idle_limit > 0 && relay_idle(s) &&
		    now - s->last_client_ms > (uint64_t) s->idle_limit * 1000u) {
			char detail[128];
			snprintf(detail, sizeof(detail),
				"child connection forced to terminate due to client_idle_limit:%d is reached",
				s->idle_limit);
			log_log("client %s idle for more than client_idle_limit (%d s): disconnecting",
				s->addr_str, s->idle_limit);
			proto_error(&s->cout, "FATAL", "57000", "unable to read data", detail);
			session_close(s, NULL, NULL);
			return;
		}
		trim_idle_buffers(s, now);
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
