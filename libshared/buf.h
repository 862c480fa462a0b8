/* Growable byte buffer and PostgreSQL message builder.
 *
 * Builders append to a buf; a message is opened with buf_msg_begin() (type
 * byte + length placeholder) and closed with buf_msg_end(), which fills in
 * the length.  Allocation failure is sticky: buf->oom is set, later appends
 * do nothing, and the caller checks it once at the end. */
#ifndef PGPOOLD_BUF_H
#define PGPOOLD_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool oom;
} buf;

void buf_init(buf *b);
void buf_free(buf *b);
void buf_reset(buf *b);               /* len = 0, keeps memory */
bool buf_reserve(buf *b, size_t extra);
void buf_put(buf *b, const void *p, size_t n);
void buf_put_u8(buf *b, uint8_t v);
void buf_put_i16(buf *b, int16_t v);
void buf_put_i32(buf *b, int32_t v);
void buf_put_str(buf *b, const char *s);  /* with its NUL */

/* Start a message with type byte (0 = untyped, as startup packets); returns
 * the offset of the length field for buf_msg_end(). */
size_t buf_msg_begin(buf *b, char type);
void buf_msg_end(buf *b, size_t len_offset);

/* Big-endian loads from raw bytes (caller checked the bounds). */
static inline uint32_t be32(const uint8_t *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}
static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t) (((unsigned) p[0] << 8) | p[1]);
}
static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24); p[1] = (uint8_t) (v >> 16); p[2] = (uint8_t) (v >> 8); p[3] = (uint8_t) v;
}

#endif
