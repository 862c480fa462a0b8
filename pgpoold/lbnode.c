/* Load-balance node choice: see lbnode.h. */
#include "lbnode.h"
#include "nodes.h"
#include "pgpoold.h"
#include "util.h"
#include "log.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGET_PRIMARY (-2)
#define TARGET_STANDBY (-1)

typedef struct pref_entry {
	pcre2_code *re;
	int target;              /* node id, TARGET_PRIMARY or TARGET_STANDBY */
	double ratio;
} pref_entry;

typedef struct pref_list {
	pref_entry *entries;
	int count;
} pref_list;

static pref_list db_prefs, app_prefs;

static void list_free(pref_list *l)
{
	for (int i = 0; i < l->count; i++)
		pcre2_code_free(l->entries[i].re);
	free(l->entries);
	l->entries = NULL;
	l->count = 0;
}

/* One "regex:target(ratio)" entry. */
static bool parse_entry(const char *list_name, char *text, pref_entry *e, char *err, size_t errlen)
{
	char *colon = strrchr(text, ':');
	if (!colon || colon == text) {
		snprintf(err, errlen, "%s: \"%s\" is not regex:node", list_name, text);
		return false;
	}
	*colon = '\0';
	char *target = colon + 1;
	e->ratio = 1.0;
	char *paren = strchr(target, '(');
	if (paren) {
		char *end;
		e->ratio = strtod(paren + 1, &end);
		if (*end != ')' || e->ratio < 0 || e->ratio > 1) {
			snprintf(err, errlen, "%s: bad ratio in \"%s\"", list_name, target);
			return false;
		}
		*paren = '\0';
	}
	if (strcasecmp(target, "primary") == 0)
		e->target = TARGET_PRIMARY;
	else if (strcasecmp(target, "standby") == 0)
		e->target = TARGET_STANDBY;
	else {
		char *end;
		long n = strtol(target, &end, 10);
		if (*end || n < 0 || n >= MAX_BACKENDS) {
			snprintf(err, errlen, "%s: \"%s\" is not primary, standby or a node id", list_name, target);
			return false;
		}
		e->target = (int) n;
	}
	/* anchored and case-insensitive, as Pgpool-II */
	char pattern[512];
	snprintf(pattern, sizeof(pattern), "%s%s%s", text[0] == '^' ? "" : "^", text,
		text[strlen(text) - 1] == '$' ? "" : "$");
	int code;
	PCRE2_SIZE off;
	e->re = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &code, &off, NULL);
	if (!e->re) {
		PCRE2_UCHAR msg[128];
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errlen, "%s: bad regular expression \"%s\": %s", list_name, text, (char *) msg);
		return false;
	}
	return true;
}

static bool parse_list(const char *list_name, const char *value, pref_list *l, char *err, size_t errlen)
{
	char *copy = strdup(value);
	if (!copy)
		return false;
	bool ok = true;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		size_t n = strlen(tok);
		while (n && tok[n - 1] == ' ')
			tok[--n] = '\0';
		if (!n)
			continue;
		pref_entry *p = realloc(l->entries, sizeof(*p) * (size_t) (l->count + 1));
		if (!p) {
			ok = false;
			break;
		}
		l->entries = p;
		memset(&p[l->count], 0, sizeof(p[0]));
		ok = parse_entry(list_name, tok, &p[l->count], err, errlen);
		if (ok)
			l->count++;
	}
	free(copy);
	return ok;
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

static const pref_entry *match(const pref_list *l, const char *subject)
{
	if (!subject || !subject[0])
		return NULL;
	for (int i = 0; i < l->count; i++) {
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(l->entries[i].re, NULL);
		if (!md)
			return NULL;
		int rc = pcre2_match(l->entries[i].re, (PCRE2_SPTR) subject, strlen(subject), 0, 0, md, NULL);
		pcre2_match_data_free(md);
		if (rc >= 0)
			return &l->entries[i];
	}
	return NULL;
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
	const pref_entry *pref = match(&app_prefs, application_name);
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
