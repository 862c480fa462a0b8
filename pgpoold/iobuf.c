/* Relay buffers: see iobuf.h. */
#include "iobuf.h"
#include "buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void iobuf_free(iobuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

bool iobuf_empty(const iobuf *b)
{
	return b->head == b->tail;
}

bool buf_send_pending(int fd, buf *b, size_t *sent)
{
	while (*sent < b->len) {
		ssize_t n = send(fd, b->data + *sent, b->len - *sent, MSG_NOSIGNAL);
		if (n > 0) {
			*sent += (size_t) n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		return false;
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
	size_t want = b->cap ? b->cap : IOBUF_SIZE;
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

int iobuf_recv(iobuf *b, int fd)
{
	if (b->tail == b->cap || !b->data) {
		/* a full buffer with unsent data waits for the writer; an empty one
		 * (or a fresh one) gets room */
		if (b->head == 0 && b->data && b->tail == b->cap)
			return IO_AGAIN;
		if (!iobuf_make_room(b, 1))
			return IO_ERR;
	}
	for (;;) {
		ssize_t n = recv(fd, b->data + b->tail, b->cap - b->tail, 0);
		if (n > 0) {
			b->tail += (size_t) n;
			return IO_OK;
		}
		if (n == 0)
			return IO_EOF;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return IO_AGAIN;
		return IO_ERR;
	}
}

int iobuf_send_scanned(iobuf *b, int fd)
{
	while (b->head < b->scan) {
		ssize_t n = send(fd, b->data + b->head, b->scan - b->head, MSG_NOSIGNAL);
		if (n > 0) {
			b->head += (size_t) n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return IO_AGAIN;
		return IO_ERR;
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
