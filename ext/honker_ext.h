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
** Open a watcher on the database file at db_path. backend is NULL, "",
** "polling" or "poll" (the PRAGMA data_version poller); poll_interval_ms <= 0
** means the default (1 ms). Returns NULL and writes a NUL-terminated message
** into err_buf (err_len bytes) on failure.
*/
HONKER_API HonkerWatcher *honker_watcher_open(const char *db_path, const char *backend,
                                              char *err_buf, int err_len);
HONKER_API HonkerWatcher *honker_watcher_open_v2(const char *db_path, const char *backend,
                                                 int poll_interval_ms, char *err_buf,
                                                 int err_len);

/*
** Block until a commit lands after the previous wait returned (1), timeout_ms
** passes (0), or the watcher is closed or dead (-1). timeout_ms < 0 waits
** forever.
*/
HONKER_API int honker_watcher_wait(HonkerWatcher *w, int timeout_ms);

/* Stop the poller thread and free the handle. NULL is a no-op. */
HONKER_API void honker_watcher_close(HonkerWatcher *w);

#ifdef __cplusplus
}
#endif

#endif /* HONKER_EXT_H */
