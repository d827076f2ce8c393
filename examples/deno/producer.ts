// deno run --allow-read --allow-write --allow-env --allow-run --allow-ffi producer.ts [db] [queue] [count]
// Each order and its job commit together.
import { connect, one } from './honker-db.ts';

const [path = 'app.db', queue = 'orders', count = '1'] = Deno.args;
const db = connect(path);
const insert = db.prepare('INSERT INTO orders(item) VALUES (?)');
for (let n = 0; n < Number(count); n++) {
  // IMMEDIATE takes the write lock now, so the transaction cannot fail half-way with SQLITE_BUSY.
  db.exec('BEGIN IMMEDIATE');
  try {
    const order = Number(insert.run(`book ${n}`).lastInsertRowid);
    // (queue, payload, run_at, delay_s, priority, max_attempts, expires_s)
    const job = one<number>(db, 'SELECT honker_enqueue(?, ?, NULL, NULL, 0, 3, NULL)', queue, JSON.stringify({ order }));
    db.exec('COMMIT'); // the order and its job exist together, or neither does
    console.log(JSON.stringify({ order, job }));
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}
