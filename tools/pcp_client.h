/* The client side of a PCP connection for the pcp_* tools: connect (unix
 * socket or TCP, as Pgpool-II 4.3's libpcp chooses), authenticate, send
 * requests, read replies, and keep the last error as the text Pgpool-II's
 * tools print (so ours print the same). */
#ifndef PGPOOLD_TOOLS_PCP_CLIENT_H
#define PGPOOLD_TOOLS_PCP_CLIENT_H

#include "buf.h"
#include "pcp_codec.h"

#include <stdbool.h>
#include <stdio.h>

#define PCP_DEFAULT_SOCKET_DIR "/tmp"

typedef struct pcp_conn {
	int fd;
	bool ok;                     /* connected and authenticated */
	FILE *debug;                 /* -d: protocol trace goes here (stdout) */
	char error[1024];            /* last error, Pgpool-II's wording */
	/* the last 'E' packet's fields, for --json (empty if the error was local) */
	char err_severity[16];
	char err_message[256];
	char err_detail[512];
	uint8_t *in;                 /* the packet last read */
	size_t incap;
} pcp_conn;

/* Connect and authenticate.  host NULL/"" = the unix socket in /tmp, a
 * value starting with '/' = the socket in that folder, anything else = TCP
 * (IPv4 name resolution, as the 4.3 tools).  user NULL = the OS user;
 * password NULL/"" = look in the password file.  False with c->error set. */
bool pcp_conn_open(pcp_conn *c, const char *host, int port, const char *user,
		   const char *password, FILE *debug);

/* Send one request; trace_tos is the letter the -d trace shows (Pgpool-II
 * shows some requests under another letter) and trace_label the prefix
 * ("DEBUG" normally).  False with c->error set. */
bool pcp_conn_send(pcp_conn *c, const buf *packet, char trace_tos, const char *trace_label);

/* Read the next reply packet (f's payload is valid until the next read).
 * 'N' notices are consumed here (traced with -d).  False with c->error set
 * when the connection fails. */
bool pcp_conn_read(pcp_conn *c, pcp_frame *f);

/* Set c->error from an 'E' payload the way Pgpool-II's tools format it:
 * "<S>:  <M>\n" plus "DETAIL:  <D>\n". */
void pcp_conn_error_from_packet(pcp_conn *c, const uint8_t *payload, size_t len);
void pcp_conn_set_error(pcp_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Send X (if still usable) and close. */
void pcp_conn_close(pcp_conn *c);

#endif
