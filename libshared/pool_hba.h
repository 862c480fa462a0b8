/* pool_hba.conf: pg_hba.conf syntax (local/host/hostssl/hostnossl, database
 * and user lists, CIDR or address+mask, all/samehost/samenet; methods trust,
 * reject, password, md5, scram-sha-256, cert).  First matching line decides;
 * no match = reject. */
#ifndef PGPOOLD_POOL_HBA_H
#define PGPOOLD_POOL_HBA_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef enum hba_conn_type { HBA_LOCAL, HBA_HOST, HBA_HOSTSSL, HBA_HOSTNOSSL } hba_conn_type;
typedef enum hba_method { HBA_TRUST, HBA_REJECT, HBA_PASSWORD, HBA_MD5, HBA_SCRAM, HBA_CERT } hba_method;

typedef struct hba_rules hba_rules;

typedef struct hba_client {
	bool is_local;                  /* unix socket */
	bool is_ssl;
	const struct sockaddr *addr;    /* NULL for unix socket */
	socklen_t addrlen;
	const char *user;
	const char *database;
} hba_client;

typedef struct hba_match {
	bool matched;                   /* false: no line matched (reject) */
	hba_method method;
	int lineno;                     /* line of the matching rule */
} hba_match;

/* Parse text; every problem is reported in err as "file:line: message"
 * (several separated by '\n').  Returns NULL if any line is invalid
 * (PostgreSQL refuses a pg_hba.conf with errors, and so do we). */
hba_rules *hba_parse(const char *text, size_t len, const char *fname, char *err, size_t errlen);
hba_rules *hba_load(const char *path, char *err, size_t errlen);
hba_match hba_check(const hba_rules *rules, const hba_client *client);
const char *hba_method_name(hba_method m);
void hba_free(hba_rules *rules);

#endif
