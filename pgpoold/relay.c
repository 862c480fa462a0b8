/* The routed relay of an ACTIVE session.
 *
 * Client messages are read whole (or streamed when too big to hold), routed
 * to one or more backends (route.h) and copied to those connections' output
 * buffers; each request that will be answered is recorded in the session's
 * reply queue (expect.h).  Replies are then relayed strictly in queue order,
 * from one backend at a time, without copying: the scanned bytes of a
 * backend's input buffer are sent to the client straight from it, or
 * dropped when the reply is one the client must not see. */
#include "session.h"
#include "server.h"
#include "worker.h"
#include "nodes.h"
#include "pool.h"
#include "route.h"
#include "show.h"
#include "failover.h"
#include "log.h"
#include "util.h"

#include <openssl/ssl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKLOG_LIMIT (256 * 1024)
#define WHOLE_MSG_LIMIT (64 * 1024)   /* replies we parse (Z, S, E) are small */

bool session_flush_cout(session *s);

static bool backlogged(const session *s)
{
	for (int n = 0; n < s->num_conns; n++) {
		const server *srv = s->conns[n];
		if (srv && srv->out.len - srv->out_sent > BACKLOG_LIMIT)
			return true;
	}
	return false;
}

bool relay_idle(const session *s)
{
	return s->eq.count == 0 && nodeset_empty(&s->open_batch) && s->pass_node < 0 &&
		s->cin.head == s->cin.tail;
}

/* ================================================================ sending */

static bool queue_bytes(session *s, int node, const uint8_t *p, size_t len)
{
	server *srv = s->conns[node];
	if (!srv)
		return false;
	buf_put(&srv->out, p, len);
	return !srv->out.oom;
}

static bool await_reply(session *s, int node, expect_kind kind, bool forward)
{
	return expect_push(&s->eq, node, kind, forward);
}

/* A simple Query of our own on node whose reply nobody sees. */
static bool inject_query(session *s, int node, const char *sql)
{
	buf *out = &s->conns[node]->out;
	proto_query(out, sql);
	return !out->oom && await_reply(s, node, EXP_QUERY, false);
}

/* ================================================================ routing helpers */

static bool in_transaction(const session *s)
{
	return s->tx_status != 'I' || !nodeset_empty(&s->in_tx);
}

/* A read may run on node inside the client's transaction only if that
 * transaction is open there too: BEGIN it lazily, the first time.  Not
 * possible while node has an unsynced extended batch. */
static bool ensure_tx_on(session *s, int node)
{
	if (!in_transaction(s) || nodeset_has(&s->in_tx, node))
		return true;
	if (nodeset_has(&s->open_batch, node))
		return false;
	if (!inject_query(s, node, s->begin_sql ? s->begin_sql : "BEGIN"))
		return false;
	nodeset_add(&s->in_tx, node);
	return true;
}

static void note_write(session *s)
{
	s->ever_wrote = true;
	s->wrote_unacked = true;
	if (in_transaction(s)) {
		s->tx_wrote = true;
		s->trans_flag = true;
	}
}

static void count_statement(int node, const route_info *ri)
{
	status_stmt_kind kind = STMT_OTHER;
	if (ri->flags & RF_SELECT)
		kind = STMT_SELECT;
	else if (ri->flags & RF_INSERT)
		kind = STMT_INSERT;
	else if (ri->flags & RF_UPDATE)
		kind = STMT_UPDATE;
	else if (ri->flags & RF_DELETE)
		kind = STMT_DELETE;
	else if (ri->flags & RF_DDL)
		kind = STMT_DDL;
	node_count_statement(node, kind);
}

/* Transaction bookkeeping when a statement is sent. */
static void note_tx(session *s, const route_info *ri, const char *sql, size_t len)
{
	if (ri->flags & RF_TX_BEGIN) {
		free(s->begin_sql);
		s->begin_sql = strndup(sql, len);
		nodeset_clear(&s->in_tx);
		nodeset_add(&s->in_tx, s->primary);
		s->tx_wrote = false;
		s->tx_primary_only = (ri->flags & RF_SERIALIZABLE) != 0;
	}
	if (ri->flags & RF_SAVEPOINT)
		s->tx_primary_only = true;   /* a standby that joined later lacks the savepoint */
}

/* Where a statement of this class goes: the node whose reply the client
 * sees (returned) and every node it is sent to (`to`, fwd included),
 * limited to `only` when given (the nodes that have a prepared statement). */
static int choose_nodes(session *s, const route_info *ri, const nodeset *only, nodeset *to)
{
	nodeset_clear(to);
	int fwd = s->primary;
	switch (ri->cls) {
	case RC_READ: {
		int t = route_read_node(s, ri);
		if (t != s->primary && s->conns[t] && ensure_tx_on(s, t))
			fwd = t;
		break;
	}
	case RC_SESSION:
	case RC_TX:
		for (int n = 0; n < s->num_conns; n++) {
			bool wanted = ri->cls == RC_SESSION ||
				(!(ri->flags & RF_TX_BEGIN) && nodeset_has(&s->in_tx, n));
			if (s->conns[n] && wanted && (!only || nodeset_has(only, n)))
				nodeset_add(to, n);
		}
		break;
	default:
		break;
	}
	nodeset_add(to, fwd);
	return fwd;
}

static int targets_for(session *s, const route_info *ri, nodeset *to)
{
	int fwd = choose_nodes(s, ri, NULL, to);
	if (ri->cls == RC_WRITE)
		note_write(s);
	return fwd;
}

/* Send one message to every node in `to`, the reply of fwd forwarded. */
static bool send_to_set(session *s, const nodeset *to, int fwd, const uint8_t *msg, size_t len, expect_kind kind)
{
	for (int n = 0; n < s->num_conns; n++) {
		if (!nodeset_has(to, n) || !s->conns[n])
			continue;
		if (!queue_bytes(s, n, msg, len) || !await_reply(s, n, kind, n == fwd))
			return false;
	}
	return true;
}

static void after_tx_end_sent(session *s, const route_info *ri)
{
	if (ri->flags & RF_TX_END)
		nodeset_clear(&s->in_tx);
}

/* ================================================================ transaction pooling: statement names */

/* FNV-1a over the Parse message after its name: the query text and the
 * parameter types decide which backend-side statement a client's means. */
static uint64_t parse_hash(const uint8_t *body, size_t len)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ body[i]) * 1099511628211ull;
	return h;
}

/* A Parse message for st under its backend-side name. */
static bool queue_renamed_parse(session *s, int node, const pstmt *st)
{
	buf *out = &s->conns[node]->out;
	size_t name_len = strlen(st->name) + 1;
	const uint8_t *rest = st->parse_msg + MSG_HEADER_LEN + name_len;
	size_t rest_len = st->parse_len - MSG_HEADER_LEN - name_len;
	size_t off = buf_msg_begin(out, 'P');
	buf_put_str(out, st->server_name);
	buf_put(out, rest, rest_len);
	buf_msg_end(out, off);
	return !out->oom;
}

/* The client's message with its statement name (at name_off, NUL-ended)
 * replaced by the backend-side name. */
static bool queue_renamed(session *s, int node, const uint8_t *msg, size_t len, size_t name_off, const char *server_name)
{
	buf *out = &s->conns[node]->out;
	size_t name_len = strlen((const char *) msg + name_off) + 1;
	size_t off = buf_msg_begin(out, (char) msg[0]);
	buf_put(out, msg + MSG_HEADER_LEN, name_off - MSG_HEADER_LEN);
	buf_put_str(out, server_name);
	buf_put(out, msg + name_off + name_len, len - name_off - name_len);
	buf_msg_end(out, off);
	return !out->oom;
}

static bool renamed(const session *s, const pstmt *st)
{
	return s->tx_pooling && st && st->name[0];
}

/* A reply of our own (content taken over), queued in reply order. */
static bool queue_local(session *s, buf *content)
{
	buf *p = realloc(s->locals, sizeof(buf) * (size_t) (s->num_locals + 1));
	if (!p || content->oom) {
		if (p)
			s->locals = p;
		buf_free(content);
		return false;
	}
	s->locals = p;
	s->locals[s->num_locals] = *content;
	if (!expect_push(&s->eq, -1, EXP_LOCAL, true)) {
		buf_free(content);
		return false;
	}
	s->eq.ring[(s->eq.head + s->eq.count - 1) & (s->eq.cap - 1)].local = s->num_locals++;
	return true;
}

/* ParseComplete / BindComplete / CloseComplete of our own. */
static bool local_complete(session *s, char type)
{
	buf b;
	buf_init(&b);
	size_t off = buf_msg_begin(&b, type);
	buf_msg_end(&b, off);
	return queue_local(s, &b);
}

/* Describe / Execute of one of pgpoold's own commands (SHOW pool_nodes...)
 * sent through the extended protocol. */
static bool local_extended(session *s, const char *sql, int cmd, size_t arg_off, size_t arg_len,
	bool describe, bool with_params)
{
	route_info ri = { .cls = RC_LOCAL, .local_cmd = cmd, .arg_off = arg_off, .arg_len = arg_len };
	buf d, e, out;
	buf_init(&d);
	buf_init(&e);
	buf_init(&out);
	show_command_parts(s, &ri, sql, strlen(sql), &d, &e);
	if (describe && with_params) {
		size_t off = buf_msg_begin(&out, 't');   /* ParameterDescription: none */
		buf_put_i16(&out, 0);
		buf_msg_end(&out, off);
	}
	buf *part = describe ? &d : &e;
	buf_put(&out, part->data, part->len);
	if (d.oom || e.oom)
		out.oom = true;
	buf_free(&d);
	buf_free(&e);
	return queue_local(s, &out);
}

/* ================================================================ simple query */

static bool local_reply(session *s, const route_info *ri, const char *sql, size_t len)
{
	buf b;
	buf_init(&b);
	show_command(s, ri, sql, len, &b);
	return queue_local(s, &b);
}

static bool route_query(session *s, const uint8_t *msg, size_t len)
{
	const char *sql = (const char *) msg + MSG_HEADER_LEN;
	size_t sqllen = len - MSG_HEADER_LEN;
	if (sqllen && sql[sqllen - 1] == '\0')
		sqllen--;
	route_info ri;
	route_analyze(s, sql, sqllen, &ri);
	if (ri.cls == RC_LOCAL)
		return local_reply(s, &ri, sql, sqllen);
	if (ri.flags & RF_DB_DDL)
		pool_drop_idle(NULL);
	nodeset to;
	int fwd = targets_for(s, &ri, &to);
	note_tx(s, &ri, sql, sqllen);
	if (!send_to_set(s, &to, fwd, msg, len, EXP_QUERY))
		return false;
	if (ri.flags & RF_DEALLOC_ALL)
		for (int n = 0; n < s->num_conns; n++)
			if (nodeset_has(&to, n) && s->conns[n])
				server_forget_prepared(s->conns[n]);
	after_tx_end_sent(s, &ri);
	count_statement(fwd, &ri);
	s->copy_node = fwd;
	if (s->log_statement)
		log_log("statement on node %d for %s: %.*s", fwd, s->addr_str, (int) (sqllen > 1000 ? 1000 : sqllen), sql);
	return true;
}

/* ================================================================ extended protocol */

static void mark_batch(session *s, const nodeset *to)
{
	s->open_batch.bits[0] |= to->bits[0];
	s->open_batch.bits[1] |= to->bits[1];
}

/* The statement's query text, from its Parse message. */
static const char *parse_query(const uint8_t *msg, size_t len, size_t *qlen)
{
	msg_reader r;
	mr_init(&r, msg + MSG_HEADER_LEN, len - MSG_HEADER_LEN);
	mr_str(&r);
	const char *q = mr_str(&r);
	*qlen = q ? strlen(q) : 0;
	return q;
}

static bool route_parse(session *s, const uint8_t *msg, size_t len)
{
	msg_reader r;
	mr_init(&r, msg + MSG_HEADER_LEN, len - MSG_HEADER_LEN);
	const char *name = mr_str(&r);
	const char *query = mr_str(&r);
	if (!name || !query) {
		nodeset to = { { 0, 0 } };
		nodeset_add(&to, s->primary);
		mark_batch(s, &to);
		return queue_bytes(s, s->primary, msg, len) && await_reply(s, s->primary, EXP_PARSE, true);
	}
	route_info ri;
	route_analyze(s, query, strlen(query), &ri);
	if (name[0])
		s->session_dirty = true;   /* a named prepared statement outlives the transaction */
	if (ri.flags & RF_DB_DDL)
		pool_drop_idle(NULL);
	pstmt *st = stmt_add(&s->stmts, name, msg, len, (int) ri.cls, ri.flags);
	if (!st)
		return false;
	if (ri.cls == RC_LOCAL) {
		/* pgpoold answers its own commands in the extended protocol too */
		st->local_cmd = ri.local_cmd;
		st->arg_off = ri.arg_off;
		st->arg_len = ri.arg_len;
		return local_complete(s, '1');
	}
	/* parsed where it will most likely run; Bind parses it again elsewhere if needed */
	nodeset to;
	int fwd = choose_nodes(s, &ri, NULL, &to);
	st->parsed_on = to;
	if (renamed(s, st)) {
		size_t name_len = strlen(name) + 1;
		st->hash = parse_hash(msg + MSG_HEADER_LEN + name_len, len - MSG_HEADER_LEN - name_len);
		snprintf(st->server_name, sizeof(st->server_name), "pgpoold_%016llx", (unsigned long long) st->hash);
		bool answered = false;
		for (int n = 0; n < s->num_conns; n++) {
			server *srv = s->conns[n];
			if (!nodeset_has(&to, n) || !srv)
				continue;
			if (server_has_prepared(srv, st->hash)) {
				/* another client's identical statement is already there */
				if (n == fwd && !local_complete(s, '1'))
					return false;
				answered |= n == fwd;
				continue;
			}
			nodeset one = { { 0, 0 } };
			nodeset_add(&one, n);
			mark_batch(s, &one);
			if (!queue_renamed_parse(s, n, st) || !await_reply(s, n, EXP_PARSE, n == fwd) ||
			    !server_add_prepared(srv, st->hash))
				return false;
		}
		(void) answered;
		return true;
	}
	mark_batch(s, &to);
	return send_to_set(s, &to, fwd, msg, len, EXP_PARSE);
}

/* Make sure the statement exists on node, replaying its Parse (reply swallowed). */
static bool ensure_parsed(session *s, pstmt *st, int node)
{
	if (renamed(s, st)) {
		server *srv = s->conns[node];
		if (server_has_prepared(srv, st->hash))
			return true;
		return queue_renamed_parse(s, node, st) && await_reply(s, node, EXP_PARSE, false) &&
			server_add_prepared(srv, st->hash);
	}
	if (nodeset_has(&st->parsed_on, node))
		return true;
	if (!queue_bytes(s, node, st->parse_msg, st->parse_len) || !await_reply(s, node, EXP_PARSE, false))
		return false;
	nodeset_add(&st->parsed_on, node);
	return true;
}

static bool route_bind(session *s, const uint8_t *msg, size_t len)
{
	msg_reader r;
	mr_init(&r, msg + MSG_HEADER_LEN, len - MSG_HEADER_LEN);
	const char *portal_name = mr_str(&r);
	const char *stmt_name = mr_str(&r);
	pstmt *st = stmt_name ? stmt_find(&s->stmts, stmt_name) : NULL;
	nodeset to = { { 0, 0 } };
	int fwd = s->primary;
	route_info ri = { .cls = RC_WRITE, .flags = 0 };
	if (st && st->route_class == RC_LOCAL && portal_name) {
		portal *p = portal_add(&s->stmts, portal_name);
		size_t qlen;
		const char *q = parse_query(st->parse_msg, st->parse_len, &qlen);
		if (!p || !q || !(p->sql = strndup(q, qlen)))
			return false;
		p->route_class = RC_LOCAL;
		p->local_cmd = st->local_cmd;
		p->arg_off = st->arg_off;
		p->arg_len = st->arg_len;
		p->forward_node = -1;
		return local_complete(s, '2');
	}
	if (st) {
		ri.cls = (route_class) st->route_class;
		ri.flags = st->route_flags;
		fwd = choose_nodes(s, &ri, ri.cls == RC_SESSION ? &st->parsed_on : NULL, &to);
		for (int n = 0; n < s->num_conns; n++)
			if (nodeset_has(&to, n) && s->conns[n] && !ensure_parsed(s, st, n))
				return false;
	} else
		nodeset_add(&to, fwd);
	mark_batch(s, &to);
	if (renamed(s, st)) {
		size_t name_off = MSG_HEADER_LEN + strlen(portal_name) + 1;
		for (int n = 0; n < s->num_conns; n++)
			if (nodeset_has(&to, n) && s->conns[n] &&
			    (!queue_renamed(s, n, msg, len, name_off, st->server_name) ||
			     !await_reply(s, n, EXP_BIND, n == fwd)))
				return false;
	} else if (!send_to_set(s, &to, fwd, msg, len, EXP_BIND))
		return false;
	if (portal_name) {
		portal *p = portal_add(&s->stmts, portal_name);
		if (!p)
			return false;
		p->on = to;
		p->forward_node = fwd;
		p->route_class = (int) ri.cls;
		p->route_flags = ri.flags;
		if (st && (ri.flags & RF_TX_BEGIN)) {
			size_t qlen;
			const char *q = parse_query(st->parse_msg, st->parse_len, &qlen);
			p->sql = q ? strndup(q, qlen) : NULL;
		}
	}
	return true;
}

static bool route_execute(session *s, const uint8_t *msg, size_t len)
{
	msg_reader r;
	mr_init(&r, msg + MSG_HEADER_LEN, len - MSG_HEADER_LEN);
	const char *portal_name = mr_str(&r);
	portal *p = portal_name ? portal_find(&s->stmts, portal_name) : NULL;
	nodeset to = { { 0, 0 } };
	int fwd = s->primary;
	route_info ri = { .cls = RC_WRITE, .flags = 0 };
	if (p && p->route_class == RC_LOCAL)
		return local_extended(s, p->sql, p->local_cmd, p->arg_off, p->arg_len, false, false);
	if (p) {
		to = p->on;
		fwd = p->forward_node;
		ri.cls = (route_class) p->route_class;
		ri.flags = p->route_flags;
	} else
		nodeset_add(&to, fwd);
	if (ri.cls == RC_WRITE)
		note_write(s);
	if (p && (ri.flags & (RF_TX_BEGIN | RF_SAVEPOINT | RF_TEMP_CREATE)))
		note_tx(s, &ri, p->sql ? p->sql : "BEGIN", p->sql ? strlen(p->sql) : 5);
	mark_batch(s, &to);
	if (!send_to_set(s, &to, fwd, msg, len, EXP_EXECUTE))
		return false;
	after_tx_end_sent(s, &ri);
	count_statement(fwd, &ri);
	s->copy_node = fwd;
	return true;
}

static bool route_describe(session *s, const uint8_t *msg, size_t len)
{
	msg_reader r;
	mr_init(&r, msg + MSG_HEADER_LEN, len - MSG_HEADER_LEN);
	uint8_t what = mr_u8(&r);
	const char *name = mr_str(&r);
	int node = s->primary;
	if (name && what == 'S') {
		pstmt *st = stmt_find(&s->stmts, name);
		if (st && st->route_class == RC_LOCAL) {
			size_t qlen;
			const char *q = parse_query(st->parse_msg, st->parse_len, &qlen);
			return q && local_extended(s, q, st->local_cmd, st->arg_off, st->arg_len, true, true);
		}
		if (renamed(s, st)) {
			nodeset to = { { 0, 0 } };
			nodeset_add(&to, node);
			mark_batch(s, &to);
			return ensure_parsed(s, st, node) &&
				queue_renamed(s, node, msg, len, MSG_HEADER_LEN + 1, st->server_name) &&
				await_reply(s, node, EXP_DESCRIBE, true);
		}
		if (st && !nodeset_has(&st->parsed_on, s->primary))
			for (int n = 0; n < s->num_conns; n++)
				if (nodeset_has(&st->parsed_on, n) && s->conns[n]) {
					node = n;
					break;
				}
	} else if (name && what == 'P') {
		portal *p = portal_find(&s->stmts, name);
		if (p && p->route_class == RC_LOCAL)
			return local_extended(s, p->sql, p->local_cmd, p->arg_off, p->arg_len, true, false);
		if (p && p->forward_node >= 0 && s->conns[p->forward_node])
			node = p->forward_node;
	}
	nodeset to = { { 0, 0 } };
	nodeset_add(&to, node);
	mark_batch(s, &to);
	return queue_bytes(s, node, msg, len) && await_reply(s, node, EXP_DESCRIBE, true);
}

static bool route_close(session *s, const uint8_t *msg, size_t len)
{
	msg_reader r;
	mr_init(&r, msg + MSG_HEADER_LEN, len - MSG_HEADER_LEN);
	uint8_t what = mr_u8(&r);
	const char *name = mr_str(&r);
	nodeset to = { { 0, 0 } };
	pstmt *local_st = name && what == 'S' ? stmt_find(&s->stmts, name) : NULL;
	portal *local_p = name && what == 'P' ? portal_find(&s->stmts, name) : NULL;
	if ((local_st && local_st->route_class == RC_LOCAL) || (local_p && local_p->route_class == RC_LOCAL)) {
		if (local_st)
			stmt_remove(&s->stmts, name);
		else
			portal_remove(&s->stmts, name);
		return local_complete(s, '3');
	}
	if (name && what == 'S' && renamed(s, stmt_find(&s->stmts, name))) {
		/* other clients may use the backend-side statement: keep it */
		stmt_remove(&s->stmts, name);
		return local_complete(s, '3');
	}
	if (name && what == 'S') {
		pstmt *st = stmt_find(&s->stmts, name);
		if (st)
			to = st->parsed_on;
	} else if (name && what == 'P') {
		portal *p = portal_find(&s->stmts, name);
		if (p)
			to = p->on;
	}
	for (int n = 0; n < s->num_conns; n++)
		if (nodeset_has(&to, n) && !s->conns[n])
			nodeset_del(&to, n);
	if (nodeset_empty(&to))
		nodeset_add(&to, s->primary);
	int fwd = nodeset_has(&to, s->primary) ? s->primary : -1;
	for (int n = 0; fwd < 0 && n < s->num_conns; n++)
		if (nodeset_has(&to, n))
			fwd = n;
	mark_batch(s, &to);
	if (!send_to_set(s, &to, fwd, msg, len, EXP_CLOSE))
		return false;
	if (name && what == 'S')
		stmt_remove(&s->stmts, name);
	else if (name && what == 'P')
		portal_remove(&s->stmts, name);
	return true;
}

/* Sync goes to every node of the batch; the client sees one ReadyForQuery:
 * the primary's when it took part (its transaction state is the client's). */
static bool route_sync(session *s, const uint8_t *msg, size_t len)
{
	nodeset to = s->open_batch;
	if (nodeset_empty(&to))
		nodeset_add(&to, s->primary);
	int fwd = nodeset_has(&to, s->primary) ? s->primary : -1;
	for (int n = 0; fwd < 0 && n < s->num_conns; n++)
		if (nodeset_has(&to, n))
			fwd = n;
	for (int n = 0; n < s->num_conns; n++)
		if (n != fwd && nodeset_has(&to, n) && s->conns[n])
			if (!queue_bytes(s, n, msg, len) || !await_reply(s, n, EXP_SYNC, false))
				return false;
	if (!queue_bytes(s, fwd, msg, len) || !await_reply(s, fwd, EXP_SYNC, true))
		return false;
	nodeset_clear(&s->open_batch);
	return true;
}

static bool route_flush(session *s, const uint8_t *msg, size_t len)
{
	nodeset to = s->open_batch;
	if (nodeset_empty(&to))
		nodeset_add(&to, s->primary);
	for (int n = 0; n < s->num_conns; n++)
		if (nodeset_has(&to, n) && s->conns[n] && !queue_bytes(s, n, msg, len))
			return false;
	return true;
}

static bool route_message(session *s, char type, const uint8_t *msg, size_t len)
{
	switch (type) {
	case 'Q': return route_query(s, msg, len);
	case 'P': return route_parse(s, msg, len);
	case 'B': return route_bind(s, msg, len);
	case 'E': return route_execute(s, msg, len);
	case 'D': return route_describe(s, msg, len);
	case 'C': return route_close(s, msg, len);
	case 'S': return route_sync(s, msg, len);
	case 'H': return route_flush(s, msg, len);
	case 'F':
		note_write(s);
		s->session_dirty = true;   /* a function call may change session state */
		return queue_bytes(s, s->primary, msg, len) && await_reply(s, s->primary, EXP_QUERY, true);
	case 'd':
	case 'c':
	case 'f': {
		int node = s->copy_node >= 0 && s->conns[s->copy_node] ? s->copy_node : s->primary;
		return queue_bytes(s, node, msg, len);
	}
	default:
		/* unknown to us: PostgreSQL answers it (with an error) */
		return queue_bytes(s, s->primary, msg, len);
	}
}

/* ================================================================ client input */

/* A message too big to hold goes through in pieces, to the primary (or the
 * COPY's node for CopyData). */
static bool start_stream(session *s, char type, size_t whole, size_t avail)
{
	int node = s->primary;
	if ((type == 'd' || type == 'c' || type == 'f') && s->copy_node >= 0 && s->conns[s->copy_node])
		node = s->copy_node;
	else if (type == 'Q') {
		note_write(s);
		if (!await_reply(s, node, EXP_QUERY, true))
			return false;
		s->copy_node = node;
	} else if (type == 'P' || type == 'B' || type == 'E' || type == 'D' || type == 'C') {
		nodeset to = { { 0, 0 } };
		nodeset_add(&to, node);
		mark_batch(s, &to);
		static const expect_kind kinds[] = { ['P'] = EXP_PARSE, ['B'] = EXP_BIND, ['E'] = EXP_EXECUTE,
			['D'] = EXP_DESCRIBE, ['C'] = EXP_CLOSE };
		if (!await_reply(s, node, kinds[(int) type], true))
			return false;
	}
	if (!queue_bytes(s, node, s->cin.data + s->cin.head, avail))
		return false;
	s->pass_node = node;
	s->pass_left = whole - avail;
	return true;
}

/* Route every complete client message in cin.  False: the session ended
 * (Terminate, a bad message, out of memory). */
static bool client_input(session *s)
{
	iobuf *b = &s->cin;
	while (b->head < b->tail && !backlogged(s)) {
		size_t avail = b->tail - b->head;
		if (s->pass_node >= 0) {
			size_t n = avail < s->pass_left ? avail : s->pass_left;
			if (s->conns[s->pass_node] && !queue_bytes(s, s->pass_node, b->data + b->head, n))
				goto oom;
			b->head += n;
			s->pass_left -= n;
			if (s->pass_left == 0)
				s->pass_node = -1;
			continue;
		}
		if (avail < MSG_HEADER_LEN) {
			if (!iobuf_make_room(b, MSG_HEADER_LEN))
				goto oom;
			break;
		}
		if (s->acquiring)
			break;
		if (s->tx_pooling && !s->conns[s->primary] && b->data[b->head] != 'X') {
			int r = session_acquire_for_tx(s);
			if (r < 0)
				return false;
			if (r == 0)
				break;   /* relay_resume() carries on */
		}
		const uint8_t *p = b->data + b->head;
		char type = (char) p[0];
		uint32_t len = be32(p + 1);
		if (len < 4 || len - 4 > (uint32_t) g.cfg->max_message_size) {
			log_warning("invalid message length %u (type %d) from %s", len, (int) (uint8_t) type, s->addr_str);
			session_close(s, "08P01", "invalid message length");
			return false;
		}
		if (type == 'X') {
			s->client_gone = true;
			b->head = b->tail;
			session_close(s, NULL, NULL);
			return false;
		}
		size_t whole = (size_t) len + 1;
		if (avail >= whole) {
			if (!route_message(s, type, p, whole))
				goto oom;
			b->head += whole;
			continue;
		}
		if (whole <= IOBUF_MAX_WHOLE && type != 'd') {
			if (!iobuf_make_room(b, whole - avail))
				goto oom;
			break;
		}
		if (!start_stream(s, type, whole, avail))
			goto oom;
		b->head = b->tail;
	}
	if (b->head == b->tail)
		b->head = b->scan = b->tail = 0;
	return true;
oom:
	session_close(s, "53200", "out of memory");
	return false;
}

/* ================================================================ replies */

typedef enum { SCAN_MORE, SCAN_PROGRESS, SCAN_BLOCKED, SCAN_FAIL } scan_result;

/* ReadyForQuery relayed to the client: the transaction state is now known. */
static void client_saw_ready(session *s, char status)
{
	s->tx_status = status;
	/* a write that opened or ran inside a transaction we did not see begin
	 * (multi-statement query, extended batch): the rest stays on the primary */
	if (status != 'I' && s->wrote_unacked) {
		s->tx_wrote = true;
		s->trans_flag = true;
	}
	if (s->slot >= 0)
		status_session_set_state(g.status, s->slot, status == 'I' ? SESSION_IDLE : SESSION_IDLE_IN_TRANSACTION);
	if (status != 'I')
		return;
	if (s->wrote_unacked) {
		/* committed: for causal_reads, a standby must show it has replayed
		 * what the primary had at a check that began after now */
		s->causal_since_ms = now_ms();
		s->wrote_unacked = false;
	}
	/* a transaction ended some way we did not route (multi-statement,
	 * error): close what it left open on standbys */
	for (int n = 0; n < s->num_conns; n++)
		if (n != s->primary && s->conns[n] && nodeset_has(&s->in_tx, n) &&
		    !nodeset_has(&s->open_batch, n))
			inject_query(s, n, "ROLLBACK");
	nodeset_clear(&s->in_tx);
	s->tx_wrote = false;
	s->tx_primary_only = false;
	route_names_clear(&s->tx_written, &s->num_tx_written);
	portal_clear_named(&s->stmts);
}

static void count_error(server *srv, const uint8_t *body, size_t len)
{
	int node = srv->node_id;
	msg_reader r;
	mr_init(&r, body, len);
	while (!r.err) {
		uint8_t f = mr_u8(&r);
		const char *v = mr_str(&r);
		if (f == 0 || !v)
			return;
		if (f == 'S') {
			if (strcmp(v, "PANIC") == 0)
				node_count_error(node, ERRKIND_PANIC);
			else if (strcmp(v, "FATAL") == 0) {
				node_count_error(node, ERRKIND_FATAL);
				srv->said_fatal = true;
			}
			else if (strcmp(v, "ERROR") == 0)
				node_count_error(node, ERRKIND_ERROR);
			return;
		}
	}
}

/* Take the next reply message of srv for expectation e (NULL: no request
 * is pending, the message is asynchronous). */
static scan_result scan_one(session *s, server *srv, expect *e)
{
	iobuf *b = &srv->in;
	int node = srv->node_id;
	size_t avail = b->tail - b->scan;
	if (b->pass) {
		if (!avail)
			return SCAN_MORE;
		size_t n = avail < b->pass ? avail : b->pass;
		if (srv->discarding)
			b->head = b->scan = b->scan + n;
		else
			b->scan += n;
		b->pass -= n;
		return SCAN_PROGRESS;
	}
	if (avail < MSG_HEADER_LEN)
		return iobuf_make_room(b, MSG_HEADER_LEN) ? SCAN_MORE : SCAN_FAIL;
	const uint8_t *p = b->data + b->scan;
	char type = (char) p[0];
	uint32_t len = be32(p + 1);
	if (len < 4)
		return SCAN_FAIL;
	size_t whole = (size_t) len + 1;
	bool parse_whole = type == 'Z' || type == 'S' || type == 'E';
	if (parse_whole && len > WHOLE_MSG_LIMIT)
		return SCAN_FAIL;
	if (parse_whole && avail < whole)
		return iobuf_make_room(b, whole - avail) ? SCAN_MORE : SCAN_FAIL;
	bool forward = e ? e->forward
	                 : (type == 'A' || node == s->primary);   /* asynchronous: notifications, the primary's notices */
	if (forward && s->relay_node != node) {
		if (s->relay_node >= 0 && s->conns[s->relay_node] &&
		    s->conns[s->relay_node]->in.head < s->conns[s->relay_node]->in.scan)
			return SCAN_BLOCKED;
		s->relay_node = node;
	}
	if (!forward && b->head < b->scan)
		return SCAN_BLOCKED;   /* what is before must reach the client first */
	if (type == 'S')
		server_note_param(srv, p + MSG_HEADER_LEN, len - 4);
	else if (type == 'E')
		count_error(srv, p + MSG_HEADER_LEN, len - 4);
	else if (type == 'Z') {
		if (len != 5)
			return SCAN_FAIL;
		srv->tx_status = (char) p[5];
	}
	if (avail >= whole) {
		b->scan += whole;
		if (!forward)
			b->head = b->scan;
	} else {
		b->pass = whole - avail;
		srv->discarding = !forward;
		b->scan = b->tail;
		if (!forward)
			b->head = b->scan;
	}
	if (e && expect_completes((expect_kind) e->kind, type)) {
		expect_kind kind = (expect_kind) e->kind;
		expect_pop(&s->eq);
		if (type == 'E' && kind != EXP_QUERY && kind != EXP_SYNC)
			expect_void_until_sync(&s->eq, node);
		if (type == 'Z' && forward)
			client_saw_ready(s, srv->tx_status);
	}
	return SCAN_PROGRESS;
}

/* Send the scanned bytes of the node being relayed; false if the client failed. */
static bool flush_relay(session *s, bool *blocked)
{
	*blocked = false;
	if (s->cout_sent < s->cout.len) {
		if (!session_flush_cout(s))
			return false;
		if (s->cout_sent < s->cout.len) {
			*blocked = true;
			return true;
		}
	}
	if (s->relay_node < 0 || !s->conns[s->relay_node])
		return true;
	iobuf *b = &s->conns[s->relay_node]->in;
	if (b->head == b->scan)
		return true;
	int rc = iobuf_send_scanned(b, &s->ev);
	if (rc == IO_ERR)
		return false;
	*blocked = rc == IO_AGAIN;
	return true;
}

static void client_failed(session *s)
{
	s->client_gone = true;
	session_close(s, NULL, NULL);
}

/* Asynchronous messages while nothing is owed: notifications, notices,
 * parameter changes, a backend's FATAL before it goes. */
static bool relay_async(session *s)
{
	for (int n = 0; n < s->num_conns; n++) {
		server *srv = s->conns[n];
		while (srv && (srv->in.scan < srv->in.tail || srv->in.pass)) {
			scan_result r = scan_one(s, srv, NULL);
			if (r == SCAN_FAIL) {
				relay_backend_lost(s, n, "protocol violation from backend");
				return false;
			}
			if (r == SCAN_BLOCKED)
				return true;
			if (r == SCAN_MORE)
				break;
			bool blocked;
			if (!flush_relay(s, &blocked)) {
				client_failed(s);
				return false;
			}
			if (blocked)
				return true;
		}
	}
	return true;
}

/* Bytes OpenSSL has already decrypted do not wake epoll: read them too. */
static bool tls_buffered(const ev_handler *h)
{
	return h->ssl && SSL_pending(h->ssl) > 0;
}

/* Relay replies in queue order as far as the sockets allow.  Scanned bytes
 * go to the client in one send when the scan has to stop (it needs more
 * bytes, or is blocked) or something else must come first (a local reply,
 * another node's reply, a lost backend): a reply read in one recv leaves in
 * one send, not one per message. */
static bool relay_output(session *s)
{
	bool blocked;
	for (;;) {
		expect *e = expect_head(&s->eq);
		if (!e || e->kind == EXP_LOCAL || !s->conns[e->node]) {
			if (!flush_relay(s, &blocked)) {
				client_failed(s);
				return false;
			}
			if (blocked)
				return true;
		}
		if (!e)
			return relay_async(s);
		if (e->kind == EXP_LOCAL) {
			buf *lb = &s->locals[e->local];
			buf_put(&s->cout, lb->data, lb->len);
			buf_free(lb);
			expect_pop(&s->eq);
			if (s->eq.count == 0) {
				for (int i = 0; i < s->num_locals; i++)
					buf_free(&s->locals[i]);
				s->num_locals = 0;
			}
			continue;
		}
		server *srv = s->conns[e->node];
		if (!srv) {
			relay_backend_lost(s, e->node, "connection gone");
			if (s->state != SESS_ACTIVE)
				return false;
			continue;   /* a standby: its owed replies are local errors now */
		}
		scan_result r = scan_one(s, srv, e);
		if (r == SCAN_PROGRESS)
			continue;
		/* the scan stops here: what it passed goes out first */
		if (!flush_relay(s, &blocked)) {
			client_failed(s);
			return false;
		}
		if (r == SCAN_FAIL) {
			relay_backend_lost(s, e->node, "protocol violation from backend");
			if (s->state != SESS_ACTIVE)
				return false;
			continue;
		}
		if (blocked)
			return true;
		if (r == SCAN_BLOCKED)
			continue;   /* the flush made way */
		/* SCAN_MORE: read that backend now if it may have something (saves
		 * an epoll round), else wait for epoll: a recv that finds nothing is
		 * a wasted system call per query */
		if (!srv->maybe_readable && !tls_buffered(&srv->ev))
			return true;
		int rc = iobuf_recv(&srv->in, &srv->ev);
		if (rc == IO_AGAIN) {
			srv->maybe_readable = false;
			return true;
		}
		if (rc == IO_EOF || rc == IO_ERR) {
			relay_backend_lost(s, e->node, rc == IO_EOF ? "backend closed the connection" : "read error");
			if (s->state != SESS_ACTIVE)
				return false;
			continue;
		}
	}
}

static bool flush_servers(session *s)
{
	for (int n = 0; n < s->num_conns; n++) {
		server *srv = s->conns[n];
		if (srv && srv->out_sent < srv->out.len && !server_flush(srv)) {
			relay_backend_lost(s, n, "write failed");
			if (s->state != SESS_ACTIVE)
				return false;
		}
	}
	return true;
}

static bool has_pending_output(const session *s)
{
	if (s->cout_sent < s->cout.len)
		return true;
	const server *rs = s->relay_node >= 0 ? s->conns[s->relay_node] : NULL;
	return rs && rs->in.head < rs->in.scan;
}

static void pump(session *s)
{
	if (!client_input(s) || s->state != SESS_ACTIVE)
		return;
	if (!flush_servers(s) || s->state != SESS_ACTIVE)
		return;
	if (!relay_output(s) || s->state != SESS_ACTIVE)
		return;
	/* output made room: more client input may be routable now */
	if (s->cin.head < s->cin.tail && !backlogged(s)) {
		if (!client_input(s) || s->state != SESS_ACTIVE || !flush_servers(s) || s->state != SESS_ACTIVE)
			return;
	}
	/* transaction pooling: idle outside a transaction, everything relayed */
	if (s->tx_pooling && s->tx_status == 'I' && relay_idle(s) && nodeset_empty(&s->in_tx) &&
	    s->conns[s->primary] && !has_pending_output(s))
		session_release_after_tx(s);
	session_update_interest(s);
}

void relay_resume(session *s)
{
	pump(s);
}

void relay_client_event(session *s, uint32_t events)
{
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || tls_buffered(&s->ev)) {
		int rc = iobuf_recv(&s->cin, &s->ev);
		if (rc == IO_EOF || rc == IO_ERR) {
			client_failed(s);
			return;
		}
		if (rc == IO_OK) {
			s->last_client_ms = now_ms();
			if (s->slot >= 0) {
				status_session_touch(g.status, s->slot);
				status_session_set_state(g.status, s->slot, SESSION_EXECUTE);
			}
		}
	}
	pump(s);
	for (int i = 0; i < 16 && s->state == SESS_ACTIVE && tls_buffered(&s->ev) &&
	     s->cin.tail < s->cin.cap; i++) {
		if (iobuf_recv(&s->cin, &s->ev) != IO_OK)
			break;
		pump(s);
	}
}

void relay_server_event(session *s, server *srv, uint32_t events)
{
	if ((events & EPOLLOUT) && !server_flush(srv)) {
		relay_backend_lost(s, srv->node_id, "write failed");
		if (s->state == SESS_ACTIVE)
			pump(s);   /* a lost standby: the errors queued in its place go out */
		return;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) || tls_buffered(&srv->ev)) {
		int rc = iobuf_recv(&srv->in, &srv->ev);
		/* a full read may have left more behind */
		srv->maybe_readable = rc == IO_OK && srv->in.tail == srv->in.cap;
		if (rc == IO_ERR || (rc == IO_EOF && srv->in.scan == srv->in.tail && !srv->in.pass)) {
			relay_backend_lost(s, srv->node_id, rc == IO_EOF ? "backend closed the connection" : "read error");
			if (s->state == SESS_ACTIVE)
				pump(s);
			return;
		}
	}
	pump(s);
}

/* ================================================================ losing a backend */

/* Queue a reply of our own in place of what a lost standby owed. */
static bool push_local(session *s, expect_queue *q, buf *content)
{
	buf *p = realloc(s->locals, sizeof(buf) * (size_t) (s->num_locals + 1));
	if (!p)
		return false;
	s->locals = p;
	s->locals[s->num_locals] = *content;
	if (!expect_push(q, -1, EXP_LOCAL, true))
		return false;
	q->ring[(q->head + q->count - 1) & (q->cap - 1)].local = s->num_locals++;
	return true;
}

/* A standby went away with replies owed: the client gets an error for what
 * was in flight there (and ReadyForQuery where one was due); swallowed
 * replies are forgotten.  The session goes on with the primary. */
static bool replace_owed_replies(session *s, int node)
{
	expect_queue q = { 0 };
	bool errored = false;
	char msg[160];
	snprintf(msg, sizeof(msg), "connection to backend node %d was lost; the statement did not complete", node);
	for (uint32_t i = 0; i < s->eq.count; i++) {
		expect e = s->eq.ring[(s->eq.head + i) & (s->eq.cap - 1)];
		if (e.node != node) {
			if (!expect_push(&q, e.node, (expect_kind) e.kind, e.forward))
				goto fail;
			q.ring[(q.head + q.count - 1) & (q.cap - 1)].local = e.local;
			continue;
		}
		if (!e.forward)
			continue;
		bool ends = e.kind == EXP_QUERY || e.kind == EXP_SYNC;
		if (errored && !ends)
			continue;     /* the error already answered this batch */
		buf b;
		buf_init(&b);
		if (!errored)
			proto_error(&b, "ERROR", "08006", msg, NULL);
		if (ends)
			proto_ready(&b, s->tx_status);
		errored = !ends;
		if (b.oom || !push_local(s, &q, &b)) {
			buf_free(&b);
			goto fail;
		}
	}
	expect_free(&s->eq);
	s->eq = q;
	return true;
fail:
	expect_free(&q);
	return false;
}

void relay_backend_lost(session *s, int node, const char *why)
{
	server *srv = s->conns[node];
	bool owed = expect_node_pending(&s->eq, node) || nodeset_has(&s->open_batch, node);
	bool orderly = srv && srv->said_fatal;
	bool failover = !orderly && g.cfg->failover_on_backend_error && node_usable(node);
	log_warning("backend node %d connection lost for %s (user=%s database=%s): %s",
		node, s->addr_str, s->sp.user, s->sp.database, why);
	if (failover)
		failover_request_detach_verify(node, why);
	if (s->slot >= 0)
		status_session_backend_detach(g.status, s->slot, node);
	/* a standby can be given up while its reply is not half relayed */
	bool midway = srv && s->relay_node == node && (srv->in.pass || srv->in.head < srv->in.scan);
	if (node != s->primary && !midway && (!owed || replace_owed_replies(s, node))) {
		if (srv) {
			s->conns[node] = NULL;
			server_close(srv);
		}
		if (s->relay_node == node)
			s->relay_node = -1;
		if (s->lb_node == node)
			s->lb_node = s->primary;
		nodeset_del(&s->open_batch, node);
		nodeset_del(&s->in_tx, node);
		if (s->copy_node == node)
			s->copy_node = s->primary;
		session_update_interest(s);
		return;
	}
	/* what the backend managed to say still goes out, then our error */
	if (srv && s->relay_node == node && srv->in.head < srv->in.scan)
		buf_put(&s->cout, srv->in.data + srv->in.head, srv->in.scan - srv->in.head);
	if (srv) {
		s->conns[node] = NULL;
		server_close(srv);
	}
	s->relay_node = -1;
	if (orderly)
		session_close(s, NULL, NULL);
	else if (node == s->primary && (failover || !node_usable(node))) {
		/* the client learns why either way: our request, or a failover
		 * (health check, another session) that got there first */
		char msg[200];
		if (failover)
			snprintf(msg, sizeof(msg), "connection to backend node %d (the primary) was lost: "
				"failover of node %d requested; reconnect to continue", node, node);
		else
			snprintf(msg, sizeof(msg), "connection to backend node %d (the primary) was lost: "
				"node %d failed over; reconnect to continue", node, node);
		session_close(s, "08006", msg);
	} else
		session_close(s, "08006", "server closed the connection unexpectedly");
}

/* Node status changed (failover): let go of nodes that are down; a session
 * whose primary failed ends, with a message naming the failover. */
void relay_nodes_changed(session *s)
{
	int primary = nodes_primary();
	session_wait_node_down(s);
	for (int n = 0; n < s->num_conns && s->state != SESS_CLOSED && s->state != SESS_CLOSING; n++) {
		if (!s->conns[n] || node_usable(n))
			continue;
		if (n == s->primary) {
			session_close_primary_failed(s);
			return;
		}
		/* still logging in or being prepared: failing the phase takes it
		 * out of the logins the session waits for (closing it would not) */
		if (server_abandon_phase(s->conns[n], "node is down"))
			continue;
		s->conns[n]->said_fatal = true;   /* no further failover request for it */
		relay_backend_lost(s, n, "node is down");
	}
	if (s->state != SESS_CLOSED && s->state != SESS_CLOSING && primary >= 0 && primary != s->primary &&
	    s->primary >= 0 && s->conns[s->primary]) {
		char msg[200];
		snprintf(msg, sizeof(msg), "terminating connection because node %d is now the primary", primary);
		session_close(s, "57P01", msg);
	}
	/* errors queued in place of what a lost standby owed go out now */
	if (s->state == SESS_ACTIVE)
		pump(s);
}
