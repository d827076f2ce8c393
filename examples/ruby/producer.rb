# ruby producer.rb [db] [queue] [count]: each order and its job commit together.
require "json"
require_relative "honker_db"

path, queue, count = ARGV[0] || "app.db", ARGV[1] || "orders", Integer(ARGV[2] || 1)
db = HonkerDB.connect(path)
count.times do |n|
  order = job = nil
  # :immediate takes the write lock now, so the transaction cannot fail half-way with SQLITE_BUSY.
  db.transaction(:immediate) do
    db.execute("INSERT INTO orders(item) VALUES (?)", ["book #{n}"])
    order = db.last_insert_row_id
    # (queue, payload, run_at, delay_s, priority, max_attempts, expires_s)
    job = db.get_first_value("SELECT honker_enqueue(?, ?, NULL, NULL, 0, 3, NULL)", [queue, { order: order }.to_json])
  end # COMMIT: the order and its job exist together, or neither does
  puts({ order: order, job: job }.to_json)
  $stdout.flush
end
