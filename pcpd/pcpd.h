/* pcpd: the PCP server of one pgpoold instance, as its own process.
 *
 * Shape: the main thread owns the listening sockets (TCP on
 * pcp_listen_addresses:pcp_port and the unix socket
 * <pcp_socket_dir>/.s.PGSQL.<pcp_port>) and the signals; every accepted PCP
 * connection gets a thread (PCP traffic is a handful of small packets, and
 * a graceful detach may wait a minute for pgpoold: a blocking thread per
 * connection is the simplest design that never lets one client hold up
 * another).  Reads come from the status segment; changes are requests on
 * its queue, answered by pgpoold's failover manager.
 *
 * Shared state (context.c): the options, the loaded configuration and the
 * status segment mapping.  The last two change at run time (SIGHUP, a
 * pgpoold restart), so sessions take a counted reference for the length of
 * one command and never see either freed under them. */
#ifndef PGPOOLD_PCPD_H
#define PGPOOLD_PCPD_H

#include "config.h"
#include "status.h"

#include <stdbool.h>

/* Which Pgpool-II client generation the PCP replies are laid out for (the
 * protocol has no negotiation): node info has 12 fields for 4.3, 13 for
 * 4.4/4.5; process info 17 fields up to 4.4, 18 in 4.5. */
typedef enum pcpd_compat {
	PCPD_COMPAT_43 = 43,
	PCPD_COMPAT_44 = 44,
	PCPD_COMPAT_45 = 45,
} pcpd_compat;

typedef struct pcpd_options {
	const char *config_file;
	bool foreground;
	bool debug;
	const char *pid_file;        /* NULL: none */
	int request_timeout_ms;      /* how long a change may take in pgpoold */
	int idle_timeout_ms;         /* a PCP connection silent this long is closed */
	int max_connections;         /* PCP connections served at once */
	pcpd_compat compat;
} pcpd_options;

extern pcpd_options pcpd_opts;

/* ---- configuration (context.c) ---- */

/* Load the configuration file and make it current.  False (with every
 * problem logged) if it has errors: the previous one stays. */
bool pcpd_config_load(const char *path);
/* Install an already loaded configuration (tests, fuzzing); takes it over. */
void pcpd_config_install(pool_config *cfg);
/* The current configuration, held until pcpd_config_release(). */
const pool_config *pcpd_config_acquire(void);
void pcpd_config_release(const pool_config *cfg);
/* Drop the current configuration and segment (at exit). */
void pcpd_context_shutdown(void);

/* ---- status segment (context.c) ---- */

/* The segment of cfg's instance, (re)mapped if pgpoold started or
 * restarted since last time; the last one mapped if pgpoold is gone; NULL
 * if there never was one.  Held until pcpd_segment_release(). */
status_segment *pcpd_segment_acquire(const pool_config *cfg);
void pcpd_segment_release(status_segment *st);

#endif
