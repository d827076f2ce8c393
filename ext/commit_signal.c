/*
** commit_signal.c — one file event per commit, for the watchers of other
** processes: after each commit in WAL mode the connection touches
** "<database>-wake" (sets its times to now, one utimensat(2)).
**
** Why: a watcher that sees only the -wal file gets one event per frame written
** (5-6 for an enqueue), the first of them before the commit is visible, so it
** must re-check in a burst until the wal-index moves; on a busy 2-core machine
** that burst and the writer compete, which made the tail of a cross-process
** wake 2-3 ms (bench/wake-latency.ts). "<database>-wake" changes once per
** commit, after the commit is visible and its write lock released, so one
** check answers. src/watcher.ts watches both: a -wake event is checked at
** once, a -wal event only after a short delay while writers are seen to
** signal (the fallback for writers without this library, e.g. honker 0.4).
**
** How: a WAL hook (sqlite3_wal_hook), called after every commit. A connection
** has one WAL hook, and SQLite's auto-checkpoint is that hook, so ours does
** its work too: once the WAL holds `pages` frames it runs the same PASSIVE
** checkpoint. The hook's argument is `pages` itself, not a pointer: the hook
** owns no memory, so nothing can outlive the connection or leak when the
** library is loaded twice.
**
** When:
**   - at load, if the connection runs SQLite's own auto-checkpoint (PRAGMA
**     wal_autocheckpoint > 0: SQLite's default is 1000 pages), ours replaces
**     it with the same number of pages. When the pragma reads 0 (turned off,
**     or a WAL hook of the host's own, which must not be replaced) nothing is
**     installed. The pragma reads a connection setting, never the file, so
**     loading still works on a read-only or locked database;
**   - honker_wal_autocheckpoint(pages) installs it explicitly (below).
**   A later PRAGMA wal_autocheckpoint (or sqlite3_wal_autocheckpoint, or
**   sqlite3_wal_hook) replaces ours: that connection's commits stop
**   signalling, and watchers fall back to the -wal file's events.
** The file is created on the first commit with the database file's
** permission bits (and owner, when running as root), as SQLite creates -wal
** and -shm, so every user that can write the database can touch it. Failures
** (a read-only directory, a path too long) are ignored: the signal is a hint,
** the commit has happened, and watchers still see the -wal file.
**
**   honker_wal_autocheckpoint(pages) -> pages
**     As PRAGMA wal_autocheckpoint = pages, keeping the commit signal: after
**     a commit that leaves `pages` or more frames in the WAL, run a PASSIVE
**     checkpoint; 0 turns the auto-checkpoint off (the signal stays).
**     pages: INTEGER 0..2147483647. Errors:
**       honker_wal_autocheckpoint: pages must be >= 0 (got -1)
**     Example: SELECT honker_wal_autocheckpoint(0); -- checkpoints run elsewhere
*/
#define _POSIX_C_SOURCE 200809L /* utimensat, AT_FDCWD, O_CLOEXEC, O_NOFOLLOW */
#include "util.h"

#include <limits.h>
#include <stdint.h>

#ifndef _WIN32
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Create path (absent) with the mode and owner of the database file db_file. */
static void create_wake_file(const char *path, const char *db_file) {
  struct stat st;
  if (stat(db_file, &st) != 0) return;
  mode_t mode = st.st_mode & 0777;
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return;
  /* The umask may have taken bits away that a database shared by a group needs. Best effort,
  ** as the rest: a failure leaves a file that its creator can still touch. */
  int ok = fchmod(fd, mode) == 0;
  if (geteuid() == 0) ok = fchown(fd, st.st_uid, st.st_gid) == 0 && ok;
  (void)ok;
  close(fd);
}

/* Set "<file of zDb>-wake"'s times to now, creating it on first use. */
static void touch_wake_file(sqlite3 *db, const char *zDb) {
  const char *db_file = sqlite3_db_filename(db, zDb);
  if (!db_file || !db_file[0]) return; /* temporary or in-memory: nobody else can watch it */
  char *path = sqlite3_mprintf("%s-wake", db_file);
  if (!path) return;
  if (utimensat(AT_FDCWD, path, 0, 0) != 0 && errno == ENOENT) create_wake_file(path, db_file);
  sqlite3_free(path);
}
#else
static void touch_wake_file(sqlite3 *db, const char *zDb) {
  (void)db;
  (void)zDb;
}
#endif

/* The WAL hook: signal, then checkpoint as SQLite's own hook would. Signal first: a checkpoint
** can take milliseconds, and the commit is already visible. */
static int commit_signal_hook(void *arg, sqlite3 *db, const char *zDb, int frames) {
  int pages = (int)(intptr_t)arg;
  touch_wake_file(db, zDb);
  if (pages > 0 && frames >= pages) {
    /* SQLite's own hook ignores the result too: SQLITE_BUSY only means another connection is
    ** checkpointing or reading, and the next commit tries again. */
    (void)sqlite3_wal_checkpoint(db, zDb);
  }
  return SQLITE_OK;
}

static void install(sqlite3 *db, int pages) {
  (void)sqlite3_wal_hook(db, commit_signal_hook, (void *)(intptr_t)pages);
}

static void fn_wal_autocheckpoint(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 pages;
  if (honker_arg_int(ctx, argv, 0, "pages", &pages) || honker_check_min(ctx, "pages", pages, 0) ||
      honker_check_max(ctx, "pages", pages, INT_MAX))
    return;
  install(honker_db(ctx), (int)pages);
  sqlite3_result_int64(ctx, pages);
}

/* N > 0 only while SQLite's own hook is installed (pragma.c reads its argument back). */
static const char WAL_AUTOCHECKPOINT_SQL[] = "PRAGMA wal_autocheckpoint";

/* The connection's PRAGMA wal_autocheckpoint, or -1 when it cannot be read. Not cached: read once
** per load, before any statement of ours exists. */
static int autocheckpoint_pages(sqlite3 *db) {
  sqlite3_stmt *stmt = 0;
  int pages = -1;
  if (sqlite3_prepare_v2(db, WAL_AUTOCHECKPOINT_SQL, -1, &stmt, 0) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW)
    pages = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt); /* its result repeats the step's error, if any: nothing installed then */
  return pages;
}

static const HonkerFunc commit_signal_functions[] = {
    {"honker_wal_autocheckpoint", 1, fn_wal_autocheckpoint, SQLITE_DIRECTONLY},
};

int honker_commit_signal_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg) {
  int rc = honker_register_functions(db, conn, commit_signal_functions,
                                     HONKER_COUNT(commit_signal_functions), pzErrMsg);
  if (rc != SQLITE_OK) return rc;
  int pages = autocheckpoint_pages(db);
  if (pages > 0) install(db, pages);
  return SQLITE_OK;
}
