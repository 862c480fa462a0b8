/* Small helpers: see util.h. */
#include "util.h"
#include "log.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void oom(size_t n)
{
	log_fatal("out of memory allocating %zu bytes", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		oom(n * m);
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		oom(strlen(s));
	return p;
}

bool timingsafe_eq(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

bool timingsafe_streq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb)
		return false;
	return CRYPTO_memcmp(a, b, la) == 0;
}

bool random_bytes(void *buf, size_t n)
{
	return RAND_bytes(buf, (int) n) == 1;
}

char *path_resolve(const char *dir, const char *name)
{
	if (!name)
		return NULL;
	if (name[0] == '/' || name[0] == '\0' || !dir || !dir[0])
		return strdup(name);
	size_t len = strlen(dir) + strlen(name) + 2;
	char *p = malloc(len);
	if (p)
		snprintf(p, len, "%s/%s", dir, name);
	return p;
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/* ---- base64 ---- */

/* EVP_EncodeBlock/DecodeBlock take int lengths; stay well inside them. */
#define BASE64_MAX_INPUT ((size_t) INT_MAX / 4 * 3 - 3)

char *base64_encode(const uint8_t *in, size_t n)
{
	if (n > BASE64_MAX_INPUT)
		return NULL;
	size_t outlen = 4 * ((n + 2) / 3);
	char *out = malloc(outlen + 1);
	if (!out)
		return NULL;
	int written = EVP_EncodeBlock((unsigned char *) out, in, (int) n);
	if (written < 0 || (size_t) written != outlen) {
		free(out);
		return NULL;
	}
	out[outlen] = '\0';
	return out;
}

size_t base64_decoded_max(size_t len)
{
	return len / 4 * 3;
}

static bool is_base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '+' || c == '/';
}

static unsigned base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned) (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (unsigned) (c - 'a') + 26;
	if (c >= '0' && c <= '9')
		return (unsigned) (c - '0') + 52;
	return c == '+' ? 62 : 63;
}

/* Count of '=' at the end if the text is canonical base64, else -1.
 * EVP_DecodeBlock itself skips surrounding whitespace, does not tell how
 * much padding it saw and ignores the unused low bits of the last
 * character, so we check all that first: one value, one encoding. */
static int base64_padding(const char *in, size_t len)
{
	if (len % 4 != 0)
		return -1;
	int pad = 0;
	if (len > 0 && in[len - 1] == '=')
		pad = (len > 1 && in[len - 2] == '=') ? 2 : 1;
	size_t data_len = len - (size_t) pad;
	for (size_t i = 0; i < data_len; i++)
		if (!is_base64_char(in[i]))
			return -1;
	/* before "==" the last character carries 2 data bits, before "=" 4 */
	unsigned unused_mask = pad == 2 ? 0x0f : pad == 1 ? 0x03 : 0;
	if (pad > 0 && (base64_value(in[data_len - 1]) & unused_mask) != 0)
		return -1;
	return pad;
}

bool base64_decode(const char *in, size_t len, uint8_t *out, size_t outcap, size_t *outlen)
{
	int pad = base64_padding(in, len);
	if (pad < 0 || len > (size_t) INT_MAX || base64_decoded_max(len) > outcap)
		return false;
	if (len == 0) {
		*outlen = 0;
		return true;
	}
	int n = EVP_DecodeBlock(out, (const unsigned char *) in, (int) len);
	if (n < 0 || (size_t) n != base64_decoded_max(len))
		return false;
	*outlen = (size_t) n - (size_t) pad;
	return true;
}

/* ---- error buffers ---- */

void err_appendf(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	size_t used = strnlen(err, errlen);
	if (used >= errlen - 1)
		return;		/* full (or unterminated): keep what is there */
	if (used > 0) {
		err[used++] = '\n';
		err[used] = '\0';
		if (used >= errlen - 1)
			return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

/* ---- files ---- */

static char *read_fd_all(int fd, size_t maxlen, size_t *len_out)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return NULL;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return NULL;
	}
	if (maxlen > SIZE_MAX / 2)
		maxlen = SIZE_MAX / 2;
	if (st.st_size < 0 || (uint64_t) st.st_size > maxlen) {
		errno = EFBIG;
		return NULL;
	}
	/* The size is only a hint (the file may grow under us): read until EOF,
	 * with room for one byte more than maxlen so that "too big" shows. */
	size_t limit = maxlen + 1;
	size_t room = (size_t) st.st_size + 1;
	size_t len = 0;
	char *buf = malloc(room + 1);
	if (!buf)
		return NULL;
	for (;;) {
		if (len == room) {
			if (room >= limit)
				break;
			size_t nroom = room * 2 > limit ? limit : room * 2;
			char *nbuf = realloc(buf, nroom + 1);
			if (!nbuf) {
				free(buf);
				return NULL;
			}
			buf = nbuf;
			room = nroom;
		}
		ssize_t r = read(fd, buf + len, room - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int saved = errno;
			free(buf);
			errno = saved;
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t) r;
	}
	if (len > maxlen) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[len] = '\0';
	*len_out = len;
	return buf;
}

char *file_read_all(const char *path, size_t maxlen, size_t *len_out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf = read_fd_all(fd, maxlen, len_out);
	int saved = errno;
	close(fd);
	errno = saved;
	return buf;
}
