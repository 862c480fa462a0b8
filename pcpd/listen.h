/* pcpd's listening sockets: TCP on pcp_listen_addresses:pcp_port ("*" =
 * every address, "localhost", or a comma list of names / addresses; "" =
 * no TCP) and the unix socket <pcp_socket_dir>/.s.PGSQL.<pcp_port>, which
 * the pcp_* tools use when -h is not given. */
#ifndef PGPOOLD_PCPD_LISTEN_H
#define PGPOOLD_PCPD_LISTEN_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

#define PCPD_MAX_LISTENERS 16

typedef struct pcpd_listener {
	int fd;
	bool is_unix;
	char label[128];             /* "127.0.0.1:9898" or the socket path */
} pcpd_listener;

typedef struct pcpd_listeners {
	pcpd_listener items[PCPD_MAX_LISTENERS];
	int count;
	char unix_path[sizeof(((struct sockaddr_un *) 0)->sun_path)];  /* "" if none */
} pcpd_listeners;

/* Open every listener; false (logged, nothing left open) on failure. */
bool pcpd_listen(const pool_config *cfg, pcpd_listeners *ls);
/* Close them and remove the unix socket file. */
void pcpd_listen_close(pcpd_listeners *ls);

#endif
