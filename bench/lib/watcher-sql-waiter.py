"""The waiting process of bench/watcher-c.ts: /usr/bin/python3 on the
honker_update_watcher_* SQL functions (stdlib sqlite3, the system SQLite), as
honker's Python binding and examples/python use them. DB and EXT come from
the environment. One command per stdin line, one reply line on stdout;
times are CLOCK_MONOTONIC (time.monotonic_ns), the clock of the parent's
process.hrtime, so the two processes' stamps compare directly.

  open <backend|->        <id>
  wait <id> <ms>          <result> <ns when the wait returned>
  sock <path>             ok          (connect to the parent's Unix socket)
  recv                    <ns when one byte arrived on it>
  cpuwait <id> <ms>       <result> <cpu_ns> <wall_ns>  (this process's CPU
                          time, all threads, over one blocked wait)
  cpusleep <ms>           0 <cpu_ns> <wall_ns>         (the same, asleep)
  close <id>              1
  quit
"""
import os
import socket
import sqlite3
import sys
import time

DB = os.environ["DB"]
EXT = os.environ["EXT"]


def main():
    conn = sqlite3.connect(DB, isolation_level=None)
    conn.enable_load_extension(True)
    conn.load_extension(EXT)
    wait_sql = "SELECT honker_update_watcher_wait(?, ?)"
    sock = None
    for line in sys.stdin:
        words = line.split()
        cmd = words[0] if words else ""
        if cmd == "open":
            backend = None if words[1] == "-" else words[1]
            reply = conn.execute("SELECT honker_update_watcher_open(?, ?)", (DB, backend)).fetchone()[0]
        elif cmd == "wait":
            r = conn.execute(wait_sql, (int(words[1]), int(words[2]))).fetchone()[0]
            reply = f"{r} {time.monotonic_ns()}"
        elif cmd == "sock":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(words[1])
            reply = "ok"
        elif cmd == "recv":
            sock.recv(1)
            reply = str(time.monotonic_ns())
        elif cmd in ("cpuwait", "cpusleep"):
            c0, t0 = time.process_time_ns(), time.monotonic_ns()
            if cmd == "cpuwait":
                r = conn.execute(wait_sql, (int(words[1]), int(words[2]))).fetchone()[0]
            else:
                time.sleep(int(words[1]) / 1000)
                r = 0
            reply = f"{r} {time.process_time_ns() - c0} {time.monotonic_ns() - t0}"
        elif cmd == "close":
            reply = conn.execute("SELECT honker_update_watcher_close(?)", (int(words[1]),)).fetchone()[0]
        elif cmd == "quit":
            break
        else:
            reply = f"unknown command {cmd}"
        sys.stdout.write(f"{reply}\n")
        sys.stdout.flush()
    if sock:
        sock.close()
    conn.close()


main()
