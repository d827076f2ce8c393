# Open app.db the honker way: shared by producer.tcl and worker.tcl.
package require sqlite3

# $HONKER_EXT_PATH, else ask the npm package where its library is.
proc extension_path {} {
    if {[info exists ::env(HONKER_EXT_PATH)] && $::env(HONKER_EXT_PATH) ne ""} { return $::env(HONKER_EXT_PATH) }
    return [string trim [exec npx honker extension-path]]
}

# Opens the file as the command `db`.
proc honker_connect {path} {
    sqlite3 db $path
    db timeout 5000                        ;# wait for the write lock instead of failing at once
    db eval {PRAGMA journal_mode = WAL}    ;# readers never block the writer
    db enable_load_extension 1
    set ext [extension_path]
    db eval {SELECT load_extension($ext)}
    db enable_load_extension 0
    db eval {SELECT honker_bootstrap()}    ;# honker's tables, once; cheap after that
    db eval {CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL)}
}
