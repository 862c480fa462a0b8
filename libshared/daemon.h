/* What both daemons (pgpoold, pcpd) do to become one: detach from the
 * terminal, and keep a pid file that refuses a second instance. */
#ifndef PGPOOLD_DAEMON_H
#define PGPOOLD_DAEMON_H

#include <stdbool.h>

/* Fork twice and start a new session; stdin/stdout (and stderr unless
 * keep_stderr, for a log file) go to /dev/null.  -1 on failure. */
int daemon_detach(bool keep_stderr);
/* Write our pid; refuse (false, logged) when the file names another live
 * process: is another instance running? */
bool pidfile_write(const char *path);

#endif
