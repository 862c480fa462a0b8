/* Daemon helpers: see daemon.h. */
#include "daemon.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int daemon_detach(bool keep_stderr)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	setsid();
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	int devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		if (!keep_stderr)
			dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}
	return 0;
}

bool pidfile_write(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f) {
		long pid = 0;
		if (fscanf(f, "%ld", &pid) == 1 && pid > 0 && pid != getpid() &&
		    (kill((pid_t) pid, 0) == 0 || errno == EPERM)) {
			fclose(f);
			log_fatal("pid file \"%s\" names a running process %ld: is another instance running?", path, pid);
			return false;
		}
		fclose(f);
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_fatal("could not write pid file \"%s\": %s", path, strerror(errno));
		return false;
	}
	char line[32];
	int n = snprintf(line, sizeof(line), "%ld\n", (long) getpid());
	ssize_t w = write(fd, line, (size_t) n);
	close(fd);
	if (w != n)
		log_fatal("could not write pid file \"%s\": %s", path, strerror(errno));
	return w == n;
}
