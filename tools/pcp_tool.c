/* pcp_tool: pgpoold's pcp_* tools, one program installed under each
 * tool's name (the name it is called by picks the tool), with the options,
 * output, messages and exit statuses of Pgpool-II 4.3's tools
 * (spec/pcp-tools.md), plus --json.
 *
 * Exit statuses, as Pgpool-II 4.3: 0 on success, and also 0 when the
 * server refused the command (the error is on stderr) or when an option
 * VALUE is invalid; 1 for usage errors, and connection or authentication
 * failures. */
#include "pcp_client.h"
#include "pcp_output.h"
#include "pcp_result.h"
#include "prompt.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* Pgpool-II's MAX_NUM_BACKENDS: the range the tools accept for -n. */
#define MAX_NUM_BACKENDS 128
#define DEFAULT_PCP_PORT 9898
#define PASSWORD_MAX 100

typedef enum app_kind {
	APP_ATTACH_NODE,
	APP_DETACH_NODE,
	APP_NODE_COUNT,
	APP_NODE_INFO,
	APP_HEALTH_CHECK_STATS,
	APP_POOL_STATUS,
	APP_PROC_COUNT,
	APP_PROC_INFO,
	APP_PROMOTE_NODE,
	APP_RECOVERY_NODE,
	APP_STOP_PGPOOL,
	APP_WATCHDOG_INFO,
	APP_RELOAD_CONFIG,
} app_kind;

typedef struct app_def {
	const char *name;
	app_kind kind;
	const char *optstring;       /* Pgpool-II 4.3.5's, per tool */
	const char *description;
} app_def;

static const app_def apps[] = {
	{ "pcp_attach_node", APP_ATTACH_NODE, "n:h:p:U:wWvd", "attach a node from pgpool-II" },
	{ "pcp_detach_node", APP_DETACH_NODE, "n:h:p:U:gwWvd", "detach a node from pgpool-II" },
	{ "pcp_node_count", APP_NODE_COUNT, "h:p:U:wWvd",
	  "display the total number of nodes under pgpool-II's control" },
	{ "pcp_node_info", APP_NODE_INFO, "n:h:p:U:awWvd", "display a pgpool-II node's information" },
	{ "pcp_health_check_stats", APP_HEALTH_CHECK_STATS, "n:h:p:U:wWvd",
	  "display a pgpool-II health check stats data" },
	{ "pcp_pool_status", APP_POOL_STATUS, "h:p:U:wWvd", "display pgpool configuration and status" },
	{ "pcp_proc_count", APP_PROC_COUNT, "h:p:U:wWvd", "display the list of pgpool-II child process PIDs" },
	{ "pcp_proc_info", APP_PROC_INFO, "h:p:P:U:awWvd", "display a pgpool-II child process' information" },
	{ "pcp_promote_node", APP_PROMOTE_NODE, "n:h:p:U:gswWvd", "promote a node as new main from pgpool-II" },
	{ "pcp_recovery_node", APP_RECOVERY_NODE, "n:h:p:U:wWvd", "recover a node" },
	{ "pcp_stop_pgpool", APP_STOP_PGPOOL, "m:h:p:U:s:wWvda", "terminate pgpool-II" },
	{ "pcp_watchdog_info", APP_WATCHDOG_INFO, "n:h:p:U:wWvd", "display a pgpool-II watchdog's information" },
	{ "pcp_reload_config", APP_RELOAD_CONFIG, "h:p:U:s:wWvd", "reload a pgpool-II config file" },
};

#define OPT_JSON 1000

/* Pgpool-II 4.3.5's long options, in its order (it decides what an
 * ambiguous abbreviation lists), plus --json. */
static const struct option long_options[] = {
	{ "help", no_argument, NULL, '?' },
	{ "debug", no_argument, NULL, 'd' },
	{ "version", no_argument, NULL, 'V' },
	{ "host", required_argument, NULL, 'h' },
	{ "port", required_argument, NULL, 'p' },
	{ "process-id", required_argument, NULL, 'P' },
	{ "username", required_argument, NULL, 'U' },
	{ "no-password", no_argument, NULL, 'w' },
	{ "password", no_argument, NULL, 'W' },
	{ "mode", required_argument, NULL, 'm' },
	{ "scope", required_argument, NULL, 's' },
	{ "gracefully", no_argument, NULL, 'g' },
	{ "switchover", no_argument, NULL, 's' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "all", no_argument, NULL, 'a' },
	{ "node-id", required_argument, NULL, 'n' },
	{ "watchdog-id", required_argument, NULL, 'n' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ NULL, 0, NULL, 0 }
};

typedef struct tool_args {
	const app_def *app;
	const char *progname;
	char *host, *user;
	int port;
	int node_id;
	int process_id;
	char shutdown_mode;          /* s f i */
	char scope;                  /* l c */
	bool all, debug, need_password, gracefully, switchover, verbose, json;
} tool_args;

/* printf of a NULL string prints "(null)" in glibc: Pgpool-II's messages
 * show it when optarg is NULL, and so do ours, without the undefined call. */
static const char *shown(const char *s)
{
	return s ? s : "(null)";
}

static bool requires_node_id(const app_def *a)
{
	return a->kind == APP_ATTACH_NODE || a->kind == APP_DETACH_NODE || a->kind == APP_HEALTH_CHECK_STATS ||
	       a->kind == APP_PROMOTE_NODE || a->kind == APP_RECOVERY_NODE;
}

static bool has_scope(const app_def *a)
{
	return a->kind == APP_STOP_PGPOOL || a->kind == APP_RELOAD_CONFIG;
}

static void usage(const tool_args *t)
{
	const app_def *a = t->app;
	const char *arg = requires_node_id(a) ? "[node-id]" : a->kind == APP_WATCHDOG_INFO ? "[watchdog-id]"
			  : a->kind == APP_PROC_INFO ? "[process-id]" : "";
	fprintf(stderr, "%s - %s\n", t->progname, a->description);
	fprintf(stderr, "Usage:\n");
	fprintf(stderr, "%s [OPTION...] %s\n", t->progname, arg);
	fprintf(stderr, "Options:\n");
	fprintf(stderr, "  -U, --username=NAME    username for PCP authentication\n");
	fprintf(stderr, "  -h, --host=HOSTNAME    pgpool-II host\n");
	fprintf(stderr, "  -p, --port=PORT        PCP port number\n");
	fprintf(stderr, "  -w, --no-password      never prompt for password\n");
	fprintf(stderr, "  -W, --password         force password prompt (should happen automatically)\n");
	if (requires_node_id(a) || a->kind == APP_NODE_INFO)
		fprintf(stderr, "  -n, --node-id=NODEID   ID of a backend node\n");
	if (a->kind == APP_NODE_INFO)
		fprintf(stderr, "  -a, --all              display all backend nodes information\n");
	if (a->kind == APP_STOP_PGPOOL)
		fprintf(stderr, "  -m, --mode=MODE        MODE can be \"smart\", \"fast\", or \"immediate\"\n");
	if (has_scope(a)) {
		fprintf(stderr, "  -s, --scope=SCOPE      SCOPE can be \"cluster\", or \"local\"\n");
		fprintf(stderr, "                         cluster scope do operations on all Pgpool-II nodes\n");
		fprintf(stderr, "                         part of the watchdog cluster\n");
	}
	if (a->kind == APP_PROMOTE_NODE || a->kind == APP_DETACH_NODE)
		fprintf(stderr, "  -g, --gracefully       promote gracefully (optional)\n");
	if (a->kind == APP_PROMOTE_NODE)
		fprintf(stderr, "  -s, --switchover       switchover primary to specified node (optional)\n");
	if (a->kind == APP_WATCHDOG_INFO) {
		fprintf(stderr, "  -n, --watchdog-id=ID   ID of a other pgpool to get information for\n");
		fprintf(stderr, "                         ID 0 for the local watchdog\n");
		fprintf(stderr, "                         If omitted then get information of all watchdog nodes\n");
	}
	if (a->kind == APP_PROC_INFO) {
		fprintf(stderr, "  -P, --process-id=PID   PID of the child process to get information for (optional)\n");
		fprintf(stderr, "  -a, --all              display all child processes and their available connection slots\n");
	}
	fprintf(stderr, "  -d, --debug            enable debug message (optional)\n");
	fprintf(stderr, "  -v, --verbose          output verbose messages\n");
	fprintf(stderr, "      --json             print the result as JSON (pgpoold's tools)\n");
	fprintf(stderr, "  -?, --help             print this help\n\n");
}

static void try_help(const tool_args *t)
{
	fprintf(stderr, "Try \"%s --help\" for more information.\n\n", t->progname);
	exit(1);
}

static void option_m(tool_args *t, const char *arg)
{
	if (t->app->kind != APP_STOP_PGPOOL) {
		fprintf(stderr, "Invalid argument \"%s\", Try \"%s --help\" for more information.\n", shown(arg), t->progname);
		exit(1);
	}
	if (arg && (strcmp(arg, "s") == 0 || strcmp(arg, "smart") == 0))
		t->shutdown_mode = 's';
	else if (arg && (strcmp(arg, "f") == 0 || strcmp(arg, "fast") == 0))
		t->shutdown_mode = 'f';
	else if (arg && (strcmp(arg, "i") == 0 || strcmp(arg, "immediate") == 0))
		t->shutdown_mode = 'i';
	else {
		fprintf(stderr, "%s: Invalid shutdown mode \"%s\", must be either \"smart\" \"immediate\" or \"fast\" \n",
			t->progname, shown(arg));
		exit(1);
	}
}

static void option_s(tool_args *t, const char *arg)
{
	if (has_scope(t->app)) {
		if (arg && (strcmp(arg, "c") == 0 || strcmp(arg, "cluster") == 0))
			t->scope = 'c';
		else if (arg && (strcmp(arg, "l") == 0 || strcmp(arg, "local") == 0))
			t->scope = 'l';
		else {
			fprintf(stderr, "%s: Invalid command scope \"%s\", must be either \"cluster\" or \"local\" \n",
				t->progname, shown(arg));
			exit(1);
		}
	} else if (t->app->kind == APP_PROMOTE_NODE) {
		t->switchover = true;
	} else {
		fprintf(stderr, "Invalid argument \"%s\", Try \"%s --help\" for more information.\n", shown(arg), t->progname);
		exit(1);
	}
}

static void option_n(tool_args *t, const char *arg)
{
	t->node_id = atoi(arg);
	if (t->app->kind == APP_WATCHDOG_INFO) {
		if (t->node_id < 0) {
			fprintf(stderr, "%s: Invalid watchdog-id \"%s\", must be a positive number or zero for a local watchdog node\n",
				t->progname, arg);
			exit(0);
		}
	} else if (t->node_id < 0 || t->node_id > MAX_NUM_BACKENDS) {
		fprintf(stderr, "%s: Invalid node-id \"%s\", must be between 0 and %d\n", t->progname, arg, MAX_NUM_BACKENDS);
		exit(0);
	}
}

static void parse_options(tool_args *t, int argc, char **argv)
{
	int ch, index;
	while ((ch = getopt_long(argc, argv, t->app->optstring, long_options, &index)) != -1) {
		switch (ch) {
		case 'd': t->debug = true; break;
		case 'a': t->all = true; break;
		case 'w': t->need_password = false; break;
		case 'W': t->need_password = true; break;
		case 'g': t->gracefully = true; break;
		case 'v': t->verbose = true; break;
		case 'm': option_m(t, optarg); break;
		case 's': option_s(t, optarg); break;
		case 'n': option_n(t, optarg); break;
		case 'p':
			t->port = atoi(optarg);
			if (t->port <= 1024 || t->port > 65535) {
				fprintf(stderr, "%s: Invalid port number \"%s\", must be between 1024 and 65535\n", t->progname, optarg);
				exit(0);
			}
			break;
		case 'P':
			t->process_id = atoi(optarg);
			if (t->process_id <= 0) {
				fprintf(stderr, "%s: Invalid process-id \"%s\", must be greater than 0\n", t->progname, optarg);
				exit(0);
			}
			break;
		case 'h': t->host = optarg; break;
		case 'U': t->user = optarg; break;
		case OPT_JSON: t->json = true; break;
		default:
			/* getopt_long has said what was wrong */
			try_help(t);
		}
	}
}

/* Leftover arguments: the pid, watchdog id or node id, else a warning.
 * (Pgpool-II prints optarg in these messages, which getopt has left NULL.) */
static void parse_positionals(tool_args *t, int argc, char **argv)
{
	for (; optind < argc; optind++) {
		const char *arg = argv[optind];
		if (t->app->kind == APP_PROC_INFO && t->process_id <= 0) {
			t->process_id = atoi(arg);
			if (t->process_id <= 0) {
				fprintf(stderr, "%s: Invalid process-id \"%s\", must be greater than 0\n", t->progname, shown(NULL));
				exit(0);
			}
		} else if (t->app->kind == APP_WATCHDOG_INFO && t->node_id < 0) {
			t->node_id = atoi(arg);
			if (t->node_id < 0) {
				fprintf(stderr, "%s: Invalid watchdog-id \"%s\", must be a positive number or zero for local watchdog node\n",
					t->progname, shown(NULL));
				exit(0);
			}
		} else if ((requires_node_id(t->app) || t->app->kind == APP_NODE_INFO) && t->node_id < 0) {
			t->node_id = atoi(arg);
			if (t->node_id < 0 || t->node_id > MAX_NUM_BACKENDS) {
				fprintf(stderr, "%s: Invalid node-id \"%s\", must be between 0 and %d\n", t->progname, shown(NULL),
					MAX_NUM_BACKENDS);
				exit(0);
			}
		} else {
			fprintf(stderr, "%s: Warning: extra command-line argument \"%s\" ignored\n", t->progname, arg);
		}
	}
	if (t->node_id < 0) {
		if (requires_node_id(t->app)) {
			fprintf(stderr, "%s: missing node-id\n", t->progname);
			try_help(t);
		}
		t->node_id = -1;        /* node info and watchdog info: all */
	}
}

/* ---- running the command ---- */

/* Build the request; *sent is the letter the reply is matched against,
 * *trace the letter Pgpool-II's -d trace prints for it. */
static void build_request(const tool_args *t, buf *b, char *sent, char *trace, const char **label)
{
	*label = "DEBUG";
	switch (t->app->kind) {
	case APP_ATTACH_NODE: pcp_req_int(b, 'C', t->node_id); *sent = *trace = 'C'; break;
	case APP_DETACH_NODE: pcp_req_int(b, t->gracefully ? 'd' : 'D', t->node_id); *sent = *trace = 'D'; break;
	case APP_NODE_COUNT: pcp_req_simple(b, 'L'); *sent = *trace = 'L'; break;
	case APP_NODE_INFO: pcp_req_int(b, 'I', t->node_id); *sent = *trace = 'I'; break;
	case APP_HEALTH_CHECK_STATS: pcp_req_int(b, 'H', t->node_id); *sent = 'H'; *trace = 'L'; break;
	case APP_POOL_STATUS: pcp_req_simple(b, 'B'); *sent = *trace = 'B'; *label = "DEBUG pcp_pool_status"; break;
	case APP_PROC_COUNT: pcp_req_simple(b, 'N'); *sent = *trace = 'N'; break;
	case APP_PROC_INFO: pcp_req_int(b, 'P', t->process_id); *sent = *trace = 'P'; break;
	case APP_PROMOTE_NODE:
		pcp_req_promote(b, t->gracefully, t->node_id, t->switchover);
		*sent = 'J';
		*trace = 'E';
		break;
	case APP_RECOVERY_NODE: pcp_req_int(b, 'O', t->node_id); *sent = 'O'; *trace = 'D'; break;
	case APP_STOP_PGPOOL: pcp_req_byte(b, t->scope == 'c' ? 't' : 'T', t->shutdown_mode); *sent = *trace = 'T'; break;
	case APP_WATCHDOG_INFO: pcp_req_int(b, 'W', t->node_id); *sent = *trace = 'W'; break;
	case APP_RELOAD_CONFIG: pcp_req_byte(b, 'Z', t->scope); *sent = *trace = 'Z'; break;
	}
}

static void print_result(const tool_args *t, const pcp_answer *r, const output_opts *o)
{
	switch (t->app->kind) {
	case APP_NODE_COUNT: output_node_count(r, o); break;
	case APP_NODE_INFO: output_node_info(r, o); break;
	case APP_HEALTH_CHECK_STATS: output_health_check_stats(r, o); break;
	case APP_POOL_STATUS: output_pool_status(r, o); break;
	case APP_PROC_COUNT: output_proc_count(r, o); break;
	case APP_PROC_INFO: output_proc_info(r, o); break;
	case APP_WATCHDOG_INFO: output_watchdog_info(r, o); break;
	default: output_success(o); break;
	}
}

static int run(const tool_args *t, const char *password)
{
	output_opts o = { .verbose = t->verbose, .all = t->all, .json = t->json, .node_id = t->node_id,
			  .progname = t->progname };
	pcp_conn c;
	if (!pcp_conn_open(&c, t->host, t->port, t->user, password, t->debug ? stdout : NULL)) {
		output_error(&c, &o);
		pcp_conn_close(&c);
		return 1;
	}
	buf req;
	buf_init(&req);
	char sent = 0, trace = 0;
	const char *label;
	build_request(t, &req, &sent, &trace, &label);
	pcp_answer r;
	memset(&r, 0, sizeof(r));
	if (!pcp_conn_send(&c, &req, trace, label))
		r.status = RESULT_ERROR;
	else
		pcp_result_collect(&c, sent, &r);
	if (r.status != RESULT_OK)
		output_error(&c, &o);
	else if (pcp_result_empty(&r, sent))
		output_success(&o);
	else
		print_result(t, &r, &o);
	fflush(stdout);
	pcp_result_free(&r);
	buf_free(&req);
	pcp_conn_close(&c);
	return 0;
}

static const app_def *find_app(const char *progname)
{
	for (size_t i = 0; i < sizeof(apps) / sizeof(apps[0]); i++)
		if (strcmp(apps[i].name, progname) == 0)
			return &apps[i];
	return NULL;
}

int main(int argc, char **argv)
{
	tool_args t = { .port = DEFAULT_PCP_PORT, .node_id = -1, .shutdown_mode = 's', .scope = 'l',
			.need_password = true };
	const char *slash = strrchr(argv[0], '/');
	t.progname = slash ? slash + 1 : argv[0];
	t.app = find_app(t.progname);
	if (!t.app) {
		fprintf(stderr, "%s is a invalid PCP utility\n", t.progname);
		exit(1);
	}
	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0) {
			usage(&t);
			exit(0);
		}
		if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
			fprintf(stderr, "%s (pgpoold) %s\n", t.progname, PACKAGE_VERSION);
			exit(0);
		}
	}
	parse_options(&t, argc, argv);
	parse_positionals(&t, argc, argv);

	char password[PASSWORD_MAX] = "";
	if (t.need_password)
		prompt_password("Password: ", password, sizeof(password));
	int rc = run(&t, password);
	memset(password, 0, sizeof(password));
	return rc;
}
