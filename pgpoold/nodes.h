/* What the data path knows about each backend node right now, read from
 * and written to the status segment (libshared/status.h) that pcpd sees
 * too: usable or not, the primary, statement counters.  Values only the
 * data path needs (replay positions for causal_reads) live here. */
#ifndef PGPOOLD_NODES_H
#define PGPOOLD_NODES_H

#include "status.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct node_runtime {
	_Atomic uint64_t replay_lsn;   /* standbys: last replayed WAL position */
	_Atomic uint64_t delay_bytes;  /* behind the primary */
	_Atomic uint64_t delay_us;     /* replay_lag from pg_stat_replication */
} node_runtime;

extern node_runtime node_rt[];

/* Create the status segment and set each node's starting status (from the
 * status file unless discard_status); false (logged) on failure. */
bool nodes_init(bool discard_status);
void nodes_shutdown(void);
int nodes_primary(void);            /* -1 if none */
void nodes_set_primary(int id);
bool node_usable(int id);           /* up or waiting */
status_node_state node_status(int id);
/* Change a node's status, and persist it in the status file. */
void node_set_status(int id, status_node_state st);
/* Normalized load-balance weight (weight / sum of configured weights). */
double node_lb_weight(int id);
/* Bumped on every status or role change. */
uint64_t nodes_generation(void);
/* Whether a standby is too far behind to serve reads. */
bool node_lagging(int id);
void node_count_statement(int id, status_stmt_kind kind);
void node_count_error(int id, status_error_kind kind);

#endif
