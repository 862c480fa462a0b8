/* PostgreSQL v3 wire protocol: constants, a bounds-checked message reader,
 * the startup packet parser and builders for the messages the proxy
 * produces itself (errors, authentication requests, parameter status...). */
#ifndef PGPOOLD_PROTO_H
#define PGPOOLD_PROTO_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION(major, minor) (((uint32_t) (major) << 16) | (minor))
#define PROTO_V3            PROTO_VERSION(3, 0)
#define PROTO_CANCEL_CODE   PROTO_VERSION(1234, 5678)
#define PROTO_SSL_CODE      PROTO_VERSION(1234, 5679)
#define PROTO_GSSENC_CODE   PROTO_VERSION(1234, 5680)

#define MSG_HEADER_LEN 5          /* type byte + int32 length */
#define STARTUP_MAX_LEN 10000     /* PostgreSQL's MAX_STARTUP_PACKET_LENGTH */

/* Authentication request codes (AuthenticationXXX 'R' messages) */
enum {
	AUTH_REQ_OK = 0,
	AUTH_REQ_PASSWORD = 3,
	AUTH_REQ_MD5 = 5,
	AUTH_REQ_SASL = 10,
	AUTH_REQ_SASL_CONT = 11,
	AUTH_REQ_SASL_FIN = 12
};

/* ---- reader over one message body ---- */
typedef struct msg_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool err;                 /* sticky: a read went past the end */
} msg_reader;

void mr_init(msg_reader *r, const uint8_t *p, size_t len);
uint8_t mr_u8(msg_reader *r);
int16_t mr_i16(msg_reader *r);
int32_t mr_i32(msg_reader *r);
/* A NUL-terminated string inside the body; NULL (and err) if unterminated. */
const char *mr_str(msg_reader *r);
/* n raw bytes; NULL (and err) if fewer remain. */
const uint8_t *mr_bytes(msg_reader *r, size_t n);
size_t mr_remaining(const msg_reader *r);

/* ---- startup packet ---- */
#define STARTUP_MAX_PARAMS 64

typedef struct startup_param {
	const char *name;
	const char *value;
} startup_param;

typedef struct startup_packet {
	uint32_t code;            /* protocol version or special request code */
	/* CancelRequest */
	uint32_t cancel_pid;
	uint32_t cancel_key;
	/* StartupMessage: pointers into the caller's packet buffer */
	startup_param params[STARTUP_MAX_PARAMS];
	int nparams;
	const char *user;
	const char *database;     /* defaults to user, as PostgreSQL */
	const char *application_name;
	bool replication;         /* replication=... requested */
} startup_packet;

/* Parse a startup-phase packet (length word included in pkt, len = its
 * value).  Returns true on success; false with a PostgreSQL-style message in
 * err (e.g. "invalid length of startup packet"). */
bool startup_parse(const uint8_t *pkt, size_t len, startup_packet *out, char *err, size_t errlen);

/* ---- builders ---- */
/* ErrorResponse/NoticeResponse: severity "FATAL"/"ERROR", SQLSTATE, message,
 * detail may be NULL. */
void proto_error(buf *b, const char *severity, const char *sqlstate, const char *message, const char *detail);
void proto_notice(buf *b, const char *severity, const char *sqlstate, const char *message);
void proto_auth_request(buf *b, int32_t code, const void *data, size_t datalen);
void proto_parameter_status(buf *b, const char *name, const char *value);
void proto_backend_key(buf *b, uint32_t pid, uint32_t key);
void proto_ready(buf *b, char tx_status);
void proto_query(buf *b, const char *sql);
void proto_terminate(buf *b);
/* NegotiateProtocolVersion: newest minor we support + unrecognized options. */
void proto_negotiate_version(buf *b, uint32_t newest_minor, const char *const *options, int noptions);

/* Extract SQLSTATE and message from an ErrorResponse/NoticeResponse body
 * (pointers into body, or NULL if absent). */
void proto_parse_error(const uint8_t *body, size_t len, const char **sqlstate, const char **message);

#endif
