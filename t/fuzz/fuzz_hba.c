/* libFuzzer target: pool_hba.conf parsing and matching
 * (libshared/pool_hba.c hba_parse + hba_check).
 *
 * Input: the file's text, optionally followed by a NUL and then a user name
 * and a database name separated by another NUL.  The text is parsed from
 * an allocation of exactly its size (it is not NUL-terminated there, as a
 * file read is not); when it parses, every rule set is matched against a
 * fixed set of clients (unix socket; IPv4 loopback with and without TLS;
 * IPv6 loopback; an IPv4-mapped IPv6 address; another IPv4 network) under
 * the users app/postgres and the databases appdb/postgres, and the input's
 * own user and database when given.  A match must name a line that
 * exists and a known method.
 *
 * Build and run: t/fuzz/run.sh 60 hba */
#include "pool_hba.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int count_lines(const uint8_t *p, size_t n)
{
	int lines = 1;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\n')
			lines++;
	return lines;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	const uint8_t *nul = memchr(data, '\0', size);
	size_t tlen = nul ? (size_t) (nul - data) : size;
	char *text = malloc(tlen ? tlen : 1);
	assert(text);
	memcpy(text, data, tlen);

	char err[1024];
	err[0] = '\0';
	hba_rules *rules = hba_parse(text, tlen, "pool_hba.conf", err, sizeof(err));
	assert(memchr(err, '\0', sizeof(err)) != NULL);
	if (!rules) {
		assert(err[0] != '\0');
		free(text);
		return 0;
	}
	int lines = count_lines(data, tlen);

	/* user and database from the input (NUL-terminated copies) */
	char *user = NULL, *db = NULL;
	if (nul) {
		size_t rest = size - tlen - 1;
		const uint8_t *u = nul + 1;
		const uint8_t *nul2 = memchr(u, '\0', rest);
		size_t ulen = nul2 ? (size_t) (nul2 - u) : rest;
		user = strndup((const char *) u, ulen);
		db = nul2 ? strndup((const char *) nul2 + 1, rest - ulen - 1) : strdup("appdb");
		assert(user && db);
	}

	struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(40000) };
	struct sockaddr_in v4b = { .sin_family = AF_INET, .sin_port = htons(40001) };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons(40002) };
	struct sockaddr_in6 v6m = { .sin6_family = AF_INET6, .sin6_port = htons(40003) };
	inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
	inet_pton(AF_INET, "10.1.2.3", &v4b.sin_addr);
	inet_pton(AF_INET6, "::1", &v6.sin6_addr);
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &v6m.sin6_addr);
	struct {
		bool local, ssl;
		const struct sockaddr *addr;
		socklen_t len;
	} where[] = {
		{ true, false, NULL, 0 },
		{ false, false, (const struct sockaddr *) &v4, sizeof(v4) },
		{ false, true, (const struct sockaddr *) &v4, sizeof(v4) },
		{ false, false, (const struct sockaddr *) &v6, sizeof(v6) },
		{ false, true, (const struct sockaddr *) &v6m, sizeof(v6m) },
		{ false, false, (const struct sockaddr *) &v4b, sizeof(v4b) },
	};
	const char *users[] = { "app", "postgres", user };
	const char *dbs[] = { "appdb", "postgres", db };
	int nnames = user ? 3 : 2;
	for (size_t w = 0; w < sizeof(where) / sizeof(where[0]); w++)
		for (int u = 0; u < nnames; u++)
			for (int d = 0; d < nnames; d++) {
				hba_client c = { .is_local = where[w].local, .is_ssl = where[w].ssl,
					.addr = where[w].addr, .addrlen = where[w].len,
					.user = users[u], .database = dbs[d] };
				hba_match m = hba_check(rules, &c);
				if (m.matched) {
					assert(m.lineno >= 1 && m.lineno <= lines);
					assert(hba_method_name(m.method) != NULL);
				}
			}
	hba_free(rules);
	free(user);
	free(db);
	free(text);
	return 0;
}
