/* Node runtime state: see nodes.h. */
#include "nodes.h"
#include "pgpoold.h"

#include <time.h>

node_runtime node_rt[MAX_BACKENDS];
static _Atomic int primary_id = -1;
static _Atomic uint64_t generation;
static _Atomic uint64_t primary_lsn;

void nodes_init(void)
{
	time_t now = time(NULL);
	for (int i = 0; i < MAX_BACKENDS; i++) {
		atomic_store(&node_rt[i].status, i < g.num_nodes ? NODE_WAITING : NODE_UNUSED);
		atomic_store(&node_rt[i].last_status_change, (int64_t) now);
	}
	/* until the primary search has run: a node flagged ALWAYS_PRIMARY, else node 0 */
	int primary = g.num_nodes > 0 ? 0 : -1;
	for (int i = 0; i < g.num_nodes; i++)
		if (g.cfg->backends[i].flag & BACKEND_FLAG_ALWAYS_PRIMARY)
			primary = i;
	atomic_store(&primary_id, primary);
}

int nodes_primary(void)
{
	return atomic_load(&primary_id);
}

void nodes_set_primary(int id)
{
	if (atomic_exchange(&primary_id, id) != id)
		atomic_fetch_add(&generation, 1);
}

bool node_usable(int id)
{
	if (id < 0 || id >= g.num_nodes)
		return false;
	int st = atomic_load(&node_rt[id].status);
	return st == NODE_UP || st == NODE_WAITING;
}

void node_set_status(int id, node_status st)
{
	if (atomic_exchange(&node_rt[id].status, (int) st) != (int) st) {
		atomic_store(&node_rt[id].last_status_change, (int64_t) time(NULL));
		atomic_fetch_add(&generation, 1);
	}
}

double node_lb_weight(int id)
{
	double total = 0;
	for (int i = 0; i < g.num_nodes; i++)
		total += g.cfg->backends[i].weight;
	return total > 0 ? g.cfg->backends[id].weight / total : 0.0;
}

uint64_t nodes_generation(void)
{
	return atomic_load(&generation);
}

uint64_t nodes_primary_lsn(void)
{
	return atomic_load(&primary_lsn);
}

void nodes_set_primary_lsn(uint64_t lsn)
{
	atomic_store(&primary_lsn, lsn);
}

bool node_lagging(int id)
{
	const pool_config *cfg = g.cfg;
	if (id == nodes_primary())
		return false;
	if (cfg->delay_threshold > 0 && atomic_load(&node_rt[id].delay_bytes) > (uint64_t) cfg->delay_threshold)
		return true;
	if (cfg->delay_threshold_by_time > 0 &&
	    atomic_load(&node_rt[id].delay_us) > (uint64_t) cfg->delay_threshold_by_time * 1000u)
		return true;
	return false;
}
