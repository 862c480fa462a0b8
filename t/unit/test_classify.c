/* Statement classifier and shape lexer: every class and flag with real
 * statements, the shape rules, the cache, and bounded input handling. */
#include "suites.h"
/* by path: -I pgpoold would let pgpoold/limits.h shadow <limits.h> */
#include "../../pgpoold/classify.h"
#include "../../pgpoold/sqlshape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

static classifier *new_classifier(const char *wfl, const char *rofl, const char *pat)
{
	char err[256] = "";
	classifier *c = classifier_new(wfl, rofl, pat, err, sizeof(err));
	ck_assert_msg(c != NULL, "classifier_new: %s", err);
	return c;
}

static const stmt_class *cls_of(classifier *c, const char *sql)
{
	return classify(c, sql, strlen(sql));
}

/* The shape of sql as a NUL-terminated string (static buffer). */
static const char *shape_of(const char *sql, sql_shape *sh)
{
	static char out[1024];
	sql_shape_build(sql, strlen(sql), out, sizeof(out) - 1, sh);
	out[sh->len] = '\0';
	return out;
}

static const char *shape_str(const char *sql)
{
	sql_shape sh;
	const char *s = shape_of(sql, &sh);
	ck_assert_int_eq(sh.status, SQL_SHAPE_OK);
	return s;
}

static int relation_index(const stmt_class *r, const char *name)
{
	for (unsigned i = 0; i < r->nrelations; i++)
		if (strcmp(r->relations[i], name) == 0)
			return (int) i;
	return -1;
}

/* ---------------------------------------------------------------- the table */

typedef struct case_row {
	const char *sql;
	stmt_dest dest;
	uint32_t flags;      /* all of these must be set */
	tx_op tx;
	ps_op ps;
	stmt_stat stat;      /* STAT_NONE here = not checked */
} case_row;

#define R(sql, dest, flags) { sql, dest, flags, TX_NONE, PS_NONE, STAT_NONE }
#define T(sql, dest, flags, tx) { sql, dest, flags, tx, PS_NONE, STAT_NONE }
#define P(sql, dest, flags, ps) { sql, dest, flags, TX_NONE, ps, STAT_NONE }
#define S(sql, dest, flags, stat) { sql, dest, flags, TX_NONE, PS_NONE, stat }

static const case_row rows[] = {
	/* pgbench's statements */
	S("SELECT abalance FROM pgbench_accounts WHERE aid = 48213;", CLASS_READ, 0, STAT_SELECT),
	S("UPDATE pgbench_accounts SET abalance = abalance + -4279 WHERE aid = 48213;", CLASS_WRITE, 0, STAT_UPDATE),
	S("UPDATE pgbench_tellers SET tbalance = tbalance + -4279 WHERE tid = 7;", CLASS_WRITE, 0, STAT_UPDATE),
	S("UPDATE pgbench_branches SET bbalance = bbalance + -4279 WHERE bid = 1;", CLASS_WRITE, 0, STAT_UPDATE),
	S("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 48213, -4279, CURRENT_TIMESTAMP);",
	  CLASS_WRITE, 0, STAT_INSERT),
	S("DELETE FROM t WHERE a = 1", CLASS_WRITE, 0, STAT_DELETE),
	S("MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE", CLASS_WRITE, 0, STAT_DDL),
	/* transaction control */
	T("BEGIN;", CLASS_TX, SF_TX_BEGIN, TX_BEGIN),
	T("END;", CLASS_TX, SF_TX_END, TX_COMMIT),
	T("BEGIN READ ONLY", CLASS_TX, SF_TX_BEGIN | SF_TX_READ_ONLY, TX_BEGIN),
	T("START TRANSACTION READ ONLY", CLASS_TX, SF_TX_BEGIN | SF_TX_READ_ONLY, TX_BEGIN),
	T("START TRANSACTION ISOLATION LEVEL SERIALIZABLE", CLASS_TX, SF_TX_BEGIN | SF_TX_SERIALIZABLE, TX_BEGIN),
	T("BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE", CLASS_TX,
	  SF_TX_BEGIN | SF_TX_SERIALIZABLE | SF_TX_READ_ONLY, TX_BEGIN),
	T("BEGIN TRANSACTION READ WRITE", CLASS_TX, SF_TX_BEGIN, TX_BEGIN),
	T("COMMIT", CLASS_TX, SF_TX_END, TX_COMMIT),
	T("COMMIT AND CHAIN", CLASS_TX, SF_TX_END | SF_TX_BEGIN, TX_COMMIT),
	T("ROLLBACK", CLASS_TX, SF_TX_END, TX_ROLLBACK),
	T("ABORT", CLASS_TX, SF_TX_END, TX_ROLLBACK),
	T("SAVEPOINT sp1", CLASS_TX, 0, TX_SAVEPOINT),
	T("RELEASE SAVEPOINT sp1", CLASS_TX, 0, TX_RELEASE),
	T("ROLLBACK TO SAVEPOINT sp1", CLASS_TX, 0, TX_ROLLBACK_TO),
	T("PREPARE TRANSACTION 'gid1'", CLASS_WRITE, SF_TWO_PHASE | SF_TX_END, TX_PREPARE),
	T("COMMIT PREPARED 'gid1'", CLASS_WRITE, SF_TWO_PHASE, TX_COMMIT_PREPARED),
	T("ROLLBACK PREPARED 'gid1'", CLASS_WRITE, SF_TWO_PHASE, TX_ROLLBACK_PREPARED),
	/* reads */
	S("VALUES (1, 'a'), (2, 'b')", CLASS_READ, 0, STAT_SELECT),
	S("TABLE t", CLASS_READ, 0, STAT_SELECT),
	R("WITH x AS (SELECT 1) SELECT * FROM x", CLASS_READ, 0),
	R("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r", CLASS_READ, 0),
	R("SELECT now(), count(*), lower('X') FROM t1 JOIN t2 USING (a)", CLASS_READ, 0),
	S("SHOW work_mem", CLASS_READ, 0, STAT_OTHER),
	R("SHOW ALL", CLASS_READ, 0),
	R("SHOW \"POOL_NODES\"", CLASS_READ, 0),
	S("EXPLAIN SELECT * FROM t", CLASS_READ, SF_EXPLAIN, STAT_OTHER),
	R("EXPLAIN DELETE FROM t", CLASS_READ, SF_EXPLAIN),
	R("EXPLAIN ANALYZE SELECT * FROM t", CLASS_READ, SF_EXPLAIN),
	S("COPY t TO STDOUT", CLASS_READ, 0, STAT_DDL),
	R("COPY (SELECT 1) TO STDOUT", CLASS_READ, 0),
	/* writes a SELECT can hide */
	R("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", CLASS_WRITE, SF_MODIFYING_CTE),
	R("WITH a AS (SELECT 1), b AS (UPDATE t SET x = 1 RETURNING x) SELECT * FROM b", CLASS_WRITE,
	  SF_MODIFYING_CTE),
	R("WITH x AS (INSERT INTO t VALUES (1) RETURNING *) INSERT INTO u SELECT * FROM x", CLASS_WRITE, 0),
	R("SELECT * FROM t FOR SHARE", CLASS_WRITE, SF_LOCKING_READ),
	R("SELECT * FROM t FOR UPDATE", CLASS_WRITE, SF_LOCKING_READ),
	R("SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED", CLASS_WRITE, SF_LOCKING_READ),
	R("SELECT * FROM t FOR KEY SHARE NOWAIT", CLASS_WRITE, SF_LOCKING_READ),
	R("SELECT * FROM (SELECT * FROM t FOR UPDATE) s", CLASS_WRITE, SF_LOCKING_READ),
	S("SELECT 1 INTO newtable", CLASS_WRITE, SF_SELECT_INTO, STAT_SELECT),
	R("SELECT nextval('seq1')", CLASS_WRITE, SF_WRITING_FUNCTION),
	R("SELECT setval('seq1', 42)", CLASS_WRITE, SF_WRITING_FUNCTION),
	R("SELECT pg_catalog.nextval('seq1')", CLASS_WRITE, SF_WRITING_FUNCTION),
	R("SELECT * FROM nextval('seq1')", CLASS_WRITE, SF_WRITING_FUNCTION),
	R("SELECT a FROM t WHERE b = (SELECT nextval('seq1'))", CLASS_WRITE, SF_WRITING_FUNCTION),
	R("VALUES (nextval('seq1'))", CLASS_WRITE, SF_WRITING_FUNCTION),
	/* built-in side effects when both function lists are empty */
	R("SELECT pg_advisory_lock(1)", CLASS_WRITE, SF_WRITING_FUNCTION),
	R("SELECT pg_notify('ch', 'x')", CLASS_WRITE, SF_WRITING_FUNCTION),
	R("SELECT set_config('work_mem', '1MB', false)", CLASS_WRITE, SF_WRITING_FUNCTION),
	R("SELECT txid_current()", CLASS_WRITE, SF_WRITING_FUNCTION),
	R("SELECT pg_current_wal_lsn()", CLASS_WRITE, SF_WRITING_FUNCTION),
	R("SELECT currval('seq1')", CLASS_WRITE, SF_WRITING_FUNCTION),
	R("SELECT lo_unlink(1234)", CLASS_WRITE, SF_WRITING_FUNCTION),
	R("SELECT random()", CLASS_READ, 0),
	/* EXPLAIN ANALYZE runs its statement */
	R("EXPLAIN ANALYZE DELETE FROM t", CLASS_WRITE, SF_EXPLAIN),
	R("EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1", CLASS_WRITE, SF_EXPLAIN),
	R("EXPLAIN ANALYZE SELECT nextval('seq1')", CLASS_WRITE, SF_EXPLAIN | SF_WRITING_FUNCTION),
	R("EXPLAIN (ANALYZE false) DELETE FROM t", CLASS_READ, SF_EXPLAIN | SF_UNCACHED),
	R("EXPLAIN (ANALYZE 1) DELETE FROM t", CLASS_WRITE, SF_EXPLAIN | SF_UNCACHED),
	/* COPY */
	R("COPY t FROM STDIN", CLASS_WRITE, 0),
	R("COPY t (a, b) FROM STDIN WITH (FORMAT csv)", CLASS_WRITE, 0),
	R("COPY (INSERT INTO t VALUES (1) RETURNING a) TO STDOUT", CLASS_WRITE, 0),
	R("COPY (SELECT nextval('seq1')) TO STDOUT", CLASS_WRITE, SF_WRITING_FUNCTION),
	/* LOCK */
	S("LOCK t IN ACCESS SHARE MODE", CLASS_SESSION, 0, STAT_OTHER),
	R("LOCK TABLE t IN ROW SHARE MODE", CLASS_SESSION, 0),
	R("LOCK t IN ROW EXCLUSIVE MODE", CLASS_WRITE, 0),
	R("LOCK t IN SHARE MODE", CLASS_WRITE, 0),
	R("LOCK t", CLASS_WRITE, 0),
	/* several statements: primary, whole string */
	R("SELECT 1; SELECT 2", CLASS_WRITE, SF_MULTI_STATEMENT),
	R("BEGIN; SELECT 1; COMMIT;", CLASS_WRITE, SF_MULTI_STATEMENT | SF_TX_BEGIN | SF_TX_END),
	R("SELECT 1; CREATE TEMP TABLE tt (a int)", CLASS_WRITE, SF_MULTI_STATEMENT | SF_TEMP_TABLE_CREATE),
	/* rejected by the parser or the lexer */
	R("SELEC 1", CLASS_WRITE, SF_PARSE_ERROR | SF_UNCACHED),
	R("SELECT FROM WHERE", CLASS_WRITE, SF_PARSE_ERROR),
	R("SELECT E'\\u12'", CLASS_WRITE, SF_PARSE_ERROR),
	R("SELECT 'unterminated", CLASS_WRITE, SF_PARSE_ERROR),
	R("SELECT \"unterminated", CLASS_WRITE, SF_PARSE_ERROR),
	R("SELECT $q$ unterminated", CLASS_WRITE, SF_PARSE_ERROR),
	R("SELECT 1 /* unterminated", CLASS_WRITE, SF_PARSE_ERROR),
	R("PGPOOL FROB x", CLASS_WRITE, SF_PARSE_ERROR),
	/* empty: a read */
	R("", CLASS_READ, SF_EMPTY),
	R("   \n\t ", CLASS_READ, SF_EMPTY),
	R("/* only a comment */", CLASS_READ, SF_EMPTY),
	R("-- only a comment", CLASS_READ, SF_EMPTY),
	R(";", CLASS_READ, SF_EMPTY),
	/* prepared statements */
	P("PREPARE p1 AS SELECT * FROM t WHERE a = $1", CLASS_READ, 0, PS_PREPARE),
	P("PREPARE p2 (int) AS INSERT INTO t VALUES ($1)", CLASS_WRITE, 0, PS_PREPARE),
	P("PREPARE p3 AS SELECT nextval('seq1')", CLASS_WRITE, SF_WRITING_FUNCTION, PS_PREPARE),
	P("EXECUTE p1(42)", CLASS_WRITE, 0, PS_EXECUTE),
	P("DEALLOCATE p1", CLASS_WRITE, 0, PS_DEALLOCATE),
	P("DEALLOCATE PREPARE p1", CLASS_WRITE, 0, PS_DEALLOCATE),
	P("DEALLOCATE ALL", CLASS_SESSION, 0, PS_DEALLOCATE_ALL),
	/* SET / RESET / DISCARD */
	S("SET application_name = 'psql'", CLASS_SESSION, 0, STAT_OTHER),
	R("SET search_path TO app, public", CLASS_SESSION, 0),
	R("SET LOCAL work_mem = '64MB'", CLASS_SESSION, 0),
	R("SET ROLE reporting", CLASS_SESSION, 0),
	R("SET SESSION AUTHORIZATION DEFAULT", CLASS_SESSION, 0),
	R("RESET ALL", CLASS_SESSION, 0),
	R("RESET work_mem", CLASS_SESSION, 0),
	R("SET transaction_read_only = off", CLASS_WRITE, SF_SETS_READ_WRITE),
	R("SET transaction_read_only = 'off'", CLASS_WRITE, SF_SETS_READ_WRITE | SF_UNCACHED),
	R("SET transaction_read_only TO false", CLASS_WRITE, SF_SETS_READ_WRITE),
	R("SET transaction_read_only = 0", CLASS_WRITE, SF_SETS_READ_WRITE),
	R("SET transaction_read_only = on", CLASS_SESSION, SF_TX_READ_ONLY),
	R("SET TRANSACTION READ WRITE", CLASS_WRITE, SF_SETS_READ_WRITE),
	R("SET TRANSACTION READ ONLY", CLASS_SESSION, SF_TX_READ_ONLY),
	R("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", CLASS_WRITE, SF_SETS_READ_WRITE),
	R("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", CLASS_WRITE, SF_TX_SERIALIZABLE),
	R("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE", CLASS_WRITE,
	  SF_TX_SERIALIZABLE),
	R("SET default_transaction_isolation = 'serializable'", CLASS_WRITE, SF_TX_SERIALIZABLE),
	R("SET transaction_isolation TO 'SERIALIZABLE'", CLASS_WRITE, SF_TX_SERIALIZABLE),
	R("SET default_transaction_isolation = 'repeatable read'", CLASS_SESSION, 0),
	P("DISCARD ALL", CLASS_SESSION, SF_DISCARD_TEMP, PS_DEALLOCATE_ALL),
	R("DISCARD TEMP", CLASS_SESSION, SF_DISCARD_TEMP),
	R("DISCARD PLANS", CLASS_SESSION, 0),
	/* LISTEN & co. */
	R("LISTEN ch", CLASS_WRITE, SF_LISTEN),
	R("UNLISTEN ch", CLASS_WRITE, SF_LISTEN),
	R("UNLISTEN *", CLASS_WRITE, SF_LISTEN),
	R("NOTIFY ch, 'payload'", CLASS_WRITE, 0),
	/* cursors */
	S("DECLARE c1 CURSOR FOR SELECT * FROM t", CLASS_WRITE, SF_CURSOR, STAT_DDL),
	R("FETCH 10 FROM c1", CLASS_WRITE, SF_CURSOR),
	R("MOVE NEXT IN c1", CLASS_WRITE, SF_CURSOR),
	R("CLOSE c1", CLASS_WRITE, SF_CURSOR),
	R("CLOSE ALL", CLASS_WRITE, SF_CURSOR),
	/* temporary and unlogged tables */
	R("CREATE TEMP TABLE tt (a int)", CLASS_WRITE, SF_TEMP_TABLE_CREATE),
	R("CREATE TEMPORARY TABLE tt AS SELECT 1 AS a", CLASS_WRITE, SF_TEMP_TABLE_CREATE),
	R("CREATE LOCAL TEMP TABLE IF NOT EXISTS tt (LIKE t)", CLASS_WRITE, SF_TEMP_TABLE_CREATE),
	R("SELECT 1 AS a INTO TEMP tt", CLASS_WRITE, SF_SELECT_INTO | SF_TEMP_TABLE_CREATE),
	R("CREATE TEMP VIEW tv AS SELECT 1", CLASS_WRITE, SF_TEMP_TABLE_CREATE),
	R("CREATE TEMP SEQUENCE ts", CLASS_WRITE, SF_TEMP_TABLE_CREATE),
	R("CREATE TABLE pg_temp.tt (a int)", CLASS_WRITE, SF_TEMP_TABLE_CREATE),
	R("CREATE UNLOGGED TABLE ut (a int)", CLASS_WRITE, SF_UNLOGGED_TABLE_CREATE),
	/* other writes */
	S("CREATE TABLE t (a int primary key)", CLASS_WRITE, 0, STAT_DDL),
	R("CREATE INDEX ON t (a)", CLASS_WRITE, 0),
	R("ALTER TABLE t ADD COLUMN b text", CLASS_WRITE, 0),
	R("DROP TABLE IF EXISTS t, s.u", CLASS_WRITE, 0),
	R("TRUNCATE t", CLASS_WRITE, 0),
	S("VACUUM", CLASS_WRITE, 0, STAT_OTHER),
	R("VACUUM (ANALYZE) t", CLASS_WRITE, 0),
	R("ANALYZE t", CLASS_WRITE, 0),
	R("CLUSTER t USING t_pkey", CLASS_WRITE, 0),
	R("REINDEX TABLE t", CLASS_WRITE, 0),
	S("CHECKPOINT", CLASS_WRITE, 0, STAT_OTHER),
	R("DO $$BEGIN PERFORM 1; END$$", CLASS_WRITE, 0),
	R("CALL proc(1)", CLASS_WRITE, 0),
	R("GRANT SELECT ON t TO reader", CLASS_WRITE, 0),
	R("REVOKE ALL ON t FROM PUBLIC", CLASS_WRITE, 0),
	R("COMMENT ON TABLE t IS 'x'", CLASS_WRITE, 0),
	S("LOAD 'auto_explain'", CLASS_WRITE, 0, STAT_OTHER),
	R("SECURITY LABEL FOR selinux ON TABLE t IS 'system_u:object_r:sepgsql_table_t:s0'", CLASS_WRITE, 0),
	R("REFRESH MATERIALIZED VIEW CONCURRENTLY mv", CLASS_WRITE, 0),
	R("ALTER SYSTEM SET work_mem = '1MB'", CLASS_WRITE, 0),
	R("CREATE DATABASE d1", CLASS_WRITE, SF_DATABASE_DDL),
	R("DROP DATABASE IF EXISTS d1", CLASS_WRITE, SF_DATABASE_DDL),
	R("ALTER DATABASE d1 RENAME TO d2", CLASS_WRITE, SF_DATABASE_DDL),
	R("ALTER DATABASE d1 SET work_mem = '1MB'", CLASS_WRITE, SF_DATABASE_DDL),
	/* system catalogs and pg_temp: reads the primary must serve */
	R("SELECT * FROM pg_class WHERE relname = 't'", CLASS_READ, SF_CATALOG),
	R("SELECT * FROM pg_catalog.pg_namespace", CLASS_READ, SF_CATALOG),
	R("SELECT count(*) FROM pg_stat_activity", CLASS_READ, SF_CATALOG),
	R("SELECT * FROM pg_temp.tt", CLASS_READ, SF_TEMP_SCHEMA),
};

START_TEST(classify_table)
{
	const case_row *row = &rows[_i];
	classifier *c = new_classifier(NULL, NULL, NULL);
	/* twice: the second answer comes from the cache when cacheable */
	for (int round = 0; round < 2; round++) {
		const stmt_class *r = cls_of(c, row->sql);
		ck_assert_msg(r->dest == row->dest, "%s: dest %s, want %s", row->sql,
		              stmt_dest_name(r->dest), stmt_dest_name(row->dest));
		ck_assert_msg((r->flags & row->flags) == row->flags, "%s: flags %#x, want %#x", row->sql,
		              r->flags, row->flags);
		ck_assert_msg(r->tx == row->tx, "%s: tx %d, want %d", row->sql, r->tx, row->tx);
		ck_assert_msg(r->ps == row->ps, "%s: ps %d, want %d", row->sql, r->ps, row->ps);
		if (row->stat != STAT_NONE)
			ck_assert_msg(r->stat == row->stat, "%s: stat %d, want %d", row->sql, r->stat, row->stat);
	}
	classifier_free(c);
}
END_TEST

/* ---------------------------------------------------------------- details */

/* SF_CALLS_FUNCTION: what lets a session skip its reset is its absence. */
START_TEST(calls_function_flag)
{
	static const char *const without[] = {
		"SELECT abalance FROM pgbench_accounts WHERE aid = 1",
		"UPDATE t SET a = a + 1 WHERE b = 2",
		"INSERT INTO t VALUES (1, 'x')",
		"BEGIN",
	};
	static const char *const with[] = {
		"SELECT count(*) FROM t",
		"SELECT set_config('work_mem', '1MB', false)",
		"SELECT pg_advisory_lock(1)",
		"CALL p(1)",
		"INSERT INTO t VALUES (lower('X'))",
	};
	classifier *c = new_classifier(NULL, NULL, NULL);
	for (size_t i = 0; i < sizeof(without) / sizeof(*without); i++)
		ck_assert_msg(!(cls_of(c, without[i])->flags & SF_CALLS_FUNCTION), "%s: flagged", without[i]);
	for (size_t i = 0; i < sizeof(with) / sizeof(*with); i++)
		ck_assert_msg(cls_of(c, with[i])->flags & SF_CALLS_FUNCTION, "%s: not flagged", with[i]);
	classifier_free(c);
}
END_TEST

START_TEST(class_names_and_masks)
{
	classifier *c = new_classifier(NULL, NULL, NULL);
	const stmt_class *r = cls_of(c, "PREPARE Fetch_One AS SELECT 1");
	ck_assert_str_eq(r->ps_name, "fetch_one");
	r = cls_of(c, "EXECUTE \"Quoted\"(1)");
	ck_assert_str_eq(r->ps_name, "Quoted");
	r = cls_of(c, "DEALLOCATE p9");
	ck_assert_str_eq(r->ps_name, "p9");
	r = cls_of(c, "DEALLOCATE ALL");
	ck_assert_ptr_null(r->ps_name);

	r = cls_of(c, "SELECT * FROM a JOIN s.b ON true, \"MiXed\" m, db.s2.c");
	ck_assert_uint_eq(r->nrelations, 4);
	ck_assert_int_ge(relation_index(r, "a"), 0);
	ck_assert_int_ge(relation_index(r, "s.b"), 0);
	ck_assert_int_ge(relation_index(r, "MiXed"), 0);
	ck_assert_int_ge(relation_index(r, "db.s2.c"), 0);
	ck_assert_uint_eq(r->written, 0);

	r = cls_of(c, "UPDATE t SET a = u.a FROM u WHERE t.id = u.id");
	int ti = relation_index(r, "t"), ui = relation_index(r, "u");
	ck_assert_int_ge(ti, 0);
	ck_assert_int_ge(ui, 0);
	ck_assert(r->written & (1u << ti));
	ck_assert(!(r->written & (1u << ui)));

	r = cls_of(c, "WITH d AS (DELETE FROM q RETURNING *) SELECT * FROM d");
	int qi = relation_index(r, "q");
	ck_assert_int_ge(qi, 0);
	ck_assert(r->written & (1u << qi));

	r = cls_of(c, "EXPLAIN DELETE FROM q");
	ck_assert_uint_eq(r->written, 0);  /* not executed */

	r = cls_of(c, "CREATE TEMP TABLE tmp1 (a int)");
	ti = relation_index(r, "tmp1");
	ck_assert_int_ge(ti, 0);
	ck_assert(r->created & (1u << ti));

	r = cls_of(c, "CREATE TABLE perm1 (a int)");
	ck_assert_uint_eq(r->created, 0);

	r = cls_of(c, "DROP TABLE tmp1, s.tmp2");
	ck_assert_uint_eq(r->nrelations, 2);
	ck_assert_uint_eq(r->dropped, 3);

	r = cls_of(c, "TRUNCATE a, b");
	ck_assert_uint_eq(r->written, 3);

	r = cls_of(c, "COPY t FROM STDIN");
	ck_assert_uint_eq(r->written, 1);
	classifier_free(c);
}
END_TEST

START_TEST(relations_capped)
{
	classifier *c = new_classifier(NULL, NULL, NULL);
	char sql[1024] = "SELECT 1 FROM r0";
	for (int i = 1; i < 20; i++) {
		char part[16];
		snprintf(part, sizeof(part), ", r%d", i);
		strcat(sql, part);
	}
	const stmt_class *r = cls_of(c, sql);
	ck_assert_uint_eq(r->nrelations, CLASS_RELATIONS_MAX);
	ck_assert(r->flags & SF_RELATIONS_TRUNCATED);
	ck_assert_int_eq(r->dest, CLASS_READ);
	classifier_free(c);
}
END_TEST

START_TEST(pool_show_commands)
{
	static const struct { const char *sql; pool_show_kind kind; } shows[] = {
		{ "SHOW pool_nodes", POOL_SHOW_NODES },
		{ "SHOW POOL_NODES;", POOL_SHOW_NODES },
		{ "show Pool_Status", POOL_SHOW_STATUS },
		{ "SHOW pool_processes", POOL_SHOW_PROCESSES },
		{ "SHOW pool_pools", POOL_SHOW_POOLS },
		{ "SHOW pool_version", POOL_SHOW_VERSION },
		{ "SHOW pool_cache", POOL_SHOW_CACHE },
		{ "/* hi */ SHOW pool_health_check_stats", POOL_SHOW_HEALTH_CHECK_STATS },
		{ "SHOW pool_backend_stats", POOL_SHOW_BACKEND_STATS },
	};
	classifier *c = new_classifier(NULL, NULL, NULL);
	for (size_t i = 0; i < sizeof(shows) / sizeof(*shows); i++) {
		const stmt_class *r = cls_of(c, shows[i].sql);
		ck_assert_msg(r->dest == CLASS_POOL_SHOW, "%s", shows[i].sql);
		ck_assert_int_eq(r->pool_show, shows[i].kind);
	}
	const stmt_class *r = cls_of(c, "SHOW work_mem");
	ck_assert_int_eq(r->dest, CLASS_READ);
	ck_assert_int_eq(r->pool_show, POOL_SHOW_NONE);
	r = cls_of(c, "SHOW pool_nothing");
	ck_assert_int_eq(r->dest, CLASS_READ);
	classifier_free(c);
}
END_TEST

START_TEST(pgpool_commands)
{
	static const char *const texts[] = {
		"PGPOOL SHOW ALL",
		"pgpool show log_statement ;",
		"  /* c */ PGPOOL SET client_idle_limit = 5;\n",
		"PgPool RESET ALL",
		"PGPOOL SHOW \"Backend_Hostname0\"",
	};
	static const pgpool_cmd cmds[] = { PGPOOL_CMD_SHOW, PGPOOL_CMD_SHOW, PGPOOL_CMD_SET,
	                                   PGPOOL_CMD_RESET, PGPOOL_CMD_SHOW };
	static const char *const args[] = { "ALL", "log_statement", "client_idle_limit = 5", "ALL",
	                                    "\"Backend_Hostname0\"" };
	classifier *c = new_classifier(NULL, NULL, NULL);
	for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		const stmt_class *r = cls_of(c, texts[i]);
		ck_assert_msg(r->dest == CLASS_PGPOOL, "%s", texts[i]);
		ck_assert_int_eq(r->pgpool, cmds[i]);
		ck_assert_uint_eq(r->arg_len, strlen(args[i]));
		ck_assert(memcmp(texts[i] + r->arg_off, args[i], r->arg_len) == 0);
	}
	/* not a PGPOOL command */
	ck_assert_int_eq(cls_of(c, "PGPOOLX SHOW ALL")->dest, CLASS_WRITE);
	ck_assert_int_eq(cls_of(c, "SELECT pgpool FROM t")->dest, CLASS_READ);
	classifier_free(c);
}
END_TEST

START_TEST(write_function_list)
{
	classifier *c = new_classifier("myfunc, upd_.*,public\\.g", NULL, NULL);
	ck_assert_int_eq(cls_of(c, "SELECT myfunc(1)")->dest, CLASS_WRITE);
	ck_assert(cls_of(c, "SELECT MYFUNC(1)")->flags & SF_WRITING_FUNCTION);
	ck_assert_int_eq(cls_of(c, "SELECT upd_account(2) FROM t")->dest, CLASS_WRITE);
	ck_assert_int_eq(cls_of(c, "SELECT public.g()")->dest, CLASS_WRITE);
	/* qualified and unqualified spellings are different strings */
	ck_assert_int_eq(cls_of(c, "SELECT public.myfunc(1)")->dest, CLASS_READ);
	ck_assert_int_eq(cls_of(c, "SELECT g()")->dest, CLASS_READ);
	/* anchored: "myfunc" does not match "myfunc2" */
	ck_assert_int_eq(cls_of(c, "SELECT myfunc2(1)")->dest, CLASS_READ);
	ck_assert_int_eq(cls_of(c, "SELECT xupd_a()")->dest, CLASS_READ);
	/* nextval/setval always; the built-in list is not used with a list set */
	ck_assert_int_eq(cls_of(c, "SELECT nextval('s')")->dest, CLASS_WRITE);
	ck_assert_int_eq(cls_of(c, "SELECT pg_advisory_lock(1)")->dest, CLASS_READ);
	classifier_free(c);
}
END_TEST

START_TEST(read_only_function_list)
{
	classifier *c = new_classifier("", "count,now,lower", NULL);
	ck_assert_int_eq(cls_of(c, "SELECT count(*) FROM t")->dest, CLASS_READ);
	ck_assert_int_eq(cls_of(c, "SELECT now(), lower(a) FROM t")->dest, CLASS_READ);
	ck_assert_int_eq(cls_of(c, "SELECT 1")->dest, CLASS_READ);
	const stmt_class *r = cls_of(c, "SELECT myfunc()");
	ck_assert_int_eq(r->dest, CLASS_WRITE);
	ck_assert(r->flags & SF_WRITING_FUNCTION);
	ck_assert_int_eq(cls_of(c, "SELECT lower(upper('a'))")->dest, CLASS_WRITE);
	ck_assert_int_eq(cls_of(c, "SELECT nextval('s')")->dest, CLASS_WRITE);
	classifier_free(c);
}
END_TEST

START_TEST(bad_lists_rejected)
{
	char err[256] = "";
	ck_assert_ptr_null(classifier_new("ok, bad(", NULL, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "write_function_list"));
	err[0] = '\0';
	ck_assert_ptr_null(classifier_new("a", "b", NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "cannot both"));
	err[0] = '\0';
	ck_assert_ptr_null(classifier_new(NULL, NULL, "x;[y", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "primary_routing_query_pattern_list"));
	/* blank entries are no entries */
	classifier *c = classifier_new(" , ", "", " ; ", err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	classifier_free(c);
}
END_TEST

START_TEST(primary_routing_patterns)
{
	classifier *c = new_classifier(NULL, NULL, ".*forced_table.*;SELECT \\* FROM t2\\;;.*a = 42.*");
	const stmt_class *r = cls_of(c, "SELECT * FROM forced_table");
	ck_assert_int_eq(r->dest, CLASS_READ);
	ck_assert(r->flags & SF_PATTERN_PRIMARY);
	ck_assert(classify_needs_primary(r));
	ck_assert(cls_of(c, "select * from FORCED_TABLE")->flags & SF_PATTERN_PRIMARY);
	ck_assert(cls_of(c, "SELECT *\nFROM forced_table\n")->flags & SF_PATTERN_PRIMARY);
	ck_assert(cls_of(c, "SELECT * FROM t2;")->flags & SF_PATTERN_PRIMARY);
	ck_assert(!(cls_of(c, "SELECT * FROM t2")->flags & SF_PATTERN_PRIMARY));
	/* same shape, different text: the pattern is checked per query */
	classifier_stats before, after;
	classifier_get_stats(c, &before);
	r = cls_of(c, "SELECT * FROM t WHERE a = 42");
	ck_assert(r->flags & SF_PATTERN_PRIMARY);
	r = cls_of(c, "SELECT * FROM t WHERE a = 7");
	ck_assert(!(r->flags & SF_PATTERN_PRIMARY));
	ck_assert(!classify_needs_primary(r));
	classifier_get_stats(c, &after);
	ck_assert_uint_eq(after.hits - before.hits, 1);
	/* only reads are affected */
	ck_assert_int_eq(cls_of(c, "DELETE FROM forced_table")->dest, CLASS_WRITE);
	ck_assert(!(cls_of(c, "SET x = 'forced_table'")->flags & SF_PATTERN_PRIMARY));
	classifier_free(c);
}
END_TEST

/* ---------------------------------------------------------------- the cache */

START_TEST(cache_hits_by_shape)
{
	classifier *c = new_classifier(NULL, NULL, NULL);
	classifier_stats st;
	const stmt_class *r = cls_of(c, "SELECT abalance FROM pgbench_accounts WHERE aid = 1");
	ck_assert_int_eq(r->dest, CLASS_READ);
	ck_assert(!(r->flags & SF_UNCACHED));
	r = cls_of(c, "select abalance  from pgbench_accounts\nwhere aid = 22 -- x");
	ck_assert_int_eq(r->dest, CLASS_READ);
	ck_assert_uint_eq(r->nrelations, 1);
	ck_assert_str_eq(r->relations[0], "pgbench_accounts");
	classifier_get_stats(c, &st);
	ck_assert_uint_eq(st.misses, 1);
	ck_assert_uint_eq(st.hits, 1);
	ck_assert_uint_eq(st.parses, 1);
	ck_assert_uint_eq(st.entries, 1);

	cls_of(c, "SELECT bbalance FROM pgbench_branches WHERE bid = 1");
	classifier_get_stats(c, &st);
	ck_assert_uint_eq(st.misses, 2);
	ck_assert_uint_eq(st.parses, 2);

	/* results that depend on a literal are never served from the cache */
	cls_of(c, "SET transaction_read_only = 'on'");
	r = cls_of(c, "SET transaction_read_only = 'off'");
	ck_assert_int_eq(r->dest, CLASS_WRITE);
	classifier_get_stats(c, &st);
	ck_assert_uint_eq(st.parses, 4);
	ck_assert_uint_eq(st.uncached, 2);

	/* nor are parse errors (a literal can cause them) */
	cls_of(c, "SELECT E'\\u12'");
	r = cls_of(c, "SELECT E'\\u0041'");
	ck_assert_int_eq(r->dest, CLASS_READ);
	classifier_get_stats(c, &st);
	ck_assert_uint_eq(st.parses, 6);
	classifier_free(c);
}
END_TEST

START_TEST(cache_eviction)
{
	char err[128] = "";
	classifier_options o = { .cache_entries = 4 };
	classifier *c = classifier_new_opts(&o, err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	char sql[64];
	for (int i = 0; i < 20; i++) {
		/* a hot statement between cold ones survives the CLOCK */
		const stmt_class *r = cls_of(c, "SELECT hot FROM t WHERE a = 1");
		ck_assert_int_eq(r->dest, CLASS_READ);
		snprintf(sql, sizeof(sql), "UPDATE cold%d SET a = 1", i);
		r = cls_of(c, sql);
		ck_assert_int_eq(r->dest, CLASS_WRITE);
		snprintf(sql, sizeof(sql), "cold%d", i);
		ck_assert_str_eq(r->relations[0], sql);
	}
	classifier_stats st;
	classifier_get_stats(c, &st);
	ck_assert_uint_le(st.entries, 4);
	ck_assert_uint_ge(st.evictions, 16);
	ck_assert_uint_ge(st.hits, 15);
	classifier_free(c);

	/* a byte budget bounds memory too */
	o.cache_entries = 1000;
	o.cache_bytes = 1024;
	c = classifier_new_opts(&o, err, sizeof(err));
	for (int i = 0; i < 50; i++) {
		snprintf(sql, sizeof(sql), "SELECT col%d FROM tab%d", i, i);
		ck_assert_int_eq(cls_of(c, sql)->dest, CLASS_READ);
	}
	classifier_get_stats(c, &st);
	ck_assert_uint_le(st.bytes, 1024);
	ck_assert_uint_gt(st.entries, 0);
	ck_assert_uint_lt(st.entries, 50);
	classifier_free(c);
}
END_TEST

START_TEST(long_and_deep_statements)
{
	classifier *c = new_classifier(NULL, NULL, NULL);
	/* a shape longer than the cache takes: classified, not kept */
	size_t n = CLASSIFY_SHAPE_MAX + 1000;
	char *sql = malloc(n + 64);
	strcpy(sql, "SELECT * FROM t WHERE a IN (");
	size_t p = strlen(sql);
	while (p < n) {
		memcpy(sql + p, "1,", 2);
		p += 2;
	}
	strcpy(sql + p, "1)");
	const stmt_class *r = cls_of(c, sql);
	ck_assert_int_eq(r->dest, CLASS_READ);
	ck_assert(r->flags & SF_UNCACHED);
	free(sql);

	/* deeper than the stack allows: primary, unparsed, no crash */
	n = 200000;
	sql = malloc(2 * n + 16);
	strcpy(sql, "SELECT 1");
	p = strlen(sql);
	for (size_t i = 0; i < n; i++) {
		sql[p++] = '+';
		sql[p++] = '1';
	}
	sql[p] = '\0';
	r = classify(c, sql, p);
	ck_assert_int_eq(r->dest, CLASS_WRITE);
	ck_assert(r->flags & SF_TOO_COMPLEX);
	/* moderately deep is fine */
	r = classify(c, sql, 8 + 2 * 200);
	ck_assert_int_eq(r->dest, CLASS_READ);
	free(sql);

	/* a long VALUES list is wide, not deep */
	n = 20000;
	sql = malloc(6 * n + 64);
	strcpy(sql, "INSERT INTO t VALUES (1)");
	p = strlen(sql);
	for (size_t i = 0; i < n; i++) {
		memcpy(sql + p, ", (1)", 5);
		p += 5;
	}
	r = classify(c, sql, p);
	ck_assert_int_eq(r->dest, CLASS_WRITE);
	ck_assert(!(r->flags & SF_TOO_COMPLEX));
	free(sql);
	classifier_free(c);
}
END_TEST

START_TEST(text_bounds)
{
	/* every prefix of a tricky text, copied to a buffer of exactly that
	 * size: valgrind/ASan catch any read past the end */
	static const char text[] =
	    "/* a /* nested */ c */ SELECT E'it\\'s', $t$ x $$ y $t$, U&\"d\\0061t\", "
	    "B'01', X'ff', 'a''b'\n  'continued', \"q\"\"id\", $1, 1.5e-3 -- tail\n"
	    "FROM t WHERE a$b = .5;";
	classifier_options o = { .cache_entries = 8 };
	char err[64];
	classifier *c = classifier_new_opts(&o, err, sizeof(err));
	char out[256];
	for (size_t len = 0; len <= sizeof(text) - 1; len++) {
		char *buf = malloc(len ? len : 1);
		memcpy(buf, text, len);
		sql_shape sh;
		sql_shape_build(buf, len, out, sizeof(out), &sh);
		ck_assert_uint_le(sh.len, sizeof(out));
		ck_assert_uint_eq(sh.text_len, len);
		const stmt_class *r = classify(c, buf, len);
		ck_assert(r != NULL);
		free(buf);
	}
	/* a NUL ends the text, as it does for the server */
	static const char with_nul[] = "SELECT 1\0; DELETE FROM t";
	const stmt_class *r = classify(c, with_nul, sizeof(with_nul) - 1);
	ck_assert_int_eq(r->dest, CLASS_READ);
	ck_assert(!(r->flags & SF_MULTI_STATEMENT));
	r = classify(c, NULL, 0);
	ck_assert(r->flags & SF_EMPTY);
	classifier_free(c);
}
END_TEST

/* ---------------------------------------------------------------- shapes */

START_TEST(shape_strips_literals)
{
	ck_assert_str_eq(shape_str("SELECT abalance FROM pgbench_accounts WHERE aid = 1"),
	                 "select abalance from pgbench_accounts where aid = ?");
	char a[256];
	strcpy(a, shape_str("SELECT abalance FROM pgbench_accounts WHERE aid = 1"));
	ck_assert_str_eq(a, shape_str("select abalance from pgbench_accounts where aid = 22"));
	ck_assert_str_eq(shape_str("SELECT 1.5e10, .5, 1., 42, 1e-3"), "select ?, ?, ?, ?, ?");
	ck_assert_str_eq(shape_str("SELECT 'it''s', E'it\\'s', E'\\\\', N'x'"), "select ?, ?, ?, n?");
	ck_assert_str_eq(shape_str("SELECT B'0101', X'FF', b'1', U&'d\\0061t' UESCAPE '!'"),
	                 "select ?, ?, ?, ? uescape ?");
	ck_assert_str_eq(shape_str("SELECT $$a'b$$, $tag$ x $$ y $a$ $tag$, $_1$z$_1$"),
	                 "select ?, ?, ?");
	ck_assert_str_eq(shape_str("SELECT '1'::int"), "select ?::int");
	/* 'a' newline 'b' is one literal; without the newline, two */
	ck_assert_str_eq(shape_str("SELECT 'a'\n'b'"), "select ?");
	ck_assert_str_eq(shape_str("SELECT 'a' -- c\n 'b'"), "select ?");
	ck_assert_str_eq(shape_str("SELECT 'a' 'b'"), "select ? ?");
	/* an E'' continuation keeps backslash escapes: \' does not end it */
	ck_assert_str_eq(shape_str("SELECT E'a'\n'\\'; DELETE FROM t; --'"), "select ?");
	ck_assert_str_eq(shape_str("SELECT 'a'\n'\\'; DELETE FROM t; --'"),
	                 "select ?; delete from t;");
	/* B'' has no '' escape: B'01''10' is two literals */
	ck_assert_str_eq(shape_str("SELECT B'01''10'"), "select ??");
}
END_TEST

START_TEST(shape_keeps_structure)
{
	ck_assert_str_eq(shape_str("  SeLeCt  X,\n\tY FROM   T  "), "select x, y from t");
	ck_assert_str_eq(shape_str("SELECT \"MixedCase\", \"a\"\"b\" FROM \"T\""),
	                 "select \"MixedCase\", \"a\"\"b\" from \"T\"");
	ck_assert_str_eq(shape_str("SELECT U&\"d\\0061t\""), "select U&\"d\\0061t\"");
	ck_assert_str_eq(shape_str("SELECT $1, $22 FROM t"), "select $1, $22 from t");
	ck_assert_str_eq(shape_str("SELECT a$b$, c$ FROM t"), "select a$b$, c$ from t");
	ck_assert_str_eq(shape_str("/* lead */ SELECT /* a /* nested */ b */ 1 -- tail"), "select ?");
	ck_assert_str_eq(shape_str("SELECT 1+-2"), "select ?+-?");
	ck_assert_str_eq(shape_str("SELECT 1/*c*/+2"), "select ? +?");
	ck_assert_str_eq(shape_str("SELECT 1.."), "select ?..");

	char a[256];
	strcpy(a, shape_str("SELECT a b FROM t"));
	ck_assert_str_ne(a, shape_str("SELECT ab FROM t"));
	strcpy(a, shape_str("SELECT mixedcase FROM t"));
	ck_assert_str_ne(a, shape_str("SELECT \"MixedCase\" FROM t"));
	strcpy(a, shape_str("SELECT a FROM t"));
	ck_assert_str_ne(a, shape_str("SELECT b FROM t"));
	strcpy(a, shape_str("SELECT $1"));
	ck_assert_str_ne(a, shape_str("SELECT 1"));
	strcpy(a, shape_str("SELECT e 'x'"));
	ck_assert_str_ne(a, shape_str("SELECT E'x'"));

	uint64_t h1 = sql_shape_hash("select ?", 8, 1), h2 = sql_shape_hash("select ?", 8, 1);
	ck_assert(h1 == h2);
	ck_assert(h1 != sql_shape_hash("select x", 8, 1));
	ck_assert(h1 != sql_shape_hash("select ?", 8, 2));
}
END_TEST

START_TEST(shape_unterminated)
{
	sql_shape sh;
	shape_of("SELECT 'abc", &sh);
	ck_assert_int_eq(sh.status, SQL_SHAPE_UNTERMINATED_STRING);
	shape_of("SELECT E'abc\\", &sh);
	ck_assert_int_eq(sh.status, SQL_SHAPE_UNTERMINATED_STRING);
	shape_of("SELECT E'abc\\'", &sh);
	ck_assert_int_eq(sh.status, SQL_SHAPE_UNTERMINATED_STRING);
	shape_of("SELECT 'a\\'b'", &sh);  /* standard string: 'a\' then b' ... */
	ck_assert_int_eq(sh.status, SQL_SHAPE_UNTERMINATED_STRING);
	shape_of("SELECT \"abc", &sh);
	ck_assert_int_eq(sh.status, SQL_SHAPE_UNTERMINATED_IDENT);
	shape_of("SELECT U&\"abc", &sh);
	ck_assert_int_eq(sh.status, SQL_SHAPE_UNTERMINATED_IDENT);
	shape_of("SELECT $$abc$", &sh);
	ck_assert_int_eq(sh.status, SQL_SHAPE_UNTERMINATED_DOLLAR);
	shape_of("SELECT $a$abc$b$", &sh);
	ck_assert_int_eq(sh.status, SQL_SHAPE_UNTERMINATED_DOLLAR);
	shape_of("SELECT 1 /* abc", &sh);
	ck_assert_int_eq(sh.status, SQL_SHAPE_UNTERMINATED_COMMENT);
	shape_of("SELECT 1 /* a /* b */", &sh);
	ck_assert_int_eq(sh.status, SQL_SHAPE_UNTERMINATED_COMMENT);
	shape_of("SELECT 1 -- no newline", &sh);
	ck_assert_int_eq(sh.status, SQL_SHAPE_OK);
	shape_of("SELECT $ 1", &sh);
	ck_assert_int_eq(sh.status, SQL_SHAPE_OK);
}
END_TEST

START_TEST(shape_truncation_and_weight)
{
	char out[8];
	sql_shape sh;
	sql_shape_build("SELECT abc FROM t", 17, out, sizeof(out), &sh);
	ck_assert(sh.truncated);
	ck_assert_uint_eq(sh.len, sizeof(out));
	ck_assert(memcmp(out, "select a", 8) == 0);

	sql_shape_build("SELECT 1", 8, NULL, 0, &sh);
	ck_assert(sh.truncated);
	ck_assert_uint_eq(sh.len, 0);

	sql_shape deep, wide;
	shape_of("SELECT 1+1+1+1+1+1+1+1", &deep);
	shape_of("VALUES (1,2),(3,4),(5,6),(7,8)", &wide);
	ck_assert_uint_gt(deep.weight, wide.weight);
	shape_of("SELECT ((((1))))", &deep);
	ck_assert_uint_ge(deep.weight, 4);
	shape_of("SELECT x::\"int\"::\"int\"::\"int\"", &deep);
	ck_assert_uint_ge(deep.weight, 6);

	ck_assert_uint_eq(sql_skip_blank(" /* x */ -- y\n z", 16, 0), 15);
	ck_assert_uint_eq(sql_skip_blank(" /* x ", 6, 0), 6);
	ck_assert_uint_eq(sql_word_end("abc$1 x", 7, 0), 5);
	ck_assert(sql_word_is("PGPOOL", 0, 6, "pgpool"));
	ck_assert(!sql_word_is("PGPOOLS", 0, 7, "pgpool"));
}
END_TEST

Suite *classify_suite(void)
{
	Suite *s = suite_create("classify");
	TCase *tc = tcase_create("statements");
	tcase_add_loop_test(tc, classify_table, 0, (int) (sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, class_names_and_masks);
	tcase_add_test(tc, calls_function_flag);
	tcase_add_test(tc, relations_capped);
	tcase_add_test(tc, pool_show_commands);
	tcase_add_test(tc, pgpool_commands);
	tcase_add_test(tc, write_function_list);
	tcase_add_test(tc, read_only_function_list);
	tcase_add_test(tc, bad_lists_rejected);
	tcase_add_test(tc, primary_routing_patterns);
	suite_add_tcase(s, tc);

	tc = tcase_create("cache");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, cache_hits_by_shape);
	tcase_add_test(tc, cache_eviction);
	tcase_add_test(tc, long_and_deep_statements);
	tcase_add_test(tc, text_bounds);
	suite_add_tcase(s, tc);

	tc = tcase_create("shape");
	tcase_add_test(tc, shape_strips_literals);
	tcase_add_test(tc, shape_keeps_structure);
	tcase_add_test(tc, shape_unterminated);
	tcase_add_test(tc, shape_truncation_and_weight);
	suite_add_tcase(s, tc);
	return s;
}
