//! cargo run -- producer [db] [queue] [count]    each order and its job commit together
//! cargo run -- worker   [db] [queue] [worker]   claim, handle, ack; sleep until the next commit
use rusqlite::{params, Connection, ToSql, TransactionBehavior};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};
use std::{env, error::Error, path::Path, process::Command};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// $HONKER_EXT_PATH, else what the npm package says.
fn extension_path() -> Result<String> {
    if let Ok(path) = env::var("HONKER_EXT_PATH") {
        return Ok(path);
    }
    let out = Command::new("npx").args(["honker", "extension-path"]).output()?;
    if !out.status.success() {
        return Err("npx honker extension-path failed: is honker installed here?".into());
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

fn open(path: &str) -> Result<Connection> {
    let db = Connection::open(path)?;
    db.busy_timeout(std::time::Duration::from_millis(5000))?; // wait for the write lock, don't fail
    db.pragma_update(None, "journal_mode", "WAL")?; // readers never block the writer
    // Loading native code is unsafe to Rust: the library runs with the process's rights.
    unsafe {
        db.load_extension_enable()?;
        db.load_extension(extension_path()?, None)?; // entry point from the file name
        db.load_extension_disable()?;
    }
    db.query_row("SELECT honker_bootstrap()", [], |_| Ok(()))?; // honker's tables, once
    db.execute("CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL)", [])?;
    Ok(db)
}

fn produce(mut db: Connection, queue: &str, count: u32) -> Result<()> {
    for n in 0..count {
        // Immediate: the write lock is taken at BEGIN, so the transaction never fails half-way
        // with SQLITE_BUSY. Dropped without commit(), it rolls back.
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("INSERT INTO orders(item) VALUES (?)", [format!("book {n}")])?;
        let order = tx.last_insert_rowid();
        // (queue, payload, run_at, delay_s, priority, max_attempts, expires_s)
        let job: i64 = tx.query_row(
            "SELECT honker_enqueue(?, ?, NULL, NULL, 0, 3, NULL)",
            params![queue, json!({ "order": order }).to_string()],
            |r| r.get(0),
        )?;
        tx.commit()?; // the order and its job exist together, or neither does
        println!("{}", json!({ "order": order, "job": job }));
    }
    Ok(())
}

fn now_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64() * 1000.0
}

fn work(db: Connection, path: &str, queue: &str, worker: &str) -> Result<()> {
    // Every honker call returns one value: an integer, or the claim's JSON text.
    let int = |sql: &str, args: &[&dyn ToSql]| db.query_row(sql, args, |r| r.get::<_, i64>(0));
    // The watcher's poller thread wakes our wait on any commit to the file, from any process.
    let abs = std::fs::canonicalize(Path::new(path))?;
    let watcher = int("SELECT honker_update_watcher_open(?, NULL)", &[&abs.to_string_lossy()])?;
    // Registered: if this process dies, its jobs come back within about a second.
    int("SELECT honker_worker_register(?)", &[&worker])?;
    let mut woke_ms = now_ms();
    loop {
        let claimed: String = db.query_row("SELECT honker_claim_batch(?, ?, 10, 30)", [queue, worker], |r| r.get(0))?; // 10 jobs, 30 s each
        let jobs: Vec<Value> = serde_json::from_str(&claimed)?;
        for job in &jobs {
            // The payload is a JSON string holding the payload's JSON text.
            let payload: Value = serde_json::from_str(job["payload"].as_str().unwrap_or("null"))?;
            let id = job["id"].as_i64().unwrap_or_default();
            let outcome = if payload["fail"] == json!(true) {
                // The handler failed: try again in 1 s (dead after max_attempts).
                int("SELECT honker_retry(?, ?, 1, ?)", &[&id, &worker, &"payload asked to fail"])?;
                "retried"
            } else {
                // "Ship" the order, then ack: the job is deleted.
                int("SELECT honker_ack(?, ?)", &[&id, &worker])?;
                "acked"
            };
            println!("{}", json!({ "id": id, "attempts": job["attempts"], "outcome": outcome, "woke_ms": woke_ms }));
        }
        if !jobs.is_empty() {
            continue; // there may be more
        }
        // Nothing due: sleep until a commit or the next due time (a retry's delay), never a fixed poll.
        let next_at = int("SELECT honker_queue_next_claim_at(?)", &[&queue])?; // unix s, 0 = nothing scheduled
        let timeout_ms = if next_at == 0 { -1 } else { (next_at as f64 * 1000.0 - now_ms()).max(0.0) as i64 };
        if int("SELECT honker_update_watcher_wait(?, ?)", &[&watcher, &timeout_ms])? < 0 {
            return Err("watcher died (database file replaced?)".into());
        }
        woke_ms = now_ms();
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    let (path, queue) = (arg(1, "app.db"), arg(2, "orders"));
    match arg(0, "").as_str() {
        "producer" => produce(open(&path)?, &queue, arg(3, "1").parse()?),
        "worker" => work(open(&path)?, &path, &queue, &arg(3, &format!("rust-{}", std::process::id()))),
        _ => Err("usage: honker-example producer|worker [db] [queue] [count|worker_id]".into()),
    }
}
