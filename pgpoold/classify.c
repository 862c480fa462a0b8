/* Statement classifier: see classify.h.
 *
 * Sections: regex lists (pcre2) - the shape cache - reading the parse tree
 * - deciding one statement - the classify() entry point. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* pthread_getattr_np */
#endif
#include "classify.h"
#include "sqlshape.h"
#include "util.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Stack the parser needs per level of parse-tree nesting (measured: about
 * 1.6 KiB in protobuf-c's unpack, 0.4 KiB in libpg_query's output, both
 * recursive and unchecked), and what to leave for everything else.  A text
 * whose sql_shape.weight exceeds the budget goes to the primary unparsed:
 * "SELECT 1+1+...+1" with 10000 terms otherwise overflows an 8 MiB stack. */
#if defined(__SANITIZE_ADDRESS__)
#define STACK_PER_LEVEL 10240
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STACK_PER_LEVEL 10240
#endif
#endif
#ifndef STACK_PER_LEVEL
#define STACK_PER_LEVEL 2560
#endif
#define STACK_RESERVE (256u * 1024)
#define BUDGET_UNKNOWN_STACK 400       /* about 1 MiB when we cannot tell */
#define WALK_DEPTH_MAX 100000          /* our own walker, far below its stack cost */

#define CHAIN_MAX 8                    /* longer hash chains are not extended */
#define NAMES_MAX 4096                 /* relation + statement names of one result */
#define TEXT_BUF_KEEP 65536            /* parser input buffer kept between misses */
#define REGEX_MATCH_LIMIT 1000000      /* pcre2 backtracking bound per match */

/* ================================================================ regex lists */

typedef struct regex_list {
	pcre2_code **re;
	unsigned n;
} regex_list;

static void regex_list_free(regex_list *rl)
{
	for (unsigned i = 0; i < rl->n; i++)
		pcre2_code_free(rl->re[i]);
	free(rl->re);
	rl->re = NULL;
	rl->n = 0;
}

static bool is_blank_char(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* Compile one list entry, adding ^ and $ unless present (Pgpool-II). */
static pcre2_code *compile_anchored(const char *tok, size_t len, uint32_t options,
                                    const char *what, char *err, size_t errlen)
{
	char *pat = malloc(len + 3);
	if (!pat) {
		err_appendf(err, errlen, "%s: out of memory", what);
		return NULL;
	}
	size_t p = 0;
	if (tok[0] != '^')
		pat[p++] = '^';
	memcpy(pat + p, tok, len);
	p += len;
	if (tok[len - 1] != '$')
		pat[p++] = '$';

	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR) pat, p, options, &code, &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof(msg));
		err_appendf(err, errlen, "%s: invalid regular expression \"%.*s\": %s", what,
		            (int) len, tok, (const char *) msg);
	} else {
		(void) pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);  /* optional speed-up */
	}
	free(pat);
	return re;
}

static bool regex_list_add(regex_list *rl, pcre2_code *re)
{
	pcre2_code **grown = realloc(rl->re, (rl->n + 1) * sizeof(*grown));
	if (!grown)
		return false;
	rl->re = grown;
	rl->re[rl->n++] = re;
	return true;
}

/* Split spec at sep (a backslash keeps the next character in the entry,
 * so "\;" stays a literal ';'), trim blank, skip empty entries. */
static bool regex_list_compile(regex_list *rl, const char *spec, char sep, uint32_t options,
                               const char *what, char *err, size_t errlen)
{
	if (!spec)
		return true;
	size_t i = 0, n = strlen(spec);
	while (i <= n) {
		size_t start = i;
		while (i < n && spec[i] != sep)
			i += (spec[i] == '\\' && i + 1 < n) ? 2 : 1;
		size_t end = i;
		i++;  /* past the separator (or the end) */
		while (start < end && is_blank_char(spec[start]))
			start++;
		while (end > start && is_blank_char(spec[end - 1]))
			end--;
		if (end == start)
			continue;
		pcre2_code *re = compile_anchored(spec + start, end - start, options, what, err, errlen);
		if (!re)
			return false;
		if (!regex_list_add(rl, re)) {
			pcre2_code_free(re);
			err_appendf(err, errlen, "%s: out of memory", what);
			return false;
		}
	}
	return true;
}

/* ================================================================ the cache */

typedef struct cache_entry {
	struct cache_entry *next;    /* hash chain */
	uint64_t hash;
	size_t alloc;                /* size of this block, for the byte budget */
	uint32_t key_len;
	uint32_t slot;               /* index in the clock ring */
	bool referenced;             /* CLOCK: hit since the hand last passed */
	stmt_class cls;              /* its strings point into this block */
	const char *rel_names[];     /* cls.nrelations, then the key, then the names */
} cache_entry;

/* What a miss collects before it becomes a cache_entry. */
typedef struct builder {
	stmt_class cls;
	char names[NAMES_MAX];       /* NUL-terminated names back to back */
	size_t names_len;
	uint16_t rel_off[CLASS_RELATIONS_MAX];
	size_t ps_name_off;          /* NAMES_MAX = none */
	bool cacheable;              /* false: the class depends on a literal's value */
} builder;

struct classifier {
	regex_list write_funcs;
	regex_list readonly_funcs;
	regex_list patterns;
	pcre2_match_data *match_data;
	pcre2_match_context *match_ctx;

	cache_entry **buckets;
	size_t bucket_mask;
	cache_entry **ring;          /* CLOCK ring of capacity slots */
	uint32_t *free_slots;
	unsigned nfree;
	unsigned capacity;
	unsigned hand;
	size_t max_bytes;
	uint64_t seed;
	cache_entry *scratch;        /* last uncached result, freed on the next call */

	char *shape;                 /* CLASSIFY_SHAPE_MAX bytes */
	char *text;                  /* NUL-terminated copy for the parser */
	size_t text_cap;
	uintptr_t stack_lo, stack_hi;

	builder b;
	stmt_class result;
	classifier_stats stats;
};

static inline char *entry_chars(cache_entry *e)
{
	return (char *) (e->rel_names + e->cls.nrelations);
}

static cache_entry *cache_find(classifier *c, uint64_t h, const char *key, size_t len)
{
	for (cache_entry *e = c->buckets[h & c->bucket_mask]; e; e = e->next)
		if (e->hash == h && e->key_len == len && memcmp(entry_chars(e), key, len) == 0)
			return e;
	return NULL;
}

static void cache_unlink(classifier *c, cache_entry *e)
{
	cache_entry **pp = &c->buckets[e->hash & c->bucket_mask];
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	c->ring[e->slot] = NULL;
	c->free_slots[c->nfree++] = e->slot;
	c->stats.entries--;
	c->stats.bytes -= e->alloc;
	free(e);
}

/* CLOCK: evict the first entry not hit since the hand last passed it.
 * Two sweeps always find one when the cache is not empty. */
static bool cache_evict_one(classifier *c)
{
	for (unsigned step = 0; step < 2 * c->capacity; step++) {
		cache_entry *e = c->ring[c->hand];
		c->hand = (c->hand + 1) % c->capacity;
		if (!e)
			continue;
		if (e->referenced) {
			e->referenced = false;
			continue;
		}
		cache_unlink(c, e);
		c->stats.evictions++;
		return true;
	}
	return false;
}

/* Take ownership of e; false (e untouched) if it cannot be kept. */
static bool cache_insert(classifier *c, cache_entry *e)
{
	if (e->alloc > c->max_bytes)
		return false;
	size_t chain = 0;
	for (cache_entry *p = c->buckets[e->hash & c->bucket_mask]; p; p = p->next)
		chain++;
	if (chain >= CHAIN_MAX)  /* colliding shapes: bound every lookup instead */
		return false;
	while (c->nfree == 0 || c->stats.bytes + e->alloc > c->max_bytes)
		if (!cache_evict_one(c))
			return false;
	e->slot = c->free_slots[--c->nfree];
	e->referenced = false;
	c->ring[e->slot] = e;
	cache_entry **head = &c->buckets[e->hash & c->bucket_mask];
	e->next = *head;
	*head = e;
	c->stats.entries++;
	c->stats.bytes += e->alloc;
	return true;
}

static void cache_free_all(classifier *c)
{
	if (c->ring)
		for (unsigned i = 0; i < c->capacity; i++)
			free(c->ring[i]);
}

/* One block: the header, relation pointers, the key, the names. */
static cache_entry *entry_from_builder(const builder *b, const char *key, size_t key_len, uint64_t h)
{
	unsigned nrel = b->cls.nrelations;
	size_t alloc = sizeof(cache_entry) + nrel * sizeof(const char *) + key_len + b->names_len;
	cache_entry *e = malloc(alloc);
	if (!e)
		return NULL;
	e->next = NULL;
	e->hash = h;
	e->alloc = alloc;
	e->key_len = (uint32_t) key_len;
	e->slot = 0;
	e->referenced = false;
	e->cls = b->cls;
	char *chars = entry_chars(e);
	if (key_len)
		memcpy(chars, key, key_len);
	char *names = chars + key_len;
	if (b->names_len)
		memcpy(names, b->names, b->names_len);
	for (unsigned i = 0; i < nrel; i++)
		e->rel_names[i] = names + b->rel_off[i];
	e->cls.relations = nrel ? e->rel_names : NULL;
	e->cls.ps_name = b->ps_name_off < NAMES_MAX ? names + b->ps_name_off : NULL;
	return e;
}

/* ================================================================ collecting names */

enum { REL_WRITTEN = 1, REL_CREATED = 2, REL_DROPPED = 4 };

/* Copy a NUL-terminated name into the builder; NAMES_MAX if it does not fit. */
static size_t builder_add_name(builder *b, const char *name)
{
	size_t len = strlen(name) + 1;
	if (len > NAMES_MAX - b->names_len)
		return NAMES_MAX;
	size_t off = b->names_len;
	memcpy(b->names + off, name, len);
	b->names_len += len;
	return off;
}

static void builder_add_relation(builder *b, const char *name, unsigned bits)
{
	stmt_class *cls = &b->cls;
	unsigned i;
	for (i = 0; i < cls->nrelations; i++)
		if (strcmp(b->names + b->rel_off[i], name) == 0)
			break;
	if (i == cls->nrelations) {
		size_t off = i < CLASS_RELATIONS_MAX ? builder_add_name(b, name) : NAMES_MAX;
		if (off == NAMES_MAX) {
			cls->flags |= SF_RELATIONS_TRUNCATED;
			return;
		}
		b->rel_off[i] = (uint16_t) off;
		cls->nrelations++;
	}
	if (bits & REL_WRITTEN)
		cls->written |= (uint16_t) (1u << i);
	if (bits & REL_CREATED)
		cls->created |= (uint16_t) (1u << i);
	if (bits & REL_DROPPED)
		cls->dropped |= (uint16_t) (1u << i);
}

/* "a", "a.b", "a.b.c" from up to three parts (NULL or "" = absent). */
static void join_name(char *out, size_t cap, const char *p1, const char *p2, const char *p3)
{
	const char *parts[3] = { p1, p2, p3 };
	size_t len = 0;
	out[0] = '\0';
	for (int i = 0; i < 3; i++) {
		if (!parts[i] || !parts[i][0])
			continue;
		int w = snprintf(out + len, cap - len, "%s%s", len ? "." : "", parts[i]);
		if (w < 0 || (size_t) w >= cap - len)
			return;  /* truncated: still NUL-terminated */
		len += (size_t) w;
	}
}

static bool str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static bool is_temp_schema(const char *schema)
{
	return schema && strncmp(schema, "pg_temp", 7) == 0;
}

/* ================================================================ walking the tree */

/* Facts about one statement's tree that decide a SELECT's destination. */
typedef struct tree_facts {
	bool locking;        /* FOR UPDATE/SHARE/... anywhere */
	bool select_into;    /* SELECT ... INTO */
	bool modifying;      /* INSERT/UPDATE/DELETE/MERGE below the top */
	bool writing_func;
	bool too_deep;
} tree_facts;

typedef struct walker {
	classifier *c;
	builder *b;
	tree_facts f;
	unsigned depth_max;
	uint16_t written_before;   /* builder's written mask before this statement */
} walker;

/* nextval() and setval() write whatever the lists say. */
static const char *const always_writing[] = { "nextval", "setval" };

/* With both lists empty Pgpool-II asks pg_proc for volatile functions; we
 * cannot query the catalog here, so known built-ins with effects beyond
 * the statement (or that fail on a standby) stand in for that list.
 * Sorted for bsearch. */
static const char *const default_writing[] = {
	"currval", "dblink", "dblink_connect", "dblink_exec", "dblink_send_query",
	"lastval", "lo_creat", "lo_create", "lo_export", "lo_from_bytea", "lo_import",
	"lo_open", "lo_put", "lo_truncate", "lo_truncate64", "lo_unlink", "lo_write",
	"lowrite", "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_unlock",
	"pg_advisory_unlock_all", "pg_advisory_unlock_shared", "pg_advisory_xact_lock",
	"pg_advisory_xact_lock_shared", "pg_backup_start", "pg_backup_stop",
	"pg_cancel_backend", "pg_copy_logical_replication_slot",
	"pg_copy_physical_replication_slot", "pg_create_logical_replication_slot",
	"pg_create_physical_replication_slot", "pg_create_restore_point",
	"pg_current_wal_flush_lsn", "pg_current_wal_insert_lsn", "pg_current_wal_lsn",
	"pg_current_xact_id", "pg_current_xact_id_if_assigned", "pg_drop_replication_slot",
	"pg_export_snapshot", "pg_file_rename", "pg_file_unlink", "pg_file_write",
	"pg_import_system_collations", "pg_logical_emit_message",
	"pg_logical_slot_get_binary_changes", "pg_logical_slot_get_changes",
	"pg_notify", "pg_reload_conf", "pg_replication_slot_advance", "pg_rotate_logfile",
	"pg_start_backup", "pg_stat_reset", "pg_stat_reset_replication_slot",
	"pg_stat_reset_shared", "pg_stat_reset_single_function_counters",
	"pg_stat_reset_single_table_counters", "pg_stat_reset_slru",
	"pg_stat_reset_subscription_stats", "pg_stop_backup", "pg_switch_wal",
	"pg_terminate_backend", "pg_try_advisory_lock", "pg_try_advisory_lock_shared",
	"pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared", "set_config",
	"setseed", "txid_current", "txid_current_if_assigned",
};

static int cmp_name(const void *key, const void *elem)
{
	return strcmp((const char *) key, *(const char *const *) elem);
}

static bool name_listed(const char *name, const char *const *list, size_t n, bool sorted)
{
	if (sorted)
		return bsearch(name, list, n, sizeof(*list), cmp_name) != NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

/* 1 = some entry matches, 0 = none, -1 = matching failed (limits). */
static int regex_list_match(classifier *c, const regex_list *rl, const char *s, size_t len)
{
	int result = 0;
	for (unsigned i = 0; i < rl->n; i++) {
		int rc = pcre2_match(rl->re[i], (PCRE2_SPTR) s, len, 0, 0, c->match_data, c->match_ctx);
		if (rc >= 0)
			return 1;
		if (rc != PCRE2_ERROR_NOMATCH)
			result = -1;
	}
	return result;
}

/* Section 3.3.  A failed regex match counts as writing (primary is safe). */
static bool function_is_writing(classifier *c, const char *qualified, const char *schema,
                                const char *name)
{
	bool builtin = schema == NULL || strcmp(schema, "pg_catalog") == 0;
	if (builtin && name_listed(name, always_writing,
	                           sizeof(always_writing) / sizeof(*always_writing), false))
		return true;
	if (c->write_funcs.n > 0)
		return regex_list_match(c, &c->write_funcs, qualified, strlen(qualified)) != 0;
	if (c->readonly_funcs.n > 0)
		return regex_list_match(c, &c->readonly_funcs, qualified, strlen(qualified)) != 1;
	return builtin && name_listed(name, default_writing,
	                              sizeof(default_writing) / sizeof(*default_writing), true);
}

static const char *string_node(const PgQuery__Node *n)
{
	if (n && n->node_case == PG_QUERY__NODE__NODE_STRING && n->string)
		return n->string->sval;
	return NULL;
}

static void note_func_call(walker *w, const PgQuery__FuncCall *fc)
{
	w->b->cls.flags |= SF_CALLS_FUNCTION;
	const char *parts[3] = { NULL, NULL, NULL };
	size_t np = fc->n_funcname;
	if (np == 0 || np > 3)
		return;
	for (size_t i = 0; i < np; i++) {
		parts[i] = string_node(fc->funcname[i]);
		if (!parts[i])
			return;
	}
	char qualified[3 * 64 + 8];
	join_name(qualified, sizeof(qualified), parts[0], parts[1], parts[2]);
	const char *name = parts[np - 1];
	const char *schema = np >= 2 ? parts[np - 2] : NULL;
	if (function_is_writing(w->c, qualified, schema, name))
		w->f.writing_func = true;
}

static void note_range_var(walker *w, const PgQuery__RangeVar *rv, unsigned bits)
{
	if (!rv || !rv->relname || !rv->relname[0])
		return;
	const char *schema = rv->schemaname && rv->schemaname[0] ? rv->schemaname : NULL;
	if (str_eq(schema, "pg_catalog") || (!schema && strncmp(rv->relname, "pg_", 3) == 0))
		w->b->cls.flags |= SF_CATALOG;
	if (is_temp_schema(schema))
		w->b->cls.flags |= SF_TEMP_SCHEMA;
	char name[3 * 64 + 8];
	join_name(name, sizeof(name), rv->catalogname, schema, rv->relname);
	builder_add_relation(w->b, name, bits);
}

/* The interesting nodes; everything else is only descended into. */
static void visit(walker *w, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	if (d == &pg_query__range_var__descriptor) {
		note_range_var(w, (const PgQuery__RangeVar *) m, 0);
	} else if (d == &pg_query__func_call__descriptor) {
		note_func_call(w, (const PgQuery__FuncCall *) m);
	} else if (d == &pg_query__select_stmt__descriptor) {
		const PgQuery__SelectStmt *s = (const PgQuery__SelectStmt *) m;
		if (s->n_locking_clause > 0)
			w->f.locking = true;
		if (s->into_clause)
			w->f.select_into = true;
	} else if (d == &pg_query__insert_stmt__descriptor) {
		w->f.modifying = true;
		note_range_var(w, ((const PgQuery__InsertStmt *) m)->relation, REL_WRITTEN);
	} else if (d == &pg_query__update_stmt__descriptor) {
		w->f.modifying = true;
		note_range_var(w, ((const PgQuery__UpdateStmt *) m)->relation, REL_WRITTEN);
	} else if (d == &pg_query__delete_stmt__descriptor) {
		w->f.modifying = true;
		note_range_var(w, ((const PgQuery__DeleteStmt *) m)->relation, REL_WRITTEN);
	} else if (d == &pg_query__merge_stmt__descriptor) {
		w->f.modifying = true;
		note_range_var(w, ((const PgQuery__MergeStmt *) m)->relation, REL_WRITTEN);
	}
}

/* Every message-typed field of every message, driven by protobuf-c's
 * descriptors, so new node types are walked without code here.  A oneof
 * member is read only when it is the one set (Node is a oneof). */
static void walk_message(walker *w, const ProtobufCMessage *m, unsigned depth)
{
	if (!m || w->f.too_deep)
		return;
	if (depth > w->depth_max) {
		w->f.too_deep = true;
		return;
	}
	visit(w, m);
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *) m;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *) (base + fd->quantifier_offset) != fd->id)
			continue;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *) (base + fd->quantifier_offset);
			ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *) (base + fd->offset);
			for (size_t k = 0; k < n && items; k++)
				walk_message(w, items[k], depth + 1);
		} else {
			walk_message(w, *(const ProtobufCMessage *const *) (base + fd->offset), depth + 1);
		}
	}
}

/* ================================================================ deciding one statement */

typedef struct decision {
	stmt_dest dest;
	uint32_t flags;
	tx_op tx;
	ps_op ps;
	pool_show_kind pool_show;
	stmt_stat stat;
	const char *ps_name;     /* points into the parse tree */
} decision;

static void decide_node(walker *w, const PgQuery__Node *node, decision *d);
static void note_created(walker *w, const PgQuery__RangeVar *rv, decision *d);

/* PostgreSQL's parse_bool: 1 true, 0 false, -1 neither. */
static int pg_bool(const char *v)
{
	size_t n = v ? strlen(v) : 0;
	if (n == 0)
		return -1;
	char lower[8];
	if (n >= sizeof(lower))
		return -1;
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char) ((v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i]);
	if (strncmp("true", lower, n) == 0 || strncmp("yes", lower, n) == 0)
		return 1;
	if (strncmp("false", lower, n) == 0 || strncmp("no", lower, n) == 0)
		return 0;
	if (n >= 2 && strncmp("on", lower, n) == 0)
		return 1;
	if (n >= 2 && strncmp("off", lower, n) == 0)
		return 0;
	if (strcmp(lower, "1") == 0)
		return 1;
	if (strcmp(lower, "0") == 0)
		return 0;
	return -1;
}

/* A constant argument as text: A_Const, String, Integer, Float nodes. */
static const char *const_text(const PgQuery__Node *n, char *buf, size_t cap)
{
	if (!n)
		return NULL;
	if (n->node_case == PG_QUERY__NODE__NODE_A_CONST && n->a_const) {
		const PgQuery__AConst *a = n->a_const;
		switch (a->val_case) {
		case PG_QUERY__A__CONST__VAL_SVAL:
			return a->sval ? a->sval->sval : NULL;
		case PG_QUERY__A__CONST__VAL_IVAL:
			snprintf(buf, cap, "%d", a->ival ? (int) a->ival->ival : 0);
			return buf;
		case PG_QUERY__A__CONST__VAL_FVAL:
			return a->fval ? a->fval->fval : NULL;
		case PG_QUERY__A__CONST__VAL_BOOLVAL:
			return a->boolval && a->boolval->boolval ? "true" : "false";
		default:
			return NULL;
		}
	}
	if (n->node_case == PG_QUERY__NODE__NODE_STRING && n->string)
		return n->string->sval;
	if (n->node_case == PG_QUERY__NODE__NODE_INTEGER && n->integer) {
		snprintf(buf, cap, "%d", (int) n->integer->ival);
		return buf;
	}
	if (n->node_case == PG_QUERY__NODE__NODE_FLOAT && n->float_)
		return n->float_->fval;
	return NULL;
}

static bool ci_equal(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

/* transaction_isolation / transaction_read_only as BEGIN, SET TRANSACTION
 * and SET SESSION CHARACTERISTICS carry them (DefElem list). */
static void tx_mode_flags(PgQuery__Node *const *opts, size_t n, decision *d)
{
	char buf[24];
	for (size_t i = 0; i < n; i++) {
		if (!opts[i] || opts[i]->node_case != PG_QUERY__NODE__NODE_DEF_ELEM || !opts[i]->def_elem)
			continue;
		const PgQuery__DefElem *de = opts[i]->def_elem;
		const char *v = const_text(de->arg, buf, sizeof(buf));
		if (str_eq(de->defname, "transaction_isolation") && ci_equal(v, "serializable"))
			d->flags |= SF_TX_SERIALIZABLE;
		else if (str_eq(de->defname, "transaction_read_only") && pg_bool(v) == 1)
			d->flags |= SF_TX_READ_ONLY;
		else if (str_eq(de->defname, "transaction_read_only") && pg_bool(v) == 0)
			d->flags |= SF_SETS_READ_WRITE;
	}
}

/* SET / RESET (section 3.1): BOTH, except settings that make the
 * transaction serializable or read-write, which go to the primary. */
static void decide_set(walker *w, const PgQuery__VariableSetStmt *vs, decision *d)
{
	char buf[24];
	d->dest = CLASS_SESSION;
	d->stat = STAT_OTHER;
	if (vs->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_MULTI) {
		/* SET TRANSACTION / SET SESSION CHARACTERISTICS AS TRANSACTION */
		tx_mode_flags(vs->args, vs->n_args, d);
	} else if (vs->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE && vs->n_args > 0) {
		const char *v = const_text(vs->args[0], buf, sizeof(buf));
		if (str_eq(vs->name, "transaction_read_only")) {
			w->b->cacheable = false;  /* 'on' and 'off' share a shape */
			int on = pg_bool(v);
			d->flags |= on == 0 ? SF_SETS_READ_WRITE : on == 1 ? SF_TX_READ_ONLY : 0;
		} else if (str_eq(vs->name, "transaction_isolation") ||
		           str_eq(vs->name, "default_transaction_isolation")) {
			w->b->cacheable = false;
			if (ci_equal(v, "serializable"))
				d->flags |= SF_TX_SERIALIZABLE;
		}
	}
	if (d->flags & (SF_TX_SERIALIZABLE | SF_SETS_READ_WRITE))
		d->dest = CLASS_WRITE;
}

static void decide_transaction(const PgQuery__TransactionStmt *ts, decision *d)
{
	d->dest = CLASS_TX;
	d->stat = STAT_OTHER;
	switch (ts->kind) {
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN:
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_START:
		d->tx = TX_BEGIN;
		d->flags |= SF_TX_BEGIN;
		tx_mode_flags(ts->options, ts->n_options, d);
		d->flags &= ~SF_SETS_READ_WRITE;  /* BEGIN READ WRITE is plain BEGIN */
		break;
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT:
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK:
		d->tx = ts->kind == PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT ? TX_COMMIT : TX_ROLLBACK;
		d->flags |= SF_TX_END | (ts->chain ? SF_TX_BEGIN : 0);
		break;
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT:
		d->tx = TX_SAVEPOINT;
		break;
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE:
		d->tx = TX_RELEASE;
		break;
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_TO:
		d->tx = TX_ROLLBACK_TO;
		break;
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_PREPARE:
		d->dest = CLASS_WRITE;
		d->tx = TX_PREPARE;
		d->flags |= SF_TWO_PHASE | SF_TX_END;
		break;
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT_PREPARED:
	case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_PREPARED:
		d->dest = CLASS_WRITE;
		d->tx = ts->kind == PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT_PREPARED
		        ? TX_COMMIT_PREPARED : TX_ROLLBACK_PREPARED;
		d->flags |= SF_TWO_PHASE;
		break;
	default:
		d->dest = CLASS_WRITE;
		break;
	}
}

static const struct {
	const char *name;
	pool_show_kind kind;
} pool_shows[] = {
	{ "pool_nodes", POOL_SHOW_NODES },
	{ "pool_status", POOL_SHOW_STATUS },
	{ "pool_processes", POOL_SHOW_PROCESSES },
	{ "pool_pools", POOL_SHOW_POOLS },
	{ "pool_version", POOL_SHOW_VERSION },
	{ "pool_cache", POOL_SHOW_CACHE },
	{ "pool_health_check_stats", POOL_SHOW_HEALTH_CHECK_STATS },
	{ "pool_backend_stats", POOL_SHOW_BACKEND_STATS },
};

/* The parser lower-cases unquoted names, so SHOW POOL_NODES matches too. */
static void decide_show(const PgQuery__VariableShowStmt *vs, decision *d)
{
	d->dest = CLASS_READ;
	d->stat = STAT_OTHER;
	for (size_t i = 0; i < sizeof(pool_shows) / sizeof(*pool_shows); i++)
		if (str_eq(vs->name, pool_shows[i].name)) {
			d->dest = CLASS_POOL_SHOW;
			d->pool_show = pool_shows[i].kind;
			d->stat = STAT_NONE;
		}
}

static void decide_select(walker *w, const PgQuery__SelectStmt *s, decision *d)
{
	d->stat = STAT_SELECT;
	d->dest = CLASS_READ;
	if (w->f.select_into) {
		d->flags |= SF_SELECT_INTO;
		if (s->into_clause)
			note_created(w, s->into_clause->rel, d);
	}
	if (w->f.locking)
		d->flags |= SF_LOCKING_READ;
	if (w->f.modifying)
		d->flags |= SF_MODIFYING_CTE;
	if (w->f.writing_func)
		d->flags |= SF_WRITING_FUNCTION;
	if (d->flags & (SF_SELECT_INTO | SF_LOCKING_READ | SF_MODIFYING_CTE | SF_WRITING_FUNCTION))
		d->dest = CLASS_WRITE;
}

/* EXPLAIN runs its statement only with ANALYZE. */
static void decide_explain(walker *w, const PgQuery__ExplainStmt *ex, decision *d)
{
	char buf[24];
	bool analyze = false;
	for (size_t i = 0; i < ex->n_options; i++) {
		const PgQuery__Node *o = ex->options[i];
		if (!o || o->node_case != PG_QUERY__NODE__NODE_DEF_ELEM || !o->def_elem ||
		    !str_eq(o->def_elem->defname, "analyze"))
			continue;
		if (!o->def_elem->arg) {
			analyze = true;
		} else {
			w->b->cacheable = false;  /* (ANALYZE 0) and (ANALYZE 1) share a shape */
			analyze = pg_bool(const_text(o->def_elem->arg, buf, sizeof(buf))) != 0;
		}
	}
	if (analyze && ex->query) {
		decision inner = { 0 };
		decide_node(w, ex->query, &inner);
		d->dest = inner.dest;
		d->flags |= inner.flags;
	} else {
		/* not executed: what the walk marked as written is not */
		d->dest = CLASS_READ;
		w->b->cls.written = w->written_before;
	}
	d->flags |= SF_EXPLAIN;
	d->stat = STAT_OTHER;
}

static void decide_copy(walker *w, const PgQuery__CopyStmt *cp, decision *d)
{
	d->stat = STAT_DDL;
	if (cp->is_from) {
		d->dest = CLASS_WRITE;
		note_range_var(w, cp->relation, REL_WRITTEN);
	} else if (cp->query) {
		/* COPY (SELECT ...) TO is a read unless the SELECT writes;
		 * COPY (INSERT ... RETURNING) TO is a write. */
		decision inner = { 0 };
		decide_node(w, cp->query, &inner);
		d->dest = inner.dest == CLASS_READ ? CLASS_READ : CLASS_WRITE;
		d->flags |= inner.flags;
	} else {
		d->dest = CLASS_READ;
	}
}

/* A created relation: TEMP (or in pg_temp) and UNLOGGED ones are flagged,
 * since only the primary has them. */
static void note_created(walker *w, const PgQuery__RangeVar *rv, decision *d)
{
	if (!rv)
		return;
	unsigned bits = REL_WRITTEN;
	if (str_eq(rv->relpersistence, "t") || is_temp_schema(rv->schemaname)) {
		d->flags |= SF_TEMP_TABLE_CREATE;
		bits |= REL_CREATED;
	} else if (str_eq(rv->relpersistence, "u")) {
		d->flags |= SF_UNLOGGED_TABLE_CREATE;
		bits |= REL_CREATED;
	}
	note_range_var(w, rv, bits);
}

/* DROP TABLE/VIEW/...: objects are name lists, not RangeVars. */
static void note_dropped(walker *w, const PgQuery__DropStmt *ds)
{
	switch (ds->remove_type) {
	case PG_QUERY__OBJECT_TYPE__OBJECT_TABLE:
	case PG_QUERY__OBJECT_TYPE__OBJECT_VIEW:
	case PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW:
	case PG_QUERY__OBJECT_TYPE__OBJECT_SEQUENCE:
	case PG_QUERY__OBJECT_TYPE__OBJECT_FOREIGN_TABLE:
		break;
	default:
		return;
	}
	for (size_t i = 0; i < ds->n_objects; i++) {
		const PgQuery__Node *o = ds->objects[i];
		if (!o || o->node_case != PG_QUERY__NODE__NODE_LIST || !o->list)
			continue;
		const PgQuery__List *l = o->list;
		const char *parts[3] = { NULL, NULL, NULL };
		if (l->n_items == 0 || l->n_items > 3)
			continue;
		for (size_t k = 0; k < l->n_items; k++)
			parts[k] = string_node(l->items[k]);
		char name[3 * 64 + 8];
		join_name(name, sizeof(name), parts[0], parts[1], parts[2]);
		if (name[0])
			builder_add_relation(w->b, name, REL_WRITTEN | REL_DROPPED);
	}
}

static void note_written_list(walker *w, PgQuery__Node *const *rels, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rels[i] && rels[i]->node_case == PG_QUERY__NODE__NODE_RANGE_VAR)
			note_range_var(w, rels[i]->range_var, REL_WRITTEN);
}

/* Utility statements that are not a plain "write + DDL counter". */
static bool decide_utility(walker *w, const PgQuery__Node *node, decision *d)
{
	switch (node->node_case) {
	case PG_QUERY__NODE__NODE_DISCARD_STMT:
		d->dest = CLASS_SESSION;
		d->stat = STAT_OTHER;
		if (node->discard_stmt->target == PG_QUERY__DISCARD_MODE__DISCARD_ALL) {
			d->flags |= SF_DISCARD_TEMP;
			d->ps = PS_DEALLOCATE_ALL;
		} else if (node->discard_stmt->target == PG_QUERY__DISCARD_MODE__DISCARD_TEMP) {
			d->flags |= SF_DISCARD_TEMP;
		}
		return true;
	case PG_QUERY__NODE__NODE_LOCK_STMT:
		/* modes >= RowExclusiveLock (3) conflict with a standby's recovery */
		d->dest = node->lock_stmt->mode >= 3 ? CLASS_WRITE : CLASS_SESSION;
		d->stat = STAT_OTHER;
		return true;
	case PG_QUERY__NODE__NODE_PREPARE_STMT: {
		decision inner = { 0 };
		if (node->prepare_stmt->query)
			decide_node(w, node->prepare_stmt->query, &inner);
		else
			inner.dest = CLASS_WRITE;
		d->dest = inner.dest;
		d->flags |= inner.flags;
		d->ps = PS_PREPARE;
		d->ps_name = node->prepare_stmt->name;
		d->stat = STAT_OTHER;
		return true;
	}
	case PG_QUERY__NODE__NODE_EXECUTE_STMT:
		d->dest = CLASS_WRITE;
		d->ps = PS_EXECUTE;
		d->ps_name = node->execute_stmt->name;
		d->stat = STAT_OTHER;
		return true;
	case PG_QUERY__NODE__NODE_DEALLOCATE_STMT:
		/* proto3: an absent name is "" */
		d->ps_name = node->deallocate_stmt->name && node->deallocate_stmt->name[0]
		             ? node->deallocate_stmt->name : NULL;
		d->ps = d->ps_name ? PS_DEALLOCATE : PS_DEALLOCATE_ALL;
		d->dest = d->ps_name ? CLASS_WRITE : CLASS_SESSION;
		d->stat = STAT_OTHER;
		return true;
	case PG_QUERY__NODE__NODE_LISTEN_STMT:
	case PG_QUERY__NODE__NODE_UNLISTEN_STMT:
		d->dest = CLASS_WRITE;
		d->flags |= SF_LISTEN;
		d->stat = STAT_OTHER;
		return true;
	case PG_QUERY__NODE__NODE_NOTIFY_STMT:
	case PG_QUERY__NODE__NODE_CHECK_POINT_STMT:
	case PG_QUERY__NODE__NODE_LOAD_STMT:
	case PG_QUERY__NODE__NODE_VACUUM_STMT:
		d->dest = CLASS_WRITE;
		d->stat = STAT_OTHER;
		return true;
	case PG_QUERY__NODE__NODE_DECLARE_CURSOR_STMT:
	case PG_QUERY__NODE__NODE_FETCH_STMT:
	case PG_QUERY__NODE__NODE_CLOSE_PORTAL_STMT:
		d->dest = CLASS_WRITE;
		d->flags |= SF_CURSOR;
		d->stat = STAT_DDL;  /* Pgpool-II counts these as DDL */
		return true;
	default:
		return false;
	}
}

/* DDL: always the primary; remember which relations it creates or changes. */
static void decide_ddl(walker *w, const PgQuery__Node *node, decision *d)
{
	d->dest = CLASS_WRITE;
	d->stat = STAT_DDL;
	switch (node->node_case) {
	case PG_QUERY__NODE__NODE_CREATEDB_STMT:
	case PG_QUERY__NODE__NODE_DROPDB_STMT:
	case PG_QUERY__NODE__NODE_ALTER_DATABASE_STMT:
	case PG_QUERY__NODE__NODE_ALTER_DATABASE_SET_STMT:
	case PG_QUERY__NODE__NODE_ALTER_DATABASE_REFRESH_COLL_STMT:
		d->flags |= SF_DATABASE_DDL;
		break;
	case PG_QUERY__NODE__NODE_RENAME_STMT:
		if (node->rename_stmt->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_DATABASE)
			d->flags |= SF_DATABASE_DDL;
		note_range_var(w, node->rename_stmt->relation, REL_WRITTEN);
		break;
	case PG_QUERY__NODE__NODE_CREATE_STMT:
		note_created(w, node->create_stmt->relation, d);
		break;
	case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
		if (node->create_table_as_stmt->into)
			note_created(w, node->create_table_as_stmt->into->rel, d);
		break;
	case PG_QUERY__NODE__NODE_VIEW_STMT:
		note_created(w, node->view_stmt->view, d);
		break;
	case PG_QUERY__NODE__NODE_CREATE_SEQ_STMT:
		note_created(w, node->create_seq_stmt->sequence, d);
		break;
	case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
		note_written_list(w, node->truncate_stmt->relations, node->truncate_stmt->n_relations);
		break;
	case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
		note_range_var(w, node->alter_table_stmt->relation, REL_WRITTEN);
		break;
	case PG_QUERY__NODE__NODE_REFRESH_MAT_VIEW_STMT:
		note_range_var(w, node->refresh_mat_view_stmt->relation, REL_WRITTEN);
		break;
	case PG_QUERY__NODE__NODE_DROP_STMT:
		note_dropped(w, node->drop_stmt);
		break;
	default:
		break;
	}
}

/* Section 3.1, one statement; the tree facts are already collected. */
static void decide_node(walker *w, const PgQuery__Node *node, decision *d)
{
	/* every member of the oneof is a pointer: a NULL one means no payload */
	if (!node || node->node_case == PG_QUERY__NODE__NODE__NOT_SET || !node->range_var) {
		d->dest = CLASS_WRITE;
		return;
	}
	switch (node->node_case) {
	case PG_QUERY__NODE__NODE_SELECT_STMT:
		decide_select(w, node->select_stmt, d);
		return;
	case PG_QUERY__NODE__NODE_INSERT_STMT:
		d->dest = CLASS_WRITE;
		d->stat = STAT_INSERT;
		return;
	case PG_QUERY__NODE__NODE_UPDATE_STMT:
		d->dest = CLASS_WRITE;
		d->stat = STAT_UPDATE;
		return;
	case PG_QUERY__NODE__NODE_DELETE_STMT:
		d->dest = CLASS_WRITE;
		d->stat = STAT_DELETE;
		return;
	case PG_QUERY__NODE__NODE_EXPLAIN_STMT:
		decide_explain(w, node->explain_stmt, d);
		return;
	case PG_QUERY__NODE__NODE_COPY_STMT:
		decide_copy(w, node->copy_stmt, d);
		return;
	case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT:
		decide_show(node->variable_show_stmt, d);
		return;
	case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT:
		decide_set(w, node->variable_set_stmt, d);
		return;
	case PG_QUERY__NODE__NODE_TRANSACTION_STMT:
		decide_transaction(node->transaction_stmt, d);
		return;
	default:
		if (!decide_utility(w, node, d))
			decide_ddl(w, node, d);
		return;
	}
}

/* ================================================================ parsing */

/* The parser's recursion is unchecked (libpg_query's stack_is_too_deep()
 * always says no), so bound it by the stack this thread has left. */
static uint32_t parse_budget(const classifier *c)
{
	uintptr_t sp = (uintptr_t) __builtin_frame_address(0);
	if (c->stack_lo == 0 || sp < c->stack_lo || sp > c->stack_hi)
		return BUDGET_UNKNOWN_STACK;
	size_t room = sp - c->stack_lo;
	if (room <= STACK_RESERVE)
		return 0;
	return (uint32_t) ((room - STACK_RESERVE) / STACK_PER_LEVEL);
}

/* Parse text[0..n) into *out.  false with *syntax_error when PostgreSQL
 * rejects it, false without when memory ran out. */
static bool parse_text(classifier *c, const char *text, size_t n, PgQuery__ParseResult **out,
                       bool *syntax_error)
{
	*out = NULL;
	*syntax_error = false;
	if (n + 1 > c->text_cap) {
		char *grown = malloc(n + 1);
		if (!grown)
			return false;
		free(c->text);
		c->text = grown;
		c->text_cap = n + 1;
	}
	memcpy(c->text, text, n);
	c->text[n] = '\0';
	c->stats.parses++;
	PgQueryProtobufParseResult r = pg_query_parse_protobuf(c->text);
	if (c->text_cap > TEXT_BUF_KEEP) {  /* do not keep a huge query's copy */
		free(c->text);
		c->text = NULL;
		c->text_cap = 0;
	}
	if (r.error) {
		*syntax_error = true;
		pg_query_free_protobuf_parse_result(r);
		return false;
	}
	*out = pg_query__parse_result__unpack(NULL, r.parse_tree.len, (const uint8_t *) r.parse_tree.data);
	pg_query_free_protobuf_parse_result(r);
	return *out != NULL;
}

static void builder_reset(builder *b)
{
	memset(&b->cls, 0, sizeof(b->cls));
	b->names_len = 0;
	b->ps_name_off = NAMES_MAX;
	b->cacheable = true;
}

static void builder_apply(builder *b, const decision *d)
{
	b->cls.dest = d->dest;
	b->cls.flags |= d->flags;
	b->cls.tx = d->tx;
	b->cls.ps = d->ps;
	b->cls.pool_show = d->pool_show;
	b->cls.stat = d->stat;
	if (d->ps_name && d->ps_name[0])
		b->ps_name_off = builder_add_name(b, d->ps_name);
}

/* All statements of one text.  More than one goes to the primary as a
 * whole, flags OR-ed; the counter (and a SHOW pool_* answer, as Pgpool-II
 * does) follow the first. */
static void decide_all(classifier *c, const PgQuery__ParseResult *pr, builder *b)
{
	walker w = { .c = c, .b = b, .depth_max = WALK_DEPTH_MAX };
	decision first = { 0 };
	uint32_t flags = 0;

	if (pr->n_stmts == 0) {
		b->cls.dest = CLASS_READ;
		b->cls.flags |= SF_EMPTY;
		return;
	}
	for (size_t i = 0; i < pr->n_stmts; i++) {
		const PgQuery__Node *node = pr->stmts[i] ? pr->stmts[i]->stmt : NULL;
		decision d = { 0 };
		memset(&w.f, 0, sizeof(w.f));
		w.written_before = b->cls.written;
		walk_message(&w, (const ProtobufCMessage *) node, 0);
		if (w.f.too_deep) {
			b->cls.dest = CLASS_WRITE;
			b->cls.flags |= SF_TOO_COMPLEX;
			return;
		}
		decide_node(&w, node, &d);
		if (i == 0)
			first = d;
		flags |= d.flags;
	}
	if (pr->n_stmts == 1) {
		builder_apply(b, &first);
		return;
	}
	b->cls.flags |= flags | SF_MULTI_STATEMENT;
	b->cls.stat = first.stat;
	b->cls.dest = CLASS_WRITE;
	if (first.dest == CLASS_POOL_SHOW) {
		b->cls.dest = CLASS_POOL_SHOW;
		b->cls.pool_show = first.pool_show;
	}
}

/* A miss: classify text (shape already built) into c->b. */
static void classify_text(classifier *c, const char *text, const sql_shape *sh)
{
	builder *b = &c->b;
	builder_reset(b);
	if (sh->weight > parse_budget(c)) {
		b->cls.dest = CLASS_WRITE;
		b->cls.flags = SF_TOO_COMPLEX;
		return;
	}
	PgQuery__ParseResult *pr;
	bool syntax_error;
	if (!parse_text(c, text, sh->text_len, &pr, &syntax_error)) {
		b->cls.dest = CLASS_WRITE;
		b->cls.flags = SF_PARSE_ERROR;
		b->cacheable = false;  /* an error may come from a literal's content */
		return;
	}
	decide_all(c, pr, b);
	pg_query__parse_result__free_unpacked(pr, NULL);
}

/* ================================================================ entry point */

static const stmt_class fallback_write = { .dest = CLASS_WRITE, .flags = SF_UNCACHED };

/* PGPOOL SHOW|SET|RESET: not SQL, so found by the lexer, never cached. */
static bool detect_pgpool(const char *s, size_t n, stmt_class *out)
{
	size_t p = sql_skip_blank(s, n, 0);
	size_t e = sql_word_end(s, n, p);
	if (!sql_word_is(s, p, e, "pgpool"))
		return false;
	p = sql_skip_blank(s, n, e);
	e = sql_word_end(s, n, p);
	pgpool_cmd cmd = sql_word_is(s, p, e, "show") ? PGPOOL_CMD_SHOW
	               : sql_word_is(s, p, e, "set") ? PGPOOL_CMD_SET
	               : sql_word_is(s, p, e, "reset") ? PGPOOL_CMD_RESET : PGPOOL_CMD_NONE;
	if (cmd == PGPOOL_CMD_NONE)
		return false;
	p = sql_skip_blank(s, n, e);
	size_t end = n;
	while (end > p && (is_blank_char(s[end - 1]) || s[end - 1] == ';'))
		end--;
	memset(out, 0, sizeof(*out));
	out->dest = CLASS_PGPOOL;
	out->pgpool = cmd;
	out->flags = SF_UNCACHED;
	out->arg_off = p;
	out->arg_len = end - p;
	return true;
}

/* Per call: copy the (possibly cached) class and apply the pattern list,
 * which looks at the full text and so cannot be cached by shape. */
static const stmt_class *finish(classifier *c, const stmt_class *cls, const char *sql, size_t n,
                                bool cached)
{
	c->result = *cls;
	if (!cached)
		c->result.flags |= SF_UNCACHED;
	if (c->patterns.n > 0 && c->result.dest == CLASS_READ &&
	    regex_list_match(c, &c->patterns, sql, n) != 0)
		c->result.flags |= SF_PATTERN_PRIMARY;
	return &c->result;
}

static const stmt_class *lexer_rejected(classifier *c)
{
	memset(&c->result, 0, sizeof(c->result));
	c->result.dest = CLASS_WRITE;
	c->result.flags = SF_PARSE_ERROR | SF_UNCACHED;
	return &c->result;
}

const stmt_class *classify(classifier *c, const char *sql, size_t len)
{
	sql_shape sh;
	if (!sql)
		len = 0;
	free(c->scratch);
	c->scratch = NULL;

	sql_shape_build(sql, len, c->shape, CLASSIFY_SHAPE_MAX, &sh);
	if (sh.status != SQL_SHAPE_OK)
		return lexer_rejected(c);
	if (sh.len >= 6 && memcmp(c->shape, "pgpool", 6) == 0 &&
	    detect_pgpool(sql, sh.text_len, &c->result))
		return &c->result;

	uint64_t h = sql_shape_hash(c->shape, sh.len, c->seed);
	if (!sh.truncated) {
		cache_entry *e = cache_find(c, h, c->shape, sh.len);
		if (e) {
			c->stats.hits++;
			e->referenced = true;
			return finish(c, &e->cls, sql, sh.text_len, true);
		}
	}
	c->stats.misses++;
	classify_text(c, sql, &sh);
	cache_entry *e = entry_from_builder(&c->b, c->shape, sh.truncated ? 0 : sh.len, h);
	if (!e)
		return finish(c, &fallback_write, sql, sh.text_len, false);
	if (c->b.cacheable && !sh.truncated && cache_insert(c, e))
		return finish(c, &e->cls, sql, sh.text_len, true);
	c->stats.uncached++;
	c->scratch = e;
	return finish(c, &e->cls, sql, sh.text_len, false);
}

/* ================================================================ life cycle */

/* libpg_query's first parse in a thread creates a pthread key in a shared
 * static without locking: do it here, serialised, rather than racing on
 * the first query of several workers. */
static void warm_up_parser(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&lock);
	PgQueryProtobufParseResult r = pg_query_parse_protobuf("SELECT 1");
	pg_query_free_protobuf_parse_result(r);
	pthread_mutex_unlock(&lock);
}

static void record_stack(classifier *c)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;
	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return;
	if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
		c->stack_lo = (uintptr_t) addr;
		c->stack_hi = (uintptr_t) addr + size;
	}
	pthread_attr_destroy(&attr);
}

static bool cache_alloc(classifier *c, unsigned entries, size_t bytes)
{
	size_t nbuckets = 16;
	while (nbuckets < 2 * (size_t) entries)
		nbuckets <<= 1;
	c->capacity = entries;
	c->max_bytes = bytes;
	c->bucket_mask = nbuckets - 1;
	c->buckets = calloc(nbuckets, sizeof(*c->buckets));
	c->ring = calloc(entries, sizeof(*c->ring));
	c->free_slots = malloc(entries * sizeof(*c->free_slots));
	if (!c->buckets || !c->ring || !c->free_slots)
		return false;
	for (unsigned i = 0; i < entries; i++)
		c->free_slots[i] = entries - 1 - i;
	c->nfree = entries;
	return true;
}

static bool has_entries(const char *list)
{
	for (const char *p = list; p && *p; p++)
		if (!is_blank_char(*p) && *p != ',')
			return true;
	return false;
}

static bool compile_lists(classifier *c, const classifier_options *o, char *err, size_t errlen)
{
	if (has_entries(o->write_function_list) && has_entries(o->read_only_function_list)) {
		err_appendf(err, errlen,
		            "write_function_list and read_only_function_list cannot both be set");
		return false;
	}
	if (!regex_list_compile(&c->write_funcs, o->write_function_list, ',', PCRE2_CASELESS,
	                        "write_function_list", err, errlen) ||
	    !regex_list_compile(&c->readonly_funcs, o->read_only_function_list, ',', PCRE2_CASELESS,
	                        "read_only_function_list", err, errlen) ||
	    /* POSIX regexec, which Pgpool uses, lets '.' match a newline */
	    !regex_list_compile(&c->patterns, o->primary_routing_query_pattern_list, ';',
	                        PCRE2_CASELESS | PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY,
	                        "primary_routing_query_pattern_list", err, errlen))
		return false;
	c->match_data = pcre2_match_data_create(1, NULL);
	c->match_ctx = pcre2_match_context_create(NULL);
	if (!c->match_data || !c->match_ctx) {
		err_appendf(err, errlen, "classifier: out of memory");
		return false;
	}
	pcre2_set_match_limit(c->match_ctx, REGEX_MATCH_LIMIT);
	return true;
}

classifier *classifier_new_opts(const classifier_options *opts, char *err, size_t errlen)
{
	classifier_options o = opts ? *opts : (classifier_options) { 0 };
	classifier *c = calloc(1, sizeof(*c));
	if (!c) {
		err_appendf(err, errlen, "classifier: out of memory");
		return NULL;
	}
	if (!compile_lists(c, &o, err, errlen))
		goto fail;
	c->shape = malloc(CLASSIFY_SHAPE_MAX);
	if (!c->shape || !cache_alloc(c, o.cache_entries ? o.cache_entries : CLASSIFY_CACHE_ENTRIES,
	                              o.cache_bytes ? o.cache_bytes : CLASSIFY_CACHE_BYTES)) {
		err_appendf(err, errlen, "classifier: out of memory");
		goto fail;
	}
	if (!random_bytes(&c->seed, sizeof(c->seed)))
		c->seed = (uint64_t) (uintptr_t) c ^ 0x9e3779b97f4a7c15ULL;
	record_stack(c);
	warm_up_parser();
	return c;
fail:
	classifier_free(c);
	return NULL;
}

classifier *classifier_new(const char *write_function_list, const char *read_only_function_list,
                           const char *primary_routing_query_pattern_list, char *err, size_t errlen)
{
	classifier_options o = {
		.write_function_list = write_function_list,
		.read_only_function_list = read_only_function_list,
		.primary_routing_query_pattern_list = primary_routing_query_pattern_list,
	};
	return classifier_new_opts(&o, err, errlen);
}

/* libpg_query's per-thread memory is released by its own thread-exit hook
 * (calling pg_query_exit() here would free it twice). */
void classifier_free(classifier *c)
{
	if (!c)
		return;
	cache_free_all(c);
	free(c->buckets);
	free(c->ring);
	free(c->free_slots);
	free(c->scratch);
	free(c->shape);
	free(c->text);
	regex_list_free(&c->write_funcs);
	regex_list_free(&c->readonly_funcs);
	regex_list_free(&c->patterns);
	pcre2_match_data_free(c->match_data);
	pcre2_match_context_free(c->match_ctx);
	free(c);
}

void classifier_get_stats(const classifier *c, classifier_stats *out)
{
	*out = c->stats;
}

const char *stmt_dest_name(stmt_dest d)
{
	switch (d) {
	case CLASS_READ: return "read";
	case CLASS_WRITE: return "write";
	case CLASS_SESSION: return "session";
	case CLASS_TX: return "transaction";
	case CLASS_POOL_SHOW: return "pool_show";
	case CLASS_PGPOOL: return "pgpool";
	}
	return "?";
}
