/* The statement-shape lexer: see sqlshape.h.  Rule names in comments are
 * those of PostgreSQL 15's src/backend/parser/scan.l. */
#include "sqlshape.h"

#include <string.h>

#define NOT_FOUND ((size_t) -1)

typedef enum quote_mode {
	QUOTE_STANDARD,   /* '..', N'..', U&'..': '' is a quote, backslash is plain */
	QUOTE_ESCAPE,     /* E'..': '' and backslash escapes */
	QUOTE_BITS        /* B'..', X'..': nothing escapes the quote */
} quote_mode;

typedef struct lexer {
	const char *s;
	size_t n;              /* text length, up to the first NUL */
	size_t i;              /* next byte to read */
	char *out;
	size_t cap;
	size_t olen;
	bool truncated;
	bool blank_pending;    /* whitespace or a comment since the last token */
	uint64_t tokens;       /* tokens that can add a level to a parse tree */
	uint64_t nest;
	uint64_t max_nest;
} lexer;

static inline bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static inline bool is_newline(unsigned char c)
{
	return c == '\n' || c == '\r';
}

static inline bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* ident_start / dolq_start: letters, '_' and every byte >= 0x80 */
static inline bool is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/* dolq_cont: an identifier character, but not '$' */
static inline bool is_dolq_cont(unsigned char c)
{
	return is_ident_start(c) || is_digit(c);
}

/* ident_cont */
static inline bool is_ident_cont(unsigned char c)
{
	return is_dolq_cont(c) || c == '$';
}

static inline unsigned char ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + ('a' - 'A')) : c;
}

static inline void put(lexer *lx, char c)
{
	if (lx->olen < lx->cap)
		lx->out[lx->olen++] = c;
	else
		lx->truncated = true;
}

/* Every output token starts here: one space stands for whatever blank
 * separated it from the previous token, so "a b" and "ab" stay distinct. */
static void begin_token(lexer *lx)
{
	if (lx->blank_pending) {
		if (lx->olen > 0)
			put(lx, ' ');
		lx->blank_pending = false;
	}
}

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

static void put_literal(lexer *lx)
{
	begin_token(lx);
	put(lx, SQL_SHAPE_LITERAL);
}

/* Quoted identifiers, parameters, a lone '$': kept as written. */
static void put_verbatim(lexer *lx, size_t from, size_t to)
{
	begin_token(lx);
	lx->tokens++;
	for (size_t k = from; k < to; k++)
		put(lx, lx->s[k]);
}

/* A word, or a literal/identifier that starts like one (E'', B'', X'',
 * N'', U&'', U&"").  Returns the next position or NOT_FOUND with *status. */
static size_t lex_word(lexer *lx, size_t j, sql_shape_status *status)
{
	const char *s = lx->s;
	size_t n = lx->n;
	unsigned char c = ascii_lower((unsigned char) s[j]);
	bool quote_next = j + 1 < n && s[j + 1] == '\'';
	size_t end;

	if (quote_next && (c == 'e' || c == 'b' || c == 'x' || c == 'n')) {
		quote_mode mode = c == 'e' ? QUOTE_ESCAPE : c == 'n' ? QUOTE_STANDARD : QUOTE_BITS;
		end = scan_string(s, n, j + 2, mode);
		if (end == NOT_FOUND)
			*status = SQL_SHAPE_UNTERMINATED_STRING;
		else
			put_literal(lx);
		return end;
	}
	if (c == 'u' && j + 2 < n && s[j + 1] == '&') {
		if (s[j + 2] == '\'') {
			end = scan_string(s, n, j + 3, QUOTE_STANDARD);
			if (end == NOT_FOUND)
				*status = SQL_SHAPE_UNTERMINATED_STRING;
			else
				put_literal(lx);
			return end;
		}
		if (s[j + 2] == '"') {
			end = scan_quoted_ident(s, n, j + 2);
			if (end == NOT_FOUND)
				*status = SQL_SHAPE_UNTERMINATED_IDENT;
			else
				put_verbatim(lx, j, end);
			return end;
		}
	}
	begin_token(lx);
	lx->tokens++;
	end = j;
	while (end < n && is_ident_cont((unsigned char) s[end])) {
		put(lx, (char) ascii_lower((unsigned char) s[end]));
		end++;
	}
	return end;
}

/* '$': a parameter ($1), a dollar-quoted literal or a lone '$'. */
static size_t lex_dollar(lexer *lx, size_t j, sql_shape_status *status)
{
	const char *s = lx->s;
	size_t n = lx->n;
	if (j + 1 < n && is_digit((unsigned char) s[j + 1])) {
		size_t end = j + 1;
		while (end < n && is_digit((unsigned char) s[end]))
			end++;
		put_verbatim(lx, j, end);
		return end;
	}
	size_t dlen = dollar_delim_len(s, n, j);
	if (dlen == 0) {
		put_verbatim(lx, j, j + 1);
		return j + 1;
	}
	size_t end = scan_dollar_string(s, n, j, dlen);
	if (end == NOT_FOUND)
		*status = SQL_SHAPE_UNTERMINATED_DOLLAR;
	else
		put_literal(lx);
	return end;
}

/* Punctuation and operator characters, one at a time.  Each operator
 * character counts (PostgreSQL splits "+-+-" into four prefix operators);
 * brackets count by nesting depth, so long VALUES lists stay cheap; commas
 * and semicolons never nest. */
static size_t lex_other(lexer *lx, size_t j)
{
	unsigned char c = (unsigned char) lx->s[j];
	begin_token(lx);
	if (c == '(' || c == '[') {
		if (++lx->nest > lx->max_nest)
			lx->max_nest = lx->nest;
	} else if (c == ')' || c == ']') {
		if (lx->nest > 0)
			lx->nest--;
	} else if (c != ',' && c != ';') {
		lx->tokens++;
	}
	put(lx, (char) c);
	return j + 1;
}

/* One token (or blank) at lx->i; returns the next position or NOT_FOUND. */
static size_t lex_step(lexer *lx, sql_shape_status *status)
{
	const char *s = lx->s;
	size_t n = lx->n, j = lx->i;
	unsigned char c = (unsigned char) s[j];
	size_t end;

	if (is_space(c)) {
		lx->blank_pending = true;
		return j + 1;
	}
	if (c == '-' && j + 1 < n && s[j + 1] == '-') {
		lx->blank_pending = true;
		return skip_line_comment(s, n, j + 2);
	}
	if (c == '/' && j + 1 < n && s[j + 1] == '*') {
		lx->blank_pending = true;
		end = skip_block_comment(s, n, j);
		if (end == NOT_FOUND)
			*status = SQL_SHAPE_UNTERMINATED_COMMENT;
		return end;
	}
	if (c == '\'') {
		end = scan_string(s, n, j + 1, QUOTE_STANDARD);
		if (end == NOT_FOUND)
			*status = SQL_SHAPE_UNTERMINATED_STRING;
		else
			put_literal(lx);
		return end;
	}
	if (c == '"') {
		end = scan_quoted_ident(s, n, j);
		if (end == NOT_FOUND)
			*status = SQL_SHAPE_UNTERMINATED_IDENT;
		else
			put_verbatim(lx, j, end);
		return end;
	}
	if (c == '$')
		return lex_dollar(lx, j, status);
	if (is_ident_start(c))
		return lex_word(lx, j, status);
	if (is_digit(c) || (c == '.' && j + 1 < n && is_digit((unsigned char) s[j + 1]))) {
		put_literal(lx);
		return scan_number(s, n, j);
	}
	return lex_other(lx, j);
}

static uint32_t saturate32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t) v;
}

void sql_shape_build(const char *text, size_t len, char *out, size_t cap, sql_shape *sh)
{
	const char *nul = len ? memchr(text, '\0', len) : NULL;
	lexer lx = {
		.s = text,
		.n = nul ? (size_t) (nul - text) : len,
		.out = out,
		.cap = out ? cap : 0,
	};
	sql_shape_status status = SQL_SHAPE_OK;

	while (lx.i < lx.n) {
		size_t next = lex_step(&lx, &status);
		if (next == NOT_FOUND)
			break;
		lx.i = next;
	}
	sh->len = lx.olen;
	sh->truncated = lx.truncated;
	sh->status = status;
	sh->text_len = lx.n;
	sh->weight = saturate32(lx.tokens + lx.max_nest);
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
