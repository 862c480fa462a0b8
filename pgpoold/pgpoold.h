/* pgpoold: process-wide state shared by the main thread and the workers. */
#ifndef PGPOOLD_PGPOOLD_H
#define PGPOOLD_PGPOOLD_H

#include "config.h"

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

struct worker;
struct ssl_st;

/* Something registered in a worker's epoll set.  Every object that owns a
 * socket (listener, client session, backend connection, cancel forwarder)
 * starts with one; epoll's data.ptr points at it. */
typedef struct ev_handler ev_handler;
typedef void (*ev_fn)(ev_handler *h, uint32_t events);
struct ev_handler {
	ev_fn fn;
	int fd;                  /* -1 once closed: late events are ignored */
	uint32_t mask;           /* interest currently registered; 0 = not in epoll */
	struct worker *w;        /* whose epoll set it is in */
	struct ssl_st *ssl;      /* TLS session on fd, or NULL for plain */
};

/* A backend node as the data path sees it: resolved address once at start. */
typedef struct node_addr {
	int id;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char label[300];         /* "host:port" or socket path, for logs */
} node_addr;

enum shutdown_mode { SHUTDOWN_NONE = 0, SHUTDOWN_SMART, SHUTDOWN_FAST };

typedef struct pgpoold_state {
	pool_config *cfg;
	node_addr nodes[MAX_BACKENDS];
	int num_nodes;
	atomic_int shutdown;            /* enum shutdown_mode */
	atomic_int clients;             /* client connections open now */
	struct status_segment *status;  /* shared with pcpd: node status, counters, requests */
	struct worker *workers;
	int num_workers;
	char **reset_queries;           /* reset_query_list, split */
	int num_reset_queries;
	int unix_listen_fd;             /* shared by all workers; -1 if none */
	char unix_socket_path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
} pgpoold_state;

extern pgpoold_state g;

/* Register, change or remove (mask 0) a handler's epoll interest; no syscall
 * when the mask is unchanged. Returns 0 or -1. */
int ev_set(ev_handler *h, uint32_t mask);

#endif
