/* libFuzzer target for the PCP decoders (libshared/pcp_codec.c).
 *
 * The input is taken as a byte stream, once as what a client sends to pcpd
 * (requests, length limit 260) and once as what pcpd sends to a tool
 * (replies, length limit 1 MiB): every complete frame is decoded with the
 * matching decoder, and error packets with the error parser.  Anything the
 * decoders accept is re-checked for the promises pcp_codec.h makes (strings
 * inside the payload, counts within bounds).
 *
 * Build and run: t/fuzz/run.sh (clang -fsanitize=fuzzer,address,undefined). */
#include "pcp_codec.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static void inside(const void *p, const uint8_t *base, size_t len)
{
	if (!p)
		return;
	const uint8_t *q = p;
	assert(q >= base && q < base + len);
	/* and NUL-terminated before the end */
	assert(memchr(q, '\0', (size_t) (base + len - q)) != NULL);
}

static void check_request(const pcp_frame *f)
{
	pcp_request r;
	char err[128];
	err[0] = '\0';
	if (pcp_request_decode(f->type, f->payload, f->len, &r, err, sizeof(err)) != PCP_OK)
		return;
	inside(r.user, f->payload, f->len);
	inside(r.response, f->payload, f->len);
	inside(r.number_text, f->payload, f->len);
	inside(r.param_name, f->payload, f->len);
	inside(r.param_value, f->payload, f->len);
}

static void check_reply(const pcp_frame *f)
{
	if (f->type == 'E' || f->type == 'N') {
		pcp_error_fields ef;
		if (pcp_parse_error(f->payload, f->len, &ef) == PCP_OK) {
			inside(ef.severity, f->payload, f->len);
			inside(ef.message, f->payload, f->len);
			inside(ef.detail, f->payload, f->len);
		}
		return;
	}
	pcp_reply r;
	char err[128];
	err[0] = '\0';
	if (pcp_reply_decode(f->type, f->payload, f->len, &r, err, sizeof(err)) != PCP_OK)
		return;
	assert(r.nfields >= 0 && r.nfields <= PCP_MAX_FIELDS);
	if (r.part == PCP_PART_ARRAY_SIZE)
		assert(r.count >= 0);
	for (int i = 0; i < r.nfields; i++)
		inside(r.fields[i], f->payload, f->len);
}

static void walk(const uint8_t *data, size_t size, uint32_t max_len, void (*check)(const pcp_frame *))
{
	size_t off = 0;
	while (off < size) {
		pcp_frame f;
		pcp_result res = pcp_frame_parse(data + off, size - off, max_len, &f);
		if (res != PCP_OK)
			return;
		assert(f.total >= PCP_HEADER_LEN && f.total <= size - off);
		check(&f);
		off += f.total;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	walk(data, size, PCP_MAX_REQUEST_LEN, check_request);
	walk(data, size, PCP_MAX_REPLY_LEN, check_reply);
	return 0;
}
