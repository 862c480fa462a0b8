/* The reply queue: see expect.h. */
#include "expect.h"

#include <stdlib.h>
#include <string.h>

static bool grow(expect_queue *q)
{
	uint32_t cap = q->cap ? q->cap * 2 : 16;
	expect *ring = malloc(sizeof(*ring) * cap);
	if (!ring)
		return false;
	for (uint32_t i = 0; i < q->count; i++)
		ring[i] = q->ring[(q->head + i) & (q->cap - 1)];
	free(q->ring);
	q->ring = ring;
	q->cap = cap;
	q->head = 0;
	return true;
}

bool expect_push(expect_queue *q, int node, expect_kind kind, bool forward)
{
	if (q->count == q->cap && !grow(q))
		return false;
	expect *e = &q->ring[(q->head + q->count) & (q->cap - 1)];
	e->node = (int16_t) node;
	e->kind = (uint8_t) kind;
	e->forward = forward;
	e->local = -1;
	q->count++;
	return true;
}

expect *expect_head(expect_queue *q)
{
	return q->count ? &q->ring[q->head] : NULL;
}

void expect_pop(expect_queue *q)
{
	if (!q->count)
		return;
	q->head = (q->head + 1) & (q->cap - 1);
	q->count--;
}

void expect_void_until_sync(expect_queue *q, int node)
{
	/* compact the ring in place, keeping order */
	uint32_t kept = 0;
	bool voiding = true;
	for (uint32_t i = 0; i < q->count; i++) {
		expect e = q->ring[(q->head + i) & (q->cap - 1)];
		if (e.node == node && voiding) {
			/* PostgreSQL ignores every message, Query included, until Sync */
			if (e.kind == EXP_SYNC)
				voiding = false;
			else
				continue;
		}
		q->ring[(q->head + kept) & (q->cap - 1)] = e;
		kept++;
	}
	q->count = kept;
}

bool expect_node_pending(const expect_queue *q, int node)
{
	for (uint32_t i = 0; i < q->count; i++)
		if (q->ring[(q->head + i) & (q->cap - 1)].node == node)
			return true;
	return false;
}

void expect_free(expect_queue *q)
{
	free(q->ring);
	memset(q, 0, sizeof(*q));
}

bool expect_completes(expect_kind kind, char type)
{
	switch (kind) {
	case EXP_QUERY:
	case EXP_SYNC:
		return type == 'Z';
	case EXP_PARSE:
		return type == '1' || type == 'E';
	case EXP_BIND:
		return type == '2' || type == 'E';
	case EXP_CLOSE:
		return type == '3' || type == 'E';
	case EXP_DESCRIBE:
		return type == 'T' || type == 'n' || type == 'E';
	case EXP_EXECUTE:
		return type == 'C' || type == 'I' || type == 's' || type == 'E';
	default:
		return false;
	}
}
