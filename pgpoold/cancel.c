/* CancelRequest registry and forwarder: see cancel.h. */
#include "cancel.h"
#include "pgpoold.h"
#include "worker.h"
#include "proto.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

typedef struct cancel_slot {
	bool used;
	uint32_t client_pid, client_key;
	cancel_target targets[CANCEL_MAX_TARGETS];
	int num_targets;
} cancel_slot;

static pthread_mutex_t cancel_lock = PTHREAD_MUTEX_INITIALIZER;
static cancel_slot *slots;
static int num_slots;
static int free_hint;

int cancel_register(uint32_t client_pid, uint32_t client_key, const cancel_target *t, int n)
{
	pthread_mutex_lock(&cancel_lock);
	int slot = -1;
	for (int i = 0; i < num_slots; i++) {
		int j = (free_hint + i) % num_slots;
		if (!slots[j].used) {
			slot = j;
			break;
		}
	}
	if (slot < 0) {
		int grown = num_slots ? num_slots * 2 : 1024;
		cancel_slot *p = realloc(slots, sizeof(*p) * (size_t) grown);
		if (p) {
			memset(p + num_slots, 0, sizeof(*p) * (size_t) (grown - num_slots));
			slots = p;
			slot = num_slots;
			num_slots = grown;
		}
	}
	if (slot >= 0) {
		slots[slot].used = true;
		slots[slot].client_pid = client_pid;
		slots[slot].client_key = client_key;
		if (n > CANCEL_MAX_TARGETS)
			n = CANCEL_MAX_TARGETS;
		memcpy(slots[slot].targets, t, sizeof(*t) * (size_t) n);
		slots[slot].num_targets = n;
		free_hint = slot + 1;
	}
	pthread_mutex_unlock(&cancel_lock);
	return slot;
}

void cancel_update(int slot, const cancel_target *t, int n)
{
	if (slot < 0)
		return;
	if (n > CANCEL_MAX_TARGETS)
		n = CANCEL_MAX_TARGETS;
	pthread_mutex_lock(&cancel_lock);
	if (slot < num_slots && slots[slot].used) {
		if (n > 0)
			memcpy(slots[slot].targets, t, sizeof(*t) * (size_t) n);
		slots[slot].num_targets = n;
	}
	pthread_mutex_unlock(&cancel_lock);
}

void cancel_unregister(int slot)
{
	if (slot < 0)
		return;
	pthread_mutex_lock(&cancel_lock);
	if (slot < num_slots) {
		slots[slot].used = false;
		free_hint = slot;
	}
	pthread_mutex_unlock(&cancel_lock);
}

int cancel_lookup(uint32_t client_pid, uint32_t client_key, cancel_target out[CANCEL_MAX_TARGETS])
{
	int found = 0;
	pthread_mutex_lock(&cancel_lock);
	for (int i = 0; i < num_slots && !found; i++) {
		if (slots[i].used && slots[i].client_pid == client_pid &&
		    timingsafe_eq(&slots[i].client_key, &client_key, sizeof(client_key))) {
			found = slots[i].num_targets;
			memcpy(out, slots[i].targets, sizeof(out[0]) * (size_t) found);
		}
	}
	pthread_mutex_unlock(&cancel_lock);
	return found;
}

void cancel_free_all(void)
{
	pthread_mutex_lock(&cancel_lock);
	free(slots);
	slots = NULL;
	num_slots = 0;
	pthread_mutex_unlock(&cancel_lock);
}

/* ---------------------------------------------------------------- forwarder */

typedef struct cancel_fwd {
	ev_handler ev;
	uint8_t packet[16];
	uint64_t started_ms;
} cancel_fwd;

static void fwd_finish(cancel_fwd *f)
{
	ev_set(&f->ev, 0);
	close(f->ev.fd);
	f->ev.fd = -1;
	/* freed at once: epoll reports a descriptor once per batch, so no other
	 * event can name it */
	free(f);
}

static void fwd_event(ev_handler *h, uint32_t events)
{
	cancel_fwd *f = (cancel_fwd *) h;
	int err = 0;
	socklen_t elen = sizeof(err);
	if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err) {
		log_warning("could not forward cancel request: %s", strerror(err ? err : errno));
		fwd_finish(f);
		return;
	}
	ssize_t n = send(h->fd, f->packet, sizeof(f->packet), MSG_NOSIGNAL);
	if (n != (ssize_t) sizeof(f->packet))
		log_warning("could not forward cancel request: short write");
	fwd_finish(f);
}

void cancel_forward(worker *w, const cancel_target *t)
{
	const node_addr *nd = &g.nodes[t->node_id];
	cancel_fwd *f = calloc(1, sizeof(*f));
	if (!f)
		return;
	put_be32(f->packet, 16);
	put_be32(f->packet + 4, PROTO_CANCEL_CODE);
	put_be32(f->packet + 8, t->be_pid);
	put_be32(f->packet + 12, t->be_key);
	f->ev.fn = fwd_event;
	f->ev.w = w;
	f->ev.fd = socket(nd->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->ev.fd < 0) {
		free(f);
		return;
	}
	if (connect(f->ev.fd, (const struct sockaddr *) &nd->addr, nd->addrlen) == 0 ||
	    errno == EINPROGRESS || errno == EAGAIN) {
		if (ev_set(&f->ev, EPOLLOUT) == 0) {
			log_debug("forwarding cancel request to node %d for backend pid %u", t->node_id, t->be_pid);
			return;
		}
	}
	log_warning("could not forward cancel request to node %d: %s", t->node_id, strerror(errno));
	close(f->ev.fd);
	free(f);
}
