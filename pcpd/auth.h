/* PCP authentication against pcp.conf ("user:md5hex" lines), as Pgpool-II
 * does it: the file is read again for every attempt (edits apply at once),
 * '#' lines and empty lines are skipped, the password is everything after
 * the first ':' up to the end of the line (not trimmed), and every line of
 * the user is tried in order. */
#ifndef PGPOOLD_PCPD_AUTH_H
#define PGPOOLD_PCPD_AUTH_H

#include "pcp_codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCPD_AUTH_FIELD_MAX 128   /* Pgpool-II's MAX_USER_PASSWD_LEN */

/* True if response is the salted hash of one of user's pcp.conf entries.
 * On failure message/detail hold the FATAL texts Pgpool-II sends. */
bool pcpd_authenticate(const char *pcp_conf, const char *user, const char *response,
		       const uint8_t salt[PCP_SALT_LEN], char *message, size_t messagelen,
		       char *detail, size_t detaillen);

#endif
