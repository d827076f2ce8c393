/*
** history.h — the one call every settle path makes (history.c): count jobs
** completed, failed or dead-lettered in queue's row of the current minute.
** Internal: nothing here is exported from the library.
*/
#ifndef HONKER_HISTORY_H
#define HONKER_HISTORY_H

#include "util.h"

/* Add completed, failed and dead (each >= 0; all 0 writes nothing) to the
** row (minute of now, queue) of _honker_history, creating it, and applying
** the retention, on the queue's first settle of that minute. The caller
** holds the write lock (honker_write_begin): the counts commit or roll back
** with the settle. */
int history_count(sqlite3_context *ctx, const char *queue, int n_queue, sqlite3_int64 now,
                  sqlite3_int64 completed, sqlite3_int64 failed, sqlite3_int64 dead);

#endif /* HONKER_HISTORY_H */
