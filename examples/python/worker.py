"""python3 worker.py [db] [queue] [worker_id]: claim, handle, ack; sleep until the next commit."""
import json
import os
import signal
import sys
import time

from honker_db import connect

args = sys.argv[1:] + [None] * 3
path, queue, worker = args[0] or "app.db", args[1] or "orders", args[2] or f"python-{os.getpid()}"
# Ctrl-C ends the process even inside a wait (Python would only see it when the wait returns);
# a job it had claimed is claimable again once its 30 s visibility timeout passes.
signal.signal(signal.SIGINT, signal.SIG_DFL)
db = connect(path)
# The watcher's poller thread wakes our wait on any commit to the file, from any process.
watcher = db.execute("SELECT honker_update_watcher_open(?, NULL)", (os.path.abspath(path),)).fetchone()[0]
# Registered: if this process dies, its jobs come back within about a second.
db.execute("SELECT honker_worker_register(?)", (worker,))


def one(sql, *args):
    return db.execute(sql, args).fetchone()[0]


woke_ms = time.time() * 1000
while True:
    jobs = json.loads(one("SELECT honker_claim_batch(?, ?, 10, 30)", queue, worker))  # up to 10, 30 s each
    for job in jobs:
        payload = json.loads(job["payload"])  # the payload is a JSON string inside the JSON
        if payload.get("fail"):  # the handler failed: try again in 1 s (dead after max_attempts)
            one("SELECT honker_retry(?, ?, 1, ?)", job["id"], worker, "payload asked to fail")
            outcome = "retried"
        else:  # "ship" the order, then ack: the job is deleted
            one("SELECT honker_ack(?, ?)", job["id"], worker)
            outcome = "acked"
        print(json.dumps({"id": job["id"], "attempts": job["attempts"], "outcome": outcome, "woke_ms": woke_ms}), flush=True)
    if jobs:
        continue  # there may be more
    # Nothing due: sleep until a commit or the next due time (a retry's delay), never a fixed poll.
    next_at = one("SELECT honker_queue_next_claim_at(?)", queue)  # unix s, 0 = nothing scheduled
    timeout_ms = -1 if next_at == 0 else max(0, int(next_at * 1000 - time.time() * 1000))
    if one("SELECT honker_update_watcher_wait(?, ?)", watcher, timeout_ms) < 0:
        sys.exit("watcher died (database file replaced?)")
    woke_ms = time.time() * 1000
