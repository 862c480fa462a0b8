/* The client side of a PCP connection: see pcp_client.h.  Error texts are
 * the ones Pgpool-II 4.3's libpcp produces, because the tools print them
 * as they are. */
#include "pcp_client.h"
#include "pcppass.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define PCP_MAX_USER_PASSWD_LEN 128

void pcp_conn_set_error(pcp_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
}

/* ---- connecting ---- */

static bool connect_unix(pcp_conn *c, const char *dir, int port)
{
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		pcp_conn_set_error(c, "ERROR: failed to create UNIX domain socket. socket error \"%s\"", strerror(errno));
		return false;
	}
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/.s.PGSQL.%d", dir, port);
	if (connect(c->fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
		pcp_conn_set_error(c, "ERROR: connection to socket \"%s\" failed with error \"%s\"", sun.sun_path,
				   strerror(errno));
		close(c->fd);
		c->fd = -1;
		return false;
	}
	return true;
}

static bool connect_tcp(pcp_conn *c, const char *host, int port)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		pcp_conn_set_error(c, "ERROR: failed to create INET domain socket with error \"%s\"", strerror(errno));
		return false;
	}
	int on = 1;
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0) {
		pcp_conn_set_error(c, "ERROR: set socket option failed with error \"%s\"", strerror(errno));
		goto fail;
	}
	/* IPv4 name lookup, as the 4.3 tools (their error text included) */
	errno = 0;
	struct hostent *hp = gethostbyname(host);
	if (!hp || hp->h_addrtype != AF_INET || hp->h_length != (int) sizeof(struct in_addr)) {
		pcp_conn_set_error(c, "ERROR: could not retrieve hostname. gethostbyname failed with error \"%s\"",
				   strerror(errno));
		goto fail;
	}
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
	memcpy(&sin.sin_addr, hp->h_addr_list[0], sizeof(sin.sin_addr));
	if (connect(c->fd, (struct sockaddr *) &sin, sizeof(sin)) < 0) {
		pcp_conn_set_error(c, "ERROR: connection to host \"%s\" failed with error \"%s\"", host, strerror(errno));
		goto fail;
	}
	return true;
fail:
	close(c->fd);
	c->fd = -1;
	return false;
}

/* ---- packets ---- */

static bool write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t) w;
	}
	return true;
}

static bool read_exact(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t) r;
	}
	return true;
}

bool pcp_conn_send(pcp_conn *c, const buf *packet, char trace_tos, const char *trace_label)
{
	if (packet->oom) {
		pcp_conn_set_error(c, "ERROR: failed to allocate memory");
		return false;
	}
	if (!write_all(c->fd, packet->data, packet->len)) {
		pcp_conn_set_error(c, "ERROR: sending data to backend failed with error \"%s\"", strerror(errno));
		return false;
	}
	if (c->debug && trace_tos)
		fprintf(c->debug, "%s: send: tos=\"%c\", len=%d\n", trace_label, trace_tos, (int) packet->len - 1);
	return true;
}

/* Pgpool-II's reading of an error packet, quirks included: after a field
 * it keeps (S, M, D) it does not skip the text, so the text's first
 * character is taken as the next field code.  Bounded by len here. */
void pcp_conn_error_from_packet(pcp_conn *c, const uint8_t *payload, size_t len)
{
	char *copy = malloc(len + 1);
	if (!copy) {
		pcp_conn_set_error(c, "ERROR: failed to allocate memory");
		return;
	}
	memcpy(copy, payload, len);
	copy[len] = '\0';
	const char *sev = NULL, *msg = NULL, *det = NULL;
	size_t pos = 0;
	while (pos < len && copy[pos]) {
		char type = copy[pos++];
		if (pos >= len || copy[pos] == '\0')
			break;
		if (type == 'M')
			msg = copy + pos;
		else if (type == 'S')
			sev = copy + pos;
		else if (type == 'D')
			det = copy + pos;
		else
			pos += strlen(copy + pos) + 1;
		if (sev && msg && det)
			break;
	}
	if (sev || msg)
		pcp_conn_set_error(c, "%s:  %s\n%s%s%s", sev ? sev : "(null)", msg ? msg : "(null)",
				   det ? "DETAIL:  " : "", det ? det : "", det ? "\n" : "");
	free(copy);
	pcp_error_fields ef;
	if (pcp_parse_error(payload, len, &ef) == PCP_OK) {
		snprintf(c->err_severity, sizeof(c->err_severity), "%s", ef.severity ? ef.severity : "");
		snprintf(c->err_message, sizeof(c->err_message), "%s", ef.message ? ef.message : "");
		snprintf(c->err_detail, sizeof(c->err_detail), "%s", ef.detail ? ef.detail : "");
	}
}

/* A notice: traced with -d, otherwise dropped. */
static void trace_notice(pcp_conn *c, const uint8_t *payload, size_t len)
{
	if (!c->debug)
		return;
	pcp_error_fields ef;
	if (pcp_parse_error(payload, len, &ef) != PCP_OK || (!ef.severity && !ef.message))
		return;
	fprintf(c->debug, "BACKEND %s:  %s\n%s%s%s", ef.severity ? ef.severity : "(null)",
		ef.message ? ef.message : "(null)", ef.detail ? "DETAIL:  " : "", ef.detail ? ef.detail : "",
		ef.detail ? "\n" : "");
}

bool pcp_conn_read(pcp_conn *c, pcp_frame *f)
{
	for (;;) {
		uint8_t header[PCP_HEADER_LEN];
		if (!read_exact(c->fd, header, sizeof(header))) {
			pcp_conn_set_error(c, "ERROR: unable to read data from socket.");
			return false;
		}
		int32_t length = (int32_t) be32(header + 1);
		if (length < 4 || (uint32_t) length >= PCP_MAX_REPLY_LEN) {
			pcp_conn_set_error(c, "ERROR: unable to read data from socket.");
			return false;
		}
		size_t len = (size_t) length - 4;
		if (len + 1 > c->incap) {
			uint8_t *grown = realloc(c->in, len + 1);
			if (!grown) {
				pcp_conn_set_error(c, "ERROR: failed to allocate memory");
				return false;
			}
			c->in = grown;
			c->incap = len + 1;
		}
		if (!read_exact(c->fd, c->in, len)) {
			pcp_conn_set_error(c, "ERROR: unable to read data from socket.");
			return false;
		}
		c->in[len] = '\0';     /* a stray unterminated text stays inside */
		if (c->debug)
			fprintf(c->debug, "DEBUG: recv: tos=\"%c\", len=%d\n", (char) header[0], (int) length);
		if (header[0] == 'N') {
			trace_notice(c, c->in, len);
			continue;
		}
		f->type = (char) header[0];
		f->payload = c->in;
		f->len = len;
		f->total = len + PCP_HEADER_LEN;
		f->length_field = length;
		return true;
	}
}

/* ---- authentication ---- */

static bool authorize(pcp_conn *c, const char *user, const char *password)
{
	if (!password)
		password = "";
	if (!user)
		user = "";
	if (strlen(user) >= PCP_MAX_USER_PASSWD_LEN) {
		pcp_conn_set_error(c, "ERROR: PCP authorization failed. username too long.");
		return false;
	}
	buf b;
	buf_init(&b);
	pcp_req_simple(&b, 'M');
	bool ok = pcp_conn_send(c, &b, 0, NULL);
	pcp_frame f;
	uint8_t salt[PCP_SALT_LEN];
	if (ok && (ok = pcp_conn_read(c, &f))) {
		if (f.type == 'E') {
			pcp_conn_error_from_packet(c, f.payload, f.len);
			ok = false;
		} else if (f.type != 'm' || f.len < PCP_SALT_LEN) {
			ok = false;
		} else {
			memcpy(salt, f.payload, PCP_SALT_LEN);
		}
	}
	char response[PCP_MD5_HEX_LEN + 1];
	if (ok && !pcp_auth_response(password, user, salt, response)) {
		pcp_conn_set_error(c, "ERROR: PCP authorization failed. MD5 is not available.");
		ok = false;
	}
	if (ok) {
		buf_reset(&b);
		pcp_req_auth(&b, user, response);
		ok = pcp_conn_send(c, &b, 0, NULL) && pcp_conn_read(c, &f);
	}
	if (ok) {
		if (f.type == 'E') {
			pcp_conn_error_from_packet(c, f.payload, f.len);
			ok = false;
		} else if (f.type != 'r') {
			ok = false;
		} else if (strcmp((const char *) f.payload, PCP_AUTH_OK) != 0) {
			pcp_conn_set_error(c, "ERROR: authentication failed. reason=\"%s\"\n", (const char *) f.payload);
			ok = false;
		}
	}
	buf_free(&b);
	return ok;
}

static const char *os_user(void)
{
	struct passwd *pw = getpwuid(geteuid());
	return pw ? pw->pw_name : NULL;
}

bool pcp_conn_open(pcp_conn *c, const char *host, int port, const char *user,
		   const char *password, FILE *debug)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->debug = debug;
	bool unix_socket = !host || !host[0] || host[0] == '/';
	const char *shown_host = unix_socket ? (host && host[0] ? host : PCP_DEFAULT_SOCKET_DIR) : host;
	if (!(unix_socket ? connect_unix(c, shown_host, port) : connect_tcp(c, host, port)))
		return false;
	if (!user)
		user = os_user();
	char *from_file = NULL;
	if (!password || !password[0]) {
		char port_text[16];
		snprintf(port_text, sizeof(port_text), "%d", port);
		from_file = pcppass_lookup(shown_host, port_text, user, debug);
		password = from_file;
	}
	bool ok = authorize(c, user, password);
	if (from_file) {
		memset(from_file, 0, strlen(from_file));
		free(from_file);
	}
	if (!ok) {
		close(c->fd);
		c->fd = -1;
		return false;
	}
	c->ok = true;
	return true;
}

void pcp_conn_close(pcp_conn *c)
{
	if (c->fd >= 0) {
		if (c->ok) {
			buf b;
			buf_init(&b);
			pcp_req_simple(&b, 'X');
			pcp_conn_send(c, &b, 'X', "DEBUG");   /* errors ignored, as Pgpool-II */
			buf_free(&b);
		}
		close(c->fd);
		c->fd = -1;
	}
	c->ok = false;
	free(c->in);
	c->in = NULL;
	c->incap = 0;
}
