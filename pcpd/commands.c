/* The PCP commands: see commands.h.  Texts of errors the stock tools print
 * are Pgpool-II 4.3's (spec/pcp-protocol.md); where pgpoold differs
 * (pgpoold not running, no answer in time) the texts say so plainly. */
#include "commands.h"
#include "config_report.h"
#include "log.h"
#include "pcpd.h"
#include "status_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Pgpool-II's MAX_NUM_BACKENDS: the range its attach/detach accept. */
#define PGPOOL_MAX_NUM_BACKENDS 128
/* glibc's RAND_MAX: node weights go on the wire multiplied by it. */
#define PGPOOL_RAND_MAX 2147483647.0
/* Graceful detach/promote wait for sessions to leave, recovery copies a
 * data directory: they get this many times the normal request timeout. */
#define LONG_REQUEST_FACTOR 10

typedef struct cmd_ctx {
	pcpd_session *s;
	const pool_config *cfg;
	status_segment *st;          /* NULL: pgpoold never ran (since pcpd started) */
	buf *out;
} cmd_ctx;

/* ---- pgpoold availability ---- */

static void segment_name(const cmd_ctx *c, char *name, size_t len)
{
	if (!status_segment_name(c->cfg, name, len))
		snprintf(name, len, "(unnamed)");
}

/* Reads need a segment (a stale one will do: last known state). */
static bool need_segment(cmd_ctx *c, const char *message)
{
	if (c->st)
		return true;
	char name[256];
	segment_name(c, name, sizeof(name));
	PCPD_ERROR(c->out, message, "pgpoold is not running (no status segment %s)", name);
	return false;
}

/* Changes need a live pgpoold. */
static bool need_pgpoold(cmd_ctx *c)
{
	if (c->st && status_owner_alive(c->st))
		return true;
	char name[256];
	segment_name(c, name, sizeof(name));
	PCPD_ERROR(c->out, "pgpoold is not running",
		   "no live pgpoold owns status segment %s; changes are refused until it is back", name);
	return false;
}

/* ---- reads ---- */

static pcpd_action node_count(cmd_ctx *c)
{
	pcp_put_node_count(c->out, c->st ? status_num_nodes(c->st) : c->cfg->num_backends);
	return PCPD_CONTINUE;
}

#define NODE_INFO_MAX_FIELDS PCP_NODE_INFO_FIELDS_44

typedef struct node_info_text {
	char port[16], status[8], quarantine[4], weight[48], role[8], by_time[4], delay[24], changed[24];
	const char *values[NODE_INFO_MAX_FIELDS];
	int n;
} node_info_text;

/* The NodeInfo fields of one node, laid out for the configured client
 * generation (spec 6.3). */
static void node_info_fields(const cmd_ctx *c, const status_node_info *ni, node_info_text *t)
{
	bool by_time = c->cfg->delay_threshold_by_time > 0;
	snprintf(t->port, sizeof(t->port), "%d", ni->port);
	snprintf(t->status, sizeof(t->status), "%d", (int) ni->status);
	snprintf(t->quarantine, sizeof(t->quarantine), "%d", ni->quarantine ? 1 : 0);
	snprintf(t->weight, sizeof(t->weight), "%f", ni->weight * PGPOOL_RAND_MAX);
	snprintf(t->role, sizeof(t->role), "%d", (int) ni->role);
	snprintf(t->by_time, sizeof(t->by_time), "%d", by_time ? 1 : 0);
	snprintf(t->changed, sizeof(t->changed), "%lld", (long long) ni->last_status_change);
	int n = 0;
	t->values[n++] = ni->hostname;
	t->values[n++] = t->port;
	t->values[n++] = t->status;
	t->values[n++] = t->quarantine;
	t->values[n++] = status_pg_state_name(ni->pg_status);
	t->values[n++] = t->weight;
	t->values[n++] = t->role;
	t->values[n++] = status_pg_role_name(ni->pg_role);
	if (pcpd_opts.compat >= PCPD_COMPAT_44) {
		t->values[n++] = t->by_time;
		snprintf(t->delay, sizeof(t->delay), "%" PRIu64,
			 by_time ? ni->replication_delay_us : ni->replication_delay);
	} else {
		snprintf(t->delay, sizeof(t->delay), "%" PRIu64, ni->replication_delay);
	}
	t->values[n++] = t->delay;
	t->values[n++] = ni->replication_state;
	t->values[n++] = ni->replication_sync_state;
	t->values[n++] = t->changed;
	t->n = n;
}

static void put_node_info(cmd_ctx *c, int node)
{
	status_node_info ni;
	if (!status_node_get(c->st, node, &ni)) {
		memset(&ni, 0, sizeof(ni));     /* an unused slot: empty hostname, status 0 */
		ni.id = node;
	}
	node_info_text t;
	node_info_fields(c, &ni, &t);
	pcp_put_record(c->out, 'i', PCP_NODE_INFO, t.values, t.n);
}

static pcpd_action node_info(cmd_ctx *c, const pcp_request *req)
{
	if (!need_segment(c, "informing node info failed"))
		return PCPD_CONTINUE;
	int n = status_num_nodes(c->st);
	int id = req->number;
	if (id != -1 && (id < 0 || id >= n)) {
		PCPD_ERROR(c->out, "informing node info failed", "invalid node ID : %s", req->number_text);
		return PCPD_CONTINUE;
	}
	pcp_put_array_size(c->out, 'i', id == -1 ? n : 1);
	for (int i = id == -1 ? 0 : id; i < (id == -1 ? n : id + 1); i++)
		put_node_info(c, i);
	pcp_put_end(c->out, 'i');
	return PCPD_CONTINUE;
}

static pcpd_action health_check_stats(cmd_ctx *c, const pcp_request *req)
{
	if (!need_segment(c, "informing health check stats info failed"))
		return PCPD_CONTINUE;
	int n = status_num_nodes(c->st);
	int id = req->number;
	status_node_info ni;
	if (id < 0 || id > n) {
		PCPD_ERROR(c->out, "informing health check stats info failed", "invalid node ID %d", id);
		return PCPD_CONTINUE;
	}
	if (!status_node_get(c->st, id, &ni)) {
		PCPD_ERROR(c->out, "informing health check stats info failed",
			   "stats data for node ID %d does not exist", id);
		return PCPD_CONTINUE;
	}
	report_hc_row row;
	const char *values[REPORT_HC_COLUMNS];
	report_hc_row_fill(&ni, &row);
	report_hc_row_values(&row, values);
	pcp_put_health_check_stats(c->out, values);
	return PCPD_CONTINUE;
}

static pcpd_action process_count(cmd_ctx *c)
{
	/* pgpoold is one process; when it is not running there is none to list */
	if (!need_pgpoold(c))
		return PCPD_CONTINUE;
	int pid = (int) status_owner_pid(c->st);
	pcp_put_process_count(c->out, 1, &pid);
	return PCPD_CONTINUE;
}

static pcpd_action process_info(cmd_ctx *c, const pcp_request *req)
{
	if (!need_segment(c, "informing process info failed"))
		return PCPD_CONTINUE;
	pid_t owner = status_owner_pid(c->st);
	if (req->number != 0 && req->number != (int) owner) {
		PCPD_ERROR(c->out, "informing process info failed", "invalid process ID : %s", req->number_text);
		return PCPD_CONTINUE;
	}
	int nodes = status_num_nodes(c->st), slots = status_max_sessions(c->st);
	int nfields = pcpd_opts.compat >= PCPD_COMPAT_45 ? PCP_PROCESS_INFO_FIELDS_45 : PCP_PROCESS_INFO_FIELDS_43;
	report_pool_context ctx = { .pool_pid = owner, .start_time = status_start_time(c->st),
				    .client_idle_limit = c->cfg->client_idle_limit, .now = time(NULL) };
	pcp_put_array_size(c->out, 'p', slots * nodes);
	status_session_info *si = malloc(sizeof(*si));
	if (!si) {
		c->out->oom = true;
		return PCPD_CLOSE;
	}
	for (int s = 0; s < slots; s++) {
		if (!status_session_get(c->st, s, si))
			continue;
		for (int n = 0; n < nodes; n++) {
			report_pool_row row;
			const char *values[REPORT_POOL_COLUMNS];
			report_pool_row_fill(&ctx, si, n, &row);
			report_pool_row_values(&row, values);
			pcp_put_record(c->out, 'p', PCP_PROCESS_INFO, values, nfields);
		}
	}
	free(si);
	pcp_put_end(c->out, 'p');
	return PCPD_CONTINUE;
}

static pcpd_action pool_status(cmd_ctx *c)
{
	config_report_row *rows = NULL;
	int n = config_report_rows(c->cfg, c->st, &rows);
	if (n < 0) {
		PCPD_ERROR(c->out, "informing pool status failed", "%s", "out of memory");
		return PCPD_CONTINUE;
	}
	pcp_put_array_size_binary(c->out, 'b', n);
	for (int i = 0; i < n; i++) {
		const char *values[3] = { rows[i].name, rows[i].value, rows[i].desc };
		pcp_put_record(c->out, 'b', PCP_PROCESS_CONFIG, values, 3);
	}
	pcp_put_end(c->out, 'b');
	free(rows);
	return PCPD_CONTINUE;
}

static pcpd_action watchdog_info(cmd_ctx *c)
{
	/* pgpoold has no watchdog: what Pgpool-II says with use_watchdog = off */
	PCPD_ERROR(c->out, "PCP: informing watchdog info failed", "%s", "watchdog is not enabled");
	return PCPD_CONTINUE;
}

/* ---- changes ---- */

static const char *in_progress_detail(status_request_type t)
{
	switch (t) {
	case REQUEST_ATTACH: return "failback is in progress";
	case REQUEST_DETACH: return "failover is in progress";
	case REQUEST_PROMOTE: return "promote node operation is in progress";
	default: return "operation is in progress";
	}
}

/* Pgpool-II refuses recovery and shutdown while a failover runs. */
static bool refuse_if_busy(cmd_ctx *c)
{
	status_request first;
	if (status_requests_in_progress(c->st, &first) > 0) {
		PCPD_ERROR(c->out, "failed to process PCP request at the moment", "%s", in_progress_detail(first.type));
		return true;
	}
	return false;
}

typedef struct change {
	status_request_type type;
	int node;
	unsigned flags;
	char reply;                  /* reply letter on success */
	const char *fail_message;    /* message when pgpoold gives none */
	bool long_running;
} change;

static void describe(const change *ch, char *text, size_t len)
{
	if (ch->node >= 0 && ch->type != REQUEST_RELOAD && ch->type != REQUEST_STOP)
		snprintf(text, len, "%s of node %d", status_request_type_name(ch->type), ch->node);
	else
		snprintf(text, len, "%s", status_request_type_name(ch->type));
}

static void reply_done(cmd_ctx *c, const change *ch, const char *what, int result,
		       const char *message, const char *detail)
{
	if (result == REQUEST_OK) {
		log_log("PCP: %s done for user \"%s\" from %s%s%s", what, c->s->user, c->s->peer,
			message[0] ? ": " : "", message);
		pcp_put_command_complete(c->out, ch->reply);
		return;
	}
	log_log("PCP: %s refused by pgpoold for user \"%s\": %s%s%s", what, c->s->user,
		message[0] ? message : ch->fail_message, detail[0] ? ": " : "", detail);
	/* the manager's reason alone becomes the detail of the request's own
	 * failure message, the two-line shape of Pgpool-II's errors */
	if (detail[0])
		pcpd_reply(c->out, "ERROR", __FILE__, __LINE__, message[0] ? message : ch->fail_message, detail);
	else
		pcpd_reply(c->out, "ERROR", __FILE__, __LINE__, ch->fail_message, message[0] ? message : NULL);
}

/* Queue a change for pgpoold's failover manager and wait for its answer. */
static pcpd_action run_change(cmd_ctx *c, const change *ch)
{
	if (!need_pgpoold(c))
		return PCPD_CONTINUE;
	char what[64], err[256] = "";
	describe(ch, what, sizeof(what));
	int64_t id = status_submit_request(c->st, ch->type, ch->node, ch->flags, err, sizeof(err));
	if (id < 0) {
		log_warning("PCP: could not submit %s: %s", what, err);
		PCPD_ERROR(c->out, "failed to process PCP request at the moment", "%s", err);
		return PCPD_CONTINUE;
	}
	log_log("PCP: user \"%s\" from %s requests %s (request %" PRId64 ")", c->s->user, c->s->peer, what, id);
	int timeout = pcpd_opts.request_timeout_ms * (ch->long_running ? LONG_REQUEST_FACTOR : 1);
	int result = 0;
	char message[STATUS_MESSAGE_LEN], detail[STATUS_MESSAGE_LEN];
	status_wait_result w = status_wait_request(c->st, id, timeout, &result, message, sizeof(message),
						   detail, sizeof(detail));
	switch (w) {
	case WAIT_DONE:
		reply_done(c, ch, what, result, message, detail);
		break;
	case WAIT_TIMEOUT_WITHDRAWN:
		log_warning("PCP: %s was not taken by pgpoold within %d ms; withdrawn", what, timeout);
		PCPD_ERROR(c->out, "pgpoold did not answer the request",
			   "%s was not taken within %d seconds and has been withdrawn", what, timeout / 1000);
		break;
	case WAIT_TIMEOUT_RUNNING:
		log_warning("PCP: %s still running in pgpoold after %d ms", what, timeout);
		PCPD_ERROR(c->out, "pgpoold did not finish the request in time",
			   "%s is still in progress after %d seconds; check pcp_node_info", what, timeout / 1000);
		break;
	case WAIT_OWNER_GONE:
		log_warning("PCP: pgpoold exited while %s was pending", what);
		PCPD_ERROR(c->out, "pgpoold exited before completing the request", "%s was not completed", what);
		break;
	case WAIT_ERROR:
		PCPD_ERROR(c->out, "failed to process PCP request at the moment",
			   "lost track of %s (status segment lock unavailable)", what);
		break;
	}
	return PCPD_CONTINUE;
}

static pcpd_action attach_node(cmd_ctx *c, const pcp_request *req)
{
	int id = req->number;
	if (id < 0 || id >= PGPOOL_MAX_NUM_BACKENDS) {
		PCPD_ERROR_MSG(c->out, "invalid failback request, node id: %d is out of range. node id must be between [0 and %d]",
			       id, PGPOOL_MAX_NUM_BACKENDS);
		return PCPD_CONTINUE;
	}
	if (!need_pgpoold(c))
		return PCPD_CONTINUE;
	if (id >= status_num_nodes(c->st)) {
		PCPD_ERROR_MSG(c->out, "invalid failback request, node id : %d status: [%d] not valid for failback",
			       id, NODE_STATUS_UNUSED);
		return PCPD_CONTINUE;
	}
	change ch = { REQUEST_ATTACH, id, 0, 'c', "failback request failed", false };
	return run_change(c, &ch);
}

static pcpd_action detach_node(cmd_ctx *c, const pcp_request *req)
{
	int id = req->number;
	bool graceful = req->type == 'd';
	if (id < 0 || id >= PGPOOL_MAX_NUM_BACKENDS) {
		PCPD_ERROR_MSG(c->out, "invalid degenerate backend request, node id: %d is out of range. node id must be between [0 and %d]",
			       id, PGPOOL_MAX_NUM_BACKENDS);
		return PCPD_CONTINUE;
	}
	if (!need_pgpoold(c))
		return PCPD_CONTINUE;
	status_node_state st = status_node_status(c->st, id);
	if (st != NODE_STATUS_UP && st != NODE_STATUS_WAITING && !status_node_quarantine(c->st, id)) {
		PCPD_ERROR_MSG(c->out, "invalid degenerate backend request, node id : %d status: [%d] is not valid for failover",
			       id, (int) st);
		return PCPD_CONTINUE;
	}
	status_node_info ni;
	if (status_node_get(c->st, id, &ni) && (ni.flag & BACKEND_FLAG_DISALLOW_TO_FAILOVER)) {
		PCPD_ERROR_MSG(c->out, "degenerate backend request for node_id: %d from pid [%d] is canceled because failover is disallowed on the node",
			       id, (int) getpid());
		return PCPD_CONTINUE;
	}
	change ch = { REQUEST_DETACH, id, graceful ? REQUEST_FLAG_GRACEFUL : 0, 'd', "failover request failed", graceful };
	return run_change(c, &ch);
}

static pcpd_action promote_node(cmd_ctx *c, const pcp_request *req)
{
	int id = req->number;
	bool graceful = req->type == 'j';
	if (!need_pgpoold(c))
		return PCPD_CONTINUE;
	if (id < 0 || id >= status_num_nodes(c->st)) {
		PCPD_ERROR(c->out, "could not process promote request", "node id %d is not valid", id);
		return PCPD_CONTINUE;
	}
	if (id == status_primary_node(c->st)) {
		PCPD_FATAL(c->out, "invalid promote request",
			   "specified node is already primary node, can't promote node id %d", id);
		return PCPD_CLOSE;
	}
	unsigned flags = (graceful ? REQUEST_FLAG_GRACEFUL : 0) | (req->switchover ? REQUEST_FLAG_SWITCHOVER : 0);
	change ch = { REQUEST_PROMOTE, id, flags, 'd', "promote request failed", graceful };
	return run_change(c, &ch);
}

static pcpd_action recovery_node(cmd_ctx *c, const pcp_request *req)
{
	int id = req->number;
	if (!need_pgpoold(c))
		return PCPD_CONTINUE;
	if (id < 0 || id >= status_num_nodes(c->st)) {
		PCPD_ERROR(c->out, "process recovery request failed", "node id %d is not valid", id);
		return PCPD_CONTINUE;
	}
	if (id == status_primary_node(c->st)) {
		PCPD_ERROR(c->out, "process recovery request failed", "%s",
			   "primary server cannot be recovered by online recovery.");
		return PCPD_CONTINUE;
	}
	if (refuse_if_busy(c))
		return PCPD_CONTINUE;
	change ch = { REQUEST_RECOVERY, id, 0, 'c', "process recovery request failed", true };
	return run_change(c, &ch);
}

static pcpd_action stop_pgpool(cmd_ctx *c, const pcp_request *req)
{
	unsigned mode;
	switch (req->option) {
	case 's': mode = REQUEST_FLAG_STOP_SMART; break;
	case 'f': mode = REQUEST_FLAG_STOP_FAST; break;
	case 'i': mode = REQUEST_FLAG_STOP_IMMEDIATE; break;
	default:
		PCPD_ERROR(c->out, "PCP: error while processing shutdown request", "invalid shutdown mode \"%c\"",
			   req->option);
		return PCPD_CONTINUE;
	}
	if (!need_pgpoold(c) || refuse_if_busy(c))
		return PCPD_CONTINUE;
	change ch = { REQUEST_STOP, -1, mode | (req->type == 't' ? REQUEST_FLAG_CLUSTER : 0), 't',
		      "process shutdown request failed", false };
	return run_change(c, &ch);
}

static pcpd_action reload_config(cmd_ctx *c, const pcp_request *req)
{
	/* pcpd reads the same file: take the edits too */
	if (pcpd_opts.config_file && pcpd_config_load(pcpd_opts.config_file))
		log_log("PCP: configuration reloaded by user \"%s\"", c->s->user);
	change ch = { REQUEST_RELOAD, -1, req->option == 'c' ? REQUEST_FLAG_CLUSTER : 0, 'z',
		      "process reload config request failed", false };
	return run_change(c, &ch);
}

static pcpd_action set_parameter(cmd_ctx *c, const pcp_request *req)
{
	/* Pgpool-II 4.3 accepts client_min_messages only; pcpd sends no
	 * notices, so the value has nothing to change */
	if (strcasecmp(req->param_name, "client_min_messages") != 0) {
		PCPD_ERROR(c->out, "set configuration parameter failed",
			   "parameter \"%s\" cannot be set over PCP", req->param_name);
		return PCPD_CONTINUE;
	}
	pcp_put_command_complete(c->out, 'a');
	return PCPD_CONTINUE;
}

static pcpd_action dispatch(cmd_ctx *c, const pcp_request *req)
{
	switch (req->type) {
	case 'L': return node_count(c);
	case 'I': return node_info(c, req);
	case 'H': return health_check_stats(c, req);
	case 'N': return process_count(c);
	case 'P': return process_info(c, req);
	case 'B': return pool_status(c);
	case 'W': return watchdog_info(c);
	case 'C': return attach_node(c, req);
	case 'D': case 'd': return detach_node(c, req);
	case 'J': case 'j': return promote_node(c, req);
	case 'O': return recovery_node(c, req);
	case 'T': case 't': return stop_pgpool(c, req);
	case 'Z': return reload_config(c, req);
	case 'A': return set_parameter(c, req);
	case 'F': return PCPD_CONTINUE;          /* "stop online recovery": ignored, as Pgpool-II */
	default:
		PCPD_FATAL(c->out, "PCP processing request", "unknown PCP packet type \"%c\"", req->type);
		return PCPD_CLOSE;
	}
}

pcpd_action pcpd_command(pcpd_session *s, const pcp_request *req, buf *out)
{
	cmd_ctx c = { .s = s, .out = out };
	c.cfg = pcpd_config_acquire();
	if (!c.cfg) {
		PCPD_FATAL(out, "PCP processing request", "%s", "pcpd has no configuration loaded");
		return PCPD_CLOSE;
	}
	c.st = pcpd_segment_acquire(c.cfg);
	pcpd_action a = dispatch(&c, req);
	pcpd_segment_release(c.st);
	pcpd_config_release(c.cfg);
	return a;
}
