/* Authenticating a client: trust, reject, password, md5, scram-sha-256,
 * against pool_passwd.  The exchange runs inside the session's state
 * machine: client_auth_start() queues the first request, each client
 * message goes to client_auth_message(). */
#ifndef PGPOOLD_CLIENT_AUTH_H
#define PGPOOLD_CLIENT_AUTH_H

#include "pool_hba.h"

#include <stddef.h>
#include <stdint.h>

struct session;
struct client_auth;

typedef enum auth_result { AUTH_CONTINUE, AUTH_DONE, AUTH_FAILED } auth_result;

/* Begin authenticating with method; AUTH_DONE for trust, AUTH_FAILED (error
 * queued) for reject. */
auth_result client_auth_start(struct session *s, hba_method method, int hba_line);
auth_result client_auth_message(struct session *s, char type, const uint8_t *body, size_t len);
void client_auth_free(struct client_auth *a);

#endif
