/* Replication check thread: see srcheck.h. */
#include "srcheck.h"
#include "nodes.h"
#include "failover.h"
#include "pgpoold.h"
#include "pgconn.h"
#include "log.h"
#include "util.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LSN_HISTORY 64

typedef struct lsn_sample {
	uint64_t started_ms;     /* cycle start, monotonic */
	uint64_t primary_lsn;    /* read before any standby's replay position */
} lsn_sample;

static pthread_t thread;
static bool running;
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cond = PTHREAD_COND_INITIALIZER;
static bool stopping;

static pthread_mutex_t history_lock = PTHREAD_MUTEX_INITIALIZER;
static lsn_sample history[LSN_HISTORY];
static int history_next;
static int history_count;

static PGconn *conns[MAX_BACKENDS];

/* "16/B374D848" -> byte position */
static uint64_t parse_lsn(const char *text)
{
	unsigned hi, lo;
	if (!text || sscanf(text, "%X/%X", &hi, &lo) != 2)
		return 0;
	return ((uint64_t) hi << 32) | lo;
}

/* This thread's connection to node (kept between cycles), as sr_check_user. */
static PGconn *node_conn(int n)
{
	if (conns[n] && PQstatus(conns[n]) == CONNECTION_OK)
		return conns[n];
	if (conns[n])
		PQfinish(conns[n]);
	const pool_config *cfg = g.cfg;
	char err[512];
	int timeout = cfg->connect_timeout > 0 ? (cfg->connect_timeout + 999) / 1000 : 10;
	conns[n] = pgconn_open(n, cfg->sr_check_user, cfg->sr_check_password, cfg->sr_check_database,
		timeout, err, sizeof(err));
	if (!conns[n])
		log_warning("sr_check: could not connect to node %d (%s) as \"%s\": %s", n, g.nodes[n].label,
			cfg->sr_check_user, err);
	return conns[n];
}

/* One-value query; malloc'd text or NULL. */
static char *query_value(int n, const char *sql)
{
	PGconn *c = node_conn(n);
	if (!c)
		return NULL;
	PGresult *r = PQexec(c, sql);
	char *v = NULL;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		v = strdup(PQgetvalue(r, 0, 0));
	else if (PQresultStatus(r) != PGRES_TUPLES_OK)
		log_warning("sr_check: node %d: %s", n, PQerrorMessage(c));
	PQclear(r);
	return v;
}

/* -1 unknown, 0 primary, 1 standby; also published as the node's pg_role */
static int in_recovery(int n)
{
	char *v = query_value(n, "SELECT pg_catalog.pg_is_in_recovery()");
	int r = v ? (strcmp(v, "t") == 0) : -1;
	free(v);
	status_set_pg_role(g.status, n, r < 0 ? PG_ROLE_UNKNOWN : r ? PG_ROLE_STANDBY : PG_ROLE_PRIMARY);
	return r;
}

void srcheck_find_primary(void)
{
	int found = -1, primaries = 0;
	for (int n = 0; n < g.num_nodes; n++) {
		if (g.cfg->backends[n].flag & BACKEND_FLAG_ALWAYS_PRIMARY) {
			found = n;
			primaries = 1;
			break;
		}
		if (!node_usable(n))
			continue;
		if (in_recovery(n) == 0) {
			if (found < 0)
				found = n;
			primaries++;
		}
	}
	if (found >= 0) {
		if (found != nodes_primary())
			log_log("primary node is node %d (%s)", found, g.nodes[found].label);
		nodes_set_primary(found);
	} else
		log_warning("no primary node found: writes go to node %d", nodes_primary());
	if (primaries > 1)
		log_warning("%d nodes claim to be primary; using node %d", primaries, found);
}

static void read_replication_state(int primary)
{
	PGconn *c = node_conn(primary);
	if (!c)
		return;
	PGresult *r = PQexec(c, "SELECT application_name, state, sync_state, "
		"COALESCE((EXTRACT(EPOCH FROM replay_lag) * 1000000)::bigint, 0) FROM pg_catalog.pg_stat_replication");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return;
	}
	for (int n = 0; n < g.num_nodes; n++) {
		if (n == primary)
			continue;
		const char *want = g.cfg->backends[n].application_name;
		const char *state = "", *sync_state = "";
		for (int i = 0; want[0] && i < PQntuples(r); i++) {
			if (strcmp(PQgetvalue(r, i, 0), want) != 0)
				continue;
			state = PQgetvalue(r, i, 1);
			sync_state = PQgetvalue(r, i, 2);
			atomic_store(&node_rt[n].delay_us, (uint64_t) strtoull(PQgetvalue(r, i, 3), NULL, 10));
		}
		status_set_replication(g.status, n, atomic_load(&node_rt[n].delay_bytes), state, sync_state);
	}
	PQclear(r);
}

/* Every node's pg_role; with detach_false_primary, a node that claims to be
 * primary while another is gets detached: never two primaries in service. */
static void check_roles(int primary)
{
	for (int n = 0; n < g.num_nodes; n++) {
		if (!node_usable(n) || in_recovery(n) != 0 || n == primary)
			continue;
		if (g.cfg->detach_false_primary) {
			log_warning("node %d claims to be primary while node %d is: detaching it (detach_false_primary)",
				n, primary);
			failover_request_detach(n, false, "false primary");
		} else
			log_warning("node %d claims to be primary while node %d is (detach_false_primary is off)", n, primary);
	}
}

static void check_cycle(void)
{
	uint64_t started = now_ms();
	int primary = nodes_primary();
	if (primary < 0 || !node_usable(primary)) {
		/* no primary (a failover found none in time): keep looking, unless
		 * the failover manager is at work */
		if (status_requests_in_progress(g.status, NULL) == 0)
			srcheck_find_primary();
		return;
	}
	char *v = query_value(primary, "SELECT pg_catalog.pg_current_wal_lsn()");
	if (!v)
		return;
	uint64_t plsn = parse_lsn(v);
	free(v);
	for (int n = 0; n < g.num_nodes; n++) {
		if (n == primary || !node_usable(n))
			continue;
		v = query_value(n, "SELECT pg_catalog.pg_last_wal_replay_lsn()");
		if (!v)
			continue;
		uint64_t rlsn = parse_lsn(v);
		free(v);
		atomic_store(&node_rt[n].replay_lsn, rlsn);
		uint64_t delay = plsn > rlsn ? plsn - rlsn : 0;
		atomic_store(&node_rt[n].delay_bytes, delay);
		status_set_replication(g.status, n, delay, NULL, NULL);
		const char *mode = g.cfg->log_standby_delay;
		bool over = g.cfg->delay_threshold > 0 && delay > (uint64_t) g.cfg->delay_threshold;
		if (strcmp(mode, "always") == 0 || (over && strcmp(mode, "if_over_threshold") == 0))
			log_log("replication delay of node %d: %llu bytes%s", n, (unsigned long long) delay,
				over ? " (over delay_threshold: no reads)" : "");
	}
	read_replication_state(primary);
	check_roles(primary);
	pthread_mutex_lock(&history_lock);
	history[history_next] = (lsn_sample) { started, plsn };
	history_next = (history_next + 1) % LSN_HISTORY;
	if (history_count < LSN_HISTORY)
		history_count++;
	pthread_mutex_unlock(&history_lock);
}

bool srcheck_caught_up(int node, uint64_t since_ms)
{
	bool ok = false;
	uint64_t replay = atomic_load(&node_rt[node].replay_lsn);
	pthread_mutex_lock(&history_lock);
	/* the oldest cycle that began after since_ms: its primary position
	 * includes everything committed before since_ms */
	for (int i = history_count; i >= 1 && !ok; i--) {
		const lsn_sample *smp = &history[(history_next - i + LSN_HISTORY) % LSN_HISTORY];
		if (smp->started_ms > since_ms) {
			ok = replay >= smp->primary_lsn;
			break;
		}
	}
	pthread_mutex_unlock(&history_lock);
	return ok;
}

static void *srcheck_main(void *arg)
{
	(void) arg;
	for (;;) {
		check_cycle();
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += g.cfg->sr_check_period;
		pthread_mutex_lock(&stop_lock);
		while (!stopping && pthread_cond_timedwait(&stop_cond, &stop_lock, &until) == 0)
			;
		bool stop = stopping;
		pthread_mutex_unlock(&stop_lock);
		if (stop)
			break;
	}
	for (int n = 0; n < MAX_BACKENDS; n++)
		if (conns[n]) {
			PQfinish(conns[n]);
			conns[n] = NULL;
		}
	return NULL;
}

int srcheck_start(void)
{
	if (g.cfg->sr_check_period <= 0 || g.num_nodes < 2)
		return 0;
	if (pthread_create(&thread, NULL, srcheck_main, NULL) != 0) {
		log_error("could not start the replication check thread");
		return -1;
	}
	running = true;
	return 0;
}

void srcheck_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&stop_lock);
	stopping = true;
	pthread_cond_signal(&stop_cond);
	pthread_mutex_unlock(&stop_lock);
	pthread_join(thread, NULL);
	running = false;
}
