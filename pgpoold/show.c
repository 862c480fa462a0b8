/* SHOW pool_* and PGPOOL SHOW: see show.h. */
#include "show.h"
#include "session.h"
#include "nodes.h"
#include "pgpoold.h"
#include "proto.h"
#include "status_report.h"
#include "config_report.h"

#include <ctype.h>
#include <strings.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

/* ---------------------------------------------------------------- result building */

/* RowDescription as Pgpool-II sends it: table OID 0, column number = index,
 * type OID 0, typlen -1, typmod 0, text. */
static void row_description(buf *b, const char *const *cols, int n)
{
	size_t off = buf_msg_begin(b, 'T');
	buf_put_i16(b, (int16_t) n);
	for (int i = 0; i < n; i++) {
		buf_put_str(b, cols[i]);
		buf_put_i32(b, 0);
		buf_put_i16(b, (int16_t) i);
		buf_put_i32(b, 0);
		buf_put_i16(b, -1);
		buf_put_i32(b, 0);
		buf_put_i16(b, 0);
	}
	buf_msg_end(b, off);
}

static void data_row(buf *b, char *const *vals, int n)
{
	size_t off = buf_msg_begin(b, 'D');
	buf_put_i16(b, (int16_t) n);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(vals[i]);
		buf_put_i32(b, (int32_t) len);
		buf_put(b, vals[i], len);
	}
	buf_msg_end(b, off);
}

static void command_complete(buf *b, const char *tag)
{
	size_t off = buf_msg_begin(b, 'C');
	buf_put_str(b, tag);
	buf_msg_end(b, off);
}

static void select_complete(buf *b, int rows)
{
	char tag[32];
	snprintf(tag, sizeof(tag), "SELECT %d", rows);
	command_complete(b, tag);
}

static void format_time(char *out, size_t len, time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static const char *role_name(int node)
{
	return node == nodes_primary() ? "primary" : "standby";
}

#define MAXCOLS 20
#define VAL 264

/* ---------------------------------------------------------------- commands */

static void show_pool_nodes(session *s, buf *b)
{
	static const char *const cols[] = {
		"node_id", "hostname", "port", "status", "pg_status", "lb_weight", "role", "pg_role",
		"select_cnt", "load_balance_node", "replication_delay", "replication_state",
		"replication_sync_state", "last_status_change"
	};
	row_description(b, cols, 14);
	int primary = nodes_primary();
	for (int n = 0; n < g.num_nodes; n++) {
		status_node_info ni;
		if (!status_node_get(g.status, n, &ni))
			continue;
		char v[14][VAL];
		char *vals[14];
		snprintf(v[0], VAL, "%d", n);
		snprintf(v[1], VAL, "%s", ni.hostname);
		snprintf(v[2], VAL, "%d", ni.port);
		snprintf(v[3], VAL, "%s", status_node_state_name(ni.status, ni.quarantine));
		snprintf(v[4], VAL, "%s", status_pg_state_name(ni.pg_status));
		snprintf(v[5], VAL, "%f", ni.weight);
		snprintf(v[6], VAL, "%s", role_name(n));
		snprintf(v[7], VAL, "%s", ni.pg_status == PG_STATUS_UP ? status_pg_role_name(ni.pg_role) : "unknown");
		snprintf(v[8], VAL, "%" PRIu64, ni.stmt_count[STMT_SELECT]);
		snprintf(v[9], VAL, "%s", n == s->lb_node ? "true" : "false");
		snprintf(v[10], VAL, "%" PRIu64, n == primary ? (uint64_t) 0 : ni.replication_delay);
		snprintf(v[11], VAL, "%s", n == primary ? "" : ni.replication_state);
		snprintf(v[12], VAL, "%s", n == primary ? "" : ni.replication_sync_state);
		format_time(v[13], VAL, ni.last_status_change);
		for (int i = 0; i < 14; i++)
			vals[i] = v[i];
		data_row(b, vals, 14);
	}
	select_complete(b, g.num_nodes);
}

static void show_pool_version(buf *b)
{
	static const char *const cols[] = { "pool_version" };
	row_description(b, cols, 1);
	char v[VAL];
	snprintf(v, sizeof(v), "%s (pgpoold)", PACKAGE_VERSION);
	char *vals[1] = { v };
	data_row(b, vals, 1);
	select_complete(b, 1);
}

static void show_pool_backend_stats(buf *b)
{
	static const char *const cols[] = {
		"node_id", "hostname", "port", "status", "role", "select_cnt", "insert_cnt", "update_cnt",
		"delete_cnt", "ddl_cnt", "other_cnt", "panic_cnt", "fatal_cnt", "error_cnt"
	};
	row_description(b, cols, 14);
	for (int n = 0; n < g.num_nodes; n++) {
		status_node_info ni;
		if (!status_node_get(g.status, n, &ni))
			continue;
		char v[14][VAL];
		char *vals[14];
		snprintf(v[0], VAL, "%d", n);
		snprintf(v[1], VAL, "%s", ni.hostname);
		snprintf(v[2], VAL, "%d", ni.port);
		snprintf(v[3], VAL, "%s", status_node_state_name(ni.status, ni.quarantine));
		snprintf(v[4], VAL, "%s", role_name(n));
		for (int i = 0; i < STMT_KIND_COUNT; i++)
			snprintf(v[5 + i], VAL, "%" PRIu64, ni.stmt_count[i]);
		for (int i = 0; i < ERRKIND_COUNT; i++)
			snprintf(v[5 + STMT_KIND_COUNT + i], VAL, "%" PRIu64, ni.error_count[i]);
		for (int i = 0; i < 14; i++)
			vals[i] = v[i];
		data_row(b, vals, 14);
	}
	select_complete(b, g.num_nodes);
}

static void show_pool_cache(buf *b)
{
	static const char *const cols[] = {
		"num_cache_hits", "num_selects", "cache_hit_ratio", "num_hash_entries", "used_hash_entries",
		"num_cache_entries", "used_cache_entries_size", "free_cache_entries_size",
		"fragment_cache_entries_size"
	};
	row_description(b, cols, 9);
	/* no query cache: every value zero, as Pgpool-II with it disabled */
	char *vals[9] = { "0", "0", "0.00", "0", "0", "0", "0", "0", "0" };
	data_row(b, vals, 9);
	select_complete(b, 1);
}

static void values_row(buf *b, const char *const *vals, int n)
{
	data_row(b, (char *const *) vals, n);
}

static void show_pool_health_check_stats(buf *b)
{
	row_description(b, report_hc_columns, REPORT_HC_COLUMNS);
	int rows = 0;
	for (int n = 0; n < g.num_nodes; n++) {
		status_node_info ni;
		if (!status_node_get(g.status, n, &ni))
			continue;
		report_hc_row row;
		const char *vals[REPORT_HC_COLUMNS];
		report_hc_row_fill(&ni, &row);
		report_hc_row_values(&row, vals);
		values_row(b, vals, REPORT_HC_COLUMNS);
		rows++;
	}
	select_complete(b, rows);
}

/* One row per (session slot, node): pgpoold is Pgpool-II's one "child"
 * whose pool slots are the client sessions (libshared/status.h). */
static void show_pool_pools(buf *b)
{
	static const int columns = 17;   /* Pgpool-II 4.3: without load_balance_node */
	row_description(b, report_pool_columns, columns);
	report_pool_context ctx = { getpid(), status_start_time(g.status), g.cfg->client_idle_limit, time(NULL) };
	int rows = 0, max = status_max_sessions(g.status);
	for (int i = 0; i < max; i++) {
		status_session_info si;
		if (!status_session_get(g.status, i, &si) || !si.in_use)
			continue;
		for (int n = 0; n < g.num_nodes; n++) {
			report_pool_row row;
			const char *vals[REPORT_POOL_COLUMNS];
			report_pool_row_fill(&ctx, &si, n, &row);
			report_pool_row_values(&row, vals);
			values_row(b, vals, columns);
			rows++;
		}
	}
	select_complete(b, rows);
}

/* One row per client session (Pgpool-II: per child process). */
static void show_pool_processes(buf *b)
{
	static const char *const cols[] = {
		"pool_pid", "start_time", "client_connection_count", "database", "username",
		"backend_connection_time", "pool_counter", "status"
	};
	row_description(b, cols, 8);
	report_pool_context ctx = { getpid(), status_start_time(g.status), 0, time(NULL) };
	int rows = 0, max = status_max_sessions(g.status);
	for (int i = 0; i < max; i++) {
		status_session_info si;
		if (!status_session_get(g.status, i, &si) || !si.in_use)
			continue;
		int node = si.load_balance_node >= 0 ? si.load_balance_node : 0;
		report_pool_row row;
		report_pool_row_fill(&ctx, &si, node, &row);
		const char *vals[8] = { row.pool_pid, row.start_time, row.client_connection_count, row.database,
			row.username, row.backend_connection_time, row.pool_counter, row.status };
		values_row(b, vals, 8);
		rows++;
	}
	select_complete(b, rows);
}

static void show_pool_status(buf *b)
{
	static const char *const cols[] = { "item", "value", "description" };
	config_report_row *rows = NULL;
	int n = config_report_rows(g.cfg, g.status, &rows);
	if (n < 0) {
		proto_error(b, "ERROR", "53200", "out of memory", NULL);
		return;
	}
	row_description(b, cols, 3);
	for (int i = 0; i < n; i++) {
		const char *vals[3] = { rows[i].name, rows[i].value, rows[i].desc };
		values_row(b, vals, 3);
	}
	select_complete(b, n);
	free(rows);
}

/* PGPOOL SHOW name | ALL (spec 11): one column named after the parameter,
 * or item/value/description rows for ALL. */
static void pgpool_show(const session *s, const char *sql, const route_info *ri, buf *b)
{
	char name[128];
	size_t n = ri->arg_len < sizeof(name) - 1 ? ri->arg_len : sizeof(name) - 1;
	memcpy(name, sql + ri->arg_off, n);
	name[n] = '\0';
	bool quoted = n >= 2 && name[0] == '"' && name[n - 1] == '"';
	if (quoted) {
		memmove(name, name + 1, n - 2);
		name[n - 2] = '\0';
	} else
		for (char *p = name; *p; p++)
			*p = (char) tolower((unsigned char) *p);
	char value[1024];
	if (strcmp(name, "all") == 0) {
		static const char *const cols[] = { "item", "value", "description" };
		row_description(b, cols, 3);
		int rows = 0;
		for (int i = 0; config_param_name(i); i++) {
			const char *item = config_param_name(i);
			if (!config_param_value(g.cfg, item, value, sizeof(value)))
				continue;
			char *vals[3] = { (char *) item, value, "" };
			data_row(b, vals, 3);
			rows++;
		}
		select_complete(b, rows);
		return;
	}
	bool found = config_param_value(g.cfg, name, value, sizeof(value));
	/* the values PGPOOL SET changed for this session */
	if (strcmp(name, "client_idle_limit") == 0)
		snprintf(value, sizeof(value), "%d", s->idle_limit);
	else if (strcmp(name, "log_statement") == 0)
		snprintf(value, sizeof(value), "%s", s->log_statement ? "on" : "off");
	if (!found) {
		char msg[200];
		snprintf(msg, sizeof(msg), "config variable \"%s\" not found", name);
		proto_error(b, "ERROR", "42704", msg, NULL);
		return;
	}
	const char *cols[1] = { name };
	row_description(b, cols, 1);
	char *vals[1] = { value };
	data_row(b, vals, 1);
	select_complete(b, 1);
}

/* PGPOOL SET name {TO|=} value|DEFAULT and PGPOOL RESET name|ALL: the
 * session-settable parameters pgpoold has (client_idle_limit, log_statement). */
static bool set_session_param(session *s, const char *name, const char *value, buf *b)
{
	bool dflt = !value || strcasecmp(value, "default") == 0;
	if (strcmp(name, "client_idle_limit") == 0) {
		char *end;
		long v = dflt ? g.cfg->client_idle_limit : strtol(value, &end, 10);
		if (!dflt && (*end || v < 0 || v > 1000000)) {
			proto_error(b, "ERROR", "22023", "invalid value for parameter \"client_idle_limit\"", NULL);
			return false;
		}
		s->idle_limit = (int) v;
		return true;
	}
	if (strcmp(name, "log_statement") == 0) {
		if (dflt)
			s->log_statement = g.cfg->log_statement;
		else if (strcasecmp(value, "on") == 0 || strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0)
			s->log_statement = true;
		else if (strcasecmp(value, "off") == 0 || strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
			s->log_statement = false;
		else {
			proto_error(b, "ERROR", "22023", "invalid value for parameter \"log_statement\"", NULL);
			return false;
		}
		return true;
	}
	char msg[200];
	if (config_param_value(g.cfg, name, msg, sizeof(msg)))
		snprintf(msg, sizeof(msg), "parameter \"%s\" cannot be changed in a session", name);
	else
		snprintf(msg, sizeof(msg), "config variable \"%s\" not found", name);
	proto_error(b, "ERROR", "55P02", msg, NULL);
	return false;
}

/* Split "name [TO|=] value" into lower-case name and value (quotes removed). */
static void pgpool_set(session *s, const char *sql, const route_info *ri, bool reset, buf *b)
{
	char args[512];
	size_t n = ri->arg_len < sizeof(args) - 1 ? ri->arg_len : sizeof(args) - 1;
	memcpy(args, sql + ri->arg_off, n);
	args[n] = '\0';
	char *save = NULL;
	char *name = strtok_r(args, " \t\n=", &save);
	if (!name) {
		proto_error(b, "ERROR", "42601", "syntax error in PGPOOL SET/RESET", NULL);
		return;
	}
	for (char *p = name; *p; p++)
		*p = (char) tolower((unsigned char) *p);
	if (reset && strcmp(name, "all") == 0) {
		s->idle_limit = g.cfg->client_idle_limit;
		s->log_statement = g.cfg->log_statement;
		command_complete(b, "RESET");
		return;
	}
	char *value = NULL;
	if (!reset) {
		char *rest = save ? save + strspn(save, " \t\n=") : NULL;
		if (rest && strncasecmp(rest, "to", 2) == 0 && (rest[2] == ' ' || rest[2] == '\t'))
			rest += 2 + strspn(rest + 2, " \t");
		if (!rest || !*rest) {
			proto_error(b, "ERROR", "42601", "syntax error in PGPOOL SET: no value", NULL);
			return;
		}
		value = rest;
		size_t vl = strlen(value);
		while (vl && (value[vl - 1] == ' ' || value[vl - 1] == ';'))
			value[--vl] = '\0';
		if (vl >= 2 && value[0] == '\'' && value[vl - 1] == '\'') {
			value[vl - 1] = '\0';
			value++;
		}
	}
	if (set_session_param(s, name, value, b))
		command_complete(b, "SET");   /* RESET name answers SET too, as Pgpool-II */
}

static void unsupported(buf *b, const char *what)
{
	char msg[160];
	snprintf(msg, sizeof(msg), "%s is not available in this version of pgpoold", what);
	proto_error(b, "ERROR", "0A000", msg, NULL);
}

static void build_reply(session *s, const route_info *ri, const char *sql, size_t len, buf *b);

void show_command(session *s, const route_info *ri, const char *sql, size_t len, buf *b)
{
	build_reply(s, ri, sql, len, b);
	/* Pgpool-II answers ReadyForQuery 'I' always; we send the real state */
	proto_ready(b, s->tx_status);
}

void show_command_parts(session *s, const route_info *ri, const char *sql, size_t len,
	buf *describe, buf *execute)
{
	buf all;
	buf_init(&all);
	build_reply(s, ri, sql, len, &all);
	/* split the reply: RowDescription to Describe, the rest to Execute */
	size_t off = 0;
	while (!all.oom && off + MSG_HEADER_LEN <= all.len) {
		size_t whole = (size_t) be32(all.data + off + 1) + 1;
		if (all.data[off] == 'T')
			buf_put(describe, all.data + off, whole);
		else
			buf_put(execute, all.data + off, whole);
		off += whole;
	}
	if (describe->len == 0) {
		size_t m = buf_msg_begin(describe, 'n');   /* NoData: an error has no columns */
		buf_msg_end(describe, m);
	}
	if (all.oom)
		describe->oom = execute->oom = true;
	buf_free(&all);
}

static void build_reply(session *s, const route_info *ri, const char *sql, size_t len, buf *b)
{
	switch ((show_cmd) ri->local_cmd) {
	case SHOW_POOL_NODES: show_pool_nodes(s, b); break;
	case SHOW_POOL_VERSION: show_pool_version(b); break;
	case SHOW_POOL_BACKEND_STATS: show_pool_backend_stats(b); break;
	case SHOW_POOL_CACHE: show_pool_cache(b); break;
	case PGPOOL_SHOW: pgpool_show(s, sql, ri, b); break;
	case PGPOOL_SET: pgpool_set(s, sql, ri, false, b); break;
	case PGPOOL_RESET: pgpool_set(s, sql, ri, true, b); break;
	case SHOW_POOL_HEALTH_CHECK_STATS: show_pool_health_check_stats(b); break;
	case SHOW_POOL_POOLS: show_pool_pools(b); break;
	case SHOW_POOL_PROCESSES: show_pool_processes(b); break;
	case SHOW_POOL_STATUS: show_pool_status(b); break;
	default: unsupported(b, "this command"); break;
	}
}
