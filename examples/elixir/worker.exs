# elixir worker.exs [db] [queue] [worker_id]: claim, handle, ack; sleep until the next commit.
Code.require_file("honker_db.exs", __DIR__)
alias HonkerDB, as: DB

defaults = ["app.db", "orders", "elixir-#{System.pid()}"]
[path, queue, worker] = System.argv() ++ Enum.drop(defaults, length(System.argv()))
# SIGTERM would stop the VM gracefully, which waits for the driver's call, blocked in the watcher
# wait: halt at once instead (a claimed job comes back after its 30 s). Ctrl-C: BREAK, then a.
System.trap_signal(:sigterm, fn -> :erlang.halt(0, flush: false) end)
DB.connect(path)
now_ms = fn -> System.os_time(:microsecond) / 1000 end

# The watcher's poller thread wakes our wait on any commit to the file, from any process.
watcher = DB.value!("SELECT honker_update_watcher_open(?, NULL)", [Path.expand(path)])
# Registered: if this process dies, its jobs come back within about a second.
DB.query!("SELECT honker_worker_register(?)", [worker])

Stream.iterate(now_ms.(), fn woke_ms ->
  # Claim up to 10 jobs for 30 s each, in a statement of its own: a claim inside a statement that
  # reads a table (json_each counts) cannot wait for the write lock (SQLITE_BUSY).
  claimed = DB.value!("SELECT honker_claim_batch(?, ?, 10, 30)", [queue, worker])
  # No JSON in Elixir 1.14's standard library: SQLite's json_each reads the array (each payload
  # is a JSON string holding the payload's JSON text).
  jobs = DB.query!("SELECT value->>'id', value->>'attempts', coalesce((value->>'payload')->>'fail', 0)
                    FROM json_each(?)", [claimed])

  for [id, attempts, fail] <- jobs do
    outcome =
      if fail == 1 do # the handler failed: try again in 1 s (dead after max_attempts)
        DB.query!("SELECT honker_retry(?, ?, 1, ?)", [id, worker, "payload asked to fail"])
        "retried"
      else # "ship" the order, then ack: the job is deleted
        DB.query!("SELECT honker_ack(?, ?)", [id, worker])
        "acked"
      end
    IO.puts(~s({"id":#{id},"attempts":#{attempts},"outcome":"#{outcome}","woke_ms":#{woke_ms}}))
  end

  if jobs != [] do
    woke_ms # there may be more: claim again at once
  else
    # Nothing due: sleep until a commit or the next due time (a retry's delay), never a fixed poll.
    next_at = DB.value!("SELECT honker_queue_next_claim_at(?)", [queue]) # unix s, 0 = nothing scheduled
    timeout_ms = if next_at == 0, do: -1, else: max(0, trunc(next_at * 1000 - now_ms.()))
    # The driver's call must outlive the wait: :infinity.
    if DB.value!("SELECT honker_update_watcher_wait(?, ?)", [watcher, timeout_ms], :infinity) < 0,
      do: raise("watcher died (database file replaced?)")
    now_ms.()
  end
end)
|> Stream.run()
