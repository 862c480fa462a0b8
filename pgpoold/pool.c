/* Backend connection cache: see pool.h.  One mutex guards it; a worker holds
 * it only to pop or push a list head. */
#include "pool.h"
#include "patlist.h"
#include "server.h"
#include "worker.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define POOL_BUCKETS 256

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pool_entry *buckets[POOL_BUCKETS];

int pool_init(void)
{
	memset(buckets, 0, sizeof(buckets));
	return 0;
}

static unsigned hash_key(const char *s, size_t len)
{
	unsigned h = 2166136261u;   /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t) s[i]) * 16777619u;
	return h;
}

/* Key: node, then every startup parameter but application_name (it is set
 * per client after taking a connection), NUL-separated. */
static char *make_key(int node_id, const startup_packet *sp, size_t *keylen)
{
	buf b;
	buf_init(&b);
	char nodebuf[16];
	snprintf(nodebuf, sizeof(nodebuf), "%d", node_id);
	buf_put_str(&b, nodebuf);
	buf_put_str(&b, sp->user);
	buf_put_str(&b, sp->database);
	for (int i = 0; i < sp->nparams; i++) {
		const char *n = sp->params[i].name;
		if (strcmp(n, "user") == 0 || strcmp(n, "database") == 0 ||
		    strcmp(n, "application_name") == 0 || strncmp(n, "_pq_.", 5) == 0)
			continue;
		buf_put_str(&b, n);
		buf_put_str(&b, sp->params[i].value);
	}
	if (b.oom) {
		buf_free(&b);
		return NULL;
	}
	*keylen = b.len;
	return (char *) b.data;
}

pool_entry *pool_entry_for(int node_id, const startup_packet *sp)
{
	size_t klen;
	char *key = make_key(node_id, sp, &klen);
	if (!key)
		return NULL;
	unsigned b = hash_key(key, klen) % POOL_BUCKETS;
	pthread_mutex_lock(&pool_lock);
	pool_entry *pe;
	for (pe = buckets[b]; pe; pe = pe->next)
		if (pe->key_len == klen && memcmp(pe->key, key, klen) == 0)
			break;
	if (!pe && (pe = calloc(1, sizeof(*pe))) != NULL) {
		pe->key = key;
		pe->key_len = klen;
		key = NULL;
		pe->node_id = node_id;
		pe->database = strdup(sp->database);
		/* an idle connection to a template database makes CREATE DATABASE fail */
		pe->transaction = pool_transaction_mode(sp->user, sp->database);
		pe->cacheable = strcmp(sp->database, "template0") != 0 &&
			strcmp(sp->database, "template1") != 0;
		if (!pe->database) {
			key = pe->key;
			free(pe);
			pe = NULL;
		} else {
			pe->next = buckets[b];
			buckets[b] = pe;
		}
	}
	pthread_mutex_unlock(&pool_lock);
	free(key);
	return pe;
}

static void unlink_idle(pool_entry *pe, server *srv)
{
	if (srv->prev)
		srv->prev->next = srv->next;
	else
		pe->idle = srv->next;
	if (srv->next)
		srv->next->prev = srv->prev;
	srv->next = srv->prev = NULL;
	pe->num_idle--;
}

/* ---------------------------------------------------------------- pool modes */

/* user_pool_mode_list / database_pool_mode_list: "regex:session|transaction" */
static patlist user_modes, db_modes;

static bool check_modes(const char *list_name, const patlist *l, char *err, size_t errlen)
{
	for (int i = 0; i < l->count; i++)
		if (strcmp(l->entries[i].value, "session") != 0 && strcmp(l->entries[i].value, "transaction") != 0) {
			snprintf(err, errlen, "%s: \"%s\" is not session or transaction", list_name, l->entries[i].value);
			return false;
		}
	return true;
}

bool pool_modes_init(char *err, size_t errlen)
{
	pool_modes_free();
	return patlist_parse("user_pool_mode_list", g.cfg->user_pool_mode_list, &user_modes, err, errlen) &&
		check_modes("user_pool_mode_list", &user_modes, err, errlen) &&
		patlist_parse("database_pool_mode_list", g.cfg->database_pool_mode_list, &db_modes, err, errlen) &&
		check_modes("database_pool_mode_list", &db_modes, err, errlen);
}

void pool_modes_free(void)
{
	patlist_free(&user_modes);
	patlist_free(&db_modes);
}

bool pool_transaction_mode(const char *user, const char *database)
{
	/* as PgBouncer: the user's mode, else the database's, else pool_mode */
	const patlist_entry *e = patlist_match(&user_modes, user);
	if (!e)
		e = patlist_match(&db_modes, database);
	const char *mode = e ? e->value : g.cfg->pool_mode;
	return strcmp(mode, "transaction") == 0;
}

int pool_limit(const pool_entry *pe)
{
	return pe->transaction ? g.cfg->default_pool_size : 0;
}

/* ---------------------------------------------------------------- waiters
 * Everything here runs under the pool lock. */

static void wl_push(waiter_list *l, pool_waiter *wt, bool front)
{
	if (front) {
		wt->prev = NULL;
		wt->next = l->head;
		if (l->head)
			l->head->prev = wt;
		else
			l->tail = wt;
		l->head = wt;
	} else {
		wt->next = NULL;
		wt->prev = l->tail;
		if (l->tail)
			l->tail->next = wt;
		else
			l->head = wt;
		l->tail = wt;
	}
}

static void wl_unlink(waiter_list *l, pool_waiter *wt)
{
	if (wt->prev)
		wt->prev->next = wt->next;
	else
		l->head = wt->next;
	if (wt->next)
		wt->next->prev = wt->prev;
	else
		l->tail = wt->prev;
	wt->next = wt->prev = NULL;
}

/* Move the first waiter of pe to its worker's ready list and wake that
 * worker: a connection was returned or a slot freed. */
static void wake_one(pool_entry *pe)
{
	pool_waiter *wt = pe->waiting.head;
	if (!wt)
		return;
	wl_unlink(&pe->waiting, wt);
	wt->queued = false;
	wl_push(&wt->w->ready, wt, false);
	wt->woken = true;
	uint64_t one = 1;
	ssize_t n = write(wt->w->wake.fd, &one, sizeof(one));
	(void) n;
}

void pool_cancel_wait(pool_waiter *wt)
{
	pthread_mutex_lock(&pool_lock);
	if (wt->queued) {
		wl_unlink(&wt->pe->waiting, wt);
		wt->queued = false;
	} else if (wt->woken) {
		wl_unlink(&wt->w->ready, wt);
		wt->woken = false;
		wake_one(wt->pe);   /* its turn goes to the next */
	}
	wt->pe = NULL;
	pthread_mutex_unlock(&pool_lock);
}

pool_waiter *pool_next_ready(worker *w)
{
	pthread_mutex_lock(&pool_lock);
	pool_waiter *wt = w->ready.head;
	if (wt) {
		wl_unlink(&w->ready, wt);
		wt->woken = false;
	}
	pthread_mutex_unlock(&pool_lock);
	return wt;
}

/* A cached connection is usable if the backend has not closed it or sent
 * anything (an idle backend only speaks to say it is terminating). */
static bool looks_alive(server *srv)
{
	uint8_t byte;
	ssize_t n = recv(srv->ev.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static bool expired(const server *srv, uint64_t now)
{
	int life = g.cfg->connection_life_time;
	return life > 0 && now - srv->created_ms >= (uint64_t) life * 1000u;
}

/* The first idle connection, unlinked (lock held), or NULL. */
static server *take_idle(pool_entry *pe)
{
	server *srv = pe->idle;
	if (srv)
		unlink_idle(pe, srv);
	return srv;
}

/* Is a connection just taken from the cache usable?  Else it is closed. */
static bool usable(pool_entry *pe, server *srv, uint64_t now)
{
	if (looks_alive(srv) && !expired(srv, now))
		return true;
	log_debug("discarding cached connection to node %d: %s", pe->node_id,
		expired(srv, now) ? "connection_life_time reached" : "closed by backend");
	server_close(srv);
	return false;
}

/* One lock per attempt: take an idle connection, else reserve room for a
 * new one, else queue.  This is the hot path of transaction pooling. */
pool_get_result pool_get(pool_entry *pe, pool_waiter *wt, bool fresh, server **out)
{
	bool was_woken = wt->pe == pe;
	int limit = pool_limit(pe);
	uint64_t now = now_ms();
	for (;;) {
		pthread_mutex_lock(&pool_lock);
		server *srv = fresh ? NULL : take_idle(pe);
		pool_get_result r = POOL_GOT;
		if (!srv && (limit <= 0 || pe->num_open < limit)) {
			pe->num_open++;
			r = POOL_CONNECT;
		} else if (!srv) {
			/* a woken waiter that lost the race keeps its turn */
			wt->pe = pe;
			wt->queued = true;
			wl_push(&pe->waiting, wt, was_woken);
			r = POOL_WAIT;
		}
		pthread_mutex_unlock(&pool_lock);
		if (r == POOL_WAIT)
			return r;
		wt->pe = NULL;
		if (r == POOL_CONNECT)
			return r;
		if (usable(pe, srv, now)) {
			*out = srv;
			return r;
		}
	}
}

void pool_put(server *srv)
{
	pool_entry *pe = srv->pool;
	if (srv->ev.mask)
		ev_set(&srv->ev, 0);
	srv->ev.w = NULL;
	srv->client = NULL;
	srv->state = SRV_IDLE;
	srv->state_since_ms = now_ms();
	/* the buffers stay for the next taker (transaction pooling returns a
	 * connection after every transaction); pool_maintain frees them when
	 * the connection has been idle a while */
	iobuf_clear(&srv->in);
	buf_reset(&srv->out);
	srv->out_sent = 0;
	if (!g.cfg->connection_cache || !pe->cacheable || expired(srv, srv->state_since_ms) ||
	    atomic_load(&g.shutdown) == SHUTDOWN_FAST) {
		server_close(srv);
		return;
	}
	pthread_mutex_lock(&pool_lock);
	/* transaction pooling keeps the whole pool: a burst must not reconnect */
	int limit = pool_limit(pe);
	bool room = pe->num_idle < (limit > 0 ? limit : g.cfg->max_pool);
	if (room) {
		srv->prev = NULL;
		srv->next = pe->idle;
		if (pe->idle)
			pe->idle->prev = srv;
		pe->idle = srv;
		pe->num_idle++;
		wake_one(pe);
	}
	pthread_mutex_unlock(&pool_lock);
	if (!room)
		server_close(srv);
}

/* Unlink the idle connections chosen by `pick` under the lock, close them
 * outside it (close sends Terminate). */
static void drop_idle_where(bool (*pick)(const pool_entry *, const server *, const void *), const void *arg)
{
	server *victims = NULL;
	pthread_mutex_lock(&pool_lock);
	for (int b = 0; b < POOL_BUCKETS; b++)
		for (pool_entry *pe = buckets[b]; pe; pe = pe->next) {
			server *srv = pe->idle;
			while (srv) {
				server *next = srv->next;
				if (pick(pe, srv, arg)) {
					unlink_idle(pe, srv);
					srv->next = victims;
					victims = srv;
				}
				srv = next;
			}
		}
	pthread_mutex_unlock(&pool_lock);
	while (victims) {
		server *next = victims->next;
		victims->next = NULL;
		server_close(victims);
		victims = next;
	}
}

static bool pick_expired(const pool_entry *pe, const server *srv, const void *arg)
{
	return expired(srv, *(const uint64_t *) arg);
}

/* Idle connections unused for this long give their buffers back. */
#define IDLE_BUFFERS_MS 1000

static void trim_idle_buffers(uint64_t now)
{
	pthread_mutex_lock(&pool_lock);
	for (int b = 0; b < POOL_BUCKETS; b++)
		for (pool_entry *pe = buckets[b]; pe; pe = pe->next)
			for (server *srv = pe->idle; srv; srv = srv->next)
				if ((srv->in.data || srv->out.data) && now - srv->state_since_ms >= IDLE_BUFFERS_MS) {
					iobuf_free(&srv->in);
					buf_free(&srv->out);
				}
	pthread_mutex_unlock(&pool_lock);
}

void pool_maintain(void)
{
	uint64_t now = now_ms();
	trim_idle_buffers(now);
	if (g.cfg->connection_life_time > 0)
		drop_idle_where(pick_expired, &now);
}

static bool pick_database(const pool_entry *pe, const server *srv, const void *arg)
{
	return arg == NULL || strcmp(pe->database, (const char *) arg) == 0;
}

void pool_drop_idle(const char *database)
{
	drop_idle_where(pick_database, database);
}

static bool pick_node(const pool_entry *pe, const server *srv, const void *arg)
{
	return pe->node_id == *(const int *) arg;
}

void pool_drop_idle_node(int node_id)
{
	drop_idle_where(pick_node, &node_id);
}

static bool pick_all(const pool_entry *pe, const server *srv, const void *arg)
{
	return true;
}

void pool_count_close(pool_entry *pe)
{
	if (!pe)
		return;
	pthread_mutex_lock(&pool_lock);
	pe->num_open--;
	wake_one(pe);
	pthread_mutex_unlock(&pool_lock);
}

void pool_shutdown(void)
{
	drop_idle_where(pick_all, NULL);
	pthread_mutex_lock(&pool_lock);
	for (int b = 0; b < POOL_BUCKETS; b++) {
		pool_entry *pe = buckets[b];
		while (pe) {
			pool_entry *next = pe->next;
			free(pe->key);
			free(pe->database);
			free(pe);
			pe = next;
		}
		buckets[b] = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
}
