/* Strings in the status segment: atomic char arrays under a sequence
 * counter (a seqlock).  Each byte is a relaxed atomic, so a reader racing a
 * writer gets a torn copy (detected by the counter and redone), never
 * undefined behaviour. */
#include "status_layout.h"

#include <sched.h>

void astr_store(achar *dst, size_t cap, const char *src)
{
	if (cap == 0)
		return;
	size_t i = 0;
	if (src) {
		for (; i + 1 < cap && src[i]; i++)
			atomic_store_explicit(&dst[i], src[i], memory_order_relaxed);
	}
	/* clear the rest too, so a shorter string leaves no old tail behind */
	for (; i < cap; i++)
		atomic_store_explicit(&dst[i], '\0', memory_order_relaxed);
}

void astr_load(const achar *src, size_t cap, char *dst)
{
	if (cap == 0)
		return;
	size_t i = 0;
	for (; i + 1 < cap; i++) {
		dst[i] = atomic_load_explicit((achar *) &src[i], memory_order_relaxed);
		if (dst[i] == '\0')
			return;
	}
	dst[i] = '\0';
}

void seq_write_begin(au32 *seq)
{
	uint32_t v = atomic_load_explicit(seq, memory_order_relaxed);
	atomic_store_explicit(seq, v | 1u, memory_order_relaxed);
	/* the odd value must be visible before any byte of the new text */
	atomic_thread_fence(memory_order_release);
}

void seq_write_end(au32 *seq)
{
	uint32_t v = atomic_load_explicit(seq, memory_order_relaxed);
	atomic_store_explicit(seq, (v | 1u) + 1u, memory_order_release);
}

uint32_t seq_read_begin(const au32 *seq)
{
	/* A writer inside its section: wait a little for it.  Bounded, because
	 * a writer may have died in there; the caller then gets a copy that may
	 * be torn but is always NUL-terminated. */
	for (int spins = 0; spins < 1000; spins++) {
		uint32_t v = atomic_load_explicit((au32 *) seq, memory_order_acquire);
		if ((v & 1u) == 0)
			return v;
		if (spins > 10)
			sched_yield();
	}
	return atomic_load_explicit((au32 *) seq, memory_order_acquire) & ~1u;
}

bool seq_read_retry(const au32 *seq, uint32_t begun)
{
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit((au32 *) seq, memory_order_relaxed) != begun;
}

void seq_repair(au32 *seq)
{
	uint32_t v = atomic_load_explicit(seq, memory_order_relaxed);
	if (v & 1u)
		atomic_store_explicit(seq, v + 1u, memory_order_release);
}
