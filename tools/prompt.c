/* Password prompt without echo: see prompt.h. */
#include "prompt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

char *prompt_password(const char *prompt, char *out, size_t maxlen)
{
	out[0] = '\0';
	FILE *in = fopen("/dev/tty", "r");
	FILE *tell = in ? fopen("/dev/tty", "w") : NULL;
	if (!in || !tell) {
		if (in)
			fclose(in);
		in = stdin;
		tell = stderr;
	}
	struct termios saved, quiet;
	bool echo_off = tcgetattr(fileno(in), &saved) == 0;
	if (echo_off) {
		quiet = saved;
		quiet.c_lflag &= (tcflag_t) ~ECHO;
		tcsetattr(fileno(in), TCSAFLUSH, &quiet);
	}
	fputs(prompt, tell);
	fflush(tell);
	if (fgets(out, (int) maxlen, in)) {
		size_t len = strlen(out);
		if (len > 0 && out[len - 1] == '\n')
			out[len - 1] = '\0';
		else {
			/* swallow the rest of an overlong line */
			int ch;
			while ((ch = getc(in)) != EOF && ch != '\n')
				;
		}
	}
	if (echo_off)
		tcsetattr(fileno(in), TCSAFLUSH, &saved);
	/* the typed newline was not echoed: end the prompt line (always, as
	 * PostgreSQL's simple_prompt does) */
	fputs("\n", tell);
	fflush(tell);
	if (in != stdin) {
		fclose(in);
		fclose(tell);
	}
	return out;
}
