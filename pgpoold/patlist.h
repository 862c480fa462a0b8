/* Pgpool-II style "regex:value,regex:value" lists, as in
 * database_redirect_preference_list: each regex is anchored at both ends and
 * case-insensitive; the first entry whose regex matches the subject wins. */
#ifndef PGPOOLD_PATLIST_H
#define PGPOOLD_PATLIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct patlist_entry {
	void *re;                /* pcre2_code */
	char *value;             /* text after the last ':' */
} patlist_entry;

typedef struct patlist {
	patlist_entry *entries;
	int count;
} patlist;

/* Parse value (may be empty) into l (zeroed or freed before); false with a
 * message naming list_name and the bad entry in err. */
bool patlist_parse(const char *list_name, const char *value, patlist *l, char *err, size_t errlen);
/* The first entry matching subject, or NULL (also for a NULL/empty subject). */
const patlist_entry *patlist_match(const patlist *l, const char *subject);
void patlist_free(patlist *l);

#endif
