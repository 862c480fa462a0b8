/* Reloadable authentication files: see authfiles.h. */
#include "authfiles.h"
#include "pgpoold.h"
#include "log.h"

#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static pthread_mutex_t af_lock = PTHREAD_MUTEX_INITIALIZER;
static authfiles *current;

static void release(authfiles *af)
{
	hba_free(af->hba);
	pool_passwd_free(af->passwd);
	if (af->aes_key) {
		OPENSSL_cleanse(af->aes_key, strlen(af->aes_key));
		free(af->aes_key);
	}
	free(af);
}

/* The AES key: pool_key, else $PGPOOLKEYFILE, else ~/.pgpoolkey (Pgpool-II's
 * order); its first line. */
static char *load_aes_key(void)
{
	const char *path = g.cfg->pool_key;
	char home_key[4096];
	if (!path[0])
		path = getenv("PGPOOLKEYFILE");
	if (!path || !path[0]) {
		const char *home = getenv("HOME");
		if (!home)
			return NULL;
		snprintf(home_key, sizeof(home_key), "%s/.pgpoolkey", home);
		path = home_key;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		if (g.cfg->pool_key[0])
			log_warning("could not read pool_key \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	char line[1024];
	char *key = NULL;
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0])
			key = strdup(line);
	}
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	return key;
}

char *authfiles_plain_password(const authfiles *af, const char *user)
{
	if (!af || !af->passwd)
		return NULL;
	const passwd_entry *e = pool_passwd_find(af->passwd, user);
	return e ? passwd_entry_plain(e, af->aes_key) : NULL;
}

bool authfiles_load(void)
{
	const pool_config *cfg = g.cfg;
	authfiles *af = calloc(1, sizeof(*af));
	if (!af)
		return false;
	af->refs = 1;
	af->aes_key = load_aes_key();
	char err[4096] = "";
	if (cfg->enable_pool_hba) {
		af->hba = hba_load(cfg->pool_hba_file, err, sizeof(err));
		if (!af->hba) {
			log_error("could not load %s; keeping the previous rules:\n%s", cfg->pool_hba_file, err);
			release(af);
			return false;
		}
	}
	if (cfg->pool_passwd && cfg->pool_passwd[0]) {
		err[0] = '\0';
		af->passwd = pool_passwd_load(cfg->pool_passwd, err, sizeof(err));
		if (!af->passwd)
			log_warning("could not read pool_passwd \"%s\": %s", cfg->pool_passwd, err);
		else if (err[0])
			log_warning("pool_passwd \"%s\": %s", cfg->pool_passwd, err);
	}
	pthread_mutex_lock(&af_lock);
	authfiles *old = current;
	current = af;
	bool free_old = old && --old->refs == 0;
	pthread_mutex_unlock(&af_lock);
	if (free_old)
		release(old);
	return true;
}

authfiles *authfiles_get(void)
{
	pthread_mutex_lock(&af_lock);
	authfiles *af = current;
	if (af)
		af->refs++;
	pthread_mutex_unlock(&af_lock);
	return af;
}

void authfiles_put(authfiles *af)
{
	if (!af)
		return;
	pthread_mutex_lock(&af_lock);
	bool last = --af->refs == 0;
	pthread_mutex_unlock(&af_lock);
	if (last)
		release(af);
}

void authfiles_shutdown(void)
{
	pthread_mutex_lock(&af_lock);
	authfiles *af = current;
	current = NULL;
	pthread_mutex_unlock(&af_lock);
	authfiles_put(af);
}
