/* Worker threads: one epoll loop each, owning the client sessions accepted
 * on its listening sockets and the backend connections those sessions use. */
#ifndef PGPOOLD_WORKER_H
#define PGPOOLD_WORKER_H

#include "pgpoold.h"
#include "pool.h"

#include <pthread.h>

struct session;
struct server;

typedef struct worker {
	int id;
	pthread_t thread;
	int epfd;
	ev_handler wake;              /* eventfd: shutdown and other nudges */
	ev_handler *listeners;        /* own SO_REUSEPORT TCP sockets */
	int num_listeners;
	ev_handler unix_listener;     /* the shared unix socket, EPOLLEXCLUSIVE */
	bool listening;
	struct session *sessions;     /* doubly linked list of live sessions */
	int num_sessions;
	struct server *orphans;       /* backend connections resetting, no client */
	/* objects closed during an event batch, freed after it (events later
	 * in the same batch may still point at them) */
	struct session *dead_sessions;
	struct server *dead_servers;
	struct server *to_pool;       /* reset finished: hand to the cache after the batch */
	uint64_t last_tick_ms;
	void *route_ctx;              /* this thread's statement classifier (route.h) */
	uint64_t nodes_gen;           /* status segment generation last acted on */
	/* sessions whose pool wait is over (pool.c, under its lock) */
	waiter_list ready;
} worker;

/* Create sockets and threads; returns 0 or -1 (logged). */
int workers_start(void);
/* Wake every worker (after g.shutdown changed). */
void workers_wake(void);
void workers_join(void);

#endif
