/* Collecting the reply to one PCP request the way Pgpool-II 4.3's libpcp
 * does (which letters it accepts after which request, ArraySize then
 * records then CommandComplete), into records of strings for the
 * printers. */
#ifndef PGPOOLD_TOOLS_PCP_RESULT_H
#define PGPOOLD_TOOLS_PCP_RESULT_H

#include "pcp_client.h"

typedef enum pcp_result_status {
	RESULT_INCOMPLETE = 0,
	RESULT_OK,
	RESULT_BACKEND_ERROR,        /* the server sent 'E' (text in conn->error) */
	RESULT_BAD_RESPONSE,         /* unexpected packet */
	RESULT_ERROR,                /* connection failed */
} pcp_result_status;

typedef struct pcp_record {
	char *storage;               /* the packet's copy; fields point into it */
	const char *fields[PCP_MAX_FIELDS];
	int n;
} pcp_record;

typedef struct pcp_answer {
	pcp_result_status status;
	long slots;                  /* ArraySize announced, -1 if none */
	pcp_record *records;         /* NodeInfo / ProcessInfo / ProcessConfig */
	int nrecords;
	pcp_record data;             /* the strings after CommandComplete (l n h w) */
} pcp_answer;

/* Read the reply to the request sent with letter `sent` (D for both
 * detach forms, J for both promote forms, T for both stop forms). */
void pcp_result_collect(pcp_conn *c, char sent, pcp_answer *r);
/* Nothing but "CommandComplete" came back (the tools then print
 * "<prog> -- Command Successful"). */
bool pcp_result_empty(const pcp_answer *r, char sent);
void pcp_result_free(pcp_answer *r);

#endif
