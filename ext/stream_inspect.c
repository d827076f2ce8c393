/*
** stream_inspect.c — read-only views of every stream and its consumers, for
** operators (the dashboard, src/dashboard/). Ours. Nothing here writes.
**
**   honker_streams() -> JSON array, one object per topic that has an event
**     or a consumer, ordered by topic:
**     {"topic","head","last_at","consumers"}: head = the topic's highest
**     offset (0 when it has no event), last_at = that event's created_at
**     (null when none), consumers = how many named consumers saved an
**     offset for it. Topics are found by a skip-scan of _honker_stream_topic
**     (one index seek per distinct topic, never a table scan).
**     Example: SELECT value ->> '$.topic' FROM json_each(honker_streams());
**
**   honker_stream_consumers() -> JSON array, one object per (topic,
**     consumer) with a saved offset, ordered by topic then consumer:
**     {"topic","consumer","offset","head","lag"}: offset = the saved one,
**     head as above, lag = the topic's events after offset (what the
**     consumer has yet to read), counted through the index and capped at
**     STREAM_LAG_CAP (1,000,000: a larger lag reads 1000000), so a far
**     behind consumer costs a bounded count.
**     Example: SELECT honker_stream_consumers();
*/
#include "util.h"

#define STREAM_LAG_CAP 1000000

static const char STREAMS_SQL[] =
    "WITH RECURSIVE"
    " t(name) AS ("
    "  SELECT (SELECT min(topic) FROM _honker_stream)"
    "  UNION ALL"
    "  SELECT (SELECT min(topic) FROM _honker_stream WHERE topic > t.name)"
    "  FROM t WHERE t.name IS NOT NULL),"
    " names(name) AS ("
    "  SELECT name FROM t WHERE name IS NOT NULL"
    "  UNION SELECT DISTINCT topic FROM _honker_stream_consumers)"
    " SELECT name,"
    "  coalesce((SELECT max(offset) FROM _honker_stream WHERE topic = names.name), 0),"
    "  (SELECT created_at FROM _honker_stream WHERE topic = names.name"
    "    ORDER BY offset DESC LIMIT 1),"
    "  (SELECT count(*) FROM _honker_stream_consumers WHERE topic = names.name)"
    " FROM names ORDER BY name";

static const char STREAM_CONSUMERS_SQL[] =
    "SELECT c.topic, c.name, c.offset,"
    "  coalesce((SELECT max(offset) FROM _honker_stream WHERE topic = c.topic), 0),"
    "  (SELECT count(*) FROM (SELECT 1 FROM _honker_stream"
    "    WHERE topic = c.topic AND offset > c.offset LIMIT ?1))"
    " FROM _honker_stream_consumers AS c ORDER BY c.topic, c.name";

static void honker_streams_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  static const char *const keys[] = {"topic", "head", "last_at", "consumers"};
  sqlite3_stmt *s = honker_stmt(ctx, STREAMS_SQL);
  if (!s) return;
  honker_result_json_rows(ctx, s, keys, HONKER_COUNT(keys));
}

static void honker_stream_consumers_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  static const char *const keys[] = {"topic", "consumer", "offset", "head", "lag"};
  sqlite3_stmt *s = honker_stmt(ctx, STREAM_CONSUMERS_SQL);
  if (!s) return;
  sqlite3_bind_int(s, 1, STREAM_LAG_CAP);
  honker_result_json_rows(ctx, s, keys, HONKER_COUNT(keys));
}

static const HonkerFunc stream_inspect_functions[] = {
    {"honker_streams", 0, honker_streams_fn, HONKER_FN_DB},
    {"honker_stream_consumers", 0, honker_stream_consumers_fn, HONKER_FN_DB},
};

int honker_stream_inspect_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg) {
  return honker_register_functions(db, conn, stream_inspect_functions,
                                   HONKER_COUNT(stream_inspect_functions), pzErrMsg);
}
