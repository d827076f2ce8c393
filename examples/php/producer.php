<?php
// php -d sqlite3.extension_dir=DIR producer.php [db] [queue] [count]: each order and its job commit together.
require __DIR__ . '/honker_db.php';

[$path, $queue, $count] = [$argv[1] ?? 'app.db', $argv[2] ?? 'orders', (int) ($argv[3] ?? 1)];
$db = honker_connect($path);
for ($n = 0; $n < $count; $n++) {
    // IMMEDIATE takes the write lock now, so the transaction cannot fail half-way with SQLITE_BUSY.
    $db->exec('BEGIN IMMEDIATE');
    honker_value($db, 'INSERT INTO orders(item) VALUES (?)', ["book $n"]);
    $order = $db->lastInsertRowID();
    // (queue, payload, run_at, delay_s, priority, max_attempts, expires_s)
    $job = honker_value($db, 'SELECT honker_enqueue(?, ?, NULL, NULL, 0, 3, NULL)', [$queue, json_encode(['order' => $order])]);
    $db->exec('COMMIT'); // the order and its job exist together, or neither does
    echo json_encode(['order' => $order, 'job' => $job]), "\n";
}
