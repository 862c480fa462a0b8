/* A socket buffer for relaying PostgreSQL messages without copying them:
 * bytes are read in at `tail`, checked message by message up to `scan`, and
 * sent from `head`.  A message bigger than the buffer streams through:
 * `pass` counts its bytes still to come. */
#ifndef PGPOOLD_IOBUF_H
#define PGPOOLD_IOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IOBUF_SIZE (32 * 1024)
#define IOBUF_MAX_WHOLE (1024 * 1024)   /* largest message we ever hold whole */

typedef struct iobuf {
	uint8_t *data;
	size_t cap;
	size_t head;     /* first byte not yet sent/consumed */
	size_t scan;     /* bytes before this have been checked */
	size_t tail;     /* end of data read */
	size_t pass;     /* bytes of the current message beyond `scan` still to come */
	uint32_t initial;/* first allocation; 0 = IOBUF_SIZE (kept by iobuf_free) */
} iobuf;

/* Client input starts small: most clients send short messages, and an idle
 * client's footprint is what 10,000 of them cost.  It grows on demand. */
#define IOBUF_CLIENT_INITIAL 1024

enum { IO_OK = 1, IO_EOF = 0, IO_AGAIN = -1, IO_ERR = -2 };

/* Free the memory (the buffer is reusable: it is allocated again on demand). */
void iobuf_free(iobuf *b);
bool iobuf_empty(const iobuf *b);
/* Make room for `need` contiguous bytes at tail (compacting, then growing up
 * to IOBUF_MAX_WHOLE); false if impossible or out of memory. */
bool iobuf_make_room(iobuf *b, size_t need);
struct ev_handler;
/* Read from a socket (through its TLS session if it has one) into the
 * buffer: IO_OK, IO_EOF, IO_AGAIN or IO_ERR. */
int iobuf_recv(iobuf *b, struct ev_handler *h);
/* Send [head, scan): IO_OK when all went, IO_AGAIN if some is left, IO_ERR. */
int iobuf_send_scanned(iobuf *b, struct ev_handler *h);
/* The socket primitives under both, TLS-aware: bytes moved (> 0), or
 * IO_EOF / IO_AGAIN / IO_ERR. */
long sock_read(struct ev_handler *h, void *p, size_t n);
long sock_write(struct ev_handler *h, const void *p, size_t n);
/* Whole-message access for phases that consume messages (startup, auth):
 * 1 = a complete message at head (type, body, len set; consumed), 0 = need
 * more bytes, -1 = bad length (len < 4 or > limit). */
int iobuf_take_msg(iobuf *b, size_t limit, char *type, const uint8_t **body, size_t *len);
struct buf;
/* send() b's bytes from *sent on; when all went, b is emptied.  False only
 * on a socket error (would-block leaves the rest for later). */
bool buf_send_pending(struct ev_handler *h, struct buf *b, size_t *sent);

/* Drop everything (e.g. data for a client that went away). */
void iobuf_clear(iobuf *b);

#endif
