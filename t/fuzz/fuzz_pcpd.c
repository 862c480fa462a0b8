/* libFuzzer target for pcpd's request handling: framing, decoding, the
 * login state machine and every command handler (pcpd/session.c,
 * pcpd/commands.c), over a real status segment created in-process.
 *
 * The first input byte picks the start state (bit 0: already
 * authenticated, bit 1: a salt issued); the rest is the byte stream a
 * client sends.  Changes (attach, detach...) are queued and, with a zero
 * request timeout, withdrawn at once: nothing waits.
 *
 * Build and run: t/fuzz/run.sh 60 pcpd */
#include "buf.h"
#include "config.h"
#include "log.h"
#include "pcp_codec.h"
#include "pcpd.h"
#include "session.h"
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static status_segment *segment;

/* libFuzzer ends with exit(): take the segment away with us */
static void teardown(void)
{
	pcpd_context_shutdown();
	status_close(segment);
	segment = NULL;
}

static void setup(void)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "instance_name = \"fuzz%d\"; port = 25999; max_clients = 2; pcp_conf_file = \"/nonexistent/pcp.conf\";\n"
		 "backends = ( { hostname = \"127.0.0.1\"; port = 5432; },"
		 " { hostname = \"127.0.0.1\"; port = 5433; weight = 2.0; flag = \"DISALLOW_TO_FAILOVER\"; } );\n",
		 (int) getpid());
	pool_config cfg;
	config_errors errs = { 0 };
	if (config_load_string(text, "/tmp", &cfg, &errs) > 0) {
		fprintf(stderr, "fuzz_pcpd: bad built-in config: %s\n", errs.items[0]);
		abort();
	}
	config_errors_free(&errs);
	log_set_min_level(LOG_LVL_FATAL);
	pcpd_opts.request_timeout_ms = 0;
	pcpd_opts.config_file = NULL;
	segment = status_create(&cfg, NULL, 0);
	if (!segment)
		abort();
	status_set_primary_node(segment, 0);
	status_set_node_status(segment, 0, NODE_STATUS_UP, false);
	int slot = status_session_acquire(segment);
	status_session_start(segment, slot, "db", "user", 3, 0);
	pcpd_config_install(&cfg);
	atexit(teardown);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!segment)
		setup();
	if (size < 1)
		return 0;
	pcpd_session s;
	pcpd_session_init(&s, "fuzz");
	s.authenticated = data[0] & 1;
	s.salt_issued = (data[0] & 2) != 0;
	data++;
	size--;
	buf out;
	buf_init(&out);
	size_t off = 0;
	while (off < size) {
		pcp_frame f;
		pcp_result r = pcp_frame_parse(data + off, size - off, PCP_MAX_REQUEST_LEN, &f);
		if (r == PCP_ERR_LENGTH) {
			pcpd_session_bad_length(&s, f.length_field, &out);
			break;
		}
		if (r != PCP_OK)
			break;
		pcpd_action a = pcpd_session_frame(&s, &f, &out);
		off += f.total;
		buf_reset(&out);
		if (a == PCPD_CLOSE)
			break;
	}
	buf_free(&out);
	return 0;
}
