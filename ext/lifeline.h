/*
** lifeline.h — worker liveness, shared by lifeline.c (the SQL functions and
** the rescue), lifeline_lock.c (the process-wide registry of lock files and
** the slots this process holds: fcntl only, no SQL) and the claim path
** (queue_claim.c). Internal: nothing here is exported from the library.
**
** The mechanism (the manual is lifeline.c's header): a registered worker's
** process holds an exclusive POSIX record lock on one byte (its slot) of the
** lock file "<database file>-honker"; the kernel drops that lock when the
** process dies, however it dies. Any process can test the byte (F_GETLK),
** except for the bytes it holds itself: POSIX locks never conflict with
** their own process, so this process's slots are known from the registry.
*/
#ifndef HONKER_LIFELINE_H
#define HONKER_LIFELINE_H

#include "util.h"

/* A lock file opened by this process (one descriptor per file, shared by
** every connection); NULL stands for "no lock file": nobody holds a slot. */
typedef struct LifelineFile LifelineFile;

/* A row of _honker_workers, as the rescue and the listing judge it. */
typedef struct LifelineRow {
  sqlite3_int64 slot, pid, token, registered_at, claims;
  char *worker_id; /* sqlite3_malloc'ed copies (names may hold NULs: lengths kept) */
  char *host;
  int n_worker_id, n_host;
  int alive; /* set by lifeline_judge */
} LifelineRow;

/* --- lifeline_lock.c: the registry (thread-safe; errno-style results) ----- */

/* This process as _honker_workers records it. The token is a random number
** drawn once per loaded copy of the library and process (again after fork):
** it tells this copy's rows from another copy's in the same process. */
sqlite3_int64 lifeline_self_pid(void);
sqlite3_int64 lifeline_self_token(void);
const char *lifeline_self_host(void);

/* Open (create = 1: creating it with mode) the lock file at path, or find the
** descriptor this process already has for it. 0 with *out set (NULL when the
** file does not exist and create = 0), or an errno value. Pair with
** lifeline_file_close. */
int lifeline_file_open(const char *path, int create, unsigned mode, LifelineFile **out);
void lifeline_file_close(LifelineFile *f);

/* Judge every row: alive when its slot is held (by this process: from the
** registry; by another: F_GETLK), or when it cannot be told (see lifeline.c). */
void lifeline_judge(LifelineFile *f, LifelineRow *rows, int n);

/* Take the lowest slot >= 0 that is not in taken[0..n_taken) and that no
** process holds, for connection owner and worker_id: 0 with *slot set, or an
** errno value (f must have been opened with create = 1). */
int lifeline_slot_take(LifelineFile *f, const sqlite3_int64 *taken, int n_taken, void *owner,
                       const char *worker_id, int n_worker_id, sqlite3_int64 *slot);
/* The slot owner holds for worker_id (on any file), or -1. With nest = +1 /
** -1 the registration count is changed first (-1 never below 1). */
sqlite3_int64 lifeline_slot_find(void *owner, const char *worker_id, int n_worker_id, int nest,
                                 int *count);
/* Unlock and forget owner's slot for worker_id (all of owner's slots when
** worker_id is NULL). */
void lifeline_slot_drop(void *owner, const char *worker_id, int n_worker_id);

/* --- lifeline.c: what the claim path calls -------------------------------- */

/* util.c: the unix second of the connection's last rescue check (0: never). */
sqlite3_int64 *honker_conn_lifeline_checked(sqlite3_context *ctx);

/* At most once per second per connection (now = unixepoch()): expire the
** claims of registered workers whose process died. Sets the SQL error and
** returns non-zero on failure. */
int lifeline_rescue_due(sqlite3_context *ctx, sqlite3_int64 now);
/* *present = 1 when _honker_workers exists and has a row. */
int lifeline_workers_present(sqlite3_context *ctx, int *present);

#endif /* HONKER_LIFELINE_H */
