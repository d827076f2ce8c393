/* stream.c — placeholder until this concern lands. */
#include "util.h"

int honker_stream_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg) {
  (void)db;
  (void)conn;
  (void)pzErrMsg;
  return SQLITE_OK;
}
