/* Commands pgpoold answers itself over SQL (simple query protocol only, as
 * Pgpool-II): SHOW pool_nodes, pool_version, pool_backend_stats,
 * pool_health_check_stats, pool_processes, pool_pools, pool_status,
 * pool_cache, and PGPOOL SHOW.  Columns and formats are Pgpool-II 4.3's
 * (shared/spec/show-commands.md). */
#ifndef PGPOOLD_SHOW_H
#define PGPOOLD_SHOW_H

#include "buf.h"
#include "route.h"

#include <stddef.h>

typedef enum show_cmd {
	SHOW_NONE = 0,
	SHOW_POOL_NODES,
	SHOW_POOL_STATUS,
	SHOW_POOL_PROCESSES,
	SHOW_POOL_POOLS,
	SHOW_POOL_VERSION,
	SHOW_POOL_CACHE,
	SHOW_POOL_HEALTH_CHECK_STATS,
	SHOW_POOL_BACKEND_STATS,
	PGPOOL_SHOW,
	PGPOOL_SET,
	PGPOOL_RESET
} show_cmd;

struct session;

/* Build the complete reply (rows, CommandComplete, ReadyForQuery) into out. */
void show_command(struct session *s, const route_info *ri, const char *sql, size_t len, buf *out);
/* The same reply in the pieces the extended protocol asks for: the
 * RowDescription (Describe) and the rows with CommandComplete or the
 * ErrorResponse (Execute); no ReadyForQuery (Sync brings one). */
void show_command_parts(struct session *s, const route_info *ri, const char *sql, size_t len,
	buf *describe, buf *execute);

#endif
