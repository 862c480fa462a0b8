/* segreader: a reader of pgpoold's status segment for the integration tests
 * (what pcpd does, reduced to what the tests need).  Built by the test that
 * uses it, against the build's libshared.
 *
 *   segreader -f CONFIG info
 *       open the segment of CONFIG's instance and print
 *       "owner_pid=N alive=0|1 nodes=N primary=N" and one
 *       "node=N status=S role=R" line per node.  Exit 1 if there is none.
 *   segreader -f CONFIG lock
 *       take and release the segment mutex (robust: recovers from an owner
 *       that died holding it); prints "lock=0 ms=N" (or the errno value).
 *   segreader -f CONFIG watch SECONDS
 *       keep one mapping for SECONDS: every 100 ms remap if pgpoold was
 *       replaced (status_reattach), read the owner and node 0, take and
 *       release the mutex; print one line per change of owner / liveness
 *       and at the end "polls=N max_lock_ms=N lock_failures=N
 *       owners=PID,PID,...".
 */
#include "config.h"
#include "status.h"
#include "status_layout.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int timed_lock(status_segment *st, long long *ms)
{
	long long t0 = mono_ms();
	int rc = status_lock(st);
	*ms = mono_ms() - t0;
	if (rc == 0)
		status_unlock(st);
	return rc;
}

static int cmd_info(status_segment *st)
{
	int n = status_num_nodes(st);
	printf("owner_pid=%ld alive=%d nodes=%d primary=%d\n", (long) status_owner_pid(st),
		status_owner_alive(st) ? 1 : 0, n, status_primary_node(st));
	for (int i = 0; i < n; i++) {
		status_node_info ni;
		if (!status_node_get(st, i, &ni))
			continue;
		printf("node=%d status=%s role=%s\n", i, status_node_state_name(ni.status, ni.quarantine),
			status_node_role_name(ni.role));
	}
	return 0;
}

static int cmd_watch(status_segment *st, int seconds)
{
	long long end = mono_ms() + (long long) seconds * 1000, max_ms = 0;
	long polls = 0, failures = 0;
	char owners[512] = "";
	pid_t last_pid = -1;
	int last_alive = -1;
	while (mono_ms() < end) {
		status_reattach(st);
		pid_t pid = status_owner_pid(st);
		int alive = status_owner_alive(st) ? 1 : 0;
		status_node_info ni;
		(void) status_node_get(st, 0, &ni);
		long long ms;
		if (timed_lock(st, &ms) != 0)
			failures++;
		if (ms > max_ms)
			max_ms = ms;
		if (pid != last_pid || alive != last_alive) {
			printf("owner_pid=%ld alive=%d node0=%s lock_ms=%lld\n", (long) pid, alive,
				status_node_state_name(ni.status, ni.quarantine), ms);
			fflush(stdout);
			if (pid != last_pid) {
				size_t l = strlen(owners);
				snprintf(owners + l, sizeof(owners) - l, "%s%ld", l ? "," : "", (long) pid);
			}
			last_pid = pid;
			last_alive = alive;
		}
		polls++;
		usleep(100000);
	}
	printf("polls=%ld max_lock_ms=%lld lock_failures=%ld owners=%s\n", polls, max_ms, failures, owners);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[1], "-f") != 0) {
		fprintf(stderr, "usage: segreader -f CONFIG info|lock|watch SECONDS\n");
		return 2;
	}
	pool_config cfg;
	config_errors errs = { 0 };
	if (config_load(argv[2], &cfg, &errs) > 0) {
		fprintf(stderr, "segreader: %s has errors\n", argv[2]);
		config_errors_free(&errs);
		config_free(&cfg);
		return 2;
	}
	config_errors_free(&errs);
	char err[256];
	status_segment *st = status_open(&cfg, err, sizeof(err));
	if (!st) {
		printf("no segment: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	int rc = 0;
	if (strcmp(argv[3], "info") == 0)
		rc = cmd_info(st);
	else if (strcmp(argv[3], "lock") == 0) {
		long long ms;
		int lr = timed_lock(st, &ms);
		printf("lock=%d ms=%lld\n", lr, ms);
		rc = lr == 0 ? 0 : 1;
	} else if (strcmp(argv[3], "watch") == 0 && argc > 4)
		rc = cmd_watch(st, atoi(argv[4]));
	else {
		fprintf(stderr, "segreader: unknown command %s\n", argv[3]);
		rc = 2;
	}
	status_close(st);
	config_free(&cfg);
	return rc;
}
