/* The failover manager: the one thread that changes node status.  Every
 * trigger — a failed health check, a broken backend connection, pcpd's
 * attach / detach / promote / reload / stop — is a request on the status
 * segment's queue, handled in order: mark nodes down, run failover_command,
 * find the new primary, run follow_primary_command, persist the status. */
#ifndef PGPOOLD_FAILOVER_H
#define PGPOOLD_FAILOVER_H

#include <stdbool.h>

/* Internal request flag: check the node is really unreachable first (a
 * session's broken connection can be that backend alone). */
#define REQUEST_FLAG_VERIFY 0x100
/* Internal request flag: the requester saw the node fail (pg_status is
 * down without asking the server again, which may hang until a timeout). */
#define REQUEST_FLAG_SEEN_DOWN 0x200

int failover_start(void);
void failover_stop(void);
/* Queue requests from inside pgpoold (no waiting). */
void failover_request_detach(int node, bool seen_down, const char *why);
void failover_request_detach_verify(int node, const char *why);
void failover_request_attach(int node);

#endif
