/* What the tools print: see pcp_output.h.  The plain and -v layouts are
 * Pgpool-II 4.3's (spec/pcp-tools.md section 3). */
#include "pcp_output.h"
#include "json_out.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* glibc's RAND_MAX: the wire weight is the normalized weight times it. */
#define PGPOOL_RAND_MAX 2147483647.0

/* Field sizes of Pgpool-II's client structures: longer values are cut. */
#define HOSTNAME_MAX 127
#define CONFIG_NAME_MAX 63
#define CONFIG_VALUE_MAX 511
#define CONFIG_DESC_MAX 79

static const char *field(const pcp_record *rec, int i)
{
	return i < rec->n && rec->fields[i] ? rec->fields[i] : "";
}

/* "%-<w>s : %s\n" per title, w = the longest title: the -v layout. */
static int title_width(const char *const *titles, int n)
{
	int w = 0;
	for (int i = 0; i < n; i++) {
		int l = (int) strlen(titles[i]);
		if (l > w)
			w = l;
	}
	return w;
}

static void print_titled(const char *const *titles, const char *const *values, int n)
{
	int w = title_width(titles, n);
	for (int i = 0; i < n; i++)
		printf("%-*s : %s\n", w, titles[i], values[i]);
	printf("\n");
}

static void print_joined(const char *const *values, int n)
{
	for (int i = 0; i < n; i++)
		printf("%s%s", i ? " " : "", values[i]);
	printf("\n");
}

/* ---- node count ---- */

void output_node_count(const pcp_answer *r, const output_opts *o)
{
	int n = atoi(field(&r->data, 0));
	if (o->json) {
		json_out j;
		json_begin(&j, stdout);
		json_object_open(&j, NULL);
		json_int(&j, "node_count", n);
		json_object_close(&j);
		json_end(&j);
	} else if (o->verbose) {
		printf("Node Count\n____________\n %d\n", n);
	} else {
		printf("%d\n", n);
	}
}

/* ---- node info ---- */

typedef struct node_fields {
	char hostname[HOSTNAME_MAX + 1];
	int port, status, quarantine, role;
	const char *pg_status, *pg_role, *repl_state, *sync_state;
	double weight;
	bool by_time;
	unsigned long long delay;
	time_t changed;
} node_fields;

/* 12 fields (4.3.1+) or 13 (4.4/4.5, standby_delay_by_time inserted). */
static void parse_node(const pcp_record *rec, node_fields *nf)
{
	int k = rec->n >= 13 ? 1 : 0;
	snprintf(nf->hostname, sizeof(nf->hostname), "%s", field(rec, 0));
	nf->port = atoi(field(rec, 1));
	nf->status = atoi(field(rec, 2));
	nf->quarantine = atoi(field(rec, 3));
	nf->pg_status = field(rec, 4);
	nf->weight = atof(field(rec, 5)) / PGPOOL_RAND_MAX;
	nf->role = atoi(field(rec, 6));
	nf->pg_role = field(rec, 7);
	nf->by_time = k && atoi(field(rec, 8)) != 0;
	nf->delay = strtoull(field(rec, 8 + k), NULL, 10);
	nf->repl_state = field(rec, 9 + k);
	nf->sync_state = field(rec, 10 + k);
	nf->changed = (time_t) atoll(field(rec, 11 + k));
}

static const char *status_name(int status, int quarantine)
{
	switch (status) {
	case 0: return "unused";
	case 1: return "waiting";
	case 2: return "up";
	case 3: return quarantine ? "quarantine" : "down";
	default: return "unknown";
	}
}

static const char *role_name(int role)
{
	static const char *const names[] = { "main", "replica", "primary", "standby" };
	return role >= 0 && role <= 3 ? names[role] : "unknown";
}

static void format_delay(const node_fields *nf, bool verbose, char *out, size_t len)
{
	if (!nf->by_time) {
		snprintf(out, len, "%llu", nf->delay);
		return;
	}
	snprintf(out, len, "%.6f%s", (double) ((float) nf->delay / 1000000),
		 !verbose ? "" : nf->delay >= 2000000 ? " seconds" : " second");
}

static void format_changed(time_t t, char *out, size_t len)
{
	struct tm tm;
	out[0] = '\0';
	if (localtime_r(&t, &tm))
		strftime(out, len, "%F %T", &tm);
}

static void node_text(const node_fields *nf, bool verbose)
{
	static const char *const titles[] = {
		"Hostname", "Port", "Status", "Weight", "Status Name", "Backend Status Name", "Role",
		"Backend Role", "Replication Delay", "Replication State", "Replication Sync State",
		"Last Status Change" };
	char port[16], status[16], weight[64], delay[64], changed[20];
	snprintf(port, sizeof(port), "%d", nf->port);
	snprintf(status, sizeof(status), "%d", nf->status);
	snprintf(weight, sizeof(weight), "%f", nf->weight);
	format_delay(nf, verbose, delay, sizeof(delay));
	format_changed(nf->changed, changed, sizeof(changed));
	const char *values[] = {
		nf->hostname, port, status, weight, status_name(nf->status, nf->quarantine), nf->pg_status,
		role_name(nf->role), nf->pg_role, delay, nf->repl_state[0] ? nf->repl_state : "none",
		nf->sync_state[0] ? nf->sync_state : "none", changed };
	if (verbose)
		print_titled(titles, values, 12);
	else
		print_joined(values, 12);
}

static void node_json(json_out *j, const node_fields *nf, int id)
{
	char changed[20];
	format_changed(nf->changed, changed, sizeof(changed));
	json_object_open(j, NULL);
	json_int(j, "node_id", id);
	json_string(j, "hostname", nf->hostname);
	json_int(j, "port", nf->port);
	json_int(j, "status", nf->status);
	json_string(j, "status_name", status_name(nf->status, nf->quarantine));
	json_double(j, "weight", nf->weight);
	json_string(j, "pg_status", nf->pg_status);
	json_string(j, "role", role_name(nf->role));
	json_string(j, "pg_role", nf->pg_role);
	if (nf->by_time)
		json_double(j, "replication_delay_seconds", (double) nf->delay / 1000000);
	else
		json_int(j, "replication_delay", (long long) nf->delay);
	json_string(j, "replication_state", nf->repl_state);
	json_string(j, "replication_sync_state", nf->sync_state);
	json_string(j, "last_status_change", changed);
	json_int(j, "last_status_change_epoch", (long long) nf->changed);
	json_object_close(j);
}

void output_node_info(const pcp_answer *r, const output_opts *o)
{
	json_out j;
	if (o->json) {
		json_begin(&j, stdout);
		json_object_open(&j, NULL);
		json_array_open(&j, "nodes");
	}
	bool printed = false;
	for (int i = 0; i < r->nrecords; i++) {
		node_fields nf;
		parse_node(&r->records[i], &nf);
		if (!o->all && nf.hostname[0] == '\0')
			continue;
		printed = true;
		if (o->json)
			node_json(&j, &nf, o->node_id >= 0 ? o->node_id : i);
		else
			node_text(&nf, o->verbose);
	}
	if (o->json) {
		json_array_close(&j);
		json_object_close(&j);
		json_end(&j);
	} else if (!printed) {
		printf("No node information available\n\n");
	}
}

/* ---- health-check statistics ---- */

static const char *const hc_titles[] = {
	"Node Id", "Host Name", "Port", "Status", "Role", "Last Status Change", "Total Count",
	"Success Count", "Fail Count", "Skip Count", "Retry Count", "Average Retry Count",
	"Max Retry Count", "Max Health Check Duration", "Minimum Health Check Duration",
	"Average Health Check Duration", "Last Health Check", "Last Successful Health Check",
	"Last Skip Health Check", "Last Failed Health Check" };

static const char *const hc_keys[] = {
	"node_id", "hostname", "port", "status", "role", "last_status_change", "total_count",
	"success_count", "fail_count", "skip_count", "retry_count", "average_retry_count",
	"max_retry_count", "max_duration", "min_duration", "average_duration", "last_health_check",
	"last_successful_health_check", "last_skip_health_check", "last_failed_health_check" };

#define HC_FIELDS 20

void output_health_check_stats(const pcp_answer *r, const output_opts *o)
{
	const char *values[HC_FIELDS];
	for (int i = 0; i < HC_FIELDS; i++)
		values[i] = field(&r->data, i);
	if (o->json) {
		json_out j;
		json_begin(&j, stdout);
		json_object_open(&j, NULL);
		for (int i = 0; i < HC_FIELDS; i++) {
			bool text = i == 1 || i == 3 || i == 4 || i == 5 || i >= 16;
			if (text)
				json_text_or_null(&j, hc_keys[i], values[i]);
			else
				json_number_text(&j, hc_keys[i], values[i]);
		}
		json_object_close(&j);
		json_end(&j);
	} else if (o->verbose) {
		print_titled(hc_titles, values, HC_FIELDS);
	} else {
		print_joined(values, HC_FIELDS);
	}
}

/* ---- pool status ---- */

void output_pool_status(const pcp_answer *r, const output_opts *o)
{
	json_out j;
	if (o->json) {
		json_begin(&j, stdout);
		json_object_open(&j, NULL);
		json_array_open(&j, "parameters");
	}
	for (int i = 0; i < r->nrecords; i++) {
		const pcp_record *rec = &r->records[i];
		char name[CONFIG_NAME_MAX + 1], value[CONFIG_VALUE_MAX + 1], desc[CONFIG_DESC_MAX + 1];
		snprintf(name, sizeof(name), "%s", field(rec, 0));
		snprintf(value, sizeof(value), "%s", field(rec, 1));
		snprintf(desc, sizeof(desc), "%s", field(rec, 2));
		if (o->json) {
			json_object_open(&j, NULL);
			json_string(&j, "name", name);
			json_string(&j, "value", value);
			json_string(&j, "description", desc);
			json_object_close(&j);
		} else if (o->verbose) {
			printf("Name [%3d]:\t%s\n", i, name);
			printf("Value:      \t%s\n", value);
			printf("Description:\t%s\n\n", desc);
		} else {
			printf("name : %s\nvalue: %s\ndesc : %s\n\n", name, value, desc);
		}
	}
	if (o->json) {
		json_array_close(&j);
		json_object_close(&j);
		json_end(&j);
	}
}

/* ---- process count ---- */

void output_proc_count(const pcp_answer *r, const output_opts *o)
{
	int announced = atoi(field(&r->data, 0));
	int count = r->data.n - 1;
	if (announced < count)
		count = announced;
	if (count < 0)
		count = 0;
	if (o->json) {
		json_out j;
		json_begin(&j, stdout);
		json_object_open(&j, NULL);
		json_int(&j, "process_count", count);
		json_array_open(&j, "pids");
		for (int i = 0; i < count; i++)
			json_int(&j, NULL, atoi(field(&r->data, i + 1)));
		json_array_close(&j);
		json_object_close(&j);
		json_end(&j);
	} else if (o->verbose) {
		printf("No \t | \t PID\n");
		printf("_____________________\n");
		for (int i = 0; i < count; i++)
			printf("%d \t | \t %d\n", i, atoi(field(&r->data, i + 1)));
		printf("\nTotal Processes:%d\n", count);
	} else {
		for (int i = 0; i < count; i++)
			printf("%d ", atoi(field(&r->data, i + 1)));
		printf("\n");
	}
}

/* ---- process info ---- */

/* Wire order of a ProcessInfo record (spec 6.4). */
enum { PI_PID, PI_START, PI_COUNT, PI_POOL_ID, PI_BACKEND_ID, PI_DB, PI_USER, PI_BE_TIME,
       PI_CONN_TIME, PI_DISCONN_TIME, PI_IDLE, PI_MAJOR, PI_MINOR, PI_COUNTER, PI_BE_PID,
       PI_CONNECTED, PI_STATUS, PI_LB, PI_FIELDS };

static const char *const pi_keys[PI_FIELDS] = {
	"pool_pid", "start_time", "client_connection_count", "pool_id", "backend_id", "database",
	"username", "backend_connection_time", "client_connection_time", "client_disconnection_time",
	"client_idle_duration", "majorversion", "minorversion", "pool_counter", "pool_backendpid",
	"pool_connected", "status", "load_balance_node" };

static void proc_json(json_out *j, const pcp_record *rec)
{
	json_object_open(j, NULL);
	for (int i = 0; i < PI_FIELDS && i < rec->n; i++) {
		bool text = i == PI_START || i == PI_DB || i == PI_USER || i == PI_BE_TIME ||
			    i == PI_CONN_TIME || i == PI_DISCONN_TIME || i == PI_IDLE || i == PI_STATUS;
		if (text)
			json_string(j, pi_keys[i], field(rec, i));
		else
			json_number_text(j, pi_keys[i], field(rec, i));
	}
	json_object_close(j);
}

static void proc_text(const pcp_record *rec, bool verbose)
{
	static const char *const titles[] = {
		"Database", "Username", "Start time", "Client connection count", "Major", "Minor",
		"Backend connection time", "Client connection time", "Client idle duration",
		"Client disconnection time", "Pool Counter", "Backend PID", "Connected", "PID",
		"Backend ID", "Status" };
	static const int order[] = {
		PI_DB, PI_USER, PI_START, PI_COUNT, PI_MAJOR, PI_MINOR, PI_BE_TIME, PI_CONN_TIME, PI_IDLE,
		PI_DISCONN_TIME, PI_COUNTER, PI_BE_PID, PI_CONNECTED, PI_PID, PI_BACKEND_ID, PI_STATUS };
	const char *values[16];
	for (int i = 0; i < 16; i++)
		values[i] = field(rec, order[i]);
	if (verbose)
		print_titled(titles, values, 16);
	else
		print_joined(values, 16);
}

void output_proc_info(const pcp_answer *r, const output_opts *o)
{
	json_out j;
	if (o->json) {
		json_begin(&j, stdout);
		json_object_open(&j, NULL);
		json_array_open(&j, "processes");
	}
	bool printed = false;
	for (int i = 0; i < r->nrecords; i++) {
		const pcp_record *rec = &r->records[i];
		if (!o->all && field(rec, PI_DB)[0] == '\0')
			continue;
		printed = true;
		if (o->json)
			proc_json(&j, rec);
		else
			proc_text(rec, o->verbose);
	}
	if (o->json) {
		json_array_close(&j);
		json_object_close(&j);
		json_end(&j);
	} else if (!printed) {
		printf("No process information available\n\n");
	}
}

/* ---- watchdog ---- */

void output_watchdog_info(const pcp_answer *r, const output_opts *o)
{
	/* pgpoold has no watchdog; a Pgpool-II server's JSON is passed on as it is */
	const char *json = field(&r->data, 0);
	if (o->json)
		printf("%s\n", json);
	else
		printf("%s\n\n", json);
}

/* ---- outcomes ---- */

void output_success(const output_opts *o)
{
	if (!o->json) {
		fprintf(stdout, "%s -- Command Successful\n", o->progname);
		return;
	}
	json_out j;
	json_begin(&j, stdout);
	json_object_open(&j, NULL);
	json_string(&j, "command", o->progname);
	json_string(&j, "status", "ok");
	json_object_close(&j);
	json_end(&j);
}

/* A local error text without its trailing newlines, for JSON. */
static void trimmed(const char *s, char *out, size_t len)
{
	snprintf(out, len, "%s", s);
	size_t n = strlen(out);
	while (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
}

void output_error(const pcp_conn *c, const output_opts *o)
{
	const char *text = c->error[0] ? c->error : "Unknown Error";
	if (!o->json) {
		fprintf(stderr, "%s\n", text);
		return;
	}
	json_out j;
	json_begin(&j, stdout);
	json_object_open(&j, NULL);
	json_string(&j, "command", o->progname);
	json_string(&j, "status", "error");
	json_object_open(&j, "error");
	if (c->err_message[0]) {
		json_string(&j, "severity", c->err_severity);
		json_string(&j, "message", c->err_message);
		json_string(&j, "detail", c->err_detail[0] ? c->err_detail : NULL);
	} else {
		char msg[1024];
		trimmed(text, msg, sizeof(msg));
		json_string(&j, "severity", "ERROR");
		json_string(&j, "message", msg);
		json_string(&j, "detail", NULL);
	}
	json_object_close(&j);
	json_object_close(&j);
	json_end(&j);
}
