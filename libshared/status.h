/* The status segment: the one place where pgpoold and pcpd (and the tests)
 * see the state of an instance.  A POSIX shared-memory object named from the
 * instance ("/pgpoold.<instance_name>.<port>", see status_segment_name()),
 * created by pgpoold and opened read-write by pcpd.
 *
 * Contents
 *   - header: magic, layout version, sizes, pgpoold's pid and start time,
 *     the generation counter, the primary node id;
 *   - per backend node (num_backends of them): address, normalized weight,
 *     status (unused / waiting / up / down, + quarantine), role,
 *     replication delay and state, last status change, the statement
 *     counters of SHOW pool_backend_stats, the health-check statistics of
 *     SHOW pool_health_check_stats / pcp_health_check_stats;
 *   - per client-session slot (max_clients of them): what SHOW pool_pools /
 *     pcp_proc_info report;
 *   - a request queue (attach, detach, promote, reload, stop, recovery)
 *     through which pcpd asks pgpoold's failover manager to act.
 *
 * Mapping to Pgpool-II's process model.  pgpoold has no child processes:
 * it is reported as ONE "child" whose pool slots are the session slots.
 *   pool_pid   = pgpoold's pid (pcp_proc_count prints that one pid;
 *                pcp_proc_info <pid> and pcp_proc_info 0 list every row)
 *   pool_id    = session slot index, 0 .. max_clients-1
 *   backend_id = node id; one row per (session slot, node)
 *
 * Concurrency
 *   - Numbers are C11 atomics (lock-free, checked at compile time): the data
 *     path bumps counters and reads statuses without any lock, and readers
 *     that only read numbers never block.
 *   - Strings (node hostname and replication state, session database and
 *     user) are guarded by a sequence counter: the writer makes it odd, writes,
 *     makes it even; a reader copies and retries if it changed.  Readers never
 *     block; node strings are written with the mutex held (several writers),
 *     session strings by the one worker that owns the slot.
 *   - A process-shared ROBUST mutex guards the request queue and serializes
 *     node-string writers.  Every lock is timed (STATUS_LOCK_TIMEOUT_MS); a
 *     process that died holding it is recovered from (EOWNERDEAD ->
 *     pthread_mutex_consistent) and never wedges anybody.
 *
 * Ownership and staleness
 *   pgpoold holds an open-file-description write lock (F_OFD_SETLK) on the
 *   segment for its whole life; the kernel drops it when the process dies,
 *   however it dies.  status_create() takes that lock first: if it is held,
 *   another pgpoold is alive and we refuse (its recorded pid is named in the
 *   error); if not, a segment already there is stale (its owner crashed) and
 *   is unlinked and replaced by a fresh one.  The recorded pid is only
 *   reported, never trusted on its own: pids get recycled.  Readers test
 *   the lock (F_OFD_GETLK) to know whether pgpoold is alive, and
 *   status_reattach() notices a replaced segment (a different object under
 *   the name) and remaps it.  A reader keeps its old mapping when pgpoold
 *   stops and the name disappears, so it can go on answering "what was the
 *   last known state" while pgpoold restarts.
 *
 * Waking the failover manager
 *   No signals: the queue has a futex word.  status_submit_request() bumps
 *   it and wakes every waiter; the manager sleeps in
 *   status_wait_for_request(timeout) (a futex wait; it also works as a plain
 *   100 ms poll).  status_wait_request() sleeps on the request's own futex
 *   word until the manager completes it, the timeout passes, or pgpoold dies.
 *
 * The segment's mode is 0600: pgpoold and pcpd run as the same OS user. */
#ifndef PGPOOLD_STATUS_H
#define PGPOOLD_STATUS_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define STATUS_HOSTNAME_LEN   256  /* backend_hostname (or a socket folder) */
#define STATUS_REPL_STATE_LEN 32   /* pg_stat_replication.state / sync_state */
#define STATUS_IDENT_LEN      64   /* database and user names (63 + NUL) */
#define STATUS_MESSAGE_LEN    256  /* request result message / detail */
#define STATUS_REQUEST_SLOTS  32   /* requests queued or waiting to be read */
#define STATUS_LOCK_TIMEOUT_MS 2000

/* Node status: the values are Pgpool-II's BACKEND_STATUS (PCP wire codes). */
typedef enum status_node_state {
	NODE_STATUS_UNUSED = 0,   /* slot not configured */
	NODE_STATUS_WAITING = 1,  /* attached, no session has used it yet */
	NODE_STATUS_UP = 2,
	NODE_STATUS_DOWN = 3,     /* detached (quarantine flag: detached but watched) */
} status_node_state;

/* Role: Pgpool-II's SERVER_ROLE values (PCP wire codes). */
typedef enum status_node_role {
	NODE_ROLE_MAIN = 0,
	NODE_ROLE_REPLICA = 1,
	NODE_ROLE_PRIMARY = 2,
	NODE_ROLE_STANDBY = 3,
} status_node_role;

/* Live values as the last health / replication check saw them
 * (pg_status / pg_role of SHOW pool_nodes and pcp_node_info). */
typedef enum status_pg_state {
	PG_STATUS_UNKNOWN = 0,    /* health check disabled for the node, or not run yet */
	PG_STATUS_UP,
	PG_STATUS_DOWN,
} status_pg_state;

typedef enum status_pg_role {
	PG_ROLE_UNKNOWN = 0,      /* sr check disabled, node not up, or query failed */
	PG_ROLE_PRIMARY,
	PG_ROLE_STANDBY,
} status_pg_role;

/* What a statement sent to a node counts as (SHOW pool_backend_stats). */
typedef enum status_stmt_kind {
	STMT_SELECT = 0,
	STMT_INSERT,
	STMT_UPDATE,
	STMT_DELETE,
	STMT_DDL,
	STMT_OTHER,
	STMT_KIND_COUNT
} status_stmt_kind;

/* ErrorResponse severities counted per node. */
typedef enum status_error_kind {
	ERRKIND_PANIC = 0,
	ERRKIND_FATAL,
	ERRKIND_ERROR,
	ERRKIND_COUNT
} status_error_kind;

/* Session slot states, as SHOW pool_pools / pcp_proc_info print them. */
typedef enum status_session_state {
	SESSION_WAIT_FOR_CONNECTION = 0,  /* "Wait for connection": slot free */
	SESSION_CONNECTING,               /* "Connecting" (4.4+ text; startup/auth) */
	SESSION_EXECUTE,                  /* "Execute command" */
	SESSION_IDLE,                     /* "Idle" */
	SESSION_IDLE_IN_TRANSACTION,      /* "Idle in transaction" */
} status_session_state;

/* Requests from pcpd to the failover manager. */
typedef enum status_request_type {
	REQUEST_ATTACH = 1,       /* node: bring it back (failback) */
	REQUEST_DETACH,           /* node: take it out (flags: GRACEFUL) */
	REQUEST_PROMOTE,          /* node: make it primary (flags: GRACEFUL, SWITCHOVER) */
	REQUEST_RELOAD,           /* re-read the configuration (SIGHUP semantics) */
	REQUEST_STOP,             /* shut pgpoold down (flags: STOP_* mode) */
	REQUEST_RECOVERY,         /* node: online recovery (recovery_1st_stage_command) */
} status_request_type;

#define REQUEST_FLAG_GRACEFUL      0x01  /* detach/promote: wait for sessions to leave */
#define REQUEST_FLAG_SWITCHOVER    0x02  /* promote: the old primary becomes a standby */
#define REQUEST_FLAG_STOP_SMART    0x10  /* stop: wait for clients */
#define REQUEST_FLAG_STOP_FAST     0x20  /* stop: disconnect clients, roll back */
#define REQUEST_FLAG_STOP_IMMEDIATE 0x40 /* stop: exit now */
#define REQUEST_FLAG_CLUSTER       0x80  /* stop/reload: whole watchdog cluster (no-op here) */

typedef enum status_request_state {
	REQSTATE_FREE = 0,
	REQSTATE_PENDING,         /* submitted, not taken yet */
	REQSTATE_RUNNING,         /* taken by the manager */
	REQSTATE_DONE,            /* completed; result and message are valid */
} status_request_state;

/* Result codes a manager completes a request with. */
#define REQUEST_OK       0    /* done */
#define REQUEST_REJECTED 1    /* not valid now (node down, already primary...) */
#define REQUEST_FAILED   2    /* tried and failed (a command failed, timeout...) */

/* What status_wait_request() returns. */
typedef enum status_wait_result {
	WAIT_DONE = 0,            /* completed: *result and the message are set */
	WAIT_TIMEOUT_WITHDRAWN,   /* nobody took it in time; it was withdrawn and will not run */
	WAIT_TIMEOUT_RUNNING,     /* taken but not finished in time; it goes on without us */
	WAIT_OWNER_GONE,          /* pgpoold died or was replaced meanwhile */
	WAIT_ERROR,               /* unknown id, or the lock could not be taken */
} status_wait_result;

typedef struct status_segment status_segment;

/* ---- snapshots handed out by the getters (plain copies) ---- */

typedef struct status_hc_stats {
	bool enabled;                  /* health_check_period > 0 for this node */
	uint64_t total_count, success_count, fail_count, skip_count, retry_count;
	int max_retry_count;
	int max_duration_ms;
	int min_duration_ms;           /* INT_MAX until the first check (0 if disabled) */
	uint64_t total_duration_ms;
	time_t last_health_check, last_successful_health_check;
	time_t last_skip_health_check, last_failed_health_check;  /* 0 = never */
} status_hc_stats;

typedef struct status_node_info {
	int id;
	char hostname[STATUS_HOSTNAME_LEN];
	int port;
	double weight;                 /* normalized: weightN / sum of weights */
	int flag;                      /* BACKEND_FLAG_* of config.h */
	status_node_state status;
	bool quarantine;
	status_node_role role;
	status_pg_state pg_status;
	status_pg_role pg_role;
	uint64_t replication_delay;    /* bytes of WAL behind the primary */
	uint64_t replication_delay_us; /* replay lag in microseconds (0 = not measured) */
	char replication_state[STATUS_REPL_STATE_LEN];
	char replication_sync_state[STATUS_REPL_STATE_LEN];
	time_t last_status_change;
	uint64_t stmt_count[STMT_KIND_COUNT];
	uint64_t error_count[ERRKIND_COUNT];
	status_hc_stats hc;
} status_node_info;

typedef struct status_session_backend {
	int backend_pid;               /* PostgreSQL backend pid, 0 = none */
	time_t connection_time;        /* when that backend connection was made */
	uint64_t pool_counter;         /* times the connection was reused */
	bool connected;                /* the session uses it now */
} status_session_backend;

typedef struct status_session_info {
	int slot;
	bool in_use;
	status_session_state state;
	char database[STATUS_IDENT_LEN];
	char username[STATUS_IDENT_LEN];
	int major, minor;              /* protocol version, 0 if unused */
	uint64_t client_connection_count;
	time_t client_connection_time, client_disconnection_time;
	time_t last_activity;          /* for client_idle_duration */
	int load_balance_node;         /* -1 = none */
	int num_nodes;
	status_session_backend backends[MAX_BACKENDS];
} status_session_info;

typedef struct status_request {
	int64_t id;
	status_request_type type;
	int node;
	unsigned flags;
	pid_t submitter_pid;
	time_t submitted_at;
} status_request;

/* ---- lifecycle ---- */

/* The object name for an instance: "/pgpoold.<instance>.<port>" (characters
 * other than [A-Za-z0-9._-] in the instance name become '_').  False if it
 * does not fit. */
bool status_segment_name(const pool_config *cfg, char *out, size_t outlen);

/* pgpoold: create the segment (replacing a stale one), fill the nodes from
 * cfg (status waiting, role standby, no primary yet), and own it until
 * status_close().  NULL with a message in err if another pgpoold owns it or
 * a system call fails. */
status_segment *status_create(const pool_config *cfg, char *err, size_t errlen);

/* pcpd, tests: map an existing segment read-write.  NULL with errno ENOENT
 * when there is none (pgpoold not running), EAGAIN when it is being
 * created, EPROTO when its layout is not ours; err says which. */
status_segment *status_open(const pool_config *cfg, char *err, size_t errlen);

/* Reader: if the name now holds another segment (pgpoold restarted), map
 * that one instead.  Returns 1 if remapped, 0 if unchanged, -1 if no valid
 * segment is under the name now (the old mapping is kept). */
int status_reattach(status_segment *st);

/* Reader: does the name still refer to the segment mapped here?  (For
 * readers that cannot remap in place because other threads use the
 * mapping: open a new handle with status_open() instead.) */
bool status_is_current(const status_segment *st);

/* Owner: unlink the name and unmap (pcpd keeps its mapping of the old one).
 * Reader: unmap.  NULL is ignored. */
void status_close(status_segment *st);

/* Is the owning pgpoold alive (holds its lock)?  Always true for the owner. */
bool status_owner_alive(const status_segment *st);
pid_t status_owner_pid(const status_segment *st);
time_t status_start_time(const status_segment *st);
const char *status_name(const status_segment *st);
bool status_is_owner(const status_segment *st);

/* ---- nodes ---- */

int status_num_nodes(const status_segment *st);
int status_max_sessions(const status_segment *st);

/* Bumped on every node status / role / primary change: workers compare it
 * with the value they last saw to notice changes cheaply. */
uint64_t status_generation(const status_segment *st);

/* -1 = no primary known. */
int status_primary_node(const status_segment *st);
/* Set the primary (-1 = none) and every node's role with it
 * (primary / standby); bumps the generation if anything changed. */
void status_set_primary_node(status_segment *st, int node);

/* Lock-free reads. */
status_node_state status_node_status(const status_segment *st, int node);
bool status_node_quarantine(const status_segment *st, int node);
/* Full snapshot; false if node is out of range. */
bool status_node_get(const status_segment *st, int node, status_node_info *out);

/* Writers (pgpoold).  Out-of-range nodes are ignored.  A status change
 * records last_status_change and bumps the generation. */
void status_set_node_status(status_segment *st, int node, status_node_state status, bool quarantine);
void status_set_node_weight(status_segment *st, int node, double normalized_weight);
void status_set_node_flag(status_segment *st, int node, int flag);
/* Address (after a reload); takes the mutex.  False if it could not be taken. */
bool status_set_node_address(status_segment *st, int node, const char *hostname, int port);
/* Replication check results; strings take the mutex (NULL = leave as is). */
bool status_set_replication(status_segment *st, int node, uint64_t delay_bytes,
			    const char *state, const char *sync_state);
/* Replay lag by time (pg_stat_replication.replay_lag), for delay_threshold_by_time. */
void status_set_replication_delay_time(status_segment *st, int node, uint64_t delay_us);
void status_set_pg_status(status_segment *st, int node, status_pg_state pg_status);
void status_set_pg_role(status_segment *st, int node, status_pg_role pg_role);

/* Data path counters (relaxed atomic increments, never block). */
void status_count_statement(status_segment *st, int node, status_stmt_kind kind);
void status_count_error(status_segment *st, int node, status_error_kind kind);
uint64_t status_select_count(const status_segment *st, int node);

/* ---- health-check statistics ---- */

typedef enum status_hc_outcome {
	HC_SUCCESS,
	HC_FAIL,
	HC_SKIP,                  /* node down (not quarantined) or unused: not checked */
} status_hc_outcome;

/* Whether health checking is on for node (decides average_* = 0 and the
 * min duration shown as 0 while disabled). */
void status_hc_set_enabled(status_segment *st, int node, bool enabled);
/* One health-check cycle: total_count+1, then success / fail / skip,
 * retry_count += retries, max_retry_count, durations (a retried check's
 * duration includes every retry), and the matching last_* time (= when). */
void status_hc_record(status_segment *st, int node, status_hc_outcome outcome,
		      int retries, int duration_ms, time_t when);

/* ---- session slots (data path) ---- */

/* Claim a free slot for a new client session; -1 if every slot is taken. */
int status_session_acquire(status_segment *st);
/* The client has authenticated (database/user known): connection time,
 * connection count, protocol version, state. */
void status_session_start(status_segment *st, int slot, const char *database,
			  const char *username, int major, int minor);
void status_session_set_state(status_segment *st, int slot, status_session_state state);
/* Record activity now (client_idle_duration counts from it). */
void status_session_touch(status_segment *st, int slot);
void status_session_set_lb_node(status_segment *st, int slot, int node);
/* The session now uses (connected) or no longer uses a backend connection. */
void status_session_backend_attach(status_segment *st, int slot, int node, int backend_pid,
				   time_t connection_time, uint64_t pool_counter);
void status_session_backend_detach(status_segment *st, int slot, int node);
/* The client left: disconnection time, strings cleared, slot free again. */
void status_session_release(status_segment *st, int slot);
/* Snapshot of a slot; false if out of range. */
bool status_session_get(const status_segment *st, int slot, status_session_info *out);

/* ---- request queue ---- */

/* pcpd: queue a request and wake the manager.  Returns its id (> 0), or -1
 * with a message in err (queue full, lock timeout, pgpoold not running). */
int64_t status_submit_request(status_segment *st, status_request_type type, int node,
			      unsigned flags, char *err, size_t errlen);

/* pcpd: wait up to timeout_ms for the request to complete.  On WAIT_DONE
 * *result is its code and message / detail hold the manager's texts (either
 * may be NULL).  The request's slot is freed on every return except
 * WAIT_TIMEOUT_RUNNING (the manager frees nothing: a running request that
 * nobody waits for any more is reclaimed once completed). */
status_wait_result status_wait_request(status_segment *st, int64_t id, int timeout_ms,
				       int *result, char *message, size_t messagelen,
				       char *detail, size_t detaillen);

/* Manager: sleep until a request may be pending or timeout_ms passes.
 * Returns true if one is pending. */
bool status_wait_for_request(status_segment *st, int timeout_ms);
/* Manager: take the oldest pending request (it becomes RUNNING).  False if
 * none is pending or the lock could not be taken. */
bool status_next_request(status_segment *st, status_request *out);
/* Manager: complete a RUNNING request and wake its waiter.  message and
 * detail may be NULL.  False if id is not running. */
bool status_complete_request(status_segment *st, int64_t id, int result,
			     const char *message, const char *detail);
/* Number of requests pending or running (for "failover is in progress"). */
int status_requests_in_progress(status_segment *st, status_request *first_out);

/* ---- names for reports ---- */

/* "up", "waiting", "down", "unused", or "quarantine" when down + quarantine. */
const char *status_node_state_name(status_node_state status, bool quarantine);
/* "main", "replica", "primary", "standby", else "unknown". */
const char *status_node_role_name(status_node_role role);
const char *status_pg_state_name(status_pg_state s);   /* up / down / unknown */
const char *status_pg_role_name(status_pg_role r);     /* primary / standby / unknown */
const char *status_session_state_name(status_session_state s);
const char *status_request_type_name(status_request_type t);

#endif
