/*
** conn.h — private to util.c and stmt_cache.c: the layout of HonkerConn, the
** per-connection state that util.c creates and refcounts and stmt_cache.c
** fills with prepared statements. Every other file sees HonkerConn only as
** the opaque type of util.h.
**
** Invariant: conn->refs counts the creator (during init), each registered
** function's user data and the anchor module; the last unref finalizes the
** cached statements and frees the struct.
*/
#ifndef HONKER_CONN_H
#define HONKER_CONN_H

#include "util.h"

#define HONKER_STMT_SLOTS 256 /* power of two, well above the statements we have */

typedef struct HonkerStmtSlot {
  const char *sql; /* the static SQL text: its address is the cache key */
  sqlite3_stmt *stmt;
} HonkerStmtSlot;

struct HonkerConn {
  sqlite3 *db;
  int refs;                       /* one per registered function and module, plus the creator's */
  int anchored;                   /* the eponymous anchor table is connected */
  sqlite3_int64 lifeline_checked; /* lifeline.c: unix second of the last rescue check */
  HonkerSchemaSeen schema;        /* schema.c: what this connection last read of the schema */
  sqlite3_int64 errors_swept_to;  /* queue.c: where the orphaned-errors sweep goes on */
  HonkerStmtSlot slots[HONKER_STMT_SLOTS];
};

/* util.c: the HonkerConn of the function being called, or NULL. */
HonkerConn *honker_ctx_conn(sqlite3_context *ctx);

/* stmt_cache.c: register the "_honker_connection" anchor module, which holds
** one reference to conn (SQLite drops it, also when registration fails). */
int honker_stmt_cache_anchor(sqlite3 *db, HonkerConn *conn);
/* stmt_cache.c: finalize and forget every cached statement of conn. */
void honker_stmt_cache_clear(HonkerConn *conn);

#endif /* HONKER_CONN_H */
