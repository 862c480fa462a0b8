/* The PCP password file, as Pgpool-II 4.3's tools read it.
 *
 * Path: $PCPPASSFILE, else <home of the effective uid>/.pcppass (from the
 * passwd entry, not $HOME).  Used only if it is a regular file with no
 * group/other permission bits; otherwise it is ignored (with a WARNING line
 * on the debug stream, as Pgpool-II 4.3 prints it only with -d).
 *
 * Lines "hostname:port:username:password", at most 319 bytes read per
 * line; "*" matches anything in the first three fields; '\' escapes the
 * next character.  The first matching line wins.  The hostname matched is
 * "localhost" for the default unix socket (no -h, or -h /tmp), else the -h
 * text as typed. */
#ifndef PGPOOLD_TOOLS_PCPPASS_H
#define PGPOOLD_TOOLS_PCPPASS_H

#include <stdio.h>

/* The password for (host, port, user), malloc'd, or NULL.  debug may be
 * NULL. */
char *pcppass_lookup(const char *host, const char *port, const char *user, FILE *debug);

#endif
