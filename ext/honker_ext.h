/*
** honker_ext.h — the public C interface of libhonker_ext.
**
** Only two things are exported from the shared library (it is built with
** -fvisibility=hidden):
**   - sqlite3_honkerext_init, the SQLite extension entry point;
**   - the watcher C ABI below, which honker's language bindings call
**     directly (dlsym) to wait for commits without polling from their side.
**
** Everything else — the SQL functions — is reached through SQL once the
** library is loaded: SELECT load_extension('libhonker_ext');
*/
#ifndef HONKER_EXT_H
#define HONKER_EXT_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define HONKER_API __declspec(dllexport)
#else
#define HONKER_API __attribute__((visibility("default")))
#endif

typedef struct HonkerWatcher HonkerWatcher;

/*
** The watcher: wake a thread when any connection, in any process, commits to
** a database file (spec/sql.md "Watcher"; ext/watcher.c, the inotify backend in
** ext/watcher_kernel.c).
**
** Requirement: the library must have been loaded as a SQLite extension in
** this process (load_extension / sqlite3_load_extension) before the first
** open: the watcher's own read-only connection is opened through that host
** SQLite. Otherwise open fails with "honker_ext is not loaded as a SQLite
** extension in this process ...". honker's bindings load it first.
**
** Types: honker's ABI declares err_len as size_t, timeout_ms and
** poll_interval_ms as uint64_t. On LP64 targets a value below 2^31 passed
** either way reads the same; a uint64_t "forever" (all bits set) reads as -1,
** which waits forever here too.
**
** Open a watcher on the existing database file at db_path (a path, never a
** URI; the file is not created). backend:
**   NULL or ""                  the best available: "kernel" where inotify
**                               works (Linux), else the poller;
**   "kernel", "kernel-watcher"  inotify on the database's directory,
**                               confirmed by PRAGMA data_version; where
**                               inotify cannot be used (not Linux, no
**                               instance or watch left, a network
**                               filesystem) it polls instead, same contract;
**   "polling", "poll"           PRAGMA data_version every poll_interval_ms;
**   "shm", "shm-fast-path"      not built: fails with a message containing
**                               "requires the" (honker's bindings then skip
**                               it); any other name fails with "unknown
**                               watcher backend ...".
** poll_interval_ms <= 0 means the default (1 ms); the maximum is 60000. For
** "kernel" it is the interval of its fallback poll. Returns NULL on failure
** and writes a NUL-terminated message into err_buf, truncated to
** err_len - 1 bytes (nothing is written when err_buf is NULL or
** err_len <= 0).
*/
HONKER_API HonkerWatcher *honker_watcher_open(const char *db_path, const char *backend,
                                              char *err_buf, int err_len);
HONKER_API HonkerWatcher *honker_watcher_open_v2(const char *db_path, const char *backend,
                                                 int poll_interval_ms, char *err_buf, int err_len);

/*
** Block until a commit lands after this handle's previous wait returned 1
** (or after open) -> 1; timeout_ms passes -> 0; the watcher is closed or dead
** -> -1. Many commits coalesce into one 1. timeout_ms < 0 waits without a
** time limit. Several threads may wait on one handle at once: one commit
** wakes them all. A dead watcher (the file was replaced by rename or
** deleted) returns -1, for good: at once when inotify reports the rename or
** delete in the directory (kernel), else within about max(poll interval,
** 100 ms) (poller) or 500 ms (kernel's safety check). Close it and open a
** new one. NULL returns -1.
*/
HONKER_API int honker_watcher_wait(HonkerWatcher *w, int timeout_ms);

/*
** Stop the watcher's thread and free the handle; waits blocked on it return -1
** first. Call it once, after every wait on the handle has started (a wait
** that starts after close was called uses freed memory). NULL is a no-op.
*/
HONKER_API void honker_watcher_close(HonkerWatcher *w);

#ifdef __cplusplus
}
#endif

#endif /* HONKER_EXT_H */
