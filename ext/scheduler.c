/* scheduler.c — placeholder until this concern lands. */
#include "util.h"

int honker_scheduler_register_functions(sqlite3 *db, HonkerConn *conn, char **pzErrMsg) {
  (void)db;
  (void)conn;
  (void)pzErrMsg;
  return SQLITE_OK;
}
