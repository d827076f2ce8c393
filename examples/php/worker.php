<?php
// php -d sqlite3.extension_dir=DIR worker.php [db] [queue] [worker_id]: claim, handle, ack; sleep until the next commit.
require __DIR__ . '/honker_db.php';

[$path, $queue, $worker] = [$argv[1] ?? 'app.db', $argv[2] ?? 'orders', $argv[3] ?? 'php-' . getmypid()];
$db = honker_connect($path);
// The watcher's poller thread wakes our wait on any commit to the file, from any process.
$watcher = honker_value($db, "SELECT honker_update_watcher_open(?, NULL)", [realpath($path)]);
// Registered: if this process dies, its jobs come back within about a second.
honker_value($db, 'SELECT honker_worker_register(?)', [$worker]);

$wokeMs = microtime(true) * 1000;
while (true) {
    $jobs = json_decode(honker_value($db, 'SELECT honker_claim_batch(?, ?, 10, 30)', [$queue, $worker]), true); // up to 10, 30 s each
    foreach ($jobs as $job) {
        $payload = json_decode($job['payload'], true); // the payload is a JSON string inside the JSON
        if ($payload['fail'] ?? false) { // the handler failed: try again in 1 s (dead after max_attempts)
            honker_value($db, 'SELECT honker_retry(?, ?, 1, ?)', [$job['id'], $worker, 'payload asked to fail']);
            $outcome = 'retried';
        } else { // "ship" the order, then ack: the job is deleted
            honker_value($db, 'SELECT honker_ack(?, ?)', [$job['id'], $worker]);
            $outcome = 'acked';
        }
        echo json_encode(['id' => $job['id'], 'attempts' => $job['attempts'], 'outcome' => $outcome, 'woke_ms' => $wokeMs]), "\n";
    }
    if ($jobs) {
        continue; // there may be more
    }
    // Nothing due: sleep until a commit or the next due time (a retry's delay), never a fixed poll.
    $nextAt = honker_value($db, 'SELECT honker_queue_next_claim_at(?)', [$queue]); // unix s, 0 = nothing scheduled
    $timeoutMs = $nextAt === 0 ? -1 : max(0, (int) ($nextAt * 1000 - microtime(true) * 1000));
    if (honker_value($db, 'SELECT honker_update_watcher_wait(?, ?)', [$watcher, $timeoutMs]) < 0) {
        fwrite(STDERR, "watcher died (database file replaced?)\n");
        exit(1);
    }
    $wokeMs = microtime(true) * 1000;
}
