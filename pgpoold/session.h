/* A client session: a non-blocking state machine from the startup packet,
 * through authentication and the choice of a backend connection, to the
 * relay of messages in both directions, and the return of the backend
 * connection to the cache when the client leaves. */
#ifndef PGPOOLD_SESSION_H
#define PGPOOLD_SESSION_H

#include "pgpoold.h"
#include "buf.h"
#include "iobuf.h"
#include "proto.h"

struct worker;
struct server;
struct authfiles;
struct client_auth;
struct pool_entry;

typedef enum session_state {
	SESS_STARTUP,       /* reading the startup packet (SSLRequest etc. first) */
	SESS_AUTH,          /* authentication exchange with the client */
	SESS_WAIT_SERVER,   /* a backend connection is logging in */
	SESS_ACTIVE,        /* relaying */
	SESS_CLOSING,       /* sending a last message, then close */
	SESS_CLOSED
} session_state;

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
	struct pool_entry *pool;

	/* authentication */
	struct authfiles *af;
	struct client_auth *auth;
	bool auth_done;               /* AuthenticationOk queued */
	bool auth_after_server;       /* enable_pool_hba off: backend's method is ours */
	bool need_fresh_server;       /* password checked by the backend, not the cache */
	char *backend_password;       /* password to log in to the backend with */

	iobuf cin;                    /* client -> backend */
	buf cout;                     /* our own messages for the client */
	size_t cout_sent;

	struct server *srv;
	uint32_t key_pid, key_secret; /* BackendKeyData we gave the client */
	int cancel_slot;
	bool client_gone;             /* EOF or Terminate seen */
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

#endif
