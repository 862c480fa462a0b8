/* bench/booking/booking.c - the booking workload against three proxies
 * (auth, event, ticket), as the booking services would drive them.
 *
 *   booking --auth CONNINFO --event CONNINFO --ticket CONNINFO [options]
 *   booking --setup ...      create and fill the bk_* tables first (through
 *                            the proxies; writes go to the primaries)
 *
 * Every worker thread holds one connection to one service, as an
 * application's connection pool would, and loops until --duration ends:
 *
 *   auth    70 % validate a session token it created earlier (read);
 *           30 % login: read the user by e-mail, then BEGIN; INSERT a
 *           session; UPDATE users.last_login; COMMIT; then read the
 *           session back at once through the same connection.
 *   event   60 % catalogue page (read), 37 % event details (read),
 *           3 % organiser update: UPDATE ... RETURNING version, then read
 *           the version back at once.
 *   ticket  25 % seat map of an event (read);
 *           75 % reservation: read the free seats of an event (mostly one
 *           of a few hot events, so clients compete for the same seats),
 *           pick one, BEGIN; SELECT ... FOR UPDATE the seat; if free,
 *           UPDATE it and INSERT the booking (UNIQUE (event_id, seat_no));
 *           COMMIT; then read the booking back at once.
 *
 * A "stale read" is a read, through the same connection, that does not show
 * a write this connection committed before it (the session read back, an
 * earlier session token, the event version, the booking).  With
 * causal_reads = on it must be 0.  "Double bookings" are seats with two
 * bookings, a booking whose seat row names someone else, or a seat two
 * clients were both told they got; it must be 0.
 *
 * Reads served by standbys come from SHOW pool_nodes (select_cnt per node,
 * before and after the run), asked of each service's proxy.
 *
 * Build: cc -O2 -pthread -o booking booking.c -I$(pg_config --includedir) -lpq
 */
#define _GNU_SOURCE
#include <libpq-fe.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { SVC_AUTH, SVC_EVENT, SVC_TICKET, NSVC };
static const char *const svc_name[NSVC] = { "auth", "event", "ticket" };

enum {
	OP_LOGIN, OP_VALIDATE,                       /* auth */
	OP_CATALOGUE, OP_DETAILS, OP_EVENT_UPDATE,   /* event */
	OP_SEATMAP, OP_RESERVE,                      /* ticket */
	NOPS
};
static const char *const op_name[NOPS] = {
	"login (read, tx write, read back)", "validate session (read)",
	"catalogue page (read)", "event details (read)", "event update (write, read back)",
	"seat map (read)", "reservation (read, tx write, read back)",
};
static const int op_svc[NOPS] = { SVC_AUTH, SVC_AUTH, SVC_EVENT, SVC_EVENT, SVC_EVENT, SVC_TICKET, SVC_TICKET };

/* ---------------------------------------------------------------- options */
static const char *conninfo[NSVC];
static int nthreads[NSVC] = { 4, 6, 4 };
static int duration = 20;
static int n_users = 10000, n_events = 200, n_seats = 1000, n_hot = 5;
static bool do_setup = false, do_run = true;

/* ---------------------------------------------------------------- state */
static atomic_bool stop_flag;

typedef struct {
	uint32_t *v;
	size_t n, cap;
} lat_list;

typedef struct {
	int svc, id;
	pthread_t tid;
	uint64_t rng;
	PGconn *conn;
	lat_list lat[NOPS];
	uint64_t ops[NOPS];
	uint64_t errors, reconnects, stale, conflicts, unique_violations;
	char last_error[200];
	/* auth: tokens this connection created (ring) */
	char tokens[64][33];
	int ntokens;
} worker;

/* reservations clients were told succeeded */
typedef struct { int event, seat; uint32_t user; uint64_t ref; } claim;
static claim *claims;
static size_t nclaims, capclaims;
static pthread_mutex_t claims_lock = PTHREAD_MUTEX_INITIALIZER;
/* hot events found sold out (a bit each) */
static atomic_uchar *sold_out;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("booking: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static uint64_t rnd(worker *w)   /* xorshift64* */
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 2685821657736338717ULL;
}
static int rnd_int(worker *w, int n) { return (int) (rnd(w) % (uint64_t) n); }

static void lat_add(lat_list *l, uint64_t us)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			die("out of memory");
	}
	l->v[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t) us;
}

/* ---------------------------------------------------------------- SQL */
static PGconn *connect_svc(int svc)
{
	PGconn *c = PQconnectdb(conninfo[svc]);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "booking: %s: %s", svc_name[svc], PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Run one statement; NULL (and the error noted) unless it succeeded. */
static PGresult *sql(worker *w, const char *q, int nparams, const char *const *params)
{
	PGresult *r = nparams ? PQexecParams(w->conn, q, nparams, NULL, params, NULL, NULL, 0)
			      : PQexec(w->conn, q);
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	if (state && strcmp(state, "23505") == 0)
		w->unique_violations++;
	else {
		w->errors++;
		snprintf(w->last_error, sizeof(w->last_error), "%s%s", state ? state : "", PQerrorMessage(w->conn));
		for (char *p = w->last_error; *p; p++)
			if (*p == '\n')
				*p = ' ';
	}
	PQclear(r);
	return NULL;
}

static bool exec_ok(worker *w, const char *q, int n, const char *const *p)
{
	PGresult *r = sql(w, q, n, p);
	if (!r)
		return false;
	PQclear(r);
	return true;
}

/* After an error: end any transaction; reconnect when the connection broke. */
static void recover(worker *w)
{
	if (PQstatus(w->conn) != CONNECTION_OK) {
		PQfinish(w->conn);
		w->conn = NULL;
		while (!atomic_load(&stop_flag) && !(w->conn = connect_svc(w->svc)))
			usleep(200000);
		w->reconnects++;
		return;
	}
	if (PQtransactionStatus(w->conn) != PQTRANS_IDLE) {
		PGresult *r = PQexec(w->conn, "ROLLBACK");
		PQclear(r);
	}
}

/* ---------------------------------------------------------------- auth */
static void op_login(worker *w)
{
	char uid[16], email[64], token[33];
	int user = 1 + rnd_int(w, n_users);
	snprintf(email, sizeof(email), "user%d@example.com", user);
	const char *p1[] = { email };
	PGresult *r = sql(w, "SELECT id, pw_hash FROM bk_users WHERE email = $1", 1, p1);
	if (!r)
		goto fail;
	if (PQntuples(r) != 1) {
		PQclear(r);
		snprintf(w->last_error, sizeof(w->last_error), "user %s not found", email);
		w->errors++;
		return;
	}
	snprintf(uid, sizeof(uid), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	snprintf(token, sizeof(token), "%016" PRIx64 "%016" PRIx64, rnd(w), rnd(w));
	const char *p2[] = { token, uid };
	const char *p3[] = { uid };
	if (!exec_ok(w, "BEGIN", 0, NULL) ||
	    !exec_ok(w, "INSERT INTO bk_sessions (token, user_id, expires_at) VALUES ($1, $2, now() + interval '1 hour')", 2, p2) ||
	    !exec_ok(w, "UPDATE bk_users SET last_login = now() WHERE id = $1", 1, p3) ||
	    !exec_ok(w, "COMMIT", 0, NULL))
		goto fail;
	/* read your write: the session must be there */
	const char *p4[] = { token };
	r = sql(w, "SELECT user_id FROM bk_sessions WHERE token = $1", 1, p4);
	if (!r)
		goto fail;
	if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), uid) != 0)
		w->stale++;
	PQclear(r);
	memcpy(w->tokens[w->ntokens % 64], token, sizeof(token));
	w->ntokens++;
	return;
fail:
	recover(w);
}

static void op_validate(worker *w)
{
	int have = w->ntokens < 64 ? w->ntokens : 64;
	const char *p[] = { w->tokens[rnd_int(w, have)] };
	PGresult *r = sql(w, "SELECT user_id FROM bk_sessions WHERE token = $1 AND expires_at > now()", 1, p);
	if (!r) {
		recover(w);
		return;
	}
	if (PQntuples(r) != 1)   /* created and committed earlier by this connection */
		w->stale++;
	PQclear(r);
}

/* ---------------------------------------------------------------- event */
static void op_catalogue(worker *w)
{
	char off[16];
	snprintf(off, sizeof(off), "%d", rnd_int(w, n_events > 20 ? n_events - 20 : 1));
	const char *p[] = { off };
	PGresult *r = sql(w, "SELECT e.id, e.name, v.name, v.city, e.starts_at, e.price FROM bk_events e "
			     "JOIN bk_venues v ON v.id = e.venue_id ORDER BY e.starts_at, e.id LIMIT 20 OFFSET $1", 1, p);
	if (!r) {
		recover(w);
		return;
	}
	PQclear(r);
}

static void op_details(worker *w)
{
	char id[16];
	snprintf(id, sizeof(id), "%d", 1 + rnd_int(w, n_events));
	const char *p[] = { id };
	PGresult *r = sql(w, "SELECT e.id, e.name, e.description, e.starts_at, e.price, e.version, v.name, v.city, v.capacity "
			     "FROM bk_events e JOIN bk_venues v ON v.id = e.venue_id WHERE e.id = $1", 1, p);
	if (!r) {
		recover(w);
		return;
	}
	PQclear(r);
}

static void op_event_update(worker *w)
{
	char id[16];
	snprintf(id, sizeof(id), "%d", 1 + rnd_int(w, n_events));
	const char *p[] = { id };
	PGresult *r = sql(w, "UPDATE bk_events SET version = version + 1, updated_at = now() WHERE id = $1 RETURNING version", 1, p);
	if (!r || PQntuples(r) != 1) {
		if (r)
			PQclear(r);
		recover(w);
		return;
	}
	long ver = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	r = sql(w, "SELECT version FROM bk_events WHERE id = $1", 1, p);
	if (!r) {
		recover(w);
		return;
	}
	if (PQntuples(r) != 1 || atol(PQgetvalue(r, 0, 0)) < ver)
		w->stale++;
	PQclear(r);
}

/* ---------------------------------------------------------------- ticket */
static int pick_event(worker *w)
{
	/* 80 %: one of the hot events still on sale (contention on the same seats) */
	if (rnd_int(w, 100) < 80) {
		int start = rnd_int(w, n_hot);
		for (int i = 0; i < n_hot; i++) {
			int e = 1 + (start + i) % n_hot;
			if (!atomic_load(&sold_out[e]))
				return e;
		}
	}
	return 1 + n_hot + rnd_int(w, n_events - n_hot > 0 ? n_events - n_hot : 1);
}

static void op_seatmap(worker *w)
{
	char ev[16];
	snprintf(ev, sizeof(ev), "%d", pick_event(w));
	const char *p[] = { ev };
	PGresult *r = sql(w, "SELECT seat_no, price_band FROM bk_seats WHERE event_id = $1 AND booked_by IS NULL ORDER BY seat_no", 1, p);
	if (!r) {
		recover(w);
		return;
	}
	PQclear(r);
}

static void op_reserve(worker *w)
{
	int event = pick_event(w);
	char ev[16], seat[16], user[16], ref[24];
	snprintf(ev, sizeof(ev), "%d", event);
	/* free seats as this connection's read node sees them (maybe a little
	 * behind: the FOR UPDATE below is what decides) */
	const char *p1[] = { ev };
	PGresult *r = sql(w, "SELECT seat_no FROM bk_seats WHERE event_id = $1 AND booked_by IS NULL ORDER BY seat_no LIMIT 16", 1, p1);
	if (!r)
		goto fail;
	if (PQntuples(r) == 0) {
		PQclear(r);
		if (event <= n_hot)
			atomic_store(&sold_out[event], 1);
		return;
	}
	snprintf(seat, sizeof(seat), "%s", PQgetvalue(r, rnd_int(w, PQntuples(r)), 0));
	PQclear(r);
	uint32_t uid = 1 + (uint32_t) rnd_int(w, n_users);
	uint64_t bref = (rnd(w) >> 12) | 1;
	snprintf(user, sizeof(user), "%u", uid);
	snprintf(ref, sizeof(ref), "%" PRIu64, bref);
	const char *p2[] = { ev, seat };
	if (!exec_ok(w, "BEGIN", 0, NULL))
		goto fail;
	r = sql(w, "SELECT booked_by FROM bk_seats WHERE event_id = $1 AND seat_no = $2 FOR UPDATE", 2, p2);
	if (!r)
		goto fail;
	bool free_seat = PQntuples(r) == 1 && PQgetisnull(r, 0, 0);
	PQclear(r);
	if (!free_seat) {
		w->conflicts++;
		if (!exec_ok(w, "ROLLBACK", 0, NULL))
			goto fail;
		return;
	}
	const char *p3[] = { ev, seat, user };
	const char *p4[] = { ev, seat, user, ref };
	if (!exec_ok(w, "UPDATE bk_seats SET booked_by = $3, booked_at = now() WHERE event_id = $1 AND seat_no = $2", 3, p3) ||
	    !exec_ok(w, "INSERT INTO bk_bookings (event_id, seat_no, user_id, ref) VALUES ($1, $2, $3, $4)", 4, p4) ||
	    !exec_ok(w, "COMMIT", 0, NULL))
		goto fail;
	pthread_mutex_lock(&claims_lock);
	if (nclaims == capclaims) {
		capclaims = capclaims ? capclaims * 2 : 4096;
		claims = realloc(claims, capclaims * sizeof(*claims));
		if (!claims)
			die("out of memory");
	}
	claims[nclaims++] = (claim) { event, atoi(seat), uid, bref };
	pthread_mutex_unlock(&claims_lock);
	/* read your write: the booking, as committed */
	r = sql(w, "SELECT user_id, ref FROM bk_bookings WHERE event_id = $1 AND seat_no = $2", 2, p2);
	if (!r)
		goto fail;
	if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), user) != 0 || strcmp(PQgetvalue(r, 0, 1), ref) != 0)
		w->stale++;
	PQclear(r);
	return;
fail:
	recover(w);
}

/* ---------------------------------------------------------------- threads */
static void *worker_main(void *arg)
{
	worker *w = arg;
	while (!atomic_load(&stop_flag)) {
		int op, x = rnd_int(w, 100);
		switch (w->svc) {
		case SVC_AUTH:
			op = (x < 30 || w->ntokens == 0) ? OP_LOGIN : OP_VALIDATE;
			break;
		case SVC_EVENT:
			op = x < 60 ? OP_CATALOGUE : x < 97 ? OP_DETAILS : OP_EVENT_UPDATE;
			break;
		default:
			op = x < 25 ? OP_SEATMAP : OP_RESERVE;
			break;
		}
		uint64_t t0 = now_us();
		uint64_t errs = w->errors;
		switch (op) {
		case OP_LOGIN: op_login(w); break;
		case OP_VALIDATE: op_validate(w); break;
		case OP_CATALOGUE: op_catalogue(w); break;
		case OP_DETAILS: op_details(w); break;
		case OP_EVENT_UPDATE: op_event_update(w); break;
		case OP_SEATMAP: op_seatmap(w); break;
		case OP_RESERVE: op_reserve(w); break;
		}
		if (w->errors == errs && !atomic_load(&stop_flag)) {
			lat_add(&w->lat[op], now_us() - t0);
			w->ops[op]++;
		}
		if (!w->conn)
			break;
	}
	return NULL;
}

/* ---------------------------------------------------------------- SHOW pool_nodes */
typedef struct { int n; char role[8][16]; long long sel[8]; bool ok; } nodes_snap;

static nodes_snap pool_nodes(int svc)
{
	nodes_snap s = { 0 };
	PGconn *c = connect_svc(svc);
	if (!c)
		return s;
	PGresult *r = PQexec(c, "SHOW pool_nodes");
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		int fr = PQfnumber(r, "role"), fs = PQfnumber(r, "select_cnt");
		if (fr >= 0 && fs >= 0) {
			s.ok = true;
			for (int i = 0; i < PQntuples(r) && i < 8; i++) {
				snprintf(s.role[i], sizeof(s.role[i]), "%s", PQgetvalue(r, i, fr));
				s.sel[i] = atoll(PQgetvalue(r, i, fs));
				s.n++;
			}
		}
	}
	PQclear(r);
	PQfinish(c);
	return s;
}

/* ---------------------------------------------------------------- setup */
static void setup_sql(int svc, const char *const *stmts)
{
	PGconn *c = connect_svc(svc);
	if (!c)
		die("setup: cannot connect to %s", svc_name[svc]);
	for (; *stmts; stmts++) {
		PGresult *r = PQexec(c, *stmts);
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
			die("setup %s: %s\n  %s", svc_name[svc], PQerrorMessage(c), *stmts);
		PQclear(r);
	}
	PQfinish(c);
}

static void setup(void)
{
	char users[256], venues[400], events[700], seats[400];
	snprintf(users, sizeof(users),
		 "INSERT INTO bk_users (id, email, pw_hash) SELECT g, 'user' || g || '@example.com', md5(g::text) "
		 "FROM generate_series(1, %d) g", n_users);
	const char *auth[] = {
		"DROP TABLE IF EXISTS bk_sessions, bk_users",
		"CREATE TABLE bk_users (id int PRIMARY KEY, email text NOT NULL UNIQUE, pw_hash text NOT NULL, last_login timestamptz)",
		"CREATE TABLE bk_sessions (token text PRIMARY KEY, user_id int NOT NULL REFERENCES bk_users, "
		"created_at timestamptz NOT NULL DEFAULT now(), expires_at timestamptz NOT NULL)",
		users, "ANALYZE bk_users", NULL };
	snprintf(venues, sizeof(venues),
		 "INSERT INTO bk_venues SELECT g, 'Venue ' || g, (ARRAY['Lisbon','Oslo','Lyon','Turin','Gdansk'])[1 + g %% 5], 500 + 100 * (g %% 20) "
		 "FROM generate_series(1, %d) g", n_events / 4 + 1);
	snprintf(events, sizeof(events),
		 "INSERT INTO bk_events (id, venue_id, name, description, starts_at, price) SELECT g, 1 + g %% %d, 'Event ' || g, "
		 "repeat('A fine evening. ', 8), now() + g * interval '1 hour', 20 + g %% 80 FROM generate_series(1, %d) g",
		 n_events / 4 + 1, n_events);
	const char *event[] = {
		"DROP TABLE IF EXISTS bk_events, bk_venues",
		"CREATE TABLE bk_venues (id int PRIMARY KEY, name text NOT NULL, city text NOT NULL, capacity int NOT NULL)",
		"CREATE TABLE bk_events (id int PRIMARY KEY, venue_id int NOT NULL REFERENCES bk_venues, name text NOT NULL, "
		"description text, starts_at timestamptz NOT NULL, price numeric(8,2) NOT NULL, version int NOT NULL DEFAULT 1, updated_at timestamptz)",
		venues, events, "CREATE INDEX ON bk_events (starts_at, id)", "ANALYZE bk_venues", "ANALYZE bk_events", NULL };
	snprintf(seats, sizeof(seats),
		 "INSERT INTO bk_seats (event_id, seat_no, price_band) SELECT e, s, 1 + s %% 4 "
		 "FROM generate_series(1, %d) e, generate_series(1, %d) s", n_events, n_seats);
	const char *ticket[] = {
		"DROP TABLE IF EXISTS bk_bookings, bk_seats",
		"CREATE TABLE bk_seats (event_id int NOT NULL, seat_no int NOT NULL, price_band int NOT NULL, "
		"booked_by int, booked_at timestamptz, PRIMARY KEY (event_id, seat_no))",
		"CREATE TABLE bk_bookings (id bigserial PRIMARY KEY, event_id int NOT NULL, seat_no int NOT NULL, user_id int NOT NULL, "
		"ref bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), UNIQUE (event_id, seat_no))",
		seats, "CREATE INDEX ON bk_seats (event_id, seat_no) WHERE booked_by IS NULL", "ANALYZE bk_seats", NULL };
	setup_sql(SVC_AUTH, auth);
	setup_sql(SVC_EVENT, event);
	setup_sql(SVC_TICKET, ticket);
	printf("setup: %d users, %d events, %d seats each (%d hot events)\n", n_users, n_events, n_seats, n_hot);
}

/* ---------------------------------------------------------------- report */
static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
	return x < y ? -1 : x > y;
}

static int cmp_claim(const void *a, const void *b)
{
	const claim *x = a, *y = b;
	if (x->event != y->event)
		return x->event < y->event ? -1 : 1;
	return (x->seat > y->seat) - (x->seat < y->seat);
}

static double pct(const lat_list *l, double q)
{
	if (l->n == 0)
		return 0;
	size_t i = (size_t) (q * (double) l->n);
	if ((double) i < q * (double) l->n)
		i++;
	if (i < 1)
		i = 1;
	return l->v[i - 1] / 1000.0;
}

static long long scalar(int svc, const char *q)
{
	PGconn *c = connect_svc(svc);
	if (!c)
		return -1;
	PGresult *r = PQexec(c, q);
	long long v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? atoll(PQgetvalue(r, 0, 0)) : -1;
	if (v < 0)
		fprintf(stderr, "booking: %s: %s", q, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return v;
}

static void usage(void)
{
	fputs("usage: booking --auth CONNINFO --event CONNINFO --ticket CONNINFO [--setup] [--setup-only]\n"
	      "               [--duration S] [--threads A,E,T] [--users N] [--events N] [--seats N] [--hot N]\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "auth", required_argument, NULL, 'a' }, { "event", required_argument, NULL, 'e' },
		{ "ticket", required_argument, NULL, 't' }, { "setup", no_argument, NULL, 's' },
		{ "setup-only", no_argument, NULL, 'S' }, { "duration", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 'j' }, { "users", required_argument, NULL, 'u' },
		{ "events", required_argument, NULL, 'E' }, { "seats", required_argument, NULL, 'n' },
		{ "hot", required_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	int o;
	while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (o) {
		case 'a': conninfo[SVC_AUTH] = optarg; break;
		case 'e': conninfo[SVC_EVENT] = optarg; break;
		case 't': conninfo[SVC_TICKET] = optarg; break;
		case 's': do_setup = true; break;
		case 'S': do_setup = true; do_run = false; break;
		case 'd': duration = atoi(optarg); break;
		case 'j':
			if (sscanf(optarg, "%d,%d,%d", &nthreads[0], &nthreads[1], &nthreads[2]) != 3)
				usage();
			break;
		case 'u': n_users = atoi(optarg); break;
		case 'E': n_events = atoi(optarg); break;
		case 'n': n_seats = atoi(optarg); break;
		case 'h': n_hot = atoi(optarg); break;
		default: usage();
		}
	}
	for (int i = 0; i < NSVC; i++)
		if (!conninfo[i] || nthreads[i] < 0)
			usage();
	if (duration <= 0 || n_users <= 0 || n_events <= n_hot || n_seats <= 0 || n_hot < 0)
		usage();
	if (do_setup)
		setup();
	if (!do_run)
		return 0;

	sold_out = calloc((size_t) n_events + 2, sizeof(*sold_out));
	nodes_snap before[NSVC];
	for (int s = 0; s < NSVC; s++)
		before[s] = pool_nodes(s);

	int total = nthreads[0] + nthreads[1] + nthreads[2];
	worker *ws = calloc((size_t) total, sizeof(*ws));
	if (!ws || !sold_out)
		die("out of memory");
	int k = 0;
	for (int s = 0; s < NSVC; s++)
		for (int i = 0; i < nthreads[s]; i++, k++) {
			ws[k].svc = s;
			ws[k].id = i;
			ws[k].rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t) getpid() << 20) ^ (uint64_t) (k + 1) * 0x100000001B3ULL;
			if (!(ws[k].conn = connect_svc(s)))
				die("cannot connect to %s", svc_name[s]);
		}
	uint64_t t0 = now_us();
	for (k = 0; k < total; k++)
		if (pthread_create(&ws[k].tid, NULL, worker_main, &ws[k]) != 0)
			die("pthread_create: %s", strerror(errno));
	sleep((unsigned) duration);
	atomic_store(&stop_flag, true);
	for (k = 0; k < total; k++)
		pthread_join(ws[k].tid, NULL);
	double secs = (double) (now_us() - t0) / 1e6;

	nodes_snap after[NSVC];
	for (int s = 0; s < NSVC; s++)
		after[s] = pool_nodes(s);

	/* merge */
	lat_list all[NOPS] = { 0 };
	uint64_t svc_ops[NSVC] = { 0 }, svc_err[NSVC] = { 0 }, svc_stale[NSVC] = { 0 }, svc_reconn[NSVC] = { 0 };
	uint64_t conflicts = 0, uniq = 0;
	for (k = 0; k < total; k++) {
		worker *w = &ws[k];
		for (int op = 0; op < NOPS; op++) {
			for (size_t i = 0; i < w->lat[op].n; i++)
				lat_add(&all[op], w->lat[op].v[i]);
			svc_ops[op_svc[op]] += w->ops[op];
		}
		svc_err[w->svc] += w->errors;
		svc_stale[w->svc] += w->stale;
		svc_reconn[w->svc] += w->reconnects;
		conflicts += w->conflicts;
		uniq += w->unique_violations;
		if (w->errors)
			fprintf(stderr, "booking: %s thread %d: %" PRIu64 " errors, last: %s\n", svc_name[w->svc], w->id, w->errors, w->last_error);
		if (w->conn)
			PQfinish(w->conn);
	}
	for (int op = 0; op < NOPS; op++)
		qsort(all[op].v, all[op].n, sizeof(uint32_t), cmp_u32);

	printf("booking workload: %.1f s; threads (connections) auth %d, event %d, ticket %d\n", secs, nthreads[0], nthreads[1], nthreads[2]);
	printf("\n%-8s %10s %9s %7s %7s %10s\n", "service", "ops", "ops/s", "errors", "reconn", "stale_rd");
	uint64_t tot = 0;
	for (int s = 0; s < NSVC; s++) {
		printf("%-8s %10" PRIu64 " %9.0f %7" PRIu64 " %7" PRIu64 " %10" PRIu64 "\n", svc_name[s], svc_ops[s],
		       (double) svc_ops[s] / secs, svc_err[s], svc_reconn[s], svc_stale[s]);
		tot += svc_ops[s];
	}
	printf("%-8s %10" PRIu64 " %9.0f\n", "all", tot, (double) tot / secs);
	printf("\n%-42s %9s %8s %8s %8s %8s\n", "operation (latency ms)", "count", "p50", "p95", "p99", "max");
	for (int op = 0; op < NOPS; op++)
		printf("%-8s %-33s %9zu %8.2f %8.2f %8.2f %8.2f\n", svc_name[op_svc[op]], op_name[op], all[op].n,
		       pct(&all[op], 0.50), pct(&all[op], 0.95), pct(&all[op], 0.99),
		       all[op].n ? all[op].v[all[op].n - 1] / 1000.0 : 0.0);

	printf("\nreads per node during the run (SHOW pool_nodes select_cnt):\n");
	for (int s = 0; s < NSVC; s++) {
		if (!before[s].ok || !after[s].ok || before[s].n != after[s].n) {
			printf("  %-7s SHOW pool_nodes not available\n", svc_name[s]);
			continue;
		}
		long long sum = 0, standby = 0;
		printf("  %-7s", svc_name[s]);
		for (int i = 0; i < after[s].n; i++) {
			long long d = after[s].sel[i] - before[s].sel[i];
			sum += d;
			if (strcmp(after[s].role[i], "primary") != 0)
				standby += d;
			printf(" node %d (%s) %lld;", i, after[s].role[i], d);
		}
		printf(" standbys served %.1f %%\n", sum ? 100.0 * (double) standby / (double) sum : 0.0);
	}

	/* double bookings: in the database, and among what clients were told */
	long long dup_rows = scalar(SVC_TICKET, "SELECT count(*) FROM (SELECT 1 FROM bk_bookings GROUP BY event_id, seat_no HAVING count(*) > 1) d");
	long long mismatch = scalar(SVC_TICKET, "SELECT count(*) FROM bk_bookings b JOIN bk_seats s USING (event_id, seat_no) "
					       "WHERE s.booked_by IS DISTINCT FROM b.user_id");
	long long rows = scalar(SVC_TICKET, "SELECT count(*) FROM bk_bookings");
	size_t told_twice = 0;
	qsort(claims, nclaims, sizeof(*claims), cmp_claim);
	for (size_t i = 1; i < nclaims; i++)
		if (claims[i].event == claims[i - 1].event && claims[i].seat == claims[i - 1].seat)
			told_twice++;
	printf("\nticket: %zu reservations confirmed to clients, %lld booking rows (cumulative), %" PRIu64 " seat conflicts seen at FOR UPDATE, %" PRIu64 " unique violations\n",
	       nclaims, rows, conflicts, uniq);
	long long dbl = (dup_rows < 0 || mismatch < 0) ? -1 : dup_rows + mismatch + (long long) told_twice;
	printf("double bookings: %lld (duplicate rows %lld, seat/booking mismatches %lld, seats confirmed to two clients %zu)\n",
	       dbl, dup_rows, mismatch, told_twice);
	uint64_t stale = svc_stale[0] + svc_stale[1] + svc_stale[2];
	printf("stale reads-after-write: %" PRIu64 " (auth %" PRIu64 ", event %" PRIu64 ", ticket %" PRIu64 ")\n",
	       stale, svc_stale[0], svc_stale[1], svc_stale[2]);
	uint64_t errs = svc_err[0] + svc_err[1] + svc_err[2];
	printf("errors: %" PRIu64 "\n", errs);
	return (dbl != 0 || errs != 0) ? 1 : stale ? 3 : 0;
}
