/* Text rows from the status segment: see status_report.h. */
#include "status_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void report_time(time_t t, char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	out[0] = '\0';
	if (t <= 0)
		return;
	struct tm tm;
	if (localtime_r(&t, &tm))
		strftime(out, outlen, "%Y-%m-%d %H:%M:%S", &tm);
}

/* ---- health-check statistics ---- */

const char *const report_hc_columns[REPORT_HC_COLUMNS] = {
	"node_id", "hostname", "port", "status", "role", "last_status_change",
	"total_count", "success_count", "fail_count", "skip_count", "retry_count",
	"average_retry_count", "max_retry_count", "max_duration", "min_duration",
	"average_duration", "last_health_check", "last_successful_health_check",
	"last_skip_health_check", "last_failed_health_check",
};

void report_hc_row_fill(const status_node_info *ni, report_hc_row *row)
{
	const status_hc_stats *h = &ni->hc;
	memset(row, 0, sizeof(*row));
	snprintf(row->node_id, sizeof(row->node_id), "%d", ni->id);
	snprintf(row->hostname, sizeof(row->hostname), "%s", ni->hostname);
	snprintf(row->port, sizeof(row->port), "%d", ni->port);
	snprintf(row->status, sizeof(row->status), "%s", status_node_state_name(ni->status, ni->quarantine));
	snprintf(row->role, sizeof(row->role), "%s",
		 ni->role == NODE_ROLE_PRIMARY ? "primary" : "standby");
	report_time(ni->last_status_change, row->last_status_change, sizeof(row->last_status_change));
	snprintf(row->total_count, sizeof(row->total_count), "%" PRIu64, h->total_count);
	snprintf(row->success_count, sizeof(row->success_count), "%" PRIu64, h->success_count);
	snprintf(row->fail_count, sizeof(row->fail_count), "%" PRIu64, h->fail_count);
	snprintf(row->skip_count, sizeof(row->skip_count), "%" PRIu64, h->skip_count);
	snprintf(row->retry_count, sizeof(row->retry_count), "%" PRIu64, h->retry_count);
	/* Pgpool-II divides by (total - skip) even when that is 0: nan, as it prints */
	double checked = (double) (h->total_count - h->skip_count);
	double avg_retry = h->enabled ? (double) h->retry_count / checked : 0.0;
	double avg_duration = h->enabled ? (double) h->total_duration_ms / checked : 0.0;
	snprintf(row->average_retry_count, sizeof(row->average_retry_count), "%f", avg_retry);
	snprintf(row->max_retry_count, sizeof(row->max_retry_count), "%d", h->max_retry_count);
	snprintf(row->max_duration, sizeof(row->max_duration), "%d", h->max_duration_ms);
	snprintf(row->min_duration, sizeof(row->min_duration), "%d", h->enabled ? h->min_duration_ms : 0);
	snprintf(row->average_duration, sizeof(row->average_duration), "%f", avg_duration);
	report_time(h->last_health_check, row->last_health_check, sizeof(row->last_health_check));
	report_time(h->last_successful_health_check, row->last_successful_health_check,
		    sizeof(row->last_successful_health_check));
	report_time(h->last_skip_health_check, row->last_skip_health_check, sizeof(row->last_skip_health_check));
	report_time(h->last_failed_health_check, row->last_failed_health_check,
		    sizeof(row->last_failed_health_check));
}

void report_hc_row_values(const report_hc_row *row, const char *values[REPORT_HC_COLUMNS])
{
	const char *v[REPORT_HC_COLUMNS] = {
		row->node_id, row->hostname, row->port, row->status, row->role, row->last_status_change,
		row->total_count, row->success_count, row->fail_count, row->skip_count, row->retry_count,
		row->average_retry_count, row->max_retry_count, row->max_duration, row->min_duration,
		row->average_duration, row->last_health_check, row->last_successful_health_check,
		row->last_skip_health_check, row->last_failed_health_check,
	};
	memcpy(values, v, sizeof(v));
}

/* ---- pool rows ---- */

const char *const report_pool_columns[REPORT_POOL_COLUMNS] = {
	"pool_pid", "start_time", "client_connection_count", "pool_id", "backend_id",
	"database", "username", "backend_connection_time", "client_connection_time",
	"client_disconnection_time", "client_idle_duration", "majorversion", "minorversion",
	"pool_counter", "pool_backendpid", "pool_connected", "status", "load_balance_node",
};

static void idle_duration(const report_pool_context *ctx, const status_session_info *si,
			  bool connected, char *out, size_t outlen)
{
	long idle = 0;
	if (si->in_use && si->state != SESSION_EXECUTE && si->last_activity > 0 && ctx->now > si->last_activity)
		idle = (long) (ctx->now - si->last_activity);
	if (connected && ctx->client_idle_limit > 0) {
		long left = ctx->client_idle_limit - idle;
		if (left < 0)
			left = 0;
		snprintf(out, outlen, "%ld (%ld:%02ld before client disconnected)", idle, left / 60, left % 60);
	} else {
		snprintf(out, outlen, "%ld", idle);
	}
}

void report_pool_row_fill(const report_pool_context *ctx, const status_session_info *si, int node,
			  report_pool_row *row)
{
	memset(row, 0, sizeof(*row));
	const status_session_backend *be = node >= 0 && node < si->num_nodes ? &si->backends[node] : NULL;
	bool connected = si->in_use && be && be->connected;
	snprintf(row->pool_pid, sizeof(row->pool_pid), "%d", (int) ctx->pool_pid);
	report_time(ctx->start_time, row->start_time, sizeof(row->start_time));
	snprintf(row->client_connection_count, sizeof(row->client_connection_count), "%" PRIu64,
		 si->client_connection_count);
	snprintf(row->pool_id, sizeof(row->pool_id), "%d", si->slot);
	snprintf(row->backend_id, sizeof(row->backend_id), "%d", node);
	if (si->in_use) {
		snprintf(row->database, sizeof(row->database), "%s", si->database);
		snprintf(row->username, sizeof(row->username), "%s", si->username);
	}
	if (connected)
		report_time(be->connection_time, row->backend_connection_time, sizeof(row->backend_connection_time));
	report_time(si->client_connection_time, row->client_connection_time, sizeof(row->client_connection_time));
	report_time(si->client_disconnection_time, row->client_disconnection_time,
		    sizeof(row->client_disconnection_time));
	idle_duration(ctx, si, connected, row->client_idle_duration, sizeof(row->client_idle_duration));
	snprintf(row->majorversion, sizeof(row->majorversion), "%d", si->in_use ? si->major : 0);
	snprintf(row->minorversion, sizeof(row->minorversion), "%d", si->in_use ? si->minor : 0);
	snprintf(row->pool_counter, sizeof(row->pool_counter), "%" PRIu64, connected ? be->pool_counter : 0);
	snprintf(row->pool_backendpid, sizeof(row->pool_backendpid), "%d", connected ? be->backend_pid : 0);
	snprintf(row->pool_connected, sizeof(row->pool_connected), "%d", connected ? 1 : 0);
	snprintf(row->status, sizeof(row->status), "%s",
		 status_session_state_name(si->in_use ? si->state : SESSION_WAIT_FOR_CONNECTION));
	snprintf(row->load_balance_node, sizeof(row->load_balance_node), "%d",
		 connected && si->load_balance_node == node ? 1 : 0);
}

void report_pool_row_values(const report_pool_row *row, const char *values[REPORT_POOL_COLUMNS])
{
	const char *v[REPORT_POOL_COLUMNS] = {
		row->pool_pid, row->start_time, row->client_connection_count, row->pool_id, row->backend_id,
		row->database, row->username, row->backend_connection_time, row->client_connection_time,
		row->client_disconnection_time, row->client_idle_duration, row->majorversion,
		row->minorversion, row->pool_counter, row->pool_backendpid, row->pool_connected,
		row->status, row->load_balance_node,
	};
	memcpy(values, v, sizeof(v));
}
