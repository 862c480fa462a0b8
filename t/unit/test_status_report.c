/* status_report.c and config_report.c: the text rows pcpd and the SHOW
 * commands print, in Pgpool-II 4.3's formats. */
#include "suites.h"
#include "config.h"
#include "config_report.h"
#include "status_report.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_hc_row_disabled_and_enabled)
{
	status_node_info ni;
	memset(&ni, 0, sizeof(ni));
	ni.id = 1;
	snprintf(ni.hostname, sizeof(ni.hostname), "/tmp");
	ni.port = 11003;
	ni.status = NODE_STATUS_UP;
	ni.role = NODE_ROLE_STANDBY;
	ni.hc.min_duration_ms = 2147483647;
	report_hc_row row;
	report_hc_row_fill(&ni, &row);
	ck_assert_str_eq(row.node_id, "1");
	ck_assert_str_eq(row.status, "up");
	ck_assert_str_eq(row.role, "standby");
	ck_assert_str_eq(row.average_retry_count, "0.000000");   /* disabled: 0, no division */
	ck_assert_str_eq(row.min_duration, "0");
	ck_assert_str_eq(row.last_health_check, "");

	ni.hc.enabled = true;                                      /* every check skipped: nan */
	ni.hc.total_count = ni.hc.skip_count = 2;
	report_hc_row_fill(&ni, &row);
	ck_assert_ptr_nonnull(strstr(row.average_retry_count, "nan"));
	ck_assert_str_eq(row.min_duration, "2147483647");

	ni.hc.total_count = 3;
	ni.hc.skip_count = 0;
	ni.hc.retry_count = 1;
	ni.hc.total_duration_ms = 11;
	ni.hc.min_duration_ms = 1;
	ni.hc.last_health_check = 1582582967;
	ni.status = NODE_STATUS_DOWN;
	ni.quarantine = true;
	report_hc_row_fill(&ni, &row);
	ck_assert_str_eq(row.average_retry_count, "0.333333");
	ck_assert_str_eq(row.average_duration, "3.666667");
	ck_assert_str_eq(row.status, "quarantine");
	ck_assert_uint_eq(strlen(row.last_health_check), 19);
	const char *values[REPORT_HC_COLUMNS];
	report_hc_row_values(&row, values);
	ck_assert_str_eq(values[0], "1");
	ck_assert_str_eq(values[15], "3.666667");
	ck_assert_str_eq(report_hc_columns[13], "max_duration");
}
END_TEST

START_TEST(test_pool_rows)
{
	report_pool_context ctx = { .pool_pid = 4242, .start_time = 1700000000, .client_idle_limit = 300,
				    .now = 1700000100 };
	status_session_info si;
	memset(&si, 0, sizeof(si));
	si.slot = 5;
	si.num_nodes = 2;
	report_pool_row row;
	report_pool_row_fill(&ctx, &si, 1, &row);
	ck_assert_str_eq(row.pool_pid, "4242");
	ck_assert_str_eq(row.pool_id, "5");
	ck_assert_str_eq(row.backend_id, "1");
	ck_assert_str_eq(row.database, "");
	ck_assert_str_eq(row.client_idle_duration, "0");
	ck_assert_str_eq(row.majorversion, "0");
	ck_assert_str_eq(row.pool_connected, "0");
	ck_assert_str_eq(row.status, "Wait for connection");

	si.in_use = true;
	snprintf(si.database, sizeof(si.database), "appdb");
	snprintf(si.username, sizeof(si.username), "app");
	si.major = 3;
	si.state = SESSION_IDLE;
	si.last_activity = 1700000070;
	si.client_connection_count = 7;
	si.load_balance_node = 1;
	si.backends[1] = (status_session_backend) { .backend_pid = 999, .connection_time = 1700000050,
						    .pool_counter = 2, .connected = true };
	report_pool_row_fill(&ctx, &si, 1, &row);
	ck_assert_str_eq(row.database, "appdb");
	ck_assert_str_eq(row.client_connection_count, "7");
	ck_assert_str_eq(row.client_idle_duration, "30 (4:30 before client disconnected)");
	ck_assert_str_eq(row.pool_backendpid, "999");
	ck_assert_str_eq(row.pool_connected, "1");
	ck_assert_str_eq(row.load_balance_node, "1");
	ck_assert_str_eq(row.status, "Idle");
	report_pool_row_fill(&ctx, &si, 0, &row);                  /* not connected to node 0 */
	ck_assert_str_eq(row.pool_backendpid, "0");
	ck_assert_str_eq(row.backend_connection_time, "");
	ck_assert_str_eq(row.client_idle_duration, "30");
	ck_assert_str_eq(row.load_balance_node, "0");
}
END_TEST

static const char *row_value(const config_report_row *rows, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(rows[i].name, name) == 0)
			return rows[i].value;
	return NULL;
}

START_TEST(test_config_rows)
{
	pool_config cfg;
	config_errors errs = { 0 };
	const char *text =
		"port = 5432; pcp_port = 9898; unix_socket_directories = \"/run/a, /run/b\";\n"
		"log_min_messages = \"warning\"; disable_load_balance_on_write = \"transaction\";\n"
		"backends = ( { hostname = \"db0\"; port = 5435; weight = 1.0; },"
		" { hostname = \"db1\"; port = 5436; weight = 3.0; flag = \"DISALLOW_TO_FAILOVER|ALWAYS_PRIMARY\"; } );\n";
	ck_assert_int_eq(config_load_string(text, "/tmp", &cfg, &errs), 0);
	config_report_row *rows = NULL;
	int n = config_report_rows(&cfg, NULL, &rows);
	ck_assert_int_gt(n, 40);
	ck_assert_str_eq(rows[0].name, "backend_clustering_mode");
	ck_assert_str_eq(rows[0].value, "1");
	ck_assert_str_eq(row_value(rows, n, "port"), "5432");
	ck_assert_str_eq(row_value(rows, n, "socket_dir"), "/run/a");
	ck_assert_str_eq(row_value(rows, n, "reset_query_list"), "ABORT;DISCARD ALL");
	ck_assert_str_eq(row_value(rows, n, "log_min_messages"), "19");
	ck_assert_str_eq(row_value(rows, n, "disable_load_balance_on_write"), "2");
	ck_assert_str_eq(row_value(rows, n, "connection_cache"), "1");
	ck_assert_str_eq(row_value(rows, n, "backend_weight1"), "0.750000");
	ck_assert_str_eq(row_value(rows, n, "backend_status1"), "unknown");
	ck_assert_str_eq(row_value(rows, n, "backend_flag1"), "DISALLOW_TO_FAILOVER|ALWAYS_PRIMARY");
	ck_assert_str_eq(row_value(rows, n, "backend_flag0"), "ALLOW_TO_FAILOVER");
	/* 8 rows per backend, at the end */
	ck_assert_str_eq(rows[n - 16].name, "backend_hostname0");
	ck_assert_str_eq(rows[n - 1].name, "backend_application_name1");
	for (int i = 0; i < n; i++)
		ck_assert_msg(strlen(rows[i].desc) > 0, "row %s has no description", rows[i].name);
	free(rows);
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

Suite *status_report_suite(void)
{
	Suite *s = suite_create("status_report");
	TCase *tc = tcase_create("rows");
	tcase_add_test(tc, test_hc_row_disabled_and_enabled);
	tcase_add_test(tc, test_pool_rows);
	tcase_add_test(tc, test_config_rows);
	suite_add_tcase(s, tc);
	return s;
}
