/* CancelRequest handling.  Each client session gets a BackendKeyData whose
 * pid is its backend's real pid (so PQbackendPID() equals pg_backend_pid())
 * and whose key is our own random number; a registry shared by all workers
 * maps it to the backend's real key, and a forwarder sends the real
 * CancelRequest to that backend without blocking the worker. */
#ifndef PGPOOLD_CANCEL_H
#define PGPOOLD_CANCEL_H

#include <stdbool.h>
#include <stdint.h>

struct worker;

typedef struct cancel_target {
	int node_id;
	uint32_t be_pid;
	uint32_t be_key;
} cancel_target;

#define CANCEL_MAX_TARGETS 8   /* the nodes one session may use at once */

/* Register a client key for the session's backends; returns a slot id
 * (>= 0) for cancel_unregister, or -1. */
int cancel_register(uint32_t client_pid, uint32_t client_key, const cancel_target *t, int n);
void cancel_unregister(int slot);
/* The session now uses other backends (transaction pooling): n = 0 while
 * it has none, so a cancel never reaches another client's query. */
void cancel_update(int slot, const cancel_target *t, int n);
/* Look up a client's CancelRequest: the number of targets copied to out
 * (0 if unknown: ignored, as PostgreSQL does). */
int cancel_lookup(uint32_t client_pid, uint32_t client_key, cancel_target out[CANCEL_MAX_TARGETS]);
/* Send the real CancelRequest to the backend from worker w. */
void cancel_forward(struct worker *w, const cancel_target *t);
void cancel_free_all(void);

#endif
