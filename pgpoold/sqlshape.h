/* Statement "shape": the SQL text with its literal values taken out, used
 * as the key of the classifier's cache so that queries differing only in
 * constants share one classification.
 *
 * The lexer follows PostgreSQL 15's scan.l (standard_conforming_strings on,
 * the server default since 9.1) for everything that decides where a literal,
 * a quoted identifier or a comment begins and ends, because two texts may
 * share a cache entry only if PostgreSQL sees the same tokens in both apart
 * from literal values:
 *   - numbers and strings ('..', E'..' with backslash escapes, B'..', X'..',
 *     U&'..', $$..$$ and $tag$..$tag$, including the continuation of a
 *     quoted string after a newline) become one SQL_SHAPE_LITERAL byte
 *     (N'..' is the word n and a string, as PostgreSQL lexes it);
 *   - comments (-- and nested slash-star) and runs of whitespace become one
 *     space, and only where the text had some, so token boundaries survive;
 *   - unquoted words are lower-cased (ASCII, as PostgreSQL does for UTF-8);
 *     "quoted" and U&"quoted" identifiers, $n parameters and operators are
 *     kept byte for byte.
 * The input need not be NUL-terminated; the lexer reads at most len bytes
 * and, like the server, ends the text at the first NUL byte.
 *
 * Checked against libpg_query's scanner by t/fuzz/fuzz_classify.c.  One
 * known difference, where the lexer follows the server: PostgreSQL
 * continues 'a' -- comment <newline> 'b' as one literal, libpg_query 15
 * does not (it then reports a syntax error, so such a text goes to the
 * primary and is not cached). */
#ifndef PGPOOLD_SQLSHAPE_H
#define PGPOOLD_SQLSHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SQL_SHAPE_LITERAL '?'

typedef enum sql_shape_status {
	SQL_SHAPE_OK = 0,
	SQL_SHAPE_UNTERMINATED_STRING,   /* '..', E'..', B'..', X'..', U&'..' */
	SQL_SHAPE_UNTERMINATED_IDENT,    /* ".." or U&".." */
	SQL_SHAPE_UNTERMINATED_DOLLAR,   /* $tag$.. */
	SQL_SHAPE_UNTERMINATED_COMMENT   /* slash-star without its end */
} sql_shape_status;

typedef struct sql_shape {
	size_t len;              /* bytes written to the output buffer */
	bool truncated;          /* the shape did not fit: the buffer holds a prefix */
	sql_shape_status status; /* not OK: PostgreSQL would reject the text */
	size_t text_len;         /* bytes of text that count: up to the first NUL */
	/* Tokens other than literals, commas, semicolons and brackets, plus
	 * the deepest ( or [ nesting.  Every level of a raw parse tree needs at
	 * least one of these, so this bounds the tree depth, and with it the
	 * stack the parser needs. */
	uint32_t weight;
} sql_shape;

/* Lex text[0..len) and write its shape to out (at most cap bytes, not
 * NUL-terminated).  Always fills *sh; never reads past text + len. */
void sql_shape_build(const char *text, size_t len, char *out, size_t cap, sql_shape *sh);

/* Seeded 64-bit hash of a shape (not cryptographic). */
uint64_t sql_shape_hash(const char *s, size_t len, uint64_t seed);

/* First position at or after pos that is not whitespace or a comment
 * (len if none, or if a slash-star comment is unterminated). */
size_t sql_skip_blank(const char *text, size_t len, size_t pos);

/* End of the unquoted word starting at pos (pos itself if none). */
size_t sql_word_end(const char *text, size_t len, size_t pos);

/* Does the unquoted word text[pos..end) equal lower-case kw, ignoring case? */
bool sql_word_is(const char *text, size_t pos, size_t end, const char *kw);

#endif
