/* Health check threads, one per node (Pgpool-II's health_check_*): every
 * health_check_period seconds log in to the node; after
 * health_check_max_retries more failures, ask the failover manager to fail
 * it over.  Statistics go to the status segment as SHOW
 * pool_health_check_stats reports them.  auto_failback is done here too. */
#ifndef PGPOOLD_HEALTHCHECK_H
#define PGPOOLD_HEALTHCHECK_H

#include <stdbool.h>
#include <stddef.h>

int healthcheck_start(void);
void healthcheck_stop(void);
/* Can node be logged in to now (one attempt, health-check credentials)? */
bool healthcheck_probe(int node, char *err, size_t errlen);
/* Set the node's pg_status from a ping (no login) now, rather than at the
 * next health check period. */
void healthcheck_refresh_pg_status(int node);

#endif
