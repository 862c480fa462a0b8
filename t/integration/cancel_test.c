/*
 * cancel_test.c - PQcancel through the proxy.
 *
 *   cancel_test CONNINFO
 *
 * Sends "SELECT pg_sleep(30)", waits one second, cancels it with
 * PQgetCancel/PQcancel (a CancelRequest on a new connection carrying the
 * BackendKeyData the proxy gave us), and checks that the query ends with
 * SQLSTATE 57014 within 10 seconds and that the connection still works
 * afterwards.  Exit 0 on success, 1 with a message on stderr otherwise.
 * Built by t/integration/run.sh with: cc cancel_test.c $(pkg-config --cflags --libs libpq)
 */
#define _POSIX_C_SOURCE 200809L
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(PGconn *conn, const char *what)
{
	fprintf(stderr, "cancel_test: %s: %s\n", what, conn ? PQerrorMessage(conn) : "");
	if (conn)
		PQfinish(conn);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: cancel_test CONNINFO\n");
		return 2;
	}
	PGconn *conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK)
		return fail(conn, "connect");
	if (PQbackendPID(conn) == 0)
		return fail(conn, "no BackendKeyData (PQbackendPID is 0)");

	double t0 = now();
	if (!PQsendQuery(conn, "SELECT pg_sleep(30)"))
		return fail(conn, "PQsendQuery");
	sleep(1);

	PGcancel *cancel = PQgetCancel(conn);
	if (!cancel)
		return fail(conn, "PQgetCancel");
	char errbuf[256] = "";
	if (!PQcancel(cancel, errbuf, sizeof errbuf)) {
		fprintf(stderr, "cancel_test: PQcancel: %s\n", errbuf);
		PQfreeCancel(cancel);
		PQfinish(conn);
		return 1;
	}
	PQfreeCancel(cancel);

	/* wait for the result, at most 10 s after the cancel */
	int sock = PQsocket(conn);
	PGresult *res;
	const char *state = NULL;
	int got_error = 0;
	for (;;) {
		while (PQisBusy(conn)) {
			if (now() - t0 > 11.0)
				return fail(conn, "query still running 10 s after PQcancel");
			fd_set rfds;
			FD_ZERO(&rfds);
			FD_SET(sock, &rfds);
			struct timeval tv = { 0, 200000 };
			if (select(sock + 1, &rfds, NULL, NULL, &tv) < 0)
				return fail(conn, "select");
			if (!PQconsumeInput(conn))
				return fail(conn, "PQconsumeInput");
		}
		res = PQgetResult(conn);
		if (!res)
			break;
		if (PQresultStatus(res) == PGRES_FATAL_ERROR) {
			const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			state = s ? strdup(s) : "?";
			got_error = 1;
			printf("cancelled after %.1fs: %s %s", now() - t0, state,
			       PQresultErrorMessage(res));
		}
		PQclear(res);
	}
	if (!got_error)
		return fail(conn, "pg_sleep(30) was not cancelled");
	if (strcmp(state, "57014") != 0) {
		fprintf(stderr, "cancel_test: expected SQLSTATE 57014, got %s\n", state);
		PQfinish(conn);
		return 1;
	}

	res = PQexec(conn, "SELECT 'usable'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || strcmp(PQgetvalue(res, 0, 0), "usable") != 0) {
		PQclear(res);
		return fail(conn, "connection unusable after the cancel");
	}
	PQclear(res);
	PQfinish(conn);
	printf("ok\n");
	return 0;
}
