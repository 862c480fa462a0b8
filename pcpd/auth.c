/* PCP authentication against pcp.conf: see auth.h. */
#include "auth.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pcp.conf holds a few lines; a file this big is not a pcp.conf. */
#define PCP_CONF_MAX (1024 * 1024)

typedef struct auth_attempt {
	const char *path;
	const char *user;
	const char *response;
	const uint8_t *salt;
	char *message, *detail;
	size_t messagelen, detaillen;
} auth_attempt;

static void fail(const auth_attempt *a, const char *message, const char *detail)
{
	snprintf(a->message, a->messagelen, "%s", message);
	snprintf(a->detail, a->detaillen, "%s", detail);
}

/* One line (without its newline).  1 = match, 0 = not this line, -1 =
 * error (message set). */
static int check_line(const auth_attempt *a, const char *line, size_t len)
{
	if (len == 0 || line[0] == '#')
		return 0;
	const char *colon = memchr(line, ':', len);
	if (!colon) {
		log_warning("pcp.conf \"%s\": ignoring a line without ':'", a->path);
		return 0;
	}
	size_t ulen = (size_t) (colon - line);
	size_t plen = len - ulen - 1;
	if (ulen > PCPD_AUTH_FIELD_MAX || plen > PCPD_AUTH_FIELD_MAX) {
		char detail[300];
		snprintf(detail, sizeof(detail),
			 "%s read from file \"%s\" is larger than maximum allowed %s length [%d]",
			 ulen > PCPD_AUTH_FIELD_MAX ? "username" : "password", a->path,
			 ulen > PCPD_AUTH_FIELD_MAX ? "username" : "password", PCPD_AUTH_FIELD_MAX);
		fail(a, "failed to authenticate PCP user", detail);
		return -1;
	}
	if (ulen != strlen(a->user) || memcmp(line, a->user, ulen) != 0)
		return 0;
	char stored[PCPD_AUTH_FIELD_MAX + 1];
	memcpy(stored, colon + 1, plen);
	stored[plen] = '\0';
	char expected[PCP_MD5_HEX_LEN + 1];
	if (!pcp_auth_expected(stored, a->user, a->salt, expected))
		return 0;
	return timingsafe_streq(expected, a->response) ? 1 : 0;
}

bool pcpd_authenticate(const char *pcp_conf, const char *user, const char *response,
		       const uint8_t salt[PCP_SALT_LEN], char *message, size_t messagelen,
		       char *detail, size_t detaillen)
{
	auth_attempt a = { pcp_conf, user, response, salt, message, detail, messagelen, detaillen };
	size_t len = 0;
	char *text = file_read_all(pcp_conf, PCP_CONF_MAX, &len);
	if (!text) {
		char why[512];
		snprintf(why, sizeof(why), "could not open %s. reason: %s", pcp_conf, strerror(errno));
		fail(&a, "failed to authenticate PCP user", why);
		return false;
	}
	bool ok = false;
	size_t pos = 0;
	while (pos < len && !ok) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t linelen = nl ? (size_t) (nl - line) : len - pos;
		pos += linelen + (nl ? 1 : 0);
		int r = check_line(&a, line, linelen);
		if (r < 0) {
			free(text);
			return false;
		}
		ok = r == 1;
	}
	free(text);
	if (!ok) {
		snprintf(message, messagelen, "authentication failed for user \"%s\"", user);
		snprintf(detail, detaillen, "username and/or password does not match");
	}
	return ok;
}
