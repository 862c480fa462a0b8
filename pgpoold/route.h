/* Routing decisions: which node a statement goes to.  The statement's class
 * comes from the classifier (cached by statement shape); the decision adds
 * the session's state: its load-balance node, its transaction, what it has
 * written, replication delay and read-your-writes. */
#ifndef PGPOOLD_ROUTE_H
#define PGPOOLD_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct session;

typedef enum route_class {
	RC_READ,        /* may go to the load-balance node */
	RC_WRITE,       /* primary only */
	RC_SESSION,     /* changes session state: every node the session uses */
	RC_TX,          /* transaction control */
	RC_LOCAL        /* answered by pgpoold itself (SHOW pool_*, PGPOOL ...) */
} route_class;

/* route_info.flags */
#define RF_SELECT        0x0001  /* a SELECT statement (counts in select_cnt) */
#define RF_TX_BEGIN      0x0002
#define RF_TX_END        0x0004  /* COMMIT / ROLLBACK / END / ABORT / PREPARE TRANSACTION */
#define RF_TX_READ_ONLY  0x0008
#define RF_SERIALIZABLE  0x0010  /* serializable transaction or setting */
#define RF_SAVEPOINT     0x0020  /* SAVEPOINT / RELEASE / ROLLBACK TO */
#define RF_TEMP_CREATE   0x0040  /* creates a temporary table */
#define RF_DB_DDL        0x0080  /* CREATE/DROP/ALTER DATABASE */
#define RF_TOUCHES_TEMP  0x0100  /* reads a temporary table of this session */
#define RF_INSERT        0x0200
#define RF_UPDATE        0x0400
#define RF_DELETE        0x0800
#define RF_DDL           0x1000
#define RF_CATALOG       0x2000  /* reads system catalogs */
#define RF_NAMED         0x4000  /* EXECUTE/DEALLOCATE name: follow the PREPARE */
#define RF_DEALLOC_ALL   0x8000  /* DEALLOCATE ALL / DISCARD ALL: prepared statements go */

typedef struct route_info {
	route_class cls;
	uint32_t flags;
	int local_cmd;             /* RC_LOCAL: which command (show.h) */
	char name[64];             /* RF_NAMED: the prepared statement's name */
	size_t arg_off, arg_len;   /* PGPOOL SHOW/SET/RESET: argument text in the statement */
} route_info;

/* Per-worker routing context (classifier cache); NULL-safe to free. */
void *route_worker_init(char *err, size_t errlen);
void route_worker_free(void *ctx);

/* Analyze one statement text (not necessarily NUL-terminated). */
void route_analyze(struct session *s, const char *sql, size_t len, route_info *out);
/* Session lists kept by routing (freed with the session). */
void route_names_clear(char ***names, int *n);
void route_sqlprep_set(struct session *s, const char *name, int cls, uint32_t flags);
bool route_sqlprep_get(struct session *s, const char *name, int *cls, uint32_t *flags);
void route_sqlprep_free(struct session *s);

/* Choose a session's load-balance node (weighted, with redirect preferences). */
int route_choose_lb_node(struct session *s);
/* Where a read goes now: the session's load-balance node or the primary. */
int route_read_node(struct session *s, const route_info *ri);

#endif
