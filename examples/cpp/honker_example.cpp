// ./honker_example producer [db] [queue] [count]    each order and its job commit together
// ./honker_example worker   [db] [queue] [worker]   claim, handle, ack; sleep until the next commit
//
// c++ -std=c++17 -O2 -o honker_example honker_example.cpp -lsqlite3
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <variant>
#include <vector>

using Arg = std::variant<sqlite3_int64, std::string>;

// One connection; every call is a prepared statement with bound arguments.
class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) fail(path);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Every row, each column as text (NULL as ""). The statement is finished before it returns.
  std::vector<std::vector<std::string>> rows(const std::string& sql, const std::vector<Arg>& args = {}) {
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> st(nullptr, sqlite3_finalize);
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) fail(sql);
    st.reset(raw);
    for (size_t i = 0; i < args.size(); i++) {
      if (auto* n = std::get_if<sqlite3_int64>(&args[i])) sqlite3_bind_int64(raw, int(i) + 1, *n);
      else sqlite3_bind_text(raw, int(i) + 1, std::get<std::string>(args[i]).c_str(), -1, SQLITE_TRANSIENT);
    }
    std::vector<std::vector<std::string>> out;
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      auto& row = out.emplace_back();
      for (int c = 0; c < sqlite3_column_count(raw); c++) {
        auto* text = sqlite3_column_text(raw, c);
        row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
      }
    }
    if (rc != SQLITE_DONE) fail(sql);
    return out;
  }
  // The first column of the first row, as an integer.
  sqlite3_int64 value(const std::string& sql, const std::vector<Arg>& args = {}) {
    auto r = rows(sql, args);
    return r.empty() ? 0 : std::stoll(r[0][0]);
  }
  sqlite3* get() { return db_; }

 private:
  [[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + sqlite3_errmsg(db_)); }
  sqlite3* db_ = nullptr;
};

static double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(system_clock::now().time_since_epoch()).count();
}

// $HONKER_EXT_PATH, else what the npm package says.
static std::string extension_path() {
  if (const char* env = std::getenv("HONKER_EXT_PATH"); env && *env) return env;
  char buf[4096] = {0};
  FILE* p = popen("npx honker extension-path", "r");
  if (!p || !fgets(buf, sizeof buf, p) || pclose(p) != 0) throw std::runtime_error("npx honker extension-path failed");
  std::string path = buf;
  return path.substr(0, path.find('\n'));
}

static void setup(Db& db) {
  sqlite3_busy_timeout(db.get(), 5000);      // wait for the write lock instead of failing at once
  db.rows("PRAGMA journal_mode = WAL");      // readers never block the writer
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, nullptr);  // C API only
  char* err = nullptr;
  if (sqlite3_load_extension(db.get(), extension_path().c_str(), nullptr, &err) != SQLITE_OK)
    throw std::runtime_error(std::string("load_extension: ") + err);
  db.value("SELECT honker_bootstrap()");    // honker's tables, once; cheap after that
  db.rows("CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL)");
}

static void produce(Db& db, const std::string& queue, int count) {
  for (int n = 0; n < count; n++) {
    // IMMEDIATE takes the write lock now, so the transaction cannot fail half-way with SQLITE_BUSY.
    db.rows("BEGIN IMMEDIATE");
    try {
      auto order = db.value("INSERT INTO orders(item) VALUES (?) RETURNING id", {"book " + std::to_string(n)});
      // (queue, payload, run_at, delay_s, priority, max_attempts, expires_s)
      auto job = db.value("SELECT honker_enqueue(?, json_object('order', ?), NULL, NULL, 0, 3, NULL)", {queue, order});
      db.rows("COMMIT");  // the order and its job exist together, or neither does
      std::printf("{\"order\":%lld,\"job\":%lld}\n", (long long)order, (long long)job);
    } catch (...) {
      db.rows("ROLLBACK");
      throw;
    }
  }
}

static void work(Db& db, const std::string& path, const std::string& queue, const std::string& worker) {
  // The watcher's poller thread wakes our wait on any commit to the file, from any process.
  auto watcher = db.value("SELECT honker_update_watcher_open(?, NULL)", {std::filesystem::absolute(path).string()});
  // Registered: if this process dies, its jobs come back within about a second.
  db.value("SELECT honker_worker_register(?)", {worker});
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  double woke_ms = now_ms();
  for (;;) {
    // Claim up to 10 jobs for 30 s each, in a statement of its own (a claim inside a statement
    // that reads a table, json_each included, cannot wait for the write lock), then read them
    // with json_each: each payload is a JSON string holding the payload's JSON text.
    auto claimed = db.rows("SELECT honker_claim_batch(?, ?, 10, 30)", {queue, worker})[0][0];
    auto jobs = db.rows("SELECT value->>'id', value->>'attempts', coalesce((value->>'payload')->>'fail', 0)"
                        " FROM json_each(?)", {claimed});
    for (auto& job : jobs) {
      sqlite3_int64 id = std::stoll(job[0]);
      const char* outcome = "acked";
      if (job[2] == "1") {  // the handler failed: try again in 1 s (dead after max_attempts)
        db.value("SELECT honker_retry(?, ?, 1, ?)", {id, worker, std::string("payload asked to fail")});
        outcome = "retried";
      } else {  // "ship" the order, then ack: the job is deleted
        db.value("SELECT honker_ack(?, ?)", {id, worker});
      }
      std::printf("{\"id\":%lld,\"attempts\":%s,\"outcome\":\"%s\",\"woke_ms\":%.3f}\n", (long long)id,
                  job[1].c_str(), outcome, woke_ms);
    }
    if (!jobs.empty()) continue;  // there may be more
    // Nothing due: sleep until a commit or the next due time (a retry's delay), never a fixed poll.
    auto next_at = db.value("SELECT honker_queue_next_claim_at(?)", {queue});  // unix s, 0 = nothing scheduled
    sqlite3_int64 timeout_ms = next_at == 0 ? -1 : std::max<sqlite3_int64>(0, next_at * 1000 - (sqlite3_int64)now_ms());
    if (db.value("SELECT honker_update_watcher_wait(?, ?)", {watcher, timeout_ms}) < 0)
      throw std::runtime_error("watcher died (database file replaced?)");
    woke_ms = now_ms();
  }
}

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto arg = [&](size_t i, std::string def) { return args.size() > i ? args[i] : def; };
  try {
    Db db(arg(1, "app.db"));
    setup(db);
    if (arg(0, "") == "producer") produce(db, arg(2, "orders"), std::stoi(arg(3, "1")));
    else if (arg(0, "") == "worker") work(db, arg(1, "app.db"), arg(2, "orders"), arg(3, "cpp-" + std::to_string(getpid())));
    else throw std::invalid_argument("usage: honker_example producer|worker [db] [queue] [count|worker_id]");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
