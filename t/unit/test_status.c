/* status.c, status_session.c, status_request.c, status_file.c: the shared
 * status segment and the node status file. */
#include "suites.h"
#include "config.h"
#include "log.h"
#include "status.h"
#include "status_file.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A config for a 2-node instance whose name no other test run uses. */
static void make_cfg(pool_config *cfg, const char *tag)
{
	static int seq;
	char name[64];
	config_set_defaults(cfg);
	snprintf(name, sizeof(name), "ut-%s-%d-%d", tag, (int) getpid(), seq++);
	free(cfg->instance_name);
	cfg->instance_name = xstrdup(name);
	cfg->port = 25999;
	cfg->max_clients = 8;
	cfg->num_backends = 2;
	cfg->backends[0].hostname = xstrdup("127.0.0.1");
	cfg->backends[0].port = 5435;
	cfg->backends[0].weight = 1;
	cfg->backends[0].data_directory = xstrdup("");
	cfg->backends[0].application_name = xstrdup("primary");
	cfg->backends[0].flag = BACKEND_FLAG_ALLOW_TO_FAILOVER;
	cfg->backends[1].hostname = xstrdup("127.0.0.1");
	cfg->backends[1].port = 5436;
	cfg->backends[1].weight = 3;
	cfg->backends[1].data_directory = xstrdup("");
	cfg->backends[1].application_name = xstrdup("standby");
	cfg->backends[1].flag = BACKEND_FLAG_ALLOW_TO_FAILOVER;
}

/* Internal to libshared (status_layout.h): the robustness tests hold the
 * segment's mutex directly to play a process that dies (or hangs) in it. */
int status_lock(status_segment *st);

static void quiet_logs(void)
{
	log_set_min_level(LOG_LVL_FATAL);
}

START_TEST(test_name_from_instance_and_port)
{
	pool_config cfg;
	config_set_defaults(&cfg);
	free(cfg.instance_name);
	cfg.instance_name = xstrdup("auth");
	cfg.port = 5432;
	char name[128];
	ck_assert(status_segment_name(&cfg, name, sizeof(name)));
	ck_assert_str_eq(name, "/pgpoold.auth.5432");
	free(cfg.instance_name);
	cfg.instance_name = xstrdup("a/b c");
	ck_assert(status_segment_name(&cfg, name, sizeof(name)));
	ck_assert_str_eq(name, "/pgpoold.a_b_c.5432");
	ck_assert(!status_segment_name(&cfg, name, 8));
	config_free(&cfg);
}
END_TEST

START_TEST(test_create_open_close)
{
	quiet_logs();
	pool_config cfg;
	make_cfg(&cfg, "coc");
	char err[256] = "";

	status_segment *none = status_open(&cfg, err, sizeof(err));
	ck_assert_ptr_null(none);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "not running"));

	err[0] = '\0';
	status_segment *w = status_create(&cfg, err, sizeof(err));
	ck_assert_msg(w != NULL, "create: %s", err);
	ck_assert(status_is_owner(w));
	ck_assert_int_eq(status_owner_pid(w), getpid());
	ck_assert_int_eq(status_num_nodes(w), 2);
	ck_assert_int_eq(status_max_sessions(w), 8);
	ck_assert_int_eq(status_primary_node(w), -1);

	status_segment *r = status_open(&cfg, err, sizeof(err));
	ck_assert_msg(r != NULL, "open: %s", err);
	ck_assert(!status_is_owner(r));
	ck_assert(status_owner_alive(r));
	ck_assert_int_eq(status_owner_pid(r), getpid());

	status_node_info ni;
	ck_assert(status_node_get(r, 1, &ni));
	ck_assert_str_eq(ni.hostname, "127.0.0.1");
	ck_assert_int_eq(ni.port, 5436);
	ck_assert(ni.weight > 0.7499 && ni.weight < 0.7501);
	ck_assert_int_eq(ni.status, NODE_STATUS_WAITING);
	ck_assert_int_eq(ni.role, NODE_ROLE_STANDBY);
	ck_assert_int_eq(ni.hc.min_duration_ms, INT_MAX);
	ck_assert(ni.last_status_change > 0);
	ck_assert(!status_node_get(r, 2, &ni));
	ck_assert(!status_node_get(r, -1, &ni));

	/* writes by the owner are seen by the reader; the generation moves */
	uint64_t gen = status_generation(r);
	status_set_primary_node(w, 0);
	ck_assert_uint_gt(status_generation(r), gen);
	ck_assert_int_eq(status_primary_node(r), 0);
	status_node_get(r, 0, &ni);
	ck_assert_int_eq(ni.role, NODE_ROLE_PRIMARY);
	gen = status_generation(r);
	status_set_node_status(w, 1, NODE_STATUS_DOWN, false);
	ck_assert_uint_gt(status_generation(r), gen);
	ck_assert_int_eq(status_node_status(r, 1), NODE_STATUS_DOWN);
	gen = status_generation(r);
	status_set_node_status(w, 1, NODE_STATUS_DOWN, false);   /* no change: no bump */
	ck_assert_uint_eq(status_generation(r), gen);
	ck_assert(status_set_replication(w, 1, 1234, "streaming", "async"));
	status_count_statement(w, 1, STMT_SELECT);
	status_count_statement(w, 1, STMT_SELECT);
	status_count_statement(w, 1, STMT_DDL);
	status_count_error(w, 1, ERRKIND_FATAL);
	ck_assert(status_set_node_address(w, 1, "db2.example", 6000));
	status_node_get(r, 1, &ni);
	ck_assert_str_eq(ni.replication_state, "streaming");
	ck_assert_str_eq(ni.replication_sync_state, "async");
	ck_assert_uint_eq(ni.replication_delay, 1234);
	ck_assert_uint_eq(ni.stmt_count[STMT_SELECT], 2);
	ck_assert_uint_eq(status_select_count(r, 1), 2);
	ck_assert_uint_eq(ni.stmt_count[STMT_DDL], 1);
	ck_assert_uint_eq(ni.error_count[ERRKIND_FATAL], 1);
	ck_assert_str_eq(ni.hostname, "db2.example");
	ck_assert_int_eq(ni.port, 6000);

	/* pgpoold stops: the name goes, the reader keeps its last view */
	status_close(w);
	ck_assert(!status_owner_alive(r));
	ck_assert_int_eq(status_reattach(r), -1);
	ck_assert(status_node_get(r, 1, &ni));
	ck_assert_str_eq(ni.hostname, "db2.example");
	status_close(r);
	ck_assert_ptr_null(status_open(&cfg, NULL, 0));
	config_free(&cfg);
}
END_TEST

START_TEST(test_health_check_counting)
{
	quiet_logs();
	pool_config cfg;
	make_cfg(&cfg, "hc");
	status_segment *w = status_create(&cfg, NULL, 0);
	ck_assert_ptr_nonnull(w);
	status_hc_set_enabled(w, 0, true);
	status_hc_record(w, 0, HC_SUCCESS, 0, 12, 1000);
	status_hc_record(w, 0, HC_FAIL, 3, 40, 1010);
	status_hc_record(w, 0, HC_SKIP, 0, 0, 1020);
	status_hc_record(w, 0, HC_SUCCESS, 1, 5, 1030);
	status_node_info ni;
	status_node_get(w, 0, &ni);
	ck_assert(ni.hc.enabled);
	ck_assert_uint_eq(ni.hc.total_count, 4);
	ck_assert_uint_eq(ni.hc.success_count, 2);
	ck_assert_uint_eq(ni.hc.fail_count, 1);
	ck_assert_uint_eq(ni.hc.skip_count, 1);
	ck_assert_uint_eq(ni.hc.retry_count, 4);
	ck_assert_int_eq(ni.hc.max_retry_count, 3);
	ck_assert_int_eq(ni.hc.max_duration_ms, 40);
	ck_assert_int_eq(ni.hc.min_duration_ms, 5);
	ck_assert_uint_eq(ni.hc.total_duration_ms, 57);
	ck_assert_int_eq(ni.hc.last_health_check, 1030);
	ck_assert_int_eq(ni.hc.last_successful_health_check, 1030);
	ck_assert_int_eq(ni.hc.last_failed_health_check, 1010);
	ck_assert_int_eq(ni.hc.last_skip_health_check, 1020);
	status_close(w);
	config_free(&cfg);
}
END_TEST

START_TEST(test_session_slots)
{
	quiet_logs();
	pool_config cfg;
	make_cfg(&cfg, "slot");
	status_segment *w = status_create(&cfg, NULL, 0);
	ck_assert_ptr_nonnull(w);
	int slots[8];
	for (int i = 0; i < 8; i++) {
		slots[i] = status_session_acquire(w);
		ck_assert_int_ge(slots[i], 0);
		for (int j = 0; j < i; j++)
			ck_assert_int_ne(slots[i], slots[j]);
	}
	ck_assert_int_eq(status_session_acquire(w), -1);   /* all taken */

	int s = slots[3];
	status_session_start(w, s, "booking_system_auth", "app", 3, 0);
	status_session_set_lb_node(w, s, 1);
	status_session_backend_attach(w, s, 1, 4242, 1700000000, 7);
	status_session_set_state(w, s, SESSION_IDLE_IN_TRANSACTION);
	status_session_info si;
	ck_assert(status_session_get(w, s, &si));
	ck_assert(si.in_use);
	ck_assert_str_eq(si.database, "booking_system_auth");
	ck_assert_str_eq(si.username, "app");
	ck_assert_int_eq(si.major, 3);
	ck_assert_uint_eq(si.client_connection_count, 1);
	ck_assert_int_eq(si.load_balance_node, 1);
	ck_assert_int_eq(si.num_nodes, 2);
	ck_assert_int_eq(si.backends[1].backend_pid, 4242);
	ck_assert(si.backends[1].connected);
	ck_assert(!si.backends[0].connected);
	ck_assert_uint_eq(si.backends[1].pool_counter, 7);
	ck_assert_str_eq(status_session_state_name(si.state), "Idle in transaction");

	status_session_release(w, s);
	ck_assert(status_session_get(w, s, &si));
	ck_assert(!si.in_use);
	ck_assert_str_eq(si.database, "");
	ck_assert_int_eq(si.backends[1].backend_pid, 0);
	ck_assert(si.client_disconnection_time > 0);
	ck_assert_uint_eq(si.client_connection_count, 1);   /* kept: times the slot served a client */
	ck_assert_int_eq(status_session_acquire(w), s);      /* the only free one */
	ck_assert(!status_session_get(w, 8, &si));
	status_close(w);
	config_free(&cfg);
}
END_TEST

/* Fork a child that creates the segment and then does what `then` says:
 * 'w' = wait until killed, 'x' = exit at once without cleaning up.
 * Returns the child pid once the segment exists. */
static pid_t spawn_owner(const pool_config *cfg, char then)
{
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		status_segment *st = status_create(cfg, NULL, 0);
		char ok = st ? 'y' : 'n';
		if (write(pfd[1], &ok, 1) != 1)
			_exit(3);
		if (then == 'x')
			_exit(0);                    /* crash-like: no status_close */
		for (;;)
			pause();
	}
	close(pfd[1]);
	char ok = 0;
	ck_assert_int_eq(read(pfd[0], &ok, 1), 1);
	close(pfd[0]);
	ck_assert_int_eq(ok, 'y');
	return pid;
}

static void reap(pid_t pid)
{
	int status;
	waitpid(pid, &status, 0);
}

START_TEST(test_live_owner_refused)
{
	quiet_logs();
	pool_config cfg;
	make_cfg(&cfg, "live");
	pid_t child = spawn_owner(&cfg, 'w');
	char err[256] = "";
	status_segment *st = status_create(&cfg, err, sizeof(err));
	ck_assert_ptr_null(st);
	char expect[64];
	snprintf(expect, sizeof(expect), "another pgpoold (pid %d)", (int) child);
	ck_assert_msg(strstr(err, expect) != NULL, "err: %s", err);

	/* a reader sees it alive */
	status_segment *r = status_open(&cfg, NULL, 0);
	ck_assert_ptr_nonnull(r);
	ck_assert(status_owner_alive(r));
	ck_assert_int_eq(status_owner_pid(r), child);
	kill(child, SIGKILL);
	reap(child);
	ck_assert(!status_owner_alive(r));
	status_close(r);

	/* ... and in the same process a second owner is refused too */
	status_segment *w1 = status_create(&cfg, NULL, 0);
	ck_assert_ptr_nonnull(w1);
	err[0] = '\0';
	ck_assert_ptr_null(status_create(&cfg, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "another pgpoold"));
	status_close(w1);
	config_free(&cfg);
}
END_TEST

START_TEST(test_stale_segment_replaced)
{
	quiet_logs();
	pool_config cfg;
	make_cfg(&cfg, "stale");
	pid_t child = spawn_owner(&cfg, 'x');
	reap(child);

	/* a reader that had the crashed one mapped */
	status_segment *r = status_open(&cfg, NULL, 0);
	ck_assert_ptr_nonnull(r);
	ck_assert(!status_owner_alive(r));
	ck_assert_int_eq(status_owner_pid(r), child);

	char err[256] = "";
	status_segment *w = status_create(&cfg, err, sizeof(err));
	ck_assert_msg(w != NULL, "create over stale: %s", err);
	ck_assert_int_eq(status_owner_pid(w), getpid());

	ck_assert_int_eq(status_reattach(r), 1);
	ck_assert_int_eq(status_owner_pid(r), getpid());
	ck_assert(status_owner_alive(r));
	ck_assert_int_eq(status_reattach(r), 0);
	status_close(r);
	status_close(w);
	config_free(&cfg);
}
END_TEST

START_TEST(test_garbage_object_replaced)
{
	quiet_logs();
	pool_config cfg;
	make_cfg(&cfg, "junk");
	char name[128];
	ck_assert(status_segment_name(&cfg, name, sizeof(name)));
	int fd = shm_open(name, O_RDWR | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "not a segment at all", 20), 20);
	close(fd);
	char err[256] = "";
	ck_assert_ptr_null(status_open(&cfg, err, sizeof(err)));   /* too short: "being created" */
	status_segment *w = status_create(&cfg, err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	status_close(w);
	config_free(&cfg);
}
END_TEST

/* A manager thread: completes every request with its node id as result. */
typedef struct manager_arg {
	status_segment *st;
	int handled;
	int64_t order[8];
} manager_arg;

static void *manager_thread(void *p)
{
	manager_arg *m = p;
	while (m->handled < 3) {
		if (!status_wait_for_request(m->st, 100))
			continue;
		status_request req;
		while (status_next_request(m->st, &req)) {
			char msg[64];
			snprintf(msg, sizeof(msg), "%s of node %d done", status_request_type_name(req.type), req.node);
			m->order[m->handled++] = req.id;
			status_complete_request(m->st, req.id, req.node, msg, "detail text");
		}
	}
	return NULL;
}

START_TEST(test_request_round_trip)
{
	quiet_logs();
	pool_config cfg;
	make_cfg(&cfg, "req");
	status_segment *w = status_create(&cfg, NULL, 0);
	status_segment *r = status_open(&cfg, NULL, 0);
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_nonnull(r);

	/* queued before the manager runs: taken in submission order */
	int64_t a = status_submit_request(r, REQUEST_DETACH, 1, REQUEST_FLAG_GRACEFUL, NULL, 0);
	int64_t b = status_submit_request(r, REQUEST_ATTACH, 0, 0, NULL, 0);
	ck_assert_int_gt(a, 0);
	ck_assert_int_gt(b, a);
	status_request first;
	ck_assert_int_eq(status_requests_in_progress(r, &first), 2);
	ck_assert_int_eq(first.id, a);
	ck_assert_int_eq(first.flags, REQUEST_FLAG_GRACEFUL);

	manager_arg m = { .st = w };
	pthread_t t;
	pthread_create(&t, NULL, manager_thread, &m);

	int result = -1;
	char msg[128], detail[128];
	ck_assert_int_eq(status_wait_request(r, a, 5000, &result, msg, sizeof(msg), detail, sizeof(detail)), WAIT_DONE);
	ck_assert_int_eq(result, 1);
	ck_assert_str_eq(msg, "detach of node 1 done");
	ck_assert_str_eq(detail, "detail text");
	ck_assert_int_eq(status_wait_request(r, b, 5000, &result, msg, sizeof(msg), NULL, 0), WAIT_DONE);
	ck_assert_int_eq(result, 0);
	ck_assert_str_eq(msg, "attach of node 0 done");

	/* submitted while the manager sleeps: the futex wakes it */
	uint64_t t0 = now_ms();
	int64_t c = status_submit_request(r, REQUEST_PROMOTE, 1, REQUEST_FLAG_SWITCHOVER, NULL, 0);
	ck_assert_int_eq(status_wait_request(r, c, 5000, &result, msg, sizeof(msg), NULL, 0), WAIT_DONE);
	ck_assert_uint_lt(now_ms() - t0, 1000);
	pthread_join(t, NULL);
	ck_assert_int_eq(m.order[0], a);
	ck_assert_int_eq(m.order[1], b);
	ck_assert_int_eq(m.order[2], c);
	ck_assert_int_eq(status_requests_in_progress(r, NULL), 0);
	/* a completed and collected id is gone */
	ck_assert_int_eq(status_wait_request(r, a, 10, &result, NULL, 0, NULL, 0), WAIT_ERROR);

	status_close(r);
	status_close(w);
	config_free(&cfg);
}
END_TEST

START_TEST(test_request_timeouts)
{
	quiet_logs();
	pool_config cfg;
	make_cfg(&cfg, "tmo");
	status_segment *w = status_create(&cfg, NULL, 0);
	status_segment *r = status_open(&cfg, NULL, 0);
	ck_assert_ptr_nonnull(r);
	int result;

	/* nobody takes it: withdrawn, never runs */
	int64_t a = status_submit_request(r, REQUEST_RELOAD, 0, 0, NULL, 0);
	uint64_t t0 = now_ms();
	ck_assert_int_eq(status_wait_request(r, a, 200, &result, NULL, 0, NULL, 0), WAIT_TIMEOUT_WITHDRAWN);
	uint64_t took = now_ms() - t0;
	ck_assert_uint_ge(took, 190);
	ck_assert_uint_lt(took, 1500);
	status_request req;
	ck_assert(!status_next_request(w, &req));

	/* taken but not finished: the waiter leaves, the manager still completes */
	int64_t b = status_submit_request(r, REQUEST_STOP, -1, REQUEST_FLAG_STOP_FAST, NULL, 0);
	ck_assert(status_next_request(w, &req));
	ck_assert_int_eq(req.id, b);
	ck_assert_int_eq(req.type, REQUEST_STOP);
	ck_assert_int_eq(req.flags, REQUEST_FLAG_STOP_FAST);
	ck_assert_int_eq(status_wait_request(r, b, 100, &result, NULL, 0, NULL, 0), WAIT_TIMEOUT_RUNNING);
	ck_assert(status_complete_request(w, b, REQUEST_OK, "stopping", NULL));
	ck_assert_int_eq(status_requests_in_progress(r, NULL), 0);
	ck_assert(!status_complete_request(w, b, REQUEST_OK, NULL, NULL));   /* not running any more */

	/* the queue is bounded */
	int64_t ids[STATUS_REQUEST_SLOTS];
	for (int i = 0; i < STATUS_REQUEST_SLOTS; i++)
		ck_assert_int_gt(ids[i] = status_submit_request(r, REQUEST_ATTACH, 0, 0, NULL, 0), 0);
	char err[128] = "";
	ck_assert_int_eq(status_submit_request(r, REQUEST_ATTACH, 0, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "too many requests"));
	for (int i = 0; i < STATUS_REQUEST_SLOTS; i++)
		status_wait_request(r, ids[i], 0, &result, NULL, 0, NULL, 0);
	ck_assert_int_eq(status_requests_in_progress(r, NULL), 0);

	/* pgpoold gone: submitting says so */
	status_close(w);
	err[0] = '\0';
	ck_assert_int_eq(status_submit_request(r, REQUEST_ATTACH, 0, 0, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "pgpoold is not running");
	status_close(r);
	config_free(&cfg);
}
END_TEST

START_TEST(test_wait_notices_owner_death)
{
	quiet_logs();
	pool_config cfg;
	make_cfg(&cfg, "death");
	pid_t child = spawn_owner(&cfg, 'w');
	status_segment *r = status_open(&cfg, NULL, 0);
	ck_assert_ptr_nonnull(r);
	int64_t id = status_submit_request(r, REQUEST_DETACH, 1, 0, NULL, 0);
	ck_assert_int_gt(id, 0);
	kill(child, SIGKILL);
	reap(child);
	uint64_t t0 = now_ms();
	int result;
	ck_assert_int_eq(status_wait_request(r, id, 10000, &result, NULL, 0, NULL, 0), WAIT_OWNER_GONE);
	ck_assert_uint_lt(now_ms() - t0, 2000);
	status_close(r);
	/* clean up the dead child's segment */
	status_segment *w = status_create(&cfg, NULL, 0);
	ck_assert_ptr_nonnull(w);
	status_close(w);
	config_free(&cfg);
}
END_TEST

START_TEST(test_dead_lock_holder_does_not_wedge)
{
	quiet_logs();
	pool_config cfg;
	make_cfg(&cfg, "robust");
	status_segment *w = status_create(&cfg, NULL, 0);
	ck_assert_ptr_nonnull(w);

	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		status_segment *r = status_open(&cfg, NULL, 0);
		if (!r)
			_exit(2);
		/* take the mutex and die holding it */
		if (status_lock(r) != 0)
			_exit(3);
		char ok = 'y';
		if (write(pfd[1], &ok, 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(pfd[1]);
	char ok = 0;
	ck_assert_int_eq(read(pfd[0], &ok, 1), 1);
	close(pfd[0]);
	kill(pid, SIGKILL);
	reap(pid);

	/* the parent takes the lock (EOWNERDEAD recovered) well within the timeout */
	uint64_t t0 = now_ms();
	int64_t id = status_submit_request(w, REQUEST_RELOAD, 0, 0, NULL, 0);
	ck_assert_int_gt(id, 0);
	ck_assert_uint_lt(now_ms() - t0, 1000);
	status_request req;
	ck_assert(status_next_request(w, &req));
	ck_assert(status_complete_request(w, id, REQUEST_OK, "ok", NULL));
	int result = -1;
	ck_assert_int_eq(status_wait_request(w, id, 1000, &result, NULL, 0, NULL, 0), WAIT_DONE);
	/* and string writers still work after the repair */
	ck_assert(status_set_replication(w, 1, 5, "catchup", "async"));
	status_node_info ni;
	status_node_get(w, 1, &ni);
	ck_assert_str_eq(ni.replication_state, "catchup");
	status_close(w);
	config_free(&cfg);
}
END_TEST

START_TEST(test_live_lock_holder_times_out)
{
	quiet_logs();
	pool_config cfg;
	make_cfg(&cfg, "held");
	status_segment *w = status_create(&cfg, NULL, 0);
	ck_assert_ptr_nonnull(w);
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		status_segment *r = status_open(&cfg, NULL, 0);
		if (!r || status_lock(r) != 0)
			_exit(3);
		char ok = 'y';
		if (write(pfd[1], &ok, 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(pfd[1]);
	char ok = 0;
	ck_assert_int_eq(read(pfd[0], &ok, 1), 1);
	/* a live holder that never lets go (stopped pgpoold, say): callers get
	 * an error after the lock timeout instead of hanging */
	uint64_t t0 = now_ms();
	char err[128] = "";
	ck_assert_int_eq(status_submit_request(w, REQUEST_RELOAD, 0, 0, err, sizeof(err)), -1);
	uint64_t took = now_ms() - t0;
	ck_assert_uint_ge(took, STATUS_LOCK_TIMEOUT_MS - 100);
	ck_assert_uint_lt(took, STATUS_LOCK_TIMEOUT_MS + 2000);
	/* lock-free reads are unaffected */
	status_node_info ni;
	ck_assert(status_node_get(w, 0, &ni));
	kill(pid, SIGKILL);
	reap(pid);
	close(pfd[0]);
	status_close(w);
	config_free(&cfg);
}
END_TEST

/* ---- the status file ---- */

static char *temp_dir(void)
{
	char *dir = xstrdup("/tmp/pgpoold-ut-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
}

START_TEST(test_status_file_round_trip)
{
	char *dir = temp_dir();
	pool_config cfg;
	config_set_defaults(&cfg);
	free(cfg.logdir);
	cfg.logdir = xstrdup(dir);
	char *path = status_file_path(&cfg);
	ck_assert_ptr_nonnull(strstr(path, "/pgpool_status"));

	status_node_state in[3] = { NODE_STATUS_UP, NODE_STATUS_DOWN, NODE_STATUS_WAITING };
	status_node_state out[8];
	int n = -1;
	char err[256] = "";
	ck_assert_int_eq(status_file_read(path, out, 8, &n, err, sizeof(err)), STATUS_FILE_ABSENT);
	ck_assert(status_file_write(path, in, 3, err, sizeof(err)));
	size_t len;
	char *text = file_read_all(path, 1000, &len);
	ck_assert_str_eq(text, "up\ndown\nup\n");
	free(text);
	struct stat sb;
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);

	ck_assert_int_eq(status_file_read(path, out, 8, &n, err, sizeof(err)), STATUS_FILE_OK);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(out[0], NODE_STATUS_UP);
	ck_assert_int_eq(out[1], NODE_STATUS_DOWN);
	ck_assert_int_eq(out[2], NODE_STATUS_UP);

	/* Pgpool-II's own file, with an unused gap and trailing blank lines */
	write_text(path, "up\nunused\n down \n\n\n", 19);
	ck_assert_int_eq(status_file_read(path, out, 8, &n, err, sizeof(err)), STATUS_FILE_OK);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(out[1], NODE_STATUS_UNUSED);
	ck_assert_int_eq(out[2], NODE_STATUS_DOWN);

	ck_assert(status_file_discard(path, err, sizeof(err)));
	ck_assert(status_file_discard(path, err, sizeof(err)));   /* absent is fine */
	ck_assert_int_eq(status_file_read(path, out, 8, &n, err, sizeof(err)), STATUS_FILE_ABSENT);
	rmdir(dir);
	free(path);
	free(dir);
	config_free(&cfg);
}
END_TEST

START_TEST(test_status_file_bogus)
{
	char *dir = temp_dir();
	char path[300];
	snprintf(path, sizeof(path), "%s/pgpool_status", dir);
	status_node_state out[2];
	int n;
	char err[256];

	static const struct { const char *text; size_t len; const char *why; } cases[] = {
		{ "up\nsideways\n", 12, "line 2" },
		{ "", 0, "empty" },
		{ "\n\n", 2, "empty" },
		{ "up\ndown\nup\n", 11, "more than 2" },
		{ "u\0p\n", 4, "line 1" },
		{ "\x01\x00\x00\x00\x03\x00\x00\x00", 8, "line 1" },   /* an old binary file */
		{ "up\n\ndown\n", 9, "line 2" },                        /* a hole is not a status */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_text(path, cases[i].text, cases[i].len);
		err[0] = '\0';
		ck_assert_int_eq(status_file_read(path, out, 2, &n, err, sizeof(err)), STATUS_FILE_BOGUS);
		ck_assert_msg(strstr(err, cases[i].why) != NULL, "case %zu: %s", i, err);
	}
	/* a folder where the file should be */
	unlink(path);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	err[0] = '\0';
	ck_assert_int_eq(status_file_read(path, out, 2, &n, err, sizeof(err)), STATUS_FILE_BOGUS);
	rmdir(path);
	/* an unwritable place */
	status_node_state one = NODE_STATUS_UP;
	err[0] = '\0';
	ck_assert(!status_file_write("/nonexistent-dir/pgpool_status", &one, 1, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "could not create"));
	rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(test_status_file_from_segment)
{
	quiet_logs();
	pool_config cfg;
	make_cfg(&cfg, "sf");
	char *dir = temp_dir();
	status_segment *w = status_create(&cfg, NULL, 0);
	ck_assert_ptr_nonnull(w);
	status_set_node_status(w, 0, NODE_STATUS_UP, false);
	status_set_node_status(w, 1, NODE_STATUS_DOWN, false);
	char path[300];
	snprintf(path, sizeof(path), "%s/pgpool_status", dir);
	char err[256] = "";
	ck_assert(status_file_write_segment(path, w, err, sizeof(err)));
	size_t len;
	char *text = file_read_all(path, 1000, &len);
	ck_assert_str_eq(text, "up\ndown\n");
	free(text);
	unlink(path);
	rmdir(dir);
	free(dir);
	status_close(w);
	config_free(&cfg);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(status_node_state_name(NODE_STATUS_DOWN, true), "quarantine");
	ck_assert_str_eq(status_node_state_name(NODE_STATUS_DOWN, false), "down");
	ck_assert_str_eq(status_node_state_name(NODE_STATUS_WAITING, false), "waiting");
	ck_assert_str_eq(status_node_state_name((status_node_state) 9, false), "unknown");
	ck_assert_str_eq(status_node_role_name(NODE_ROLE_PRIMARY), "primary");
	ck_assert_str_eq(status_node_role_name((status_node_role) 7), "unknown");
	ck_assert_str_eq(status_pg_state_name(PG_STATUS_UNKNOWN), "unknown");
	ck_assert_str_eq(status_pg_role_name(PG_ROLE_STANDBY), "standby");
}
END_TEST

Suite *status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("segment");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_name_from_instance_and_port);
	tcase_add_test(tc, test_create_open_close);
	tcase_add_test(tc, test_health_check_counting);
	tcase_add_test(tc, test_session_slots);
	tcase_add_test(tc, test_live_owner_refused);
	tcase_add_test(tc, test_stale_segment_replaced);
	tcase_add_test(tc, test_garbage_object_replaced);
	tcase_add_test(tc, test_request_round_trip);
	tcase_add_test(tc, test_request_timeouts);
	tcase_add_test(tc, test_wait_notices_owner_death);
	tcase_add_test(tc, test_dead_lock_holder_does_not_wedge);
	tcase_add_test(tc, test_live_lock_holder_times_out);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);

	TCase *tf = tcase_create("status_file");
	tcase_add_test(tf, test_status_file_round_trip);
	tcase_add_test(tf, test_status_file_bogus);
	tcase_add_test(tf, test_status_file_from_segment);
	suite_add_tcase(s, tf);
	return s;
}
