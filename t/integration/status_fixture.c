/* status_fixture: stands in for pgpoold towards pcpd, so pcpd and the pcp_*
 * tools can be tested without PostgreSQL and before (or apart from)
 * pgpoold's failover manager.
 *
 *   status_fixture -f CONFIG [options]
 *
 * Creates the status segment of CONFIG's instance (as pgpoold would),
 * fills it with plausible values (node 0 primary, the others streaming
 * standbys, health-check statistics, a few client sessions), then plays the
 * failover manager: takes requests from the queue in order and completes
 * them, changing node statuses as pgpoold would.  A stop request is
 * completed and then the fixture exits (as pgpoold stops).
 *
 * Options:
 *   --ready-file=PATH   write "ready\n" there once the segment exists
 *   --no-manager        never take requests (to test pcpd's timeouts)
 *   --slow-ms=N         take N ms over each request
 *   --sessions=N        client sessions to show (default 2)
 *   --fixed-time=EPOCH  use this time for every timestamp (stable output)
 * SIGTERM / SIGINT: close the segment and exit 0. */
#include "config.h"
#include "log.h"
#include "status.h"
#include "util.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void) sig;
	stop_requested = 1;
}

typedef struct fixture_opts {
	const char *config_file;
	const char *ready_file;
	bool no_manager;
	int slow_ms;
	int sessions;
	time_t fixed_time;
} fixture_opts;

static int parse_args(int argc, char **argv, fixture_opts *o)
{
	static const struct option longopts[] = {
		{"config-file", required_argument, NULL, 'f'},
		{"ready-file", required_argument, NULL, 'r'},
		{"no-manager", no_argument, NULL, 'N'},
		{"slow-ms", required_argument, NULL, 's'},
		{"sessions", required_argument, NULL, 'S'},
		{"fixed-time", required_argument, NULL, 'T'},
		{NULL, 0, NULL, 0}
	};
	int c;
	while ((c = getopt_long(argc, argv, "f:", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o->config_file = optarg; break;
		case 'r': o->ready_file = optarg; break;
		case 'N': o->no_manager = true; break;
		case 's': o->slow_ms = atoi(optarg); break;
		case 'S': o->sessions = atoi(optarg); break;
		case 'T': o->fixed_time = (time_t) atoll(optarg); break;
		default: return -1;
		}
	}
	return o->config_file ? 0 : -1;
}

/* Plausible health-check history: a few successful checks, one retried. */
static void fill_health(status_segment *st, int node, time_t now)
{
	status_hc_set_enabled(st, node, true);
	status_hc_record(st, node, HC_SUCCESS, 0, 4, now - 20);
	status_hc_record(st, node, HC_SUCCESS, 1, 1012, now - 10);
	status_hc_record(st, node, HC_SUCCESS, 0, 3, now);
}

static void fill_nodes(status_segment *st, time_t now)
{
	int n = status_num_nodes(st);
	for (int i = 0; i < n; i++) {
		status_set_node_status(st, i, NODE_STATUS_UP, false);
		status_set_pg_status(st, i, PG_STATUS_UP);
		status_set_pg_role(st, i, i == 0 ? PG_ROLE_PRIMARY : PG_ROLE_STANDBY);
		if (i > 0)
			status_set_replication(st, i, 0, "streaming", "async");
		fill_health(st, i, now);
		for (int k = 0; k < 3 + i; k++)
			status_count_statement(st, i, STMT_SELECT);
	}
	status_set_primary_node(st, n > 0 ? 0 : -1);
}

static void fill_sessions(status_segment *st, int count, time_t now)
{
	static const char *const dbs[] = { "booking_system_auth", "appdb", "postgres" };
	static const char *const users[] = { "app", "postgres", "reporter" };
	for (int k = 0; k < count; k++) {
		int slot = status_session_acquire(st);
		if (slot < 0)
			return;
		status_session_start(st, slot, dbs[k % 3], users[k % 3], 3, 0);
		for (int n = 0; n < status_num_nodes(st); n++)
			status_session_backend_attach(st, slot, n, 40000 + slot * 10 + n, now, (uint64_t) k);
		status_session_set_lb_node(st, slot, status_num_nodes(st) > 1 ? 1 : 0);
		/* running a statement: no idle seconds, so two tools called a moment
		 * apart print the same rows */
		status_session_set_state(st, slot, SESSION_EXECUTE);
	}
}

/* ---- the failover manager stand-in ---- */

static int first_up_other_than(status_segment *st, int node)
{
	for (int i = 0; i < status_num_nodes(st); i++)
		if (i != node && status_node_status(st, i) == NODE_STATUS_UP)
			return i;
	return -1;
}

static void handle(status_segment *st, const status_request *req, bool *stop)
{
	char msg[128] = "";
	int result = REQUEST_OK;
	int n = status_num_nodes(st);
	switch (req->type) {
	case REQUEST_ATTACH:
		status_set_node_status(st, req->node, NODE_STATUS_UP, false);
		snprintf(msg, sizeof(msg), "node %d attached", req->node);
		break;
	case REQUEST_DETACH:
		status_set_node_status(st, req->node, NODE_STATUS_DOWN, false);
		if (status_primary_node(st) == req->node)
			status_set_primary_node(st, first_up_other_than(st, req->node));
		snprintf(msg, sizeof(msg), "node %d detached", req->node);
		break;
	case REQUEST_PROMOTE: {
		int old = status_primary_node(st);
		if (req->node < 0 || req->node >= n || status_node_status(st, req->node) != NODE_STATUS_UP) {
			result = REQUEST_REJECTED;
			snprintf(msg, sizeof(msg), "node %d is not up: cannot promote it", req->node);
			break;
		}
		if (!(req->flags & REQUEST_FLAG_SWITCHOVER) && old >= 0)
			status_set_node_status(st, old, NODE_STATUS_DOWN, false);
		status_set_primary_node(st, req->node);
		snprintf(msg, sizeof(msg), "node %d promoted", req->node);
		break;
	}
	case REQUEST_RELOAD:
		snprintf(msg, sizeof(msg), "configuration reloaded");
		break;
	case REQUEST_STOP:
		snprintf(msg, sizeof(msg), "stopping");
		*stop = true;
		break;
	case REQUEST_RECOVERY:
		result = REQUEST_REJECTED;
		snprintf(msg, sizeof(msg), "recovery_1st_stage_command is not configured");
		break;
	}
	status_complete_request(st, req->id, result, msg, NULL);
	log_log("fixture: %s node %d -> %d %s", status_request_type_name(req->type), req->node, result, msg);
}

static void manage(status_segment *st, const fixture_opts *o)
{
	bool stop = false;
	while (!stop_requested && !stop) {
		if (o->no_manager || !status_wait_for_request(st, 100)) {
			if (o->no_manager)
				usleep(100000);
			continue;
		}
		status_request req;
		while (!stop && status_next_request(st, &req)) {
			if (o->slow_ms > 0)
				usleep((useconds_t) o->slow_ms * 1000);
			handle(st, &req, &stop);
		}
	}
}

int main(int argc, char **argv)
{
	fixture_opts o = { .sessions = 2 };
	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: status_fixture -f CONFIG [--ready-file=PATH] [--no-manager] [--slow-ms=N] "
			"[--sessions=N] [--fixed-time=EPOCH]\n");
		return 2;
	}
	pool_config cfg;
	config_errors errs = { 0 };
	if (config_load(o.config_file, &cfg, &errs) > 0) {
		for (int i = 0; i < errs.count; i++)
			fprintf(stderr, "%s\n", errs.items[i]);
		config_errors_free(&errs);
		config_free(&cfg);
		return 1;
	}
	config_errors_free(&errs);
	log_set_instance(cfg.instance_name);
	log_set_min_level(LOG_LVL_WARNING);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	char err[256] = "";
	status_segment *st = status_create(&cfg, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "status_fixture: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	time_t now = o.fixed_time ? o.fixed_time : time(NULL);
	fill_nodes(st, now);
	fill_sessions(st, o.sessions, now);
	if (o.ready_file) {
		FILE *f = fopen(o.ready_file, "w");
		if (f) {
			fputs("ready\n", f);
			fclose(f);
		}
	}
	manage(st, &o);
	status_close(st);
	config_free(&cfg);
	return 0;
}
