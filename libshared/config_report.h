/* The rows of pcp_pool_status / SHOW pool_status: the configuration as
 * (name, value, description) in Pgpool-II 4.3's order and value formats
 * (booleans 0/1, enumerations as Pgpool-II's integer codes, lists joined
 * with its separators), then 8 rows per backend whose status and delay come
 * from the status segment.
 *
 * Only parameters pgpoold has are listed (pgpoold's own workers and
 * max_clients stand where num_init_children stood); a parameter added to
 * config.h needs a row in config_report.c to appear here. */
#ifndef PGPOOLD_CONFIG_REPORT_H
#define PGPOOLD_CONFIG_REPORT_H

#include "config.h"
#include "status.h"

#define CONFIG_REPORT_NAME_LEN  64
#define CONFIG_REPORT_VALUE_LEN 512
#define CONFIG_REPORT_DESC_LEN  96

typedef struct config_report_row {
	char name[CONFIG_REPORT_NAME_LEN];
	char value[CONFIG_REPORT_VALUE_LEN];
	char desc[CONFIG_REPORT_DESC_LEN];
} config_report_row;

/* Build every row into a malloc'd array (*rows, free() it); returns the
 * count, or -1 if out of memory.  st may be NULL (pgpoold not running):
 * backend statuses are then "unknown" and delays 0. */
int config_report_rows(const pool_config *cfg, const status_segment *st, config_report_row **rows);

#endif
