/* The statement-shape lexer: see sqlshape.h.  Rule names in comments are
 * those of PostgreSQL 15's src/backend/parser/scan.l. */
#include "sqlshape.h"

#include <string.h>

#define NOT_FOUND ((size_t) -1)

typedef enum quote_mode {
	QUOTE_STANDARD,   /* '..', U&'..': '' is a quote, backslash is plain */
	QUOTE_ESCAPE,     /* E'..': '' and backslash escapes */
	QUOTE_BITS        /* B'..', X'..': nothing escapes the quote */
} quote_mode;

/* Character classes, from scan.l: space, ident_start (letters, '_' and
 * every byte >= 0x80), ident_cont (also digits and '$'), digit. */
#define CC_SPACE 0x01
#define CC_START 0x02
#define CC_CONT  0x04
#define CC_DIGIT 0x08

static const uint8_t cclass[256] = {
	[' '] = CC_SPACE, ['\t'] = CC_SPACE, ['\n'] = CC_SPACE, ['\r'] = CC_SPACE, ['\f'] = CC_SPACE,
	['a' ... 'z'] = CC_START | CC_CONT,
	['A' ... 'Z'] = CC_START | CC_CONT,
	['_'] = CC_START | CC_CONT,
	[0x80 ... 0xff] = CC_START | CC_CONT,
	['0' ... '9'] = CC_DIGIT | CC_CONT,
	['$'] = CC_CONT,
};

static inline bool is_space(unsigned char c)
{
	return cclass[c] & CC_SPACE;
}

static inline bool is_newline(unsigned char c)
{
	return c == '\n' || c == '\r';
}

static inline bool is_digit(unsigned char c)
{
	return cclass[c] & CC_DIGIT;
}

static inline bool is_ident_start(unsigned char c)
{
	return cclass[c] & CC_START;
}

/* ident_cont */
static inline bool is_ident_cont(unsigned char c)
{
	return cclass[c] & CC_CONT;
}

/* dolq_cont: an identifier character, but not '$' */
static inline bool is_dolq_cont(unsigned char c)
{
	return c != '$' && is_ident_cont(c);
}

static inline unsigned char ascii_lower(unsigned char c)
{
	return (unsigned char) (c + ((unsigned) (c - 'A') < 26u ? 'a' - 'A' : 0));
}

/* ascii_lower as a table, for the word loop */
#define L4(c) (c), (c) + 1, (c) + 2, (c) + 3
#define L16(c) L4(c), L4((c) + 4), L4((c) + 8), L4((c) + 12)
#define L64(c) L16(c), L16((c) + 16), L16((c) + 32), L16((c) + 48)
static const unsigned char lower_table[256] = {
	L64(0),
	'@', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '[', '\\', ']', '^', '_',
	L16(96), L16(112), L64(128), L64(192),
};
#undef L4
#undef L16
#undef L64

/* "--" to the end of the line; returns the index of the newline (or n). */
static size_t skip_line_comment(const char *s, size_t n, size_t j)
{
	while (j < n && !is_newline((unsigned char) s[j]))
		j++;
	return j;
}

/* A slash-star comment at j, nested as in xc; NOT_FOUND if unterminated. */
static size_t skip_block_comment(const char *s, size_t n, size_t j)
{
	size_t depth = 1;
	j += 2;
	while (j < n) {
		if (s[j] == '/' && j + 1 < n && s[j + 1] == '*') {
			depth++;
			j += 2;
		} else if (s[j] == '*' && j + 1 < n && s[j + 1] == '/') {
			j += 2;
			if (--depth == 0)
				return j;
		} else {
			j++;
		}
	}
	return NOT_FOUND;
}

/* quotecontinue: after a closing quote at j-1, blank that contains a
 * newline (spaces and -- comments only) followed by a quote continues the
 * same literal, in the same mode.  Returns that quote's index or NOT_FOUND. */
static size_t continuation_quote(const char *s, size_t n, size_t j)
{
	bool newline = false;
	while (j < n) {
		unsigned char c = (unsigned char) s[j];
		if (is_newline(c)) {
			newline = true;
			j++;
		} else if (c == ' ' || c == '\t' || c == '\f') {
			j++;
		} else if (c == '-' && j + 1 < n && s[j + 1] == '-') {
			j = skip_line_comment(s, n, j + 2);
		} else {
			break;
		}
	}
	return (newline && j < n && s[j] == '\'') ? j : NOT_FOUND;
}

/* The body of a quoted string starting after its opening quote at j;
 * returns the index just past the literal (continuations included) or
 * NOT_FOUND if it never ends. */
static size_t scan_string(const char *s, size_t n, size_t j, quote_mode mode)
{
	for (;;) {
		while (j < n && s[j] != '\'') {
			if (s[j] == '\\' && mode == QUOTE_ESCAPE) {
				/* xeescape & co.: the backslash always takes the next byte */
				if (j + 1 >= n)
					return NOT_FOUND;
				j += 2;
			} else {
				j++;
			}
		}
		if (j >= n)
			return NOT_FOUND;
		/* xqdouble: '' inside the literal (not in B'' / X'') */
		if (mode != QUOTE_BITS && j + 1 < n && s[j + 1] == '\'') {
			j += 2;
			continue;
		}
		size_t next = continuation_quote(s, n, j + 1);
		if (next == NOT_FOUND)
			return j + 1;
		j = next + 1;
	}
}

/* A double-quoted identifier starting at its quote j ("" is a quote). */
static size_t scan_quoted_ident(const char *s, size_t n, size_t j)
{
	j++;
	for (;;) {
		while (j < n && s[j] != '"')
			j++;
		if (j >= n)
			return NOT_FOUND;
		if (j + 1 < n && s[j + 1] == '"') {
			j += 2;
			continue;
		}
		return j + 1;
	}
}

/* dolqdelim at j ('$'): the delimiter's length, or 0 if j does not start
 * one ("$", "$1" and "$abc" without a closing '$' are not delimiters). */
static size_t dollar_delim_len(const char *s, size_t n, size_t j)
{
	size_t k = j + 1;
	if (k < n && is_ident_start((unsigned char) s[k])) {
		k++;
		while (k < n && is_dolq_cont((unsigned char) s[k]))
			k++;
	}
	return (k < n && s[k] == '$') ? k + 1 - j : 0;
}

/* The end of a dollar-quoted literal whose delimiter s[j..j+dlen) opens
 * it.  In xdolq any later occurrence of the same delimiter closes it. */
static size_t scan_dollar_string(const char *s, size_t n, size_t j, size_t dlen)
{
	const char *delim = s + j;
	size_t k = j + dlen;
	while (k + dlen <= n) {
		const char *p = memchr(s + k, '$', n - k);
		if (!p)
			return NOT_FOUND;
		k = (size_t) (p - s);
		if (k + dlen <= n && memcmp(s + k, delim, dlen) == 0)
			return k + dlen;
		k++;
	}
	return NOT_FOUND;
}

/* integer, decimal, real (and decimalfail: "1.." is the integer 1). */
static size_t scan_number(const char *s, size_t n, size_t j)
{
	while (j < n && is_digit((unsigned char) s[j]))
		j++;
	if (j < n && s[j] == '.' && !(j + 1 < n && s[j + 1] == '.')) {
		j++;
		while (j < n && is_digit((unsigned char) s[j]))
			j++;
	}
	if (j < n && (s[j] == 'e' || s[j] == 'E')) {
		size_t k = j + 1;
		if (k < n && (s[k] == '+' || s[k] == '-'))
			k++;
		if (k < n && is_digit((unsigned char) s[k])) {
			j = k;
			while (j < n && is_digit((unsigned char) s[j]))
				j++;
		}
	}
	return j;
}

/* The shape being written: out[0..cap) receives the first cap bytes, len
 * counts them all (a shape is never longer than its text). */
typedef struct shape_out {
	char *out;
	size_t cap;
	size_t len;
	bool blank;            /* whitespace or a comment since the last token */
	uint64_t tokens;       /* tokens that can add a level to a parse tree */
	uint64_t nest;
	uint64_t max_nest;
} shape_out;

static inline void emit(shape_out *o, char c)
{
	if (o->len < o->cap)
		o->out[o->len] = c;
	o->len++;
}

/* Every token starts here: one space stands for whatever blank separated
 * it from the previous token, so "a b" and "ab" stay distinct. */
static inline void start_token(shape_out *o)
{
	if (o->blank) {
		if (o->len > 0)
			emit(o, ' ');
		o->blank = false;
	}
}

static void emit_literal(shape_out *o)
{
	start_token(o);
	emit(o, SQL_SHAPE_LITERAL);
}

/* Quoted identifiers, parameters, a lone '$': kept as written. */
static void emit_verbatim(shape_out *o, const char *s, size_t from, size_t to)
{
	start_token(o);
	o->tokens++;
	while (from < to)
		emit(o, s[from++]);
}

/* Punctuation and operator characters, one at a time.  Each operator
 * character counts (PostgreSQL splits "+-+-" into four prefix operators);
 * brackets count by nesting depth, so long VALUES lists stay cheap; commas
 * and semicolons never nest. */
static void emit_punct(shape_out *o, unsigned char c)
{
	start_token(o);
	if (c == '(' || c == '[') {
		if (++o->nest > o->max_nest)
			o->max_nest = o->nest;
	} else if (c == ')' || c == ']') {
		if (o->nest > 0)
			o->nest--;
	} else if (c != ',' && c != ';') {
		o->tokens++;
	}
	emit(o, (char) c);
}

/* A literal (or U&"ident") that starts like a word: E'', B'', X'', U&'',
 * U&"".  Returns its end, NOT_FOUND with *status if unterminated, or j if
 * the word at j is an ordinary word.  N'..' is an ordinary word n then a
 * string, as PostgreSQL returns the keyword NCHAR then the string. */
static size_t prefixed_literal(const char *s, size_t n, size_t j, bool *verbatim,
                               sql_shape_status *status)
{
	unsigned char c = ascii_lower((unsigned char) s[j]);
	size_t end = j;
	*verbatim = false;
	if (j + 1 < n && s[j + 1] == '\'' && (c == 'e' || c == 'b' || c == 'x')) {
		end = scan_string(s, n, j + 2, c == 'e' ? QUOTE_ESCAPE : QUOTE_BITS);
		if (end == NOT_FOUND)
			*status = SQL_SHAPE_UNTERMINATED_STRING;
	} else if (c == 'u' && j + 2 < n && s[j + 1] == '&' && s[j + 2] == '\'') {
		end = scan_string(s, n, j + 3, QUOTE_STANDARD);
		if (end == NOT_FOUND)
			*status = SQL_SHAPE_UNTERMINATED_STRING;
	} else if (c == 'u' && j + 2 < n && s[j + 1] == '&' && s[j + 2] == '"') {
		*verbatim = true;
		end = scan_quoted_ident(s, n, j + 2);
		if (end == NOT_FOUND)
			*status = SQL_SHAPE_UNTERMINATED_IDENT;
	}
	return end;
}

/* A word at j (an ident_start), lower-cased, or a prefixed literal.
 * Returns the next position or NOT_FOUND. */
static size_t lex_word(shape_out *o, const char *s, size_t n, size_t j, sql_shape_status *status)
{
	bool verbatim;
	size_t end = prefixed_literal(s, n, j, &verbatim, status);
	if (end == NOT_FOUND)
		return NOT_FOUND;
	if (end != j) {
		if (verbatim)
			emit_verbatim(o, s, j, end);
		else
			emit_literal(o);
		return end;
	}
	start_token(o);
	o->tokens++;
	/* the hot loops (most of a statement is words), on locals */
	while (++end < n && is_ident_cont((unsigned char) s[end]))
		;
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	size_t copy = end - j < room ? end - j : room;
	char *dst = o->out + o->len;
	for (size_t k = 0; k < copy; k++)
		dst[k] = (char) lower_table[(unsigned char) s[j + k]];
	o->len += end - j;
	return end;
}

/* '$' at j: a parameter ($1, kept), a dollar-quoted literal, or a lone '$'. */
static size_t lex_dollar(shape_out *o, const char *s, size_t n, size_t j, sql_shape_status *status)
{
	size_t end;
	if (j + 1 < n && is_digit((unsigned char) s[j + 1])) {
		end = j + 1;
		while (end < n && is_digit((unsigned char) s[end]))
			end++;
		emit_verbatim(o, s, j, end);
		return end;
	}
	size_t dlen = dollar_delim_len(s, n, j);
	if (dlen == 0) {
		emit_verbatim(o, s, j, j + 1);
		return j + 1;
	}
	end = scan_dollar_string(s, n, j, dlen);
	if (end == NOT_FOUND)
		*status = SQL_SHAPE_UNTERMINATED_DOLLAR;
	else
		emit_literal(o);
	return end;
}

/* A token at j that does not start with a letter.  Returns the next
 * position or NOT_FOUND with *status. */
static size_t lex_other(shape_out *o, const char *s, size_t n, size_t j, sql_shape_status *status)
{
	unsigned char c = (unsigned char) s[j];
	size_t end;
	if (c == '\'') {
		end = scan_string(s, n, j + 1, QUOTE_STANDARD);
		if (end == NOT_FOUND)
			*status = SQL_SHAPE_UNTERMINATED_STRING;
		else
			emit_literal(o);
		return end;
	}
	if (c == '"') {
		end = scan_quoted_ident(s, n, j);
		if (end == NOT_FOUND)
			*status = SQL_SHAPE_UNTERMINATED_IDENT;
		else
			emit_verbatim(o, s, j, end);
		return end;
	}
	if (c == '$')
		return lex_dollar(o, s, n, j, status);
	if (c == '.' && j + 1 < n && s[j + 1] == '.') {
		/* dot_dot: "..5" is ".." then 5, not "." then .5 */
		emit_punct(o, '.');
		emit_punct(o, '.');
		return j + 2;
	}
	if (is_digit(c) || (c == '.' && j + 1 < n && is_digit((unsigned char) s[j + 1]))) {
		emit_literal(o);
		return scan_number(s, n, j);
	}
	emit_punct(o, c);
	return j + 1;
}

/* Blank at j (whitespace, a comment): its end, j if there is none, or
 * NOT_FOUND if a slash-star comment never ends. */
static size_t skip_one_blank(const char *s, size_t n, size_t j)
{
	unsigned char c = (unsigned char) s[j];
	if (is_space(c)) {
		while (++j < n && is_space((unsigned char) s[j]))
			;
		return j;
	}
	if (c == '-' && j + 1 < n && s[j + 1] == '-')
		return skip_line_comment(s, n, j + 2);
	if (c == '/' && j + 1 < n && s[j + 1] == '*')
		return skip_block_comment(s, n, j);
	return j;
}

static uint32_t saturate32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t) v;
}

void sql_shape_build(const char *text, size_t len, char *out, size_t cap, sql_shape *sh)
{
	const char *nul = len ? memchr(text, '\0', len) : NULL;
	size_t n = nul ? (size_t) (nul - text) : len;
	shape_out o = { .out = out, .cap = out ? cap : 0 };
	sql_shape_status status = SQL_SHAPE_OK;

	for (size_t i = 0; i < n;) {
		size_t next = skip_one_blank(text, n, i);
		if (next == NOT_FOUND) {
			status = SQL_SHAPE_UNTERMINATED_COMMENT;
			break;
		}
		if (next != i) {
			o.blank = true;
		} else {
			next = is_ident_start((unsigned char) text[i]) ? lex_word(&o, text, n, i, &status)
			                                                : lex_other(&o, text, n, i, &status);
			if (next == NOT_FOUND)
				break;
		}
		i = next;
	}
	sh->len = o.len < o.cap ? o.len : o.cap;
	sh->truncated = o.len > o.cap;
	sh->status = status;
	sh->text_len = n;
	sh->weight = saturate32(o.tokens + o.max_nest);
}

static inline uint64_t rotl64(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

/* murmur3's finaliser */
static inline uint64_t fmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

uint64_t sql_shape_hash(const char *s, size_t len, uint64_t seed)
{
	uint64_t h = seed ^ ((uint64_t) len * 0x9e3779b97f4a7c15ULL);
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = rotl64(h ^ (w * 0x87c37b91114253d5ULL), 27) * 0x4cf5ad432745937fULL;
		s += 8;
		len -= 8;
	}
	if (len > 0) {
		uint64_t w = 0;
		memcpy(&w, s, len);
		h = rotl64(h ^ (w * 0x87c37b91114253d5ULL), 27) * 0x4cf5ad432745937fULL;
	}
	return fmix64(h);
}

size_t sql_skip_blank(const char *text, size_t len, size_t pos)
{
	while (pos < len) {
		unsigned char c = (unsigned char) text[pos];
		if (is_space(c)) {
			pos++;
		} else if (c == '-' && pos + 1 < len && text[pos + 1] == '-') {
			pos = skip_line_comment(text, len, pos + 2);
		} else if (c == '/' && pos + 1 < len && text[pos + 1] == '*') {
			pos = skip_block_comment(text, len, pos);
			if (pos == NOT_FOUND)
				return len;
		} else {
			break;
		}
	}
	return pos < len ? pos : len;
}

size_t sql_word_end(const char *text, size_t len, size_t pos)
{
	if (pos >= len || !is_ident_start((unsigned char) text[pos]))
		return pos;
	while (pos < len && is_ident_cont((unsigned char) text[pos]))
		pos++;
	return pos;
}

bool sql_word_is(const char *text, size_t pos, size_t end, const char *kw)
{
	size_t klen = strlen(kw);
	if (end < pos || end - pos != klen)
		return false;
	for (size_t k = 0; k < klen; k++)
		if (ascii_lower((unsigned char) text[pos + k]) != (unsigned char) kw[k])
			return false;
	return true;
}
