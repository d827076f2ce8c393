# ruby worker.rb [db] [queue] [worker_id]: claim, handle, ack; sleep until the next commit.
require "json"
require_relative "honker_db"

path, queue, worker = ARGV[0] || "app.db", ARGV[1] || "orders", ARGV[2] || "ruby-#{Process.pid}"
# Ctrl-C and SIGTERM end the process even inside a wait (Ruby's own handlers run only when the
# wait returns); a job it had claimed is claimable again once its 30 s visibility timeout passes.
%w[INT TERM].each { |sig| trap(sig, "SYSTEM_DEFAULT") }
$stdout.sync = true
db = HonkerDB.connect(path)
now_ms = -> { Process.clock_gettime(Process::CLOCK_REALTIME, :float_millisecond) }
# The watcher's poller thread wakes our wait on any commit to the file, from any process.
watcher = db.get_first_value("SELECT honker_update_watcher_open(?, NULL)", [File.expand_path(path)])
# Registered: if this process dies, its jobs come back within about a second.
db.execute("SELECT honker_worker_register(?)", [worker])

woke_ms = now_ms.call
loop do
  jobs = JSON.parse(db.get_first_value("SELECT honker_claim_batch(?, ?, 10, 30)", [queue, worker])) # up to 10, 30 s each
  jobs.each do |job|
    payload = JSON.parse(job["payload"]) # the payload is a JSON string inside the JSON
    if payload["fail"] # the handler failed: try again in 1 s (dead after max_attempts)
      db.execute("SELECT honker_retry(?, ?, 1, ?)", [job["id"], worker, "payload asked to fail"])
      outcome = "retried"
    else # "ship" the order, then ack: the job is deleted
      db.execute("SELECT honker_ack(?, ?)", [job["id"], worker])
      outcome = "acked"
    end
    puts({ id: job["id"], attempts: job["attempts"], outcome: outcome, woke_ms: woke_ms }.to_json)
  end
  next unless jobs.empty? # there may be more

  # Nothing due: sleep until a commit or the next due time (a retry's delay), never a fixed poll.
  next_at = db.get_first_value("SELECT honker_queue_next_claim_at(?)", [queue]) # unix s, 0 = nothing scheduled
  timeout_ms = next_at.zero? ? -1 : [0, (next_at * 1000 - now_ms.call).to_i].max
  abort "watcher died (database file replaced?)" if db.get_first_value("SELECT honker_update_watcher_wait(?, ?)", [watcher, timeout_ms]) < 0
  woke_ms = now_ms.call
end
