/* Reading a password from the terminal without echo (Pgpool-II's and
 * PostgreSQL's simple_prompt: /dev/tty, else stdin/stderr). */
#ifndef PGPOOLD_TOOLS_PROMPT_H
#define PGPOOLD_TOOLS_PROMPT_H

#include <stddef.h>

/* Print prompt, read one line of at most maxlen-1 characters into out
 * (newline removed).  Returns out ("" on end of input). */
char *prompt_password(const char *prompt, char *out, size_t maxlen);

#endif
