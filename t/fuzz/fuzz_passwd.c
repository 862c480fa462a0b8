/* libFuzzer target: pool_passwd parsing and AES entries
 * (libshared/pool_passwd.c pool_passwd_parse, pool_passwd_find,
 * passwd_aes_decrypt, passwd_entry_plain/backend_plain) and the SCRAM
 * verifier parser (libshared/scram.c scram_verifier_parse) on the
 * verifiers the file holds.
 *
 * Input: the file's text, from an allocation of exactly its size.  Every
 * entry found is looked up again by its user name, its plain password is
 * asked for with the pool key "fuzz key" (this decrypts AES entries), its
 * secret is given to passwd_aes_decrypt directly, and SCRAM entries go
 * through scram_verifier_parse.  Entries must hold what pool_passwd.h
 * promises (md5 secrets are "md5" + 32 hex, mapped entries have both
 * backend fields).  The whole input is also tried as one AES cipher text
 * and as one verifier.
 *
 * Build and run: t/fuzz/run.sh 60 passwd */
#include "pool_passwd.h"
#include "scram.h"

#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEY "fuzz key"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	char *text = malloc(size ? size : 1);
	assert(text);
	memcpy(text, data, size);
	char err[512];
	err[0] = '\0';
	pool_passwd *pw = pool_passwd_parse(text, size, err, sizeof(err));
	assert(memchr(err, '\0', sizeof(err)) != NULL);
	if (pw) {
		assert(pw->count >= 0);
		for (int i = 0; i < pw->count; i++) {
			const passwd_entry *e = &pw->entries[i];
			assert(e->user && e->secret);
			assert(pool_passwd_find(pw, e->user) != NULL);
			if (e->kind == PASSWD_MD5) {
				assert(strlen(e->secret) == 35 && strncmp(e->secret, "md5", 3) == 0);
				for (int k = 3; k < 35; k++)
					assert(isxdigit((unsigned char) e->secret[k]));
			}
			assert((e->backend_user == NULL) == (e->backend_password == NULL));
			char *plain = passwd_entry_plain(e, KEY);
			free(plain);
			plain = passwd_entry_plain(e, NULL);
			free(plain);
			plain = passwd_entry_backend_plain(e, KEY);
			free(plain);
			char *dec = passwd_aes_decrypt(e->secret, KEY);
			free(dec);
			if (e->kind == PASSWD_SCRAM) {
				scram_verifier v;
				if (scram_verifier_parse(e->secret, &v)) {
					assert(v.iterations > 0);
					assert(v.salt_len > 0 && v.salt_len <= SCRAM_MAX_SALT_LEN);
				}
			}
		}
		pool_passwd_free(pw);
	}
	/* the whole input as one AES cipher text and one verifier */
	char *s = strndup((const char *) data, size);
	assert(s);
	char *dec = passwd_aes_decrypt(s, KEY);
	free(dec);
	scram_verifier v;
	if (scram_verifier_parse(s, &v))
		assert(v.salt_len > 0 && v.salt_len <= SCRAM_MAX_SALT_LEN && v.iterations > 0);
	free(s);
	free(text);
	return 0;
}
