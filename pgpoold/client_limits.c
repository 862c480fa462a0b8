/* Client limits per database and per user: see limits.h.  A small table of
 * names and counts under one mutex, touched once at login and once at exit. */
#include "client_limits.h"
#include "pgpoold.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct name_count {
	char *name;
	int count;
	struct name_count *next;
} name_count;

static pthread_mutex_t limits_lock = PTHREAD_MUTEX_INITIALIZER;
static name_count *databases, *users;

static name_count *find(name_count **list, const char *name, bool create)
{
	for (name_count *nc = *list; nc; nc = nc->next)
		if (strcmp(nc->name, name) == 0)
			return nc;
	if (!create)
		return NULL;
	name_count *nc = calloc(1, sizeof(*nc));
	if (!nc || !(nc->name = strdup(name))) {
		free(nc);
		return NULL;
	}
	nc->next = *list;
	*list = nc;
	return nc;
}

bool limits_enter(const char *database, const char *user, char *msg, size_t msglen)
{
	const pool_config *cfg = g.cfg;
	if (cfg->max_db_connections <= 0 && cfg->max_user_connections <= 0)
		return true;
	pthread_mutex_lock(&limits_lock);
	name_count *db = find(&databases, database, true);
	name_count *us = find(&users, user, true);
	bool ok = db && us;
	if (ok && cfg->max_db_connections > 0 && db->count >= cfg->max_db_connections) {
		snprintf(msg, msglen, "too many connections for database \"%s\" (max_db_connections = %d)",
			database, cfg->max_db_connections);
		ok = false;
	} else if (ok && cfg->max_user_connections > 0 && us->count >= cfg->max_user_connections) {
		snprintf(msg, msglen, "too many connections for role \"%s\" (max_user_connections = %d)",
			user, cfg->max_user_connections);
		ok = false;
	} else if (!ok)
		snprintf(msg, msglen, "out of memory");
	if (ok) {
		db->count++;
		us->count++;
	}
	pthread_mutex_unlock(&limits_lock);
	return ok;
}

void limits_leave(const char *database, const char *user)
{
	const pool_config *cfg = g.cfg;
	if (cfg->max_db_connections <= 0 && cfg->max_user_connections <= 0)
		return;
	pthread_mutex_lock(&limits_lock);
	name_count *db = find(&databases, database, false);
	name_count *us = find(&users, user, false);
	if (db && db->count > 0)
		db->count--;
	if (us && us->count > 0)
		us->count--;
	pthread_mutex_unlock(&limits_lock);
}

static void free_list(name_count **list)
{
	while (*list) {
		name_count *nc = *list;
		*list = nc->next;
		free(nc->name);
		free(nc);
	}
}

void limits_free(void)
{
	pthread_mutex_lock(&limits_lock);
	free_list(&databases);
	free_list(&users);
	pthread_mutex_unlock(&limits_lock);
}
