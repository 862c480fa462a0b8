/* Unit tests for libshared/config.c: defaults, valid files, @include,
 * every kind of error (with its file and line), backends, path resolution
 * and instance names.  Files are written under a fresh mkdtemp folder. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "suites.h"
#include "config.h"
#include "log.h"

#include <ctype.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "."
#endif

/* A backend list that makes an otherwise empty file valid. */
#define ONE_BACKEND "backends = ( { port = 5432; } );\n"
#define BACKENDS_SHAPE "backends = ( { hostname = \"...\"; port = 5432; }, ... );"

static char tmpdir[64];
static char saved_cwd[PATH_MAX];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pgpoold-config-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_ptr_nonnull(getcwd(saved_cwd, sizeof(saved_cwd)));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	ck_assert_int_eq(chdir(saved_cwd), 0);
	ck_assert_int_eq(nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* ---- helpers ---- */

static void tmp_path(char *out, size_t size, const char *rel)
{
	snprintf(out, size, "%s/%s", tmpdir, rel);
}

/* Write rel (under the temp folder, creating one level of folder). */
static void write_file(const char *rel, const char *text)
{
	char path[PATH_MAX];
	const char *slash = strchr(rel, '/');
	if (slash) {
		snprintf(path, sizeof(path), "%s/%.*s", tmpdir, (int) (slash - rel), rel);
		ck_assert(mkdir(path, 0700) == 0 || access(path, F_OK) == 0);
	}
	tmp_path(path, sizeof(path), rel);
	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_ge(fputs(text, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
}

static int load(const char *rel, pool_config *cfg, config_errors *errs)
{
	char path[PATH_MAX];
	tmp_path(path, sizeof(path), rel);
	return config_load(path, cfg, errs);
}

/* Write main.conf and load it. */
static int load_text(const char *text, pool_config *cfg, config_errors *errs)
{
	write_file("main.conf", text);
	return load("main.conf", cfg, errs);
}

/* errs->items[index] is "<tmpdir>/<rel>:<line>: <message>" (no ":<line>" if 0). */
static void assert_error(const config_errors *errs, int index, const char *rel, int line,
			 const char *message)
{
	char expected[4096];
	if (line > 0)
		snprintf(expected, sizeof(expected), "%s/%s:%d: %s", tmpdir, rel, line, message);
	else
		snprintf(expected, sizeof(expected), "%s/%s: %s", tmpdir, rel, message);
	ck_assert_int_gt(errs->count, index);
	ck_assert_str_eq(errs->items[index], expected);
}

static void assert_no_errors(int n, const config_errors *errs)
{
	for (int i = 0; i < errs->count; i++)
		fprintf(stderr, "unexpected: %s\n", errs->items[i]);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(errs->count, 0);
}

static void assert_in_tmp(const char *value, const char *rel)
{
	char expected[PATH_MAX];
	tmp_path(expected, sizeof(expected), rel);
	ck_assert_str_eq(value, expected);
}

/* Every parameter at its default; file names resolved against dir (NULL =
 * left as they are). */
static void assert_defaults(const pool_config *cfg, const char *dir)
{
	char path[PATH_MAX];
#define ASSERT_PATH(field, name) do { \
		if (dir) { snprintf(path, sizeof(path), "%s/%s", dir, name); ck_assert_str_eq(cfg->field, path); } \
		else ck_assert_str_eq(cfg->field, name); \
	} while (0)
	ck_assert_str_eq(cfg->listen_addresses, "localhost");
	ck_assert_int_eq(cfg->port, 9999);
	ck_assert_str_eq(cfg->unix_socket_directories, "/tmp");
	ck_assert_int_eq(cfg->unix_socket_permissions, 0777);
	ck_assert_str_eq(cfg->pcp_listen_addresses, "localhost");
	ck_assert_int_eq(cfg->pcp_port, 9898);
	ck_assert_str_eq(cfg->pcp_socket_dir, "/tmp");
	ck_assert_int_eq(cfg->listen_backlog, 1024);
	ck_assert_int_eq(cfg->workers, 0);
	ck_assert_int_eq(cfg->max_clients, 1000);
	ck_assert_int_eq(cfg->authentication_timeout, 60);
	ck_assert_int_eq(cfg->client_idle_limit, 0);
	ck_assert_int_eq(cfg->max_message_size, 1073741824);
	ck_assert_int_eq(cfg->max_pool, 4);
	ck_assert_int_eq(cfg->connection_life_time, 0);
	ck_assert(cfg->connection_cache);
	ck_assert_str_eq(cfg->reset_query_list, "ABORT; DISCARD ALL");
	ck_assert_int_eq(cfg->connect_timeout, 10000);
	ck_assert(!cfg->enable_pool_hba);
	ASSERT_PATH(pool_hba_file, "pool_hba.conf");
	ASSERT_PATH(pool_passwd, "pool_passwd");
	ASSERT_PATH(pcp_conf_file, "pcp.conf");
	ASSERT_PATH(pid_file_name, "pgpoold.pid");
	ck_assert_str_eq(cfg->logdir, "/tmp");
	ck_assert_str_eq(cfg->log_min_messages, "warning");
	ck_assert(!cfg->log_connections);
	ck_assert(!cfg->log_disconnections);
	ck_assert(!cfg->log_statement);
	ck_assert(!cfg->logging_collector);
	ASSERT_PATH(log_directory, "log");
	ck_assert_str_eq(cfg->log_filename, "pgpoold.log");
#undef ASSERT_PATH
}

/* ---- defaults and freeing ---- */

START_TEST(test_defaults)
{
	pool_config cfg;
	config_set_defaults(&cfg);
	assert_defaults(&cfg, NULL);
	ck_assert_str_eq(cfg.instance_name, "pgpoold");
	ck_assert_ptr_null(cfg.config_file);
	ck_assert_ptr_null(cfg.config_dir);
	ck_assert_int_eq(cfg.num_backends, 0);
	config_free(&cfg);
	ck_assert_ptr_null(cfg.listen_addresses);
	ck_assert_ptr_null(cfg.pool_passwd);
	config_free(&cfg);  /* twice is harmless */
}
END_TEST

START_TEST(test_defaults_of_a_minimal_file)
{
	pool_config cfg;
	config_errors errs = {0};
	assert_no_errors(load_text(ONE_BACKEND, &cfg, &errs), &errs);
	assert_defaults(&cfg, tmpdir);
	ck_assert_int_eq(cfg.num_backends, 1);
	ck_assert_str_eq(cfg.backends[0].hostname, "");
	ck_assert_int_eq(cfg.backends[0].port, 5432);
	ck_assert_double_eq(cfg.backends[0].weight, 1.0);
	ck_assert_str_eq(cfg.backends[0].data_directory, "");
	ck_assert_int_eq(cfg.backends[0].flag, BACKEND_FLAG_ALLOW_TO_FAILOVER);
	ck_assert_str_eq(cfg.backends[0].application_name, "");
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_param_names)
{
	int n = 0;
	bool seen_port = false, seen_log_min = false;
	for (; config_param_name(n); n++) {
		seen_port |= strcmp(config_param_name(n), "port") == 0;
		seen_log_min |= strcmp(config_param_name(n), "log_min_messages") == 0;
		ck_assert_str_ne(config_param_name(n), "backends");
		for (int m = 0; m < n; m++)      /* no parameter listed twice */
			ck_assert_str_ne(config_param_name(m), config_param_name(n));
	}
	ck_assert_int_ge(n, 32);
	ck_assert(seen_port && seen_log_min);
	ck_assert_ptr_null(config_param_name(-1));
	ck_assert_ptr_null(config_param_name(n + 1));
}
END_TEST

START_TEST(test_free_after_failed_load)
{
	pool_config cfg;
	config_errors errs = {0};
	ck_assert_int_gt(load_text("port = ;\n", &cfg, &errs), 0);
	config_free(&cfg);
	config_free(&cfg);
	config_errors_free(&errs);
	config_errors_free(&errs);
	ck_assert_int_eq(errs.count, 0);
	ck_assert_ptr_null(errs.items);
}
END_TEST

/* ---- valid files ---- */

static const char full_file[] =
	"# every parameter set to something other than its default\n"
	"instance_name = \"booking-auth\";\n"
	"listen_addresses = \"*\";\n"
	"port = 5432;\n"
	"unix_socket_directories = \"/var/run/postgresql,/tmp\";\n"
	"unix_socket_permissions = 0770;\n"
	"pcp_listen_addresses = \"127.0.0.1\";\n"
	"pcp_port = 9898;\n"
	"pcp_socket_dir = \"/var/run/postgresql\";\n"
	"listen_backlog = 4096;\n"
	"workers = 4;\n"
	"max_clients = 500;\n"
	"authentication_timeout = 30;\n"
	"client_idle_limit = 300;\n"
	"max_message_size = 16777216L;\n"
	"max_pool = 8;\n"
	"connection_life_time = 600;\n"
	"connection_cache = false;\n"
	"reset_query_list = \"DISCARD ALL\";\n"
	"connect_timeout = 0x1388;\n"
	"enable_pool_hba = true;\n"
	"pool_hba_file = \"/etc/pgpoold/pool_hba.conf\";\n"
	"pool_passwd = \"\";\n"
	"pcp_conf_file = \"conf/pcp.conf\";\n"
	"pid_file_name = \"/run/pgpoold/auth.pid\";\n"
	"logdir = \"status\";\n"
	"log_min_messages = \"DEBUG1\";\n"
	"log_connections = true;\n"
	"log_disconnections = true;\n"
	"log_statement = true;\n"
	"logging_collector = true;\n"
	"log_directory = \"/var/log/pgpoold\";\n"
	"log_filename = \"auth.log\";\n"
	"backends = (\n"
	"  { hostname = \"127.0.0.1\"; port = 5435; weight = 1.0; data_directory = \"/data/auth0\";\n"
	"    flag = \"ALLOW_TO_FAILOVER\"; application_name = \"auth0\"; },\n"
	"  { hostname = \"/var/run/postgresql\"; port = 5436; weight = 2;\n"
	"    flag = \"DISALLOW_TO_FAILOVER | ALWAYS_PRIMARY\"; }\n"
	");\n";

START_TEST(test_full_file)
{
	pool_config cfg;
	config_errors errs = {0};
	assert_no_errors(load_text(full_file, &cfg, &errs), &errs);
	assert_in_tmp(cfg.config_file, "main.conf");
	ck_assert_str_eq(cfg.config_dir, tmpdir);
	ck_assert_str_eq(cfg.instance_name, "booking-auth");
	ck_assert_str_eq(cfg.listen_addresses, "*");
	ck_assert_int_eq(cfg.port, 5432);
	ck_assert_str_eq(cfg.unix_socket_directories, "/var/run/postgresql,/tmp");
	ck_assert_int_eq(cfg.unix_socket_permissions, 0770);
	ck_assert_str_eq(cfg.pcp_listen_addresses, "127.0.0.1");
	ck_assert_int_eq(cfg.pcp_port, 9898);
	ck_assert_str_eq(cfg.pcp_socket_dir, "/var/run/postgresql");
	ck_assert_int_eq(cfg.listen_backlog, 4096);
	ck_assert_int_eq(cfg.workers, 4);
	ck_assert_int_eq(cfg.max_clients, 500);
	ck_assert_int_eq(cfg.authentication_timeout, 30);
	ck_assert_int_eq(cfg.client_idle_limit, 300);
	ck_assert_int_eq(cfg.max_message_size, 16777216);
	ck_assert_int_eq(cfg.max_pool, 8);
	ck_assert_int_eq(cfg.connection_life_time, 600);
	ck_assert(!cfg.connection_cache);
	ck_assert_str_eq(cfg.reset_query_list, "DISCARD ALL");
	ck_assert_int_eq(cfg.connect_timeout, 5000);
	ck_assert(cfg.enable_pool_hba);
	ck_assert_str_eq(cfg.pool_hba_file, "/etc/pgpoold/pool_hba.conf");
	ck_assert_str_eq(cfg.pool_passwd, "");
	assert_in_tmp(cfg.pcp_conf_file, "conf/pcp.conf");
	ck_assert_str_eq(cfg.pid_file_name, "/run/pgpoold/auth.pid");
	assert_in_tmp(cfg.logdir, "status");
	ck_assert_str_eq(cfg.log_min_messages, "debug1");
	ck_assert(cfg.log_connections);
	ck_assert(cfg.log_disconnections);
	ck_assert(cfg.log_statement);
	ck_assert(cfg.logging_collector);
	ck_assert_str_eq(cfg.log_directory, "/var/log/pgpoold");
	ck_assert_str_eq(cfg.log_filename, "auth.log");

	ck_assert_int_eq(cfg.num_backends, 2);
	ck_assert_str_eq(cfg.backends[0].hostname, "127.0.0.1");
	ck_assert_int_eq(cfg.backends[0].port, 5435);
	ck_assert_double_eq(cfg.backends[0].weight, 1.0);
	ck_assert_str_eq(cfg.backends[0].data_directory, "/data/auth0");
	ck_assert_int_eq(cfg.backends[0].flag, BACKEND_FLAG_ALLOW_TO_FAILOVER);
	ck_assert_str_eq(cfg.backends[0].application_name, "auth0");
	ck_assert_str_eq(cfg.backends[1].hostname, "/var/run/postgresql");
	ck_assert_int_eq(cfg.backends[1].port, 5436);
	ck_assert_double_eq(cfg.backends[1].weight, 2.0);
	ck_assert_str_eq(cfg.backends[1].data_directory, "");
	ck_assert_int_eq(cfg.backends[1].flag, BACKEND_FLAG_DISALLOW_TO_FAILOVER | BACKEND_FLAG_ALWAYS_PRIMARY);
	ck_assert_str_eq(cfg.backends[1].application_name, "");
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_log_levels)
{
	static const char *const words[] = {
		"debug5", "debug4", "debug3", "debug2", "debug1", "info", "notice",
		"warning", "error", "log", "fatal", "panic"
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		char text[256], upper[16];
		size_t j;
		for (j = 0; words[i][j] && j < sizeof(upper) - 1; j++)
			upper[j] = (char) toupper((unsigned char) words[i][j]);  /* case does not matter */
		upper[j] = '\0';
		snprintf(text, sizeof(text), "log_min_messages = \"%s\";\n" ONE_BACKEND, upper);
		pool_config cfg;
		config_errors errs = {0};
		assert_no_errors(load_text(text, &cfg, &errs), &errs);
		ck_assert_str_eq(cfg.log_min_messages, words[i]);
		/* the daemon hands it to the logger, which must know every word */
		ck_assert_int_ge(log_level_from_name(cfg.log_min_messages), 0);
		config_free(&cfg);
		config_errors_free(&errs);
	}
}
END_TEST

START_TEST(test_socket_permissions_forms)
{
	static const struct { const char *value; int mode; } forms[] = {
		{"0777", 0777}, {"0770", 0770}, {"0", 0}, {"600", 0600}, {"0x1F8", 0770},
		{"\"0660\"", 0660}, {"\"700\"", 0700},
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), "unix_socket_permissions = %s;\n" ONE_BACKEND, forms[i].value);
		pool_config cfg;
		config_errors errs = {0};
		assert_no_errors(load_text(text, &cfg, &errs), &errs);
		ck_assert_int_eq(cfg.unix_socket_permissions, forms[i].mode);
		config_free(&cfg);
		config_errors_free(&errs);
	}
}
END_TEST

/* Wide integers in comments, strings and names are not values. */
START_TEST(test_wide_literals_outside_values)
{
	pool_config cfg;
	config_errors errs = {0};
	assert_no_errors(load_text(
		"port = 5432; # 99999999999\n"
		"pcp_port = 9898; /* 4294972731\n 4294972731 */ max_pool = 5;\n"
		"reset_query_list = \"SELECT 4294972731\"; workers = 2; // 4294972731\n"
		"max_message_size = 2147483647;\n"
		"backends = ( { port = 5435; application_name = \"4294972731\"; } );\n",
		&cfg, &errs), &errs);
	ck_assert_int_eq(cfg.port, 5432);
	ck_assert_int_eq(cfg.pcp_port, 9898);
	ck_assert_int_eq(cfg.max_pool, 5);
	ck_assert_str_eq(cfg.reset_query_list, "SELECT 4294972731");
	ck_assert_int_eq(cfg.workers, 2);
	ck_assert_int_eq(cfg.max_message_size, 2147483647);
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

/* ---- @include ---- */

static const char common_file[] =
	"listen_addresses = \"*\";\n"
	"max_pool = 8;\n"
	"enable_pool_hba = true;\n"
	"pool_passwd = \"secrets/pool_passwd\";\n";

START_TEST(test_include_from_another_folder)
{
	static const struct { const char *file, *instance; int port, pcp_port, primary; } instances[] = {
		{"pgpool-auth.conf", "auth", 5432, 9898, 5435},
		{"pgpool-event.conf", "event", 5433, 9899, 5437},
		{"pgpool-ticket.conf", "ticket", 5434, 9900, 5439},
	};
	write_file("common.conf", common_file);
	for (size_t i = 0; i < 3; i++) {
		char text[512];
		snprintf(text, sizeof(text),
			 "@include \"common.conf\"\nport = %d;\npcp_port = %d;\n"
			 "backends = ( { hostname = \"127.0.0.1\"; port = %d; },\n"
			 "             { hostname = \"127.0.0.1\"; port = %d; } );\n",
			 instances[i].port, instances[i].pcp_port, instances[i].primary, instances[i].primary + 1);
		write_file(instances[i].file, text);
	}
	ck_assert_int_eq(chdir("/"), 0);  /* relative names must not depend on the cwd */
	for (size_t i = 0; i < 3; i++) {
		pool_config cfg;
		config_errors errs = {0};
		assert_no_errors(load(instances[i].file, &cfg, &errs), &errs);
		ck_assert_str_eq(cfg.instance_name, instances[i].instance);
		ck_assert_int_eq(cfg.port, instances[i].port);
		ck_assert_int_eq(cfg.pcp_port, instances[i].pcp_port);
		ck_assert_str_eq(cfg.listen_addresses, "*");
		ck_assert_int_eq(cfg.max_pool, 8);
		ck_assert(cfg.enable_pool_hba);
		assert_in_tmp(cfg.pool_passwd, "secrets/pool_passwd");
		assert_in_tmp(cfg.pool_hba_file, "pool_hba.conf");
		ck_assert_int_eq(cfg.num_backends, 2);
		ck_assert_int_eq(cfg.backends[0].port, instances[i].primary);
		ck_assert_int_eq(cfg.backends[1].port, instances[i].primary + 1);
		config_free(&cfg);
		config_errors_free(&errs);
	}
}
END_TEST

/* The booking deployment's files, checked in under t/unit/data/config. */
START_TEST(test_booking_fixtures)
{
	static const struct { const char *instance; int port, pcp_port, primary; } instances[] = {
		{"auth", 5432, 9898, 5435}, {"event", 5433, 9899, 5437}, {"ticket", 5434, 9900, 5439},
	};
	char dir[PATH_MAX];
	ck_assert_ptr_nonnull(realpath(TEST_SRCDIR "/data/config", dir));
	ck_assert_int_eq(chdir(tmpdir), 0);
	for (size_t i = 0; i < 3; i++) {
		char path[PATH_MAX + 32], expected[PATH_MAX + 32];
		snprintf(path, sizeof(path), "%s/pgpool-%s.conf", dir, instances[i].instance);
		pool_config cfg;
		config_errors errs = {0};
		assert_no_errors(config_load(path, &cfg, &errs), &errs);
		ck_assert_str_eq(cfg.instance_name, instances[i].instance);
		ck_assert_int_eq(cfg.port, instances[i].port);
		ck_assert_int_eq(cfg.pcp_port, instances[i].pcp_port);
		ck_assert_int_eq(cfg.num_backends, 2);
		ck_assert_int_eq(cfg.backends[0].port, instances[i].primary);
		ck_assert_int_eq(cfg.backends[1].port, instances[i].primary + 1);
		ck_assert_int_eq(cfg.max_pool, 8);
		ck_assert_str_eq(cfg.log_min_messages, "info");
		snprintf(expected, sizeof(expected), "%s/pool_passwd", dir);
		ck_assert_str_eq(cfg.pool_passwd, expected);
		snprintf(expected, sizeof(expected), "%s/run/pgpool-%s.pid", dir, instances[i].instance);
		ck_assert_str_eq(cfg.pid_file_name, expected);
		config_free(&cfg);
		config_errors_free(&errs);
	}
}
END_TEST

START_TEST(test_include_duplicate_in_included_file)
{
	pool_config cfg;
	config_errors errs = {0};
	write_file("common.conf", "max_pool = 8;\nport = 5000;\n");
	ck_assert_int_eq(load_text("port = 5432;\n@include \"common.conf\"\n" ONE_BACKEND, &cfg, &errs), 1);
	assert_error(&errs, 0, "common.conf", 2,
		     "duplicate setting name (a parameter may be set only once, @include'd files included)");
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_include_duplicate_in_main_file)
{
	pool_config cfg;
	config_errors errs = {0};
	write_file("common.conf", "max_pool = 8;\nport = 5000;\n");
	ck_assert_int_eq(load_text("@include \"common.conf\"\n\nport = 5432;\n" ONE_BACKEND, &cfg, &errs), 1);
	assert_error(&errs, 0, "main.conf", 3,
		     "duplicate setting name (a parameter may be set only once, @include'd files included)");
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_errors_in_included_file)
{
	pool_config cfg;
	config_errors errs = {0};
	write_file("common.conf", "max_pool = 0;\n\nfoo = 1;\nport = 4294972731;\n");
	ck_assert_int_eq(load_text("workers = 2;\n@include \"common.conf\"\nbar = 2;\n" ONE_BACKEND, &cfg, &errs), 4);
	assert_error(&errs, 0, "common.conf", 1, "parameter \"max_pool\" = 0 is out of range (1 .. 10000)");
	assert_error(&errs, 1, "common.conf", 3, "unknown parameter \"foo\"");
	assert_error(&errs, 2, "common.conf", 4, "parameter \"port\" = 4294972731 is out of range (1 .. 65535)");
	assert_error(&errs, 3, "main.conf", 3, "unknown parameter \"bar\"");
	ck_assert_int_eq(cfg.workers, 2);
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_syntax_error_in_included_file)
{
	pool_config cfg;
	config_errors errs = {0};
	write_file("sub/common.conf", "max_pool = 8;\nport = ;\n");
	ck_assert_int_eq(load_text("@include \"sub/common.conf\"\n" ONE_BACKEND, &cfg, &errs), 1);
	assert_error(&errs, 0, "sub/common.conf", 2, "syntax error");
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_missing_include)
{
	pool_config cfg;
	config_errors errs = {0};
	ck_assert_int_eq(load_text("port = 5432;\n@include \"nothere.conf\"\n" ONE_BACKEND, &cfg, &errs), 1);
	assert_error(&errs, 0, "main.conf", 2, "cannot open include file");
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

/* ---- one error each: file, line and message ---- */

static const struct error_case {
	const char *text;        /* ONE_BACKEND is appended unless has_backends */
	bool has_backends;
	int line;
	const char *message;
} error_cases[] = {
	/* unknown parameters */
	{"port = 5432;\nfoo = 1;\n", false, 2, "unknown parameter \"foo\""},
	{"foo = { port = 1; };\n", false, 1, "unknown parameter \"foo\""},
	{"backend_hostname0 = \"h\";\n", false, 1, "unknown parameter \"backend_hostname0\" (backends are a list: "
	 BACKENDS_SHAPE ")"},
	{"num_init_children = 32;\n", false, 1, "unknown parameter \"num_init_children\" "
	 "(pgpoold is threaded: see workers and max_clients)"},
	/* wrong types */
	{"port = \"5432\";\n", false, 1, "parameter \"port\" must be an integer"},
	{"\nport = 5432.0;\n", false, 2, "parameter \"port\" must be an integer"},
	{"port = true;\n", false, 1, "parameter \"port\" must be an integer"},
	{"port = [5432];\n", false, 1, "parameter \"port\" must be an integer"},
	{"connection_cache = 1;\n", false, 1, "parameter \"connection_cache\" must be a boolean (true or false)"},
	{"enable_pool_hba = \"on\";\n", false, 1, "parameter \"enable_pool_hba\" must be a boolean (true or false)"},
	{"listen_addresses = 5;\n", false, 1, "parameter \"listen_addresses\" must be a string"},
	{"pool_passwd = false;\n", false, 1, "parameter \"pool_passwd\" must be a string"},
	{"logdir = { a = 1; };\n", false, 1, "parameter \"logdir\" must be a string"},
	{"log_min_messages = 1;\n", false, 1, "parameter \"log_min_messages\" must be a string"},
	{"unix_socket_permissions = 7.7;\n", false, 1,
	 "parameter \"unix_socket_permissions\" must be an octal file mode such as 0770"},
	/* out of range */
	{"port = 70000;\n", false, 1, "parameter \"port\" = 70000 is out of range (1 .. 65535)"},
	{"port = 0;\n", false, 1, "parameter \"port\" = 0 is out of range (1 .. 65535)"},
	{"port = 70000L;\n", false, 1, "parameter \"port\" = 70000 is out of range (1 .. 65535)"},
	{"port = 0x11170;\n", false, 1, "parameter \"port\" = 70000 is out of range (1 .. 65535)"},
	{"port = 4294972731;\n", false, 1, "parameter \"port\" = 4294972731 is out of range (1 .. 65535)"},
	{"pcp_port = 9000; port = 4294972731;\n", false, 1,
	 "parameter \"port\" = 4294972731 is out of range (1 .. 65535)"},
	{"port = -4294961861;\n", false, 1, "parameter \"port\" = -4294961861 is out of range (1 .. 65535)"},
	{"port = 99999999999999999999;\n", false, 1,
	 "parameter \"port\" = 99999999999999999999 is out of range (1 .. 65535)"},
	{"pcp_port = 65536;\n", false, 1, "parameter \"pcp_port\" = 65536 is out of range (1 .. 65535)"},
	{"workers = -1;\n", false, 1, "parameter \"workers\" = -1 is out of range (0 .. 1024)"},
	{"workers = 1025;\n", false, 1, "parameter \"workers\" = 1025 is out of range (0 .. 1024)"},
	{"max_clients = 0;\n", false, 1, "parameter \"max_clients\" = 0 is out of range (1 .. 1000000)"},
	{"listen_backlog = 0;\n", false, 1, "parameter \"listen_backlog\" = 0 is out of range (1 .. 65535)"},
	{"max_message_size = 1023;\n", false, 1,
	 "parameter \"max_message_size\" = 1023 is out of range (1024 .. 2147483647)"},
	{"max_message_size = 2147483648;\n", false, 1,
	 "parameter \"max_message_size\" = 2147483648 is out of range (1024 .. 2147483647)"},
	{"max_pool = 0;\n", false, 1, "parameter \"max_pool\" = 0 is out of range (1 .. 10000)"},
	{"authentication_timeout = -1;\n", false, 1,
	 "parameter \"authentication_timeout\" = -1 is out of range (0 .. 2147483)"},
	{"client_idle_limit = 2147484;\n", false, 1,
	 "parameter \"client_idle_limit\" = 2147484 is out of range (0 .. 2147483)"},
	{"connection_life_time = -5;\n", false, 1,
	 "parameter \"connection_life_time\" = -5 is out of range (0 .. 2147483)"},
	{"connect_timeout = -1;\n", false, 1, "parameter \"connect_timeout\" = -1 is out of range (0 .. 2147483647)"},
	/* enum and mode values */
	{"log_min_messages = \"verbose\";\n", false, 1, "parameter \"log_min_messages\" = \"verbose\" is not valid "
	 "(expected one of: debug5, debug4, debug3, debug2, debug1, info, notice, warning, error, log, fatal, panic)"},
	{"unix_socket_permissions = 0778;\n", false, 1,
	 "parameter \"unix_socket_permissions\" = 778 is not an octal file mode (write it like 0770)"},
	{"unix_socket_permissions = -1;\n", false, 1,
	 "parameter \"unix_socket_permissions\" = -1 is not an octal file mode (write it like 0770)"},
	{"unix_socket_permissions = 01777;\n", false, 1,
	 "parameter \"unix_socket_permissions\" = 01777 is out of range (0000 .. 0777)"},
	{"unix_socket_permissions = \"rwx\";\n", false, 1,
	 "parameter \"unix_socket_permissions\" = \"rwx\" is not an octal file mode (write it like 0770)"},
	/* libconfig's own errors */
	{"port = 5432;\nmax_pool = ;\n", false, 2, "syntax error"},
	{"instance_name = \"a\";\ninstance_name = \"b\";\n", false, 2,
	 "duplicate setting name (a parameter may be set only once, @include'd files included)"},
	/* backends */
	{"port = 5432;\n", true, 0, "no backends configured: " BACKENDS_SHAPE},
	{"backends = ();\n", true, 1, "no backends configured: " BACKENDS_SHAPE},
	{"backends = [];\n", true, 1, "no backends configured: " BACKENDS_SHAPE},
	{"backends = { port = 5432; };\n", true, 1,
	 "parameter \"backends\" must be a list of groups: " BACKENDS_SHAPE},
	{"backends = 5432;\n", true, 1, "parameter \"backends\" must be a list of groups: " BACKENDS_SHAPE},
	{"backends = ( 5432 );\n", true, 1, "backends[0] must be a group: { hostname = \"...\"; port = 5432; }"},
	{"backends = ( { hostname = \"127.0.0.1\"; } );\n", true, 1, "parameter \"backends[0].port\" is required"},
	{"backends = (\n  { port = 5435; },\n  { port = 70000; }\n);\n", true, 3,
	 "parameter \"backends[1].port\" = 70000 is out of range (1 .. 65535)"},
	{"backends = ( { port = \"5435\"; } );\n", true, 1, "parameter \"backends[0].port\" must be an integer"},
	{"backends = ( { port = 5435.0; } );\n", true, 1, "parameter \"backends[0].port\" must be an integer"},
	{"backends = ( { port = 4294972731; } );\n", true, 1,
	 "parameter \"backends[0].port\" = 4294972731 is out of range (1 .. 65535)"},
	{"backends = ( { port = 5435;\n weight = -1.0; } );\n", true, 2,
	 "parameter \"backends[0].weight\" = -1 is out of range (0 .. 1e+08)"},
	{"backends = ( { port = 5435; weight = 1e999; } );\n", true, 1,
	 "parameter \"backends[0].weight\" = inf is out of range (0 .. 1e+08)"},
	{"backends = ( { port = 5435; weight = \"1\"; } );\n", true, 1,
	 "parameter \"backends[0].weight\" must be a number"},
	{"backends = ( { port = 5435; hostname = 127; } );\n", true, 1,
	 "parameter \"backends[0].hostname\" must be a string"},
	{"backends = ( { port = 5435; data_directory = true; } );\n", true, 1,
	 "parameter \"backends[0].data_directory\" must be a string"},
	{"backends = ( { port = 5435; application_name = 1; } );\n", true, 1,
	 "parameter \"backends[0].application_name\" must be a string"},
	{"backends = ( { port = 5435; host = \"x\"; } );\n", true, 1, "unknown parameter \"backends[0].host\""},
	{"backends = ( { port = 5435; flag = 1; } );\n", true, 1, "parameter \"backends[0].flag\" must be a string"},
	{"backends = ( { port = 5435; flag = \"ALLOW_TO_FAILOVER|BOGUS\"; } );\n", true, 1,
	 "parameter \"backends[0].flag\" has an unknown word \"BOGUS\" (expected ALLOW_TO_FAILOVER, "
	 "DISALLOW_TO_FAILOVER or ALWAYS_PRIMARY, separated by '|')"},
	{"backends = ( { port = 5435; flag = \"ALWAYS_PRIMARY|\"; } );\n", true, 1,
	 "parameter \"backends[0].flag\" has an empty word (words are separated by '|')"},
	{"backends = ( { port = 5435; flag = \" | \"; } );\n", true, 1,
	 "parameter \"backends[0].flag\" has an empty word (words are separated by '|')"},
	{"backends = ( { port = 5435; flag = \"ALLOW_TO_FAILOVER|DISALLOW_TO_FAILOVER\"; } );\n", true, 1,
	 "parameter \"backends[0].flag\" sets both ALLOW_TO_FAILOVER and DISALLOW_TO_FAILOVER"},
	{"backends = ( { port = 5435; port = 5436; } );\n", true, 1,
	 "duplicate setting name (a parameter may be set only once, @include'd files included)"},
};

START_TEST(test_single_error)
{
	const struct error_case *c = &error_cases[_i];
	char text[1024];
	snprintf(text, sizeof(text), "%s%s", c->text, c->has_backends ? "" : ONE_BACKEND);
	pool_config cfg;
	config_errors errs = {0};
	int n = load_text(text, &cfg, &errs);
	for (int i = 0; i < errs.count && errs.count != 1; i++)
		fprintf(stderr, "case %d: %s\n", _i, errs.items[i]);
	ck_assert_int_eq(n, 1);
	assert_error(&errs, 0, "main.conf", c->line, c->message);
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

/* A present-but-wrong parameter keeps its default (the load fails anyway,
 * but nothing half-applied is left behind). */
START_TEST(test_wrong_value_not_applied)
{
	pool_config cfg;
	config_errors errs = {0};
	ck_assert_int_eq(load_text("port = 70000;\nmax_pool = 2.5;\n" ONE_BACKEND, &cfg, &errs), 2);
	ck_assert_int_eq(cfg.port, 9999);
	ck_assert_int_eq(cfg.max_pool, 4);
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_multiple_errors)
{
	pool_config cfg;
	config_errors errs = {0};
	int n = load_text(
		"port = 70000;\n"                          /* 1 */
		"foo = 1;\n"                               /* 2 */
		"connection_cache = \"yes\";\n"            /* 3 */
		"log_min_messages = \"loud\";\n"           /* 4 */
		"max_pool = 8;\n"                          /* 5: fine */
		"backends = (\n"                           /* 6 */
		"  { port = 5435; flag = \"NOPE\"; },\n"   /* 7 */
		"  { hostname = \"h\"; bar = 1; }\n"       /* 8 */
		");\n"
		"workers = 2.0;\n",                        /* 10 */
		&cfg, &errs);
	ck_assert_int_eq(n, 8);
	ck_assert_int_eq(errs.count, 8);
	assert_error(&errs, 0, "main.conf", 1, "parameter \"port\" = 70000 is out of range (1 .. 65535)");
	assert_error(&errs, 1, "main.conf", 2, "unknown parameter \"foo\"");
	assert_error(&errs, 2, "main.conf", 3, "parameter \"connection_cache\" must be a boolean (true or false)");
	assert_error(&errs, 3, "main.conf", 4, "parameter \"log_min_messages\" = \"loud\" is not valid (expected one of: "
		     "debug5, debug4, debug3, debug2, debug1, info, notice, warning, error, log, fatal, panic)");
	assert_error(&errs, 4, "main.conf", 7, "parameter \"backends[0].flag\" has an unknown word \"NOPE\" "
		     "(expected ALLOW_TO_FAILOVER, DISALLOW_TO_FAILOVER or ALWAYS_PRIMARY, separated by '|')");
	assert_error(&errs, 5, "main.conf", 8, "unknown parameter \"backends[1].bar\"");
	/* the missing port is reported at the group's line */
	assert_error(&errs, 6, "main.conf", 8, "parameter \"backends[1].port\" is required");
	assert_error(&errs, 7, "main.conf", 10, "parameter \"workers\" must be an integer");
	ck_assert_int_eq(cfg.max_pool, 8);
	config_free(&cfg);
	config_errors_free(&errs);

	/* the same through config_load_string, and errors appended after earlier ones */
	config_errors more = {0};
	ck_assert_int_eq(config_load_string("foo = 1;\n", NULL, &cfg, &more), 2);
	config_free(&cfg);
	ck_assert_int_eq(config_load_string("bar = 1;\n" ONE_BACKEND, NULL, &cfg, &more), 1);
	ck_assert_int_eq(more.count, 3);
	ck_assert_str_eq(more.items[0], "<string>:1: unknown parameter \"foo\"");
	ck_assert_str_eq(more.items[1], "<string>: no backends configured: " BACKENDS_SHAPE);
	ck_assert_str_eq(more.items[2], "<string>:1: unknown parameter \"bar\"");
	config_free(&cfg);
	config_errors_free(&more);
}
END_TEST

START_TEST(test_errors_list_optional)
{
	pool_config cfg;
	ck_assert_int_eq(load_text("port = 0;\nfoo = 1;\n", &cfg, NULL), 3);
	config_free(&cfg);
}
END_TEST

START_TEST(test_missing_file)
{
	pool_config cfg;
	config_errors errs = {0};
	ck_assert_int_eq(load("nothere.conf", &cfg, &errs), 1);
	assert_error(&errs, 0, "nothere.conf", 0, "cannot read config file: No such file or directory");
	assert_defaults(&cfg, tmpdir);
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_folder_as_file)
{
	pool_config cfg;
	config_errors errs = {0};
	write_file("sub/x", "");
	ck_assert_int_eq(load("sub", &cfg, &errs), 1);
	assert_error(&errs, 0, "sub", 0, "cannot read config file: not a regular file");
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_nul_byte)
{
	char path[PATH_MAX];
	tmp_path(path, sizeof(path), "main.conf");
	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fwrite("port = 1;\0foo = 1;\n", 1, 19, fp), 19);
	ck_assert_int_eq(fclose(fp), 0);
	pool_config cfg;
	config_errors errs = {0};
	ck_assert_int_eq(load("main.conf", &cfg, &errs), 1);
	assert_error(&errs, 0, "main.conf", 0, "config file contains a NUL byte");
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

/* ---- backends ---- */

START_TEST(test_backend_flags)
{
	static const struct { const char *flag; int bits; } flags[] = {
		{"", BACKEND_FLAG_ALLOW_TO_FAILOVER},
		{"ALLOW_TO_FAILOVER", BACKEND_FLAG_ALLOW_TO_FAILOVER},
		{"DISALLOW_TO_FAILOVER", BACKEND_FLAG_DISALLOW_TO_FAILOVER},
		{"ALWAYS_PRIMARY", BACKEND_FLAG_ALLOW_TO_FAILOVER | BACKEND_FLAG_ALWAYS_PRIMARY},
		{"always_primary | disallow_to_failover", BACKEND_FLAG_DISALLOW_TO_FAILOVER | BACKEND_FLAG_ALWAYS_PRIMARY},
		{"ALLOW_TO_FAILOVER|ALWAYS_PRIMARY", BACKEND_FLAG_ALLOW_TO_FAILOVER | BACKEND_FLAG_ALWAYS_PRIMARY},
	};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), "backends = ( { port = 5435; flag = \"%s\"; } );\n", flags[i].flag);
		pool_config cfg;
		config_errors errs = {0};
		assert_no_errors(load_text(text, &cfg, &errs), &errs);
		ck_assert_int_eq(cfg.backends[0].flag, flags[i].bits);
		config_free(&cfg);
		config_errors_free(&errs);
	}
}
END_TEST

START_TEST(test_backend_weights)
{
	pool_config cfg;
	config_errors errs = {0};
	assert_no_errors(load_text(
		"backends = ( { port = 1; weight = 0; }, { port = 2; weight = 0.5; },\n"
		"             { port = 3; weight = 3L; }, { port = 4; weight = 100000000; } );\n",
		&cfg, &errs), &errs);
	ck_assert_int_eq(cfg.num_backends, 4);
	ck_assert_double_eq(cfg.backends[0].weight, 0.0);
	ck_assert_double_eq(cfg.backends[1].weight, 0.5);
	ck_assert_double_eq(cfg.backends[2].weight, 3.0);
	ck_assert_double_eq(cfg.backends[3].weight, 100000000.0);
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

static void backend_list(char *text, size_t size, int count)
{
	size_t used = (size_t) snprintf(text, size, "backends = (\n");
	for (int i = 0; i < count; i++)
		used += (size_t) snprintf(text + used, size - used, "  { port = %d; },\n", 10000 + i);
	used -= 2;  /* drop the last ",\n" */
	snprintf(text + used, size - used, "\n);\n");
}

START_TEST(test_max_backends)
{
	static char text[32768];
	pool_config cfg;
	config_errors errs = {0};
	backend_list(text, sizeof(text), MAX_BACKENDS);
	assert_no_errors(load_text(text, &cfg, &errs), &errs);
	ck_assert_int_eq(cfg.num_backends, MAX_BACKENDS);
	ck_assert_int_eq(cfg.backends[MAX_BACKENDS - 1].port, 10000 + MAX_BACKENDS - 1);
	config_free(&cfg);

	backend_list(text, sizeof(text), MAX_BACKENDS + 1);
	ck_assert_int_eq(load_text(text, &cfg, &errs), 1);
	assert_error(&errs, 0, "main.conf", 1, "too many backends: 129 (at most 128)");
	ck_assert_int_eq(cfg.num_backends, MAX_BACKENDS);
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

/* ---- file names, the config's own path, instance names ---- */

START_TEST(test_relative_paths)
{
	pool_config cfg;
	config_errors errs = {0};
	write_file("sub/main.conf",
		   "pool_hba_file = \"hba/pool_hba.conf\";\n"
		   "pool_passwd = \"\";\n"
		   "pcp_conf_file = \"/etc/pgpoold/pcp.conf\";\n"
		   "pid_file_name = \"../run/pgpoold.pid\";\n"
		   "log_directory = \"logs\";\n"
		   "logdir = \"status\";\n"
		   "log_filename = \"not/a/path.log\";\n"
		   "unix_socket_directories = \"sockets\";\n"
		   ONE_BACKEND);
	ck_assert_int_eq(chdir("/"), 0);
	assert_no_errors(load("sub/main.conf", &cfg, &errs), &errs);
	assert_in_tmp(cfg.config_file, "sub/main.conf");
	assert_in_tmp(cfg.config_dir, "sub");
	assert_in_tmp(cfg.pool_hba_file, "sub/hba/pool_hba.conf");
	ck_assert_str_eq(cfg.pool_passwd, "");  /* "" = disabled, not a folder */
	ck_assert_str_eq(cfg.pcp_conf_file, "/etc/pgpoold/pcp.conf");
	assert_in_tmp(cfg.pid_file_name, "sub/../run/pgpoold.pid");
	assert_in_tmp(cfg.log_directory, "sub/logs");
	assert_in_tmp(cfg.logdir, "sub/status");
	ck_assert_str_eq(cfg.log_filename, "not/a/path.log");  /* a name inside log_directory */
	ck_assert_str_eq(cfg.unix_socket_directories, "sockets");
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_relative_config_path)
{
	pool_config cfg;
	config_errors errs = {0};
	write_file("sub/pgpool-auth.conf", "@include \"common.conf\"\n" ONE_BACKEND);
	write_file("sub/common.conf", "port = 5432;\n");
	ck_assert_int_eq(chdir(tmpdir), 0);
	assert_no_errors(config_load("./sub/pgpool-auth.conf", &cfg, &errs), &errs);
	assert_in_tmp(cfg.config_file, "sub/pgpool-auth.conf");
	assert_in_tmp(cfg.config_dir, "sub");
	assert_in_tmp(cfg.pool_passwd, "sub/pool_passwd");
	ck_assert_int_eq(cfg.port, 5432);
	ck_assert_str_eq(cfg.instance_name, "auth");
	config_free(&cfg);

	ck_assert_int_eq(chdir("sub"), 0);
	assert_no_errors(config_load("pgpool-auth.conf", &cfg, &errs), &errs);
	assert_in_tmp(cfg.config_file, "sub/pgpool-auth.conf");
	config_free(&cfg);

	/* errors in relative loads name the absolute file */
	write_file("sub/bad.conf", "foo = 1;\n" ONE_BACKEND);
	ck_assert_int_eq(config_load("bad.conf", &cfg, &errs), 1);
	assert_error(&errs, 0, "sub/bad.conf", 1, "unknown parameter \"foo\"");
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_in_root_folder_name)
{
	/* the folder of "/x.conf" is "/", not "" */
	pool_config cfg;
	config_errors errs = {0};
	ck_assert_int_eq(config_load("/pgpoold-no-such-config.conf", &cfg, &errs), 1);
	ck_assert_str_eq(cfg.config_dir, "/");
	/* path_resolve() joins "/" and a name as "//name": the same file */
	ck_assert(strcmp(cfg.pool_passwd, "/pool_passwd") == 0 || strcmp(cfg.pool_passwd, "//pool_passwd") == 0);
	ck_assert_str_eq(cfg.instance_name, "no-such-config");
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_instance_names)
{
	static const struct { const char *file, *instance; } names[] = {
		{"pgpool-auth.conf", "auth"},
		{"pgpoold-event.conf", "event"},
		{"ticket.conf", "ticket"},
		{"pgpool.conf", "pgpool"},
		{"pgpoold.conf", "pgpoold"},
		{"pgpool-.conf", "pgpoold"},
		{"my.cfg", "my.cfg"},
		{"pgpool-auth", "auth"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		pool_config cfg;
		config_errors errs = {0};
		write_file(names[i].file, ONE_BACKEND);
		assert_no_errors(load(names[i].file, &cfg, &errs), &errs);
		ck_assert_str_eq(cfg.instance_name, names[i].instance);
		config_free(&cfg);
		config_errors_free(&errs);
	}
	pool_config cfg;
	config_errors errs = {0};
	write_file("pgpool-auth.conf", "instance_name = \"booking-auth\";\n" ONE_BACKEND);
	assert_no_errors(load("pgpool-auth.conf", &cfg, &errs), &errs);
	ck_assert_str_eq(cfg.instance_name, "booking-auth");
	config_free(&cfg);
	assert_no_errors(config_load_string(ONE_BACKEND, NULL, &cfg, &errs), &errs);
	ck_assert_str_eq(cfg.instance_name, "pgpoold");
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_load_string)
{
	pool_config cfg;
	config_errors errs = {0};
	write_file("common.conf", "max_pool = 6;\n");
	assert_no_errors(config_load_string("@include \"common.conf\"\npool_passwd = \"pw\";\n" ONE_BACKEND,
					    tmpdir, &cfg, &errs), &errs);
	ck_assert_int_eq(cfg.max_pool, 6);
	ck_assert_ptr_null(cfg.config_file);
	ck_assert_str_eq(cfg.config_dir, tmpdir);
	assert_in_tmp(cfg.pool_passwd, "pw");
	config_free(&cfg);

	/* no folder: names stay relative */
	assert_no_errors(config_load_string(ONE_BACKEND, NULL, &cfg, &errs), &errs);
	ck_assert_ptr_null(cfg.config_dir);
	assert_defaults(&cfg, NULL);
	config_free(&cfg);

	ck_assert_int_eq(config_load_string(NULL, NULL, &cfg, &errs), 1);
	ck_assert_str_eq(errs.items[0], "<string>: no backends configured: " BACKENDS_SHAPE);
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

/* ---- the sample config ---- */

/* etc/pgpoold.conf.sample loads as is, lists every parameter, and with every
 * "#name = value;" line uncommented still yields exactly the defaults. */
START_TEST(test_sample_documents_defaults)
{
	char sample[PATH_MAX];
	ck_assert_ptr_nonnull(realpath(TEST_SRCDIR "/../../etc/pgpoold.conf.sample", sample));
	pool_config cfg;
	config_errors errs = {0};
	assert_no_errors(config_load(sample, &cfg, &errs), &errs);
	config_free(&cfg);

	FILE *fp = fopen(sample, "r");
	ck_assert_ptr_nonnull(fp);
	static char text[65536];
	size_t len = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[len] = '\0';
	/* uncomment "#name = ..." lines (explanations start with "# ") */
	for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (line[0] == '#' && line[1] >= 'a' && line[1] <= 'z')
			line[0] = ' ';
	for (int i = 0; config_param_name(i); i++) {
		char needle[128];
		snprintf(needle, sizeof(needle), "\n %s = ", config_param_name(i));
		if (!strstr(text, needle))
			ck_abort_msg("parameter %s is not in the sample", config_param_name(i));
	}
	write_file("pgpoold.conf", text);
	assert_no_errors(load("pgpoold.conf", &cfg, &errs), &errs);
	assert_defaults(&cfg, tmpdir);
	ck_assert_str_eq(cfg.instance_name, "pgpoold");
	config_free(&cfg);
	config_errors_free(&errs);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");

	TCase *tc = tcase_create("defaults");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_defaults_of_a_minimal_file);
	tcase_add_test(tc, test_param_names);
	tcase_add_test(tc, test_free_after_failed_load);
	tcase_add_test(tc, test_sample_documents_defaults);
	suite_add_tcase(s, tc);

	tc = tcase_create("valid");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_full_file);
	tcase_add_test(tc, test_log_levels);
	tcase_add_test(tc, test_socket_permissions_forms);
	tcase_add_test(tc, test_wide_literals_outside_values);
	tcase_add_test(tc, test_backend_flags);
	tcase_add_test(tc, test_backend_weights);
	tcase_add_test(tc, test_max_backends);
	suite_add_tcase(s, tc);

	tc = tcase_create("include");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_include_from_another_folder);
	tcase_add_test(tc, test_booking_fixtures);
	tcase_add_test(tc, test_include_duplicate_in_included_file);
	tcase_add_test(tc, test_include_duplicate_in_main_file);
	tcase_add_test(tc, test_errors_in_included_file);
	tcase_add_test(tc, test_syntax_error_in_included_file);
	tcase_add_test(tc, test_missing_include);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_single_error, 0, (int) (sizeof(error_cases) / sizeof(error_cases[0])));
	tcase_add_test(tc, test_wrong_value_not_applied);
	tcase_add_test(tc, test_multiple_errors);
	tcase_add_test(tc, test_errors_list_optional);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_folder_as_file);
	tcase_add_test(tc, test_nul_byte);
	suite_add_tcase(s, tc);

	tc = tcase_create("paths");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_relative_paths);
	tcase_add_test(tc, test_relative_config_path);
	tcase_add_test(tc, test_config_in_root_folder_name);
	tcase_add_test(tc, test_instance_names);
	tcase_add_test(tc, test_load_string);
	suite_add_tcase(s, tc);

	return s;
}
