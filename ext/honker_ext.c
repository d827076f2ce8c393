/*
** honker_ext.c — the entry point of libhonker_ext.
**
** SQLite derives the entry point's name from the file name libhonker_ext.so,
** so `.load ./libhonker_ext` and load_extension('libhonker_ext') need no
** second argument. Loading reads no table (only PRAGMA wal_autocheckpoint, a
** connection setting): it works on a read-only or locked database and never
** leaves the caller inside a transaction (spec/sql.md "Loading").
*/
#include "honker_ext.h"
#include "util.h"

SQLITE_EXTENSION_INIT1

typedef int (*HonkerRegisterFn)(sqlite3 *, HonkerConn *, char **);

/* Registration order: schema first (honker_bootstrap), then each concern. */
static const HonkerRegisterFn honker_concerns[] = {
    honker_schema_register,
    honker_queue_register,
    honker_notify_register,
    honker_stream_register,
    honker_results_register,
    honker_locks_register,
    honker_scheduler_register_functions,
    honker_watcher_register,
    honker_lifeline_register,       /* worker liveness: after the queue it rescues */
    honker_history_register,        /* per-minute settle counts (the queue writes them) */
    honker_stream_inspect_register, /* stream views for dashboards */
    honker_commit_signal_register,  /* the WAL hook that touches <db>-wake after each commit */
};

HONKER_API int sqlite3_honkerext_init(sqlite3 *db, char **pzErrMsg,
                                      const sqlite3_api_routines *pApi) {
  SQLITE_EXTENSION_INIT2(pApi);
  HonkerConn *conn = honker_conn_new(db, pzErrMsg);
  if (!conn) return SQLITE_ERROR;
  int rc = SQLITE_OK;
  for (int i = 0; i < HONKER_COUNT(honker_concerns) && rc == SQLITE_OK; i++) {
    rc = honker_concerns[i](db, conn, pzErrMsg);
  }
  honker_conn_unref(conn); /* the registered functions hold their own references */
  if (rc != SQLITE_OK) return rc;
  /* The watcher owns threads: the library must never be unloaded under them. */
  return SQLITE_OK_LOAD_PERMANENTLY;
}
