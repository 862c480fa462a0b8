/* Small helpers shared by everything: checked allocation, strings, secrets. */
#ifndef PGPOOLD_UTIL_H
#define PGPOOLD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Allocation that aborts the process with a log line on out-of-memory:
 * used only where there is no sensible recovery (startup, config). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
char *xstrdup(const char *s);

/* Constant-time equality of two byte strings of equal length. */
bool timingsafe_eq(const void *a, const void *b, size_t n);
/* Constant-time equality of two NUL-terminated strings (length leaks only). */
bool timingsafe_streq(const char *a, const char *b);

/* Cryptographically random bytes (OpenSSL RAND_bytes); false on failure. */
bool random_bytes(void *buf, size_t n);

/* Join dir and name unless name is absolute.  Returns malloc'd string or NULL. */
char *path_resolve(const char *dir, const char *name);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Monotonic clock in milliseconds. */
uint64_t now_ms(void);

#endif
