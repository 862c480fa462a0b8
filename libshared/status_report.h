/* Text rows built from the status segment, in Pgpool-II's formats, for the
 * reports that pcpd (pcp_health_check_stats, pcp_proc_info) and pgpoold's
 * SQL commands (SHOW pool_health_check_stats, SHOW pool_pools) share: both
 * print the same values, so they are formatted once, here. */
#ifndef PGPOOLD_STATUS_REPORT_H
#define PGPOOLD_STATUS_REPORT_H

#include "status.h"

#include <stddef.h>
#include <time.h>

#define REPORT_TIME_LEN 32
#define REPORT_VALUE_LEN 128

/* "%Y-%m-%d %H:%M:%S" in local time; "" for 0. */
void report_time(time_t t, char *out, size_t outlen);

/* ---- health-check statistics: 20 columns ---- */

#define REPORT_HC_COLUMNS 20
extern const char *const report_hc_columns[REPORT_HC_COLUMNS];   /* SHOW column names */

typedef struct report_hc_row {
	char node_id[16];
	char hostname[STATUS_HOSTNAME_LEN];
	char port[16];
	char status[16];
	char role[16];
	char last_status_change[REPORT_TIME_LEN];
	char total_count[24], success_count[24], fail_count[24], skip_count[24], retry_count[24];
	char average_retry_count[64];
	char max_retry_count[16];
	char max_duration[16];
	char min_duration[16];
	char average_duration[64];
	char last_health_check[REPORT_TIME_LEN];
	char last_successful_health_check[REPORT_TIME_LEN];
	char last_skip_health_check[REPORT_TIME_LEN];
	char last_failed_health_check[REPORT_TIME_LEN];
} report_hc_row;

/* Fill row from a node snapshot (averages as Pgpool-II computes them,
 * including its nan when every check was skipped). */
void report_hc_row_fill(const status_node_info *ni, report_hc_row *row);
/* The 20 values in column order (pointers into row). */
void report_hc_row_values(const report_hc_row *row, const char *values[REPORT_HC_COLUMNS]);

/* ---- pool rows (SHOW pool_pools / pcp_proc_info): 17 columns, 18 in 4.5 ---- */

#define REPORT_POOL_COLUMNS 18
extern const char *const report_pool_columns[REPORT_POOL_COLUMNS];

typedef struct report_pool_row {
	char pool_pid[16];
	char start_time[REPORT_TIME_LEN];
	char client_connection_count[24];
	char pool_id[16];
	char backend_id[16];
	char database[STATUS_IDENT_LEN];
	char username[STATUS_IDENT_LEN];
	char backend_connection_time[REPORT_TIME_LEN];
	char client_connection_time[REPORT_TIME_LEN];
	char client_disconnection_time[REPORT_TIME_LEN];
	char client_idle_duration[REPORT_VALUE_LEN];
	char majorversion[16];
	char minorversion[16];
	char pool_counter[24];
	char pool_backendpid[16];
	char pool_connected[4];
	char status[32];
	char load_balance_node[4];
} report_pool_row;

typedef struct report_pool_context {
	pid_t pool_pid;              /* pgpoold's pid */
	time_t start_time;           /* pgpoold's start */
	int client_idle_limit;       /* seconds, 0 = off: adds "(M:SS before client disconnected)" */
	time_t now;
} report_pool_context;

/* The row of (session slot, node). */
void report_pool_row_fill(const report_pool_context *ctx, const status_session_info *si, int node,
			  report_pool_row *row);
void report_pool_row_values(const report_pool_row *row, const char *values[REPORT_POOL_COLUMNS]);

#endif
