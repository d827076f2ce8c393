// npx tsx producer.ts [db] [queue] [count]: each order and its job commit together.
import { open } from 'honker';

const [path = 'app.db', queue = 'orders', count = '1'] = process.argv.slice(2);
const db = open(path); // WAL, busy_timeout 5000, the extension loaded, bootstrapped
db.raw.exec('CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL)');
const insert = db.raw.prepare('INSERT INTO orders(item) VALUES (?)');
const orders = db.queue<{ order: number }>(queue);
for (let n = 0; n < Number(count); n++) {
  // BEGIN IMMEDIATE … COMMIT: the order and its job exist together, or neither does.
  const { order, job } = db.transaction(() => {
    const order = Number(insert.run(`book ${n}`).lastInsertRowid);
    return { order, job: orders.enqueue({ order }) }; // maxAttempts 3 by default
  });
  console.log(JSON.stringify({ order, job }));
}
db.close();
