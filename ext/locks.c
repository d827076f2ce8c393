/*
** locks.c — named locks with a lease (_honker_locks) and fixed-window rate
** limits (_honker_rate_limits).
**
**   honker_lock_acquire(name, owner, ttl_s) -> 1/0
**     1 when owner holds the lock afterwards: it was free, its holder's lease
**     had expired (expires_at <= now: replaced), or owner already held it.
**     A re-acquire by the holder does NOT extend the lease (as in honker; use
**     honker_lock_renew). 0 when another owner holds an unexpired lease.
**     New leases expire at now + ttl_s. ttl_s >= 1, and now + ttl_s must end
**     by 9999-12-31T23:59:59Z (util.h HONKER_MAX_UNIX). name and owner must
**     not be blank (only whitespace): acquire stores them.
**     Example: SELECT honker_lock_acquire('backup', 'host-a:123', 60);  -> 1
**
**   honker_lock_release(name, owner) -> 1/0
**     Deletes the lock if owner holds it (expired or not); 0 otherwise.
**     Example: SELECT honker_lock_release('backup', 'host-a:123');  -> 1
**
**   honker_lock_renew(name, owner, ttl_s) -> 1/0
**     Sets the lease to now + ttl_s, only for the current owner whose lease
**     has not expired (fix: honker also renews an expired lease, which may
**     already have been taken over in the holder's view). ttl_s >= 1, ending
**     by 9999-12-31T23:59:59Z as for acquire.
**     Example: SELECT honker_lock_renew('backup', 'host-a:123', 60);  -> 1
**
**   honker_rate_limit_try(name, limit, per_s) -> 1/0
**     Counts one call in the fixed window starting at (now / per_s) * per_s
**     and returns 1 while the window has had fewer than limit counted calls;
**     otherwise 0, and the rejected call is not counted. limit >= 0: a limit
**     of 0 rejects every call and writes nothing (honker raises an error for
**     0; the TypeScript client accepts 0). per_s >= 1, with no upper bound:
**     the stored window_start is at most now, so no time past
**     9999-12-31T23:59:59Z is ever computed, and a per_s longer than all
**     time is one window for ever. name must not be blank.
**     Example: SELECT honker_rate_limit_try('api', 10, 60);  -> 1
**
**   honker_rate_limit_sweep(older_than_s) -> INTEGER
**     Deletes every window with window_start < now - older_than_s (honker's
**     rule); returns the count. older_than_s >= 0.
**     Example: SELECT honker_rate_limit_sweep(3600);  -> 12
**
** Names and owners are non-empty TEXT (release and renew accept a blank
** one, so a lock another writer stored under it can still be let go).
** Errors name function and argument:
**   honker_lock_acquire: ttl_s must be >= 1 (got 0)
**   honker_lock_acquire: ttl_s must end by 9999-12-31T23:59:59Z (got 9007199254740991)
**   honker_rate_limit_try: name must not be blank (got TEXT ' ')
**
** Invariants: at most one unexpired holder per name; a window's count never
** exceeds its limit. Both hold across processes because every write below
** takes the write lock before it reads: acquire and renew run in a savepoint
** opened with the lock (honker_write_begin), and the others are single
** statements, which lock before reading in autocommit mode. "now" is read
** after the write lock is held, never before a wait for it.
*/
#include "util.h"

/* Takes the lock when free or when the lease expired (?4 = now). */
static const char LOCK_TAKE_SQL[] =
    "INSERT INTO _honker_locks (name, owner, expires_at) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner,"
    " expires_at = excluded.expires_at WHERE _honker_locks.expires_at <= ?4";

static const char LOCK_HELD_BY_SQL[] =
    "SELECT count(*) FROM _honker_locks WHERE name = ?1 AND owner = ?2";

static const char LOCK_RELEASE_SQL[] = "DELETE FROM _honker_locks WHERE name = ?1 AND owner = ?2";

/* ?3 = new expiry, ?4 = now. */
static const char LOCK_RENEW_SQL[] =
    "UPDATE _honker_locks SET expires_at = ?3"
    " WHERE name = ?1 AND owner = ?2 AND expires_at > ?4";

/* One conditional upsert: counts the call unless the window is full
** (?2 = limit, ?3 = per_s). unixepoch() is read after the statement took the
** write lock, so a call that waited on a busy lock counts in the current window. */
static const char RATE_LIMIT_TRY_SQL[] =
    "INSERT INTO _honker_rate_limits (name, window_start, count)"
    " VALUES (?1, (unixepoch() / ?3) * ?3, 1)"
    " ON CONFLICT (name, window_start) DO UPDATE SET count = count + 1"
    " WHERE count < ?2";

/* ?1 = older_than_s >= 0: unixepoch() - ?1 cannot overflow. */
static const char RATE_LIMIT_SWEEP_SQL[] =
    "DELETE FROM _honker_rate_limits WHERE window_start < unixepoch() - ?1";

/* How a function reads its names: honker_arg_new_name (acquire stores them) or
** honker_arg_name (release and renew find a held lock, whatever its name). */
typedef int (*LocksNameReader)(sqlite3_context *, sqlite3_value **, int, const char *,
                               const char **, int *);

/* Read name (arg 0), owner (arg 1) and, when the ttl_s pointer is given, ttl_s (arg 2, >= 1). */
static int locks_read_args(sqlite3_context *ctx, sqlite3_value **argv, LocksNameReader read_name,
                           const char **name, int *n_name, const char **owner, int *n_owner,
                           sqlite3_int64 *ttl_s) {
  if (read_name(ctx, argv, 0, "name", name, n_name)) return SQLITE_ERROR;
  if (read_name(ctx, argv, 1, "owner", owner, n_owner)) return SQLITE_ERROR;
  if (!ttl_s) return SQLITE_OK;
  if (honker_arg_int(ctx, argv, 2, "ttl_s", ttl_s)) return SQLITE_ERROR;
  return honker_check_min(ctx, "ttl_s", *ttl_s, 1);
}

/* Under the write lock (so a wait for it cannot make "now" stale): *now and
** the lease end *expires_at = now + ttl_s, overflow-checked. */
static int locks_lease(sqlite3_context *ctx, sqlite3_int64 ttl_s, sqlite3_int64 *now,
                       sqlite3_int64 *expires_at) {
  int rc = honker_now(ctx, now);
  if (rc != SQLITE_OK) return rc;
  return honker_add_seconds(ctx, "ttl_s", *now, ttl_s, expires_at);
}

/* Bind name and owner as ?1 and ?2. */
static void locks_bind_name_owner(sqlite3_stmt *s, const char *name, int n_name, const char *owner,
                                  int n_owner) {
  sqlite3_bind_text(s, 1, name, n_name, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, owner, n_owner, SQLITE_STATIC);
}

/* The work of acquire, under the write lock: *held = 1 when owner holds
** name afterwards. */
static int locks_acquire(sqlite3_context *ctx, const char *name, int n_name, const char *owner,
                         int n_owner, sqlite3_int64 ttl_s, int *held) {
  sqlite3_int64 now = 0, expires_at = 0;
  int rc = locks_lease(ctx, ttl_s, &now, &expires_at);
  if (rc != SQLITE_OK) return rc;
  sqlite3_stmt *s = honker_stmt(ctx, LOCK_TAKE_SQL);
  if (!s) return SQLITE_ERROR;
  locks_bind_name_owner(s, name, n_name, owner, n_owner);
  sqlite3_bind_int64(s, 3, expires_at);
  sqlite3_bind_int64(s, 4, now);
  rc = honker_exec_stmt(ctx, s);
  if (rc != SQLITE_OK) return rc;
  if (sqlite3_changes64(honker_db(ctx)) > 0) {
    *held = 1;
    return SQLITE_OK;
  }
  /* Held by an unexpired lease: ours (a re-acquire, lease unchanged) or not. */
  if (!(s = honker_stmt(ctx, LOCK_HELD_BY_SQL))) return SQLITE_ERROR;
  locks_bind_name_owner(s, name, n_name, owner, n_owner);
  sqlite3_int64 n = 0;
  rc = honker_query_int(ctx, s, 0, &n);
  *held = n > 0;
  return rc;
}

static void honker_lock_acquire_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *name, *owner;
  int n_name, n_owner, held = 0;
  sqlite3_int64 ttl_s;
  if (locks_read_args(ctx, argv, honker_arg_new_name, &name, &n_name, &owner, &n_owner, &ttl_s))
    return;
  HonkerTxn txn;
  if (honker_write_begin(ctx, &txn)) return;
  int rc = locks_acquire(ctx, name, n_name, owner, n_owner, ttl_s, &held);
  rc = honker_write_end(ctx, &txn, rc);
  if (rc == SQLITE_OK) sqlite3_result_int(ctx, held);
}

static void honker_lock_release_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *name, *owner;
  int n_name, n_owner;
  if (locks_read_args(ctx, argv, honker_arg_name, &name, &n_name, &owner, &n_owner, 0)) return;
  sqlite3_stmt *s = honker_stmt(ctx, LOCK_RELEASE_SQL);
  if (!s) return;
  locks_bind_name_owner(s, name, n_name, owner, n_owner);
  if (honker_exec_stmt(ctx, s) != SQLITE_OK) return;
  sqlite3_result_int(ctx, sqlite3_changes64(honker_db(ctx)) > 0);
}

static void honker_lock_renew_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *name, *owner;
  int n_name, n_owner, renewed = 0;
  sqlite3_int64 ttl_s, now = 0, expires_at = 0;
  if (locks_read_args(ctx, argv, honker_arg_name, &name, &n_name, &owner, &n_owner, &ttl_s)) return;
  HonkerTxn txn;
  if (honker_write_begin(ctx, &txn)) return;
  int rc = locks_lease(ctx, ttl_s, &now, &expires_at);
  sqlite3_stmt *s = 0;
  if (rc == SQLITE_OK && !(s = honker_stmt(ctx, LOCK_RENEW_SQL))) rc = SQLITE_ERROR;
  if (rc == SQLITE_OK) {
    locks_bind_name_owner(s, name, n_name, owner, n_owner);
    sqlite3_bind_int64(s, 3, expires_at);
    sqlite3_bind_int64(s, 4, now);
    rc = honker_exec_stmt(ctx, s);
    renewed = rc == SQLITE_OK && sqlite3_changes64(honker_db(ctx)) > 0;
  }
  rc = honker_write_end(ctx, &txn, rc);
  if (rc == SQLITE_OK) sqlite3_result_int(ctx, renewed);
}

static void honker_rate_limit_try_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *name;
  int n_name;
  sqlite3_int64 limit, per_s;
  if (honker_arg_new_name(ctx, argv, 0, "name", &name, &n_name)) return;
  if (honker_arg_int(ctx, argv, 1, "limit", &limit)) return;
  if (honker_check_min(ctx, "limit", limit, 0)) return;
  if (honker_arg_int(ctx, argv, 2, "per_s", &per_s)) return;
  if (honker_check_min(ctx, "per_s", per_s, 1)) return;
  if (limit == 0) { /* the upsert would insert a first count of 1 */
    sqlite3_result_int(ctx, 0);
    return;
  }
  sqlite3_stmt *s = honker_stmt(ctx, RATE_LIMIT_TRY_SQL);
  if (!s) return;
  sqlite3_bind_text(s, 1, name, n_name, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, limit);
  sqlite3_bind_int64(s, 3, per_s);
  if (honker_exec_stmt(ctx, s) != SQLITE_OK) return;
  sqlite3_result_int(ctx, sqlite3_changes64(honker_db(ctx)) > 0);
}

static void honker_rate_limit_sweep_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 older_than_s;
  if (honker_arg_int(ctx, argv, 0, "older_than_s", &older_than_s)) return;
  if (honker_check_min(ctx, "older_than_s", older_than_s, 0)) return;
  sqlite3_stmt *s = honker_stmt(ctx, RATE_LIMIT_SWEEP_SQL);
  if (!s) return;
  sqlite3_bind_int64(s, 1, older_than_s);
  if (honker_exec_stmt(ctx, s) != SQLITE_OK) return;
  sqlite3_result_int64(ctx, sqlite3_changes64(honker_db(ctx)));
}

static const HonkerFunc locks_functions[] = {
    {"honker_lock_acquire", 3, honker_lock_acquire_fn, HONKER_FN_DB},
    {"honker_lock_release", 2, honker_lock_release_fn, HONKER_FN_DB},
    {"honker_lock_renew", 3, honker_lock_renew_fn, HONKER_FN_DB},
    {"honker_rate_limit_try", 3, honker_rate_limit_try_fn, HONKER_FN_DB},
    {"honker_rate_limit_sweep", 1, honker_rate_limit_sweep_fn, HONKER_FN_DB},
};

int honker_locks_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg) {
  return honker_register_functions(db, conn, locks_functions, HONKER_COUNT(locks_functions),
                                   pzErrMsg);
}
