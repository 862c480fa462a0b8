/* The node status file (Pgpool-II's "pgpool_status" in logdir): one line per
 * backend node, "up", "down" or "unused", so that a restarted pgpoold does
 * not send traffic to a node that was failed.  pgpoold writes it whenever a
 * node status changes and reads it at start; `pgpoold -D` discards it.
 *
 * Writing is crash-safe: a temporary file in the same folder is written and
 * fsync'ed, renamed over the old one, and the folder is fsync'ed.
 *
 * Policy left to the caller (the failover manager), as Pgpool-II does it:
 * a file with more or fewer lines than configured nodes applies to the
 * lines it has; if it says every configured node is down, ignore it (the
 * file is bogus: at least one node must serve). */
#ifndef PGPOOLD_STATUS_FILE_H
#define PGPOOLD_STATUS_FILE_H

#include "config.h"
#include "status.h"

#include <stdbool.h>
#include <stddef.h>

#define STATUS_FILE_NAME "pgpool_status"

/* Result of status_file_read(). */
typedef enum status_file_result {
	STATUS_FILE_OK = 0,
	STATUS_FILE_ABSENT,       /* no file: start from the configuration */
	STATUS_FILE_BOGUS,        /* unreadable or not a status file: ignore it (err says why) */
} status_file_result;

/* "<logdir>/pgpool_status", malloc'd; NULL if out of memory. */
char *status_file_path(const pool_config *cfg);

/* Write one line per node: NODE_STATUS_UP and NODE_STATUS_WAITING as "up",
 * NODE_STATUS_DOWN as "down", NODE_STATUS_UNUSED as "unused".  Returns true
 * on success, false with a message in err. */
bool status_file_write(const char *path, const status_node_state *statuses, int count,
		       char *err, size_t errlen);

/* Write the statuses the segment holds now. */
bool status_file_write_segment(const char *path, const status_segment *st, char *err, size_t errlen);

/* Read up to max entries into statuses (NODE_STATUS_UP / _DOWN / _UNUSED);
 * *count = lines read.  Blank trailing lines and surrounding blanks are
 * ignored; any other line, more than max lines, or an empty file make the
 * file bogus. */
status_file_result status_file_read(const char *path, status_node_state *statuses, int max,
				    int *count, char *err, size_t errlen);

/* Remove the file (pgpoold -D).  Absent is success. */
bool status_file_discard(const char *path, char *err, size_t errlen);

#endif
