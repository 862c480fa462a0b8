/* Node state through the status segment: see nodes.h. */
#include "nodes.h"
#include "pgpoold.h"
#include "status_file.h"
#include "log.h"

#include <stdlib.h>
#include <unistd.h>

node_runtime node_rt[MAX_BACKENDS];
static char *status_path;

/* Pgpool-II's rule: a status file is applied unless it says every node is
 * down (then it is bogus: something must serve). */
static void apply_status_file(void)
{
	status_node_state saved[MAX_BACKENDS];
	int count = 0;
	char err[256];
	status_file_result r = status_file_read(status_path, saved, MAX_BACKENDS, &count, err, sizeof(err));
	if (r == STATUS_FILE_BOGUS)
		log_warning("ignoring node status file \"%s\": %s", status_path, err);
	if (r != STATUS_FILE_OK)
		return;
	bool any_up = false;
	for (int i = 0; i < count && i < g.num_nodes; i++)
		any_up |= saved[i] == NODE_STATUS_UP;
	if (!any_up) {
		log_warning("node status file \"%s\" has no node up: ignoring it", status_path);
		return;
	}
	for (int i = 0; i < count && i < g.num_nodes; i++)
		if (saved[i] == NODE_STATUS_DOWN) {
			status_set_node_status(g.status, i, NODE_STATUS_DOWN, false);
			log_log("node %d (%s) stays down: so says the status file (use -D to forget it)",
				i, g.nodes[i].label);
		}
}

bool nodes_init(bool discard_status)
{
	char err[256];
	g.status = status_create(g.cfg, err, sizeof(err));
	if (!g.status) {
		log_fatal("could not create the status segment: %s", err);
		return false;
	}
	status_path = status_file_path(g.cfg);
	if (!status_path)
		return false;
	if (discard_status)
		unlink(status_path);
	else
		apply_status_file();
	for (int i = 0; i < g.num_nodes; i++)
		status_set_node_weight(g.status, i, node_lb_weight(i));
	/* until the primary search has run: a node flagged ALWAYS_PRIMARY, else
	 * the first node that is not down */
	int primary = -1;
	for (int i = 0; i < g.num_nodes; i++)
		if (g.cfg->backends[i].flag & BACKEND_FLAG_ALWAYS_PRIMARY)
			primary = i;
	for (int i = 0; primary < 0 && i < g.num_nodes; i++)
		if (node_usable(i))
			primary = i;
	status_set_primary_node(g.status, primary);
	return true;
}

void nodes_shutdown(void)
{
	status_close(g.status);
	g.status = NULL;
	free(status_path);
	status_path = NULL;
}

int nodes_primary(void)
{
	return status_primary_node(g.status);
}

void nodes_set_primary(int id)
{
	status_set_primary_node(g.status, id);
}

status_node_state node_status(int id)
{
	return status_node_status(g.status, id);
}

bool node_usable(int id)
{
	if (id < 0 || id >= g.num_nodes)
		return false;
	status_node_state st = status_node_status(g.status, id);
	return st == NODE_STATUS_UP || st == NODE_STATUS_WAITING;
}

void node_set_status(int id, status_node_state st)
{
	if (status_node_status(g.status, id) == st)
		return;
	status_set_node_status(g.status, id, st, false);
	char err[256];
	if (!status_file_write_segment(status_path, g.status, err, sizeof(err)))
		log_warning("could not write node status file: %s", err);
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
	return status_generation(g.status);
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

void node_count_statement(int id, status_stmt_kind kind)
{
	status_count_statement(g.status, id, kind);
}

void node_count_error(int id, status_error_kind kind)
{
	status_count_error(g.status, id, kind);
}
