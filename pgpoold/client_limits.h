/* Per-database and per-user client limits (max_db_connections,
 * max_user_connections), shared by all workers. */
#ifndef PGPOOLD_CLIENT_LIMITS_H
#define PGPOOLD_CLIENT_LIMITS_H

#include <stdbool.h>
#include <stddef.h>

/* Count a client in; false (and nothing counted) when a limit is reached,
 * with the PostgreSQL-style message in msg. */
bool limits_enter(const char *database, const char *user, char *msg, size_t msglen);
void limits_leave(const char *database, const char *user);
void limits_free(void);

#endif
