/* libFuzzer target: the startup phase of a client connection
 * (libshared/proto.c startup_parse), on arbitrary bytes.
 *
 * The input is used twice:
 *   1. as one packet: startup_parse(input, size) on a buffer of exactly the
 *      input's size (so a read past the end trips ASan), and again with the
 *      packet's own length word when it is shorter than the input;
 *   2. as the byte stream a client sends before authentication, framed the
 *      way pgpoold/session.c process_startup() frames it (length word
 *      8..STARTUP_MAX_LEN, SSLRequest/GSSENCRequest of exactly 8 bytes go
 *      on to the next packet, CancelRequest or StartupMessage end it).
 * Everything startup_parse accepts is checked against what proto.h
 * promises: parameter strings inside the packet and NUL-terminated there,
 * at most STARTUP_MAX_PARAMS, a non-empty user, database defaulting to it.
 *
 * Build and run: t/fuzz/run.sh 60 startup */
#include "proto.h"
#include "util.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void inside(const char *s, const uint8_t *base, size_t len)
{
	assert(s);
	const uint8_t *q = (const uint8_t *) s;
	assert(q >= base && q < base + len);
	assert(memchr(q, '\0', (size_t) (base + len - q)) != NULL);
}

static void parse_one(const uint8_t *pkt, size_t len)
{
	startup_packet sp;
	char err[256];
	err[0] = '\0';
	if (!startup_parse(pkt, len, &sp, err, sizeof(err))) {
		/* an error message is always given */
		assert(err[0] != '\0');
		assert(memchr(err, '\0', sizeof(err)) != NULL);
		return;
	}
	assert(len >= 8 && len <= STARTUP_MAX_LEN);
	if (sp.code == PROTO_CANCEL_CODE) {
		assert(len == 16);
		return;
	}
	if (sp.code == PROTO_SSL_CODE || sp.code == PROTO_GSSENC_CODE) {
		assert(len == 8);
		return;
	}
	assert((sp.code >> 16) == 3);
	assert(sp.nparams >= 0 && sp.nparams <= STARTUP_MAX_PARAMS);
	for (int i = 0; i < sp.nparams; i++) {
		inside(sp.params[i].name, pkt, len);
		inside(sp.params[i].value, pkt, len);
	}
	inside(sp.user, pkt, len);
	assert(sp.user[0] != '\0');
	inside(sp.database, pkt, len);
	assert(sp.database[0] != '\0');
	if (sp.application_name)
		inside(sp.application_name, pkt, len);
}

/* process_startup()'s framing over a client byte stream. */
static void walk_stream(const uint8_t *data, size_t size)
{
	size_t off = 0;
	for (int packets = 0; packets < 64 && size - off >= 4; packets++) {
		uint32_t len = be32(data + off);
		if (len < 8 || len > STARTUP_MAX_LEN || len > size - off)
			return;
		/* each packet in its own exact-size allocation, as session.c keeps it */
		uint8_t *pkt = malloc(len);
		if (!pkt)
			return;
		memcpy(pkt, data + off, len);
		uint32_t code = be32(pkt + 4);
		off += len;
		parse_one(pkt, len);
		free(pkt);
		if ((code == PROTO_SSL_CODE || code == PROTO_GSSENC_CODE) && len == 8)
			continue;
		return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	parse_one(copy, size);
	if (size >= 4) {
		uint32_t len = be32(copy);
		if (len < size)
			parse_one(copy, len);
	}
	free(copy);
	walk_stream(data, size);
	return 0;
}
