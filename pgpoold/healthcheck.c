/* Health check threads: see healthcheck.h. */
#include "healthcheck.h"
#include "failover.h"
#include "nodes.h"
#include "pgconn.h"
#include "pgpoold.h"
#include "log.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

static pthread_t threads[MAX_BACKENDS];
static int num_threads;
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cond = PTHREAD_COND_INITIALIZER;
static bool stopping;

static int per_node(int node_value, int global_value)
{
	return node_value >= 0 ? node_value : global_value;
}

/* Sleep up to ms; true if we are stopping. */
static bool nap(int ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long) (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&stop_lock);
	while (!stopping && pthread_cond_timedwait(&stop_cond, &stop_lock, &until) == 0)
		;
	bool stop = stopping;
	pthread_mutex_unlock(&stop_lock);
	return stop;
}

bool healthcheck_probe(int node, char *err, size_t errlen)
{
	const pool_config *cfg = g.cfg;
	int timeout = per_node(cfg->backends[node].health_check_timeout, cfg->health_check_timeout);
	PGconn *c = pgconn_open(node, cfg->health_check_user, cfg->health_check_password,
		cfg->health_check_database, timeout, err, errlen);
	if (!c)
		return false;
	PQfinish(c);
	return true;
}

static bool ping(int node)
{
	const backend_config *b = &g.cfg->backends[node];
	char port[16];
	snprintf(port, sizeof(port), "%d", b->port);
	const char *keys[] = { "host", "port", "connect_timeout", "dbname", NULL };
	const char *vals[] = { b->hostname[0] ? b->hostname : "/tmp", port, "2", g.cfg->health_check_database, NULL };
	return PQpingParams(keys, vals, 0) == PQPING_OK;
}

void healthcheck_refresh_pg_status(int node)
{
	status_set_pg_status(g.status, node, ping(node) ? PG_STATUS_UP : PG_STATUS_DOWN);
}

static void check_once(int node)
{
	const backend_config *b = &g.cfg->backends[node];
	const pool_config *cfg = g.cfg;
	int max_retries = per_node(b->health_check_max_retries, cfg->health_check_max_retries);
	int retry_delay = per_node(b->health_check_retry_delay, cfg->health_check_retry_delay);
	uint64_t started = now_ms();
	char err[512] = "";
	int retries = 0;
	bool ok = healthcheck_probe(node, err, sizeof(err));
	while (!ok && retries < max_retries) {
		log_log("health check of node %d (%s) failed: %s; retrying (%d of %d)", node,
			g.nodes[node].label, err, retries + 1, max_retries);
		if (nap(retry_delay * 1000))
			return;
		retries++;
		ok = healthcheck_probe(node, err, sizeof(err));
	}
	int duration = (int) (now_ms() - started);
	status_hc_record(g.status, node, ok ? HC_SUCCESS : HC_FAIL, retries, duration, time(NULL));
	status_set_pg_status(g.status, node, ok ? PG_STATUS_UP : PG_STATUS_DOWN);
	if (ok)
		return;
	log_warning("health check of node %d (%s) failed after %d retries: %s", node,
		g.nodes[node].label, retries, err);
	if (b->flag & BACKEND_FLAG_DISALLOW_TO_FAILOVER) {
		log_warning("node %d has DISALLOW_TO_FAILOVER: not failing it over", node);
		return;
	}
	failover_request_detach(node, true, "health check failed");
}

/* auto_failback: a down standby that streams from the primary again, and
 * answers a health check, is attached. */
static void maybe_failback(int node, time_t *last_failback)
{
	const pool_config *cfg = g.cfg;
	if (!cfg->auto_failback || node == nodes_primary())
		return;
	time_t now = time(NULL);
	if (*last_failback && now - *last_failback < cfg->auto_failback_interval)
		return;
	status_node_info ni;
	if (!status_node_get(g.status, node, &ni) || ni.quarantine || strcmp(ni.replication_state, "streaming") != 0)
		return;
	char err[256];
	if (!healthcheck_probe(node, err, sizeof(err)))
		return;
	log_log("auto_failback: node %d streams from the primary and answers: attaching it", node);
	*last_failback = now;
	failover_request_attach(node);
}

static void *hc_main(void *arg)
{
	int node = (int) (intptr_t) arg;
	time_t last_failback = 0;
	for (;;) {
		const pool_config *cfg = g.cfg;
		int period = per_node(cfg->backends[node].health_check_period, cfg->health_check_period);
		status_hc_set_enabled(g.status, node, period > 0);
		if (period <= 0) {
			if (nap(1000))
				break;
			continue;
		}
		status_node_state st = node_status(node);
		if (st == NODE_STATUS_DOWN || st == NODE_STATUS_UNUSED) {
			status_hc_record(g.status, node, HC_SKIP, 0, 0, time(NULL));
			/* pg_status is what the server says now, detached or not: a ping
			 * (no login) is enough, as Pgpool-II's PQpingParams */
			healthcheck_refresh_pg_status(node);
			maybe_failback(node, &last_failback);
		} else
			check_once(node);
		if (nap(period * 1000))
			break;
	}
	return NULL;
}

int healthcheck_start(void)
{
	for (int n = 0; n < g.num_nodes; n++) {
		if (pthread_create(&threads[n], NULL, hc_main, (void *) (intptr_t) n) != 0) {
			log_error("could not start the health check thread of node %d", n);
			return -1;
		}
		num_threads = n + 1;
	}
	return 0;
}

void healthcheck_stop(void)
{
	pthread_mutex_lock(&stop_lock);
	stopping = true;
	pthread_cond_broadcast(&stop_cond);
	pthread_mutex_unlock(&stop_lock);
	for (int n = 0; n < num_threads; n++)
		pthread_join(threads[n], NULL);
	num_threads = 0;
}
