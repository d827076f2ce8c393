// go run . producer [db] [queue] [count]   each order and its job commit together
// go run . worker   [db] [queue] [worker]  claim, handle, ack; sleep until the next commit
package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// extensionPath is $HONKER_EXT_PATH, else what the npm package says.
func extensionPath() string {
	if p := os.Getenv("HONKER_EXT_PATH"); p != "" {
		return p
	}
	out, err := exec.Command("npx", "honker", "extension-path").Output()
	if err != nil {
		log.Fatalf("npx honker extension-path: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func open(path string) *sql.DB {
	ext := extensionPath()
	// database/sql pools connections: the hook loads honker into each one. The entry point must
	// be named: with "" go-sqlite3 fails with "undefined symbol:".
	sql.Register("sqlite3_honker", &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		return c.LoadExtension(ext, "sqlite3_honkerext_init")
	}})
	// _txlock=immediate: Begin() takes the write lock at once, so a transaction never fails half-way
	// with SQLITE_BUSY; WAL lets readers run beside the writer.
	db, err := sql.Open("sqlite3_honker", "file:"+path+"?_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate")
	must(err)
	must1(db.Exec("SELECT honker_bootstrap()")) // honker's tables, once; cheap after that
	must1(db.Exec("CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL)"))
	return db
}

func produce(db *sql.DB, queue string, count int) {
	for n := 0; n < count; n++ {
		tx, err := db.Begin()
		must(err)
		res, err := tx.Exec("INSERT INTO orders(item) VALUES (?)", fmt.Sprintf("book %d", n))
		must(err)
		order, _ := res.LastInsertId()
		payload, _ := json.Marshal(map[string]int64{"order": order})
		var job int64 // (queue, payload, run_at, delay_s, priority, max_attempts, expires_s)
		must(tx.QueryRow("SELECT honker_enqueue(?, ?, NULL, NULL, 0, 3, NULL)", queue, string(payload)).Scan(&job))
		must(tx.Commit()) // the order and its job exist together, or neither does
		fmt.Printf("{\"order\":%d,\"job\":%d}\n", order, job)
	}
}

type job struct {
	ID       int64  `json:"id"`
	Payload  string `json:"payload"` // a JSON string holding the payload's JSON text
	Attempts int    `json:"attempts"`
}

func work(db *sql.DB, path, queue, worker string) {
	abs, _ := filepath.Abs(path)
	var watcher int64 // its poller thread wakes our wait on any commit to the file, from any process
	must(db.QueryRow("SELECT honker_update_watcher_open(?, NULL)", abs).Scan(&watcher))
	// Registered: if this process dies, its jobs come back within about a second.
	must1(db.Exec("SELECT honker_worker_register(?)", worker))
	woke := nowMs()
	for {
		var claimed string // up to 10 jobs, each for 30 s
		must(db.QueryRow("SELECT honker_claim_batch(?, ?, 10, 30)", queue, worker).Scan(&claimed))
		var jobs []job
		must(json.Unmarshal([]byte(claimed), &jobs))
		for _, j := range jobs {
			var payload struct{ Fail bool }
			must(json.Unmarshal([]byte(j.Payload), &payload))
			outcome := "acked"
			if payload.Fail { // the handler failed: try again in 1 s (dead after max_attempts)
				must1(db.Exec("SELECT honker_retry(?, ?, 1, ?)", j.ID, worker, "payload asked to fail"))
				outcome = "retried"
			} else { // "ship" the order, then ack: the job is deleted
				must1(db.Exec("SELECT honker_ack(?, ?)", j.ID, worker))
			}
			fmt.Printf("{\"id\":%d,\"attempts\":%d,\"outcome\":%q,\"woke_ms\":%.3f}\n", j.ID, j.Attempts, outcome, woke)
		}
		if len(jobs) > 0 {
			continue // there may be more
		}
		// Nothing due: sleep until a commit or the next due time (a retry's delay), never a fixed poll.
		var nextAt int64 // unix s, 0 = nothing scheduled
		must(db.QueryRow("SELECT honker_queue_next_claim_at(?)", queue).Scan(&nextAt))
		timeout := int64(-1)
		if nextAt > 0 {
			timeout = max(0, nextAt*1000-int64(nowMs()))
		}
		var woken int // 1 a commit, 0 timeout, -1 the watcher died
		must(db.QueryRow("SELECT honker_update_watcher_wait(?, ?)", watcher, timeout).Scan(&woken))
		if woken < 0 {
			log.Fatal("watcher died (database file replaced?)")
		}
		woke = nowMs()
	}
}

func main() {
	arg := func(i int, def string) string {
		if len(os.Args) > i {
			return os.Args[i]
		}
		return def
	}
	path, queue := arg(2, "app.db"), arg(3, "orders")
	switch arg(1, "") {
	case "producer":
		count, err := strconv.Atoi(arg(4, "1"))
		must(err)
		produce(open(path), queue, count)
	case "worker":
		work(open(path), path, queue, arg(4, fmt.Sprintf("go-%d", os.Getpid())))
	default:
		log.Fatal("usage: go run . producer|worker [db] [queue] [count|worker_id]")
	}
}

func nowMs() float64 { return float64(time.Now().UnixMicro()) / 1000 }

func max(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func must1(_ sql.Result, err error) { must(err) }
