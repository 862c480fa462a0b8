/* The failover manager: see failover.h. */
#include "failover.h"
#include "command.h"
#include "healthcheck.h"
#include "nodes.h"
#include "pgconn.h"
#include "pool.h"
#include "authfiles.h"
#include "worker.h"
#include "pgpoold.h"
#include "log.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GRACEFUL_WAIT_S 60

static pthread_t thread;
static bool running;
static _Atomic bool stopping;

/* ---------------------------------------------------------------- requests from inside */

static void submit(status_request_type type, int node, unsigned flags, const char *why)
{
	char err[256];
	if (status_submit_request(g.status, type, node, flags, err, sizeof(err)) < 0)
		log_error("could not queue a %s request for node %d (%s): %s",
			status_request_type_name(type), node, why ? why : "", err);
}

void failover_request_detach(int node, bool seen_down, const char *why)
{
	log_log("requesting failover of node %d: %s", node, why);
	submit(REQUEST_DETACH, node, seen_down ? REQUEST_FLAG_SEEN_DOWN : 0, why);
}

void failover_request_detach_verify(int node, const char *why)
{
	submit(REQUEST_DETACH, node, REQUEST_FLAG_VERIFY, why);
}

void failover_request_attach(int node)
{
	submit(REQUEST_ATTACH, node, 0, "attach");
}

/* ---------------------------------------------------------------- helpers */

static int lowest_usable(int except)
{
	for (int n = 0; n < g.num_nodes; n++)
		if (n != except && node_usable(n))
			return n;
	return -1;
}

static void run_command(const char *what, const char *tmpl, const command_nodes *cn)
{
	if (!tmpl || !tmpl[0])
		return;
	char *cmd = command_expand(tmpl, cn);
	if (!cmd) {
		log_error("out of memory expanding %s", what);
		return;
	}
	command_run(what, cmd);
	free(cmd);
}

/* Poll the usable nodes for the one that is not in recovery, once a second
 * for up to search_primary_node_timeout seconds (0 = forever). */
static int search_primary(int prefer)
{
	int timeout = g.cfg->search_primary_node_timeout;
	time_t deadline = time(NULL) + timeout;
	for (;;) {
		if (prefer >= 0 && node_usable(prefer) && pgconn_node_in_recovery(prefer) == 0)
			return prefer;
		for (int n = 0; n < g.num_nodes; n++)
			if (n != prefer && node_usable(n) && pgconn_node_in_recovery(n) == 0)
				return n;
		if (atomic_load(&stopping) || (timeout > 0 && time(NULL) >= deadline))
			return -1;
		sleep(1);
	}
}

/* follow_primary_command, run for each node in `who` after a new primary
 * was found; in its own thread, because the usual script ends with
 * pcp_attach_node, a request this manager must be free to handle. */
typedef struct follow_job {
	int nodes[MAX_BACKENDS];
	int count;
	command_nodes cn;
} follow_job;

static void *follow_main(void *arg)
{
	follow_job *job = arg;
	for (int i = 0; i < job->count; i++) {
		command_nodes cn = job->cn;
		cn.node = job->nodes[i];
		run_command("follow_primary_command", g.cfg->follow_primary_command, &cn);
	}
	free(job);
	return NULL;
}

static void start_follow(int new_primary, int old_primary, int old_main, int keep_down)
{
	if (!g.cfg->follow_primary_command[0])
		return;
	follow_job *job = calloc(1, sizeof(*job));
	if (!job)
		return;
	job->cn = (command_nodes) { -1, new_primary, old_main, old_primary };
	for (int n = 0; n < g.num_nodes; n++) {
		if (n == new_primary || n == keep_down || node_status(n) == NODE_STATUS_UNUSED)
			continue;
		/* as Pgpool-II: followers are down until the script attaches them */
		node_set_status(n, NODE_STATUS_DOWN);
		pool_drop_idle_node(n);
		job->nodes[job->count++] = n;
	}
	pthread_t t;
	if (job->count == 0 || pthread_create(&t, NULL, follow_main, job) != 0) {
		free(job);
		return;
	}
	pthread_detach(t);
}

/* Take `failed` out of service; when it was the primary, find the new one
 * (promoted by failover_command, which gets %m = new_main). */
static int do_failover(int failed, int new_main, bool switchover, bool seen_down, char *msg, size_t msglen)
{
	int old_primary = nodes_primary();
	int old_main = lowest_usable(-1);
	node_set_status(failed, NODE_STATUS_DOWN);
	pool_drop_idle_node(failed);
	/* SHOW pool_nodes right after a failover shows what the server is now
	 * (pg_status down for a dead node), not what the last check saw; a
	 * node seen failing is not pinged (a hung host would delay failover) */
	if (seen_down)
		status_set_pg_status(g.status, failed, PG_STATUS_DOWN);
	else
		healthcheck_refresh_pg_status(failed);
	if (new_main < 0)
		new_main = lowest_usable(failed);
	log_log("failover: node %d (%s) is down; new main node %d", failed, g.nodes[failed].label, new_main);
	command_nodes cn = { failed, new_main, old_main, old_primary };
	run_command("failover_command", g.cfg->failover_command, &cn);
	if (failed != old_primary) {
		snprintf(msg, msglen, "node %d detached", failed);
		return REQUEST_OK;
	}
	nodes_set_primary(-1);
	int found = search_primary(new_main);
	if (found < 0) {
		log_error("failover: no new primary found within search_primary_node_timeout (%d s)",
			g.cfg->search_primary_node_timeout);
		snprintf(msg, msglen, "node %d detached; no new primary found", failed);
		return REQUEST_FAILED;
	}
	nodes_set_primary(found);
	/* what the search just saw: pg_role need not wait for the next check */
	status_set_pg_role(g.status, found, PG_ROLE_PRIMARY);
	log_log("failover: node %d (%s) is the new primary", found, g.nodes[found].label);
	/* without switchover the old primary stays down: never two primaries */
	start_follow(found, old_primary, old_main, switchover ? -1 : failed);
	snprintf(msg, msglen, "node %d detached; node %d is the primary", failed, found);
	return REQUEST_OK;
}

/* Sessions still using node (graceful detach waits for them). */
static int sessions_on(int node)
{
	int count = 0;
	int max = status_max_sessions(g.status);
	for (int i = 0; i < max; i++) {
		status_session_info si;
		if (status_session_get(g.status, i, &si) && si.in_use && si.backends[node].connected)
			count++;
	}
	return count;
}

static void wait_sessions_gone(int node)
{
	for (int i = 0; i < GRACEFUL_WAIT_S * 10 && sessions_on(node) > 0 && !atomic_load(&stopping); i++)
		usleep(100000);
}

/* ---------------------------------------------------------------- request handlers */

static int handle_detach(const status_request *r, char *msg, size_t msglen)
{
	int node = r->node;
	if (!node_usable(node)) {
		snprintf(msg, msglen, "node %d status is not valid for failover", node);
		return REQUEST_REJECTED;
	}
	if (g.cfg->backends[node].flag & BACKEND_FLAG_DISALLOW_TO_FAILOVER) {
		snprintf(msg, msglen, "node %d has DISALLOW_TO_FAILOVER", node);
		return REQUEST_REJECTED;
	}
	if (r->flags & REQUEST_FLAG_VERIFY) {
		char err[256];
		if (healthcheck_probe(node, err, sizeof(err))) {
			log_log("node %d still answers: a lost session connection is not a failover", node);
			snprintf(msg, msglen, "node %d is reachable", node);
			return REQUEST_REJECTED;
		}
		log_warning("node %d does not answer (%s): failing it over", node, err);
	}
	if (r->flags & REQUEST_FLAG_GRACEFUL)
		wait_sessions_gone(node);
	return do_failover(node, -1, false, (r->flags & (REQUEST_FLAG_VERIFY | REQUEST_FLAG_SEEN_DOWN)) != 0,
		msg, msglen);
}

/* Never two primaries in service: a node that says it is primary while
 * another one is goes back down. */
static bool false_primary(int node)
{
	int primary = nodes_primary();
	if (primary < 0 || primary == node)
		return false;
	return pgconn_node_in_recovery(node) == 0;
}

static int handle_attach(const status_request *r, char *msg, size_t msglen)
{
	int node = r->node;
	if (node_usable(node)) {
		snprintf(msg, msglen, "node %d is already attached", node);
		return REQUEST_OK;
	}
	if (false_primary(node)) {
		log_error("node %d claims to be primary while node %d is: not attaching it", node, nodes_primary());
		snprintf(msg, msglen, "node %d is a second primary; not attached", node);
		return REQUEST_REJECTED;
	}
	node_set_status(node, NODE_STATUS_WAITING);
	command_nodes cn = { node, lowest_usable(-1), lowest_usable(-1), nodes_primary() };
	run_command("failback_command", g.cfg->failback_command, &cn);
	if (nodes_primary() < 0 && pgconn_node_in_recovery(node) == 0)
		nodes_set_primary(node);
	log_log("node %d (%s) attached", node, g.nodes[node].label);
	snprintf(msg, msglen, "node %d attached", node);
	return REQUEST_OK;
}

static int handle_promote(const status_request *r, char *msg, size_t msglen)
{
	int node = r->node;
	int primary = nodes_primary();
	if (node == primary) {
		snprintf(msg, msglen, "specified node is already primary node, can't promote node id %d", node);
		return REQUEST_REJECTED;
	}
	if (!node_usable(node)) {
		snprintf(msg, msglen, "node %d is not up", node);
		return REQUEST_REJECTED;
	}
	if (r->flags & REQUEST_FLAG_GRACEFUL && primary >= 0)
		wait_sessions_gone(primary);
	if (primary < 0) {
		/* no primary to take down: only our idea of the primary changes */
		nodes_set_primary(node);
		snprintf(msg, msglen, "node %d is the primary", node);
		return REQUEST_OK;
	}
	return do_failover(primary, node, (r->flags & REQUEST_FLAG_SWITCHOVER) != 0, false, msg, msglen);
}

static int handle_stop(const status_request *r, char *msg, size_t msglen)
{
	int mode = (r->flags & REQUEST_FLAG_STOP_SMART) ? SHUTDOWN_SMART : SHUTDOWN_FAST;
	log_log("stop requested over PCP (%s)", mode == SHUTDOWN_SMART ? "smart" : "fast");
	atomic_store(&g.shutdown, mode);
	workers_wake();
	snprintf(msg, msglen, "pgpoold is stopping");
	return REQUEST_OK;
}

static int handle_recovery(const status_request *r, char *msg, size_t msglen)
{
	const char *cmd = g.cfg->recovery_1st_stage_command;
	if (!cmd[0]) {
		snprintf(msg, msglen, "recovery_1st_stage_command is not configured");
		return REQUEST_REJECTED;
	}
	int primary = nodes_primary();
	if (r->node == primary) {
		snprintf(msg, msglen, "node %d is the primary: nothing to recover", r->node);
		return REQUEST_REJECTED;
	}
	command_nodes cn = { r->node, primary, lowest_usable(-1), primary };
	char *expanded = command_expand(cmd, &cn);
	int rc = expanded ? command_run("recovery_1st_stage_command", expanded) : -1;
	free(expanded);
	if (rc != 0) {
		snprintf(msg, msglen, "recovery_1st_stage_command failed (status %d)", rc);
		return REQUEST_FAILED;
	}
	return handle_attach(r, msg, msglen);
}

static void handle(const status_request *r)
{
	char msg[STATUS_MESSAGE_LEN] = "";
	int result;
	if (r->type != REQUEST_RELOAD && r->type != REQUEST_STOP && (r->node < 0 || r->node >= g.num_nodes)) {
		snprintf(msg, sizeof(msg), "node id %d is not valid", r->node);
		result = REQUEST_REJECTED;
	} else {
		switch (r->type) {
		case REQUEST_DETACH: result = handle_detach(r, msg, sizeof(msg)); break;
		case REQUEST_ATTACH: result = handle_attach(r, msg, sizeof(msg)); break;
		case REQUEST_PROMOTE: result = handle_promote(r, msg, sizeof(msg)); break;
		case REQUEST_RELOAD:
			result = authfiles_load() ? REQUEST_OK : REQUEST_FAILED;
			snprintf(msg, sizeof(msg), result == REQUEST_OK ? "reloaded" : "pool_hba.conf has errors; kept the old one");
			break;
		case REQUEST_STOP: result = handle_stop(r, msg, sizeof(msg)); break;
		case REQUEST_RECOVERY: result = handle_recovery(r, msg, sizeof(msg)); break;
		default:
			snprintf(msg, sizeof(msg), "unknown request");
			result = REQUEST_REJECTED;
		}
	}
	if (result != REQUEST_OK)
		log_log("%s request for node %d: %s", status_request_type_name(r->type), r->node, msg);
	status_complete_request(g.status, r->id, result, msg, NULL);
}

static void *failover_main(void *arg)
{
	(void) arg;
	while (!atomic_load(&stopping)) {
		status_wait_for_request(g.status, 200);
		status_request r;
		while (!atomic_load(&stopping) && status_next_request(g.status, &r))
			handle(&r);
	}
	return NULL;
}

int failover_start(void)
{
	if (pthread_create(&thread, NULL, failover_main, NULL) != 0) {
		log_error("could not start the failover manager");
		return -1;
	}
	running = true;
	return 0;
}

void failover_stop(void)
{
	if (!running)
		return;
	atomic_store(&stopping, true);
	pthread_join(thread, NULL);
	running = false;
}
