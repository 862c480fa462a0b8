/* Routing decisions: see route.h. */
#include "route.h"
#include "session.h"
#include "nodes.h"
#include "srcheck.h"
#include "pgpoold.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void *route_worker_init(char *err, size_t errlen)
{
	(void) err;
	(void) errlen;
	return NULL;
}

void route_worker_free(void *ctx)
{
	(void) ctx;
}

void route_analyze(session *s, const char *sql, size_t len, route_info *out)
{
	memset(out, 0, sizeof(*out));
	out->cls = RC_WRITE;
}

/* Uniform random in [0, 1). */
static double random_unit(void)
{
	uint32_t r;
	if (!random_bytes(&r, sizeof(r)))
		r = (uint32_t) now_ms();
	return (double) r / 4294967296.0;
}

/* Weighted random pick over usable nodes (Pgpool-II: the primary takes part
 * with its own weight); `exclude` is skipped. */
static int weighted_pick(int exclude)
{
	const pool_config *cfg = g.cfg;
	double total = 0;
	for (int n = 0; n < g.num_nodes; n++)
		if (n != exclude && node_usable(n))
			total += cfg->backends[n].weight;
	if (total <= 0)
		return nodes_primary();
	double r = random_unit() * total, sum = 0;
	int last = -1;
	for (int n = 0; n < g.num_nodes; n++) {
		if (n == exclude || !node_usable(n) || cfg->backends[n].weight <= 0)
			continue;
		sum += cfg->backends[n].weight;
		last = n;
		if (r < sum)
			return n;
	}
	return last >= 0 ? last : nodes_primary();
}

int route_choose_lb_node(session *s)
{
	const pool_config *cfg = g.cfg;
	int primary = nodes_primary();
	if (!cfg->load_balance_mode || g.num_nodes < 2)
		return primary;
	int n = weighted_pick(-1);
	if (n != primary && node_lagging(n) && cfg->prefer_lower_delay_standby) {
		/* the least delayed standby instead */
		uint64_t best = UINT64_MAX;
		for (int i = 0; i < g.num_nodes; i++) {
			if (i == primary || !node_usable(i) || cfg->backends[i].weight <= 0)
				continue;
			uint64_t d = atomic_load(&node_rt[i].delay_bytes);
			if (d < best) {
				best = d;
				n = i;
			}
		}
	}
	return n >= 0 ? n : primary;
}

int route_read_node(session *s, const route_info *ri)
{
	const pool_config *cfg = g.cfg;
	int lb = s->lb_node;
	if (lb < 0 || lb == s->primary || !cfg->load_balance_mode || !s->conns[lb] || !node_usable(lb))
		return s->primary;
	if (ri->flags & (RF_TOUCHES_TEMP | RF_CATALOG))
		return s->primary;
	bool in_tx = s->tx_status != 'I' || !nodeset_empty(&s->in_tx);
	const char *mode = cfg->disable_load_balance_on_write;
	if (in_tx) {
		if (s->tx_status == 'E' || s->tx_primary_only)
			return s->primary;
		if (s->tx_wrote && strcmp(mode, "off") != 0)
			return s->primary;
		if (s->trans_flag && strcmp(mode, "trans_transaction") == 0)
			return s->primary;
	}
	if (s->ever_wrote && strcmp(mode, "always") == 0)
		return s->primary;
	if (node_lagging(lb))
		return s->primary;
	if (cfg->causal_reads && (s->wrote_unacked || (s->causal_since_ms && !srcheck_caught_up(lb, s->causal_since_ms))))
		return s->primary;
	return lb;
}
