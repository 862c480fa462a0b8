/* pcpd: command line, configuration, daemon life cycle, signals and the
 * accept loop.  See pcpd.h for the design. */
#include "config.h"
#include "conn.h"
#include "listen.h"
#include "log.h"
#include "daemon.h"
#include "pcpd.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* A blocked write to a PCP client gives up after this (the client is gone). */
#define SEND_TIMEOUT_SECONDS 30

static void usage(FILE *out)
{
	fprintf(out,
		"pcpd - PCP server (Pgpool-II's control protocol) for a pgpoold instance\n\n"
		"Usage:\n"
		"  pcpd [OPTION]...\n\n"
		"Options:\n"
		"  -f, --config-file=FILE     pgpoold's configuration file (default: %s/pgpoold/pgpoold.conf);\n"
		"                             pcpd uses pcp_listen_addresses, pcp_port, pcp_socket_dir\n"
		"                             and pcp_conf_file from it\n"
		"  -n, --no-daemon            stay in the foreground, log to stderr\n"
		"  -d, --debug                log debug messages\n"
		"  -p, --pid-file=FILE        write the process id to FILE\n"
		"  -t, --request-timeout=SEC  how long to wait for pgpoold to carry out a change\n"
		"                             (attach, detach, promote, reload, stop; default 60;\n"
		"                             graceful detach/promote and recovery get 10 times that)\n"
		"  -c, --compat=VERSION       lay replies out for Pgpool-II VERSION's tools:\n"
		"                             4.3 (default), 4.4 or 4.5\n"
		"  -h, --help                 show this help and exit\n"
		"  -V, --version              show the version and exit\n\n"
		"Signals: SIGHUP reloads the configuration (pcp.conf is read on every login\n"
		"anyway); SIGTERM, SIGINT or SIGQUIT stop pcpd.\n",
		SYSCONFDIR);
}

static bool parse_compat(const char *s, pcpd_compat *out)
{
	if (strcmp(s, "4.3") == 0)
		*out = PCPD_COMPAT_43;
	else if (strcmp(s, "4.4") == 0)
		*out = PCPD_COMPAT_44;
	else if (strcmp(s, "4.5") == 0)
		*out = PCPD_COMPAT_45;
	else
		return false;
	return true;
}

static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config-file", required_argument, NULL, 'f'},
		{"no-daemon", no_argument, NULL, 'n'},
		{"debug", no_argument, NULL, 'd'},
		{"pid-file", required_argument, NULL, 'p'},
		{"request-timeout", required_argument, NULL, 't'},
		{"compat", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}
	};
	int c;
	while ((c = getopt_long(argc, argv, "f:ndp:t:c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': pcpd_opts.config_file = optarg; break;
		case 'n': pcpd_opts.foreground = true; break;
		case 'd': pcpd_opts.debug = true; break;
		case 'p': pcpd_opts.pid_file = optarg; break;
		case 't': {
			char *end;
			long secs = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || secs < 1 || secs > 86400) {
				fprintf(stderr, "pcpd: invalid request timeout \"%s\" (1 .. 86400 seconds)\n", optarg);
				return -1;
			}
			pcpd_opts.request_timeout_ms = (int) secs * 1000;
			break;
		}
		case 'c':
			if (!parse_compat(optarg, &pcpd_opts.compat)) {
				fprintf(stderr, "pcpd: invalid compat version \"%s\" (4.3, 4.4 or 4.5)\n", optarg);
				return -1;
			}
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("pcpd (pgpoold) %s\n", PACKAGE_VERSION); exit(0);
		default:
			fprintf(stderr, "Try \"pcpd --help\" for more information.\n");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pcpd: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* ---- daemon ---- */

/* As a daemon with logging_collector, pcpd logs to log_directory/pcpd.log. */
static bool open_log_file(const pool_config *cfg)
{
	mkdir(cfg->log_directory, 0750);
	char *path = path_resolve(cfg->log_directory, "pcpd.log");
	bool ok = path && log_open_file(path) == 0;
	if (!ok)
		log_fatal("could not open log file \"%s/pcpd.log\": %s", cfg->log_directory, strerror(errno));
	free(path);
	return ok;
}

/* ---- accepting ---- */

static void peer_name(const struct sockaddr_storage *ss, socklen_t len, bool is_unix, char *out, size_t outlen)
{
	if (is_unix) {
		snprintf(out, outlen, "[local]");
		return;
	}
	char host[NI_MAXHOST] = "?", serv[NI_MAXSERV] = "?";
	getnameinfo((const struct sockaddr *) ss, len, host, sizeof(host), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(out, outlen, "%s:%s", host, serv);
}

static void accept_one(const pcpd_listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = accept4(l->fd, (struct sockaddr *) &ss, &len, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warning("accept on %s failed: %s", l->label, strerror(errno));
		if (errno == EMFILE || errno == ENFILE)
			usleep(100000);    /* do not spin while out of descriptors */
		return;
	}
	int one = 1;
	if (!l->is_unix) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	}
	struct timeval tv = { .tv_sec = SEND_TIMEOUT_SECONDS };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	char peer[80];
	peer_name(&ss, len, l->is_unix, peer, sizeof(peer));
	log_debug("PCP connection from %s on %s", peer, l->label);
	pcpd_conn_start(fd, peer);
}

static void apply_log_settings(const pool_config *cfg);

/* SIGHUP: the new file applies to logging and to every later command (the
 * pcp.conf path...); the sockets stay as they were opened. */
static void reload(const pcpd_listeners *ls)
{
	if (!pcpd_config_load(pcpd_opts.config_file))
		return;
	const pool_config *cfg = pcpd_config_acquire();
	apply_log_settings(cfg);
	char path[sizeof(ls->unix_path)];
	snprintf(path, sizeof(path), "%s/.s.PGSQL.%d", cfg->pcp_socket_dir ? cfg->pcp_socket_dir : "", cfg->pcp_port);
	if (ls->unix_path[0] && strcmp(path, ls->unix_path) != 0)
		log_warning("pcp_port or pcp_socket_dir changed: restart pcpd to listen on the new address");
	pcpd_config_release(cfg);
}

/* Until a stop signal: accept connections, reload on SIGHUP. */
static void serve(pcpd_listeners *ls, int sigfd)
{
	struct pollfd pfds[PCPD_MAX_LISTENERS + 1];
	for (;;) {
		int n = 0;
		pfds[n++] = (struct pollfd) { .fd = sigfd, .events = POLLIN };
		for (int i = 0; i < ls->count; i++)
			pfds[n++] = (struct pollfd) { .fd = ls->items[i].fd, .events = POLLIN };
		if (poll(pfds, (nfds_t) n, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_fatal("poll failed: %s", strerror(errno));
			return;
		}
		if (pfds[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					log_log("received SIGHUP: reloading \"%s\"", pcpd_opts.config_file);
					reload(ls);
				} else {
					log_log("received signal %u: stopping (%d PCP connections open)",
						si.ssi_signo, pcpd_conn_count());
					return;
				}
			}
		}
		for (int i = 1; i < n; i++)
			if (pfds[i].revents & POLLIN)
				accept_one(&ls->items[i - 1]);
	}
}

static int setup_signals(void)
{
	signal(SIGPIPE, SIG_IGN);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	/* blocked before any thread starts, so every thread inherits it and the
	 * signals arrive only through the signalfd */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static void apply_log_settings(const pool_config *cfg)
{
	log_set_instance(cfg->instance_name);
	int level = log_level_from_name(cfg->log_min_messages);
	log_set_min_level(pcpd_opts.debug ? LOG_LVL_DEBUG : (level >= 0 ? (log_level) level : LOG_LVL_WARNING));
}

int main(int argc, char **argv)
{
	pcpd_opts.config_file = SYSCONFDIR "/pgpoold/pgpoold.conf";
	if (parse_args(argc, argv) < 0)
		return 2;
	if (!pcpd_config_load(pcpd_opts.config_file))
		return 1;
	const pool_config *cfg = pcpd_config_acquire();
	apply_log_settings(cfg);

	int rc = 1;
	pcpd_listeners ls;
	int sigfd = setup_signals();
	if (sigfd < 0) {
		log_fatal("could not set up signal handling: %s", strerror(errno));
		goto out;
	}
	if (!pcpd_listen(cfg, &ls))
		goto out_sig;
	if (!pcpd_opts.foreground) {
		if (cfg->logging_collector && !open_log_file(cfg))
			goto out_listen;
		if (daemon_detach(cfg->logging_collector) < 0) {
			log_fatal("could not detach: %s", strerror(errno));
			goto out_listen;
		}
	}
	if (pcpd_opts.pid_file && !pidfile_write(pcpd_opts.pid_file))
		goto out_listen;
	log_log("pcpd %s started: PCP port %d, %d listening socket%s, pid %ld, replies for Pgpool-II %d.%d tools",
		PACKAGE_VERSION, cfg->pcp_port, ls.count, ls.count == 1 ? "" : "s", (long) getpid(),
		pcpd_opts.compat / 10, pcpd_opts.compat % 10);
	/* the listeners were opened with this configuration; a reload changes
	 * the rest (pcp.conf path, log level) but not the sockets */
	pcpd_config_release(cfg);
	cfg = NULL;
	serve(&ls, sigfd);
	if (pcpd_opts.pid_file)
		unlink(pcpd_opts.pid_file);
	log_log("pcpd stopped");
	rc = 0;
out_listen:
	pcpd_listen_close(&ls);
out_sig:
	if (sigfd >= 0)
		close(sigfd);
out:
	pcpd_config_release(cfg);
	pcpd_context_shutdown();
	/* connection threads may still be running: exit without waiting */
	return rc;
}
