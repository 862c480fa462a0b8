/* The reply queue: what a session waits for from its backends, in the order
 * it sent the requests.  Replies are relayed strictly in this order, from
 * one backend at a time, so a client whose statements went to different
 * nodes still sees one coherent reply stream; replies to statements sent
 * only to keep another node in step (SET on a standby, an injected Parse)
 * are swallowed. */
#ifndef PGPOOLD_EXPECT_H
#define PGPOOLD_EXPECT_H

#include <stdbool.h>
#include <stdint.h>

typedef enum expect_kind {
	EXP_QUERY,      /* simple Query or FunctionCall: everything up to ReadyForQuery */
	EXP_SYNC,       /* Sync: ReadyForQuery */
	EXP_PARSE,      /* ParseComplete */
	EXP_BIND,       /* BindComplete */
	EXP_CLOSE,      /* CloseComplete */
	EXP_DESCRIBE,   /* RowDescription or NoData (ParameterDescription passes) */
	EXP_EXECUTE,    /* CommandComplete, EmptyQueryResponse or PortalSuspended */
	EXP_LOCAL       /* a reply pgpoold built itself (SHOW pool_*), in `local` */
} expect_kind;

typedef struct expect {
	int16_t node;          /* -1 for EXP_LOCAL */
	uint8_t kind;          /* expect_kind */
	bool forward;          /* relay to the client, or swallow */
	int local;             /* EXP_LOCAL: index of the prepared reply */
} expect;

typedef struct expect_queue {
	expect *ring;
	uint32_t cap;          /* power of two */
	uint32_t head;
	uint32_t count;
} expect_queue;

bool expect_push(expect_queue *q, int node, expect_kind kind, bool forward);
expect *expect_head(expect_queue *q);
void expect_pop(expect_queue *q);
/* After an ErrorResponse to an extended-protocol message from node, the
 * backend skips everything up to its next Sync: drop those expectations. */
void expect_void_until_sync(expect_queue *q, int node);
/* Does node still owe anything? */
bool expect_node_pending(const expect_queue *q, int node);
void expect_free(expect_queue *q);
/* Whether type completes kind (ErrorResponse completes any extended kind). */
bool expect_completes(expect_kind kind, char type);

#endif
