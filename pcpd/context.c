/* pcpd's shared state: the configuration and the status segment, each
 * reference-counted so a reload or a pgpoold restart never frees what a
 * session is using.  See pcpd.h. */
#include "pcpd.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

pcpd_options pcpd_opts = {
	.request_timeout_ms = 60000,
	.idle_timeout_ms = 300000,
	.max_connections = 128,
	.compat = PCPD_COMPAT_43,
};

/* One loaded configuration.  cfg comes first: a const pool_config * handed
 * out is also the address of its holder. */
typedef struct config_ref {
	pool_config cfg;
	int refs;                    /* sessions using it + 1 while current */
} config_ref;

/* One mapping of a status segment. */
typedef struct segment_ref {
	status_segment *st;
	int refs;                    /* sessions using it + 1 while current */
	struct segment_ref *next;    /* every live mapping, current or retired */
} segment_ref;

static pthread_mutex_t ctx_mutex = PTHREAD_MUTEX_INITIALIZER;
static config_ref *current_config;
static segment_ref *segments;        /* list head; current_segment is in it */
static segment_ref *current_segment;

/* ---- configuration ---- */

static void config_ref_drop(config_ref *ref)
{
	if (ref && --ref->refs == 0) {
		config_free(&ref->cfg);
		free(ref);
	}
}

void pcpd_config_install(pool_config *cfg)
{
	config_ref *ref = malloc(sizeof(*ref));
	if (!ref) {
		log_error("out of memory installing the configuration");
		config_free(cfg);
		return;
	}
	ref->cfg = *cfg;
	ref->refs = 1;
	pthread_mutex_lock(&ctx_mutex);
	config_ref *old = current_config;
	current_config = ref;
	config_ref_drop(old);
	pthread_mutex_unlock(&ctx_mutex);
}

bool pcpd_config_load(const char *path)
{
	pool_config cfg;
	config_errors errs = { 0 };
	if (config_load(path, &cfg, &errs) > 0) {
		for (int i = 0; i < errs.count; i++)
			log_error("%s", errs.items[i]);
		log_error("configuration file \"%s\" has %d error%s; not loaded", path, errs.count,
			  errs.count == 1 ? "" : "s");
		config_errors_free(&errs);
		config_free(&cfg);
		return false;
	}
	config_errors_free(&errs);
	pcpd_config_install(&cfg);
	return true;
}

const pool_config *pcpd_config_acquire(void)
{
	pthread_mutex_lock(&ctx_mutex);
	config_ref *ref = current_config;
	if (ref)
		ref->refs++;
	pthread_mutex_unlock(&ctx_mutex);
	return ref ? &ref->cfg : NULL;
}

void pcpd_config_release(const pool_config *cfg)
{
	if (!cfg)
		return;
	pthread_mutex_lock(&ctx_mutex);
	config_ref_drop((config_ref *) cfg);
	pthread_mutex_unlock(&ctx_mutex);
}

/* ---- status segment ---- */

/* Under ctx_mutex. */
static void segment_ref_drop(segment_ref *ref)
{
	if (!ref || --ref->refs > 0)
		return;
	for (segment_ref **p = &segments; *p; p = &(*p)->next) {
		if (*p == ref) {
			*p = ref->next;
			break;
		}
	}
	status_close(ref->st);
	free(ref);
}

/* Under ctx_mutex: map the segment under cfg's name and make it current. */
static void segment_remap(const pool_config *cfg)
{
	char err[256] = "";
	status_segment *st = status_open(cfg, err, sizeof(err));
	if (!st) {
		if (!current_segment)
			log_debug("status segment not available: %s", err);
		return;            /* keep the last one we had, if any */
	}
	segment_ref *ref = malloc(sizeof(*ref));
	if (!ref) {
		status_close(st);
		return;
	}
	ref->st = st;
	ref->refs = 1;
	ref->next = segments;
	segments = ref;
	segment_ref *old = current_segment;
	current_segment = ref;
	log_log("attached to status segment %s of pgpoold pid %d", status_name(st), (int) status_owner_pid(st));
	segment_ref_drop(old);
}

status_segment *pcpd_segment_acquire(const pool_config *cfg)
{
	pthread_mutex_lock(&ctx_mutex);
	if (!current_segment || !status_is_current(current_segment->st))
		segment_remap(cfg);
	segment_ref *ref = current_segment;
	if (ref)
		ref->refs++;
	pthread_mutex_unlock(&ctx_mutex);
	return ref ? ref->st : NULL;
}

void pcpd_segment_release(status_segment *st)
{
	if (!st)
		return;
	pthread_mutex_lock(&ctx_mutex);
	for (segment_ref *ref = segments; ref; ref = ref->next) {
		if (ref->st == st) {
			segment_ref_drop(ref);
			break;
		}
	}
	pthread_mutex_unlock(&ctx_mutex);
}

void pcpd_context_shutdown(void)
{
	pthread_mutex_lock(&ctx_mutex);
	segment_ref *seg = current_segment;
	current_segment = NULL;
	segment_ref_drop(seg);
	config_ref *cfg = current_config;
	current_config = NULL;
	config_ref_drop(cfg);
	pthread_mutex_unlock(&ctx_mutex);
}
