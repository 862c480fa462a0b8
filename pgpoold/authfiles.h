/* pool_hba.conf and pool_passwd as loaded now.  A reload (SIGHUP) builds a
 * new set and swaps it in; sessions hold a reference to the set they started
 * authenticating with, so a reload never frees one under them. */
#ifndef PGPOOLD_AUTHFILES_H
#define PGPOOLD_AUTHFILES_H

#include "pool_hba.h"
#include "pool_passwd.h"

#include <stdbool.h>

typedef struct authfiles {
	hba_rules *hba;          /* NULL when enable_pool_hba is off */
	pool_passwd *passwd;     /* NULL when pool_passwd is "" or missing */
	char *aes_key;           /* for AES entries; NULL if no key file */
	int refs;
} authfiles;

/* Load from the current config; false (and the old set stays) on an error in
 * pool_hba.conf, as PostgreSQL keeps its old pg_hba.conf. */
bool authfiles_load(void);
authfiles *authfiles_get(void);
/* A user's password in plain text (PLAIN/TEXT, or AES with the key), malloc'd;
 * NULL if the user has none usable. */
char *authfiles_plain_password(const authfiles *af, const char *user);
void authfiles_put(authfiles *af);
void authfiles_shutdown(void);

#endif
