/* pgpoold: command line, configuration, daemon life cycle and signals.  The
 * main thread only loads files, handles signals and does 1/s maintenance;
 * the workers do all client and backend I/O. */
#include "pgpoold.h"
#include "worker.h"
#include "listener.h"
#include "pool.h"
#include "nodes.h"
#include "failover.h"
#include "healthcheck.h"
#include "route.h"
#include "lbnode.h"
#include "tls.h"
#include "daemon.h"
#include "client_limits.h"
#include "srcheck.h"
#include "cancel.h"
#include "authfiles.h"
#include "config.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

pgpoold_state g = { .unix_listen_fd = -1 };

static void usage(FILE *out)
{
	fprintf(out,
		"pgpoold - connection pooling, routing and failover proxy for PostgreSQL\n\n"
		"Usage:\n"
		"  pgpoold [OPTION]...\n\n"
		"Options:\n"
		"  -f, --config-file=FILE   configuration file (default: %s/pgpoold/pgpoold.conf)\n"
		"  -n, --no-daemon          stay in the foreground, log to stderr\n"
		"  -t, --test-config        check the configuration file and exit\n"
		"  -D, --discard-status     forget the node status file (failed nodes come back)\n"
		"  -d, --debug              log debug messages\n"
		"  -h, --help               show this help and exit\n"
		"  -V, --version            show the version and exit\n\n"
		"Signals: SIGHUP reloads pool_hba.conf, pool_passwd and the TLS certificates;\nSIGTERM waits for"
		" clients to leave (smart shutdown); SIGINT or SIGQUIT closes them (fast).\n",
		SYSCONFDIR);
}

typedef struct options {
	const char *config_file;
	bool foreground;
	bool test_only;
	bool debug;
	bool discard_status;
} options;

static int parse_args(int argc, char **argv, options *o)
{
	static const struct option longopts[] = {
		{"config-file", required_argument, NULL, 'f'},
		{"no-daemon", no_argument, NULL, 'n'},
		{"test-config", no_argument, NULL, 't'},
		{"debug", no_argument, NULL, 'd'},
		{"discard-status", no_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}
	};
	int c;
	while ((c = getopt_long(argc, argv, "f:ntdDhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o->config_file = optarg; break;
		case 'n': o->foreground = true; break;
		case 't': o->test_only = true; break;
		case 'd': o->debug = true; break;
		case 'D': o->discard_status = true; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("pgpoold %s\n", PACKAGE_VERSION); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pgpoold: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* Resolve every backend's address once, here, so workers never do DNS. */
static int resolve_nodes(void)
{
	const pool_config *cfg = g.cfg;
	g.num_nodes = cfg->num_backends;
	for (int i = 0; i < cfg->num_backends; i++) {
		const backend_config *b = &cfg->backends[i];
		node_addr *nd = &g.nodes[i];
		nd->id = i;
		if (b->hostname[0] == '\0' || b->hostname[0] == '/') {
			struct sockaddr_un *sun = (struct sockaddr_un *) &nd->addr;
			sun->sun_family = AF_UNIX;
			int n = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/.s.PGSQL.%d",
				b->hostname[0] ? b->hostname : "/tmp", b->port);
			if (n < 0 || (size_t) n >= sizeof(sun->sun_path)) {
				log_fatal("backend %d: socket path too long", i);
				return -1;
			}
			nd->addrlen = sizeof(*sun);
			memcpy(nd->label, sun->sun_path, (size_t) n + 1);
			continue;
		}
		struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
		struct addrinfo *res;
		char port[16];
		snprintf(port, sizeof(port), "%d", b->port);
		int rc = getaddrinfo(b->hostname, port, &hints, &res);
		if (rc != 0) {
			log_fatal("backend %d: could not resolve \"%s\": %s", i, b->hostname, gai_strerror(rc));
			return -1;
		}
		memcpy(&nd->addr, res->ai_addr, res->ai_addrlen);
		nd->addrlen = res->ai_addrlen;
		freeaddrinfo(res);
		snprintf(nd->label, sizeof(nd->label), "%s:%d", b->hostname, b->port);
	}
	return 0;
}

/* reset_query_list: ';'-separated statements, each sent on its own. */
static int split_reset_queries(void)
{
	char *copy = xstrdup(g.cfg->reset_query_list);
	char *save = NULL;
	for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		while (*tok == ' ' || *tok == '\t' || *tok == '\n')
			tok++;
		size_t len = strlen(tok);
		while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t' || tok[len - 1] == '\n'))
			tok[--len] = '\0';
		if (!len)
			continue;
		g.reset_queries = realloc(g.reset_queries, sizeof(char *) * (size_t) (g.num_reset_queries + 1));
		if (!g.reset_queries) {
			free(copy);
			return -1;
		}
		g.reset_queries[g.num_reset_queries++] = xstrdup(tok);
	}
	free(copy);
	return 0;
}

static void free_reset_queries(void)
{
	for (int i = 0; i < g.num_reset_queries; i++)
		free(g.reset_queries[i]);
	free(g.reset_queries);
	g.reset_queries = NULL;
	g.num_reset_queries = 0;
}

static int open_log_file(void)
{
	const pool_config *cfg = g.cfg;
	mkdir(cfg->log_directory, 0750);
	char *path = path_resolve(cfg->log_directory, cfg->log_filename);
	if (!path || log_open_file(path) < 0) {
		log_fatal("could not open log file \"%s/%s\": %s", cfg->log_directory, cfg->log_filename, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

/* ---------------------------------------------------------------- main loop */

static void main_loop(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	for (;;) {
		struct timespec ts = { 1, 0 };
		int sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGHUP) {
			log_log("received SIGHUP: reloading pool_hba.conf, pool_passwd and TLS certificates");
			sd_notify(0, "RELOADING=1");   /* systemd (Type=notify); no-op elsewhere */
			authfiles_load();
			char err[512];
			if (!tls_init(err, sizeof(err)))
				log_error("TLS reload failed, keeping the previous certificates: %s", err);
			sd_notify(0, "READY=1");
		} else if (sig == SIGTERM && atomic_load(&g.shutdown) == SHUTDOWN_NONE) {
			log_log("received smart shutdown request: waiting for %d clients", atomic_load(&g.clients));
			atomic_store(&g.shutdown, SHUTDOWN_SMART);
			sd_notify(0, "STOPPING=1");
			workers_wake();
		} else if (sig == SIGINT || sig == SIGQUIT) {
			log_log("received fast shutdown request");
			atomic_store(&g.shutdown, SHUTDOWN_FAST);
			sd_notify(0, "STOPPING=1");
			workers_wake();
		}
		pool_maintain();
		if (atomic_load(&g.shutdown) != SHUTDOWN_NONE && atomic_load(&g.clients) == 0)
			break;
	}
}

static int print_config_errors(const char *path, config_errors *errs)
{
	for (int i = 0; i < errs->count; i++)
		fprintf(stderr, "%s\n", errs->items[i]);
	fprintf(stderr, "pgpoold: %d error%s in configuration file \"%s\"\n",
		errs->count, errs->count == 1 ? "" : "s", path);
	return 1;
}

int main(int argc, char **argv)
{
	options opt = { .config_file = SYSCONFDIR "/pgpoold/pgpoold.conf" };
	if (parse_args(argc, argv, &opt) < 0)
		return 2;
	static pool_config cfg;
	config_errors errs = { 0 };
	if (config_load(opt.config_file, &cfg, &errs) > 0) {
		int rc = print_config_errors(opt.config_file, &errs);
		config_errors_free(&errs);
		config_free(&cfg);
		return rc;
	}
	config_errors_free(&errs);
	g.cfg = &cfg;
	char rerr[512];
	void *probe = route_worker_init(rerr, sizeof(rerr));
	if (!probe) {
		fprintf(stderr, "%s: %s\n", opt.config_file, rerr);
		config_free(&cfg);
		return 1;
	}
	route_worker_free(probe);
	if (!lbnode_init(rerr, sizeof(rerr)) || !pool_modes_init(rerr, sizeof(rerr)) ||
	    !tls_init(rerr, sizeof(rerr))) {
		fprintf(stderr, "%s: %s\n", opt.config_file, rerr);
		config_free(&cfg);
		return 1;
	}
	if (opt.test_only) {
		printf("configuration file \"%s\" is valid\n", opt.config_file);
		config_free(&cfg);
		return 0;
	}
	log_set_instance(cfg.instance_name);
	int level = log_level_from_name(cfg.log_min_messages);
	log_set_min_level(opt.debug ? LOG_LVL_DEBUG : (level >= 0 ? (log_level) level : LOG_LVL_WARNING));

	signal(SIGPIPE, SIG_IGN);
	sigset_t handled;
	sigemptyset(&handled);
	sigaddset(&handled, SIGHUP);
	sigaddset(&handled, SIGTERM);
	sigaddset(&handled, SIGINT);
	sigaddset(&handled, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &handled, NULL);

	if (!opt.foreground) {
		if (cfg.logging_collector && open_log_file() < 0)
			return 1;
		if (daemon_detach(cfg.logging_collector) < 0) {
			log_fatal("could not detach: %s", strerror(errno));
			return 1;
		}
	}
	int rc = 1;
	if (resolve_nodes() < 0 || split_reset_queries() < 0 || pool_init() < 0 || !authfiles_load())
		goto out;
	if (!nodes_init(opt.discard_status))
		goto out;
	srcheck_find_primary();
	if (!pidfile_write(cfg.pid_file_name))
		goto out;
	char *dirs = xstrdup(cfg.unix_socket_directories);
	char *first = strtok(dirs, ", ");
	if (first) {
		g.unix_listen_fd = listen_unix(first, cfg.port, cfg.unix_socket_permissions, cfg.listen_backlog,
			g.unix_socket_path, sizeof(g.unix_socket_path));
		if (g.unix_listen_fd < 0) {
			free(dirs);
			goto out_pid;
		}
	}
	free(dirs);
	if (workers_start() < 0 || srcheck_start() < 0 || failover_start() < 0 || healthcheck_start() < 0)
		goto out_sock;
	log_log("pgpoold %s started: port %d, %d backend%s, pid %ld", PACKAGE_VERSION, cfg.port,
		g.num_nodes, g.num_nodes == 1 ? "" : "s", (long) getpid());
	/* tell systemd (Type=notify, NOTIFY_SOCKET set) that clients can connect */
	sd_notify(0, "READY=1");
	main_loop();
	healthcheck_stop();
	workers_join();
	failover_stop();
	srcheck_stop();
	log_log("pgpoold stopped");
	rc = 0;
out_sock:
	if (g.unix_listen_fd >= 0) {
		close(g.unix_listen_fd);
		unlink(g.unix_socket_path);
	}
out_pid:
	unlink(cfg.pid_file_name);
out:
	pool_shutdown();
	nodes_shutdown();
	authfiles_shutdown();
	cancel_free_all();
	free_reset_queries();
	lbnode_free();
	pool_modes_free();
	tls_shutdown();
	limits_free();
	config_free(&cfg);
	return rc;
}
