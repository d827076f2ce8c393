# elixir producer.exs [db] [queue] [count]: each order and its job commit together.
Code.require_file("honker_db.exs", __DIR__)
alias HonkerDB, as: DB

defaults = ["app.db", "orders", "1"]
[path, queue, count] = System.argv() ++ Enum.drop(defaults, length(System.argv()))
DB.connect(path)

for n <- 1..String.to_integer(count)//1 do
  # IMMEDIATE takes the write lock now, so the transaction cannot fail half-way with SQLITE_BUSY.
  DB.query!("BEGIN IMMEDIATE")
  order = DB.value!("INSERT INTO orders(item) VALUES (?) RETURNING id", ["book #{n}"])
  # (queue, payload, run_at, delay_s, priority, max_attempts, expires_s)
  job = DB.value!("SELECT honker_enqueue(?, json_object('order', ?), NULL, NULL, 0, 3, NULL)", [queue, order])
  DB.query!("COMMIT") # the order and its job exist together, or neither does
  IO.puts(~s({"order":#{order},"job":#{job}}))
end
