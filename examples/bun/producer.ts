// bun producer.ts [db] [queue] [count]: each order and its job commit together.
import { connect, one } from './honker-db.ts';

const [path = 'app.db', queue = 'orders', count = '1'] = process.argv.slice(2);
const db = connect(path);
const insert = db.query('INSERT INTO orders(item) VALUES (?)');
// .immediate takes the write lock at BEGIN, so the transaction cannot fail half-way with SQLITE_BUSY.
const placeOrder = db.transaction((item: string) => {
  const order = Number(insert.run(item).lastInsertRowid);
  // (queue, payload, run_at, delay_s, priority, max_attempts, expires_s)
  const job = one<number>(db, 'SELECT honker_enqueue(?, ?, NULL, NULL, 0, 3, NULL)', queue, JSON.stringify({ order }));
  return { order, job };
}).immediate;
for (let n = 0; n < Number(count); n++) {
  console.log(JSON.stringify(placeOrder(`book ${n}`))); // committed: the order and its job, or neither
}
