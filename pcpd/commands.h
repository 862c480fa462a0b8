/* The PCP commands pcpd serves once a client has authenticated.  Reads
 * come from the status segment, changes are requests on its queue; each
 * handler appends its whole reply (or an error) to out. */
#ifndef PGPOOLD_PCPD_COMMANDS_H
#define PGPOOLD_PCPD_COMMANDS_H

#include "session.h"

/* Dispatch one decoded request (any type but M, R and X). */
pcpd_action pcpd_command(pcpd_session *s, const pcp_request *req, buf *out);

#endif
