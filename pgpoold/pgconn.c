/* libpq helper connections: see pgconn.h. */
#include "pgconn.h"
#include "pgpoold.h"
#include "authfiles.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static char *passwd_for(const char *user, const char *given)
{
	if (given && given[0])
		return strdup(given);
	authfiles *af = authfiles_get();
	char *pw = authfiles_plain_password(af, user);
	authfiles_put(af);
	return pw;
}

/* libpq prints notices to stderr by default (a shutting-down server's
 * WARNING, say): they go to our log, as one line, at debug level. */
static void quiet_notice(void *arg, const char *message)
{
	(void) arg;
	log_debug("backend notice on an internal connection: %.*s", (int) strcspn(message, "\n"), message);
}

PGconn *pgconn_open(int node, const char *user, const char *password, const char *dbname,
	int timeout_s, char *err, size_t errlen)
{
	const backend_config *b = &g.cfg->backends[node];
	char port[16], timeout[16];
	snprintf(port, sizeof(port), "%d", b->port);
	snprintf(timeout, sizeof(timeout), "%d", timeout_s > 0 ? timeout_s : 0);
	char *pw = passwd_for(user, password);
	const char *keys[] = { "host", "port", "user", "password", "dbname", "connect_timeout",
		"application_name", NULL };
	const char *vals[] = { b->hostname[0] ? b->hostname : "/tmp", port, user, pw ? pw : "",
		dbname, timeout, "pgpoold", NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 0);
	if (pw) {
		OPENSSL_cleanse(pw, strlen(pw));
		free(pw);
	}
	if (PQstatus(c) == CONNECTION_OK)
		PQsetNoticeProcessor(c, quiet_notice, NULL);
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "%s", PQerrorMessage(c));
		size_t n = strlen(err);
		while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
			err[--n] = '\0';
		PQfinish(c);
		return NULL;
	}
	return c;
}

int pgconn_in_recovery(PGconn *c)
{
	PGresult *r = PQexec(c, "SELECT pg_catalog.pg_is_in_recovery()");
	int rc = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		rc = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return rc;
}

int pgconn_node_in_recovery(int node)
{
	char err[256];
	const pool_config *cfg = g.cfg;
	int timeout = cfg->connect_timeout > 0 ? (cfg->connect_timeout + 999) / 1000 : 10;
	PGconn *c = pgconn_open(node, cfg->sr_check_user, cfg->sr_check_password, cfg->sr_check_database,
		timeout, err, sizeof(err));
	if (!c)
		return -1;
	int rc = pgconn_in_recovery(c);
	PQfinish(c);
	return rc;
}
