/* Collecting a PCP reply: see pcp_result.h. */
#include "pcp_result.h"

#include <stdlib.h>
#include <string.h>

static char expected_reply(char sent)
{
	switch (sent) {
	case 'C': case 'O': return 'c';
	case 'D': case 'J': return 'd';
	case 'T': return 't';
	case 'L': return 'l';
	case 'I': return 'i';
	case 'H': return 'h';
	case 'N': return 'n';
	case 'P': return 'p';
	case 'B': return 'b';
	case 'W': return 'w';
	case 'Z': return 'z';
	case 'A': return 'a';
	default: return 0;
	}
}

/* Letters the 4.3 client knows: one of them in the wrong place is a bad
 * response without a message; anything else is "invalid PCP packet type". */
static bool known_letter(char t)
{
	return t && strchr("rmilcdawpnbthz", t) != NULL;
}

static bool copy_record(pcp_record *rec, const pcp_reply *rep, const pcp_frame *f)
{
	rec->storage = malloc(f->len + 1);
	if (!rec->storage)
		return false;
	memcpy(rec->storage, f->payload, f->len);
	rec->storage[f->len] = '\0';
	rec->n = rep->nfields;
	for (int i = 0; i < rep->nfields; i++)
		rec->fields[i] = rec->storage + (rep->fields[i] - (const char *) f->payload);
	return true;
}

static void fail(pcp_conn *c, pcp_answer *r, pcp_result_status st, const char *message)
{
	if (message)
		pcp_conn_set_error(c, "%s", message);
	r->status = st;
}

static void command_failed(pcp_conn *c, pcp_answer *r, const pcp_frame *f)
{
	pcp_conn_set_error(c, "command failed with reason: \"%s\"\n", (const char *) f->payload);
	r->status = RESULT_BAD_RESPONSE;
}

/* l n h w: CommandComplete followed by data. */
static void take_data(pcp_conn *c, pcp_answer *r, const pcp_frame *f, const pcp_reply *rep)
{
	if (strcmp(rep->tag, PCP_COMMAND_COMPLETE) != 0) {
		command_failed(c, r, f);
		return;
	}
	if (!copy_record(&r->data, rep, f)) {
		fail(c, r, RESULT_ERROR, "ERROR: failed to allocate memory");
		return;
	}
	r->status = RESULT_OK;
}

/* i p b: ArraySize, records, CommandComplete. */
static void take_part(pcp_conn *c, pcp_answer *r, const pcp_frame *f, const pcp_reply *rep)
{
	switch (rep->part) {
	case PCP_PART_ARRAY_SIZE:
		r->slots = rep->count;
		free(r->records);
		r->records = rep->count > 0 ? calloc((size_t) rep->count, sizeof(*r->records)) : NULL;
		if (rep->count > 0 && !r->records)
			fail(c, r, RESULT_ERROR, "ERROR: failed to allocate memory");
		return;
	case PCP_PART_RECORD:
		if (r->slots < 0 || r->nrecords >= r->slots) {
			fail(c, r, RESULT_BAD_RESPONSE, "command failed. invalid response\n");
			return;
		}
		if (!copy_record(&r->records[r->nrecords], rep, f)) {
			fail(c, r, RESULT_ERROR, "ERROR: failed to allocate memory");
			return;
		}
		r->nrecords++;
		return;
	case PCP_PART_END:
		r->status = RESULT_OK;
		return;
	default:
		fail(c, r, RESULT_BAD_RESPONSE, "command failed. invalid response\n");
		return;
	}
}

static void take(pcp_conn *c, pcp_answer *r, char expect, const pcp_frame *f)
{
	if (expect == 't') {
		r->status = RESULT_OK;     /* the 4.3 client does not look inside */
		return;
	}
	pcp_reply rep;
	if (pcp_reply_decode(f->type, f->payload, f->len, &rep, NULL, 0) != PCP_OK) {
		fail(c, r, RESULT_BAD_RESPONSE, "command failed. invalid response\n");
		return;
	}
	switch (expect) {
	case 'c': case 'd': case 'z': case 'a':
		if (rep.part == PCP_PART_END)
			r->status = RESULT_OK;
		else
			command_failed(c, r, f);
		return;
	case 'l': case 'n': case 'h': case 'w':
		take_data(c, r, f, &rep);
		return;
	default:
		take_part(c, r, f, &rep);
		return;
	}
}

void pcp_result_collect(pcp_conn *c, char sent, pcp_answer *r)
{
	memset(r, 0, sizeof(*r));
	r->slots = -1;
	char expect = expected_reply(sent);
	while (r->status == RESULT_INCOMPLETE) {
		pcp_frame f;
		if (!pcp_conn_read(c, &f)) {
			r->status = RESULT_ERROR;
			return;
		}
		if (f.type == 'E') {
			pcp_conn_error_from_packet(c, f.payload, f.len);
			r->status = RESULT_BACKEND_ERROR;
		} else if (f.type == expect) {
			take(c, r, expect, &f);
		} else if (known_letter(f.type)) {
			r->status = RESULT_BAD_RESPONSE;
		} else {
			pcp_conn_set_error(c, "ERROR: invalid PCP packet type =\"%c\"\n", f.type);
			r->status = RESULT_BAD_RESPONSE;
		}
	}
}

bool pcp_result_empty(const pcp_answer *r, char sent)
{
	switch (sent) {
	case 'I': case 'P': case 'B':
		return r->slots <= 0 && r->nrecords == 0;
	case 'N':
		return r->data.n <= 1;        /* a count and no pid */
	case 'L': case 'H': case 'W':
		return r->data.storage == NULL;
	default:
		return true;
	}
}

void pcp_result_free(pcp_answer *r)
{
	for (int i = 0; i < r->nrecords; i++)
		free(r->records[i].storage);
	free(r->records);
	free(r->data.storage);
	memset(r, 0, sizeof(*r));
}
