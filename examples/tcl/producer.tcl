# tclsh producer.tcl [db] [queue] [count]: each order and its job commit together.
source [file join [file dirname [info script]] honker_db.tcl]
lassign [concat $argv [lrange {app.db orders 1} [llength $argv] end]] path queue count
honker_connect $path
for {set n 0} {$n < $count} {incr n} {
    # IMMEDIATE takes the write lock now, so the transaction cannot fail half-way with SQLITE_BUSY;
    # the block commits, or rolls back on an error: the order and its job exist together, or neither.
    db transaction immediate {
        set item "book $n"
        db eval {INSERT INTO orders(item) VALUES ($item)}
        set order [db last_insert_rowid]
        # (queue, payload, run_at, delay_s, priority, max_attempts, expires_s)
        set job [db onecolumn {SELECT honker_enqueue($queue, json_object('order', $order), NULL, NULL, 0, 3, NULL)}]
    }
    puts "{\"order\":$order,\"job\":$job}"
}
