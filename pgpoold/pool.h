/* The backend connection cache, shared by all workers: idle, authenticated
 * connections keyed by (node, user, database, startup options). */
#ifndef PGPOOLD_POOL_H
#define PGPOOLD_POOL_H

#include "proto.h"

#include <stdbool.h>

struct server;
struct session;
struct worker;
struct pool_entry;

/* A session waiting for a connection of a full pool entry (transaction
 * pooling: at most default_pool_size connections per entry).  Embedded in
 * the session, one per node; linked under the pool lock. */
typedef struct pool_waiter {
	struct pool_waiter *next, *prev;
	struct session *session;
	struct worker *w;             /* the session's worker, woken by eventfd */
	struct pool_entry *pe;        /* the entry waited on while queued or woken */
	struct pool_entry *pe_cached; /* the session's entry for this node (owner only) */
	int node_id;
	bool queued;                  /* in pe->waiting */
	bool woken;                   /* in w->ready */
} pool_waiter;

/* A FIFO of waiters (pool lock held for every change). */
typedef struct waiter_list {
	pool_waiter *head, *tail;
} waiter_list;

typedef struct pool_entry {
	char *key;                   /* NUL-separated fields */
	size_t key_len;
	int node_id;
	char *database;
	bool cacheable;              /* template databases are never cached */
	bool transaction;            /* transaction pooling for this user/database */
	struct server *idle;         /* most recently used first */
	int num_idle;
	int num_open;                /* all connections of this key, any state */
	waiter_list waiting;         /* sessions waiting for a connection (FIFO) */
	struct pool_entry *next;
} pool_entry;

int pool_init(void);
/* The entry for a client's startup parameters on node (created if new);
 * NULL on allocation failure.  Entries live until pool_shutdown(). */
pool_entry *pool_entry_for(int node_id, const startup_packet *sp);
typedef enum pool_get_result { POOL_GOT, POOL_CONNECT, POOL_WAIT } pool_get_result;
/* A connection for a session: POOL_GOT with *out set (from the cache);
 * POOL_CONNECT: none idle, room for a new one, which is counted now (call
 * pool_count_close if the connect attempt fails at once); POOL_WAIT: the
 * entry is full (transaction pooling), the waiter is queued and its worker
 * is woken (pool_next_ready) when a connection is returned or closed.
 * fresh: never from the cache. */
pool_get_result pool_get(pool_entry *pe, pool_waiter *wt, bool fresh, struct server **out);
/* The session no longer waits (it ends); a wake it got goes to the next. */
void pool_cancel_wait(pool_waiter *wt);
/* The next woken waiter of worker w, unlinked, or NULL. */
pool_waiter *pool_next_ready(struct worker *w);
/* Open connections allowed per entry: default_pool_size in transaction
 * pooling, 0 (no limit) in session pooling. */
int pool_limit(const pool_entry *pe);
/* Compile user_pool_mode_list and database_pool_mode_list; false with a
 * message in err. */
bool pool_modes_init(char *err, size_t errlen);
void pool_modes_free(void);
/* Is this user's / database's pooling by transaction?  The user's entry
 * wins over the database's, which wins over pool_mode (as PgBouncer). */
bool pool_transaction_mode(const char *user, const char *database);
/* Give a connection back after its reset; closes it instead if the cache is
 * full, disabled, or it outlived connection_life_time. */
void pool_put(struct server *srv);
/* Close idle connections older than connection_life_time and free the
 * buffers of those idle for a second (main thread, 1/s). */
void pool_maintain(void);
/* Close every idle connection of one node's database, or all databases when
 * database is NULL (before CREATE/DROP/ALTER DATABASE, which other sessions block). */
void pool_drop_idle(const char *database);
/* Close every idle connection to a node (it failed over). */
void pool_drop_idle_node(int node_id);
void pool_count_close(pool_entry *pe);
void pool_shutdown(void);

#endif
