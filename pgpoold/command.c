/* Failover-related commands: see command.h. */
#include "command.h"
#include "pgpoold.h"
#include "buf.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void put_node_field(buf *b, int node, char what)
{
	if (node < 0 || node >= g.num_nodes) {
		buf_put(b, "\"\"", 2);
		return;
	}
	const backend_config *bc = &g.cfg->backends[node];
	char tmp[32];
	switch (what) {
	case 'i':
		snprintf(tmp, sizeof(tmp), "%d", node);
		buf_put(b, tmp, strlen(tmp));
		break;
	case 'h':
		buf_put(b, bc->hostname, strlen(bc->hostname));
		break;
	case 'p':
		snprintf(tmp, sizeof(tmp), "%d", bc->port);
		buf_put(b, tmp, strlen(tmp));
		break;
	case 'D':
		buf_put(b, bc->data_directory, strlen(bc->data_directory));
		break;
	}
}

char *command_expand(const char *tmpl, const command_nodes *n)
{
	buf b;
	buf_init(&b);
	for (const char *p = tmpl; *p; p++) {
		if (*p != '%') {
			buf_put_u8(&b, (uint8_t) *p);
			continue;
		}
		if (!p[1])
			break;                      /* a trailing lone % is dropped */
		switch (*++p) {
		case 'd': put_node_field(&b, n->node, 'i'); break;
		case 'h': put_node_field(&b, n->node, 'h'); break;
		case 'p': put_node_field(&b, n->node, 'p'); break;
		case 'D': put_node_field(&b, n->node, 'D'); break;
		case 'm':
			if (n->new_main < 0)
				buf_put(&b, "-1", 2);
			else
				put_node_field(&b, n->new_main, 'i');
			break;
		case 'H': put_node_field(&b, n->new_main, 'h'); break;
		case 'r': put_node_field(&b, n->new_main, 'p'); break;
		case 'R': put_node_field(&b, n->new_main, 'D'); break;
		case 'M': put_node_field(&b, n->old_main, 'i'); break;
		case 'P': put_node_field(&b, n->old_primary, 'i'); break;
		case 'N': put_node_field(&b, n->old_primary, 'h'); break;
		case 'S': put_node_field(&b, n->old_primary, 'p'); break;
		case '%': buf_put_u8(&b, '%'); break;
		default: break;                 /* unknown: dropped */
		}
	}
	buf_put_u8(&b, 0);
	if (b.oom) {
		buf_free(&b);
		return NULL;
	}
	return (char *) b.data;
}

int command_run(const char *what, const char *cmd)
{
	log_log("running %s: %s", what, cmd);
	pid_t pid = fork();
	if (pid < 0) {
		log_error("could not run %s: %s", what, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* the daemon blocks its signals for sigtimedwait: not the command */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *) NULL);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (rc != 0)
		log_warning("%s exited with status %d", what, rc);
	else
		log_log("%s done", what);
	return rc;
}
