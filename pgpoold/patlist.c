/* "regex:value" lists: see patlist.h. */
#include "patlist.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void patlist_free(patlist *l)
{
	for (int i = 0; i < l->count; i++) {
		pcre2_code_free(l->entries[i].re);
		free(l->entries[i].value);
	}
	free(l->entries);
	l->entries = NULL;
	l->count = 0;
}

/* One "regex:value" entry; text is modified. */
static bool parse_entry(const char *list_name, char *text, patlist_entry *e, char *err, size_t errlen)
{
	char *colon = strrchr(text, ':');
	if (!colon || colon == text || !colon[1]) {
		snprintf(err, errlen, "%s: \"%s\" is not regex:value", list_name, text);
		return false;
	}
	*colon = '\0';
	/* anchored and case-insensitive, as Pgpool-II */
	char pattern[512];
	size_t n = strlen(text);
	if ((size_t) snprintf(pattern, sizeof(pattern), "%s%s%s", text[0] == '^' ? "" : "^", text,
			text[n - 1] == '$' ? "" : "$") >= sizeof(pattern)) {
		snprintf(err, errlen, "%s: regular expression \"%.40s...\" is too long", list_name, text);
		return false;
	}
	int code;
	PCRE2_SIZE off;
	e->re = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &code, &off, NULL);
	if (!e->re) {
		PCRE2_UCHAR msg[128];
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errlen, "%s: bad regular expression \"%s\": %s", list_name, text, (char *) msg);
		return false;
	}
	e->value = strdup(colon + 1);
	if (!e->value) {
		pcre2_code_free(e->re);
		e->re = NULL;
		snprintf(err, errlen, "%s: out of memory", list_name);
		return false;
	}
	return true;
}

bool patlist_parse(const char *list_name, const char *value, patlist *l, char *err, size_t errlen)
{
	patlist_free(l);
	char *copy = strdup(value ? value : "");
	if (!copy) {
		snprintf(err, errlen, "%s: out of memory", list_name);
		return false;
	}
	bool ok = true;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		size_t n = strlen(tok);
		while (n && tok[n - 1] == ' ')
			tok[--n] = '\0';
		if (!n)
			continue;
		patlist_entry *p = realloc(l->entries, sizeof(*p) * (size_t) (l->count + 1));
		if (!p) {
			snprintf(err, errlen, "%s: out of memory", list_name);
			ok = false;
			break;
		}
		l->entries = p;
		memset(&p[l->count], 0, sizeof(p[0]));
		ok = parse_entry(list_name, tok, &p[l->count], err, errlen);
		if (ok)
			l->count++;
	}
	free(copy);
	if (!ok)
		patlist_free(l);
	return ok;
}

const patlist_entry *patlist_match(const patlist *l, const char *subject)
{
	if (!subject || !subject[0])
		return NULL;
	for (int i = 0; i < l->count; i++) {
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(l->entries[i].re, NULL);
		if (!md)
			return NULL;
		int rc = pcre2_match(l->entries[i].re, (PCRE2_SPTR) subject, strlen(subject), 0, 0, md, NULL);
		pcre2_match_data_free(md);
		if (rc >= 0)
			return &l->entries[i];
	}
	return NULL;
}
