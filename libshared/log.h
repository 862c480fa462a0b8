/* Logging: one line per event, "<time> [<instance>] <LEVEL>:  <message>".
 * Thread-safe: each line goes out in a single write(2). */
#ifndef PGPOOLD_LOG_H
#define PGPOOLD_LOG_H

#include <stdarg.h>

/* Ordered for filtering as PostgreSQL's log_min_messages: LOG ranks above
 * ERROR, so operational events show with the default "warning". */
typedef enum log_level {
	LOG_LVL_DEBUG = 0,
	LOG_LVL_INFO,
	LOG_LVL_NOTICE,
	LOG_LVL_WARNING,
	LOG_LVL_ERROR,
	LOG_LVL_LOG,
	LOG_LVL_FATAL
} log_level;

/* Set the instance name shown in every line (copied). */
void log_set_instance(const char *name);
/* Messages below this level are dropped. */
void log_set_min_level(log_level level);
log_level log_get_min_level(void);
/* Parse "debug1".."debug5", "info", "log", "notice", "warning", "error", "fatal". -1 if unknown. */
int log_level_from_name(const char *name);
/* Send log lines to this fd (default 2). */
void log_set_fd(int fd);
/* Open (append) a log file and make it the destination; returns 0 or -1 (errno set). */
int log_open_file(const char *path);

void log_msg(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(log_level level, const char *fmt, va_list ap);

#define log_debug(...) do { if (log_get_min_level() <= LOG_LVL_DEBUG) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...)    log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_log(...)     log_msg(LOG_LVL_LOG, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_error(...)   log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_fatal(...)   log_msg(LOG_LVL_FATAL, __VA_ARGS__)

#endif
