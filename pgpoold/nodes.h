/* What the data path knows about each backend node right now: whether it
 * may be used, its role, weight and replication delay, and per-node
 * statement counters.  Reads are lock-free (atomics); the status segment
 * (shared with pcpd) mirrors these values. */
#ifndef PGPOOLD_NODES_H
#define PGPOOLD_NODES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum node_status {
	NODE_UNUSED = 0,
	NODE_WAITING = 1,
	NODE_UP = 2,
	NODE_DOWN = 3
} node_status;

typedef struct node_runtime {
	_Atomic int status;            /* node_status */
	_Atomic uint64_t replay_lsn;   /* standbys: last replayed WAL position */
	_Atomic uint64_t delay_bytes;  /* behind the primary */
	_Atomic uint64_t delay_us;     /* replay_lag from pg_stat_replication */
	_Atomic uint64_t select_cnt;
	_Atomic uint64_t insert_cnt, update_cnt, delete_cnt, ddl_cnt, other_cnt;
	_Atomic uint64_t panic_cnt, fatal_cnt, error_cnt;
	_Atomic int64_t last_status_change;   /* time_t */
	char replication_state[32];
	char replication_sync_state[32];
} node_runtime;

extern node_runtime node_rt[];

void nodes_init(void);
int nodes_primary(void);            /* -1 if none */
void nodes_set_primary(int id);
bool node_usable(int id);           /* up or waiting */
void node_set_status(int id, node_status st);
/* Normalized load-balance weight (weight / sum of configured weights). */
double node_lb_weight(int id);
/* Bumped on every status or role change. */
uint64_t nodes_generation(void);
/* The primary's WAL insert position last seen (for causal reads). */
uint64_t nodes_primary_lsn(void);
void nodes_set_primary_lsn(uint64_t lsn);
/* Whether a standby is too far behind to serve reads. */
bool node_lagging(int id);

#endif
