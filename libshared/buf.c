/* Growable byte buffer: see buf.h. */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

void buf_init(buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}

void buf_free(buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_reset(buf *b)
{
	b->len = 0;
	b->oom = false;
}

bool buf_reserve(buf *b, size_t extra)
{
	if (b->oom)
		return false;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->oom = true;
		return false;
	}
	size_t need = b->len + extra;
	if (need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void buf_put(buf *b, const void *p, size_t n)
{
	if (n == 0 || !buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void buf_put_u8(buf *b, uint8_t v)
{
	buf_put(b, &v, 1);
}

void buf_put_i16(buf *b, int16_t v)
{
	uint8_t t[2] = { (uint8_t) ((uint16_t) v >> 8), (uint8_t) v };
	buf_put(b, t, 2);
}

void buf_put_i32(buf *b, int32_t v)
{
	uint8_t t[4];
	put_be32(t, (uint32_t) v);
	buf_put(b, t, 4);
}

void buf_put_str(buf *b, const char *s)
{
	buf_put(b, s, strlen(s) + 1);
}

size_t buf_msg_begin(buf *b, char type)
{
	if (type)
		buf_put_u8(b, (uint8_t) type);
	size_t off = b->len;
	buf_put_i32(b, 0);
	return off;
}

void buf_msg_end(buf *b, size_t len_offset)
{
	if (b->oom || len_offset + 4 > b->len)
		return;
	put_be32(b->data + len_offset, (uint32_t) (b->len - len_offset));
}
