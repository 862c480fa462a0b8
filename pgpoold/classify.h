/* Statement classifier: where a Query ('Q') or Parse ('P') text may run.
 *
 * Classification uses the real PostgreSQL 15 grammar (libpg_query) and
 * follows Pgpool-II 4.3's send_to_where rules (spec/pgpool-semantics.md
 * sections 3 and 4), except that EXPLAIN without ANALYZE is a read (issue 3).
 * Parsing costs tens of microseconds, so results are cached per statement
 * shape (sqlshape.h: the text with literals taken out): a cache hit is one
 * lexer pass, one hash and one lookup, without allocation.
 *
 * One classifier per worker thread, created and used by that thread only
 * (no locks; libpg_query keeps per-thread state).  Nothing here aborts: a
 * failure to allocate degrades to "primary only".
 *
 * What the session still decides from its own state (not done here):
 * transaction state, temp tables it created (compare relations[]),
 * load_balance_mode, the allow_sql_comments text test, replication delay.
 *
 * primary_routing_query_pattern_list looks at the full text, so it runs on
 * every call, outside the cache, and only for CLASS_READ results: one
 * pcre2_match (JIT when available) per pattern over the text, roughly
 * 50 ns per pattern for a pgbench-sized query; nothing when the list is
 * empty.
 *
 * Linking: -lpg_query (libpg_query bundles the PostgreSQL parser and
 * protobuf-c; the protobuf-c headers come from libprotobuf-c-dev) plus
 * pcre2-8 and pthreads.  libpg_query's per-thread memory is freed by its
 * own thread-exit hook; do not call pg_query_exit().
 */
#ifndef PGPOOLD_CLASSIFY_H
#define PGPOOLD_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum stmt_dest {
	CLASS_READ = 0,    /* may be load balanced (Pgpool "EITHER"), see
	                      classify_needs_primary() for reads that may not */
	CLASS_WRITE,       /* primary only; counts as a write (section 4) */
	CLASS_SESSION,     /* session state: primary and every node the session
	                      uses (Pgpool "BOTH"): SET, RESET, DISCARD,
	                      DEALLOCATE ALL, LOCK weaker than ROW EXCLUSIVE */
	CLASS_TX,          /* transaction control, "BOTH": BEGIN, START
	                      TRANSACTION, COMMIT, END, ROLLBACK, ABORT,
	                      SAVEPOINT, RELEASE, ROLLBACK TO */
	CLASS_POOL_SHOW,   /* SHOW pool_*: answered by pgpoold (pool_show says which) */
	CLASS_PGPOOL       /* PGPOOL SHOW|SET|RESET: answered by pgpoold */
} stmt_dest;

/* stmt_class.flags */
#define SF_TX_BEGIN             (1u << 0)   /* BEGIN, START TRANSACTION, COMMIT AND CHAIN */
#define SF_TX_END               (1u << 1)   /* COMMIT, END, ROLLBACK, ABORT, PREPARE TRANSACTION */
#define SF_TX_READ_ONLY         (1u << 2)   /* BEGIN/START/SET TRANSACTION READ ONLY */
#define SF_TX_SERIALIZABLE      (1u << 3)   /* isolation level serializable (BEGIN or SET): primary */
#define SF_SETS_READ_WRITE      (1u << 4)   /* SET transaction_read_only = off, SET [SESSION
                                               CHARACTERISTICS AS] TRANSACTION READ WRITE: primary */
#define SF_MULTI_STATEMENT      (1u << 5)   /* more than one statement: the whole string goes
                                               to the primary; other flags are OR-ed over all */
#define SF_TEMP_TABLE_CREATE    (1u << 6)   /* creates a temporary table/view/sequence: see created */
#define SF_UNLOGGED_TABLE_CREATE (1u << 7)  /* creates an unlogged table: see created */
#define SF_PARSE_ERROR          (1u << 8)   /* rejected by the lexer or parser: primary */
#define SF_EMPTY                (1u << 9)   /* empty or comment-only: a read (Pgpool's dummy SELECT) */
#define SF_LISTEN               (1u << 10)  /* LISTEN / UNLISTEN: primary only (spec 3.5) */
#define SF_TWO_PHASE            (1u << 11)  /* PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED */
#define SF_CURSOR               (1u << 12)  /* DECLARE, FETCH, MOVE, CLOSE: primary */
#define SF_DATABASE_DDL         (1u << 13)  /* CREATE/DROP/ALTER DATABASE: close idle pooled
                                               connections to that database first */
#define SF_CATALOG              (1u << 14)  /* reads a relation in pg_catalog (explicitly, or an
                                               unqualified name starting with "pg_") */
#define SF_TEMP_SCHEMA          (1u << 15)  /* names a relation in schema pg_temp */
#define SF_WRITING_FUNCTION     (1u << 16)  /* calls a writing function (section 3.3) */
#define SF_LOCKING_READ         (1u << 17)  /* FOR UPDATE/SHARE/NO KEY UPDATE/KEY SHARE */
#define SF_SELECT_INTO          (1u << 18)  /* SELECT ... INTO */
#define SF_MODIFYING_CTE        (1u << 19)  /* INSERT/UPDATE/DELETE/MERGE inside WITH */
#define SF_EXPLAIN              (1u << 20)  /* EXPLAIN (class: READ, or the inner one with ANALYZE) */
#define SF_DISCARD_TEMP         (1u << 21)  /* DISCARD ALL / DISCARD TEMP: temp tables are gone */
#define SF_RELATIONS_TRUNCATED  (1u << 22)  /* more than CLASS_RELATIONS_MAX relations */
#define SF_TOO_COMPLEX          (1u << 23)  /* not parsed: nesting deeper than the stack allows;
                                               treated as a write */
#define SF_PATTERN_PRIMARY      (1u << 24)  /* per call: the text matches
                                               primary_routing_query_pattern_list */
#define SF_UNCACHED             (1u << 25)  /* per call: this result was not kept in the cache */
#define SF_CALLS_FUNCTION       (1u << 26)  /* calls any function (it may change session state) */

/* Reads that must still go to the primary without counting as writes:
 * Pgpool sends system-catalog reads and pattern matches to the primary but
 * only non-SELECTs and writing functions set the "writing transaction" flag. */
#define SF_READ_ON_PRIMARY (SF_CATALOG | SF_TEMP_SCHEMA | SF_PATTERN_PRIMARY)

typedef enum tx_op {
	TX_NONE = 0,
	TX_BEGIN,             /* BEGIN / START TRANSACTION */
	TX_COMMIT,            /* COMMIT / END (also COMMIT AND CHAIN) */
	TX_ROLLBACK,          /* ROLLBACK / ABORT */
	TX_SAVEPOINT,
	TX_RELEASE,
	TX_ROLLBACK_TO,
	TX_PREPARE,           /* PREPARE TRANSACTION (CLASS_WRITE) */
	TX_COMMIT_PREPARED,   /* (CLASS_WRITE) */
	TX_ROLLBACK_PREPARED  /* (CLASS_WRITE) */
} tx_op;

typedef enum ps_op {
	PS_NONE = 0,
	PS_PREPARE,           /* PREPARE name AS stmt: dest is the inner statement's */
	PS_EXECUTE,           /* EXECUTE name: route where name was prepared;
	                         dest CLASS_WRITE is the fallback for an unknown name */
	PS_DEALLOCATE,        /* DEALLOCATE name: likewise */
	PS_DEALLOCATE_ALL     /* DEALLOCATE ALL, DISCARD ALL (CLASS_SESSION) */
} ps_op;

typedef enum pool_show_kind {
	POOL_SHOW_NONE = 0,
	POOL_SHOW_NODES,
	POOL_SHOW_STATUS,
	POOL_SHOW_PROCESSES,
	POOL_SHOW_POOLS,
	POOL_SHOW_VERSION,
	POOL_SHOW_CACHE,
	POOL_SHOW_HEALTH_CHECK_STATS,
	POOL_SHOW_BACKEND_STATS
} pool_show_kind;

typedef enum pgpool_cmd {
	PGPOOL_CMD_NONE = 0,
	PGPOOL_CMD_SHOW,
	PGPOOL_CMD_SET,
	PGPOOL_CMD_RESET
} pgpool_cmd;

/* Which per-node counter of SHOW pool_backend_stats the statement bumps
 * (Pgpool's stat_count_up, by the first statement). */
typedef enum stmt_stat {
	STAT_NONE = 0,        /* empty, unparsed, pgpoold's own commands */
	STAT_SELECT,
	STAT_INSERT,
	STAT_UPDATE,
	STAT_DELETE,
	STAT_DDL,             /* everything not listed under OTHER */
	STAT_OTHER            /* CHECKPOINT DEALLOCATE DISCARD EXECUTE EXPLAIN LISTEN LOAD
	                         LOCK NOTIFY PREPARE transaction-control UNLISTEN VACUUM SET SHOW */
} stmt_stat;

#define CLASS_RELATIONS_MAX 16

typedef struct stmt_class {
	stmt_dest dest;
	uint32_t flags;              /* SF_* */
	tx_op tx;
	ps_op ps;
	pool_show_kind pool_show;
	pgpool_cmd pgpool;
	stmt_stat stat;
	const char *ps_name;         /* PS_PREPARE/EXECUTE/DEALLOCATE: the name, as the parser
	                                gives it (lower-cased unless quoted); else NULL */
	/* Relations named in the statement, deduplicated, as written:
	 * "rel", "schema.rel" or "db.schema.rel" (parser spelling).  Includes
	 * CTE names used in FROM (the raw tree cannot tell them apart). */
	const char *const *relations;
	unsigned nrelations;
	uint16_t written;            /* bit i: relations[i] is written (DML/TRUNCATE/COPY FROM target,
	                                created, altered, dropped, refreshed): for dml_adaptive */
	uint16_t created;            /* bit i: relations[i] is created TEMP/UNLOGGED here */
	uint16_t dropped;            /* bit i: relations[i] is dropped (DROP TABLE/VIEW/SEQUENCE...) */
	/* CLASS_PGPOOL: the arguments after PGPOOL SHOW|SET|RESET, as an offset
	 * and length into the text given to classify() (blank and a trailing
	 * ';' trimmed). */
	size_t arg_off;
	size_t arg_len;
} stmt_class;

typedef struct classifier classifier;

typedef struct classifier_options {
	const char *write_function_list;     /* comma-separated regexes, NULL or "" = none */
	const char *read_only_function_list; /* comma-separated regexes; exclusive with the above */
	const char *primary_routing_query_pattern_list; /* ';'-separated regexes ("\;" = ';') */
	unsigned cache_entries;              /* 0 = CLASSIFY_CACHE_ENTRIES */
	size_t cache_bytes;                  /* 0 = CLASSIFY_CACHE_BYTES */
} classifier_options;

#define CLASSIFY_CACHE_ENTRIES 4096
#define CLASSIFY_CACHE_BYTES   (4u << 20)
#define CLASSIFY_SHAPE_MAX     16384     /* longer shapes are classified but not cached */

/* Texts rejected by the lexer and PGPOOL commands never reach the cache
 * and count in neither hits nor misses. */
typedef struct classifier_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t parses;       /* calls into the PostgreSQL parser */
	uint64_t evictions;
	uint64_t uncached;     /* misses whose result was not kept */
	size_t entries;
	size_t bytes;
} classifier_stats;

/* Regex lists follow Pgpool-II: entries are matched case-insensitively and
 * anchored (^...$ added unless present); function entries are compared with
 * "name" or "schema.name" as written; patterns with the whole query text.
 * Returns NULL with a message in err on a bad regex, on both function lists
 * given, or out of memory.  Call it in the worker thread that will use it. */
classifier *classifier_new(const char *write_function_list, const char *read_only_function_list,
                           const char *primary_routing_query_pattern_list, char *err, size_t errlen);
classifier *classifier_new_opts(const classifier_options *opts, char *err, size_t errlen);
void classifier_free(classifier *c);

/* Classify sql[0..len) (need not be NUL-terminated; a NUL ends it).  The
 * result, and every string it points to, stays valid until the next
 * classify() or classifier_free() on c.  Never NULL. */
const stmt_class *classify(classifier *c, const char *sql, size_t len);

void classifier_get_stats(const classifier *c, classifier_stats *out);

/* Must this statement go to the primary whatever the session's state?
 * (CLASS_WRITE, or a read flagged SF_READ_ON_PRIMARY.) */
static inline bool classify_needs_primary(const stmt_class *sc)
{
	return sc->dest == CLASS_WRITE ||
	       (sc->dest == CLASS_READ && (sc->flags & SF_READ_ON_PRIMARY) != 0);
}

const char *stmt_dest_name(stmt_dest d);

#endif
