/* Short libpq connections to a backend node, for the health check, the
 * failover manager and the replication check (never the data path). */
#ifndef PGPOOLD_PGCONN_H
#define PGPOOLD_PGCONN_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* Connect to node as user (password: given, else pool_passwd's plain text)
 * with a timeout in seconds (0 = libpq's default).  NULL on failure with the
 * reason in err. */
PGconn *pgconn_open(int node, const char *user, const char *password, const char *dbname,
	int timeout_s, char *err, size_t errlen);
/* -1 unknown (cannot connect / query failed), 0 primary, 1 standby. */
int pgconn_in_recovery(PGconn *c);
/* One-shot: connect as the sr_check user and ask pg_is_in_recovery(). */
int pgconn_node_in_recovery(int node);

#endif
