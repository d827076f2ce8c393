"""python3 producer.py [db] [queue] [count]: each order and its job commit together."""
import json
import sys

from honker_db import connect

args = sys.argv[1:] + [None] * 3
path, queue, count = args[0] or "app.db", args[1] or "orders", int(args[2] or 1)
db = connect(path)
for n in range(count):
    # IMMEDIATE takes the write lock now, so the transaction cannot fail half-way with SQLITE_BUSY.
    db.execute("BEGIN IMMEDIATE")
    order = db.execute("INSERT INTO orders(item) VALUES (?)", (f"book {n}",)).lastrowid
    # (queue, payload, run_at, delay_s, priority, max_attempts, expires_s)
    job = db.execute(
        "SELECT honker_enqueue(?, ?, NULL, NULL, 0, 3, NULL)", (queue, json.dumps({"order": order}))
    ).fetchone()[0]
    db.execute("COMMIT")  # the order and its job exist together, or neither does
    print(json.dumps({"order": order, "job": job}), flush=True)
