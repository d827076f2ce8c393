/*
** watcher.h — private glue between watcher.c (the poller and the C ABI of
** honker_ext.h) and watcher_sql.c (the honker_update_watcher_* SQL functions).
** Not installed, not exported.
*/
#ifndef HONKER_WATCHER_H
#define HONKER_WATCHER_H

#include "honker_ext.h"

/* Make every current and later wait on w return -1 without freeing w, so a
** caller that still holds w (a SQL wait in flight) can finish before
** honker_watcher_close(w) frees it. Idempotent; safe from any thread. */
void watcher_stop(HonkerWatcher *w);

#endif /* HONKER_WATCHER_H */
