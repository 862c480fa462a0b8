/* The request queue of the status segment: pcpd submits, pgpoold's
 * failover manager takes requests oldest first and completes them.
 *
 * Each entry's state word is also a futex: the waiter sleeps on it and the
 * manager wakes it on completion.  The queue has one more futex word,
 * bumped on every submission, that the manager sleeps on.  Shared (not
 * FUTEX_PRIVATE) futexes work across processes mapping the same object. */
#include "status_layout.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A completed request nobody collected (its waiter died) is reclaimed after this. */
#define UNCOLLECTED_DONE_SECONDS 60
/* Waiters wake at least this often to notice a dead pgpoold. */
#define WAIT_SLICE_MS 100

void status_futex_wake_all(au32 *word)
{
	syscall(SYS_futex, (uint32_t *) word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void status_futex_wait(au32 *word, uint32_t expected, int timeout_ms)
{
	if (timeout_ms <= 0)
		return;
	struct timespec ts = { .tv_sec = timeout_ms / 1000, .tv_nsec = (long) (timeout_ms % 1000) * 1000000L };
	/* EAGAIN (value already changed), EINTR, ETIMEDOUT: the caller re-checks */
	syscall(SYS_futex, (uint32_t *) word, FUTEX_WAIT, expected, &ts, NULL, 0);
}

static uint32_t req_state(const status_request_shm *r)
{
	return atomic_load_explicit((au32 *) &r->state, memory_order_acquire);
}

static void set_req_state(status_request_shm *r, status_request_state s)
{
	atomic_store_explicit(&r->state, (uint32_t) s, memory_order_release);
}

/* Under the mutex: an entry to reuse, or NULL if the queue is full. */
static status_request_shm *free_entry(status_segment *st, time_t now)
{
	status_request_shm *stale = NULL;
	for (int i = 0; i < st->hdr->num_requests; i++) {
		status_request_shm *r = status_request_at(st, i);
		uint32_t s = req_state(r);
		if (s == REQSTATE_FREE)
			return r;
		if (s == REQSTATE_DONE && !stale && (r->abandoned || now - r->completed_at > UNCOLLECTED_DONE_SECONDS))
			stale = r;
	}
	return stale;
}

/* Under the mutex: the live entry with this id. */
static status_request_shm *find_entry(status_segment *st, int64_t id)
{
	for (int i = 0; i < st->hdr->num_requests; i++) {
		status_request_shm *r = status_request_at(st, i);
		if (r->id == id && req_state(r) != REQSTATE_FREE)
			return r;
	}
	return NULL;
}

int64_t status_submit_request(status_segment *st, status_request_type type, int node,
			      unsigned flags, char *err, size_t errlen)
{
	if (!status_owner_alive(st)) {
		err_appendf(err, errlen, "pgpoold is not running");
		errno = ESRCH;
		return -1;
	}
	int rc = status_lock(st);
	if (rc != 0) {
		err_appendf(err, errlen, "could not lock the status segment: %s", strerror(rc));
		errno = rc;
		return -1;
	}
	time_t now = time(NULL);
	status_request_shm *r = free_entry(st, now);
	if (!r) {
		status_unlock(st);
		err_appendf(err, errlen, "too many requests in progress (%d)", st->hdr->num_requests);
		errno = EBUSY;
		return -1;
	}
	int64_t id = st->hdr->next_request_id++;
	r->id = id;
	r->type = (int32_t) type;
	r->node = node;
	r->flags = flags;
	r->submitter_pid = (int32_t) getpid();
	r->submitted_at = (int64_t) now;
	r->completed_at = 0;
	r->abandoned = false;
	r->result = 0;
	r->message[0] = '\0';
	r->detail[0] = '\0';
	set_req_state(r, REQSTATE_PENDING);
	status_unlock(st);

	atomic_fetch_add_explicit(&st->hdr->queue_seq, 1, memory_order_release);
	status_futex_wake_all(&st->hdr->queue_seq);
	return id;
}

static void copy_text(char *dst, size_t dstlen, const char *src)
{
	if (dst && dstlen > 0)
		snprintf(dst, dstlen, "%s", src);
}

/* Under the mutex: the wait is over without a result. */
static status_wait_result give_up(status_request_shm *r, uint32_t state, bool owner_gone)
{
	if (state == REQSTATE_PENDING) {
		set_req_state(r, REQSTATE_FREE);          /* withdrawn: it will never run */
		return owner_gone ? WAIT_OWNER_GONE : WAIT_TIMEOUT_WITHDRAWN;
	}
	r->abandoned = true;                          /* the manager frees it when done */
	return owner_gone ? WAIT_OWNER_GONE : WAIT_TIMEOUT_RUNNING;
}

status_wait_result status_wait_request(status_segment *st, int64_t id, int timeout_ms,
				       int *result, char *message, size_t messagelen,
				       char *detail, size_t detaillen)
{
	uint64_t deadline = now_ms() + (uint64_t) (timeout_ms > 0 ? timeout_ms : 0);
	copy_text(message, messagelen, "");
	copy_text(detail, detaillen, "");
	for (;;) {
		if (status_lock(st) != 0)
			return WAIT_ERROR;
		status_request_shm *r = find_entry(st, id);
		if (!r) {
			status_unlock(st);
			return WAIT_ERROR;
		}
		uint32_t state = req_state(r);
		if (state == REQSTATE_DONE) {
			if (result)
				*result = r->result;
			copy_text(message, messagelen, r->message);
			copy_text(detail, detaillen, r->detail);
			set_req_state(r, REQSTATE_FREE);
			status_unlock(st);
			return WAIT_DONE;
		}
		uint64_t now = now_ms();
		bool owner_gone = !status_owner_alive(st);
		if (now >= deadline || owner_gone) {
			status_wait_result w = give_up(r, state, owner_gone);
			status_unlock(st);
			return w;
		}
		status_unlock(st);
		uint64_t left = deadline - now;
		status_futex_wait(&r->state, state, left < WAIT_SLICE_MS ? (int) left : WAIT_SLICE_MS);
	}
}

static bool any_pending(const status_segment *st)
{
	for (int i = 0; i < st->hdr->num_requests; i++)
		if (req_state(status_request_at(st, i)) == REQSTATE_PENDING)
			return true;
	return false;
}

bool status_wait_for_request(status_segment *st, int timeout_ms)
{
	uint32_t seq = atomic_load_explicit(&st->hdr->queue_seq, memory_order_acquire);
	if (any_pending(st))
		return true;
	status_futex_wait(&st->hdr->queue_seq, seq, timeout_ms);
	return any_pending(st);
}

bool status_next_request(status_segment *st, status_request *out)
{
	if (status_lock(st) != 0)
		return false;
	status_request_shm *oldest = NULL;
	for (int i = 0; i < st->hdr->num_requests; i++) {
		status_request_shm *r = status_request_at(st, i);
		if (req_state(r) == REQSTATE_PENDING && (!oldest || r->id < oldest->id))
			oldest = r;
	}
	if (oldest) {
		set_req_state(oldest, REQSTATE_RUNNING);
		out->id = oldest->id;
		out->type = (status_request_type) oldest->type;
		out->node = oldest->node;
		out->flags = oldest->flags;
		out->submitter_pid = (pid_t) oldest->submitter_pid;
		out->submitted_at = (time_t) oldest->submitted_at;
	}
	status_unlock(st);
	return oldest != NULL;
}

bool status_complete_request(status_segment *st, int64_t id, int result,
			     const char *message, const char *detail)
{
	if (status_lock(st) != 0)
		return false;
	status_request_shm *r = find_entry(st, id);
	if (!r || req_state(r) != REQSTATE_RUNNING) {
		status_unlock(st);
		return false;
	}
	r->result = result;
	copy_text(r->message, sizeof(r->message), message ? message : "");
	copy_text(r->detail, sizeof(r->detail), detail ? detail : "");
	r->completed_at = (int64_t) time(NULL);
	/* nobody is waiting for an abandoned one: free it right away */
	set_req_state(r, r->abandoned ? REQSTATE_FREE : REQSTATE_DONE);
	status_unlock(st);
	status_futex_wake_all(&r->state);
	return true;
}

int status_requests_in_progress(status_segment *st, status_request *first_out)
{
	int count = 0;
	if (status_lock(st) != 0)
		return -1;
	status_request_shm *oldest = NULL;
	for (int i = 0; i < st->hdr->num_requests; i++) {
		status_request_shm *r = status_request_at(st, i);
		uint32_t s = req_state(r);
		if (s != REQSTATE_PENDING && s != REQSTATE_RUNNING)
			continue;
		count++;
		if (!oldest || r->id < oldest->id)
			oldest = r;
	}
	if (oldest && first_out) {
		first_out->id = oldest->id;
		first_out->type = (status_request_type) oldest->type;
		first_out->node = oldest->node;
		first_out->flags = oldest->flags;
		first_out->submitter_pid = (pid_t) oldest->submitter_pid;
		first_out->submitted_at = (time_t) oldest->submitted_at;
	}
	status_unlock(st);
	return count;
}
