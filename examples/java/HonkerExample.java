// java -cp /usr/share/java/sqlite-jdbc.jar HonkerExample.java producer [db] [queue] [count]
// java -cp /usr/share/java/sqlite-jdbc.jar HonkerExample.java worker   [db] [queue] [worker_id]
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.sqlite.SQLiteConfig;

public class HonkerExample {
  /** $HONKER_EXT_PATH, else ask the npm package where its library is. */
  static String extensionPath() throws IOException, InterruptedException {
    String fromEnv = System.getenv("HONKER_EXT_PATH");
    if (fromEnv != null && !fromEnv.isEmpty()) return fromEnv;
    Process p = new ProcessBuilder("npx", "honker", "extension-path").start();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    if (p.waitFor() != 0) throw new IOException("npx honker extension-path failed");
    return out;
  }

  static Connection open(String path) throws Exception {
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL); // readers never block the writer
    config.setBusyTimeout(5000); // wait for the write lock instead of failing at once
    // Transactions start with BEGIN IMMEDIATE: the write lock is taken at once, so a transaction
    // never fails half-way with SQLITE_BUSY.
    config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
    config.enableLoadExtension(true); // lets SQL call load_extension()
    Connection db = config.createConnection("jdbc:sqlite:" + path);
    value(db, "SELECT load_extension(?)", extensionPath());
    value(db, "SELECT honker_bootstrap()"); // honker's tables, once; cheap after that
    value(db, "CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL)");
    return db;
  }

  /** The first column of the first row as a long (0 when there is none: DDL, NULL). */
  static long value(Connection db, String sql, Object... args) throws SQLException {
    try (PreparedStatement st = db.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) st.setObject(i + 1, args[i]);
      if (!st.execute()) return 0;
      try (ResultSet rs = st.getResultSet()) {
        return rs.next() ? rs.getLong(1) : 0;
      }
    }
  }

  static void produce(Connection db, String queue, int count) throws SQLException {
    db.setAutoCommit(false); // from here on each commit() ends a BEGIN IMMEDIATE transaction
    for (int n = 0; n < count; n++) {
      long order, job;
      try (PreparedStatement st = db.prepareStatement("INSERT INTO orders(item) VALUES (?) RETURNING id")) {
        st.setString(1, "book " + n);
        try (ResultSet rs = st.executeQuery()) {
          rs.next();
          order = rs.getLong(1);
        }
      }
      // (queue, payload, run_at, delay_s, priority, max_attempts, expires_s)
      job = value(db, "SELECT honker_enqueue(?, json_object('order', ?), NULL, NULL, 0, 3, NULL)", queue, order);
      db.commit(); // the order and its job exist together, or neither does
      System.out.printf("{\"order\":%d,\"job\":%d}%n", order, job);
    }
  }

  record Job(long id, long attempts, boolean fail) {}

  static double nowMs() {
    Instant t = Instant.now(); // microseconds on Linux
    return t.getEpochSecond() * 1000.0 + t.getNano() / 1e6;
  }

  static void work(Connection db, String path, String queue, String worker) throws SQLException {
    // The watcher's poller thread wakes our wait on any commit to the file, from any process.
    long watcher = value(db, "SELECT honker_update_watcher_open(?, NULL)", Path.of(path).toAbsolutePath().toString());
    // Registered: if this process dies, its jobs come back within about a second.
    value(db, "SELECT honker_worker_register(?)", worker);
    double wokeMs = nowMs();
    while (true) {
      // Claim up to 10 jobs for 30 s each, in a statement of its own: a claim inside a statement
      // that reads a table (json_each counts) cannot wait for the write lock (SQLITE_BUSY).
      String claimed;
      try (PreparedStatement st = db.prepareStatement("SELECT honker_claim_batch(?, ?, 10, 30)")) {
        st.setString(1, queue);
        st.setString(2, worker);
        try (ResultSet rs = st.executeQuery()) {
          claimed = rs.next() ? rs.getString(1) : "[]";
        }
      }
      // Java has no JSON parser: SQLite's json_each reads the array (each payload is a JSON
      // string holding the payload's JSON text). Read them all before acking, for the same reason.
      List<Job> jobs = new ArrayList<>();
      try (PreparedStatement st = db.prepareStatement(
          "SELECT value->>'id', value->>'attempts', coalesce((value->>'payload')->>'fail', 0) FROM json_each(?)")) {
        st.setString(1, claimed);
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) jobs.add(new Job(rs.getLong(1), rs.getLong(2), rs.getBoolean(3)));
        }
      }
      for (Job job : jobs) {
        String outcome;
        if (job.fail()) { // the handler failed: try again in 1 s (dead after max_attempts)
          value(db, "SELECT honker_retry(?, ?, 1, ?)", job.id(), worker, "payload asked to fail");
          outcome = "retried";
        } else { // "ship" the order, then ack: the job is deleted
          value(db, "SELECT honker_ack(?, ?)", job.id(), worker);
          outcome = "acked";
        }
        System.out.printf("{\"id\":%d,\"attempts\":%d,\"outcome\":\"%s\",\"woke_ms\":%.3f}%n", job.id(), job.attempts(), outcome, wokeMs);
      }
      if (!jobs.isEmpty()) continue; // there may be more
      // Nothing due: sleep until a commit or the next due time (a retry's delay), never a fixed poll.
      long nextAt = value(db, "SELECT honker_queue_next_claim_at(?)", queue); // unix s, 0 = nothing scheduled
      long timeoutMs = nextAt == 0 ? -1 : Math.max(0, (long) (nextAt * 1000 - nowMs()));
      if (value(db, "SELECT honker_update_watcher_wait(?, ?)", watcher, timeoutMs) < 0) {
        throw new IllegalStateException("watcher died (database file replaced?)");
      }
      wokeMs = nowMs();
    }
  }

  public static void main(String[] args) throws Exception {
    String path = args.length > 1 ? args[1] : "app.db", queue = args.length > 2 ? args[2] : "orders";
    switch (args.length > 0 ? args[0] : "") {
      case "producer" -> produce(open(path), queue, args.length > 3 ? Integer.parseInt(args[3]) : 1);
      case "worker" -> work(open(path), path, queue, args.length > 3 ? args[3] : "java-" + ProcessHandle.current().pid());
      default -> throw new IllegalArgumentException("usage: HonkerExample producer|worker [db] [queue] [count|worker_id]");
    }
  }
}
