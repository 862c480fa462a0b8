/* Private to libshared/status*.c: the layout of the status segment in
 * memory and the helpers every part of it uses.  Nothing outside
 * libshared/status*.c includes this; the API is status.h.
 *
 * Layout (offsets recorded in the header, so a reader never guesses):
 *
 *   status_header                     fixed size, nodes[MAX_BACKENDS] inside
 *   session slots  x max_sessions     each: status_slot + num_nodes x status_slot_backend
 *   requests       x STATUS_REQUEST_SLOTS
 *
 * Every field another process may touch concurrently is an atomic.  The
 * static assertions below make sure they are lock-free: an atomic that
 * needed a lock would use a process-local one, useless across processes. */
#ifndef PGPOOLD_STATUS_LAYOUT_H
#define PGPOOLD_STATUS_LAYOUT_H

#include "status.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic int must be lock-free for shared memory");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "atomic 64-bit must be lock-free for shared memory");
_Static_assert(ATOMIC_CHAR_LOCK_FREE == 2, "atomic char must be lock-free for shared memory");
_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2, "atomic bool must be lock-free for shared memory");

#define STATUS_MAGIC          0x50475344u   /* "PGSD" */
#define STATUS_LAYOUT_VERSION 1u

typedef _Atomic uint64_t au64;
typedef _Atomic int64_t ai64;
typedef _Atomic uint32_t au32;
typedef _Atomic int32_t ai32;
typedef _Atomic char achar;

typedef struct status_hc_shm {
	atomic_bool enabled;
	au64 total_count, success_count, fail_count, skip_count, retry_count;
	ai32 max_retry_count;
	ai32 max_duration_ms;
	ai32 min_duration_ms;
	au64 total_duration_ms;
	ai64 last_health_check, last_successful_health_check;
	ai64 last_skip_health_check, last_failed_health_check;
} status_hc_shm;

typedef struct status_node_shm {
	au32 str_seq;                                /* seqlock over the strings */
	achar hostname[STATUS_HOSTNAME_LEN];
	achar replication_state[STATUS_REPL_STATE_LEN];
	achar replication_sync_state[STATUS_REPL_STATE_LEN];
	ai32 port;
	au64 weight_bits;                            /* a double's bits */
	ai32 flag;
	ai32 status;
	atomic_bool quarantine;
	ai32 role;
	ai32 pg_status;
	ai32 pg_role;
	au64 replication_delay;
	au64 replication_delay_us;
	ai64 last_status_change;
	au64 stmt_count[STMT_KIND_COUNT];
	au64 error_count[ERRKIND_COUNT];
	status_hc_shm hc;
} status_node_shm;

typedef struct status_slot_backend {
	ai32 backend_pid;
	ai64 connection_time;
	au64 pool_counter;
	atomic_bool connected;
} status_slot_backend;

typedef struct status_slot {
	au32 in_use;                                 /* claimed with a CAS 0 -> 1 */
	au32 str_seq;                                /* seqlock over database/username */
	achar database[STATUS_IDENT_LEN];
	achar username[STATUS_IDENT_LEN];
	ai32 state;
	ai32 major, minor;
	au64 client_connection_count;
	ai64 client_connection_time;
	ai64 client_disconnection_time;
	ai64 last_activity;
	ai32 load_balance_node;
	status_slot_backend backends[];              /* num_nodes entries */
} status_slot;

typedef struct status_request_shm {
	au32 state;                                  /* status_request_state; also a futex word */
	int64_t id;                                  /* the rest: under the mutex */
	int32_t type;
	int32_t node;
	uint32_t flags;
	int32_t submitter_pid;
	int64_t submitted_at;
	int64_t completed_at;
	bool abandoned;                              /* its waiter gave up */
	int32_t result;
	char message[STATUS_MESSAGE_LEN];
	char detail[STATUS_MESSAGE_LEN];
} status_request_shm;

typedef struct status_header {
	au32 magic;                                  /* written last at creation (release) */
	uint32_t layout_version;
	uint64_t total_size;
	uint32_t header_size, node_size, slot_stride, request_size;
	int32_t num_nodes;
	int32_t max_sessions;
	int32_t num_requests;
	uint64_t slots_offset;
	uint64_t requests_offset;
	int32_t owner_pid;
	int64_t start_time;
	char instance_name[64];

	pthread_mutex_t mutex;                       /* robust, process-shared */
	au64 generation;
	ai32 primary_node_id;
	au32 queue_seq;                              /* futex word: bumped on submit */
	int64_t next_request_id;                     /* under the mutex */
	au32 session_hint;                           /* where the next slot search starts */

	status_node_shm nodes[MAX_BACKENDS];
} status_header;

/* The process-local handle. */
struct status_segment {
	status_header *hdr;
	size_t map_size;
	int fd;                                      /* kept open: the owner's lock lives on it */
	dev_t dev;
	ino_t ino;
	bool owner;
	char name[256];
};

/* ---- layout access ---- */

static inline status_slot *status_slot_at(const status_segment *st, int slot)
{
	return (status_slot *) ((char *) st->hdr + st->hdr->slots_offset +
				(size_t) slot * st->hdr->slot_stride);
}

static inline status_request_shm *status_request_at(const status_segment *st, int i)
{
	return (status_request_shm *) ((char *) st->hdr + st->hdr->requests_offset +
				       (size_t) i * st->hdr->request_size);
}

static inline bool status_valid_node(const status_segment *st, int node)
{
	return st && node >= 0 && node < st->hdr->num_nodes;
}

static inline bool status_valid_slot(const status_segment *st, int slot)
{
	return st && slot >= 0 && slot < st->hdr->max_sessions;
}

/* ---- strings in shared memory (status_strings.c) ---- */

/* Copy src into an atomic char array of cap bytes (truncated, NUL-terminated).
 * Call between seq_write_begin and seq_write_end. */
void astr_store(achar *dst, size_t cap, const char *src);
/* Copy out (always NUL-terminated). */
void astr_load(const achar *src, size_t cap, char *dst);

void seq_write_begin(au32 *seq);
void seq_write_end(au32 *seq);
/* Reader side: seq_read_begin returns the value to hand to seq_read_retry,
 * which says whether the copy made in between must be redone. */
uint32_t seq_read_begin(const au32 *seq);
bool seq_read_retry(const au32 *seq, uint32_t begun);
/* After a crash inside a write section: make the counter even again. */
void seq_repair(au32 *seq);

/* ---- the mutex (status.c) ---- */

/* 0, or an errno value (ETIMEDOUT, ENOTRECOVERABLE...).  Recovers from a
 * dead owner. */
int status_lock(status_segment *st);
void status_unlock(status_segment *st);

/* ---- futex (status_request.c) ---- */
void status_futex_wake_all(au32 *word);
/* Sleep while *word == expected, at most timeout_ms. */
void status_futex_wait(au32 *word, uint32_t expected, int timeout_ms);

#endif
