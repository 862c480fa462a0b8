/* What the tools print: Pgpool-II 4.3's plain and -v layouts byte for
 * byte, and pgpoold's --json. */
#ifndef PGPOOLD_TOOLS_PCP_OUTPUT_H
#define PGPOOLD_TOOLS_PCP_OUTPUT_H

#include "pcp_client.h"
#include "pcp_result.h"

#include <stdbool.h>

typedef struct output_opts {
	bool verbose;
	bool all;
	bool json;
	int node_id;                 /* the node asked for; -1 = all */
	const char *progname;
} output_opts;

void output_node_count(const pcp_answer *r, const output_opts *o);
void output_node_info(const pcp_answer *r, const output_opts *o);
void output_health_check_stats(const pcp_answer *r, const output_opts *o);
void output_pool_status(const pcp_answer *r, const output_opts *o);
void output_proc_count(const pcp_answer *r, const output_opts *o);
void output_proc_info(const pcp_answer *r, const output_opts *o);
void output_watchdog_info(const pcp_answer *r, const output_opts *o);

/* "<prog> -- Command Successful" (or its JSON). */
void output_success(const output_opts *o);
/* The connection's last error: stderr text plus a newline, as the tools
 * print it, or a JSON object on stdout. */
void output_error(const pcp_conn *c, const output_opts *o);

#endif
