/* A PCP connection on its own thread: see conn.h. */
#include "conn.h"
#include "log.h"
#include "pcpd.h"
#include "session.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A write that makes no progress for this long: the client is gone. */
#define WRITE_TIMEOUT_MS 30000

static atomic_int active_connections;

typedef struct conn {
	int fd;
	char peer[80];
} conn;

int pcpd_conn_count(void)
{
	return atomic_load(&active_connections);
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t) w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			if (poll(&pfd, 1, WRITE_TIMEOUT_MS) > 0)
				continue;
		}
		return false;
	}
	return true;
}

/* Wait for input; false on idle timeout or error. */
static bool wait_readable(int fd, int timeout_ms)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, timeout_ms);
		if (r > 0)
			return true;
		if (r < 0 && errno == EINTR)
			continue;
		return false;
	}
}

/* Flush the reply; false if the client is gone or we ran out of memory. */
static bool flush(conn *c, buf *out)
{
	if (out->oom) {
		log_error("PCP connection from %s: out of memory building a reply; closing", c->peer);
		return false;
	}
	bool ok = out->len == 0 || write_all(c->fd, out->data, out->len);
	buf_reset(out);
	return ok;
}

static void serve(conn *c)
{
	pcpd_session s;
	pcpd_session_init(&s, c->peer);
	uint8_t in[2 * PCP_MAX_REQUEST_LEN];
	size_t have = 0;
	buf out;
	buf_init(&out);
	for (;;) {
		pcp_frame f;
		pcp_result r = pcp_frame_parse(in, have, PCP_MAX_REQUEST_LEN, &f);
		if (r == PCP_ERR_LENGTH) {
			pcpd_session_bad_length(&s, f.length_field, &out);
			flush(c, &out);
			break;
		}
		if (r == PCP_OK) {
			pcpd_action a = pcpd_session_frame(&s, &f, &out);
			memmove(in, in + f.total, have - f.total);
			have -= f.total;
			if (!flush(c, &out) || a == PCPD_CLOSE)
				break;
			continue;
		}
		if (!wait_readable(c->fd, pcpd_opts.idle_timeout_ms)) {
			log_log("PCP connection from %s idle for %d s; closing", c->peer, pcpd_opts.idle_timeout_ms / 1000);
			break;
		}
		ssize_t n = recv(c->fd, in + have, sizeof(in) - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (have > 0)
				log_log("PCP connection from %s closed in the middle of a packet", c->peer);
			break;
		}
		have += (size_t) n;
	}
	buf_free(&out);
}

static void *conn_main(void *arg)
{
	conn *c = arg;
	serve(c);
	close(c->fd);
	free(c);
	atomic_fetch_sub(&active_connections, 1);
	return NULL;
}

/* More clients than we serve at once: say so, Pgpool-II style, and close. */
static void refuse(int fd, const char *peer)
{
	buf out;
	buf_init(&out);
	PCPD_FATAL(&out, "too many PCP connections", "pcpd serves at most %d connections at once",
		   pcpd_opts.max_connections);
	if (!out.oom)
		(void) !send(fd, out.data, out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	buf_free(&out);
	close(fd);
	log_warning("PCP connection from %s refused: %d connections already", peer, pcpd_opts.max_connections);
}

bool pcpd_conn_start(int fd, const char *peer)
{
	if (atomic_fetch_add(&active_connections, 1) >= pcpd_opts.max_connections) {
		atomic_fetch_sub(&active_connections, 1);
		refuse(fd, peer);
		return false;
	}
	conn *c = malloc(sizeof(*c));
	if (!c) {
		atomic_fetch_sub(&active_connections, 1);
		close(fd);
		return false;
	}
	c->fd = fd;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_t t;
	int rc = pthread_create(&t, &attr, conn_main, c);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_error("could not start a thread for the PCP connection from %s: %s", peer, strerror(rc));
		atomic_fetch_sub(&active_connections, 1);
		close(fd);
		free(c);
		return false;
	}
	return true;
}
