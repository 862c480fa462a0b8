/* Configuration loading: see config.h.
 *
 * Every top-level parameter is one row of `params` (name, type, where it
 * lives in pool_config, default, range); the keys of a backend group are the
 * rows of `backend_params`.  Loading lets libconfig parse the text, then walks
 * the parsed settings in file order and checks each one against its row, so a
 * single run reports every problem.  (libconfig stops at its first syntax
 * error, so a syntax error is always reported alone.) */
#include "config.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* A config file larger than this is surely a mistake (a log file, say). */
#define CONFIG_FILE_MAX (16u * 1024 * 1024)

/* Seconds the daemon turns into milliseconds must still fit an int then. */
#define SECONDS_MAX (INT_MAX / 1000)

/* Label for the main text of config_load_string(), which has no file. */
#define STRING_LABEL "<string>"

/* ---- the parameter tables ---- */

typedef enum param_type {
	PARAM_INT,
	PARAM_BOOL,
	PARAM_STRING,
	PARAM_DOUBLE,
	PARAM_ENUM,          /* a string that must be one of `words` (stored canonical) */
	PARAM_MODE,          /* a file mode, written 0777 as in PostgreSQL */
	PARAM_BACKEND_FLAG,  /* '|'-separated backend_flag words, stored as bits */
} param_type;

#define PARAM_PATH     0x01  /* a file name: a relative one resolves against the config folder */
#define PARAM_REQUIRED 0x02  /* must be present */

typedef struct param_def {
	const char *name;
	param_type type;
	size_t offset;              /* into pool_config or backend_config */
	const char *str_default;    /* PARAM_STRING, PARAM_ENUM */
	double num_default;         /* every other type */
	double min, max;            /* PARAM_INT, PARAM_DOUBLE, PARAM_MODE */
	const char *const *words;   /* PARAM_ENUM: NULL-terminated */
	unsigned flags;
} param_def;

#define P_INT(st, f, def, lo, hi) \
	{ .name = #f, .type = PARAM_INT, .offset = offsetof(st, f), .num_default = (def), .min = (lo), .max = (hi) }
#define P_DOUBLE(st, f, def, lo, hi) \
	{ .name = #f, .type = PARAM_DOUBLE, .offset = offsetof(st, f), .num_default = (def), .min = (lo), .max = (hi) }
#define P_BOOL(st, f, def) \
	{ .name = #f, .type = PARAM_BOOL, .offset = offsetof(st, f), .num_default = (def) }
#define P_STRING(st, f, def) \
	{ .name = #f, .type = PARAM_STRING, .offset = offsetof(st, f), .str_default = (def) }
#define P_PATH(st, f, def) \
	{ .name = #f, .type = PARAM_STRING, .offset = offsetof(st, f), .str_default = (def), .flags = PARAM_PATH }
#define P_ENUM(st, f, def, w) \
	{ .name = #f, .type = PARAM_ENUM, .offset = offsetof(st, f), .str_default = (def), .words = (w) }
#define P_MODE(st, f, def) \
	{ .name = #f, .type = PARAM_MODE, .offset = offsetof(st, f), .num_default = (def), .min = 0, .max = 0777 }

/* PostgreSQL's (and Pgpool-II's) log_min_messages words. */
static const char *const log_level_words[] = {
	"debug5", "debug4", "debug3", "debug2", "debug1", "info", "notice",
	"warning", "error", "log", "fatal", "panic", NULL
};

static const char *const dlbow_words[] = {
	"off", "transaction", "trans_transaction", "always", "dml_adaptive", NULL
};
static const char *const pool_mode_words[] = { "session", "transaction", NULL };
static const char *const tls_version_words[] = { "tlsv1", "tlsv1.1", "tlsv1.2", "tlsv1.3", NULL };
static const char *const sslmode_words[] = { "disable", "prefer", "require", "verify-ca", "verify-full", NULL };
static const char *const standby_delay_words[] = { "none", "always", "if_over_threshold", NULL };

/* Defaults are Pgpool-II 4.3's where the parameter is Pgpool-II's. */
static const param_def params[] = {
	P_STRING(pool_config, instance_name, "pgpoold"),  /* replaced by the file's name on load */

	/* connections */
	P_STRING(pool_config, listen_addresses, "localhost"),
	P_INT(pool_config, port, 9999, 1, 65535),
	P_STRING(pool_config, unix_socket_directories, "/tmp"),
	P_MODE(pool_config, unix_socket_permissions, 0777),
	P_STRING(pool_config, pcp_listen_addresses, "localhost"),
	P_INT(pool_config, pcp_port, 9898, 1, 65535),
	P_STRING(pool_config, pcp_socket_dir, "/tmp"),
	P_INT(pool_config, listen_backlog, 1024, 1, 65535),
	P_INT(pool_config, workers, 0, 0, 1024),
	P_INT(pool_config, max_clients, 1000, 1, 1000000),
	P_INT(pool_config, authentication_timeout, 60, 0, SECONDS_MAX),
	P_INT(pool_config, client_idle_limit, 0, 0, SECONDS_MAX),
	P_INT(pool_config, max_message_size, 1073741824, 1024, INT_MAX),

	/* pooling */
	P_ENUM(pool_config, pool_mode, "session", pool_mode_words),
	P_STRING(pool_config, database_pool_mode_list, ""),
	P_STRING(pool_config, user_pool_mode_list, ""),
	P_INT(pool_config, max_pool, 4, 1, 10000),
	P_INT(pool_config, default_pool_size, 20, 0, 100000),
	P_INT(pool_config, connection_life_time, 0, 0, SECONDS_MAX),
	P_BOOL(pool_config, connection_cache, true),
	P_STRING(pool_config, reset_query_list, "ABORT; DISCARD ALL"),
	P_INT(pool_config, connect_timeout, 10000, 0, INT_MAX),

	/* authentication */
	P_BOOL(pool_config, enable_pool_hba, false),
	P_PATH(pool_config, pool_hba_file, "pool_hba.conf"),
	P_PATH(pool_config, pool_passwd, "pool_passwd"),
	P_PATH(pool_config, pool_key, ""),
	P_INT(pool_config, max_db_connections, 0, 0, 1000000),
	P_INT(pool_config, max_user_connections, 0, 0, 1000000),
	P_PATH(pool_config, pcp_conf_file, "pcp.conf"),

	/* process */
	P_PATH(pool_config, pid_file_name, "pgpoold.pid"),
	P_PATH(pool_config, logdir, "/tmp"),

	/* logging */
	P_ENUM(pool_config, log_min_messages, "warning", log_level_words),
	P_BOOL(pool_config, log_connections, false),
	P_BOOL(pool_config, log_disconnections, false),
	P_BOOL(pool_config, log_statement, false),
	P_BOOL(pool_config, logging_collector, false),
	P_PATH(pool_config, log_directory, "log"),
	P_STRING(pool_config, log_filename, "pgpoold.log"),

	/* TLS */
	P_BOOL(pool_config, ssl, false),
	P_PATH(pool_config, ssl_cert, "server.crt"),
	P_PATH(pool_config, ssl_key, "server.key"),
	P_PATH(pool_config, ssl_ca_cert, ""),
	P_STRING(pool_config, ssl_ciphers, "HIGH:MEDIUM:+3DES:!aNULL"),
	P_ENUM(pool_config, ssl_min_protocol_version, "TLSv1.2", tls_version_words),
	P_BOOL(pool_config, ssl_prefer_server_ciphers, false),
	P_STRING(pool_config, ssl_ecdh_curve, "prime256v1"),
	P_ENUM(pool_config, backend_sslmode, "prefer", sslmode_words),
	P_PATH(pool_config, backend_ssl_ca_cert, ""),

	/* routing */
	P_BOOL(pool_config, load_balance_mode, true),
	P_BOOL(pool_config, statement_level_load_balance, false),
	P_ENUM(pool_config, disable_load_balance_on_write, "transaction", dlbow_words),
	P_STRING(pool_config, write_function_list, ""),
	P_STRING(pool_config, read_only_function_list, ""),
	P_STRING(pool_config, primary_routing_query_pattern_list, ""),
	P_STRING(pool_config, database_redirect_preference_list, ""),
	P_STRING(pool_config, app_name_redirect_preference_list, ""),
	P_BOOL(pool_config, causal_reads, false),

	/* replication delay check */
	P_INT(pool_config, sr_check_period, 10, 0, SECONDS_MAX),
	P_STRING(pool_config, sr_check_user, "nobody"),
	P_STRING(pool_config, sr_check_password, ""),
	P_STRING(pool_config, sr_check_database, "postgres"),
	P_INT(pool_config, delay_threshold, 0, 0, INT_MAX),
	P_INT(pool_config, delay_threshold_by_time, 0, 0, INT_MAX),
	P_BOOL(pool_config, prefer_lower_delay_standby, false),
	P_ENUM(pool_config, log_standby_delay, "if_over_threshold", standby_delay_words),

	/* health check */
	P_INT(pool_config, health_check_period, 0, 0, SECONDS_MAX),
	P_INT(pool_config, health_check_timeout, 20, 0, SECONDS_MAX),
	P_INT(pool_config, health_check_max_retries, 0, 0, 1000000),
	P_INT(pool_config, health_check_retry_delay, 1, 0, SECONDS_MAX),
	P_STRING(pool_config, health_check_user, "nobody"),
	P_STRING(pool_config, health_check_password, ""),
	P_STRING(pool_config, health_check_database, "postgres"),

	/* failover */
	P_STRING(pool_config, failover_command, ""),
	P_STRING(pool_config, failback_command, ""),
	P_STRING(pool_config, follow_primary_command, ""),
	P_BOOL(pool_config, failover_on_backend_error, true),
	P_BOOL(pool_config, detach_false_primary, false),
	P_BOOL(pool_config, auto_failback, false),
	P_INT(pool_config, auto_failback_interval, 60, 0, SECONDS_MAX),
	P_INT(pool_config, search_primary_node_timeout, 300, 0, SECONDS_MAX),
	P_STRING(pool_config, recovery_1st_stage_command, ""),
};
#define NUM_PARAMS (sizeof(params) / sizeof(params[0]))

/* The keys of one group in the `backends` list (Pgpool-II's backend_*N
 * parameters without the prefix and the number). */
static const param_def backend_params[] = {
	P_STRING(backend_config, hostname, ""),
	P_INT(backend_config, health_check_period, -1, -1, SECONDS_MAX),
	P_INT(backend_config, health_check_timeout, -1, -1, SECONDS_MAX),
	P_INT(backend_config, health_check_max_retries, -1, -1, 1000000),
	P_INT(backend_config, health_check_retry_delay, -1, -1, SECONDS_MAX),
	{ .name = "port", .type = PARAM_INT, .offset = offsetof(backend_config, port),
	  .min = 1, .max = 65535, .flags = PARAM_REQUIRED },
	P_DOUBLE(backend_config, weight, 1.0, 0, 100000000),
	P_STRING(backend_config, data_directory, ""),
	{ .name = "flag", .type = PARAM_BACKEND_FLAG, .offset = offsetof(backend_config, flag),
	  .num_default = BACKEND_FLAG_ALLOW_TO_FAILOVER },
	P_STRING(backend_config, application_name, ""),
};
#define NUM_BACKEND_PARAMS (sizeof(backend_params) / sizeof(backend_params[0]))

static const struct { const char *word; int bit; } backend_flag_words[] = {
	{"ALLOW_TO_FAILOVER", BACKEND_FLAG_ALLOW_TO_FAILOVER},
	{"DISALLOW_TO_FAILOVER", BACKEND_FLAG_DISALLOW_TO_FAILOVER},
	{"ALWAYS_PRIMARY", BACKEND_FLAG_ALWAYS_PRIMARY},
};

/* Pgpool-II parameters a user may carry over that pgpoold spells differently. */
static const struct { const char *prefix; const char *hint; } unknown_hints[] = {
	{"backend_", "backends are a list: backends = ( { hostname = \"...\"; port = 5432; }, ... );"},
	{"num_init_children", "pgpoold is threaded: see workers and max_clients"},
	{"socket_dir", "use unix_socket_directories"},
};

/* ---- out of memory ---- */

/* Same policy as util.h's x* allocators: config loading has no sensible
 * way to go on without memory. */
static void *must(void *p)
{
	if (!p) {
		log_fatal("out of memory while loading the configuration");
		abort();
	}
	return p;
}

static void *xrealloc_array(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		must(NULL);
	size_t bytes = n * size;
	return must(realloc(p, bytes ? bytes : 1));
}

/* ---- libconfig 1.5 integer wrap-around ----
 *
 * libconfig 1.5 reads an integer literal without an L suffix into an int with
 * no overflow check, so "port = 4294972731;" arrives as 5435.  To never accept
 * such a value silently, each file is scanned for integer literals outside
 * the 32-bit range, and an int setting written on the same line under the
 * same name is judged by the literal's real value instead. */

typedef struct wide_literal {
	int line;
	char name[64];           /* the setting name written before it */
	long long value;         /* saturated at LLONG_MIN/LLONG_MAX */
	char text[40];           /* as written, for messages */
} wide_literal;

typedef struct scanned_file {
	char *path;              /* resolved path; NULL = the main text */
	wide_literal *lits;
	int nlits;
} scanned_file;

/* A name token seen by the scanner: where it starts and how long it is. */
typedef struct name_token {
	const char *start;
	size_t len;
} name_token;

static void add_wide_literal(scanned_file *f, int line, name_token name,
			     const char *start, size_t len, long long value)
{
	f->lits = xrealloc_array(f->lits, (size_t) f->nlits + 1, sizeof(*f->lits));
	wide_literal *lit = &f->lits[f->nlits++];
	lit->line = line;
	snprintf(lit->name, sizeof(lit->name), "%.*s", (int) name.len, name.start ? name.start : "");
	lit->value = value;
	snprintf(lit->text, sizeof(lit->text), "%.*s", (int) len, start);
}

/* One number token at p (libconfig's integer, integer64, hex, hex64 and
 * float forms); records it if it is an integer libconfig would wrap.
 * Returns the first character after it. */
static const char *scan_number(scanned_file *f, const char *p, int line, name_token name)
{
	const char *start = p;
	bool hex = false, is_float = false;
	if (*p == '+' || *p == '-')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		hex = true;
		for (p += 2; isxdigit((unsigned char) *p); p++)
			;
	} else {
		while (isdigit((unsigned char) *p))
			p++;
		if (*p == '.' || *p == 'e' || *p == 'E') {
			is_float = true;
			while (isdigit((unsigned char) *p) || *p == '.' || *p == 'e' || *p == 'E' ||
			       ((*p == '+' || *p == '-') && (p[-1] == 'e' || p[-1] == 'E')))
				p++;
		}
	}
	size_t len = (size_t) (p - start);
	if (*p == 'L') {             /* int64 literal: libconfig reads it right */
		while (*p == 'L')
			p++;
		return p;
	}
	if (is_float)
		return p;
	errno = 0;
	long long value;
	if (hex) {
		unsigned long long u = strtoull(start, NULL, 16);
		value = u > LLONG_MAX ? LLONG_MAX : (long long) u;
	} else {
		value = strtoll(start, NULL, 10);
	}
	if (errno == ERANGE || value > INT32_MAX || value < INT32_MIN)
		add_wide_literal(f, line, name, start, len, value);
	return p;
}

/* Find integer literals outside the int range, skipping comments, strings
 * and names (names may hold digits: backend_port0). */
static void scan_wide_literals(scanned_file *f, const char *text)
{
	int line = 1;
	name_token name = { NULL, 0 };
	const char *p = text;
	while (*p) {
		if (*p == '\n') {
			line++;
			p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
				if (*p == '\n')
					line++;
			if (*p)
				p += 2;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				if (*p == '\n')
					line++;
			}
			if (*p)
				p++;
		} else if (isalpha((unsigned char) *p) || *p == '*') {
			name.start = p;
			while (isalnum((unsigned char) *p) || *p == '_' || *p == '-' || *p == '*')
				p++;
			name.len = (size_t) (p - name.start);
		} else if (isdigit((unsigned char) *p) ||
			   ((*p == '+' || *p == '-') && isdigit((unsigned char) p[1]))) {
			p = scan_number(f, p, line, name);
		} else {
			p++;
		}
	}
}

/* ---- loading context and error reporting ---- */

typedef struct load_ctx {
	config_errors *errs;     /* may be NULL: only count */
	int nerrors;
	const char *main_label;  /* shown for the main file (libconfig names it NULL) */
	const char *dir;         /* config folder; @include names are relative to it */
	scanned_file *files;     /* files[0] = the main text */
	int nfiles;
} load_ctx;

static void errors_append(config_errors *errs, char *line)
{
	if (errs->count == errs->cap) {
		int cap = errs->cap ? errs->cap * 2 : 8;
		errs->items = xrealloc_array(errs->items, (size_t) cap, sizeof(*errs->items));
		errs->cap = cap;
	}
	errs->items[errs->count++] = line;
}

/* A file name as libconfig recorded it (NULL = main text, else an @include
 * name relative to the include folder), made into a path a user can open. */
static char *display_file(const load_ctx *ctx, const char *raw_file)
{
	if (!raw_file)
		return xstrdup(ctx->main_label);
	return must(path_resolve(ctx->dir, raw_file));
}

static void add_verror(load_ctx *ctx, const char *raw_file, int line, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static void add_verror(load_ctx *ctx, const char *raw_file, int line, const char *fmt, va_list ap)
{
	ctx->nerrors++;
	if (!ctx->errs)
		return;
	char message[1024];
	vsnprintf(message, sizeof(message), fmt, ap);
	char *file = display_file(ctx, raw_file);
	char where[32] = "";
	if (line > 0)
		snprintf(where, sizeof(where), ":%d", line);
	size_t len = strlen(file) + strlen(where) + strlen(message) + 3;
	char *item = xmalloc(len);
	snprintf(item, len, "%s%s: %s", file, where, message);
	free(file);
	errors_append(ctx->errs, item);
}

/* An error at raw_file:line (line 0 = the file as a whole). */
static void add_error(load_ctx *ctx, const char *raw_file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add_error(load_ctx *ctx, const char *raw_file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_verror(ctx, raw_file, line, fmt, ap);
	va_end(ap);
}

/* An error about a setting, at the file and line it was written. */
static void setting_error(load_ctx *ctx, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void setting_error(load_ctx *ctx, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_verror(ctx, config_setting_source_file(s), (int) config_setting_source_line(s), fmt, ap);
	va_end(ap);
}

static scanned_file *add_scanned_file(load_ctx *ctx, char *path, const char *text)
{
	ctx->files = xrealloc_array(ctx->files, (size_t) ctx->nfiles + 1, sizeof(*ctx->files));
	scanned_file *f = &ctx->files[ctx->nfiles++];
	f->path = path;
	f->lits = NULL;
	f->nlits = 0;
	if (text)
		scan_wide_literals(f, text);
	return f;
}

/* The scan of the file a setting came from, reading an @include'd file the
 * first time it is needed. */
static const scanned_file *scanned_file_of(load_ctx *ctx, const config_setting_t *s)
{
	const char *raw = config_setting_source_file(s);
	if (!raw)
		return ctx->nfiles > 0 ? &ctx->files[0] : NULL;
	char *path = must(path_resolve(ctx->dir, raw));
	for (int i = 1; i < ctx->nfiles; i++) {
		if (strcmp(ctx->files[i].path, path) == 0) {
			free(path);
			return &ctx->files[i];
		}
	}
	size_t len;
	char *text = file_read_all(path, CONFIG_FILE_MAX, &len);
	/* libconfig has just read it; if it is gone now, trust libconfig's values */
	scanned_file *f = add_scanned_file(ctx, path, text);
	free(text);
	return f;
}

static void load_ctx_free(load_ctx *ctx)
{
	for (int i = 0; i < ctx->nfiles; i++) {
		free(ctx->files[i].path);
		free(ctx->files[i].lits);
	}
	free(ctx->files);
	ctx->files = NULL;
	ctx->nfiles = 0;
}

/* ---- reading one setting ---- */

typedef struct int_value {
	long long value;
	char shown[48];          /* the value for messages, as written if it was wrapped */
} int_value;

/* The integer a setting holds, as written.  False if it is not an integer
 * (a float where an integer is expected is a type error, not truncated). */
static bool setting_int(load_ctx *ctx, const config_setting_t *s, int_value *out)
{
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return false;
	out->value = config_setting_get_int64(s);
	snprintf(out->shown, sizeof(out->shown), "%lld", out->value);
	if (type == CONFIG_TYPE_INT) {
		const scanned_file *f = scanned_file_of(ctx, s);
		int line = (int) config_setting_source_line(s);
		const char *name = config_setting_name(s);
		for (int i = 0; f && i < f->nlits; i++) {
			if (f->lits[i].line == line && (!name || strcmp(f->lits[i].name, name) == 0)) {
				out->value = f->lits[i].value;
				snprintf(out->shown, sizeof(out->shown), "%s", f->lits[i].text);
				break;
			}
		}
	}
	return true;
}

static void set_string(char **field, const char *value)
{
	char *copy = xstrdup(value);
	free(*field);
	*field = copy;
}

static void apply_int(load_ctx *ctx, const param_def *def, const config_setting_t *s,
		      const char *name, int *field)
{
	int_value v;
	if (!setting_int(ctx, s, &v)) {
		setting_error(ctx, s, "parameter \"%s\" must be an integer", name);
		return;
	}
	if ((double) v.value < def->min || (double) v.value > def->max) {
		setting_error(ctx, s, "parameter \"%s\" = %s is out of range (%.0f .. %.0f)",
			      name, v.shown, def->min, def->max);
		return;
	}
	*field = (int) v.value;
}

/* Doubles accept integers too: "weight = 1;" is as natural as "1.0". */
static void apply_double(load_ctx *ctx, const param_def *def, const config_setting_t *s,
			 const char *name, double *field)
{
	double value;
	char shown[48];
	int_value v;
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT) {
		value = config_setting_get_float(s);
		snprintf(shown, sizeof(shown), "%g", value);
	} else if (setting_int(ctx, s, &v)) {
		value = (double) v.value;
		snprintf(shown, sizeof(shown), "%s", v.shown);
	} else {
		setting_error(ctx, s, "parameter \"%s\" must be a number", name);
		return;
	}
	if (!isfinite(value) || value < def->min || value > def->max) {
		setting_error(ctx, s, "parameter \"%s\" = %s is out of range (%g .. %g)",
			      name, shown, def->min, def->max);
		return;
	}
	*field = value;
}

static void apply_bool(load_ctx *ctx, const config_setting_t *s, const char *name, bool *field)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		setting_error(ctx, s, "parameter \"%s\" must be a boolean (true or false)", name);
		return;
	}
	*field = config_setting_get_bool(s) != 0;
}

static void apply_string(load_ctx *ctx, const config_setting_t *s, const char *name, char **field)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		setting_error(ctx, s, "parameter \"%s\" must be a string", name);
		return;
	}
	set_string(field, config_setting_get_string(s));
}

/* Enum words compare case-insensitively, as in Pgpool-II; the canonical
 * spelling is stored. */
static void apply_enum(load_ctx *ctx, const param_def *def, const config_setting_t *s,
		       const char *name, char **field)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		setting_error(ctx, s, "parameter \"%s\" must be a string", name);
		return;
	}
	const char *value = config_setting_get_string(s);
	for (const char *const *w = def->words; *w; w++) {
		if (strcasecmp(value, *w) == 0) {
			set_string(field, *w);
			return;
		}
	}
	char expected[256] = "";
	size_t used = 0;
	for (const char *const *w = def->words; *w && used < sizeof(expected); w++)
		used += (size_t) snprintf(expected + used, sizeof(expected) - used, "%s%s",
					  w == def->words ? "" : ", ", *w);
	setting_error(ctx, s, "parameter \"%s\" = \"%s\" is not valid (expected one of: %s)",
		      name, value, expected);
}

/* A decimal literal's digits read as octal: libconfig has no octal
 * literals, and a mode is written 0777 everywhere else (PostgreSQL's
 * unix_socket_permissions, chmod).  -1 if a digit is 8 or 9. */
static long long octal_from_decimal_digits(long long decimal)
{
	long long octal = 0, place = 1;
	if (decimal < 0)
		return -1;
	for (; decimal > 0; decimal /= 10, place *= 8) {
		if (decimal % 10 > 7 || place > LLONG_MAX / 8)
			return -1;
		octal += (decimal % 10) * place;
	}
	return octal;
}

/* A mode: 0770 (octal digits), 0x1F8 (hex, taken as is) or "0770". */
static void apply_mode(load_ctx *ctx, const param_def *def, const config_setting_t *s,
		       const char *name, int *field)
{
	long long mode;
	int_value v;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *text = config_setting_get_string(s);
		char *end;
		errno = 0;
		mode = strtoll(text, &end, 8);
		if (!*text || *end || errno == ERANGE || text[0] == '-' || text[0] == '+')
			mode = -1;
		if (mode < 0) {
			setting_error(ctx, s, "parameter \"%s\" = \"%s\" is not an octal file mode (write it like 0770)",
				      name, text);
			return;
		}
	} else if (setting_int(ctx, s, &v)) {
		mode = config_setting_get_format(s) == CONFIG_FORMAT_HEX ? v.value
			: octal_from_decimal_digits(v.value);
		if (mode < 0) {
			setting_error(ctx, s, "parameter \"%s\" = %s is not an octal file mode (write it like 0770)",
				      name, v.shown);
			return;
		}
	} else {
		setting_error(ctx, s, "parameter \"%s\" must be an octal file mode such as 0770", name);
		return;
	}
	if (mode < def->min || mode > def->max) {
		setting_error(ctx, s, "parameter \"%s\" = 0%llo is out of range (0000 .. 0%o)",
			      name, mode, (unsigned) def->max);
		return;
	}
	*field = (int) mode;
}

/* The BACKEND_FLAG_* bit of one flag word (case-insensitive), 0 if unknown. */
static int backend_flag_bit(const char *word, size_t len)
{
	for (size_t i = 0; i < sizeof(backend_flag_words) / sizeof(backend_flag_words[0]); i++)
		if (strlen(backend_flag_words[i].word) == len &&
		    strncasecmp(word, backend_flag_words[i].word, len) == 0)
			return backend_flag_words[i].bit;
	return 0;
}

/* backend flag: words separated by '|', spaces around them ignored; ""
 * means no word.  ALLOW_TO_FAILOVER is implied unless DISALLOW_TO_FAILOVER
 * is given, as in Pgpool-II. */
static void apply_backend_flag(load_ctx *ctx, const config_setting_t *s, const char *name, int *field)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		setting_error(ctx, s, "parameter \"%s\" must be a string", name);
		return;
	}
	const char *text = config_setting_get_string(s);
	int flags = 0;
	for (const char *word = text; *text; ) {
		const char *bar = strchr(word, '|');
		size_t len = bar ? (size_t) (bar - word) : strlen(word);
		for (; len > 0 && isspace((unsigned char) *word); len--)
			word++;
		while (len > 0 && isspace((unsigned char) word[len - 1]))
			len--;
		int bit = backend_flag_bit(word, len);
		if (!bit) {
			if (len == 0)
				setting_error(ctx, s, "parameter \"%s\" has an empty word (words are separated by '|')",
					      name);
			else
				setting_error(ctx, s, "parameter \"%s\" has an unknown word \"%.*s\" (expected "
					      "ALLOW_TO_FAILOVER, DISALLOW_TO_FAILOVER or ALWAYS_PRIMARY, separated by '|')",
					      name, (int) len, word);
			return;
		}
		flags |= bit;
		if (!bar)
			break;
		word = bar + 1;
	}
	if ((flags & BACKEND_FLAG_ALLOW_TO_FAILOVER) && (flags & BACKEND_FLAG_DISALLOW_TO_FAILOVER)) {
		setting_error(ctx, s, "parameter \"%s\" sets both ALLOW_TO_FAILOVER and DISALLOW_TO_FAILOVER", name);
		return;
	}
	if (!(flags & BACKEND_FLAG_DISALLOW_TO_FAILOVER))
		flags |= BACKEND_FLAG_ALLOW_TO_FAILOVER;
	*field = flags;
}

/* Check one setting against its table row and store it into base (a
 * pool_config or backend_config).  name is how messages call it. */
static void apply_setting(load_ctx *ctx, const param_def *def, const config_setting_t *s,
			  void *base, const char *name)
{
	void *field = (char *) base + def->offset;
	switch (def->type) {
	case PARAM_INT:          apply_int(ctx, def, s, name, field); break;
	case PARAM_DOUBLE:       apply_double(ctx, def, s, name, field); break;
	case PARAM_BOOL:         apply_bool(ctx, s, name, field); break;
	case PARAM_STRING:       apply_string(ctx, s, name, field); break;
	case PARAM_ENUM:         apply_enum(ctx, def, s, name, field); break;
	case PARAM_MODE:         apply_mode(ctx, def, s, name, field); break;
	case PARAM_BACKEND_FLAG: apply_backend_flag(ctx, s, name, field); break;
	}
}

static const param_def *find_param(const param_def *table, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

/* ---- defaults and freeing, driven by the same tables ---- */

static void set_table_defaults(const param_def *table, size_t n, void *base)
{
	for (size_t i = 0; i < n; i++) {
		void *field = (char *) base + table[i].offset;
		switch (table[i].type) {
		case PARAM_INT:
		case PARAM_MODE:
		case PARAM_BACKEND_FLAG:
			*(int *) field = (int) table[i].num_default;
			break;
		case PARAM_DOUBLE:
			*(double *) field = table[i].num_default;
			break;
		case PARAM_BOOL:
			*(bool *) field = table[i].num_default != 0;
			break;
		case PARAM_STRING:
		case PARAM_ENUM:
			set_string(field, table[i].str_default);
			break;
		}
	}
}

static void free_table_strings(const param_def *table, size_t n, void *base)
{
	for (size_t i = 0; i < n; i++) {
		if (table[i].type != PARAM_STRING && table[i].type != PARAM_ENUM)
			continue;
		char **field = (char **) ((char *) base + table[i].offset);
		free(*field);
		*field = NULL;
	}
}

void config_set_defaults(pool_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	set_table_defaults(params, NUM_PARAMS, cfg);
}

void config_free(pool_config *cfg)
{
	if (!cfg)
		return;
	free_table_strings(params, NUM_PARAMS, cfg);
	for (int i = 0; i < MAX_BACKENDS; i++)
		free_table_strings(backend_params, NUM_BACKEND_PARAMS, &cfg->backends[i]);
	free(cfg->config_file);
	free(cfg->config_dir);
	cfg->config_file = NULL;
	cfg->config_dir = NULL;
	cfg->num_backends = 0;
}

void config_errors_free(config_errors *errs)
{
	if (!errs)
		return;
	for (int i = 0; i < errs->count; i++)
		free(errs->items[i]);
	free(errs->items);
	errs->items = NULL;
	errs->count = 0;
	errs->cap = 0;
}

const char *config_param_name(int index)
{
	if (index < 0 || (size_t) index >= NUM_PARAMS)
		return NULL;
	return params[index].name;
}

bool config_param_value(const pool_config *cfg, const char *name, char *out, size_t outlen)
{
	const param_def *def = find_param(params, NUM_PARAMS, name);
	if (!def)
		return false;
	const char *field = (const char *) cfg + def->offset;
	switch (def->type) {
	case PARAM_INT:
		snprintf(out, outlen, "%d", *(const int *) field);
		break;
	case PARAM_MODE:
		snprintf(out, outlen, "%04o", (unsigned) *(const int *) field);
		break;
	case PARAM_DOUBLE:
		snprintf(out, outlen, "%g", *(const double *) field);
		break;
	case PARAM_BOOL:
		snprintf(out, outlen, "%s", *(const bool *) field ? "on" : "off");
		break;
	default: {
		const char *v = *(char *const *) field;
		/* passwords are never shown, as Pgpool-II */
		snprintf(out, outlen, "%s", strstr(name, "password") ? "********" : (v ? v : ""));
		break;
	}
	}
	return true;
}

/* ---- backends ---- */

#define BACKENDS_SHAPE "backends = ( { hostname = \"...\"; port = 5432; }, ... );"

static void load_backend(load_ctx *ctx, const config_setting_t *group, int index, backend_config *be)
{
	if (!config_setting_is_group(group)) {
		setting_error(ctx, group, "backends[%d] must be a group: { hostname = \"...\"; port = 5432; }", index);
		return;
	}
	set_table_defaults(backend_params, NUM_BACKEND_PARAMS, be);
	bool seen[NUM_BACKEND_PARAMS] = { false };
	char name[256];
	int n = config_setting_length(group);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned) i);
		const char *key = config_setting_name(s);
		snprintf(name, sizeof(name), "backends[%d].%s", index, key);
		const param_def *def = find_param(backend_params, NUM_BACKEND_PARAMS, key);
		if (!def) {
			setting_error(ctx, s, "unknown parameter \"%s\"", name);
			continue;
		}
		seen[def - backend_params] = true;
		apply_setting(ctx, def, s, be, name);
	}
	for (size_t i = 0; i < NUM_BACKEND_PARAMS; i++)
		if ((backend_params[i].flags & PARAM_REQUIRED) && !seen[i])
			setting_error(ctx, group, "parameter \"backends[%d].%s\" is required",
				      index, backend_params[i].name);
}

static void load_backends(load_ctx *ctx, const config_setting_t *list, pool_config *cfg)
{
	/* libconfig arrays hold only scalars, so an array can only be empty or
	 * wrong; it is accepted as a container so that the message says which */
	if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
		setting_error(ctx, list, "parameter \"backends\" must be a list of groups: " BACKENDS_SHAPE);
		return;
	}
	int n = config_setting_length(list);
	if (n == 0)
		setting_error(ctx, list, "no backends configured: " BACKENDS_SHAPE);
	if (n > MAX_BACKENDS) {
		setting_error(ctx, list, "too many backends: %d (at most %d)", n, MAX_BACKENDS);
		n = MAX_BACKENDS;
	}
	for (int i = 0; i < n; i++)
		load_backend(ctx, config_setting_get_elem(list, (unsigned) i), i, &cfg->backends[i]);
	cfg->num_backends = n;
}

/* ---- the top level ---- */

static void report_unknown(load_ctx *ctx, const config_setting_t *s, const char *name)
{
	for (size_t i = 0; i < sizeof(unknown_hints) / sizeof(unknown_hints[0]); i++) {
		if (strncmp(name, unknown_hints[i].prefix, strlen(unknown_hints[i].prefix)) == 0) {
			setting_error(ctx, s, "unknown parameter \"%s\" (%s)", name, unknown_hints[i].hint);
			return;
		}
	}
	setting_error(ctx, s, "unknown parameter \"%s\"", name);
}

static void load_settings(load_ctx *ctx, const config_setting_t *root, pool_config *cfg)
{
	bool have_backends = false;
	int n = config_setting_length(root);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned) i);
		const char *name = config_setting_name(s);
		if (strcmp(name, "backends") == 0) {
			have_backends = true;
			load_backends(ctx, s, cfg);
			continue;
		}
		const param_def *def = find_param(params, NUM_PARAMS, name);
		if (def)
			apply_setting(ctx, def, s, cfg, name);
		else
			report_unknown(ctx, s, name);
	}
	if (!have_backends)
		add_error(ctx, NULL, 0, "no backends configured: " BACKENDS_SHAPE);
}

/* Parse text with libconfig (@include relative to ctx->dir) and check every
 * setting into cfg. */
static void load_text(load_ctx *ctx, const char *text, pool_config *cfg)
{
	config_t lc;
	config_init(&lc);
	if (ctx->dir)
		config_set_include_dir(&lc, ctx->dir);
	add_scanned_file(ctx, NULL, text);
	if (!config_read_string(&lc, text)) {
		const char *why = config_error_text(&lc);
		/* libconfig reports a parameter set twice (perhaps once in an
		 * @include'd file) without its name: say what it means */
		bool duplicate = why && strstr(why, "duplicate") != NULL;
		add_error(ctx, config_error_file(&lc), config_error_line(&lc), "%s%s",
			  why ? why : "cannot parse",
			  duplicate ? " (a parameter may be set only once, @include'd files included)" : "");
	} else {
		load_settings(ctx, config_root_setting(&lc), cfg);
	}
	config_destroy(&lc);
}

/* File-name parameters resolve against the config folder, so an instance
 * finds its files wherever it is started from. */
static void resolve_paths(pool_config *cfg)
{
	for (size_t i = 0; i < NUM_PARAMS; i++) {
		if (!(params[i].flags & PARAM_PATH))
			continue;
		char **field = (char **) ((char *) cfg + params[i].offset);
		char *resolved = must(path_resolve(cfg->config_dir, *field));
		free(*field);
		*field = resolved;
	}
}

/* "pgpool-auth.conf" -> "auth": the booking deployment names instance files
 * pgpool-<instance>.conf, and the name tells their log lines apart. */
static char *instance_name_from_path(const char *path)
{
	static const char *const prefixes[] = { "pgpoold-", "pgpool-" };
	static const char suffix[] = ".conf";
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (strncmp(base, prefixes[i], strlen(prefixes[i])) == 0) {
			base += strlen(prefixes[i]);
			break;
		}
	}
	size_t len = strlen(base);
	if (len >= sizeof(suffix) - 1 && strcmp(base + len - (sizeof(suffix) - 1), suffix) == 0)
		len -= sizeof(suffix) - 1;
	if (len == 0)
		return xstrdup("pgpoold");
	char *name = xmalloc(len + 1);
	memcpy(name, base, len);
	name[len] = '\0';
	return name;
}

/* The path made absolute against the current folder (symlinks kept: the
 * folder the user named is the one relative names refer to).  NULL with
 * errno set if the current folder cannot be found. */
static char *absolute_path(const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	char *cwd = getcwd(NULL, 0);
	if (!cwd)
		return NULL;
	while (path[0] == '.' && path[1] == '/')
		for (path += 2; *path == '/'; path++)
			;
	char *abs = must(path_resolve(cwd, path));
	free(cwd);
	return abs;
}

static char *folder_of(const char *abs_path)
{
	const char *slash = strrchr(abs_path, '/');
	size_t len = slash && slash != abs_path ? (size_t) (slash - abs_path) : 1;
	char *dir = xmalloc(len + 1);
	memcpy(dir, abs_path, len);
	dir[len] = '\0';
	return dir;
}

int config_load(const char *path, pool_config *cfg, config_errors *errs)
{
	config_set_defaults(cfg);
	load_ctx ctx = { .errs = errs, .main_label = path };

	cfg->config_file = absolute_path(path);
	if (!cfg->config_file) {
		add_error(&ctx, NULL, 0, "cannot find the current folder to resolve the config file: %s",
			  strerror(errno));
		return ctx.nerrors;
	}
	cfg->config_dir = folder_of(cfg->config_file);
	free(cfg->instance_name);
	cfg->instance_name = instance_name_from_path(cfg->config_file);
	ctx.main_label = cfg->config_file;
	ctx.dir = cfg->config_dir;

	size_t len;
	char *text = file_read_all(cfg->config_file, CONFIG_FILE_MAX, &len);
	if (!text) {
		/* file_read_all() says EINVAL for a folder or a device */
		add_error(&ctx, NULL, 0, "cannot read config file: %s",
			  errno == EINVAL ? "not a regular file" : strerror(errno));
	} else if (memchr(text, '\0', len)) {
		add_error(&ctx, NULL, 0, "config file contains a NUL byte");
	} else {
		load_text(&ctx, text, cfg);
	}
	free(text);
	load_ctx_free(&ctx);
	resolve_paths(cfg);
	return ctx.nerrors;
}

int config_load_string(const char *text, const char *dir, pool_config *cfg, config_errors *errs)
{
	config_set_defaults(cfg);
	if (dir)
		cfg->config_dir = xstrdup(dir);
	load_ctx ctx = { .errs = errs, .main_label = STRING_LABEL, .dir = cfg->config_dir };
	load_text(&ctx, text ? text : "", cfg);
	load_ctx_free(&ctx);
	resolve_paths(cfg);
	return ctx.nerrors;
}
