/* Worker threads: see worker.h. */
#include "worker.h"
#include "listener.h"
#include "session.h"
#include "server.h"
#include "pool.h"
#include "route.h"
#include "nodes.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define TICK_MS 1000

int ev_set(ev_handler *h, uint32_t mask)
{
	if (h->fd < 0 || mask == h->mask)
		return 0;
	int epfd = h->w->epfd;
	int rc;
	if (mask == 0)
		rc = epoll_ctl(epfd, EPOLL_CTL_DEL, h->fd, NULL);
	else {
		struct epoll_event ev = { .events = mask, .data.ptr = h };
		rc = epoll_ctl(epfd, h->mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, h->fd, &ev);
	}
	if (rc < 0) {
		log_error("epoll_ctl failed on fd %d: %s", h->fd, strerror(errno));
		return -1;
	}
	h->mask = mask;
	return 0;
}

static void wake_event(ev_handler *h, uint32_t events)
{
	uint64_t v;
	ssize_t n = read(h->fd, &v, sizeof(v));
	(void) n;
	/* sessions whose full pool has a connection or room now */
	pool_waiter *wt;
	while ((wt = pool_next_ready(h->w)) != NULL)
		session_pool_ready(wt->session);
}

void workers_wake(void)
{
	for (int i = 0; i < g.num_workers; i++) {
		uint64_t one = 1;
		ssize_t n = write(g.workers[i].wake.fd, &one, sizeof(one));
		(void) n;
	}
}

/* Free what this batch closed, and hand reset connections to the cache. */
static void after_batch(worker *w)
{
	while (w->to_pool) {
		server *srv = w->to_pool;
		w->to_pool = srv->next;
		srv->next = NULL;
		pool_put(srv);
	}
	while (w->dead_servers) {
		server *srv = w->dead_servers;
		w->dead_servers = srv->next;
		server_free(srv);
	}
	while (w->dead_sessions) {
		session *s = w->dead_sessions;
		w->dead_sessions = s->next;
		session_free(s);
	}
}

/* A failover changed node status: one atomic load per loop when nothing did. */
static void check_nodes(worker *w)
{
	uint64_t gen = nodes_generation();
	if (gen == w->nodes_gen)
		return;
	w->nodes_gen = gen;
	for (session *s = w->sessions, *next; s; s = next) {
		next = s->next;
		if (s->state == SESS_ACTIVE || s->state == SESS_WAIT_SERVER || s->state == SESS_AUTH)
			relay_nodes_changed(s);
	}
	after_batch(w);
}

static void tick(worker *w, uint64_t now)
{
	for (session *s = w->sessions, *next; s; s = next) {
		next = s->next;
		session_tick(s, now);
	}
	for (server *srv = w->orphans, *next; srv; srv = next) {
		next = srv->next;
		server_orphan_tick(srv, now);
	}
	if (w->listening) {
		/* resume listeners paused by EMFILE */
		for (int i = 0; i < w->num_listeners; i++)
			ev_set(&w->listeners[i], EPOLLIN);
		ev_set(&w->unix_listener, EPOLLIN | EPOLLEXCLUSIVE);
	}
}

static void stop_listening(worker *w)
{
	for (int i = 0; i < w->num_listeners; i++) {
		ev_set(&w->listeners[i], 0);
		close(w->listeners[i].fd);
		w->listeners[i].fd = -1;
	}
	ev_set(&w->unix_listener, 0);
	w->listening = false;
}

static void close_everything(worker *w)
{
	for (session *s = w->sessions, *next; s; s = next) {
		next = s->next;
		session_close(s, "57P01", "terminating connection due to administrator command");
	}
	while (w->orphans) {
		server *srv = w->orphans;
		w->orphans = srv->next;
		srv->next = srv->prev = NULL;
		server_close(srv);
	}
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	struct epoll_event events[MAX_EVENTS];
	char err[512];
	/* the classifier is per thread: libpg_query keeps per-thread state */
	w->route_ctx = route_worker_init(err, sizeof(err));
	if (!w->route_ctx) {
		log_fatal("worker %d: could not set up statement classification: %s", w->id, err);
		atomic_store(&g.shutdown, SHUTDOWN_FAST);
		return NULL;
	}
	w->last_tick_ms = now_ms();
	w->nodes_gen = nodes_generation();
	for (;;) {
		int n = epoll_wait(w->epfd, events, MAX_EVENTS, TICK_MS);
		if (n < 0 && errno != EINTR) {
			log_fatal("worker %d: epoll_wait failed: %s", w->id, strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			ev_handler *h = events[i].data.ptr;
			if (h->fd >= 0)
				h->fn(h, events[i].events);
		}
		after_batch(w);
		check_nodes(w);
		uint64_t now = now_ms();
		if (now - w->last_tick_ms >= TICK_MS) {
			w->last_tick_ms = now;
			tick(w, now);
			after_batch(w);
		}
		int mode = atomic_load(&g.shutdown);
		if (mode == SHUTDOWN_NONE)
			continue;
		if (w->listening)
			stop_listening(w);
		if (mode == SHUTDOWN_FAST) {
			close_everything(w);
			after_batch(w);
		}
		if (w->sessions == NULL && w->orphans == NULL)
			break;
	}
	after_batch(w);
	route_worker_free(w->route_ctx);
	w->route_ctx = NULL;
	return NULL;
}

static int worker_init(worker *w, int id, const listen_addr *addrs, int naddrs)
{
	w->id = id;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->wake.fn = wake_event;
	w->wake.w = w;
	if (w->epfd < 0 || w->wake.fd < 0 || ev_set(&w->wake, EPOLLIN) < 0) {
		log_fatal("could not create worker %d event loop: %s", id, strerror(errno));
		return -1;
	}
	w->listeners = calloc((size_t) (naddrs ? naddrs : 1), sizeof(ev_handler));
	if (!w->listeners)
		return -1;
	for (int i = 0; i < naddrs; i++) {
		ev_handler *h = &w->listeners[w->num_listeners];
		h->fd = listen_tcp(&addrs[i], g.cfg->listen_backlog);
		if (h->fd < 0)
			return -1;
		h->fn = listener_event;
		h->w = w;
		w->num_listeners++;
		if (ev_set(h, EPOLLIN) < 0)
			return -1;
	}
	w->unix_listener.fd = -1;
	if (g.unix_listen_fd >= 0) {
		/* one shared socket: EPOLLEXCLUSIVE wakes one worker per connection */
		w->unix_listener.fd = g.unix_listen_fd;
		w->unix_listener.fn = listener_event;
		w->unix_listener.w = w;
		if (ev_set(&w->unix_listener, EPOLLIN | EPOLLEXCLUSIVE) < 0)
			return -1;
	}
	w->listening = true;
	return 0;
}

static int cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int) n : 1;
}

int workers_start(void)
{
	const pool_config *cfg = g.cfg;
	listen_addr *addrs = NULL;
	int naddrs = 0;
	if (cfg->listen_addresses[0] &&
	    listen_resolve(cfg->listen_addresses, cfg->port, &addrs, &naddrs) < 0)
		return -1;
	g.num_workers = cfg->workers > 0 ? cfg->workers : cpu_count();
	g.workers = calloc((size_t) g.num_workers, sizeof(worker));
	if (!g.workers) {
		free(addrs);
		return -1;
	}
	for (int i = 0; i < g.num_workers; i++)
		if (worker_init(&g.workers[i], i, addrs, naddrs) < 0) {
			free(addrs);
			return -1;
		}
	for (int i = 0; i < naddrs; i++)
		log_log("listening on %s (%d workers)", addrs[i].label, g.num_workers);
	free(addrs);
	/* workers take no signals: the main thread handles them all */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < g.num_workers; i++)
		if (pthread_create(&g.workers[i].thread, NULL, worker_main, &g.workers[i]) != 0) {
			log_fatal("could not start worker thread %d", i);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			return -1;
		}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

void workers_join(void)
{
	for (int i = 0; i < g.num_workers; i++) {
		worker *w = &g.workers[i];
		pthread_join(w->thread, NULL);
		for (int j = 0; j < w->num_listeners; j++)
			if (w->listeners[j].fd >= 0)
				close(w->listeners[j].fd);
		free(w->listeners);
		close(w->wake.fd);
		close(w->epfd);
	}
	free(g.workers);
	g.workers = NULL;
}
