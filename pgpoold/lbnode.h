/* Choosing a session's load-balance node, Pgpool-II 4.3's algorithm
 * (select_load_balancing_node): database_redirect_preference_list and
 * app_name_redirect_preference_list ("regex:target(ratio),..."), then a
 * weighted random pick, then the delay post-check. */
#ifndef PGPOOLD_LBNODE_H
#define PGPOOLD_LBNODE_H

#include <stdbool.h>
#include <stddef.h>

/* Compile the preference lists of the current config; false with a message
 * (naming the bad entry) in err. */
bool lbnode_init(char *err, size_t errlen);
void lbnode_free(void);
/* database and application_name from the startup packet (NULL if none). */
int lbnode_choose(const char *database, const char *application_name);
/* Weighted random pick over usable nodes, `exclude` skipped (-1 = none). */
int lbnode_weighted_pick(int exclude, bool only_connected, const bool *connected);

#endif
