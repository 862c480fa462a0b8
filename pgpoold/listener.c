/* Listening sockets: see listener.h. */
#include "listener.h"
#include "pgpoold.h"
#include "worker.h"
#include "session.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int add_resolved(const char *host, int port, listen_addr **out, int *count)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *res;
	char portstr[16];
	snprintf(portstr, sizeof(portstr), "%d", port);
	int rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		log_error("could not resolve listen address \"%s\": %s", host ? host : "*", gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		listen_addr *p = realloc(*out, sizeof(**out) * (size_t) (*count + 1));
		if (!p) {
			freeaddrinfo(res);
			return -1;
		}
		*out = p;
		listen_addr *la = &p[(*count)++];
		memset(la, 0, sizeof(*la));
		memcpy(&la->addr, ai->ai_addr, ai->ai_addrlen);
		la->addrlen = ai->ai_addrlen;
		char h[INET6_ADDRSTRLEN] = "?";
		const void *a = ai->ai_family == AF_INET
			? (const void *) &((struct sockaddr_in *) ai->ai_addr)->sin_addr
			: (const void *) &((struct sockaddr_in6 *) ai->ai_addr)->sin6_addr;
		inet_ntop(ai->ai_family, a, h, sizeof(h));
		snprintf(la->label, sizeof(la->label), ai->ai_family == AF_INET6 ? "[%s]:%d" : "%s:%d", h, port);
	}
	freeaddrinfo(res);
	return 0;
}

int listen_resolve(const char *addresses, int port, listen_addr **out, int *count)
{
	*out = NULL;
	*count = 0;
	char *copy = strdup(addresses);
	if (!copy)
		return -1;
	int rc = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ", \t", &save); tok && rc == 0; tok = strtok_r(NULL, ", \t", &save))
		rc = add_resolved(strcmp(tok, "*") == 0 ? NULL : tok, port, out, count);
	free(copy);
	return rc;
}

int listen_tcp(const listen_addr *la, int backlog)
{
	int fd = socket(la->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("could not create socket for %s: %s", la->label, strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (la->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *) &la->addr, la->addrlen) < 0 || listen(fd, backlog) < 0) {
		log_error("could not listen on %s: %s", la->label, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Is something answering on this unix socket path? */
static bool unix_socket_alive(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool alive = connect(fd, (const struct sockaddr *) sun, sizeof(*sun)) == 0;
	close(fd);
	return alive;
}

int listen_unix(const char *dir, int port, int mode, int backlog, char *path, size_t pathlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/.s.PGSQL.%d", dir, port);
	if (n < 0 || (size_t) n >= sizeof(sun.sun_path)) {
		log_error("unix socket path \"%s/.s.PGSQL.%d\" is too long", dir, port);
		return -1;
	}
	snprintf(path, pathlen, "%s", sun.sun_path);
	if (unix_socket_alive(&sun)) {
		log_error("could not create unix socket \"%s\": another server is listening on it", sun.sun_path);
		return -1;
	}
	unlink(sun.sun_path);   /* stale, from a server that died */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (const struct sockaddr *) &sun, sizeof(sun)) < 0 ||
	    chmod(sun.sun_path, (mode_t) mode) < 0 || listen(fd, backlog) < 0) {
		log_error("could not listen on unix socket \"%s\": %s", sun.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

void listener_event(ev_handler *h, uint32_t events)
{
	worker *w = h->w;
	bool is_unix = h == &w->unix_listener;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage addr;
		socklen_t len = sizeof(addr);
		int fd = accept4(h->fd, (struct sockaddr *) &addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				/* out of descriptors: pause this listener until the next tick
				 * rather than spin on a socket we cannot accept from */
				log_warning("could not accept a connection: %s", strerror(errno));
				ev_set(h, 0);
			}
			return;
		}
		session_accept(w, fd, (struct sockaddr *) &addr, len, is_unix);
	}
}
