<?php
// Open app.db the honker way: shared by producer.php and worker.php.
// SQLite3::loadExtension() only takes a file name inside the ini setting sqlite3.extension_dir,
// which can only be set at startup: php -d sqlite3.extension_dir="$(dirname "$HONKER_EXT_PATH")" ...
function honker_connect(string $path): SQLite3
{
    $ext = getenv('HONKER_EXT_PATH') ?: trim((string) shell_exec('npx honker extension-path'));
    if (realpath(ini_get('sqlite3.extension_dir')) !== dirname(realpath($ext))) {
        fwrite(STDERR, "run with: php -d sqlite3.extension_dir=" . dirname($ext) . " ...\n");
        exit(2);
    }
    $db = new SQLite3($path);
    $db->enableExceptions(true);
    $db->busyTimeout(5000);                  // wait for the write lock instead of failing at once
    $db->exec('PRAGMA journal_mode = WAL');  // readers never block the writer
    $db->loadExtension(basename($ext));
    $db->querySingle('SELECT honker_bootstrap()'); // honker's tables, once; cheap after that
    $db->exec('CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL)');
    return $db;
}

// One value of a statement, with each ? replaced by a quoted argument. Not prepare()/execute():
// SQLite3Stmt::execute() steps the statement, resets it, and fetchArray() runs it again, so a
// SELECT with side effects (honker_enqueue, honker_claim_batch) would run twice. querySingle()
// runs it once.
function honker_value(SQLite3 $db, string $sql, array $args = [])
{
    $quote = fn($a) => is_int($a) ? (string) $a : "'" . SQLite3::escapeString((string) $a) . "'";
    $next = function () use (&$args, $quote) { return $quote(array_shift($args)); };
    return $db->querySingle(preg_replace_callback('/\?/', $next, $sql));
}
