/* One PCP connection's protocol state: see session.h. */
#include "session.h"
#include "auth.h"
#include "commands.h"
#include "log.h"
#include "pcpd.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

void pcpd_reply(buf *out, const char *severity, const char *file, int line,
		const char *message, const char *detail)
{
	pcp_put_error(out, severity, message, detail, base_name(file), line);
}

void pcpd_replyf(buf *out, const char *severity, const char *file, int line,
		 const char *message, const char *detail_fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, detail_fmt);
	vsnprintf(detail, sizeof(detail), detail_fmt, ap);
	va_end(ap);
	pcpd_reply(out, severity, file, line, message, detail);
}

void pcpd_reply_message(buf *out, const char *severity, const char *file, int line,
			const char *message_fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, message_fmt);
	vsnprintf(message, sizeof(message), message_fmt, ap);
	va_end(ap);
	pcpd_reply(out, severity, file, line, message, NULL);
}

void pcpd_session_init(pcpd_session *s, const char *peer)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
}

static pcpd_action send_salt(pcpd_session *s, buf *out)
{
	if (!random_bytes(s->salt, sizeof(s->salt))) {
		PCPD_FATAL(out, "failed to authenticate PCP user", "%s", "could not generate a random salt");
		return PCPD_CLOSE;
	}
	s->salt_issued = true;
	pcp_put_salt(out, s->salt);
	return PCPD_CONTINUE;
}

static pcpd_action authenticate(pcpd_session *s, const pcp_request *req, buf *out)
{
	if (!s->salt_issued) {
		PCPD_FATAL(out, "authentication failed", "%s", "no salt was requested before the authentication packet");
		return PCPD_CLOSE;
	}
	s->salt_issued = false;          /* single use */
	const pool_config *cfg = pcpd_config_acquire();
	char message[256] = "", detail[512] = "";
	bool ok = cfg && pcpd_authenticate(cfg->pcp_conf_file, req->user, req->response, s->salt,
					   message, sizeof(message), detail, sizeof(detail));
	pcpd_config_release(cfg);
	if (!ok) {
		log_warning("PCP authentication failed for user \"%s\" from %s: %s", req->user, s->peer,
			    detail[0] ? detail : message);
		pcpd_reply(out, "FATAL", __FILE__, __LINE__, message[0] ? message : "failed to authenticate PCP user",
			   detail[0] ? detail : NULL);
		return PCPD_CLOSE;
	}
	s->authenticated = true;
	snprintf(s->user, sizeof(s->user), "%s", req->user);
	log_debug("PCP user \"%s\" authenticated from %s", s->user, s->peer);
	pcp_put_auth_ok(out);
	return PCPD_CONTINUE;
}

pcpd_action pcpd_session_bad_length(pcpd_session *s, int32_t length, buf *out)
{
	log_warning("PCP connection from %s: invalid packet length %d; closing", s->peer, (int) length);
	PCPD_FATAL(out, "invalid PCP packet", "incorrect packet length (%d)", (int) length);
	return PCPD_CLOSE;
}

pcpd_action pcpd_session_frame(pcpd_session *s, const pcp_frame *f, buf *out)
{
	pcp_request req;
	char err[160] = "";
	pcp_result r = pcp_request_decode(f->type, f->payload, f->len, &req, err, sizeof(err));

	if (f->type == 'X')
		return PCPD_CLOSE;           /* the client leaves; nothing is sent */
	if (f->type == 'M')
		return send_salt(s, out);
	if (f->type == 'R') {
		if (r != PCP_OK) {
			PCPD_FATAL(out, "failed to authenticate PCP user", "%s", err);
			return PCPD_CLOSE;
		}
		return authenticate(s, &req, out);
	}
	if (!s->authenticated) {
		log_warning("PCP connection from %s: request '%c' before authentication; closing",
			    s->peer, f->type);
		PCPD_FATAL(out, "authentication failed for new PCP connection", "%s", "connection not authorized");
		return PCPD_CLOSE;
	}
	if (r != PCP_OK) {
		PCPD_ERROR(out, "invalid PCP packet", "request '%c': %s", f->type, err);
		return PCPD_CONTINUE;
	}
	s->commands++;
	return pcpd_command(s, &req, out);
}
