/* The status segment: creation, opening, ownership, the mutex, and the
 * per-node data.  See status.h for the model; status_session.c and
 * status_request.c hold the session slots and the request queue. */
#include "status_layout.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Attempts at taking over the name when other processes race us for it. */
#define CREATE_ATTEMPTS 5

/* Readers retry a torn string copy at most this often. */
#define SEQ_READ_TRIES 100

/* ---- naming ---- */

bool status_segment_name(const pool_config *cfg, char *out, size_t outlen)
{
	const char *inst = cfg->instance_name && cfg->instance_name[0] ? cfg->instance_name : "pgpoold";
	char clean[128];
	size_t n = 0;
	for (const char *p = inst; *p && n + 1 < sizeof(clean); p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		clean[n++] = ok ? c : '_';
	}
	clean[n] = '\0';
	int len = snprintf(out, outlen, "/pgpoold.%s.%d", clean, cfg->port);
	return len > 0 && (size_t) len < outlen;
}

/* ---- the owner's lock (an OFD lock on byte 0 of the object) ---- */

static bool take_owner_lock(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	return fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

static bool owner_lock_held(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	if (fcntl(fd, F_OFD_GETLK, &fl) != 0)
		return true;   /* cannot tell: assume alive rather than declare a live pgpoold dead */
	return fl.l_type != F_UNLCK;
}

/* Is the object open on fd the one the name refers to now? */
static bool fd_is_current(int fd, const char *name)
{
	int fd2 = shm_open(name, O_RDONLY, 0);
	if (fd2 < 0)
		return false;
	struct stat a, b;
	bool same = fstat(fd, &a) == 0 && fstat(fd2, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	close(fd2);
	return same;
}

/* The header of whatever is in the object, without mapping it. */
static bool peek_header(int fd, uint32_t *magic, pid_t *pid)
{
	struct stat sb;
	if (fstat(fd, &sb) != 0 || (size_t) sb.st_size < sizeof(status_header))
		return false;
	status_header h;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t) sizeof(h))
		return false;
	*magic = atomic_load(&h.magic);
	*pid = h.owner_pid;
	return true;
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* ---- the mutex ---- */

static bool init_mutex(pthread_mutex_t *m)
{
	pthread_mutexattr_t attr;
	if (pthread_mutexattr_init(&attr) != 0)
		return false;
	bool ok = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) == 0 &&
		  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) == 0 &&
		  pthread_mutex_init(m, &attr) == 0;
	pthread_mutexattr_destroy(&attr);
	return ok;
}

/* After a holder died: what it may have left half-done is a node string
 * write (odd sequence counter); the request queue entries are each written
 * whole before their state changes, so they need nothing. */
static void repair_after_dead_owner(status_segment *st)
{
	for (int i = 0; i < st->hdr->num_nodes; i++)
		seq_repair(&st->hdr->nodes[i].str_seq);
}

/* ThreadSanitizer (gcc 12's libtsan) does not intercept
 * pthread_mutex_clocklock: it would miss every lock and report each unlock
 * as "unlock of an unlocked mutex" (and races on everything the lock
 * guards).  A TSan build takes the lock with pthread_mutex_timedlock on the
 * realtime clock instead, which it does model. */
#if defined(__SANITIZE_THREAD__)
#define STATUS_LOCK_FOR_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STATUS_LOCK_FOR_TSAN 1
#endif
#endif

int status_lock(status_segment *st)
{
	/* monotonic: a wall-clock step must not stretch or cut the wait */
	struct timespec deadline;
#ifdef STATUS_LOCK_FOR_TSAN
	clock_gettime(CLOCK_REALTIME, &deadline);
#else
	clock_gettime(CLOCK_MONOTONIC, &deadline);
#endif
	deadline.tv_sec += STATUS_LOCK_TIMEOUT_MS / 1000;
	deadline.tv_nsec += (long) (STATUS_LOCK_TIMEOUT_MS % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
#ifdef STATUS_LOCK_FOR_TSAN
	int rc = pthread_mutex_timedlock(&st->hdr->mutex, &deadline);
#else
	int rc = pthread_mutex_clocklock(&st->hdr->mutex, CLOCK_MONOTONIC, &deadline);
#endif
	if (rc == EOWNERDEAD) {
		log_warning("status segment %s: a process died holding its lock; recovered", st->name);
		repair_after_dead_owner(st);
		pthread_mutex_consistent(&st->hdr->mutex);
		return 0;
	}
	if (rc != 0)
		log_warning("status segment %s: could not take its lock: %s", st->name, strerror(rc));
	return rc;
}

void status_unlock(status_segment *st)
{
	pthread_mutex_unlock(&st->hdr->mutex);
}

/* ---- creation ---- */

static size_t align_up(size_t n, size_t a)
{
	return (n + a - 1) / a * a;
}

/* Sizes of everything; false if the numbers would overflow. */
static bool compute_layout(int num_nodes, int max_sessions, status_header *h)
{
	size_t slot_stride = align_up(sizeof(status_slot) + (size_t) num_nodes * sizeof(status_slot_backend), 64);
	size_t slots_offset = align_up(sizeof(status_header), 64);
	if (max_sessions < 0 || (size_t) max_sessions > (SIZE_MAX - slots_offset) / slot_stride / 2)
		return false;
	size_t requests_offset = align_up(slots_offset + (size_t) max_sessions * slot_stride, 64);
	size_t request_size = align_up(sizeof(status_request_shm), 64);
	h->header_size = (uint32_t) sizeof(status_header);
	h->node_size = (uint32_t) sizeof(status_node_shm);
	h->slot_stride = (uint32_t) slot_stride;
	h->request_size = (uint32_t) request_size;
	h->num_nodes = num_nodes;
	h->max_sessions = max_sessions;
	h->num_requests = STATUS_REQUEST_SLOTS;
	h->slots_offset = slots_offset;
	h->requests_offset = requests_offset;
	h->total_size = requests_offset + (size_t) STATUS_REQUEST_SLOTS * request_size;
	return true;
}

static void init_node(status_node_shm *n, const backend_config *be, double weight_sum)
{
	atomic_store(&n->str_seq, 0);
	astr_store(n->hostname, sizeof(n->hostname), be->hostname ? be->hostname : "");
	astr_store(n->replication_state, sizeof(n->replication_state), "");
	astr_store(n->replication_sync_state, sizeof(n->replication_sync_state), "");
	atomic_store(&n->port, be->port);
	double w = weight_sum > 0 ? be->weight / weight_sum : 0.0;
	uint64_t bits;
	memcpy(&bits, &w, sizeof(bits));
	atomic_store(&n->weight_bits, bits);
	atomic_store(&n->flag, be->flag);
	/* a configured backend starts "waiting" (CON_CONNECT_WAIT), as Pgpool-II */
	atomic_store(&n->status, be->port > 0 ? NODE_STATUS_WAITING : NODE_STATUS_UNUSED);
	atomic_store(&n->role, NODE_ROLE_STANDBY);
	atomic_store(&n->pg_status, PG_STATUS_UNKNOWN);
	atomic_store(&n->pg_role, PG_ROLE_UNKNOWN);
	atomic_store(&n->last_status_change, (int64_t) time(NULL));
	atomic_store(&n->hc.min_duration_ms, INT_MAX);
}

static void init_header(status_header *h, const pool_config *cfg, const status_header *layout)
{
	/* the object is fresh from ftruncate: every byte is zero already */
	h->layout_version = STATUS_LAYOUT_VERSION;
	h->total_size = layout->total_size;
	h->header_size = layout->header_size;
	h->node_size = layout->node_size;
	h->slot_stride = layout->slot_stride;
	h->request_size = layout->request_size;
	h->num_nodes = layout->num_nodes;
	h->max_sessions = layout->max_sessions;
	h->num_requests = layout->num_requests;
	h->slots_offset = layout->slots_offset;
	h->requests_offset = layout->requests_offset;
	h->owner_pid = (int32_t) getpid();
	h->start_time = (int64_t) time(NULL);
	snprintf(h->instance_name, sizeof(h->instance_name), "%s",
		 cfg->instance_name ? cfg->instance_name : "");
	atomic_store(&h->generation, 1);
	atomic_store(&h->primary_node_id, -1);
	h->next_request_id = 1;

	double weight_sum = 0;
	for (int i = 0; i < cfg->num_backends; i++)
		weight_sum += cfg->backends[i].weight;
	for (int i = 0; i < cfg->num_backends; i++)
		init_node(&h->nodes[i], &cfg->backends[i], weight_sum);
}

static void init_slots(status_segment *st)
{
	for (int s = 0; s < st->hdr->max_sessions; s++) {
		status_slot *slot = status_slot_at(st, s);
		atomic_store(&slot->load_balance_node, -1);
	}
}

/* Replace a stale object: unlink the name and create a fresh one, which
 * must then be ours (locked) too.  Returns the new fd or -1 (errno EAGAIN:
 * somebody else got in first, try again). */
static int replace_stale(int old_fd, const char *name)
{
	shm_unlink(name);
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			errno = EAGAIN;
		return -1;
	}
	if (!take_owner_lock(fd)) {
		close(fd);
		errno = EAGAIN;
		return -1;
	}
	close(old_fd);
	return fd;
}

/* Open the object under name and become its owner.  Returns an fd, or -1
 * with err set. */
static int claim_object(const char *name, char *err, size_t errlen)
{
	for (int attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
		int fd = shm_open(name, O_RDWR | O_CREAT, 0600);
		if (fd < 0) {
			err_appendf(err, errlen, "could not open shared memory %s: %s", name, strerror(errno));
			return -1;
		}
		if (!take_owner_lock(fd)) {
			uint32_t magic = 0;
			pid_t pid = 0;
			peek_header(fd, &magic, &pid);
			close(fd);
			if (pid > 0)
				err_appendf(err, errlen, "another pgpoold (pid %d) is running for this instance (status segment %s)",
					    (int) pid, name);
			else
				err_appendf(err, errlen, "another pgpoold is starting for this instance (status segment %s)", name);
			errno = EBUSY;
			return -1;
		}
		if (!fd_is_current(fd, name)) {
			close(fd);           /* replaced under us: look again */
			continue;
		}
		uint32_t magic = 0;
		pid_t pid = 0;
		if (!peek_header(fd, &magic, &pid) || magic != STATUS_MAGIC)
			return fd;           /* empty or garbage: nobody can be using it */
		if (pid_alive(pid) && pid != getpid())
			log_warning("status segment %s: its recorded pgpoold pid %d is alive but does not hold the segment (pid reused); replacing it",
				    name, (int) pid);
		else
			log_log("status segment %s: replacing the stale segment of pgpoold pid %d, which is not running",
				name, (int) pid);
		int nfd = replace_stale(fd, name);
		if (nfd >= 0)
			return nfd;
		int saved = errno;
		close(fd);
		if (saved != EAGAIN) {
			err_appendf(err, errlen, "could not replace shared memory %s: %s", name, strerror(saved));
			return -1;
		}
	}
	err_appendf(err, errlen, "could not take over shared memory %s: other processes keep replacing it", name);
	errno = EBUSY;
	return -1;
}

static bool record_identity(status_segment *st)
{
	struct stat sb;
	if (fstat(st->fd, &sb) != 0)
		return false;
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	return true;
}

status_segment *status_create(const pool_config *cfg, char *err, size_t errlen)
{
	if (cfg->num_backends < 0 || cfg->num_backends > MAX_BACKENDS) {
		err_appendf(err, errlen, "invalid number of backends: %d", cfg->num_backends);
		return NULL;
	}
	status_segment *st = calloc(1, sizeof(*st));
	if (!st) {
		err_appendf(err, errlen, "out of memory");
		return NULL;
	}
	st->fd = -1;
	st->owner = true;
	status_header layout;
	memset(&layout, 0, sizeof(layout));
	if (!status_segment_name(cfg, st->name, sizeof(st->name)) ||
	    !compute_layout(cfg->num_backends, cfg->max_clients, &layout)) {
		err_appendf(err, errlen, "status segment: instance name or max_clients too large");
		free(st);
		return NULL;
	}
	st->fd = claim_object(st->name, err, errlen);
	if (st->fd < 0) {
		free(st);
		return NULL;
	}
	if (ftruncate(st->fd, 0) != 0 || ftruncate(st->fd, (off_t) layout.total_size) != 0) {
		err_appendf(err, errlen, "could not size shared memory %s to %llu bytes: %s", st->name,
			    (unsigned long long) layout.total_size, strerror(errno));
		goto fail_unlink;
	}
	void *p = mmap(NULL, layout.total_size, PROT_READ | PROT_WRITE, MAP_SHARED, st->fd, 0);
	if (p == MAP_FAILED) {
		err_appendf(err, errlen, "could not map shared memory %s: %s", st->name, strerror(errno));
		goto fail_unlink;
	}
	st->hdr = p;
	st->map_size = layout.total_size;
	init_header(st->hdr, cfg, &layout);
	if (!init_mutex(&st->hdr->mutex) || !record_identity(st)) {
		err_appendf(err, errlen, "could not initialise the status segment lock");
		munmap(p, st->map_size);
		goto fail_unlink;
	}
	init_slots(st);
	/* readers accept the segment only from here on */
	atomic_store_explicit(&st->hdr->magic, STATUS_MAGIC, memory_order_release);
	log_log("status segment %s created (%d nodes, %d session slots, %llu bytes)", st->name,
		cfg->num_backends, cfg->max_clients, (unsigned long long) st->map_size);
	return st;

fail_unlink:
	shm_unlink(st->name);
	close(st->fd);
	free(st);
	return NULL;
}

/* ---- opening (readers) ---- */

/* Map the object on fd if it is a complete segment of our layout. */
static status_header *map_valid(int fd, const char *name, size_t *size_out, char *err, size_t errlen)
{
	struct stat sb;
	if (fstat(fd, &sb) != 0) {
		err_appendf(err, errlen, "could not stat shared memory %s: %s", name, strerror(errno));
		return NULL;
	}
	if ((size_t) sb.st_size < sizeof(status_header)) {
		err_appendf(err, errlen, "status segment %s is being created", name);
		errno = EAGAIN;
		return NULL;
	}
	size_t size = (size_t) sb.st_size;
	status_header *h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		err_appendf(err, errlen, "could not map shared memory %s: %s", name, strerror(errno));
		return NULL;
	}
	uint32_t magic = atomic_load_explicit(&h->magic, memory_order_acquire);
	if (magic == 0) {
		munmap(h, size);
		err_appendf(err, errlen, "status segment %s is being created", name);
		errno = EAGAIN;
		return NULL;
	}
	if (magic != STATUS_MAGIC || h->layout_version != STATUS_LAYOUT_VERSION ||
	    h->total_size != size || h->header_size != sizeof(status_header) ||
	    h->num_nodes < 0 || h->num_nodes > MAX_BACKENDS || h->max_sessions < 0 ||
	    h->num_requests != STATUS_REQUEST_SLOTS ||
	    h->slots_offset + (uint64_t) h->max_sessions * h->slot_stride > size ||
	    h->requests_offset + (uint64_t) h->num_requests * h->request_size > size) {
		munmap(h, size);
		err_appendf(err, errlen, "shared memory %s is not a status segment of this pgpoold version", name);
		errno = EPROTO;
		return NULL;
	}
	*size_out = size;
	return h;
}

/* Open and map the object under name; fills st's mapping fields. */
static bool open_mapping(status_segment *st, char *err, size_t errlen)
{
	int fd = shm_open(st->name, O_RDWR, 0);
	if (fd < 0) {
		int saved = errno;
		if (saved == ENOENT)
			err_appendf(err, errlen, "pgpoold is not running (no status segment %s)", st->name);
		else
			err_appendf(err, errlen, "could not open shared memory %s: %s", st->name, strerror(saved));
		errno = saved;
		return false;
	}
	size_t size = 0;
	status_header *h = map_valid(fd, st->name, &size, err, errlen);
	if (!h) {
		int saved = errno;
		close(fd);
		errno = saved;
		return false;
	}
	st->hdr = h;
	st->map_size = size;
	st->fd = fd;
	return record_identity(st);
}

status_segment *status_open(const pool_config *cfg, char *err, size_t errlen)
{
	status_segment *st = calloc(1, sizeof(*st));
	if (!st) {
		err_appendf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	st->fd = -1;
	if (!status_segment_name(cfg, st->name, sizeof(st->name))) {
		err_appendf(err, errlen, "status segment: instance name too long");
		free(st);
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (!open_mapping(st, err, errlen)) {
		int saved = errno;
		free(st);
		errno = saved;
		return NULL;
	}
	return st;
}

bool status_is_current(const status_segment *st)
{
	if (!st)
		return false;
	return st->owner || fd_is_current(st->fd, st->name);
}

int status_reattach(status_segment *st)
{
	if (!st || st->owner)
		return 0;
	int fd = shm_open(st->name, O_RDONLY, 0);
	if (fd < 0)
		return -1;
	struct stat sb;
	bool same = fstat(fd, &sb) == 0 && sb.st_dev == st->dev && sb.st_ino == st->ino;
	close(fd);
	if (same)
		return 0;
	status_segment fresh = *st;
	if (!open_mapping(&fresh, NULL, 0))
		return -1;
	munmap(st->hdr, st->map_size);
	close(st->fd);
	*st = fresh;
	log_log("status segment %s: pgpoold restarted (pid %d); remapped", st->name, (int) st->hdr->owner_pid);
	return 1;
}

void status_close(status_segment *st)
{
	if (!st)
		return;
	if (st->owner && st->hdr) {
		/* only unlink what is still ours under the name */
		if (fd_is_current(st->fd, st->name))
			shm_unlink(st->name);
	}
	if (st->hdr)
		munmap(st->hdr, st->map_size);
	if (st->fd >= 0)
		close(st->fd);
	free(st);
}

bool status_owner_alive(const status_segment *st)
{
	if (!st)
		return false;
	if (st->owner)
		return true;
	return owner_lock_held(st->fd);
}

pid_t status_owner_pid(const status_segment *st)
{
	return (pid_t) st->hdr->owner_pid;
}

time_t status_start_time(const status_segment *st)
{
	return (time_t) st->hdr->start_time;
}

const char *status_name(const status_segment *st)
{
	return st->name;
}

bool status_is_owner(const status_segment *st)
{
	return st && st->owner;
}

/* ---- nodes ---- */

int status_num_nodes(const status_segment *st)
{
	return st->hdr->num_nodes;
}

int status_max_sessions(const status_segment *st)
{
	return st->hdr->max_sessions;
}

uint64_t status_generation(const status_segment *st)
{
	return atomic_load_explicit(&st->hdr->generation, memory_order_acquire);
}

static void bump_generation(status_segment *st)
{
	atomic_fetch_add_explicit(&st->hdr->generation, 1, memory_order_release);
}

int status_primary_node(const status_segment *st)
{
	return atomic_load(&st->hdr->primary_node_id);
}

void status_set_primary_node(status_segment *st, int node)
{
	if (node < -1 || node >= st->hdr->num_nodes)
		return;
	bool changed = atomic_exchange(&st->hdr->primary_node_id, node) != node;
	time_t now = time(NULL);
	for (int i = 0; i < st->hdr->num_nodes; i++) {
		status_node_shm *n = &st->hdr->nodes[i];
		int role = i == node ? NODE_ROLE_PRIMARY : NODE_ROLE_STANDBY;
		if (atomic_exchange(&n->role, role) != role) {
			atomic_store(&n->last_status_change, (int64_t) now);
			changed = true;
		}
	}
	if (changed)
		bump_generation(st);
}

status_node_state status_node_status(const status_segment *st, int node)
{
	if (!status_valid_node(st, node))
		return NODE_STATUS_UNUSED;
	return (status_node_state) atomic_load(&st->hdr->nodes[node].status);
}

bool status_node_quarantine(const status_segment *st, int node)
{
	return status_valid_node(st, node) && atomic_load(&st->hdr->nodes[node].quarantine);
}

static void copy_node_strings(const status_node_shm *n, status_node_info *out)
{
	for (int tries = 0; tries < SEQ_READ_TRIES; tries++) {
		uint32_t seq = seq_read_begin(&n->str_seq);
		astr_load(n->hostname, sizeof(n->hostname), out->hostname);
		astr_load(n->replication_state, sizeof(n->replication_state), out->replication_state);
		astr_load(n->replication_sync_state, sizeof(n->replication_sync_state), out->replication_sync_state);
		if (!seq_read_retry(&n->str_seq, seq))
			return;
	}
}

static void copy_hc(const status_hc_shm *h, status_hc_stats *out)
{
	out->enabled = atomic_load(&h->enabled);
	out->total_count = atomic_load(&h->total_count);
	out->success_count = atomic_load(&h->success_count);
	out->fail_count = atomic_load(&h->fail_count);
	out->skip_count = atomic_load(&h->skip_count);
	out->retry_count = atomic_load(&h->retry_count);
	out->max_retry_count = atomic_load(&h->max_retry_count);
	out->max_duration_ms = atomic_load(&h->max_duration_ms);
	out->min_duration_ms = atomic_load(&h->min_duration_ms);
	out->total_duration_ms = atomic_load(&h->total_duration_ms);
	out->last_health_check = (time_t) atomic_load(&h->last_health_check);
	out->last_successful_health_check = (time_t) atomic_load(&h->last_successful_health_check);
	out->last_skip_health_check = (time_t) atomic_load(&h->last_skip_health_check);
	out->last_failed_health_check = (time_t) atomic_load(&h->last_failed_health_check);
}

bool status_node_get(const status_segment *st, int node, status_node_info *out)
{
	if (!status_valid_node(st, node))
		return false;
	const status_node_shm *n = &st->hdr->nodes[node];
	memset(out, 0, sizeof(*out));
	out->id = node;
	copy_node_strings(n, out);
	out->port = atomic_load(&n->port);
	uint64_t bits = atomic_load(&n->weight_bits);
	memcpy(&out->weight, &bits, sizeof(out->weight));
	out->flag = atomic_load(&n->flag);
	out->status = (status_node_state) atomic_load(&n->status);
	out->quarantine = atomic_load(&n->quarantine);
	out->role = (status_node_role) atomic_load(&n->role);
	out->pg_status = (status_pg_state) atomic_load(&n->pg_status);
	out->pg_role = (status_pg_role) atomic_load(&n->pg_role);
	out->replication_delay = atomic_load(&n->replication_delay);
	out->replication_delay_us = atomic_load(&n->replication_delay_us);
	out->last_status_change = (time_t) atomic_load(&n->last_status_change);
	for (int k = 0; k < STMT_KIND_COUNT; k++)
		out->stmt_count[k] = atomic_load_explicit(&n->stmt_count[k], memory_order_relaxed);
	for (int k = 0; k < ERRKIND_COUNT; k++)
		out->error_count[k] = atomic_load_explicit(&n->error_count[k], memory_order_relaxed);
	copy_hc(&n->hc, &out->hc);
	return true;
}

void status_set_node_status(status_segment *st, int node, status_node_state status, bool quarantine)
{
	if (!status_valid_node(st, node))
		return;
	status_node_shm *n = &st->hdr->nodes[node];
	bool changed = atomic_exchange(&n->status, (int32_t) status) != (int32_t) status;
	changed |= atomic_exchange(&n->quarantine, quarantine) != quarantine;
	if (changed) {
		atomic_store(&n->last_status_change, (int64_t) time(NULL));
		bump_generation(st);
	}
}

void status_set_node_weight(status_segment *st, int node, double normalized_weight)
{
	if (!status_valid_node(st, node))
		return;
	uint64_t bits;
	memcpy(&bits, &normalized_weight, sizeof(bits));
	atomic_store(&st->hdr->nodes[node].weight_bits, bits);
}

void status_set_node_flag(status_segment *st, int node, int flag)
{
	if (status_valid_node(st, node))
		atomic_store(&st->hdr->nodes[node].flag, flag);
}

bool status_set_node_address(status_segment *st, int node, const char *hostname, int port)
{
	if (!status_valid_node(st, node))
		return false;
	if (status_lock(st) != 0)
		return false;
	status_node_shm *n = &st->hdr->nodes[node];
	seq_write_begin(&n->str_seq);
	astr_store(n->hostname, sizeof(n->hostname), hostname);
	seq_write_end(&n->str_seq);
	atomic_store(&n->port, port);
	status_unlock(st);
	return true;
}

bool status_set_replication(status_segment *st, int node, uint64_t delay_bytes,
			    const char *state, const char *sync_state)
{
	if (!status_valid_node(st, node))
		return false;
	status_node_shm *n = &st->hdr->nodes[node];
	atomic_store(&n->replication_delay, delay_bytes);
	if (!state && !sync_state)
		return true;
	if (status_lock(st) != 0)
		return false;
	seq_write_begin(&n->str_seq);
	if (state)
		astr_store(n->replication_state, sizeof(n->replication_state), state);
	if (sync_state)
		astr_store(n->replication_sync_state, sizeof(n->replication_sync_state), sync_state);
	seq_write_end(&n->str_seq);
	status_unlock(st);
	return true;
}

void status_set_replication_delay_time(status_segment *st, int node, uint64_t delay_us)
{
	if (status_valid_node(st, node))
		atomic_store(&st->hdr->nodes[node].replication_delay_us, delay_us);
}

void status_set_pg_status(status_segment *st, int node, status_pg_state pg_status)
{
	if (status_valid_node(st, node))
		atomic_store(&st->hdr->nodes[node].pg_status, (int32_t) pg_status);
}

void status_set_pg_role(status_segment *st, int node, status_pg_role pg_role)
{
	if (status_valid_node(st, node))
		atomic_store(&st->hdr->nodes[node].pg_role, (int32_t) pg_role);
}

void status_count_statement(status_segment *st, int node, status_stmt_kind kind)
{
	if (status_valid_node(st, node) && kind >= 0 && kind < STMT_KIND_COUNT)
		atomic_fetch_add_explicit(&st->hdr->nodes[node].stmt_count[kind], 1, memory_order_relaxed);
}

void status_count_error(status_segment *st, int node, status_error_kind kind)
{
	if (status_valid_node(st, node) && kind >= 0 && kind < ERRKIND_COUNT)
		atomic_fetch_add_explicit(&st->hdr->nodes[node].error_count[kind], 1, memory_order_relaxed);
}

uint64_t status_select_count(const status_segment *st, int node)
{
	if (!status_valid_node(st, node))
		return 0;
	return atomic_load_explicit(&st->hdr->nodes[node].stmt_count[STMT_SELECT], memory_order_relaxed);
}

/* ---- health-check statistics ---- */

void status_hc_set_enabled(status_segment *st, int node, bool enabled)
{
	if (status_valid_node(st, node))
		atomic_store(&st->hdr->nodes[node].hc.enabled, enabled);
}

static void store_max(ai32 *field, int value)
{
	int cur = atomic_load(field);
	while (value > cur && !atomic_compare_exchange_weak(field, &cur, value))
		;
}

static void store_min(ai32 *field, int value)
{
	int cur = atomic_load(field);
	while (value < cur && !atomic_compare_exchange_weak(field, &cur, value))
		;
}

void status_hc_record(status_segment *st, int node, status_hc_outcome outcome,
		      int retries, int duration_ms, time_t when)
{
	if (!status_valid_node(st, node))
		return;
	status_hc_shm *h = &st->hdr->nodes[node].hc;
	atomic_fetch_add(&h->total_count, 1);
	atomic_store(&h->last_health_check, (int64_t) when);
	if (outcome == HC_SKIP) {
		atomic_fetch_add(&h->skip_count, 1);
		atomic_store(&h->last_skip_health_check, (int64_t) when);
		return;
	}
	if (outcome == HC_SUCCESS) {
		atomic_fetch_add(&h->success_count, 1);
		atomic_store(&h->last_successful_health_check, (int64_t) when);
	} else {
		atomic_fetch_add(&h->fail_count, 1);
		atomic_store(&h->last_failed_health_check, (int64_t) when);
	}
	if (retries > 0) {
		atomic_fetch_add(&h->retry_count, (uint64_t) retries);
		store_max(&h->max_retry_count, retries);
	}
	if (duration_ms < 0)
		duration_ms = 0;
	atomic_fetch_add(&h->total_duration_ms, (uint64_t) duration_ms);
	store_max(&h->max_duration_ms, duration_ms);
	store_min(&h->min_duration_ms, duration_ms);
}

/* ---- names ---- */

const char *status_node_state_name(status_node_state status, bool quarantine)
{
	switch (status) {
	case NODE_STATUS_UNUSED: return "unused";
	case NODE_STATUS_WAITING: return "waiting";
	case NODE_STATUS_UP: return "up";
	case NODE_STATUS_DOWN: return quarantine ? "quarantine" : "down";
	}
	return "unknown";
}

const char *status_node_role_name(status_node_role role)
{
	switch (role) {
	case NODE_ROLE_MAIN: return "main";
	case NODE_ROLE_REPLICA: return "replica";
	case NODE_ROLE_PRIMARY: return "primary";
	case NODE_ROLE_STANDBY: return "standby";
	}
	return "unknown";
}

const char *status_pg_state_name(status_pg_state s)
{
	switch (s) {
	case PG_STATUS_UP: return "up";
	case PG_STATUS_DOWN: return "down";
	case PG_STATUS_UNKNOWN: break;
	}
	return "unknown";
}

const char *status_pg_role_name(status_pg_role r)
{
	switch (r) {
	case PG_ROLE_PRIMARY: return "primary";
	case PG_ROLE_STANDBY: return "standby";
	case PG_ROLE_UNKNOWN: break;
	}
	return "unknown";
}

const char *status_session_state_name(status_session_state s)
{
	switch (s) {
	case SESSION_WAIT_FOR_CONNECTION: return "Wait for connection";
	case SESSION_CONNECTING: return "Connecting";
	case SESSION_EXECUTE: return "Execute command";
	case SESSION_IDLE: return "Idle";
	case SESSION_IDLE_IN_TRANSACTION: return "Idle in transaction";
	}
	return "Unknown";
}

const char *status_request_type_name(status_request_type t)
{
	switch (t) {
	case REQUEST_ATTACH: return "attach";
	case REQUEST_DETACH: return "detach";
	case REQUEST_PROMOTE: return "promote";
	case REQUEST_RELOAD: return "reload";
	case REQUEST_STOP: return "stop";
	case REQUEST_RECOVERY: return "recovery";
	}
	return "unknown";
}
