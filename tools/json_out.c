/* JSON writer: see json_out.h. */
#include "json_out.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#define JSON_MAX_DEPTH 16

static void separator(json_out *j)
{
	if (j->depth >= 0 && j->depth < JSON_MAX_DEPTH) {
		if (j->need_comma[j->depth])
			fputc(',', j->f);
		j->need_comma[j->depth] = true;
	}
}

static void escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void key(json_out *j, const char *k)
{
	separator(j);
	if (k) {
		escaped(j->f, k);
		fputc(':', j->f);
	}
}

void json_begin(json_out *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

void json_end(json_out *j)
{
	fputc('\n', j->f);
}

static void open_container(json_out *j, const char *k, char c)
{
	key(j, k);
	fputc(c, j->f);
	if (j->depth + 1 < JSON_MAX_DEPTH) {
		j->depth++;
		j->need_comma[j->depth] = false;
	}
}

static void close_container(json_out *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
}

void json_object_open(json_out *j, const char *k) { open_container(j, k, '{'); }
void json_object_close(json_out *j) { close_container(j, '}'); }
void json_array_open(json_out *j, const char *k) { open_container(j, k, '['); }
void json_array_close(json_out *j) { close_container(j, ']'); }

void json_string(json_out *j, const char *k, const char *value)
{
	key(j, k);
	if (value)
		escaped(j->f, value);
	else
		fputs("null", j->f);
}

void json_int(json_out *j, const char *k, long long value)
{
	key(j, k);
	fprintf(j->f, "%lld", value);
}

void json_double(json_out *j, const char *k, double value)
{
	key(j, k);
	if (isfinite(value))
		fprintf(j->f, "%.6f", value);
	else
		fputs("null", j->f);
}

void json_bool(json_out *j, const char *k, bool value)
{
	key(j, k);
	fputs(value ? "true" : "false", j->f);
}

/* -?digits(.digits)?: what Pgpool-II's %d / %f / %lu produce. */
static bool is_number(const char *s)
{
	const char *p = s;
	if (*p == '-')
		p++;
	if (!isdigit((unsigned char) *p))
		return false;
	while (isdigit((unsigned char) *p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char) *p))
			return false;
		while (isdigit((unsigned char) *p))
			p++;
	}
	return *p == '\0';
}

void json_number_text(json_out *j, const char *k, const char *value)
{
	if (value && is_number(value)) {
		key(j, k);
		fputs(value, j->f);
	} else {
		json_string(j, k, value && value[0] ? value : NULL);
	}
}

void json_text_or_null(json_out *j, const char *k, const char *value)
{
	json_string(j, k, value && value[0] ? value : NULL);
}
