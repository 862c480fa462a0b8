/* Logging: see log.h. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char instance_name[64] = "pgpoold";
static _Atomic int min_level = LOG_LVL_WARNING;
static _Atomic int log_fd = 2;

static const char *const level_names[] = {
	"DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "LOG", "FATAL"
};

void log_set_instance(const char *name)
{
	snprintf(instance_name, sizeof(instance_name), "%s", name ? name : "");
}

void log_set_min_level(log_level level) { atomic_store(&min_level, (int) level); }
log_level log_get_min_level(void) { return (log_level) atomic_load(&min_level); }
void log_set_fd(int fd) { atomic_store(&log_fd, fd); }

int log_level_from_name(const char *name)
{
	static const struct { const char *name; log_level level; } names[] = {
		{"debug5", LOG_LVL_DEBUG}, {"debug4", LOG_LVL_DEBUG}, {"debug3", LOG_LVL_DEBUG},
		{"debug2", LOG_LVL_DEBUG}, {"debug1", LOG_LVL_DEBUG}, {"debug", LOG_LVL_DEBUG},
		{"info", LOG_LVL_INFO}, {"log", LOG_LVL_LOG}, {"notice", LOG_LVL_NOTICE},
		{"warning", LOG_LVL_WARNING}, {"error", LOG_LVL_ERROR}, {"fatal", LOG_LVL_FATAL},
		{"panic", LOG_LVL_FATAL},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i].name) == 0)
			return (int) names[i].level;
	return -1;
}

int log_open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	int old = atomic_exchange(&log_fd, fd);
	if (old > 2)
		close(old);
	return 0;
}

void log_vmsg(log_level level, const char *fmt, va_list ap)
{
	if ((int) level < atomic_load(&min_level))
		return;
	int saved_errno = errno;
	char line[2048];
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
	n += (size_t) snprintf(line + n, sizeof(line) - n, ".%03d [%s] %s:  ",
		(int) (tv.tv_usec / 1000), instance_name, level_names[level]);
	if (n < sizeof(line)) {
		int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		if (m > 0)
			n += (size_t) m;
	}
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;	/* truncated: keep one line */
	line[n++] = '\n';
	ssize_t w = write(atomic_load(&log_fd), line, n);
	(void) w;
	errno = saved_errno;
}

void log_msg(log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}
