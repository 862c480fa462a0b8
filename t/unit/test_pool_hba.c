/* pool_hba.c: pg_hba.conf syntax, matching, and errors with line numbers. */
#include "suites.h"
#include "pool_hba.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* A client connecting over TCP from addr (IPv4 or IPv6 text). */
typedef struct test_client {
	struct sockaddr_storage ss;
	hba_client c;
} test_client;

static void tcp_client(test_client *t, const char *addr, const char *user, const char *db, bool ssl)
{
	memset(t, 0, sizeof(*t));
	struct sockaddr_in *sin = (struct sockaddr_in *) &t->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &t->ss;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		t->c.addrlen = sizeof(*sin);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
		t->c.addrlen = sizeof(*sin6);
	}
	t->c.addr = (const struct sockaddr *) &t->ss;
	t->c.user = user;
	t->c.database = db;
	t->c.is_ssl = ssl;
}

static hba_client local_client(const char *user, const char *db)
{
	hba_client c = { .is_local = true, .user = user, .database = db };
	return c;
}

static hba_rules *parse(const char *text)
{
	char err[512];
	hba_rules *r = hba_parse(text, strlen(text), "pool_hba.conf", err, sizeof(err));
	ck_assert_msg(r != NULL, "parse failed: %s", err);
	ck_assert_str_eq(err, "");
	return r;
}

/* Line number of the first matching rule, 0 for none. */
static int match_line(const hba_rules *r, const hba_client *c)
{
	hba_match m = hba_check(r, c);
	return m.matched ? m.lineno : 0;
}

static int tcp_match(const hba_rules *r, const char *addr, const char *user, const char *db, bool ssl)
{
	test_client t;
	tcp_client(&t, addr, user, db, ssl);
	return match_line(r, &t.c);
}

/* The error text of a file that must not parse. */
static const char *parse_error(const char *text)
{
	static char err[1024];
	hba_rules *r = hba_parse(text, strlen(text), "hba.conf", err, sizeof(err));
	ck_assert_msg(r == NULL, "accepted: %s", text);
	return err;
}

#define ck_assert_parse_error(text, expected) do { \
	const char *got_ = parse_error(text); \
	ck_assert_msg(strstr(got_, (expected)) != NULL, "expected \"%s\" in \"%s\"", (expected), got_); \
} while (0)

/* ---------------------------------------------------------------- matching */

START_TEST(test_conn_types)
{
	hba_rules *r = parse(
		"local     all all trust\n"
		"hostssl   all all 0.0.0.0/0 scram-sha-256\n"
		"hostnossl all all 0.0.0.0/0 md5\n");
	hba_client lc = local_client("u", "d");
	hba_match m = hba_check(r, &lc);
	ck_assert(m.matched);
	ck_assert_int_eq(m.method, HBA_TRUST);
	ck_assert_int_eq(m.lineno, 1);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "u", "d", true), 2);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "u", "d", false), 3);
	test_client t;
	tcp_client(&t, "192.0.2.1", "u", "d", true);
	ck_assert_int_eq(hba_check(r, &t.c).method, HBA_SCRAM);
	hba_free(r);

	/* host matches with and without SSL, never a unix socket */
	r = parse("host all all 0.0.0.0/0 password\n");
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "u", "d", true), 1);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "u", "d", false), 1);
	ck_assert_int_eq(match_line(r, &lc), 0);
	ck_assert_int_eq(hba_check(r, &lc).method, HBA_REJECT);
	hba_free(r);
}
END_TEST

START_TEST(test_database_and_user_lists)
{
	hba_rules *r = parse(
		"host booking_system_auth,booking_system_event app,\"App User\" 0.0.0.0/0 md5\n"
		"host sameuser all 0.0.0.0/0 trust\n"
		"host replication all 0.0.0.0/0 trust\n"
		"host all admin,ops 0.0.0.0/0 scram-sha-256\n");
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "app", "booking_system_auth", false), 1);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "App User", "booking_system_event", false), 1);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "app", "booking_system_ticket", false), 0);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "APP", "booking_system_auth", false), 0);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "bob", "bob", false), 2);
	/* "replication" never matches a normal connection, not even to a database of that name */
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "bob", "replication", false), 0);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "ops", "replication", false), 4);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "admin", "x", false), 4);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "adm", "x", false), 0);
	hba_free(r);
}
END_TEST

START_TEST(test_quoted_keywords_are_names)
{
	hba_rules *r = parse(
		"host \"all\" \"all\" 0.0.0.0/0 md5\n"
		"host \"sameuser\",\"replication\" all 0.0.0.0/0 trust\n"
		"host \"with \"\"quote\"\" and, comma\" all 0.0.0.0/0 password\n"
		"host \"hash#name\" all 0.0.0.0/0 reject # trailing comment\n");
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "all", "all", false), 1);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "bob", "all", false), 0);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "all", "db", false), 0);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "sameuser", "sameuser", false), 2);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "x", "sameuser", false), 2);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "x", "replication", false), 2);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "bob", "bob", false), 0);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "x", "with \"quote\" and, comma", false), 3);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "x", "hash#name", false), 4);
	hba_free(r);
}
END_TEST

START_TEST(test_cidr_v4_v6)
{
	hba_rules *r = parse(
		"host all all 10.1.0.0/16 md5\n"
		"host all all 192.0.2.7/32 trust\n"
		"host all all 2001:db8::/32 scram-sha-256\n"
		"host all all ::1/128 trust\n"
		"host all all 0.0.0.0/0 reject\n");
	ck_assert_int_eq(tcp_match(r, "10.1.2.3", "u", "d", false), 1);
	ck_assert_int_eq(tcp_match(r, "10.1.255.255", "u", "d", false), 1);
	ck_assert_int_eq(tcp_match(r, "10.2.0.1", "u", "d", false), 5);
	ck_assert_int_eq(tcp_match(r, "192.0.2.7", "u", "d", false), 2);
	ck_assert_int_eq(tcp_match(r, "192.0.2.8", "u", "d", false), 5);
	ck_assert_int_eq(tcp_match(r, "2001:db8:1::5", "u", "d", false), 3);
	ck_assert_int_eq(tcp_match(r, "2001:db9::5", "u", "d", false), 0);
	ck_assert_int_eq(tcp_match(r, "::1", "u", "d", false), 4);
	hba_free(r);

	/* odd prefix lengths, and address bits beyond the prefix are ignored */
	r = parse("host all all 10.1.2.3/23 md5\nhost all all fe80::1234/10 md5\n");
	ck_assert_int_eq(tcp_match(r, "10.1.3.200", "u", "d", false), 1);
	ck_assert_int_eq(tcp_match(r, "10.1.4.1", "u", "d", false), 0);
	ck_assert_int_eq(tcp_match(r, "febf::1", "u", "d", false), 2);
	ck_assert_int_eq(tcp_match(r, "fec0::1", "u", "d", false), 0);
	hba_free(r);
}
END_TEST

START_TEST(test_mask_column)
{
	hba_rules *r = parse(
		"host all all 172.16.0.0 255.240.0.0 md5\n"
		"host all all 2001:db8:: ffff:ffff:: trust\n");
	ck_assert_int_eq(tcp_match(r, "172.31.255.1", "u", "d", false), 1);
	ck_assert_int_eq(tcp_match(r, "172.32.0.1", "u", "d", false), 0);
	ck_assert_int_eq(tcp_match(r, "2001:db8:ffff::1", "u", "d", false), 2);
	ck_assert_int_eq(tcp_match(r, "2001:db9::1", "u", "d", false), 0);
	ck_assert_int_eq(hba_check(r, &(hba_client) { 0 }).matched, false);
	hba_free(r);
}
END_TEST

START_TEST(test_ipv4_mapped_clients)
{
	hba_rules *r = parse(
		"host all all 127.0.0.1/32 trust\n"
		"host all all 10.0.0.0 255.0.0.0 md5\n"
		"host all all ::/0 reject\n");
	/* a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d */
	ck_assert_int_eq(tcp_match(r, "::ffff:127.0.0.1", "u", "d", false), 1);
	ck_assert_int_eq(tcp_match(r, "::ffff:10.9.8.7", "u", "d", false), 2);
	/* an IPv4 client never matches an IPv6 rule */
	ck_assert_int_eq(tcp_match(r, "::ffff:192.0.2.1", "u", "d", false), 0);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "u", "d", false), 0);
	ck_assert_int_eq(tcp_match(r, "2001:db8::1", "u", "d", false), 3);
	hba_free(r);
}
END_TEST

/* Whether an IPv4 address is on the network of one of this host's interfaces. */
static bool on_local_network(const char *text)
{
	struct in_addr addr;
	struct ifaddrs *list;
	ck_assert_int_eq(inet_pton(AF_INET, text, &addr), 1);
	ck_assert_int_eq(getifaddrs(&list), 0);
	bool local = false;
	for (struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET || !ifa->ifa_netmask)
			continue;
		uint32_t ifaddr = ((struct sockaddr_in *) ifa->ifa_addr)->sin_addr.s_addr;
		uint32_t mask = ((struct sockaddr_in *) ifa->ifa_netmask)->sin_addr.s_addr;
		if ((ifaddr & mask) == (addr.s_addr & mask))
			local = true;
	}
	freeifaddrs(list);
	return local;
}

/* A documentation address that is not on any of our networks (test hosts
 * sometimes use the TEST-NET ranges themselves). */
static const char *remote_address(void)
{
	static const char *const candidates[] = { "203.0.113.77", "198.51.100.77", "192.0.2.200", "100.64.99.77" };
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (!on_local_network(candidates[i]))
			return candidates[i];
	ck_abort_msg("every candidate address is on a local network");
	return NULL;
}

START_TEST(test_address_keywords)
{
	const char *remote = remote_address();
	hba_rules *r = parse(
		"host db1 all samehost trust\n"
		"host db2 all samenet md5\n"
		"host db3 all all password\n");
	/* 127.0.0.1 is on the loopback interface, 127.0.0.2 is on its network */
	ck_assert_int_eq(tcp_match(r, "127.0.0.1", "u", "db1", false), 1);
	ck_assert_int_eq(tcp_match(r, "127.0.0.2", "u", "db1", false), 0);
	ck_assert_int_eq(tcp_match(r, "127.0.0.2", "u", "db2", false), 2);
	ck_assert_int_eq(tcp_match(r, "::ffff:127.0.0.1", "u", "db1", false), 1);
	ck_assert_int_eq(tcp_match(r, remote, "u", "db1", false), 0);
	ck_assert_int_eq(tcp_match(r, remote, "u", "db2", false), 0);
	ck_assert_int_eq(tcp_match(r, remote, "u", "db3", false), 3);
	ck_assert_int_eq(tcp_match(r, "2001:db8::1", "u", "db3", false), 3);
	hba_free(r);
}
END_TEST

START_TEST(test_first_match_wins)
{
	hba_rules *r = parse(
		"host all bob 0.0.0.0/0 reject\n"
		"host all all 0.0.0.0/0 trust\n"
		"host all bob 0.0.0.0/0 md5\n");
	test_client t;
	tcp_client(&t, "192.0.2.1", "bob", "d", false);
	hba_match m = hba_check(r, &t.c);
	ck_assert(m.matched);
	ck_assert_int_eq(m.lineno, 1);
	ck_assert_int_eq(m.method, HBA_REJECT);
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "alice", "d", false), 2);
	hba_free(r);
}
END_TEST

START_TEST(test_no_match)
{
	hba_rules *r = parse("# only comments\n\n   \t # and blanks\n");
	test_client t;
	tcp_client(&t, "192.0.2.1", "u", "d", false);
	hba_match m = hba_check(r, &t.c);
	ck_assert(!m.matched);
	ck_assert_int_eq(m.method, HBA_REJECT);
	ck_assert_int_eq(m.lineno, 0);
	hba_free(r);

	r = parse("local all all trust\nhost d u 10.0.0.0/8 md5\n");
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "u", "d", false), 0);
	ck_assert_int_eq(tcp_match(r, "10.0.0.1", "u", "other", false), 0);
	ck_assert_int_eq(tcp_match(r, "10.0.0.1", "other", "d", false), 0);
	/* a TCP client without an address matches only address-less rules */
	hba_client no_addr = { .user = "u", .database = "d" };
	ck_assert(!hba_check(r, &no_addr).matched);
	ck_assert(!hba_check(NULL, &no_addr).matched);
	hba_free(r);
}
END_TEST

START_TEST(test_methods_and_options)
{
	hba_rules *r = parse(
		"host d1 all 0.0.0.0/0 trust\n"
		"host d2 all 0.0.0.0/0 reject\n"
		"host d3 all 0.0.0.0/0 password\n"
		"host d4 all 0.0.0.0/0 md5 backend_use_passwd=1\n"
		"host d5 all 0.0.0.0/0 scram-sha-256\n"
		"hostssl d6 all 0.0.0.0/0 cert clientcert=verify-full  opt=a=b\n"
		"host\td7\tall\t0.0.0.0/0\tmd5\r\n");
	static const hba_method expected[] = { HBA_TRUST, HBA_REJECT, HBA_PASSWORD, HBA_MD5, HBA_SCRAM, HBA_CERT, HBA_MD5 };
	static const char *const names[] = { "trust", "reject", "password", "md5", "scram-sha-256", "cert", "md5" };
	for (int i = 0; i < 7; i++) {
		char db[4] = { 'd', (char) ('1' + i), 0 };
		test_client t;
		tcp_client(&t, "192.0.2.1", "u", db, true);
		hba_match m = hba_check(r, &t.c);
		ck_assert(m.matched);
		ck_assert_int_eq(m.method, expected[i]);
		ck_assert_str_eq(hba_method_name(m.method), names[i]);
	}
	hba_free(r);
}
END_TEST

START_TEST(test_not_nul_terminated_and_load)
{
	/* the parser reads only len bytes */
	static const char text[] = "host all all 10.0.0.0/8 md5\nGARBAGE";
	char err[256];
	hba_rules *r = hba_parse(text, strlen("host all all 10.0.0.0/8 md5\n"), "f", err, sizeof(err));
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(tcp_match(r, "10.0.0.1", "u", "d", false), 1);
	hba_free(r);

	r = hba_load(TEST_SRCDIR "/data/pool_hba.conf", err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	hba_client lc = local_client("postgres", "booking_system_auth");
	ck_assert_int_eq(match_line(r, &lc), 4);
	lc = local_client("app", "booking_system_auth");
	ck_assert_int_eq(match_line(r, &lc), 0);
	ck_assert_int_eq(tcp_match(r, "10.0.0.5", "app", "booking_system_event", false), 5);
	ck_assert_int_eq(tcp_match(r, "10.0.0.5", "app", "booking_system_ticket", true), 6);
	ck_assert_int_eq(tcp_match(r, "10.0.0.5", "app", "booking_system_ticket", false), 8);
	ck_assert_int_eq(tcp_match(r, "::1", "x", "y", false), 7);
	hba_free(r);

	ck_assert_ptr_null(hba_load(TEST_SRCDIR "/data/no_such_hba.conf", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "no_such_hba.conf"));
}
END_TEST

/* ---------------------------------------------------------------- errors */

START_TEST(test_error_line_numbers)
{
	ck_assert_parse_error("host all all 0.0.0.0/0 md5\nhots all all 0.0.0.0/0 md5\n",
		"hba.conf:2: invalid connection type \"hots\"");
	ck_assert_parse_error("# c\n\nhost all all 0.0.0.0/0 kerberos\n",
		"hba.conf:3: invalid authentication method \"kerberos\"");
	ck_assert_parse_error("host all all 0.0.0.0/0 ident\n",
		"hba.conf:1: authentication method \"ident\" is not supported");
	ck_assert_parse_error("local all all\n", "hba.conf:1: end-of-line before authentication method");
	ck_assert_parse_error("local all\n", "hba.conf:1: end-of-line before role specification");
	ck_assert_parse_error("local\n", "hba.conf:1: end-of-line before database specification");
	ck_assert_parse_error("host all all\n", "hba.conf:1: end-of-line before IP address specification");
	ck_assert_parse_error("host all all 0.0.0.0/0\n", "hba.conf:1: end-of-line before authentication method");
	ck_assert_parse_error("host all all 0.0.0.0/0 md5,trust\n",
		"hba.conf:1: multiple values specified for authentication method");
	ck_assert_parse_error("host,local all all 0.0.0.0/0 md5\n",
		"hba.conf:1: multiple values specified for connection type");
	ck_assert_parse_error("host all all 10.0.0.0/8,::1/128 md5\n",
		"hba.conf:1: multiple values specified for IP address specification");
}
END_TEST

START_TEST(test_address_errors)
{
	ck_assert_parse_error("host all all db.example.com md5\n",
		"hba.conf:1: host names are not supported: \"db.example.com\"");
	ck_assert_parse_error("host all all .example.com md5\n", "hba.conf:1: host names are not supported");
	ck_assert_parse_error("host all all \"all\" md5\n", "hba.conf:1: host names are not supported: \"all\"");
	ck_assert_parse_error("host all all 10.0.0.300/8 md5\n", "hba.conf:1: invalid IP address \"10.0.0.300/8\"");
	ck_assert_parse_error("host all all 10.0.0.0/33 md5\n", "hba.conf:1: invalid CIDR mask in address \"10.0.0.0/33\"");
	ck_assert_parse_error("host all all 10.0.0.0/ md5\n", "hba.conf:1: invalid CIDR mask");
	ck_assert_parse_error("host all all 10.0.0.0/x md5\n", "hba.conf:1: invalid CIDR mask");
	ck_assert_parse_error("host all all ::1/129 md5\n", "hba.conf:1: invalid CIDR mask");
	ck_assert_parse_error("host all all 10.0.0.0 md5\n", "hba.conf:1: invalid IP mask \"md5\"");
	ck_assert_parse_error("host all all 10.0.0.0\n", "hba.conf:1: end-of-line before netmask");
	ck_assert_parse_error("host all all 10.0.0.0 ffff:: md5\n", "hba.conf:1: IP address and mask do not match");
	ck_assert_parse_error("host all all 10.0.0.0 255.0.0.0\n", "hba.conf:1: end-of-line before authentication method");
}
END_TEST

START_TEST(test_other_errors)
{
	ck_assert_parse_error("host all all 0.0.0.0/0 cert\n",
		"hba.conf:1: cert authentication is only supported on hostssl connections");
	ck_assert_parse_error("local all all cert\n", "hba.conf:1: cert authentication is only supported");
	ck_assert_parse_error("host all all 0.0.0.0/0 md5 bogus\n",
		"hba.conf:1: authentication option not in name=value format: bogus");
	ck_assert_parse_error("host all all 0.0.0.0/0 md5 =x\n", "hba.conf:1: authentication option not in name=value format");
	ck_assert_parse_error("host samerole all 0.0.0.0/0 md5\n", "hba.conf:1: \"samerole\" is not supported");
	ck_assert_parse_error("host all +admins 0.0.0.0/0 md5\n", "hba.conf:1: group membership \"+admins\" is not supported");
	ck_assert_parse_error("host @dbs all 0.0.0.0/0 md5\n", "hba.conf:1: file inclusion \"@dbs\" is not supported");
	ck_assert_parse_error("host \"unterminated all 0.0.0.0/0 md5\n", "hba.conf:1: unterminated quoted string");
	ck_assert_parse_error("hostgssenc all all 0.0.0.0/0 md5\n", "hba.conf:1: connection type \"hostgssenc\" is not supported");

	/* quoted, those are plain names */
	hba_rules *r = parse("host \"samerole\",\"@dbs\" \"+admins\" 0.0.0.0/0 md5\n");
	ck_assert_int_eq(tcp_match(r, "192.0.2.1", "+admins", "@dbs", false), 1);
	hba_free(r);

	static const char with_nul[] = "host all all 0.0.0.0/0 md5\nhost all\0all 0.0.0.0/0 md5\n";
	char err[256];
	ck_assert_ptr_null(hba_parse(with_nul, sizeof(with_nul) - 1, "x.conf", err, sizeof(err)));
	ck_assert_str_eq(err, "x.conf:2: line contains a NUL byte");
}
END_TEST

START_TEST(test_all_errors_reported)
{
	char err[1024];
	const char *text =
		"host all all 0.0.0.0/0 md5\n"
		"host all all 0.0.0.0/0 nope\n"
		"local all all trust\n"
		"host all all example.org md5\n"
		"hosts all all 0.0.0.0/0 md5\n";
	ck_assert_ptr_null(hba_parse(text, strlen(text), "pool_hba.conf", err, sizeof(err)));
	ck_assert_str_eq(err,
		"pool_hba.conf:2: invalid authentication method \"nope\"\n"
		"pool_hba.conf:4: host names are not supported: \"example.org\" (use an IP address, CIDR range, all, samehost or samenet)\n"
		"pool_hba.conf:5: invalid connection type \"hosts\"");

	/* truncated safely */
	char small[20];
	ck_assert_ptr_null(hba_parse(text, strlen(text), "pool_hba.conf", small, sizeof(small)));
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert(strncmp(small, "pool_hba.conf:2: in", sizeof(small) - 1) == 0);
	ck_assert_ptr_null(hba_parse(text, strlen(text), "pool_hba.conf", NULL, 0));
}
END_TEST

Suite *pool_hba_suite(void)
{
	Suite *s = suite_create("pool_hba");
	TCase *tc = tcase_create("match");
	tcase_add_test(tc, test_conn_types);
	tcase_add_test(tc, test_database_and_user_lists);
	tcase_add_test(tc, test_quoted_keywords_are_names);
	tcase_add_test(tc, test_cidr_v4_v6);
	tcase_add_test(tc, test_mask_column);
	tcase_add_test(tc, test_ipv4_mapped_clients);
	tcase_add_test(tc, test_address_keywords);
	tcase_add_test(tc, test_first_match_wins);
	tcase_add_test(tc, test_no_match);
	tcase_add_test(tc, test_methods_and_options);
	tcase_add_test(tc, test_not_nul_terminated_and_load);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_error_line_numbers);
	tcase_add_test(tc, test_address_errors);
	tcase_add_test(tc, test_other_errors);
	tcase_add_test(tc, test_all_errors_reported);
	suite_add_tcase(s, tc);
	return s;
}
