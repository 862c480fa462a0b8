/* Configuration: a libconfig file with Pgpool-II's parameter names, flat at the
 * top level, plus a `backends` list.  See etc/ for samples.
 *
 * config_load() reads the file (with @include resolved relative to the
 * config file's folder), checks every setting against the parameter table
 * and collects *every* problem (unknown name, wrong type, out-of-range
 * value, bad enum) as "file:line: message" strings; nothing is silently
 * defaulted except parameters that are absent. */
#ifndef PGPOOLD_CONFIG_H
#define PGPOOLD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define MAX_BACKENDS 128

/* backend flag bits (Pgpool-II's backend_flag words, '|'-separated) */
#define BACKEND_FLAG_ALLOW_TO_FAILOVER    0x01
#define BACKEND_FLAG_DISALLOW_TO_FAILOVER 0x02
#define BACKEND_FLAG_ALWAYS_PRIMARY       0x04

typedef struct backend_config {
	char *hostname;          /* "" or starts with '/' = unix socket dir */
	int port;
	double weight;
	char *data_directory;
	int flag;                /* BACKEND_FLAG_* */
	char *application_name;
	/* per-node health check overrides (Pgpool-II's health_check_periodN...);
	 * -1 = the global value */
	int health_check_period;
	int health_check_timeout;
	int health_check_max_retries;
	int health_check_retry_delay;
} backend_config;

typedef struct pool_config {
	char *config_file;       /* absolute path of the main file */
	char *config_dir;        /* its folder; relative file names resolve here */
	char *instance_name;     /* for logs and names; default: derived from file name */

	/* connections */
	char *listen_addresses;  /* "*", "localhost", comma list; "" = no TCP */
	int port;
	char *unix_socket_directories; /* comma list; "" = no unix socket */
	int unix_socket_permissions;   /* octal mode, default 0777 */
	char *pcp_listen_addresses;
	int pcp_port;
	char *pcp_socket_dir;
	int listen_backlog;
	int workers;             /* 0 = one per CPU */
	int max_clients;
	int authentication_timeout; /* seconds; 0 = none */
	int client_idle_limit;   /* seconds; 0 = off */
	int max_message_size;    /* bytes; largest frontend message accepted */

	/* pooling */
	char *pool_mode;         /* session | transaction */
	char *database_pool_mode_list; /* "regex:mode,..." per database */
	char *user_pool_mode_list;     /* "regex:mode,..." per user (wins) */
	int max_pool;            /* cached backend connections per key */
	int default_pool_size;   /* transaction pooling: open connections per key; 0 = no limit */
	int connection_life_time;/* seconds; 0 = forever */
	bool connection_cache;
	char *reset_query_list;  /* ';'-separated */
	int connect_timeout;     /* milliseconds, backend connect */

	/* authentication */
	bool enable_pool_hba;
	char *pool_hba_file;     /* resolved path */
	char *pool_passwd;       /* resolved path; "" disables */
	char *pool_key;          /* key file for AES entries; "" = $PGPOOLKEYFILE or ~/.pgpoolkey */
	int max_db_connections;  /* clients per database; 0 = no limit */
	int max_user_connections;/* clients per user; 0 = no limit */
	char *pcp_conf_file;     /* resolved path */

	/* process */
	char *pid_file_name;     /* resolved path */
	char *logdir;            /* status file folder */

	/* logging */
	char *log_min_messages;
	bool log_connections;
	bool log_disconnections;
	bool log_statement;
	bool logging_collector;  /* daemon mode: write log to log_directory/log_filename */
	char *log_directory;
	char *log_filename;

	/* TLS */
	bool ssl;                /* TLS for clients */
	char *ssl_cert;          /* resolved path */
	char *ssl_key;
	char *ssl_ca_cert;       /* "" = no client certificates */
	char *ssl_ciphers;
	char *ssl_min_protocol_version;
	bool ssl_prefer_server_ciphers;
	char *ssl_ecdh_curve;
	char *backend_sslmode;   /* disable|prefer|require|verify-ca|verify-full */
	char *backend_ssl_ca_cert;

	/* routing (streaming replication) */
	bool load_balance_mode;
	bool statement_level_load_balance;
	char *disable_load_balance_on_write; /* off|transaction|trans_transaction|always|dml_adaptive */
	char *write_function_list;           /* comma-separated regexes */
	char *read_only_function_list;
	char *primary_routing_query_pattern_list; /* ';'-separated regexes */
	char *database_redirect_preference_list;
	char *app_name_redirect_preference_list;
	bool causal_reads;       /* read-your-writes across primary and standbys */

	/* replication delay check */
	int sr_check_period;     /* seconds; 0 = off */
	char *sr_check_user;
	char *sr_check_password;
	char *sr_check_database;
	int delay_threshold;     /* bytes; 0 = off */
	int delay_threshold_by_time; /* milliseconds; 0 = off */
	bool prefer_lower_delay_standby;
	char *log_standby_delay; /* none|always|if_over_threshold */

	/* health check */
	int health_check_period;      /* seconds; 0 = off */
	int health_check_timeout;     /* seconds; 0 = none */
	int health_check_max_retries;
	int health_check_retry_delay; /* seconds */
	char *health_check_user;
	char *health_check_password;  /* "" = from pool_passwd */
	char *health_check_database;

	/* failover */
	char *failover_command;
	char *failback_command;
	char *follow_primary_command;
	bool failover_on_backend_error;
	bool detach_false_primary;
	bool auto_failback;
	int auto_failback_interval;   /* seconds */
	int search_primary_node_timeout; /* seconds; 0 = forever */
	char *recovery_1st_stage_command;

	int num_backends;        /* entries in backends[] */
	backend_config backends[MAX_BACKENDS];
} pool_config;

typedef struct config_errors {
	char **items;            /* "file:line: message" */
	int count;
	int cap;
} config_errors;

/* Fill cfg with defaults, then load path over them.  Returns the number of
 * problems appended to errs (0 = ok).  cfg must be config_free()d either way. */
int config_load(const char *path, pool_config *cfg, config_errors *errs);
/* Same, from a string (for tests and fuzzing); file names resolve against dir. */
/* (config_file stays NULL, config_dir is a copy of dir or NULL, instance_name
 * is "pgpoold" unless set, and errors in the text are labelled "<string>".) */
int config_load_string(const char *text, const char *dir, pool_config *cfg, config_errors *errs);
void config_set_defaults(pool_config *cfg);
void config_free(pool_config *cfg);
void config_errors_free(config_errors *errs);

/* Name of the index'th top-level parameter (0-based), NULL past the last:
 * for listings such as SHOW pool_status, and for tests.  `backends` is not
 * among them. */
const char *config_param_name(int index);
/* A parameter's current value as text (booleans on/off, as PGPOOL SHOW
 * prints them; passwords masked).  False if there is no such parameter. */
bool config_param_value(const pool_config *cfg, const char *name, char *out, size_t outlen);

#endif
