/* The PCP wire protocol (Pgpool-II 4.3 - 4.5), written once for pcpd and
 * the pcp_* tools.  Spec: ../shared/spec/pcp-protocol.md.
 *
 * Framing, both directions: type byte, int32 big-endian length that counts
 * itself but not the type byte, payload (length - 4 bytes).  Payloads are
 * NUL-terminated strings except the salt ('m': 4 raw bytes), the stop /
 * reload requests (one raw byte), the promote request (a raw option byte
 * after the id) and the pool-status ArraySize count (binary int32).
 *
 * Decoders never read outside the bytes they are given and never trust a
 * length or a count: every failure is a return value with a message. */
#ifndef PGPOOLD_PCP_CODEC_H
#define PGPOOLD_PCP_CODEC_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCP_HEADER_LEN        5
#define PCP_SALT_LEN          4
#define PCP_MD5_HEX_LEN       32
/* Pgpool-II's server rejects a request whose length field is <= 0 or >= 260
 * (so payloads are at most 255 bytes). */
#define PCP_MAX_REQUEST_LEN   260
/* Replies can be long (a watchdog JSON, long config values): what the
 * tools accept. */
#define PCP_MAX_REPLY_LEN     (1u << 20)
#define PCP_MAX_USER_LEN      127   /* the tools' limit on usernames */
#define PCP_ERROR_FIELD_MAX   255   /* Pgpool-II truncates each error field */

#define PCP_COMMAND_COMPLETE  "CommandComplete"
#define PCP_ARRAY_SIZE        "ArraySize"
#define PCP_NODE_INFO         "NodeInfo"
#define PCP_PROCESS_INFO      "ProcessInfo"
#define PCP_PROCESS_CONFIG    "ProcessConfig"
#define PCP_AUTH_OK           "AuthenticationOK"

/* Field counts that depend on the client generation (no negotiation exists
 * in PCP: a server serves one generation). */
#define PCP_NODE_INFO_FIELDS_43   12   /* 4.3.1 .. 4.3.x */
#define PCP_NODE_INFO_FIELDS_44   13   /* 4.4, 4.5: + standby_delay_by_time */
#define PCP_PROCESS_INFO_FIELDS_43 17  /* 4.3, 4.4 */
#define PCP_PROCESS_INFO_FIELDS_45 18  /* 4.5: + load_balance_node */
#define PCP_HEALTH_CHECK_FIELDS   20

typedef enum pcp_result {
	PCP_OK = 0,
	PCP_NEED_MORE,            /* frame: not all of it has arrived yet */
	PCP_ERR_LENGTH,           /* frame: length field out of range */
	PCP_ERR_FORMAT,           /* payload does not have the expected shape */
} pcp_result;

/* ---- framing ---- */

typedef struct pcp_frame {
	char type;
	const uint8_t *payload;   /* points into the caller's bytes */
	size_t len;               /* payload length */
	size_t total;             /* bytes the whole frame takes (header + payload) */
	int32_t length_field;     /* as sent, for "incorrect packet length (N)" */
} pcp_frame;

/* Look at the bytes received so far.  PCP_OK: one frame is complete (out
 * filled).  PCP_NEED_MORE: wait for more.  PCP_ERR_LENGTH: the length field
 * is < 4 or >= max_len (out->length_field holds it). */
pcp_result pcp_frame_parse(const uint8_t *data, size_t avail, uint32_t max_len, pcp_frame *out);

/* ---- authentication ---- */

/* Client: response = md5hex(md5hex(md5hex(password) + user) + salt). */
bool pcp_auth_response(const char *password, const char *user, const uint8_t salt[PCP_SALT_LEN],
		       char out[PCP_MD5_HEX_LEN + 1]);
/* Server: the same from pcp.conf's stored md5hex(password). */
bool pcp_auth_expected(const char *stored_md5hex, const char *user, const uint8_t salt[PCP_SALT_LEN],
		       char out[PCP_MD5_HEX_LEN + 1]);

/* ---- requests (client builds, server decodes) ---- */

void pcp_req_simple(buf *b, char type);                  /* M L N B X F: empty payload */
void pcp_req_auth(buf *b, const char *user, const char *response);   /* R */
void pcp_req_int(buf *b, char type, int value);          /* I H C D d O W P: "%d\0" */
void pcp_req_promote(buf *b, bool graceful, int node, bool switchover);  /* J / j */
void pcp_req_byte(buf *b, char type, char byte);         /* T t (mode), Z (scope) */
void pcp_req_set_param(buf *b, const char *name, const char *value);  /* A */

typedef struct pcp_request {
	char type;
	/* R */
	const char *user;         /* NUL-terminated, inside the payload */
	const char *response;
	/* I H C D d O W J j P: the number as sent, and its value (atoi-like:
	 * leading blanks, sign, digits, stops at the first other character;
	 * clamped to the int range) */
	const char *number_text;
	int number;
	/* T t: mode 's' 'f' 'i'; Z: scope 'c' 'l'; J j: 's' = switchover */
	char option;
	bool switchover;
	/* A */
	const char *param_name;
	const char *param_value;
} pcp_request;

/* Decode the payload of a request of the given type.  Types it does not
 * know are PCP_OK with nothing filled (the server decides what to say).
 * On PCP_ERR_FORMAT err holds the reason. */
pcp_result pcp_request_decode(char type, const uint8_t *payload, size_t len,
			      pcp_request *out, char *err, size_t errlen);

/* ---- replies (server builds, client decodes) ---- */

/* 'E' (severity ERROR/FATAL/PANIC) or 'N' (others): S, C, M, [D,] F, L
 * fields, each truncated to 255 bytes, plus the closing NUL.  detail may be
 * NULL.  Keep message and detail from starting with 'S', 'M' or 'D': the
 * stock client's parser misreads such texts. */
void pcp_put_error(buf *b, const char *severity, const char *message, const char *detail,
		   const char *file, int line);
void pcp_put_salt(buf *b, const uint8_t salt[PCP_SALT_LEN]);          /* m */
void pcp_put_auth_ok(buf *b);                                          /* r */
void pcp_put_command_complete(buf *b, char type);   /* c d t z a: CommandComplete alone */
void pcp_put_node_count(buf *b, int count);                            /* l */
/* i / p: "ArraySize\0" "<n>\0" */
void pcp_put_array_size(buf *b, char type, int n);
/* b: "ArraySize\0" + int32 big-endian */
void pcp_put_array_size_binary(buf *b, char type, int32_t n);
/* i / p / b: "CommandComplete\0" ending a multi-packet reply */
void pcp_put_end(buf *b, char type);
/* One packet: tag string, then n strings (i NodeInfo, p ProcessInfo,
 * b ProcessConfig). */
void pcp_put_record(buf *b, char type, const char *tag, const char *const *fields, int n);
/* n: CommandComplete, count, pids */
void pcp_put_process_count(buf *b, int n, const int *pids);
/* h: CommandComplete + the 20 strings */
void pcp_put_health_check_stats(buf *b, const char *const fields[PCP_HEALTH_CHECK_FIELDS]);
/* w: CommandComplete + JSON */
void pcp_put_watchdog_info(buf *b, const char *json);

typedef struct pcp_error_fields {
	const char *severity;     /* pointers into the payload, NULL if absent */
	const char *code;
	const char *message;
	const char *detail;
	const char *hint;
} pcp_error_fields;

/* Parse an 'E' / 'N' payload properly (field letter, text, NUL; a lone NUL
 * ends it).  PCP_ERR_FORMAT if a field runs past the end. */
pcp_result pcp_parse_error(const uint8_t *payload, size_t len, pcp_error_fields *out);

/* Split a payload made only of NUL-terminated strings.  Returns how many
 * (at most max; more is PCP_ERR_FORMAT through *res), with *res PCP_OK, or
 * PCP_ERR_FORMAT when the last string is not terminated. */
int pcp_split_strings(const uint8_t *payload, size_t len, const char **out, int max, pcp_result *res);

/* What one reply packet of a multi-packet answer is. */
typedef enum pcp_reply_part {
	PCP_PART_BAD = 0,
	PCP_PART_ARRAY_SIZE,      /* count in ->count */
	PCP_PART_RECORD,          /* fields in ->fields / ->nfields (the tag excluded) */
	PCP_PART_END,             /* CommandComplete alone */
	PCP_PART_COMPLETE_DATA,   /* CommandComplete followed by data fields (l n h w) */
} pcp_reply_part;

#define PCP_MAX_FIELDS 64

typedef struct pcp_reply {
	pcp_reply_part part;
	long count;                        /* ArraySize */
	const char *tag;                   /* record tag ("NodeInfo"...) */
	const char *fields[PCP_MAX_FIELDS];
	int nfields;
} pcp_reply;

/* Classify and split one reply payload of type `type` (i p b l n h w c d t
 * z a r).  For 'b' the ArraySize count is binary; everywhere else text. */
pcp_result pcp_reply_decode(char type, const uint8_t *payload, size_t len, pcp_reply *out,
			    char *err, size_t errlen);

/* The watchdog-info JSON string of a 'w' reply, or NULL. */
const char *pcp_reply_json(const pcp_reply *r);

#endif
