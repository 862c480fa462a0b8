/* libFuzzer target: the statement-shape lexer and classify() on arbitrary
 * bytes.  The classifier's cache is tiny so eviction runs constantly, the
 * shape buffer here is small so truncation runs too, and every input is
 * copied to a buffer of exactly its size so a read past the end trips ASan.
 *
 * It also checks the lexer against PostgreSQL's own scanner: replacing each
 * literal PostgreSQL finds by another literal, and each comment by a space,
 * must leave the shape unchanged (ignoring spaces).  A literal boundary the
 * two disagree on would let texts with different keywords share a cache
 * entry.
 *
 * Build (from the source root):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 \
 *     -Ilibshared t/fuzz/fuzz_classify.c pgpoold/classify.c \
 *     pgpoold/sqlshape.c libshared/util.c libshared/log.c \
 *     $(pkg-config --cflags --libs libpcre2-8 libcrypto) -lpg_query -pthread \
 *     -o fuzz_classify
 *   cp -r t/fuzz/corpus/classify /tmp/corpus_classify   (the run adds to it)
 *   ./fuzz_classify -max_total_time=60 -max_len=4096 /tmp/corpus_classify
 */
#include "../../pgpoold/classify.h"
#include "../../pgpoold/sqlshape.h"

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static classifier *cls;

static classifier *get_classifier(void)
{
	if (!cls) {
		char err[256] = "";
		classifier_options o = {
			.write_function_list = "f.*,public\\.g",
			.primary_routing_query_pattern_list = ".*forced.*;SELECT 1\\;",
			.cache_entries = 16,
			.cache_bytes = 8192,
		};
		cls = classifier_new_opts(&o, err, sizeof(err));
		if (!cls) {
			fprintf(stderr, "classifier_new_opts: %s\n", err);
			abort();
		}
	}
	return cls;
}

static void check_result(const stmt_class *r, size_t size)
{
	if (!r || r->nrelations > CLASS_RELATIONS_MAX)
		abort();
	for (unsigned i = 0; i < r->nrelations; i++)
		if (strlen(r->relations[i]) > 255)
			abort();
	if (r->ps_name && strlen(r->ps_name) > 255)
		abort();
	if (r->dest == CLASS_PGPOOL && (r->arg_off > size || r->arg_len > size - r->arg_off))
		abort();
	if ((r->written | r->created | r->dropped) >> r->nrelations)
		abort();
}

static bool is_replaced_token(PgQuery__Token t, const char **with)
{
	switch (t) {
	case PG_QUERY__TOKEN__SCONST:
	case PG_QUERY__TOKEN__BCONST:
	case PG_QUERY__TOKEN__XCONST:
	case PG_QUERY__TOKEN__ICONST:
	case PG_QUERY__TOKEN__FCONST:
		*with = " E' ' ";  /* not a bare quote: must not start a continuation */
		return true;
	case PG_QUERY__TOKEN__SQL_COMMENT:
	case PG_QUERY__TOKEN__C_COMMENT:
		*with = " ";
		return true;
	default:
		return false;
	}
}

/* Shape of text[0..n) without its spaces, malloc'd. */
static char *despaced_shape(const char *text, size_t n, size_t *len)
{
	size_t cap = 2 * n + 16;
	char *out = malloc(cap);
	sql_shape sh;
	sql_shape_build(text, n, out, cap, &sh);
	if (sh.status != SQL_SHAPE_OK || sh.truncated)
		abort();  /* PostgreSQL scanned it, so must we */
	size_t k = 0;
	for (size_t i = 0; i < sh.len; i++)
		if (out[i] != ' ')
			out[k++] = out[i];
	*len = k;
	return out;
}

static bool is_string_token(PgQuery__Token t)
{
	return t == PG_QUERY__TOKEN__SCONST || t == PG_QUERY__TOKEN__BCONST ||
	       t == PG_QUERY__TOKEN__XCONST;
}

/* The one known difference: PostgreSQL continues 'a' -- c <newline> 'b'
 * as one literal (and so does the lexer), libpg_query's scanner, which
 * returns comments as tokens, does not. */
static bool continues_through_comment(const char *z, size_t n, const PgQuery__ScanResult *sr)
{
	for (size_t i = 0; i < sr->n_tokens; i++) {
		if (!is_string_token(sr->tokens[i]->token) || sr->tokens[i]->end < 0)
			continue;
		size_t j = (size_t) sr->tokens[i]->end;
		bool comment = false;
		while (j < n) {
			if (z[j] == ' ' || z[j] == '\t' || z[j] == '\n' || z[j] == '\r' || z[j] == '\f') {
				j++;
			} else if (z[j] == '-' && j + 1 < n && z[j + 1] == '-') {
				comment = true;
				while (j < n && z[j] != '\n' && z[j] != '\r')
					j++;
			} else {
				break;
			}
		}
		if (comment && j < n && z[j] == '\'')
			return true;
	}
	return false;
}

/* Rebuild text with PostgreSQL's literals and comments replaced. */
static char *replace_literals(const char *z, size_t n, const PgQuery__ScanResult *sr, size_t *len)
{
	char *out = malloc(7 * n + 16);
	size_t pos = 0, k = 0;
	for (size_t i = 0; i < sr->n_tokens; i++) {
		const PgQuery__ScanToken *t = sr->tokens[i];
		const char *with;
		if (t->token == PG_QUERY__TOKEN__USCONST || t->token == PG_QUERY__TOKEN__UIDENT) {
			free(out);  /* pg_query_scan reports no end for these */
			return NULL;
		}
		if (!is_replaced_token(t->token, &with))
			continue;
		if (t->start < 0 || (size_t) t->start < pos || t->end <= t->start || (size_t) t->end > n) {
			free(out);
			return NULL;
		}
		memcpy(out + k, z + pos, (size_t) t->start - pos);
		k += (size_t) t->start - pos;
		memcpy(out + k, with, strlen(with));
		k += strlen(with);
		pos = (size_t) t->end;
	}
	memcpy(out + k, z + pos, n - pos);
	*len = k + n - pos;
	return out;
}

static void check_against_scanner(const char *text, size_t n)
{
	char *z = malloc(n + 1);
	memcpy(z, text, n);
	z[n] = '\0';
	PgQueryScanResult r = pg_query_scan(z);
	if (!r.error) {
		PgQuery__ScanResult *sr = pg_query__scan_result__unpack(NULL, r.pbuf.len,
		                                                        (const uint8_t *) r.pbuf.data);
		size_t rlen, alen, blen;
		char *replaced = sr && !continues_through_comment(z, n, sr)
		                 ? replace_literals(z, n, sr, &rlen) : NULL;
		if (replaced) {
			char *a = despaced_shape(z, n, &alen);
			char *b = despaced_shape(replaced, rlen, &blen);
			if (alen != blen || memcmp(a, b, alen) != 0) {
				fprintf(stderr, "shape mismatch:\n  %.*s\n  %.*s\n", (int) alen, a, (int) blen, b);
				abort();
			}
			free(a);
			free(b);
			free(replaced);
		}
		if (sr)
			pg_query__scan_result__free_unpacked(sr, NULL);
	}
	pg_query_free_scan_result(r);
	free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	classifier *c = get_classifier();
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);

	char shape[64];
	sql_shape sh;
	sql_shape_build(text, size, shape, sizeof(shape), &sh);
	if (sh.len > sizeof(shape) || sh.text_len > size || (sh.truncated && sh.len != sizeof(shape)))
		abort();

	if (sh.status == SQL_SHAPE_OK)
		check_against_scanner(text, sh.text_len);

	const stmt_class *r = classify(c, text, size);
	check_result(r, size);
	stmt_dest dest = r->dest;
	uint32_t flags = r->flags & ~SF_UNCACHED;

	/* the same text again (a cache hit when cacheable) must agree */
	r = classify(c, text, size);
	check_result(r, size);
	if (r->dest != dest || (r->flags & ~SF_UNCACHED) != flags)
		abort();
	free(text);
	return 0;
}
