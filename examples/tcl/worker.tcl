# tclsh worker.tcl [db] [queue] [worker_id]: claim, handle, ack; sleep until the next commit.
source [file join [file dirname [info script]] honker_db.tcl]
lassign [concat $argv [lrange [list app.db orders tcl-[pid]] [llength $argv] end]] path queue worker
honker_connect $path
fconfigure stdout -buffering line
proc now_ms {} { expr {[clock microseconds] / 1000.0} }

# The watcher's poller thread wakes our wait on any commit to the file, from any process.
set abs [file normalize $path]
set watcher [db onecolumn {SELECT honker_update_watcher_open($abs, NULL)}]
# Registered: if this process dies, its jobs come back within about a second.
db eval {SELECT honker_worker_register($worker)}

set woke_ms [now_ms]
while 1 {
    # Claim up to 10 jobs for 30 s each, in a statement of its own; Tcl has no JSON parser, so
    # SQLite's json_each reads them in a second one (each payload is a JSON string holding the
    # payload's JSON text), all before any ack (see ../README.md).
    set claimed [db onecolumn {SELECT honker_claim_batch($queue, $worker, 10, 30)}]
    set jobs [db eval {SELECT value->>'id', value->>'attempts', coalesce((value->>'payload')->>'fail', 0)
                       FROM json_each($claimed)}]
    foreach {id attempts fail} $jobs {
        if {$fail} {   ;# the handler failed: try again in 1 s (dead after max_attempts)
            db eval {SELECT honker_retry($id, $worker, 1, 'payload asked to fail')}
            set outcome retried
        } else {       ;# "ship" the order, then ack: the job is deleted
            db eval {SELECT honker_ack($id, $worker)}
            set outcome acked
        }
        puts "{\"id\":$id,\"attempts\":$attempts,\"outcome\":\"$outcome\",\"woke_ms\":$woke_ms}"
    }
    if {[llength $jobs]} continue   ;# there may be more
    # Nothing due: sleep until a commit or the next due time (a retry's delay), never a fixed poll.
    set next_at [db onecolumn {SELECT honker_queue_next_claim_at($queue)}]   ;# unix s, 0 = none
    set timeout_ms [expr {$next_at == 0 ? -1 : max(0, int($next_at * 1000 - [now_ms]))}]
    if {[db onecolumn {SELECT honker_update_watcher_wait($watcher, $timeout_ms)}] < 0} {
        error "watcher died (database file replaced?)"
    }
    set woke_ms [now_ms]
}
