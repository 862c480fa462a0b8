/* failover_command, failback_command and follow_primary_command: Pgpool-II's
 * placeholders expanded, run with /bin/sh -c, waited for. */
#ifndef PGPOOLD_COMMAND_H
#define PGPOOLD_COMMAND_H

typedef struct command_nodes {
	int node;            /* %d %h %p %D: the failed / attached / followed node */
	int new_main;        /* %m %H %r %R */
	int old_main;        /* %M */
	int old_primary;     /* %P %N %S */
} command_nodes;

/* Expand the placeholders of tmpl (malloc'd result; NULL on out of memory).
 * A placeholder for a node that does not exist becomes "" (two quote
 * characters), an unknown letter after % is dropped, as Pgpool-II does. */
char *command_expand(const char *tmpl, const command_nodes *n);
/* Run an expanded command; its exit status (-1 if it could not run). */
int command_run(const char *what, const char *cmd);

#endif
