/* A backend connection: connect, startup, authentication to PostgreSQL,
 * internal queries (reset, SET application_name), and the server half of
 * the relay. */
#ifndef PGPOOLD_SERVER_H
#define PGPOOLD_SERVER_H

#include "pgpoold.h"
#include "buf.h"
#include "iobuf.h"
#include "proto.h"

#include <sys/epoll.h>
#include <time.h>

struct session;
struct pool_entry;
struct scram_client;

typedef enum server_state {
	SRV_CONNECTING,   /* non-blocking connect in progress */
	SRV_SSLREQ,       /* SSLRequest sent, waiting for 'S' or 'N' */
	SRV_TLS,          /* TLS handshake with the backend */
	SRV_LOGIN,        /* startup packet sent, authenticating, collecting parameters */
	SRV_INTERNAL,     /* running internal queries, replies swallowed */
	SRV_ACTIVE,       /* linked to a client, relaying */
	SRV_IDLE,         /* in the cache */
	SRV_CLOSED
} server_state;

typedef struct server_kv {
	char *name;
	char *value;
} server_kv;

struct server;
typedef void (*server_done_fn)(struct server *srv, bool ok);

typedef struct server {
	ev_handler ev;
	server_state state;
	int node_id;
	struct pool_entry *pool;      /* cache key it belongs to */
	struct session *client;       /* owner while linked */
	iobuf in;                     /* bytes from the backend */
	buf out;                      /* bytes we produced for the backend */
	buf startup;                  /* the startup packet, sent once connected (and TLS is up) */
	size_t out_sent;
	char tx_status;               /* last ReadyForQuery status */
	uint32_t be_pid, be_key;      /* BackendKeyData */
	server_kv *params;         /* ParameterStatus values, current */
	int num_params;
	int auth_code;                /* AUTH_REQ_* the backend asked for; 0 = trust */
	char *user;                   /* login user, for md5 */
	char *password;               /* for login only; wiped after */
	struct scram_client *scram;
	uint8_t *login_error;         /* backend's ErrorResponse during login (whole message) */
	size_t login_error_len;
	const char *fail_reason;      /* why login/internal failed, for logs and clients */
	bool discarding;              /* the message streaming through (in.pass) is swallowed */
	bool tls_want_write;          /* the TLS handshake waits for the socket to take bytes */
	bool said_fatal;
	bool maybe_readable;          /* the socket may hold more than we read */
	bool reset_done_discards;     /* the reset that ends a client ran DISCARD ALL */
	/* transaction pooling: statements prepared here, by hash of their text */
	uint64_t *prepared;
	int num_prepared, cap_prepared;              /* sent a FATAL: its end is orderly, not a node failure */
	int internal_left;            /* internal queries still awaiting ReadyForQuery */
	bool internal_failed;
	server_done_fn done;          /* called when login or internal queries end */
	uint64_t created_ms;
	time_t created_at;            /* wall clock, for SHOW pool_pools */
	uint64_t uses;                /* sessions that used it (pool_counter) */
	uint64_t state_since_ms;      /* for connect/login/reset timeouts */
	struct server *next, *prev;   /* cache list or a worker's orphan/dead lists */
} server;

/* Start connecting to node with the client's startup parameters (copied);
 * done(srv, ok) is called on worker w when login ends.  NULL on immediate
 * failure (logged).  The caller has counted the connection in pool
 * (pool_get); it is uncounted when closed, or by the caller after NULL. */
server *server_connect(struct worker *w, int node_id, struct pool_entry *pool,
	const startup_packet *sp, const char *password, server_done_fn done);
/* Put a connection taken from the cache into worker w's epoll set. */
int server_attach(server *srv, struct worker *w);
/* Run queries one after another (each its own Query message), swallowing the
 * replies but keeping ParameterStatus values; done(srv, ok) at the end. */
void server_run_internal(server *srv, const char *const *queries, int n, server_done_fn done);
/* End a running login or internal-query phase as failed (its node went
 * down): the phase's done(srv, false) runs.  False when none was running. */
bool server_abandon_phase(server *srv, const char *reason);
/* Send what is queued in out; false on a socket error. */
bool server_flush(server *srv);
/* Record a ParameterStatus message body; false if malformed. */
bool server_note_param(server *srv, const uint8_t *body, size_t len);
/* Keep epoll interest right for a connection in login or internal queries. */
void server_update_interest(server *srv);
/* Close now: Terminate if it was logged in, close the socket, unlink from
 * the epoll set; memory is freed after the current event batch (or at once
 * when not owned by a worker). */
void server_close(server *srv);
void server_free(server *srv);
const char *server_param(const server *srv, const char *name);
bool server_has_prepared(const server *srv, uint64_t hash);
bool server_add_prepared(server *srv, uint64_t hash);
void server_forget_prepared(server *srv);
/* The event handler used while a client owns the connection is set by the
 * session; this one drives login and internal queries. */
void server_own_event(ev_handler *h, uint32_t events);

#endif
