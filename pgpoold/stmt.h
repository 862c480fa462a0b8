/* Prepared statements and portals of one session, tracked per node so that
 * a Bind or Execute reaches the node that parsed it, and a statement parsed
 * on one node can be parsed again on another when routing needs it there. */
#ifndef PGPOOLD_STMT_H
#define PGPOOLD_STMT_H

#include "nodeset.h"

#include <stddef.h>
#include <stdint.h>

typedef struct pstmt {
	char *name;               /* "" = the unnamed statement */
	uint8_t *parse_msg;       /* the client's whole Parse message, to replay */
	size_t parse_len;
	int route_class;          /* route_class of its query (see route.h) */
	uint32_t route_flags;
	nodeset parsed_on;        /* nodes that have it now (session pooling) */
	int local_cmd;            /* RC_LOCAL: which of pgpoold's own commands */
	size_t arg_off, arg_len;  /* its arguments in the query text */
	uint64_t hash;            /* transaction pooling: of its text and types; */
	char server_name[32];     /* prepared on backends as "pgpoold_<hash>" */
	struct pstmt *next;
} pstmt;

typedef struct portal {
	char *name;               /* "" = the unnamed portal */
	nodeset on;               /* nodes it was bound on */
	int forward_node;         /* whose replies the client sees */
	int route_class;
	uint32_t route_flags;
	char *sql;                /* query text when it opens a transaction (replayed on
	                             standbys), or of pgpoold's own command */
	int local_cmd;            /* RC_LOCAL: which command; its reply is built at Execute */
	size_t arg_off, arg_len;
	struct portal *next;
} portal;

typedef struct stmt_table {
	pstmt *stmts;
	portal *portals;
	int num_stmts;
	int num_portals;
} stmt_table;

pstmt *stmt_find(stmt_table *t, const char *name);
/* Record a Parse (replacing a statement of the same name): copies msg. */
pstmt *stmt_add(stmt_table *t, const char *name, const uint8_t *msg, size_t len, int route_class, uint32_t flags);
void stmt_remove(stmt_table *t, const char *name);
portal *portal_find(stmt_table *t, const char *name);
portal *portal_add(stmt_table *t, const char *name);
void portal_remove(stmt_table *t, const char *name);
/* At transaction end every portal but the unnamed one's record goes away
 * (WITH HOLD cursors are DECLAREd in SQL and never show up here). */
void portal_clear_named(stmt_table *t);
void stmt_table_free(stmt_table *t);

#endif
