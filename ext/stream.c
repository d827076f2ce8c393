/*
** stream.c — durable, replayable event streams: _honker_stream (the log)
** and _honker_stream_consumers (one saved offset per consumer and topic).
**
**   honker_stream_publish(topic, key|NULL, payload) -> INTEGER offset
**     Appends one event and returns its offset. Offsets are global across
**     topics and strictly increasing (AUTOINCREMENT: never reused, even
**     after the newest row is deleted). Visible to readers once committed.
**     topic: non-empty TEXT, not blank (only whitespace); key: TEXT (may be
**     empty) or NULL; payload: TEXT. Readers accept a blank topic, so events
**     another writer stored under one stay readable.
**     Example: SELECT honker_stream_publish('orders', 'o-42', '{"total":9}');  -> 1
**
**   honker_stream_read_since(topic, offset, limit) -> TEXT (JSON array)
**     The events of topic with offset > the given offset, ascending, at most
**     limit of them: [{"offset":1,"topic":"orders","key":"o-42",
**     "payload":"{\"total\":9}","created_at":1767225600}]. As in honker,
**     payload is a JSON *string* holding the stored text (never embedded raw)
**     and key is a string or null. offset >= 0; limit >= 0 with no upper
**     bound (an answer longer than SQLite's string limit is "string or blob
**     too big"). An empty result is "[]".
**     Example: SELECT honker_stream_read_since('orders', 0, 100);
**
**   honker_stream_save_offset(consumer, topic, offset) -> 1/0
**     Stores the consumer's offset for topic: 1 if stored (new, or higher
**     than the saved one), 0 if the saved offset is already >= offset.
**     Offsets never move back, so a redelivered batch cannot rewind a
**     consumer. Argument order is (consumer, topic). offset >= 0; consumer
**     must not be blank.
**     Example: SELECT honker_stream_save_offset('billing', 'orders', 1);  -> 1
**
**   honker_stream_get_offset(consumer, topic) -> INTEGER
**     The saved offset, or 0 when this consumer never saved one for topic.
**     Example: SELECT honker_stream_get_offset('billing', 'orders');  -> 1
**
** Errors name the function and argument, e.g.
**   honker_stream_read_since: limit must be >= 0 (got -1)
**   honker_stream_save_offset: consumer must be non-empty TEXT (got TEXT '')
**
** Invariants: every function runs one statement (atomic on its own); a
** consumer's offset is per (consumer, topic) and only ever increases.
*/
#include "util.h"

static const char STREAM_PUBLISH_SQL[] =
    "INSERT INTO _honker_stream (topic, key, payload) VALUES (?1, ?2, ?3) RETURNING offset";

/* Uses _honker_stream_topic (topic, offset): a range scan, already ordered. */
static const char STREAM_READ_SINCE_SQL[] =
    "SELECT offset, topic, key, payload, created_at FROM _honker_stream"
    " WHERE topic = ?1 AND offset > ?2 ORDER BY offset LIMIT ?3";

/* The WHERE on the conflict update makes a lower or equal offset a no-op:
** sqlite3_changes() then reports 0. */
static const char STREAM_SAVE_OFFSET_SQL[] =
    "INSERT INTO _honker_stream_consumers (name, topic, offset) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (name, topic) DO UPDATE SET offset = excluded.offset"
    " WHERE excluded.offset > _honker_stream_consumers.offset";

static const char STREAM_GET_OFFSET_SQL[] =
    "SELECT offset FROM _honker_stream_consumers WHERE name = ?1 AND topic = ?2";

static void honker_stream_publish_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *topic, *key, *payload;
  int n_topic, n_key, n_payload;
  if (honker_arg_new_name(ctx, argv, 0, "topic", &topic, &n_topic)) return;
  if (honker_arg_text_or_null(ctx, argv, 1, "key", &key, &n_key)) return;
  if (honker_arg_text(ctx, argv, 2, "payload", &payload, &n_payload)) return;
  sqlite3_stmt *s = honker_stmt(ctx, STREAM_PUBLISH_SQL);
  if (!s) return;
  sqlite3_bind_text(s, 1, topic, n_topic, SQLITE_STATIC);
  if (key) sqlite3_bind_text(s, 2, key, n_key, SQLITE_STATIC); /* else NULL */
  sqlite3_bind_text(s, 3, payload, n_payload, SQLITE_STATIC);
  sqlite3_int64 offset = 0;
  if (honker_query_int(ctx, s, 0, &offset) != SQLITE_OK) return;
  sqlite3_result_int64(ctx, offset);
}

static void honker_stream_read_since_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *topic;
  int n_topic;
  sqlite3_int64 offset, limit;
  if (honker_arg_name(ctx, argv, 0, "topic", &topic, &n_topic)) return;
  if (honker_arg_int(ctx, argv, 1, "offset", &offset)) return;
  if (honker_check_min(ctx, "offset", offset, 0)) return;
  if (honker_arg_int(ctx, argv, 2, "limit", &limit)) return;
  if (honker_check_min(ctx, "limit", limit, 0)) return;
  sqlite3_stmt *s = honker_stmt(ctx, STREAM_READ_SINCE_SQL);
  if (!s) return;
  sqlite3_bind_text(s, 1, topic, n_topic, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, offset);
  sqlite3_bind_int64(s, 3, limit);
  static const char *const keys[] = {"offset", "topic", "key", "payload", "created_at"};
  honker_result_json_rows(ctx, s, keys, HONKER_COUNT(keys));
}

static void honker_stream_save_offset_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *consumer, *topic;
  int n_consumer, n_topic;
  sqlite3_int64 offset;
  if (honker_arg_new_name(ctx, argv, 0, "consumer", &consumer, &n_consumer)) return;
  if (honker_arg_name(ctx, argv, 1, "topic", &topic, &n_topic)) return;
  if (honker_arg_int(ctx, argv, 2, "offset", &offset)) return;
  if (honker_check_min(ctx, "offset", offset, 0)) return;
  sqlite3_stmt *s = honker_stmt(ctx, STREAM_SAVE_OFFSET_SQL);
  if (!s) return;
  sqlite3_bind_text(s, 1, consumer, n_consumer, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, topic, n_topic, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, offset);
  if (honker_exec_stmt(ctx, s) != SQLITE_OK) return;
  sqlite3_result_int(ctx, sqlite3_changes64(honker_db(ctx)) > 0);
}

static void honker_stream_get_offset_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *consumer, *topic;
  int n_consumer, n_topic;
  if (honker_arg_name(ctx, argv, 0, "consumer", &consumer, &n_consumer)) return;
  if (honker_arg_name(ctx, argv, 1, "topic", &topic, &n_topic)) return;
  sqlite3_stmt *s = honker_stmt(ctx, STREAM_GET_OFFSET_SQL);
  if (!s) return;
  sqlite3_bind_text(s, 1, consumer, n_consumer, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, topic, n_topic, SQLITE_STATIC);
  sqlite3_int64 offset = 0;
  if (honker_query_int(ctx, s, 0, &offset) != SQLITE_OK) return;
  sqlite3_result_int64(ctx, offset);
}

static const HonkerFunc stream_functions[] = {
    {"honker_stream_publish", 3, honker_stream_publish_fn, HONKER_FN_DB},
    {"honker_stream_read_since", 3, honker_stream_read_since_fn, HONKER_FN_DB},
    {"honker_stream_save_offset", 3, honker_stream_save_offset_fn, HONKER_FN_DB},
    {"honker_stream_get_offset", 2, honker_stream_get_offset_fn, HONKER_FN_DB},
};

int honker_stream_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg) {
  return honker_register_functions(db, conn, stream_functions, HONKER_COUNT(stream_functions),
                                   pzErrMsg);
}
