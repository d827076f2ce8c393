/*
** notify.c — NOTIFY for SQLite: notification rows in _honker_notifications,
** written by notify(), read by listeners, trimmed by honker_notify_prune.
**
**   notify(channel, payload) -> INTEGER
**     Inserts one row (channel, payload, created_at = now) and returns its id.
**     It is a plain INSERT in the caller's transaction: listeners (who watch
**     the database for commits and select new rows by channel) see it only
**     once that transaction commits; a rollback leaves no row.
**     channel: non-empty TEXT, not blank (only whitespace); payload: TEXT
**     (may be empty). honker_notify_read_since accepts a blank channel, so
**     rows another writer stored under one stay readable.
**     Errors: notify: channel must be non-empty TEXT (got NULL)
**             notify: channel must not be blank (got TEXT ' ')
**     Example: SELECT notify('orders', '{"id":42}');  -> 1
**
**   honker_notify_prune(older_than_s|NULL, max_keep|NULL) -> INTEGER
**     Deletes notifications of every channel (honker's prune_notifications is
**     global too) and returns how many rows it deleted:
**       older_than_s: rows with created_at <= now - older_than_s;
**       max_keep:     every row except the max_keep newest (highest id).
**     Given both, a row matching either is deleted (honker's OR semantics;
**     max_keep is not a floor for the age rule). Both NULL deletes nothing.
**     Fix over honker's bindings: max_keep is by rank, not `id <= max(id) -
**     max_keep`, so gaps in the ids never make it keep fewer than max_keep
**     rows, and it never deletes a row newer than one it keeps.
**     Errors: older_than_s and max_keep must be integers >= 0 or NULL.
**     Example: SELECT honker_notify_prune(3600, 10000);  -> 42
**
**   honker_notify_last_id() -> INTEGER
**     The highest notification id in the table, or 0 when it is empty: where
**     a new listener starts (ids only grow, so every later notification has
**     a larger id). Used by the TypeScript client's listen().
**     Example: SELECT honker_notify_last_id();  -> 42
**
**   honker_notify_read_since(channel, after_id, limit) -> TEXT (JSON array)
**     The notifications of channel with id > after_id, ascending, at most
**     limit: [{"id":43,"channel":"orders","payload":"{\"id\":42}",
**     "created_at":1767225600}] (payload is a JSON string holding the stored
**     text, as in honker_stream_read_since). after_id >= 0, limit >= 0.
**     Ids are assigned under the write lock, so they appear in commit order
**     and a reader that remembers the last id it saw misses nothing (unless
**     honker_notify_prune removed it first).
**     Example: SELECT honker_notify_read_since('orders', 42, 100);
**
**   honker_notify_channels() -> TEXT (JSON array), ours, for dashboards:
**     one object per channel that has a notification, ordered by channel:
**     [{"channel":"orders","last_id":43,"last_at":1767225600}] (the newest
**     notification's id and time). A skip-scan of _honker_notifications_recent
**     (one index seek per distinct channel).
**     Example: SELECT honker_notify_channels();
**
**   honker_notify_recent(channel, limit) -> TEXT (JSON array), ours: the
**     newest notifications of channel, newest first, at most limit (>= 0),
**     with honker_notify_read_since's keys: what a live tail shows first.
**     Example: SELECT honker_notify_recent('orders', 20);
**
** Invariants: notify writes exactly one row and nothing else (no pruning on
** the hot path); prune only deletes, and runs its two deletes in one
** savepoint taken with the write lock first.
*/
#include "util.h"

static const char NOTIFY_INSERT_SQL[] =
    "INSERT INTO _honker_notifications (channel, payload) VALUES (?1, ?2) RETURNING id";

/* ?1 = max_keep: the (max_keep+1)-th newest id and everything below it go;
** an OFFSET past the end yields NULL and deletes nothing. A rowid range. */
static const char NOTIFY_PRUNE_KEEP_SQL[] =
    "DELETE FROM _honker_notifications WHERE id <="
    " (SELECT id FROM _honker_notifications ORDER BY id DESC LIMIT 1 OFFSET ?1)";

/* ?1 = cutoff (now - older_than_s). */
static const char NOTIFY_PRUNE_AGE_SQL[] =
    "DELETE FROM _honker_notifications WHERE created_at <= ?1";

static const char NOTIFY_LAST_ID_SQL[] = "SELECT max(id) FROM _honker_notifications";

/* Uses _honker_notifications_recent (channel, id): a range scan, already ordered. */
static const char NOTIFY_READ_SINCE_SQL[] =
    "SELECT id, channel, payload, created_at FROM _honker_notifications"
    " WHERE channel = ?1 AND id > ?2 ORDER BY id LIMIT ?3";

static const char NOTIFY_CHANNELS_SQL[] =
    "WITH RECURSIVE c(name) AS ("
    "  SELECT (SELECT min(channel) FROM _honker_notifications)"
    "  UNION ALL"
    "  SELECT (SELECT min(channel) FROM _honker_notifications WHERE channel > c.name)"
    "  FROM c WHERE c.name IS NOT NULL)"
    " SELECT c.name, n.id, n.created_at FROM c JOIN _honker_notifications AS n"
    "  ON n.id = (SELECT max(id) FROM _honker_notifications WHERE channel = c.name)"
    " WHERE c.name IS NOT NULL ORDER BY c.name";

static const char NOTIFY_RECENT_SQL[] =
    "SELECT id, channel, payload, created_at FROM _honker_notifications"
    " WHERE channel = ?1 ORDER BY id DESC LIMIT ?2";

static void notify_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *channel, *payload;
  int n_channel, n_payload;
  if (honker_arg_new_name(ctx, argv, 0, "channel", &channel, &n_channel)) return;
  if (honker_arg_text(ctx, argv, 1, "payload", &payload, &n_payload)) return;
  sqlite3_stmt *s = honker_stmt(ctx, NOTIFY_INSERT_SQL);
  if (!s) return;
  sqlite3_bind_text(s, 1, channel, n_channel, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, payload, n_payload, SQLITE_STATIC);
  sqlite3_int64 id = 0;
  if (honker_query_int(ctx, s, 0, &id) != SQLITE_OK) return;
  sqlite3_result_int64(ctx, id);
}

/* Run one prune DELETE with one integer bound to ?1; add its row count to *deleted. */
static int notify_prune_run(sqlite3_context *ctx, const char *sql, sqlite3_int64 arg,
                            sqlite3_int64 *deleted) {
  sqlite3_stmt *s = honker_stmt(ctx, sql);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_int64(s, 1, arg);
  int rc = honker_exec_stmt(ctx, s);
  if (rc == SQLITE_OK) *deleted += sqlite3_changes64(honker_db(ctx));
  return rc;
}

static void honker_notify_prune_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 older_than_s, max_keep;
  int no_age, no_keep;
  if (honker_arg_int_or_null(ctx, argv, 0, "older_than_s", &older_than_s, &no_age)) return;
  if (!no_age && honker_check_min(ctx, "older_than_s", older_than_s, 0)) return;
  if (honker_arg_int_or_null(ctx, argv, 1, "max_keep", &max_keep, &no_keep)) return;
  if (!no_keep && honker_check_min(ctx, "max_keep", max_keep, 0)) return;
  if (no_age && no_keep) {
    sqlite3_result_int(ctx, 0);
    return;
  }

  HonkerTxn txn;
  if (honker_write_begin(ctx, &txn)) return;
  sqlite3_int64 deleted = 0, now = 0;
  int rc = SQLITE_OK;
  /* Keep first, then age: the union equals "matches either rule" on the
  ** rows as they were, because the rank is taken before anything goes. */
  if (!no_keep) rc = notify_prune_run(ctx, NOTIFY_PRUNE_KEEP_SQL, max_keep, &deleted);
  if (rc == SQLITE_OK && !no_age) {
    rc = honker_now(ctx, &now);
    /* now >= 0 and older_than_s >= 0: the difference cannot overflow. */
    if (rc == SQLITE_OK)
      rc = notify_prune_run(ctx, NOTIFY_PRUNE_AGE_SQL, now - older_than_s, &deleted);
  }
  rc = honker_write_end(ctx, &txn, rc);
  if (rc == SQLITE_OK) sqlite3_result_int64(ctx, deleted);
}

static void honker_notify_last_id_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  sqlite3_stmt *s = honker_stmt(ctx, NOTIFY_LAST_ID_SQL);
  if (!s) return;
  sqlite3_int64 id = 0;
  if (honker_query_int(ctx, s, 0, &id) != SQLITE_OK) return;
  sqlite3_result_int64(ctx, id);
}

static void honker_notify_read_since_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *channel;
  int n_channel;
  sqlite3_int64 after_id, limit;
  if (honker_arg_name(ctx, argv, 0, "channel", &channel, &n_channel)) return;
  if (honker_arg_int(ctx, argv, 1, "after_id", &after_id)) return;
  if (honker_check_min(ctx, "after_id", after_id, 0)) return;
  if (honker_arg_int(ctx, argv, 2, "limit", &limit)) return;
  if (honker_check_min(ctx, "limit", limit, 0)) return;
  sqlite3_stmt *s = honker_stmt(ctx, NOTIFY_READ_SINCE_SQL);
  if (!s) return;
  sqlite3_bind_text(s, 1, channel, n_channel, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, after_id);
  sqlite3_bind_int64(s, 3, limit);
  static const char *const keys[] = {"id", "channel", "payload", "created_at"};
  honker_result_json_rows(ctx, s, keys, HONKER_COUNT(keys));
}

static void honker_notify_channels_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  static const char *const keys[] = {"channel", "last_id", "last_at"};
  sqlite3_stmt *s = honker_stmt(ctx, NOTIFY_CHANNELS_SQL);
  if (!s) return;
  honker_result_json_rows(ctx, s, keys, HONKER_COUNT(keys));
}

static void honker_notify_recent_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *channel;
  int n_channel;
  sqlite3_int64 limit;
  if (honker_arg_name(ctx, argv, 0, "channel", &channel, &n_channel)) return;
  if (honker_arg_int(ctx, argv, 1, "limit", &limit)) return;
  if (honker_check_min(ctx, "limit", limit, 0)) return;
  sqlite3_stmt *s = honker_stmt(ctx, NOTIFY_RECENT_SQL);
  if (!s) return;
  sqlite3_bind_text(s, 1, channel, n_channel, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, limit);
  static const char *const keys[] = {"id", "channel", "payload", "created_at"};
  honker_result_json_rows(ctx, s, keys, HONKER_COUNT(keys));
}

static const HonkerFunc notify_functions[] = {
    {"notify", 2, notify_fn, HONKER_FN_DB},
    {"honker_notify_prune", 2, honker_notify_prune_fn, HONKER_FN_DB},
    {"honker_notify_last_id", 0, honker_notify_last_id_fn, HONKER_FN_DB},
    {"honker_notify_read_since", 3, honker_notify_read_since_fn, HONKER_FN_DB},
    {"honker_notify_channels", 0, honker_notify_channels_fn, HONKER_FN_DB}, /* ours */
    {"honker_notify_recent", 2, honker_notify_recent_fn, HONKER_FN_DB},     /* ours */
};

int honker_notify_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg) {
  return honker_register_functions(db, conn, notify_functions, HONKER_COUNT(notify_functions),
                                   pzErrMsg);
}
