/* Session slots of the status segment: what SHOW pool_pools and
 * pcp_proc_info report.  A slot is claimed by the worker that runs a client
 * session and written only by that worker (one writer per slot), so the
 * data path never takes a lock here. */
#include "status_layout.h"

#include <string.h>

#define SEQ_READ_TRIES 100

int status_session_acquire(status_segment *st)
{
	if (!st)
		return -1;
	int n = st->hdr->max_sessions;
	if (n <= 0)
		return -1;
	/* start where the last search ended, so slots are reused round-robin and
	 * claims from several workers rarely collide on the same slot */
	uint32_t start = atomic_fetch_add_explicit(&st->hdr->session_hint, 1, memory_order_relaxed);
	for (int k = 0; k < n; k++) {
		int s = (int) ((start + (uint32_t) k) % (uint32_t) n);
		status_slot *slot = status_slot_at(st, s);
		uint32_t expected = 0;
		if (atomic_compare_exchange_strong(&slot->in_use, &expected, 1)) {
			atomic_store(&slot->state, SESSION_CONNECTING);
			atomic_store(&slot->last_activity, (int64_t) time(NULL));
			return s;
		}
	}
	return -1;
}

void status_session_start(status_segment *st, int slot_no, const char *database,
			  const char *username, int major, int minor)
{
	if (!status_valid_slot(st, slot_no))
		return;
	status_slot *slot = status_slot_at(st, slot_no);
	seq_write_begin(&slot->str_seq);
	astr_store(slot->database, sizeof(slot->database), database);
	astr_store(slot->username, sizeof(slot->username), username);
	seq_write_end(&slot->str_seq);
	time_t now = time(NULL);
	atomic_store(&slot->major, major);
	atomic_store(&slot->minor, minor);
	atomic_store(&slot->client_connection_time, (int64_t) now);
	atomic_store(&slot->last_activity, (int64_t) now);
	atomic_fetch_add(&slot->client_connection_count, 1);
	atomic_store(&slot->state, SESSION_IDLE);
}

void status_session_set_state(status_segment *st, int slot_no, status_session_state state)
{
	if (status_valid_slot(st, slot_no))
		atomic_store_explicit(&status_slot_at(st, slot_no)->state, (int32_t) state, memory_order_relaxed);
}

void status_session_touch(status_segment *st, int slot_no)
{
	if (status_valid_slot(st, slot_no))
		atomic_store_explicit(&status_slot_at(st, slot_no)->last_activity, (int64_t) time(NULL),
				      memory_order_relaxed);
}

void status_session_set_lb_node(status_segment *st, int slot_no, int node)
{
	if (status_valid_slot(st, slot_no))
		atomic_store(&status_slot_at(st, slot_no)->load_balance_node, node);
}

void status_session_backend_attach(status_segment *st, int slot_no, int node, int backend_pid,
				   time_t connection_time, uint64_t pool_counter)
{
	if (!status_valid_slot(st, slot_no) || !status_valid_node(st, node))
		return;
	status_slot_backend *b = &status_slot_at(st, slot_no)->backends[node];
	atomic_store(&b->backend_pid, backend_pid);
	atomic_store(&b->connection_time, (int64_t) connection_time);
	atomic_store(&b->pool_counter, pool_counter);
	atomic_store(&b->connected, true);
}

void status_session_backend_detach(status_segment *st, int slot_no, int node)
{
	if (!status_valid_slot(st, slot_no) || !status_valid_node(st, node))
		return;
	status_slot_backend *b = &status_slot_at(st, slot_no)->backends[node];
	atomic_store(&b->connected, false);
	atomic_store(&b->backend_pid, 0);
	atomic_store(&b->connection_time, 0);
	atomic_store(&b->pool_counter, 0);
}

void status_session_release(status_segment *st, int slot_no)
{
	if (!status_valid_slot(st, slot_no))
		return;
	status_slot *slot = status_slot_at(st, slot_no);
	for (int i = 0; i < st->hdr->num_nodes; i++)
		status_session_backend_detach(st, slot_no, i);
	seq_write_begin(&slot->str_seq);
	astr_store(slot->database, sizeof(slot->database), "");
	astr_store(slot->username, sizeof(slot->username), "");
	seq_write_end(&slot->str_seq);
	atomic_store(&slot->major, 0);
	atomic_store(&slot->minor, 0);
	atomic_store(&slot->load_balance_node, -1);
	atomic_store(&slot->client_disconnection_time, (int64_t) time(NULL));
	atomic_store(&slot->state, SESSION_WAIT_FOR_CONNECTION);
	/* last: from here another session may claim it */
	atomic_store_explicit(&slot->in_use, 0, memory_order_release);
}

bool status_session_get(const status_segment *st, int slot_no, status_session_info *out)
{
	if (!status_valid_slot(st, slot_no))
		return false;
	const status_slot *slot = status_slot_at(st, slot_no);
	memset(out, 0, sizeof(*out));
	out->slot = slot_no;
	for (int tries = 0; tries < SEQ_READ_TRIES; tries++) {
		uint32_t seq = seq_read_begin(&slot->str_seq);
		astr_load(slot->database, sizeof(slot->database), out->database);
		astr_load(slot->username, sizeof(slot->username), out->username);
		if (!seq_read_retry(&slot->str_seq, seq))
			break;
	}
	out->in_use = atomic_load((au32 *) &slot->in_use) != 0;
	out->state = (status_session_state) atomic_load((ai32 *) &slot->state);
	out->major = atomic_load((ai32 *) &slot->major);
	out->minor = atomic_load((ai32 *) &slot->minor);
	out->client_connection_count = atomic_load((au64 *) &slot->client_connection_count);
	out->client_connection_time = (time_t) atomic_load((ai64 *) &slot->client_connection_time);
	out->client_disconnection_time = (time_t) atomic_load((ai64 *) &slot->client_disconnection_time);
	out->last_activity = (time_t) atomic_load((ai64 *) &slot->last_activity);
	out->load_balance_node = atomic_load((ai32 *) &slot->load_balance_node);
	out->num_nodes = st->hdr->num_nodes;
	for (int i = 0; i < out->num_nodes; i++) {
		status_slot_backend *b = (status_slot_backend *) &slot->backends[i];
		out->backends[i].backend_pid = atomic_load(&b->backend_pid);
		out->backends[i].connection_time = (time_t) atomic_load(&b->connection_time);
		out->backends[i].pool_counter = atomic_load(&b->pool_counter);
		out->backends[i].connected = atomic_load(&b->connected);
	}
	return true;
}
