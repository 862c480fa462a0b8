/* pcpd's listening sockets: see listen.h. */
#include "listen.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCPD_BACKLOG 64

static bool add_listener(pcpd_listeners *ls, int fd, bool is_unix, const char *label)
{
	if (ls->count >= PCPD_MAX_LISTENERS) {
		log_error("too many PCP listening addresses (at most %d)", PCPD_MAX_LISTENERS);
		close(fd);
		return false;
	}
	pcpd_listener *l = &ls->items[ls->count++];
	l->fd = fd;
	l->is_unix = is_unix;
	snprintf(l->label, sizeof(l->label), "%s", label);
	return true;
}

static void describe_addr(const struct sockaddr *sa, socklen_t len, int port, char *out, size_t outlen)
{
	char host[NI_MAXHOST] = "?";
	getnameinfo(sa, len, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
	snprintf(out, outlen, sa->sa_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
}

/* Bind one resolved address.  1 = listening, 0 = address not available
 * here (skipped), -1 = hard failure (in use, permission...). */
static int bind_one(pcpd_listeners *ls, const struct addrinfo *ai, int port)
{
	char label[128];
	describe_addr(ai->ai_addr, ai->ai_addrlen, port, label, sizeof(label));
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		log_warning("could not create a PCP socket for %s: %s", label, strerror(errno));
		return 0;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, PCPD_BACKLOG) < 0) {
		int e = errno;
		close(fd);
		if (e == EADDRNOTAVAIL || e == EAFNOSUPPORT) {
			log_warning("PCP address %s is not available here: %s", label, strerror(e));
			return 0;
		}
		log_error("could not listen for PCP on %s: %s", label, strerror(e));
		return -1;
	}
	return add_listener(ls, fd, false, label) ? 1 : -1;
}

/* One item of pcp_listen_addresses. */
static bool listen_host(pcpd_listeners *ls, const char *host, int port, int *opened)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	char service[16];
	snprintf(service, sizeof(service), "%d", port);
	struct addrinfo *res;
	int rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, service, &hints, &res);
	if (rc != 0) {
		log_error("could not resolve PCP listen address \"%s\": %s", host, gai_strerror(rc));
		return false;
	}
	bool ok = true;
	for (struct addrinfo *ai = res; ai && ok; ai = ai->ai_next) {
		int r = bind_one(ls, ai, port);
		if (r < 0)
			ok = false;
		else
			*opened += r;
	}
	freeaddrinfo(res);
	return ok;
}

static bool listen_tcp(const pool_config *cfg, pcpd_listeners *ls)
{
	const char *list = cfg->pcp_listen_addresses ? cfg->pcp_listen_addresses : "";
	char *copy = strdup(list);
	if (!copy)
		return false;
	int opened = 0, items = 0;
	bool ok = true;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ", \t", &save); tok && ok; tok = strtok_r(NULL, ", \t", &save)) {
		items++;
		ok = listen_host(ls, tok, cfg->pcp_port, &opened);
	}
	free(copy);
	if (ok && items > 0 && opened == 0) {
		log_error("none of the PCP listen addresses \"%s\" could be used", list);
		ok = false;
	}
	return ok;
}

/* A socket file already there: in use by a live server, or stale. */
static bool socket_path_free(const char *path)
{
	struct stat sb;
	if (lstat(path, &sb) != 0)
		return true;
	if (!S_ISSOCK(sb.st_mode)) {
		log_error("\"%s\" exists and is not a socket", path);
		return false;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	bool live = connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0;
	close(fd);
	if (live) {
		log_error("another server (pcpd or pgpool) is listening on \"%s\"", path);
		return false;
	}
	unlink(path);                   /* left by a server that died */
	return true;
}

static bool listen_unix(const pool_config *cfg, pcpd_listeners *ls)
{
	const char *dir = cfg->pcp_socket_dir;
	if (!dir || !dir[0])
		return true;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/.s.PGSQL.%d", dir, cfg->pcp_port);
	if (n < 0 || (size_t) n >= sizeof(sun.sun_path)) {
		log_error("PCP socket path in \"%s\" is too long", dir);
		return false;
	}
	if (!socket_path_free(sun.sun_path))
		return false;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
		log_error("could not create the PCP socket \"%s\": %s", sun.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	/* as Pgpool-II: anyone may connect, pcp.conf decides who gets in */
	chmod(sun.sun_path, 0777);
	if (listen(fd, PCPD_BACKLOG) < 0) {
		log_error("could not listen on \"%s\": %s", sun.sun_path, strerror(errno));
		close(fd);
		unlink(sun.sun_path);
		return false;
	}
	snprintf(ls->unix_path, sizeof(ls->unix_path), "%s", sun.sun_path);
	return add_listener(ls, fd, true, sun.sun_path);
}

bool pcpd_listen(const pool_config *cfg, pcpd_listeners *ls)
{
	memset(ls, 0, sizeof(*ls));
	if (listen_tcp(cfg, ls) && listen_unix(cfg, ls)) {
		if (ls->count == 0) {
			log_error("pcpd has nothing to listen on (pcp_listen_addresses and pcp_socket_dir are empty)");
			return false;
		}
		return true;
	}
	pcpd_listen_close(ls);
	return false;
}

void pcpd_listen_close(pcpd_listeners *ls)
{
	for (int i = 0; i < ls->count; i++)
		close(ls->items[i].fd);
	ls->count = 0;
	if (ls->unix_path[0]) {
		unlink(ls->unix_path);
		ls->unix_path[0] = '\0';
	}
}
