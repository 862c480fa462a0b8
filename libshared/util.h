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

/* Base64 (RFC 4648 alphabet, '=' padding), as SCRAM and pg_enc use it.
 * base64_encode returns a malloc'd NUL-terminated string, or NULL (out of memory). */
char *base64_encode(const uint8_t *in, size_t n);
/* Strict decoding: length a multiple of 4, only alphabet characters, '='
 * only as the final one or two, unused bits zero (one encoding per value,
 * no whitespace).  out must hold base64_decoded_max(len) bytes
 * (outcap is checked).  False on malformed input or a too-small buffer. */
bool base64_decode(const char *in, size_t len, uint8_t *out, size_t outcap, size_t *outlen);
size_t base64_decoded_max(size_t len);

/* Append one message to an error buffer, separating messages with '\n' and
 * truncating safely at errlen.  err must hold a string (err[0] = 0 to start);
 * err NULL or errlen 0 = discard. */
void err_appendf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Read a whole regular file (at most maxlen bytes) into a malloc'd,
 * NUL-terminated buffer; *len_out = its length.  NULL with errno set on
 * failure (EFBIG if larger than maxlen). */
char *file_read_all(const char *path, size_t maxlen, size_t *len_out);

#endif
