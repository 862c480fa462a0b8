/* pcp_pool_status / SHOW pool_status rows: see config_report.h. */
#include "config_report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct row_list {
	config_report_row *rows;
	int count;
	int cap;
	bool oom;
} row_list;

static void add_row(row_list *l, const char *name, const char *desc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add_row(row_list *l, const char *name, const char *desc, const char *fmt, ...)
{
	if (l->oom)
		return;
	if (l->count == l->cap) {
		int cap = l->cap ? l->cap * 2 : 64;
		config_report_row *grown = realloc(l->rows, (size_t) cap * sizeof(*grown));
		if (!grown) {
			l->oom = true;
			return;
		}
		l->rows = grown;
		l->cap = cap;
	}
	config_report_row *r = &l->rows[l->count++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->desc, sizeof(r->desc), "%s", desc);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->value, sizeof(r->value), fmt, ap);
	va_end(ap);
}

static void add_str(row_list *l, const char *name, const char *value, const char *desc)
{
	add_row(l, name, desc, "%s", value ? value : "");
}

static void add_int(row_list *l, const char *name, int value, const char *desc)
{
	add_row(l, name, desc, "%d", value);
}

static void add_bool(row_list *l, const char *name, bool value, const char *desc)
{
	add_row(l, name, desc, "%d", value ? 1 : 0);
}

/* Index of word in words (1-based, as Pgpool-II's enum codes), 0 if absent. */
static int enum_code(const char *value, const char *const *words)
{
	for (int i = 0; value && words[i]; i++)
		if (strcmp(value, words[i]) == 0)
			return i + 1;
	return 0;
}

/* Pgpool-II's elog level numbers for log_min_messages. */
static int elog_level(const char *name)
{
	static const struct { const char *name; int level; } levels[] = {
		{"debug5", 10}, {"debug4", 11}, {"debug3", 12}, {"debug2", 13}, {"debug1", 14},
		{"log", 15}, {"info", 17}, {"notice", 18}, {"warning", 19}, {"error", 20},
		{"fatal", 21}, {"panic", 22},
	};
	for (size_t i = 0; name && i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(name, levels[i].name) == 0)
			return levels[i].level;
	return 0;
}

/* "ABORT; DISCARD ALL" -> "ABORT;DISCARD ALL", as Pgpool-II lists it. */
static void join_trimmed(const char *list, char sep, char *out, size_t outlen)
{
	size_t n = 0;
	out[0] = '\0';
	const char *p = list ? list : "";
	while (*p) {
		const char *end = strchr(p, sep);
		size_t len = end ? (size_t) (end - p) : strlen(p);
		const char *s = p;
		size_t slen = len;
		while (slen && (*s == ' ' || *s == '\t' || *s == '\n')) {
			s++;
			slen--;
		}
		while (slen && (s[slen - 1] == ' ' || s[slen - 1] == '\t' || s[slen - 1] == '\n'))
			slen--;
		if (slen) {
			int w = snprintf(out + n, outlen - n, "%s%.*s", n ? (char[]) { sep, 0 } : "", (int) slen, s);
			if (w < 0 || (size_t) w >= outlen - n)
				return;
			n += (size_t) w;
		}
		p += len + (end ? 1 : 0);
	}
}

/* First folder of a comma list (4.3 had a single socket_dir). */
static void first_item(const char *list, char *out, size_t outlen)
{
	const char *p = list ? list : "";
	while (*p == ' ' || *p == ',')
		p++;
	size_t len = strcspn(p, ", ");
	snprintf(out, outlen, "%.*s", (int) len, p);
}

static void connection_rows(row_list *l, const pool_config *cfg)
{
	char dir[256];
	add_str(l, "backend_clustering_mode", "1", "clustering mode");
	add_str(l, "listen_addresses", cfg->listen_addresses, "host name(s) or IP address(es) to listen on");
	add_int(l, "port", cfg->port, "pgpool accepting port number");
	first_item(cfg->unix_socket_directories, dir, sizeof(dir));
	add_str(l, "socket_dir", dir, "pgpool socket directory");
	add_str(l, "pcp_listen_addresses", cfg->pcp_listen_addresses,
		"host name(s) or IP address(es) for pcp process to listen on");
	add_int(l, "pcp_port", cfg->pcp_port, "PCP port # to bind");
	add_str(l, "pcp_socket_dir", cfg->pcp_socket_dir, "PCP socket directory");
	add_bool(l, "enable_pool_hba", cfg->enable_pool_hba, "if true, use pool_hba.conf for client authentication");
	add_str(l, "pool_passwd", cfg->pool_passwd, "file name of pool_passwd for md5 authentication");
	add_int(l, "authentication_timeout", cfg->authentication_timeout,
		"maximum time in seconds to complete client authentication");
	add_int(l, "workers", cfg->workers, "worker threads, each with its own event loop (0 = one per CPU)");
	add_int(l, "max_clients", cfg->max_clients, "most clients connected at once");
	add_int(l, "listen_backlog", cfg->listen_backlog, "listen(2) backlog of each listening socket");
	add_int(l, "max_pool", cfg->max_pool, "max # of cached backend connections per user/database");
	add_int(l, "connection_life_time", cfg->connection_life_time, "if idle for this seconds, connection closes");
	add_int(l, "client_idle_limit", cfg->client_idle_limit, "if idle for this seconds, child connection closes");
}

static void logging_rows(row_list *l, const pool_config *cfg)
{
	static const char *const standby_delay_words[] = { "always", "if_over_threshold", "none", NULL };
	add_int(l, "log_min_messages", elog_level(cfg->log_min_messages),
		"controls which message should be emitted to server log");
	add_bool(l, "log_connections", cfg->log_connections, "if true, print incoming connections to the log");
	add_bool(l, "log_disconnections", cfg->log_disconnections, "if true, print closing connections to the log");
	add_bool(l, "log_statement", cfg->log_statement, "if non 0, logs all SQL statements");
	add_int(l, "log_standby_delay", enum_code(cfg->log_standby_delay, standby_delay_words),
		"how to log standby delay");
	add_str(l, "pid_file_name", cfg->pid_file_name, "path to pid file");
	add_str(l, "logdir", cfg->logdir, "PgPool status file logging directory");
}

static void routing_rows(row_list *l, const pool_config *cfg)
{
	static const char *const dlbow_words[] = { "off", "transaction", "trans_transaction", "always",
						   "dml_adaptive", NULL };
	char joined[CONFIG_REPORT_VALUE_LEN];
	add_bool(l, "connection_cache", cfg->connection_cache, "if true, cache connection pool");
	join_trimmed(cfg->reset_query_list, ';', joined, sizeof(joined));
	add_str(l, "reset_query_list", joined, "queries issued at the end of session");
	add_bool(l, "load_balance_mode", cfg->load_balance_mode, "non 0 if operating in load balancing mode");
	add_str(l, "read_only_function_list", cfg->read_only_function_list, "functions those do not write to database");
	add_str(l, "write_function_list", cfg->write_function_list, "functions those write to database");
	add_str(l, "primary_routing_query_pattern_list", cfg->primary_routing_query_pattern_list,
		"query patterns that should be sent to primary node");
	add_int(l, "disable_load_balance_on_write", enum_code(cfg->disable_load_balance_on_write, dlbow_words),
		"Load balance behavior when write query is received");
	add_bool(l, "statement_level_load_balance", cfg->statement_level_load_balance,
		 "statement level load balancing");
	add_bool(l, "causal_reads", cfg->causal_reads, "read-your-writes across primary and standbys");
	add_int(l, "sr_check_period", cfg->sr_check_period, "sr check period");
	add_str(l, "sr_check_user", cfg->sr_check_user, "sr check user");
	add_str(l, "sr_check_database", cfg->sr_check_database, "sr check database");
	add_int(l, "delay_threshold", cfg->delay_threshold, "standby delay threshold");
	add_int(l, "delay_threshold_by_time", cfg->delay_threshold_by_time, "standby delay threshold by time");
	add_bool(l, "prefer_lower_delay_standby", cfg->prefer_lower_delay_standby,
		 "load balancing considering streaming delay");
	add_str(l, "database_redirect_preference_list", cfg->database_redirect_preference_list,
		"redirect by database name");
	add_str(l, "app_name_redirect_preference_list", cfg->app_name_redirect_preference_list,
		"redirect by application name");
	add_int(l, "connect_timeout", cfg->connect_timeout, "connect timeout");
}

static void backend_flag_text(int flag, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s%s",
		 (flag & BACKEND_FLAG_DISALLOW_TO_FAILOVER) ? "DISALLOW_TO_FAILOVER" : "ALLOW_TO_FAILOVER",
		 (flag & BACKEND_FLAG_ALWAYS_PRIMARY) ? "|ALWAYS_PRIMARY" : "");
}

static void backend_rows(row_list *l, const pool_config *cfg, const status_segment *st)
{
	double weight_sum = 0;
	for (int i = 0; i < cfg->num_backends; i++)
		weight_sum += cfg->backends[i].weight;
	for (int i = 0; i < cfg->num_backends; i++) {
		const backend_config *be = &cfg->backends[i];
		if (be->port == 0)
			continue;
		status_node_info ni;
		bool have = st && status_node_get(st, i, &ni);
		char name[CONFIG_REPORT_NAME_LEN], desc[CONFIG_REPORT_DESC_LEN], flag[64];
#define BACKEND_ROW(key, descfmt, ...) do { \
		snprintf(name, sizeof(name), "%s%d", key, i); \
		snprintf(desc, sizeof(desc), descfmt, i); \
		add_row(l, name, desc, __VA_ARGS__); \
	} while (0)
		BACKEND_ROW("backend_hostname", "backend #%d hostname", "%s", be->hostname ? be->hostname : "");
		BACKEND_ROW("backend_port", "backend #%d port number", "%d", be->port);
		BACKEND_ROW("backend_weight", "weight of backend #%d", "%f",
			    have ? ni.weight : (weight_sum > 0 ? be->weight / weight_sum : 0.0));
		BACKEND_ROW("backend_data_directory", "data directory for backend #%d", "%s",
			    be->data_directory ? be->data_directory : "");
		BACKEND_ROW("backend_status", "status of backend #%d", "%s",
			    have ? status_node_state_name(ni.status, ni.quarantine) : "unknown");
		BACKEND_ROW("standby_delay", "standby delay of backend #%d", "%" PRIu64,
			    have ? ni.replication_delay : (uint64_t) 0);
		backend_flag_text(have ? ni.flag : be->flag, flag, sizeof(flag));
		BACKEND_ROW("backend_flag", "backend #%d flag", "%s", flag);
		BACKEND_ROW("backend_application_name", "application_name for backend #%d", "%s",
			    be->application_name ? be->application_name : "");
#undef BACKEND_ROW
	}
}

int config_report_rows(const pool_config *cfg, const status_segment *st, config_report_row **rows)
{
	row_list l = { 0 };
	connection_rows(&l, cfg);
	logging_rows(&l, cfg);
	routing_rows(&l, cfg);
	backend_rows(&l, cfg, st);
	if (l.oom) {
		free(l.rows);
		*rows = NULL;
		return -1;
	}
	*rows = l.rows;
	return l.count;
}
