/* Listening sockets: TCP (one SO_REUSEPORT socket per worker and address,
 * so the kernel spreads connections) and the unix socket (one, shared). */
#ifndef PGPOOLD_LISTENER_H
#define PGPOOLD_LISTENER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct ev_handler;

typedef struct listen_addr {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char label[80];
} listen_addr;

/* Resolve listen_addresses ("*", "localhost", names or IPs, comma list). */
int listen_resolve(const char *addresses, int port, listen_addr **out, int *count);
/* A non-blocking TCP listening socket with SO_REUSEPORT; -1 (logged) on error. */
int listen_tcp(const listen_addr *la, int backlog);
/* The unix socket DIR/.s.PGSQL.PORT; refuses to steal one a live server
 * answers on. -1 (logged) on error; path receives the file name. */
int listen_unix(const char *dir, int port, int mode, int backlog, char *path, size_t pathlen);
/* accept4() loop for a listening handler. */
void listener_event(struct ev_handler *h, uint32_t events);

#endif
