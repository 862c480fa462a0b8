/* A set of node ids (0 .. MAX_BACKENDS-1) as a bitmap. */
#ifndef PGPOOLD_NODESET_H
#define PGPOOLD_NODESET_H

#include <stdbool.h>
#include <stdint.h>

typedef struct nodeset {
	uint64_t bits[2];
} nodeset;

static inline void nodeset_add(nodeset *s, int id) { s->bits[id >> 6] |= (uint64_t) 1 << (id & 63); }
static inline void nodeset_del(nodeset *s, int id) { s->bits[id >> 6] &= ~((uint64_t) 1 << (id & 63)); }
static inline bool nodeset_has(const nodeset *s, int id) { return (s->bits[id >> 6] >> (id & 63)) & 1; }
static inline bool nodeset_empty(const nodeset *s) { return !s->bits[0] && !s->bits[1]; }
static inline void nodeset_clear(nodeset *s) { s->bits[0] = s->bits[1] = 0; }

#endif
