/* Routing decisions: see route.h. */
#include "route.h"
#include "session.h"
#include "nodes.h"
#include "srcheck.h"
#include "lbnode.h"
#include "pgpoold.h"
#include "util.h"
#include "classify.h"
#include "show.h"
#include "worker.h"

#include <stdlib.h>
#include <string.h>

void *route_worker_init(char *err, size_t errlen)
{
	const pool_config *cfg = g.cfg;
	return classifier_new(cfg->write_function_list, cfg->read_only_function_list,
		cfg->primary_routing_query_pattern_list, err, errlen);
}

void route_worker_free(void *ctx)
{
	classifier_free(ctx);
}

/* ---------------------------------------------------------------- session name lists */

static int name_index(char **names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

static void name_add(char ***names, int *n, const char *name)
{
	if (name_index(*names, *n, name) >= 0)
		return;
	char **p = realloc(*names, sizeof(char *) * (size_t) (*n + 1));
	if (!p)
		return;
	*names = p;
	if ((p[*n] = strdup(name)) != NULL)
		(*n)++;
}

static void name_remove(char **names, int *n, const char *name)
{
	int i = name_index(names, *n, name);
	if (i < 0)
		return;
	free(names[i]);
	names[i] = names[--(*n)];
}

void route_names_clear(char ***names, int *n)
{
	for (int i = 0; i < *n; i++)
		free((*names)[i]);
	free(*names);
	*names = NULL;
	*n = 0;
}

/* Temporary tables this session created (Pgpool-II's check_temp_table =
 * trace): reads of them go to the primary, the only node that has them. */
static void track_temp_tables(session *s, const stmt_class *c)
{
	if (c->flags & SF_DISCARD_TEMP)
		route_names_clear(&s->temp_tables, &s->num_temp_tables);
	for (unsigned i = 0; i < c->nrelations && i < 16; i++) {
		if (c->created & (1u << i) && (c->flags & SF_TEMP_TABLE_CREATE))
			name_add(&s->temp_tables, &s->num_temp_tables, c->relations[i]);
		if (c->dropped & (1u << i))
			name_remove(s->temp_tables, &s->num_temp_tables, c->relations[i]);
	}
}

static bool touches(char **names, int n, const stmt_class *c)
{
	for (unsigned i = 0; n > 0 && i < c->nrelations; i++)
		if (name_index(names, n, c->relations[i]) >= 0)
			return true;
	return false;
}

static uint32_t stat_flags(stmt_stat st)
{
	switch (st) {
	case STAT_SELECT: return RF_SELECT;
	case STAT_INSERT: return RF_INSERT;
	case STAT_UPDATE: return RF_UPDATE;
	case STAT_DELETE: return RF_DELETE;
	case STAT_DDL: return RF_DDL;
	default: return 0;
	}
}

static const int show_of_pool[] = {
	[POOL_SHOW_NODES] = SHOW_POOL_NODES, [POOL_SHOW_STATUS] = SHOW_POOL_STATUS,
	[POOL_SHOW_PROCESSES] = SHOW_POOL_PROCESSES, [POOL_SHOW_POOLS] = SHOW_POOL_POOLS,
	[POOL_SHOW_VERSION] = SHOW_POOL_VERSION, [POOL_SHOW_CACHE] = SHOW_POOL_CACHE,
	[POOL_SHOW_HEALTH_CHECK_STATS] = SHOW_POOL_HEALTH_CHECK_STATS,
	[POOL_SHOW_BACKEND_STATS] = SHOW_POOL_BACKEND_STATS,
};

static void analyze_local(const stmt_class *c, route_info *out)
{
	out->cls = RC_LOCAL;
	if (c->dest == CLASS_POOL_SHOW)
		out->local_cmd = show_of_pool[c->pool_show];
	else
		out->local_cmd = c->pgpool == PGPOOL_CMD_SHOW ? PGPOOL_SHOW :
			c->pgpool == PGPOOL_CMD_SET ? PGPOOL_SET : PGPOOL_RESET;
	out->arg_off = c->arg_off;
	out->arg_len = c->arg_len;
}

static void analyze_tx(const stmt_class *c, route_info *out)
{
	switch (c->tx) {
	case TX_BEGIN:
		out->flags |= RF_TX_BEGIN;
		break;
	case TX_COMMIT:
	case TX_ROLLBACK:
		out->flags |= RF_TX_END;
		break;
	case TX_SAVEPOINT:
	case TX_RELEASE:
	case TX_ROLLBACK_TO:
		out->flags |= RF_SAVEPOINT;
		break;
	default:
		break;
	}
	if (c->flags & SF_TX_READ_ONLY)
		out->flags |= RF_TX_READ_ONLY;
	if (c->flags & SF_TX_SERIALIZABLE)
		out->flags |= RF_SERIALIZABLE;
}

/* ---------------------------------------------------------------- SQL PREPARE */

void route_sqlprep_set(session *s, const char *name, int cls, uint32_t flags)
{
	for (int i = 0; i < s->num_sqlprep; i++)
		if (strcmp(s->sqlprep[i].name, name) == 0) {
			s->sqlprep[i].cls = cls;
			s->sqlprep[i].flags = flags;
			return;
		}
	sqlprep_entry *p = realloc(s->sqlprep, sizeof(*p) * (size_t) (s->num_sqlprep + 1));
	if (!p)
		return;
	s->sqlprep = p;
	p[s->num_sqlprep].name = strdup(name);
	if (!p[s->num_sqlprep].name)
		return;
	p[s->num_sqlprep].cls = cls;
	p[s->num_sqlprep].flags = flags;
	s->num_sqlprep++;
}

bool route_sqlprep_get(session *s, const char *name, int *cls, uint32_t *flags)
{
	for (int i = 0; i < s->num_sqlprep; i++)
		if (strcmp(s->sqlprep[i].name, name) == 0) {
			*cls = s->sqlprep[i].cls;
			*flags = s->sqlprep[i].flags;
			return true;
		}
	return false;
}

void route_sqlprep_free(session *s)
{
	for (int i = 0; i < s->num_sqlprep; i++)
		free(s->sqlprep[i].name);
	free(s->sqlprep);
	s->sqlprep = NULL;
	s->num_sqlprep = 0;
}

/* Could the statement leave state in the backend session beyond its own
 * transaction (SET, PREPARE, LISTEN, temp objects, cursors, DO, CALL, or
 * any function call: set_config, advisory locks, currval...)?  A session
 * that never ran such a statement skips reset_query_list when it leaves:
 * there is nothing for DISCARD ALL to undo, and connecting clients (pgbench
 * -C, short-lived web requests) get their backend without that round trip.
 * Conservative: only plain SELECT/INSERT/UPDATE/DELETE without function
 * calls, and transaction control, leave a session clean. */
static void note_session_state(session *s, const stmt_class *c)
{
	const uint32_t marks = SF_CALLS_FUNCTION | SF_TEMP_TABLE_CREATE | SF_LISTEN | SF_CURSOR |
		SF_PARSE_ERROR | SF_TOO_COMPLEX | SF_TWO_PHASE | SF_SELECT_INTO | SF_DISCARD_TEMP |
		SF_TEMP_SCHEMA | SF_MULTI_STATEMENT;
	bool plain = c->stat == STAT_SELECT || c->stat == STAT_INSERT || c->stat == STAT_UPDATE ||
		c->stat == STAT_DELETE;
	if (s->session_dirty || (c->flags & SF_EMPTY))
		return;
	if ((!plain && c->dest != CLASS_TX) || (c->flags & marks) || c->ps != PS_NONE)
		s->session_dirty = true;
}

void route_analyze(session *s, const char *sql, size_t len, route_info *out)
{
	memset(out, 0, sizeof(*out));
	classifier *cl = s->ev.w->route_ctx;
	const stmt_class *c = classify(cl, sql, len);
	if (c->dest == CLASS_POOL_SHOW || c->dest == CLASS_PGPOOL) {
		analyze_local(c, out);
		return;
	}
	out->flags = stat_flags(c->stat);
	note_session_state(s, c);
	if (c->flags & SF_DATABASE_DDL)
		out->flags |= RF_DB_DDL;
	if (c->ps == PS_DEALLOCATE_ALL)
		out->flags |= RF_DEALLOC_ALL;
	track_temp_tables(s, c);
	switch (c->dest) {
	case CLASS_READ:
		out->cls = RC_READ;
		if (c->flags & SF_READ_ON_PRIMARY)
			out->flags |= RF_CATALOG;
		if (touches(s->temp_tables, s->num_temp_tables, c))
			out->flags |= RF_TOUCHES_TEMP;
		if (strcmp(g.cfg->disable_load_balance_on_write, "dml_adaptive") == 0 &&
		    touches(s->tx_written, s->num_tx_written, c))
			out->flags |= RF_TOUCHES_TEMP;   /* read of a table written in this transaction */
		break;
	case CLASS_SESSION:
		out->cls = RC_SESSION;
		break;
	case CLASS_TX:
		out->cls = RC_TX;
		analyze_tx(c, out);
		break;
	default:
		out->cls = RC_WRITE;
		for (unsigned i = 0; i < c->nrelations && i < 16; i++)
			if (c->written & (1u << i))
				name_add(&s->tx_written, &s->num_tx_written, c->relations[i]);
		break;
	}
	if (c->flags & SF_TX_SERIALIZABLE)
		out->flags |= RF_SERIALIZABLE;
	/* SQL-level prepared statements: PREPARE reaches every node; EXECUTE
	 * runs where its statement's class says */
	if (c->ps == PS_PREPARE && c->ps_name) {
		route_sqlprep_set(s, c->ps_name, (int) out->cls, out->flags);
		out->cls = RC_SESSION;
	} else if ((c->ps == PS_EXECUTE || c->ps == PS_DEALLOCATE) && c->ps_name) {
		int cls;
		uint32_t flags;
		if (c->ps == PS_DEALLOCATE)
			out->cls = RC_SESSION;
		else if (route_sqlprep_get(s, c->ps_name, &cls, &flags)) {
			out->cls = (route_class) cls;
			out->flags |= flags & ~(RF_TX_BEGIN | RF_TX_END | RF_SAVEPOINT);
		} else
			out->cls = RC_WRITE;
	}
}

int route_choose_lb_node(session *s)
{
	return lbnode_choose(s->sp.database, s->sp.application_name);
}

int route_read_node(session *s, const route_info *ri)
{
	const pool_config *cfg = g.cfg;
	int lb = s->lb_node;
	if (cfg->statement_level_load_balance && cfg->load_balance_mode) {
		/* a fresh pick per statement, among the nodes this session has */
		bool connected[MAX_BACKENDS] = { false };
		for (int n = 0; n < s->num_conns; n++)
			connected[n] = s->conns[n] != NULL;
		lb = lbnode_weighted_pick(-1, true, connected);
	}
	if (lb < 0 || lb == s->primary || !cfg->load_balance_mode || !s->conns[lb] || !node_usable(lb))
		return s->primary;
	if (ri->flags & (RF_TOUCHES_TEMP | RF_CATALOG))
		return s->primary;
	bool in_tx = s->tx_status != 'I' || !nodeset_empty(&s->in_tx);
	const char *mode = cfg->disable_load_balance_on_write;
	if (in_tx) {
		if (s->tx_status == 'E' || s->tx_primary_only)
			return s->primary;
		if (s->tx_wrote && strcmp(mode, "off") != 0 && strcmp(mode, "dml_adaptive") != 0)
			return s->primary;
		if (s->trans_flag && strcmp(mode, "trans_transaction") == 0)
			return s->primary;
	}
	if (s->ever_wrote && strcmp(mode, "always") == 0)
		return s->primary;
	if (node_lagging(lb))
		return s->primary;
	if (cfg->causal_reads && (s->wrote_unacked || (s->causal_since_ms && !srcheck_caught_up(lb, s->causal_since_ms))))
		return s->primary;
	return lb;
}
