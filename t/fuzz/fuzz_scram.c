/* libFuzzer target: SCRAM-SHA-256 message parsing and checking, both sides
 * (libshared/scram.c).
 *
 * Input: one mode byte, then two messages separated by the first '\n'
 * (a message may hold any other byte, NUL included; the lengths are passed,
 * as the protocol does).
 *
 * Server side (mode bit 0 = 0): a scram_server for RFC 7677's example
 * verifier (password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096
 * iterations) with RFC 7677's server nonce fixed through the test hook, so
 * that the fuzzer can reach the proof check with a matching nonce;
 * message 1 goes to scram_server_client_first, message 2 (if the first was
 * accepted) to scram_server_client_final.  Mode bit 1 gives the server
 * channel binding data (SCRAM-SHA-256-PLUS over TLS: 32 bytes of 0x42).
 *
 * Client side (mode bit 0 = 1): a scram_client with password "pencil" and
 * RFC 7677's client nonce; message 1 is the server-first-message
 * (scram_client_final), message 2 the server-final-message
 * (scram_client_verify_final).  A server-first-message asking for more
 * than 20000 iterations is not run: the parser accepts up to 10^7 on
 * purpose (backends choose), and PBKDF2 would only make the fuzzer slow.
 *
 * Promises checked: a refusal always comes with a message; replies are
 * NUL-terminated strings of printable ASCII.
 *
 * Build and run: t/fuzz/run.sh 60 scram */
#include "scram.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RFC_SALT "W22ZaJ0SNY7soEsUEjb6gQ=="
#define RFC_CLIENT_NONCE "rOprNGfwEbeRWgbNEkqO"
#define RFC_SERVER_NONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"

static scram_verifier verifier;

static void init(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	/* RFC 7677 section 3's salt, base64-decoded */
	static const uint8_t salt[16] = { 0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e,
		0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81 };
	if (!scram_verifier_from_password("pencil", salt, sizeof(salt), 4096, &verifier))
		abort();
}

static void check_reply(const char *reply)
{
	assert(reply);
	for (const char *p = reply; *p; p++)
		assert(*p >= 0x20 && *p < 0x7f);
}

/* iterations asked for by a server-first-message, or 0 if none parse */
static long asked_iterations(const char *msg, size_t len)
{
	for (size_t i = 0; i + 3 <= len; i++) {
		if (msg[i] == 'i' && msg[i + 1] == '=' && (i == 0 || msg[i - 1] == ',')) {
			long n = 0;
			for (size_t j = i + 2; j < len && msg[j] >= '0' && msg[j] <= '9'; j++) {
				n = n * 10 + (msg[j] - '0');
				if (n > 1000000000L)
					return n;
			}
			return n;
		}
	}
	return 0;
}

static void server_side(int plus, const char *m1, size_t l1, const char *m2, size_t l2, int have2)
{
	uint8_t cbind[32];
	memset(cbind, 0x42, sizeof(cbind));
	scram_server *s = scram_server_new(&verifier, plus ? cbind : NULL, plus ? sizeof(cbind) : 0);
	assert(s);
	assert(scram_server_set_nonce_for_tests(s, RFC_SERVER_NONCE));
	char *reply = NULL;
	const char *err = NULL;
	if (!scram_server_client_first(s, m1, l1, &reply, &err)) {
		assert(err);
		free(reply);
		/* after a failure the exchange stays failed */
		reply = NULL;
		err = NULL;
		if (scram_server_client_final(s, m2, l2, &reply, &err))
			abort();
		assert(err);
		free(reply);
		scram_server_free(s);
		return;
	}
	check_reply(reply);
	free(reply);
	if (have2) {
		reply = NULL;
		err = NULL;
		if (scram_server_client_final(s, m2, l2, &reply, &err))
			check_reply(reply);
		else
			assert(err);
		free(reply);
		/* no third step */
		reply = NULL;
		err = NULL;
		assert(!scram_server_client_final(s, m2, l2, &reply, &err));
		free(reply);
	}
	scram_server_free(s);
}

static void client_side(const char *m1, size_t l1, const char *m2, size_t l2, int have2)
{
	if (asked_iterations(m1, l1) > 20000)
		return;
	scram_client *c = scram_client_new("pencil");
	assert(c);
	assert(scram_client_set_nonce_for_tests(c, RFC_CLIENT_NONCE, "user"));
	char *first = scram_client_first(c);
	assert(first);
	free(first);
	const char *err = NULL;
	char *final = scram_client_final(c, m1, l1, &err);
	if (!final) {
		assert(err);
		scram_client_free(c);
		return;
	}
	check_reply(final);
	free(final);
	if (have2) {
		err = NULL;
		if (!scram_client_verify_final(c, m2, l2, &err))
			assert(err);
	}
	scram_client_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 8192)
		return 0;
	init();
	uint8_t mode = data[0];
	size_t rest = size - 1;
	/* each message in an allocation of exactly its size */
	const uint8_t *nl = memchr(data + 1, '\n', rest);
	size_t l1 = nl ? (size_t) (nl - (data + 1)) : rest;
	size_t l2 = nl ? rest - l1 - 1 : 0;
	char *m1 = malloc(l1 ? l1 : 1), *m2 = malloc(l2 ? l2 : 1);
	assert(m1 && m2);
	memcpy(m1, data + 1, l1);
	if (l2)
		memcpy(m2, nl + 1, l2);
	if (mode & 1)
		client_side(m1, l1, m2, l2, nl != NULL);
	else
		server_side(mode & 2, m1, l1, m2, l2, nl != NULL);
	free(m1);
	free(m2);
	return 0;
}
