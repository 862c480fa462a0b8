/* The node status file: see status_file.h. */
#include "status_file.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A real status file is a few hundred bytes; anything much larger is not one. */
#define STATUS_FILE_MAX (64 * 1024)

char *status_file_path(const pool_config *cfg)
{
	const char *dir = cfg->logdir && cfg->logdir[0] ? cfg->logdir : "/tmp";
	return path_resolve(dir, STATUS_FILE_NAME);
}

static const char *status_word(status_node_state s)
{
	switch (s) {
	case NODE_STATUS_UP:
	case NODE_STATUS_WAITING:
		return "up";
	case NODE_STATUS_DOWN:
		return "down";
	case NODE_STATUS_UNUSED:
		break;
	}
	return "unused";
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += w;
		n -= (size_t) w;
	}
	return true;
}

/* fsync the folder holding path, so the rename itself is durable. */
static bool sync_parent(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return false;
	int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (dfd < 0)
		return false;
	bool ok = fsync(dfd) == 0;
	close(dfd);
	return ok;
}

bool status_file_write(const char *path, const status_node_state *statuses, int count,
		       char *err, size_t errlen)
{
	if (count < 0 || count > MAX_BACKENDS) {
		err_appendf(err, errlen, "invalid node count %d for the status file", count);
		return false;
	}
	char text[MAX_BACKENDS * 8];
	size_t len = 0;
	for (int i = 0; i < count; i++)
		len += (size_t) snprintf(text + len, sizeof(text) - len, "%s\n", status_word(statuses[i]));

	size_t tmplen = strlen(path) + 16;
	char *tmp = malloc(tmplen);
	if (!tmp) {
		err_appendf(err, errlen, "out of memory");
		return false;
	}
	snprintf(tmp, tmplen, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_appendf(err, errlen, "could not create \"%s\": %s", tmp, strerror(errno));
		free(tmp);
		return false;
	}
	bool ok = write_all(fd, text, len) && fsync(fd) == 0;
	int saved = errno;
	if (close(fd) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (!ok) {
		err_appendf(err, errlen, "could not write \"%s\": %s", tmp, strerror(saved));
		unlink(tmp);
		free(tmp);
		return false;
	}
	if (rename(tmp, path) != 0) {
		err_appendf(err, errlen, "could not rename \"%s\" to \"%s\": %s", tmp, path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return false;
	}
	free(tmp);
	if (!sync_parent(path)) {
		err_appendf(err, errlen, "could not fsync the folder of \"%s\": %s", path, strerror(errno));
		return false;
	}
	return true;
}

bool status_file_write_segment(const char *path, const status_segment *st, char *err, size_t errlen)
{
	status_node_state statuses[MAX_BACKENDS];
	int n = status_num_nodes(st);
	for (int i = 0; i < n; i++)
		statuses[i] = status_node_status(st, i);
	return status_file_write(path, statuses, n, err, errlen);
}

/* One line (without its newline) to a status; false if it is not one. */
static bool parse_word(const char *line, size_t len, status_node_state *out)
{
	while (len > 0 && isspace((unsigned char) *line)) {
		line++;
		len--;
	}
	while (len > 0 && isspace((unsigned char) line[len - 1]))
		len--;
	if (len == 2 && memcmp(line, "up", 2) == 0)
		*out = NODE_STATUS_UP;
	else if (len == 4 && memcmp(line, "down", 4) == 0)
		*out = NODE_STATUS_DOWN;
	else if (len == 6 && memcmp(line, "unused", 6) == 0)
		*out = NODE_STATUS_UNUSED;
	else
		return false;
	return true;
}

static bool blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char) p[i]))
			return false;
	return true;
}

static status_file_result parse_text(const char *path, const char *text, size_t textlen,
				     status_node_state *statuses, int max, int *count,
				     char *err, size_t errlen)
{
	int n = 0;
	int lineno = 0;
	size_t pos = 0;
	while (pos < textlen) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', textlen - pos);
		size_t len = nl ? (size_t) (nl - line) : textlen - pos;
		pos += len + (nl ? 1 : 0);
		lineno++;
		if (blank(line, len) && blank(text + pos, textlen - pos))
			break;              /* trailing blank lines */
		status_node_state s;
		if (memchr(line, '\0', len) || !parse_word(line, len, &s)) {
			err_appendf(err, errlen, "\"%s\" line %d is not \"up\", \"down\" or \"unused\"", path, lineno);
			return STATUS_FILE_BOGUS;
		}
		if (n >= max) {
			err_appendf(err, errlen, "\"%s\" has more than %d lines", path, max);
			return STATUS_FILE_BOGUS;
		}
		statuses[n++] = s;
	}
	if (n == 0) {
		err_appendf(err, errlen, "\"%s\" is empty", path);
		return STATUS_FILE_BOGUS;
	}
	*count = n;
	return STATUS_FILE_OK;
}

status_file_result status_file_read(const char *path, status_node_state *statuses, int max,
				    int *count, char *err, size_t errlen)
{
	*count = 0;
	size_t len = 0;
	char *text = file_read_all(path, STATUS_FILE_MAX, &len);
	if (!text) {
		if (errno == ENOENT)
			return STATUS_FILE_ABSENT;
		err_appendf(err, errlen, "could not read \"%s\": %s", path, strerror(errno));
		return STATUS_FILE_BOGUS;
	}
	status_file_result r = parse_text(path, text, len, statuses, max, count, err, errlen);
	free(text);
	return r;
}

bool status_file_discard(const char *path, char *err, size_t errlen)
{
	if (unlink(path) == 0 || errno == ENOENT)
		return true;
	err_appendf(err, errlen, "could not remove \"%s\": %s", path, strerror(errno));
	return false;
}
