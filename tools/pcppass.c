/* The PCP password file: see pcppass.h. */
#include "pcppass.h"

#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Pgpool-II reads lines into NAMEDATALEN * 5 bytes. */
#define PCPPASS_LINE_LEN (64 * 5)
#define UNIX_SOCKET_DIR "/tmp"

static bool file_path(char *out, size_t outlen)
{
	const char *env = getenv("PCPPASSFILE");
	if (env) {
		snprintf(out, outlen, "%s", env);
		return true;
	}
	struct passwd *pw = getpwuid(geteuid());
	if (!pw || !pw->pw_dir)
		return false;
	snprintf(out, outlen, "%s/.pcppass", pw->pw_dir);
	return true;
}

/* If the line starts with token (or "*") followed by ':', the rest of the
 * line after that ':'; else NULL.  '\' escapes the next character. */
static char *match_field(char *line, const char *token)
{
	if (line[0] == '*' && line[1] == ':')
		return line + 2;
	char *p = line;
	const char *t = token;
	while (*p) {
		bool escaped = false;
		if (*p == '\\' && p[1]) {
			p++;
			escaped = true;
		}
		if (*p == ':' && !escaped && *t == '\0')
			return p + 1;
		if (*t == '\0' || *p != *t)
			return NULL;
		p++;
		t++;
	}
	return NULL;
}

/* The password field: up to the next unescaped ':', de-escaped. */
static char *password_field(const char *p)
{
	char *out = malloc(strlen(p) + 1);
	if (!out)
		return NULL;
	size_t n = 0;
	for (; *p && *p != ':'; p++) {
		if (*p == '\\' && p[1])
			p++;
		out[n++] = *p;
	}
	out[n] = '\0';
	return out;
}

static bool usable(const char *path, FILE *debug)
{
	struct stat sb;
	if (stat(path, &sb) != 0)
		return false;
	if (!S_ISREG(sb.st_mode)) {
		if (debug)
			fprintf(debug, "WARNING: password file \"%s\" is not a plain file\n", path);
		return false;
	}
	if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
		if (debug)
			fprintf(debug, "WARNING: password file \"%s\" has group or world access; "
				"permissions should be u=rw (0600) or less\n", path);
		return false;
	}
	return true;
}

char *pcppass_lookup(const char *host, const char *port, const char *user, FILE *debug)
{
	if (!user || !user[0])
		return NULL;
	if (!host || !host[0] || strcmp(host, UNIX_SOCKET_DIR) == 0)
		host = "localhost";
	char path[PATH_MAX + 1];
	if (!file_path(path, sizeof(path)) || !usable(path, debug))
		return NULL;
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char line[PCPPASS_LINE_LEN];
	char *found = NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		char *rest = match_field(line, host);
		if (rest)
			rest = match_field(rest, port);
		if (rest)
			rest = match_field(rest, user);
		if (rest)
			found = password_field(rest);
	}
	fclose(f);
	return found;
}
