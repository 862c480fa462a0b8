/* Load-balance node choice: see lbnode.h. */
#include "lbnode.h"
#include "nodes.h"
#include "pgpoold.h"
#include "util.h"
#include "log.h"

#include "patlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TARGET_PRIMARY (-2)
#define TARGET_STANDBY (-1)

typedef struct pref_target {
	int target;              /* node id, TARGET_PRIMARY or TARGET_STANDBY */
	double ratio;
} pref_target;

typedef struct pref_list {
	patlist pats;            /* regex:target(ratio) */
	pref_target *targets;    /* parsed values, one per pattern */
} pref_list;

static pref_list db_prefs, app_prefs;

static void list_free(pref_list *l)
{
	patlist_free(&l->pats);
	free(l->targets);
	l->targets = NULL;
}

/* "primary", "standby" or a node id, with an optional "(ratio)". */
static bool parse_target(const char *list_name, const char *value, pref_target *t, char *err, size_t errlen)
{
	char target[64];
	snprintf(target, sizeof(target), "%s", value);
	t->ratio = 1.0;
	char *paren = strchr(target, '(');
	if (paren) {
		char *end;
		t->ratio = strtod(paren + 1, &end);
		if (*end != ')' || end[1] || t->ratio < 0 || t->ratio > 1) {
			snprintf(err, errlen, "%s: bad ratio in \"%s\"", list_name, value);
			return false;
		}
		*paren = '\0';
	}
	if (strcasecmp(target, "primary") == 0)
		t->target = TARGET_PRIMARY;
	else if (strcasecmp(target, "standby") == 0)
		t->target = TARGET_STANDBY;
	else {
		char *end;
		long n = strtol(target, &end, 10);
		if (!target[0] || *end || n < 0 || n >= MAX_BACKENDS) {
			snprintf(err, errlen, "%s: \"%s\" is not primary, standby or a node id", list_name, value);
			return false;
		}
		t->target = (int) n;
	}
	return true;
}

static bool parse_list(const char *list_name, const char *value, pref_list *l, char *err, size_t errlen)
{
	if (!patlist_parse(list_name, value, &l->pats, err, errlen))
		return false;
	if (l->pats.count == 0)
		return true;
	l->targets = calloc((size_t) l->pats.count, sizeof(*l->targets));
	if (!l->targets) {
		snprintf(err, errlen, "%s: out of memory", list_name);
		return false;
	}
	for (int i = 0; i < l->pats.count; i++)
		if (!parse_target(list_name, l->pats.entries[i].value, &l->targets[i], err, errlen))
			return false;
	return true;
}

bool lbnode_init(char *err, size_t errlen)
{
	lbnode_free();
	return parse_list("database_redirect_preference_list", g.cfg->database_redirect_preference_list,
			&db_prefs, err, errlen) &&
		parse_list("app_name_redirect_preference_list", g.cfg->app_name_redirect_preference_list,
			&app_prefs, err, errlen);
}

void lbnode_free(void)
{
	list_free(&db_prefs);
	list_free(&app_prefs);
}

static const pref_target *match(const pref_list *l, const char *subject)
{
	const patlist_entry *e = patlist_match(&l->pats, subject);
	return e ? &l->targets[e - l->pats.entries] : NULL;
}

static double random_unit(void)
{
	uint32_t r;
	if (!random_bytes(&r, sizeof(r)))
		r = (uint32_t) now_ms();
	return (double) r / 4294967296.0;
}

int lbnode_weighted_pick(int exclude, bool only_connected, const bool *connected)
{
	const pool_config *cfg = g.cfg;
	double total = 0;
	for (int n = 0; n < g.num_nodes; n++)
		if (n != exclude && node_usable(n) && (!only_connected || connected[n]))
			total += cfg->backends[n].weight;
	int main_node = nodes_primary();
	if (total <= 0)
		return main_node;
	double r = random_unit() * total, sum = 0;
	int last = main_node;
	for (int n = 0; n < g.num_nodes; n++) {
		if (n == exclude || !node_usable(n) || cfg->backends[n].weight <= 0 ||
		    (only_connected && !connected[n]))
			continue;
		sum += cfg->backends[n].weight;
		last = n;
		if (r < sum)
			return n;
	}
	return last;
}

/* The least delayed usable standbys, weighted (prefer_lower_delay_standby). */
static int least_delayed(void)
{
	int primary = nodes_primary();
	uint64_t best = UINT64_MAX;
	for (int n = 0; n < g.num_nodes; n++)
		if (n != primary && node_usable(n) && g.cfg->backends[n].weight > 0 &&
		    atomic_load(&node_rt[n].delay_bytes) < best)
			best = atomic_load(&node_rt[n].delay_bytes);
	if (best == UINT64_MAX)
		return primary;
	bool candidate[MAX_BACKENDS] = { false };
	for (int n = 0; n < g.num_nodes; n++)
		candidate[n] = n != primary && node_usable(n) && atomic_load(&node_rt[n].delay_bytes) == best;
	return lbnode_weighted_pick(-1, true, candidate);
}

static bool prefer_lower_delay(int node)
{
	const pool_config *cfg = g.cfg;
	return cfg->prefer_lower_delay_standby && node != nodes_primary() && node_lagging(node);
}

int lbnode_choose(const char *database, const char *application_name)
{
	const pool_config *cfg = g.cfg;
	int primary = nodes_primary();
	if (!cfg->load_balance_mode || g.num_nodes < 2)
		return primary;
	double r = random_unit();
	const pref_target *pref = match(&app_prefs, application_name);
	if (!pref)
		pref = match(&db_prefs, database);
	int exclude = -1, chosen = -1;
	if (pref) {
		int s = pref->target == TARGET_PRIMARY ? primary : pref->target;
		if (s >= 0 && s < g.num_nodes && node_usable(s)) {
			if (prefer_lower_delay(s))
				return least_delayed();
			if (r <= pref->ratio)
				return s;
			exclude = s;
		} else if (pref->target == TARGET_STANDBY) {
			if (r > pref->ratio)
				return primary;
			exclude = primary;
		}
	}
	chosen = lbnode_weighted_pick(exclude, false, NULL);
	if (prefer_lower_delay(chosen))
		chosen = least_delayed();
	return chosen >= 0 ? chosen : primary;
}
