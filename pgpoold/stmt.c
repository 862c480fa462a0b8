/* Prepared statement and portal tracking: see stmt.h.  Sessions hold few of
 * them (a driver's statement cache), so lists are enough. */
#include "stmt.h"

#include <stdlib.h>
#include <string.h>

pstmt *stmt_find(stmt_table *t, const char *name)
{
	for (pstmt *p = t->stmts; p; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static void stmt_destroy(pstmt *p)
{
	free(p->name);
	free(p->parse_msg);
	free(p);
}

void stmt_remove(stmt_table *t, const char *name)
{
	for (pstmt **pp = &t->stmts; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->name, name) == 0) {
			pstmt *p = *pp;
			*pp = p->next;
			stmt_destroy(p);
			t->num_stmts--;
			return;
		}
	}
}

pstmt *stmt_add(stmt_table *t, const char *name, const uint8_t *msg, size_t len, int route_class, uint32_t flags)
{
	pstmt *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->name = strdup(name);
	p->parse_msg = malloc(len);
	if (!p->name || !p->parse_msg) {
		stmt_destroy(p);
		return NULL;
	}
	memcpy(p->parse_msg, msg, len);
	p->parse_len = len;
	p->route_class = route_class;
	p->route_flags = flags;
	stmt_remove(t, name);
	p->next = t->stmts;
	t->stmts = p;
	t->num_stmts++;
	return p;
}

portal *portal_find(stmt_table *t, const char *name)
{
	for (portal *p = t->portals; p; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static void portal_destroy(portal *p)
{
	free(p->name);
	free(p->sql);
	free(p);
}

void portal_remove(stmt_table *t, const char *name)
{
	for (portal **pp = &t->portals; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->name, name) == 0) {
			portal *p = *pp;
			*pp = p->next;
			portal_destroy(p);
			t->num_portals--;
			return;
		}
	}
}

portal *portal_add(stmt_table *t, const char *name)
{
	portal_remove(t, name);
	portal *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->name = strdup(name);
	if (!p->name) {
		free(p);
		return NULL;
	}
	p->next = t->portals;
	t->portals = p;
	t->num_portals++;
	return p;
}

void portal_clear_named(stmt_table *t)
{
	for (portal **pp = &t->portals; *pp;) {
		if ((*pp)->name[0]) {
			portal *p = *pp;
			*pp = p->next;
			portal_destroy(p);
			t->num_portals--;
		} else
			pp = &(*pp)->next;
	}
}

void stmt_table_free(stmt_table *t)
{
	while (t->stmts) {
		pstmt *p = t->stmts;
		t->stmts = p->next;
		stmt_destroy(p);
	}
	while (t->portals) {
		portal *p = t->portals;
		t->portals = p->next;
		portal_destroy(p);
	}
	t->num_stmts = t->num_portals = 0;
}
