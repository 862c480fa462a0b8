/* One PCP connection's protocol state: salt, authentication, and the
 * dispatch of each complete frame to its command.  Pure with respect to
 * I/O: frames in, reply bytes out (so the fuzzer can drive it too). */
#ifndef PGPOOLD_PCPD_SESSION_H
#define PGPOOLD_PCPD_SESSION_H

#include "buf.h"
#include "pcp_codec.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum pcpd_action {
	PCPD_CONTINUE,               /* send the reply, read the next frame */
	PCPD_CLOSE,                  /* send the reply, then close (X, FATAL, stop) */
} pcpd_action;

typedef struct pcpd_session {
	char peer[80];               /* for logs: "127.0.0.1:40000" or "unix" */
	bool salt_issued;            /* M seen since the last R: salt is valid */
	uint8_t salt[PCP_SALT_LEN];
	bool authenticated;
	char user[PCP_MAX_USER_LEN + 1];
	int commands;                /* commands served on this connection */
} pcpd_session;

void pcpd_session_init(pcpd_session *s, const char *peer);
/* Handle one complete frame; reply bytes are appended to out. */
pcpd_action pcpd_session_frame(pcpd_session *s, const pcp_frame *f, buf *out);
/* A frame whose length field is out of range (nothing of it is read). */
pcpd_action pcpd_session_bad_length(pcpd_session *s, int32_t length, buf *out);

/* Error replies with this file's name and line, as Pgpool-II sends them.
 * detail may be NULL. */
void pcpd_reply(buf *out, const char *severity, const char *file, int line,
		const char *message, const char *detail);
void pcpd_replyf(buf *out, const char *severity, const char *file, int line,
		 const char *message, const char *detail_fmt, ...) __attribute__((format(printf, 6, 7)));

/* An error whose whole text is the (formatted) message, no detail: how
 * Pgpool-II reports failover request problems. */
void pcpd_reply_message(buf *out, const char *severity, const char *file, int line,
			const char *message_fmt, ...) __attribute__((format(printf, 5, 6)));

#define PCPD_ERROR_MSG(out, ...) pcpd_reply_message((out), "ERROR", __FILE__, __LINE__, __VA_ARGS__)
#define PCPD_ERROR(out, msg, ...) pcpd_replyf((out), "ERROR", __FILE__, __LINE__, (msg), __VA_ARGS__)
#define PCPD_FATAL(out, msg, ...) pcpd_replyf((out), "FATAL", __FILE__, __LINE__, (msg), __VA_ARGS__)

#endif
