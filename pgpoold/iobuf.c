/* Relay buffers: see iobuf.h. */
#include "iobuf.h"
#include "buf.h"
#include "pgpoold.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void iobuf_free(iobuf *b)
{
	uint32_t initial = b->initial;
	free(b->data);
	memset(b, 0, sizeof(*b));
	b->initial = initial;
}

bool iobuf_empty(const iobuf *b)
{
	return b->head == b->tail;
}

bool buf_send_pending(ev_handler *h, buf *b, size_t *sent)
{
	while (*sent < b->len) {
		long n = sock_write(h, b->data + *sent, b->len - *sent);
		if (n > 0) {
			*sent += (size_t) n;
			continue;
		}
		return n == IO_AGAIN;
	}
	buf_reset(b);
	*sent = 0;
	return true;
}

void iobuf_clear(iobuf *b)
{
	b->head = b->scan = b->tail = 0;
	b->pass = 0;
}

static void compact(iobuf *b)
{
	if (b->head == 0)
		return;
	size_t n = b->tail - b->head;
	if (n)
		memmove(b->data, b->data + b->head, n);
	b->scan -= b->head;
	b->tail -= b->head;
	b->head = 0;
}

bool iobuf_make_room(iobuf *b, size_t need)
{
	if (b->cap - b->tail >= need)
		return true;
	compact(b);
	if (b->cap - b->tail >= need)
		return true;
	size_t want = b->cap ? b->cap : b->initial ? b->initial : IOBUF_SIZE;
	while (want - b->tail < need)
		want *= 2;
	if (want > IOBUF_MAX_WHOLE + IOBUF_SIZE)
		return false;
	uint8_t *p = realloc(b->data, want);
	if (!p)
		return false;
	b->data = p;
	b->cap = want;
	return true;
}

long sock_read(ev_handler *h, void *p, size_t n)
{
	if (h->ssl) {
		ERR_clear_error();
		int rc = SSL_read(h->ssl, p, n > INT32_MAX ? INT32_MAX : (int) n);
		if (rc > 0)
			return rc;
		int e = SSL_get_error(h->ssl, rc);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return IO_AGAIN;
		return e == SSL_ERROR_ZERO_RETURN ? IO_EOF : IO_ERR;
	}
	for (;;) {
		ssize_t rc = recv(h->fd, p, n, 0);
		if (rc > 0)
			return rc;
		if (rc == 0)
			return IO_EOF;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : IO_ERR;
	}
}

long sock_write(ev_handler *h, const void *p, size_t n)
{
	if (h->ssl) {
		ERR_clear_error();
		int rc = SSL_write(h->ssl, p, n > INT32_MAX ? INT32_MAX : (int) n);
		if (rc > 0)
			return rc;
		int e = SSL_get_error(h->ssl, rc);
		return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? IO_AGAIN : IO_ERR;
	}
	for (;;) {
		ssize_t rc = send(h->fd, p, n, MSG_NOSIGNAL);
		if (rc > 0)
			return rc;
		if (rc < 0 && errno == EINTR)
			continue;
		return rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? IO_AGAIN : IO_ERR;
	}
}

int iobuf_recv(iobuf *b, ev_handler *h)
{
	if (b->tail == b->cap || !b->data) {
		/* a full buffer with unsent data waits for the writer; an empty one
		 * (or a fresh one) gets room */
		if (b->head == 0 && b->data && b->tail == b->cap)
			return IO_AGAIN;
		if (!iobuf_make_room(b, 1))
			return IO_ERR;
	}
	long n = sock_read(h, b->data + b->tail, b->cap - b->tail);
	if (n > 0) {
		b->tail += (size_t) n;
		/* a small buffer that one read filled: the peer sends more than it
		 * holds (COPY, pipelines); let it grow towards IOBUF_SIZE (failing
		 * to is harmless: the next read takes what fits) */
		if (b->tail == b->cap && b->cap < IOBUF_SIZE)
			(void) iobuf_make_room(b, b->cap);
		return IO_OK;
	}
	return (int) n;
}

int iobuf_send_scanned(iobuf *b, ev_handler *h)
{
	while (b->head < b->scan) {
		long n = sock_write(h, b->data + b->head, b->scan - b->head);
		if (n > 0) {
			b->head += (size_t) n;
			continue;
		}
		return n == IO_AGAIN ? IO_AGAIN : IO_ERR;
	}
	if (b->head == b->tail) {
		/* everything went: restart at the front, cheaply */
		b->head = b->scan = b->tail = 0;
	}
	return IO_OK;
}

int iobuf_take_msg(iobuf *b, size_t limit, char *type, const uint8_t **body, size_t *len)
{
	size_t avail = b->tail - b->head;
	if (avail < 5)
		return 0;
	const uint8_t *p = b->data + b->head;
	uint32_t mlen = be32(p + 1);
	if (mlen < 4 || mlen > limit)
		return -1;
	if (avail < (size_t) mlen + 1) {
		if (!iobuf_make_room(b, (size_t) mlen + 1 - avail))
			return -1;
		return 0;
	}
	*type = (char) p[0];
	*body = p + 5;
	*len = mlen - 4;
	b->head += (size_t) mlen + 1;
	if (b->scan < b->head)
		b->scan = b->head;
	if (b->head == b->tail)
		b->head = b->scan = b->tail = 0;   /* data stays valid until the next recv */
	return 1;
}
