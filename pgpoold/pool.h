/* The backend connection cache, shared by all workers: idle, authenticated
 * connections keyed by (node, user, database, startup options). */
#ifndef PGPOOLD_POOL_H
#define PGPOOLD_POOL_H

#include "proto.h"

#include <stdbool.h>

struct server;

typedef struct pool_entry {
	char *key;                   /* NUL-separated fields */
	size_t key_len;
	int node_id;
	char *database;
	bool cacheable;              /* template databases are never cached */
	struct server *idle;         /* most recently used first */
	int num_idle;
	int num_open;                /* all connections of this key, any state */
	struct pool_entry *next;
} pool_entry;

int pool_init(void);
/* The entry for a client's startup parameters on node (created if new);
 * NULL on allocation failure.  Entries live until pool_shutdown(). */
pool_entry *pool_entry_for(int node_id, const startup_packet *sp);
/* An idle connection that still looks alive, or NULL.  The caller owns it. */
struct server *pool_take(pool_entry *pe);
/* Give a connection back after its reset; closes it instead if the cache is
 * full, disabled, or it outlived connection_life_time. */
void pool_put(struct server *srv);
/* Close idle connections older than connection_life_time (main thread, 1/s). */
void pool_maintain(void);
/* Close every idle connection of one node's database, or all databases when
 * database is NULL (before CREATE/DROP/ALTER DATABASE, which other sessions block). */
void pool_drop_idle(const char *database);
/* Close every idle connection to a node (it failed over). */
void pool_drop_idle_node(int node_id);
void pool_count_connect(pool_entry *pe);
void pool_count_close(pool_entry *pe);
void pool_shutdown(void);

#endif
