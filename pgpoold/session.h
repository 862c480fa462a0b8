/* A client session: a non-blocking state machine from the startup packet,
 * through authentication and the choice of backend connections (the
 * primary and the session's load-balance node), to the routed relay of
 * messages, and the return of the backend connections to the cache when
 * the client leaves. */
#ifndef PGPOOLD_SESSION_H
#define PGPOOLD_SESSION_H

#include "pgpoold.h"
#include "buf.h"
#include "iobuf.h"
#include "proto.h"
#include "expect.h"
#include "nodeset.h"
#include "stmt.h"

struct worker;
struct server;
struct authfiles;
struct client_auth;
struct pool_entry;

typedef enum session_state {
	SESS_STARTUP,       /* reading the startup packet (SSLRequest etc. first) */
	SESS_TLS,           /* TLS handshake with the client */
	SESS_AUTH,          /* authentication exchange with the client */
	SESS_WAIT_SERVER,   /* backend connections are logging in */
	SESS_ACTIVE,        /* relaying */
	SESS_CLOSING,       /* sending a last message, then close */
	SESS_CLOSED
} session_state;

typedef struct sqlprep_entry {
	char *name;
	int cls;                      /* route_class of the prepared statement */
	uint32_t flags;
} sqlprep_entry;

typedef struct session {
	ev_handler ev;                /* the client socket */
	struct session *prev, *next;  /* worker's session list; next = dead list link */
	session_state state;
	bool is_unix;
	char addr_str[64];            /* "host:port" or "[local]", for logs */
	char host_str[48];            /* host alone, for pool_hba.conf messages */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint64_t connected_ms;
	uint64_t last_client_ms;      /* last byte from the client */

	/* startup packet, kept whole: sp's strings point into it */
	uint8_t *startup_raw;
	startup_packet sp;

	/* authentication */
	struct authfiles *af;
	struct client_auth *auth;
	bool auth_done;               /* client authenticated */
	bool auth_after_server;       /* enable_pool_hba off: the primary's method is ours */
	bool need_fresh_server;       /* password checked by the backend, not the cache */
	char *backend_password;       /* password to log in to the backends with */

	/* backends: one connection per node in use, indexed by node id */
	struct server **conns;
	struct pool_waiter *waits;    /* per node: waiting for a full pool (pool.h) */
	int waiting_node;             /* node whose pool this session waits for, -1 none */
	int num_conns;                /* = g.num_nodes */
	int primary;                  /* primary node id for this session */
	int lb_node;                  /* load-balance node */
	int logins_pending;
	bool tx_pooling;              /* pool_mode = transaction */
	bool session_dirty;           /* ran something a reset must undo (route.c) */
	bool acquiring;               /* transaction pooling: waiting for backends */

	iobuf cin;                    /* client -> backends */
	buf cout;                     /* bytes for the client of our own making */
	size_t cout_sent;
	int relay_node;               /* node whose scanned bytes are being sent to the client, -1 none */

	/* routing state */
	expect_queue eq;              /* replies owed, in order */
	nodeset open_batch;           /* nodes with extended messages since their Sync */
	nodeset in_tx;                /* nodes where this session's transaction is open */
	int copy_node;                /* where CopyData goes */
	int pass_node;                /* node receiving a message too big to hold */
	size_t pass_left;             /* its bytes still to come */
	char tx_status;               /* last ReadyForQuery status the client saw */
	bool tx_wrote;                /* wrote in this explicit transaction */
	bool tx_primary_only;         /* serializable, savepoints, failed...: rest to primary */
	bool ever_wrote;              /* for disable_load_balance_on_write = always */
	bool trans_flag;              /* for trans_transaction */
	char *begin_sql;              /* the BEGIN that opened the transaction, replayed lazily */
	uint64_t causal_since_ms;     /* causal_reads: when this session's last write committed */
	bool wrote_unacked;           /* wrote since the last ReadyForQuery 'I' */
	char **temp_tables;           /* CREATE TEMP TABLE names seen */
	int num_temp_tables;
	char **tx_written;            /* tables written in this transaction (dml_adaptive) */
	int num_tx_written;
	struct sqlprep_entry *sqlprep;   /* SQL PREPAREd names and their statements' class */
	int num_sqlprep;
	stmt_table stmts;
	buf *locals;                  /* replies built by pgpoold, queued as EXP_LOCAL */
	int num_locals;

	uint32_t key_pid, key_secret; /* BackendKeyData we gave the client */
	int cancel_slot;
	bool client_gone;             /* EOF or Terminate seen */
	bool counted;                 /* in the per-database / per-user limits */
	bool tls_direct;              /* TLS began without SSLRequest (PostgreSQL 17) */
	bool tls_want_write;          /* the handshake waits for the socket to take bytes */
	int slot;                     /* status segment session slot, -1 if none */
	int idle_limit;               /* client_idle_limit for this session (PGPOOL SET) */
	bool log_statement;           /* log_statement for this session (PGPOOL SET) */
} session;

/* Accept a new client socket (already non-blocking) on worker w. */
void session_accept(struct worker *w, int fd, const struct sockaddr *addr, socklen_t addrlen, bool is_unix);
/* Periodic checks (authentication_timeout, client_idle_limit, connect timeout). */
void session_tick(session *s, uint64_t now);
/* End the session: optional FATAL to the client first (sqlstate NULL = none). */
void session_close(session *s, const char *sqlstate, const char *message);
void session_free(session *s);
/* Authentication finished well: continue (called by client_auth). */
void session_auth_ok(session *s);
/* Reset finished on a connection with no client: back to the cache. */
void session_server_reset_done(struct server *srv, bool ok);
/* A connection resetting without a client: close it if it takes too long. */
void server_orphan_tick(struct server *srv, uint64_t now);
/* Queue a message for the client and try to send it. */
bool session_send(session *s);
/* Recompute epoll interest of the client and its backend connections. */
void session_update_interest(session *s);

/* Transaction pooling: get the backends for the next transaction (1 ready,
 * 0 on its way: the relay resumes when it is, -1 the session ended), and
 * give them back once the client is idle outside a transaction. */
int session_acquire_for_tx(session *s);
void session_release_after_tx(session *s);
/* The pool this session waited for has a connection or room (worker, on
 * its wake event): carry on acquiring. */
void session_pool_ready(session *s);
/* After a failover: the session's primary is down (57P01, naming it). */
void session_close_primary_failed(session *s);
/* After a failover: a session queued for a full pool of a node now down. */
void session_wait_node_down(session *s);
/* relay.c: continue after backends arrived. */
void relay_resume(session *s);

/* relay.c: the routed relay while ACTIVE */
void relay_client_event(session *s, uint32_t events);
void relay_server_event(session *s, struct server *srv, uint32_t events);
/* The backend connection of node was lost mid-session. */
void relay_backend_lost(session *s, int node, const char *why);
/* Everything sent and nothing owed: the connections may go back to the cache. */
bool relay_idle(const session *s);
/* Node status or the primary changed: drop what is down, end sessions whose
 * primary is gone. */
void relay_nodes_changed(session *s);

#endif
