/* A small JSON writer for the tools' --json output: objects, arrays,
 * strings (escaped), numbers written as they came when they are numbers. */
#ifndef PGPOOLD_TOOLS_JSON_OUT_H
#define PGPOOLD_TOOLS_JSON_OUT_H

#include <stdbool.h>
#include <stdio.h>

typedef struct json_out {
	FILE *f;
	int depth;
	bool need_comma[16];
} json_out;

void json_begin(json_out *j, FILE *f);
void json_end(json_out *j);                       /* newline at the end */
void json_object_open(json_out *j, const char *key);  /* key NULL inside arrays / at top */
void json_object_close(json_out *j);
void json_array_open(json_out *j, const char *key);
void json_array_close(json_out *j);
void json_string(json_out *j, const char *key, const char *value);   /* NULL -> null */
void json_int(json_out *j, const char *key, long long value);
void json_double(json_out *j, const char *key, double value);
void json_bool(json_out *j, const char *key, bool value);
/* value if it is a JSON number, else value as a string ("" -> null). */
void json_number_text(json_out *j, const char *key, const char *value);
/* Same, with "" as null (timestamps that never happened). */
void json_text_or_null(json_out *j, const char *key, const char *value);

#endif
