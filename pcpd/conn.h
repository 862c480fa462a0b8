/* A PCP connection served by its own thread: reads frames, hands them to
 * the session, writes the replies, closes on X, a FATAL error, a framing
 * error, idleness or the peer leaving. */
#ifndef PGPOOLD_PCPD_CONN_H
#define PGPOOLD_PCPD_CONN_H

#include <stdbool.h>

/* Serve fd (accepted; peer describes it for logs) on a new detached
 * thread.  Takes fd over; false (fd closed) if the thread could not start
 * or too many connections are being served. */
bool pcpd_conn_start(int fd, const char *peer);
/* Connections being served now. */
int pcpd_conn_count(void);

#endif
