/* pool_hba.conf: parsing and matching, see pool_hba.h.
 *
 * The tokenizer follows PostgreSQL's hba.c: fields are separated by blanks,
 * a field may be a comma-separated list, '#' starts a comment, double quotes
 * group characters (and "" inside quotes is a literal quote), and a quoted
 * token never has keyword meaning ("all" quoted is a database named all).
 * Unlike PostgreSQL we cannot resolve host names or see role membership,
 * so those forms are configuration errors rather than silent non-matches. */
#include "pool_hba.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HBA_MAX_FILE (16u * 1024u * 1024u)
#define HBA_MSG_MAX 512         /* one error message before the file:line prefix */

typedef struct hba_token {
	char *text;
	bool quoted;
} hba_token;

/* One field: a comma-separated list of tokens. */
typedef struct hba_field {
	hba_token *tokens;
	size_t count;
} hba_field;

/* One tokenized line. */
typedef struct hba_fields {
	hba_field *items;
	size_t count;
} hba_fields;

typedef enum hba_addr_kind {
	ADDR_NONE,              /* local lines */
	ADDR_ALL,
	ADDR_SAMEHOST,
	ADDR_SAMENET,
	ADDR_RANGE
} hba_addr_kind;

typedef struct ip_range {
	int family;             /* AF_INET or AF_INET6 */
	uint8_t addr[16];       /* 4 bytes used for AF_INET */
	uint8_t mask[16];
} ip_range;

typedef struct hba_line {
	int lineno;
	hba_conn_type conn_type;
	hba_field databases;
	hba_field users;
	hba_addr_kind addr_kind;
	ip_range range;
	hba_method method;
} hba_line;

struct hba_rules {
	hba_line *lines;
	size_t count;
};

/* Where errors go while parsing. */
typedef struct hba_parse_ctx {
	const char *fname;
	int lineno;
	char *err;
	size_t errlen;
	bool failed;
} hba_parse_ctx;

static void line_error(hba_parse_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line_error(hba_parse_ctx *ctx, const char *fmt, ...)
{
	char msg[HBA_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_appendf(ctx->err, ctx->errlen, "%s:%d: %s", ctx->fname, ctx->lineno, msg);
	ctx->failed = true;
}

static bool is_keyword(const hba_token *t, const char *keyword)
{
	return !t->quoted && strcmp(t->text, keyword) == 0;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* ================================================================ freeing */

static void field_free(hba_field *f)
{
	for (size_t i = 0; i < f->count; i++)
		free(f->tokens[i].text);
	free(f->tokens);
	f->tokens = NULL;
	f->count = 0;
}

static void fields_free(hba_fields *fs)
{
	for (size_t i = 0; i < fs->count; i++)
		field_free(&fs->items[i]);
	free(fs->items);
	fs->items = NULL;
	fs->count = 0;
}

void hba_free(hba_rules *rules)
{
	if (!rules)
		return;
	for (size_t i = 0; i < rules->count; i++) {
		field_free(&rules->lines[i].databases);
		field_free(&rules->lines[i].users);
	}
	free(rules->lines);
	free(rules);
}

/* ================================================================ tokenizer */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

typedef struct token_result {
	bool quoted;
	bool comma_follows;     /* the token ended at an unquoted ',' */
	bool unterminated;      /* a quote was still open at end of line */
} token_result;

/* Read one token of the NUL-terminated line at *pos into buf (which has
 * room for the whole line).  False if there was no token: end of line, a
 * comment, or an empty token before a comma. */
static bool next_token(const char **pos, char *buf, token_result *res)
{
	const char *p = *pos;
	char *out = buf;
	bool in_quote = false, was_quote = false;
	memset(res, 0, sizeof(*res));

	while (is_blank(*p))
		p++;
	while (*p != '\0' && (in_quote || !is_blank(*p))) {
		if (*p == '#' && !in_quote) {
			p += strlen(p);         /* comment: the rest of the line */
			break;
		}
		if (*p == ',' && !in_quote) {
			res->comma_follows = true;
			p++;
			break;
		}
		if (*p != '"' || was_quote)
			*out++ = *p;
		/* inside quotes, "" is one literal quote */
		was_quote = in_quote && *p == '"' ? !was_quote : false;
		if (*p == '"') {
			in_quote = !in_quote;
			res->quoted = true;
		}
		p++;
	}
	*out = '\0';
	res->unterminated = in_quote;
	*pos = p;
	return res->quoted || out > buf;
}

static bool field_append(hba_field *f, const char *text, bool quoted)
{
	hba_token *n = realloc(f->tokens, (f->count + 1) * sizeof(*n));
	if (!n)
		return false;
	f->tokens = n;
	char *copy = strdup(text);
	if (!copy)
		return false;
	f->tokens[f->count].text = copy;
	f->tokens[f->count].quoted = quoted;
	f->count++;
	return true;
}

static bool fields_append(hba_fields *fs, hba_field *f)
{
	hba_field *n = realloc(fs->items, (fs->count + 1) * sizeof(*n));
	if (!n)
		return false;
	fs->items = n;
	fs->items[fs->count++] = *f;
	return true;
}

typedef enum tokenize_result { TOK_OK, TOK_ERROR, TOK_NOMEM } tokenize_result;

/* One field: tokens while each is followed by a comma.  Empty if none. */
static tokenize_result read_field(hba_parse_ctx *ctx, const char **pos, char *buf, hba_field *f)
{
	token_result res;
	memset(f, 0, sizeof(*f));
	do {
		if (!next_token(pos, buf, &res))
			break;
		if (res.unterminated) {
			line_error(ctx, "unterminated quoted string");
			return TOK_ERROR;
		}
		if (!field_append(f, buf, res.quoted))
			return TOK_NOMEM;
	} while (res.comma_follows);
	return TOK_OK;
}

/* Split a NUL-terminated line into fields (empty fields are dropped, as
 * PostgreSQL does). */
static tokenize_result tokenize_line(hba_parse_ctx *ctx, const char *line, hba_fields *out)
{
	memset(out, 0, sizeof(*out));
	char *buf = malloc(strlen(line) + 1);
	if (!buf)
		return TOK_NOMEM;
	const char *pos = line;
	tokenize_result r = TOK_OK;
	while (*pos != '\0' && r == TOK_OK) {
		hba_field f;
		r = read_field(ctx, &pos, buf, &f);
		if (r == TOK_OK && f.count > 0 && !fields_append(out, &f))
			r = TOK_NOMEM;
		if (r != TOK_OK || f.count == 0)
			field_free(&f);
	}
	free(buf);
	if (r != TOK_OK)
		fields_free(out);
	return r;
}

/* ================================================================ line parser */

/* The single token of field idx, or NULL after reporting why not. */
static const hba_token *single_token(hba_parse_ctx *ctx, const hba_fields *fs, size_t idx,
	const char *what)
{
	if (idx >= fs->count) {
		line_error(ctx, "end-of-line before %s", what);
		return NULL;
	}
	if (fs->items[idx].count != 1) {
		line_error(ctx, "multiple values specified for %s", what);
		return NULL;
	}
	return &fs->items[idx].tokens[0];
}

static bool parse_conn_type(hba_parse_ctx *ctx, const hba_fields *fs, hba_line *line)
{
	const hba_token *t = single_token(ctx, fs, 0, "connection type");
	if (!t)
		return false;
	if (strcmp(t->text, "local") == 0)
		line->conn_type = HBA_LOCAL;
	else if (strcmp(t->text, "host") == 0)
		line->conn_type = HBA_HOST;
	else if (strcmp(t->text, "hostssl") == 0)
		line->conn_type = HBA_HOSTSSL;
	else if (strcmp(t->text, "hostnossl") == 0)
		line->conn_type = HBA_HOSTNOSSL;
	else if (strcmp(t->text, "hostgssenc") == 0 || strcmp(t->text, "hostnogssenc") == 0) {
		line_error(ctx, "connection type \"%s\" is not supported (no GSSAPI encryption)", t->text);
		return false;
	} else {
		line_error(ctx, "invalid connection type \"%s\"", t->text);
		return false;
	}
	return true;
}

/* Database and user lists: reject the forms we cannot evaluate. */
static bool check_name_list(hba_parse_ctx *ctx, const hba_field *f, bool is_user_list)
{
	for (size_t i = 0; i < f->count; i++) {
		const hba_token *t = &f->tokens[i];
		if (t->quoted)
			continue;
		if (!is_user_list && (strcmp(t->text, "samerole") == 0 || strcmp(t->text, "samegroup") == 0)) {
			line_error(ctx, "\"%s\" is not supported in pool_hba.conf", t->text);
			return false;
		}
		if (t->text[0] == '@') {
			line_error(ctx, "file inclusion \"%s\" is not supported in pool_hba.conf", t->text);
			return false;
		}
		if (is_user_list && t->text[0] == '+') {
			line_error(ctx, "group membership \"%s\" is not supported in pool_hba.conf", t->text);
			return false;
		}
	}
	return true;
}

/* Move field idx of fs into *dst (fs keeps an empty field). */
static bool take_name_list(hba_parse_ctx *ctx, hba_fields *fs, size_t idx, const char *what,
	bool is_user_list, hba_field *dst)
{
	if (idx >= fs->count) {
		line_error(ctx, "end-of-line before %s specification", what);
		return false;
	}
	if (!check_name_list(ctx, &fs->items[idx], is_user_list))
		return false;
	*dst = fs->items[idx];
	memset(&fs->items[idx], 0, sizeof(fs->items[idx]));
	return true;
}

/* Numeric IPv4 or IPv6 address; no name resolution. */
static bool parse_ip(const char *text, int *family, uint8_t out[16])
{
	if (inet_pton(AF_INET, text, out) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, out) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

static bool prefix_to_mask(const char *text, int family, uint8_t mask[16])
{
	size_t len = strlen(text);
	unsigned bits = 0, max_bits = family == AF_INET ? 32 : 128;
	if (len == 0 || len > 3)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		bits = bits * 10 + (unsigned) (text[i] - '0');
	}
	if (bits > max_bits)
		return false;
	memset(mask, 0, 16);
	for (unsigned i = 0; i < bits; i++)
		mask[i / 8] |= (uint8_t) (0x80u >> (i % 8));
	return true;
}

/* "addr/bits" */
static bool parse_cidr(hba_parse_ctx *ctx, const char *text, ip_range *range)
{
	char *copy = strdup(text);
	if (!copy) {
		line_error(ctx, "out of memory");
		return false;
	}
	char *slash = strchr(copy, '/');
	*slash = '\0';
	bool ok = parse_ip(copy, &range->family, range->addr);
	if (!ok)
		line_error(ctx, "invalid IP address \"%s\"", text);
	else if (!(ok = prefix_to_mask(slash + 1, range->family, range->mask)))
		line_error(ctx, "invalid CIDR mask in address \"%s\"", text);
	free(copy);
	return ok;
}

/* Separate mask column after a bare address. */
static bool parse_mask_field(hba_parse_ctx *ctx, const hba_fields *fs, size_t idx, ip_range *range)
{
	const hba_token *t = single_token(ctx, fs, idx, "netmask");
	if (!t)
		return false;
	int family;
	uint8_t mask[16];
	if (!parse_ip(t->text, &family, mask)) {
		line_error(ctx, "invalid IP mask \"%s\"", t->text);
		return false;
	}
	if (family != range->family) {
		line_error(ctx, "IP address and mask do not match");
		return false;
	}
	memcpy(range->mask, mask, sizeof(mask));
	return true;
}

/* The address field at *idx (and a mask field after it); advances *idx. */
static bool parse_address(hba_parse_ctx *ctx, const hba_fields *fs, size_t *idx, hba_line *line)
{
	const hba_token *t = single_token(ctx, fs, *idx, "IP address specification");
	if (!t)
		return false;
	(*idx)++;
	if (is_keyword(t, "all"))
		line->addr_kind = ADDR_ALL;
	else if (is_keyword(t, "samehost"))
		line->addr_kind = ADDR_SAMEHOST;
	else if (is_keyword(t, "samenet"))
		line->addr_kind = ADDR_SAMENET;
	else if (strchr(t->text, '/')) {
		line->addr_kind = ADDR_RANGE;
		return parse_cidr(ctx, t->text, &line->range);
	} else if (parse_ip(t->text, &line->range.family, line->range.addr)) {
		line->addr_kind = ADDR_RANGE;
		return parse_mask_field(ctx, fs, (*idx)++, &line->range);
	} else {
		line_error(ctx, "host names are not supported: \"%s\" (use an IP address, CIDR range, "
			"all, samehost or samenet)", t->text);
		return false;
	}
	return true;
}

static bool parse_method(hba_parse_ctx *ctx, const hba_fields *fs, size_t idx, hba_line *line)
{
	static const struct { const char *name; hba_method method; } methods[] = {
		{ "trust", HBA_TRUST }, { "reject", HBA_REJECT }, { "password", HBA_PASSWORD },
		{ "md5", HBA_MD5 }, { "scram-sha-256", HBA_SCRAM }, { "cert", HBA_CERT },
	};
	static const char *const unsupported[] = {
		"ident", "peer", "pam", "ldap", "radius", "gss", "sspi", "bsd", "krb5", "crypt",
	};
	const hba_token *t = single_token(ctx, fs, idx, "authentication method");
	if (!t)
		return false;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (strcmp(t->text, methods[i].name) == 0) {
			line->method = methods[i].method;
			return true;
		}
	}
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		if (strcmp(t->text, unsupported[i]) == 0) {
			line_error(ctx, "authentication method \"%s\" is not supported", t->text);
			return false;
		}
	}
	line_error(ctx, "invalid authentication method \"%s\"", t->text);
	return false;
}

/* Options are accepted (and ignored) as long as they look like name=value. */
static bool check_options(hba_parse_ctx *ctx, const hba_fields *fs, size_t first)
{
	for (size_t i = first; i < fs->count; i++) {
		for (size_t j = 0; j < fs->items[i].count; j++) {
			const char *text = fs->items[i].tokens[j].text;
			const char *eq = strchr(text, '=');
			if (!eq || eq == text) {
				line_error(ctx, "authentication option not in name=value format: %s", text);
				return false;
			}
		}
	}
	return true;
}

/* Fields of one non-empty line into *line.  False after reporting. */
static bool parse_line(hba_parse_ctx *ctx, hba_fields *fs, hba_line *line)
{
	size_t idx = 3;     /* after type, database, user */
	if (!parse_conn_type(ctx, fs, line) ||
		!take_name_list(ctx, fs, 1, "database", false, &line->databases) ||
		!take_name_list(ctx, fs, 2, "role", true, &line->users))
		return false;
	if (line->conn_type != HBA_LOCAL && !parse_address(ctx, fs, &idx, line))
		return false;
	if (!parse_method(ctx, fs, idx, line) || !check_options(ctx, fs, idx + 1))
		return false;
	if (line->method == HBA_CERT && line->conn_type != HBA_HOSTSSL) {
		line_error(ctx, "cert authentication is only supported on hostssl connections");
		return false;
	}
	return true;
}

static bool rules_append(hba_rules *rules, size_t *cap, const hba_line *line)
{
	if (rules->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		hba_line *n = realloc(rules->lines, ncap * sizeof(*n));
		if (!n)
			return false;
		rules->lines = n;
		*cap = ncap;
	}
	rules->lines[rules->count++] = *line;
	return true;
}

/* Tokenize and parse one line (NUL-terminated copy); appends a rule if it
 * has one.  False only when out of memory. */
static bool parse_one_line(hba_parse_ctx *ctx, const char *text, hba_rules *rules, size_t *cap)
{
	hba_fields fs;
	tokenize_result tr = tokenize_line(ctx, text, &fs);
	if (tr != TOK_OK)
		return tr != TOK_NOMEM;
	if (fs.count == 0)
		return true;    /* blank or comment */
	hba_line line;
	memset(&line, 0, sizeof(line));
	line.lineno = ctx->lineno;
	bool ok = parse_line(ctx, &fs, &line);
	fields_free(&fs);
	if (ok && rules_append(rules, cap, &line))
		return true;
	field_free(&line.databases);
	field_free(&line.users);
	return !ok;     /* a reported error is not a memory failure */
}

hba_rules *hba_parse(const char *text, size_t len, const char *fname, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	hba_parse_ctx ctx = { fname ? fname : "pool_hba.conf", 0, err, errlen, false };
	hba_rules *rules = calloc(1, sizeof(*rules));
	if (!rules)
		return NULL;
	size_t cap = 0;
	const char *p = text, *end = text ? text + len : text;
	bool nomem = false;
	while (p && p < end && !nomem) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		size_t line_len = (size_t) ((nl ? nl : end) - p);
		ctx.lineno++;
		if (memchr(p, '\0', line_len)) {
			line_error(&ctx, "line contains a NUL byte");
		} else {
			char *line = strndup(p, line_len);
			nomem = !line || !parse_one_line(&ctx, line, rules, &cap);
			free(line);
		}
		p = nl ? nl + 1 : end;
	}
	if (nomem)
		line_error(&ctx, "out of memory");
	if (ctx.failed) {
		hba_free(rules);
		return NULL;
	}
	return rules;
}

hba_rules *hba_load(const char *path, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!path) {
		err_appendf(err, errlen, "no pool_hba.conf file name");
		return NULL;
	}
	size_t len = 0;
	char *text = file_read_all(path, HBA_MAX_FILE, &len);
	if (!text) {
		err_appendf(err, errlen, "%s: could not read file: %s", path, strerror(errno));
		return NULL;
	}
	hba_rules *rules = hba_parse(text, len, path, err, errlen);
	free(text);
	return rules;
}

/* ================================================================ matching */

static bool conn_type_matches(hba_conn_type type, const hba_client *c)
{
	switch (type) {
	case HBA_LOCAL:
		return c->is_local;
	case HBA_HOST:
		return !c->is_local;
	case HBA_HOSTSSL:
		return !c->is_local && c->is_ssl;
	case HBA_HOSTNOSSL:
		return !c->is_local && !c->is_ssl;
	}
	return false;
}

static bool database_matches(const hba_field *dbs, const char *database, const char *user)
{
	for (size_t i = 0; i < dbs->count; i++) {
		const hba_token *t = &dbs->tokens[i];
		if (is_keyword(t, "all"))
			return true;
		if (is_keyword(t, "sameuser")) {
			if (strcmp(database, user) == 0)
				return true;
			continue;
		}
		if (is_keyword(t, "replication"))
			continue;   /* physical replication connections are not proxied */
		if (strcmp(t->text, database) == 0)
			return true;
	}
	return false;
}

static bool user_matches(const hba_field *users, const char *user)
{
	for (size_t i = 0; i < users->count; i++) {
		const hba_token *t = &users->tokens[i];
		if (is_keyword(t, "all") || strcmp(t->text, user) == 0)
			return true;
	}
	return false;
}

/* Raw address bytes of an AF_INET / AF_INET6 sockaddr of at least salen bytes. */
static bool sockaddr_bytes(const struct sockaddr *sa, size_t salen, int *family, uint8_t out[16])
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		memcpy(out, &((const struct sockaddr_in *) sa)->sin_addr, 4);
		*family = AF_INET;
		return true;
	}
	if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
		memcpy(out, &((const struct sockaddr_in6 *) sa)->sin6_addr, 16);
		*family = AF_INET6;
		return true;
	}
	return false;
}

/* The client's address; an IPv4-mapped IPv6 address (::ffff:a.b.c.d, what
 * a dual-stack socket reports for IPv4 peers) becomes the IPv4 address it
 * is, so that IPv4 rules apply to it. */
static bool client_ip(const struct sockaddr *sa, size_t salen, int *family, uint8_t out[16])
{
	if (!sockaddr_bytes(sa, salen, family, out))
		return false;
	static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (*family == AF_INET6 && memcmp(out, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
		memmove(out, out + 12, 4);
		*family = AF_INET;
	}
	return true;
}

static bool masked_equal(const uint8_t *a, const uint8_t *b, const uint8_t *mask, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((a[i] & mask[i]) != (b[i] & mask[i]))
			return false;
	return true;
}

/* samehost: the client is one of our interface addresses; samenet: it is
 * on one of our interfaces' networks.  Interfaces can change at run time,
 * so they are read at each check (as PostgreSQL does). */
static bool local_interface_matches(bool same_net, int family, const uint8_t *addr)
{
	struct ifaddrs *list = NULL;
	if (getifaddrs(&list) != 0)
		return false;
	static const uint8_t all_ones[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	bool found = false;
	for (struct ifaddrs *ifa = list; ifa && !found; ifa = ifa->ifa_next) {
		int if_family, mask_family;
		uint8_t if_addr[16], if_mask[16];
		/* getifaddrs gives full-size sockaddrs of the family they claim */
		if (!sockaddr_bytes(ifa->ifa_addr, sizeof(struct sockaddr_in6), &if_family, if_addr) ||
			if_family != family)
			continue;
		const uint8_t *mask = all_ones;
		if (same_net) {
			if (!sockaddr_bytes(ifa->ifa_netmask, sizeof(struct sockaddr_in6), &mask_family, if_mask) ||
				mask_family != family)
				continue;
			mask = if_mask;
		}
		found = masked_equal(addr, if_addr, mask, addr_len(family));
	}
	freeifaddrs(list);
	return found;
}

static bool address_matches(const hba_line *line, const hba_client *c)
{
	if (line->addr_kind == ADDR_NONE || line->addr_kind == ADDR_ALL)
		return true;
	int family;
	uint8_t addr[16];
	if (!client_ip(c->addr, (size_t) c->addrlen, &family, addr))
		return false;
	switch (line->addr_kind) {
	case ADDR_SAMEHOST:
		return local_interface_matches(false, family, addr);
	case ADDR_SAMENET:
		return local_interface_matches(true, family, addr);
	case ADDR_RANGE:
		return family == line->range.family &&
			masked_equal(addr, line->range.addr, line->range.mask, addr_len(family));
	default:
		return false;
	}
}

hba_match hba_check(const hba_rules *rules, const hba_client *client)
{
	hba_match m = { false, HBA_REJECT, 0 };
	if (!rules || !client)
		return m;
	const char *user = client->user ? client->user : "";
	const char *database = client->database ? client->database : "";
	for (size_t i = 0; i < rules->count; i++) {
		const hba_line *line = &rules->lines[i];
		/* cheap tests first: address matching may list interfaces */
		if (conn_type_matches(line->conn_type, client) &&
			database_matches(&line->databases, database, user) &&
			user_matches(&line->users, user) &&
			address_matches(line, client)) {
			m.matched = true;
			m.method = line->method;
			m.lineno = line->lineno;
			return m;
		}
	}
	return m;
}

const char *hba_method_name(hba_method m)
{
	switch (m) {
	case HBA_TRUST:
		return "trust";
	case HBA_REJECT:
		return "reject";
	case HBA_PASSWORD:
		return "password";
	case HBA_MD5:
		return "md5";
	case HBA_SCRAM:
		return "scram-sha-256";
	case HBA_CERT:
		return "cert";
	}
	return "unknown";
}
