/* The replication check thread (Pgpool-II's sr_check): every
 * sr_check_period seconds it asks each node, over libpq, whether it is in
 * recovery and how far it has replayed, reads pg_stat_replication on the
 * primary, and publishes delay, replication state and the primary's id.
 * It also keeps a short history of the primary's WAL position per cycle,
 * which is what causal_reads compares a standby's replay position with. */
#ifndef PGPOOLD_SRCHECK_H
#define PGPOOLD_SRCHECK_H

#include <stdbool.h>
#include <stdint.h>

/* Find the primary once, synchronously (at start). */
void srcheck_find_primary(void);
int srcheck_start(void);
void srcheck_stop(void);
/* causal_reads: has node replayed everything the primary had written when
 * the first check cycle after `since_ms` (monotonic) began?  False when no
 * such cycle has completed yet. */
bool srcheck_caught_up(int node, uint64_t since_ms);

#endif
