"""Open app.db the honker way: shared by producer.py and worker.py."""
import os
import sqlite3
import subprocess
import sys


def extension_path():
    # $HONKER_EXT_PATH, else ask the npm package where its library is.
    return os.environ.get("HONKER_EXT_PATH") or subprocess.run(
        ["npx", "honker", "extension-path"], capture_output=True, text=True, check=True
    ).stdout.strip()


def connect(path):
    # isolation_level=None: we write BEGIN/COMMIT ourselves (the sqlite3 module's
    # implicit transactions would start a deferred one and hide the IMMEDIATE).
    db = sqlite3.connect(path, isolation_level=None, timeout=5)  # timeout=5: busy_timeout 5000
    db.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
    if not hasattr(db, "enable_load_extension"):  # see README.md: not every Python can
        sys.exit(f"{sys.executable} cannot load SQLite extensions; use another (Debian's /usr/bin/python3)")
    db.enable_load_extension(True)
    db.load_extension(extension_path())
    db.enable_load_extension(False)
    db.execute("SELECT honker_bootstrap()")  # creates honker's tables once; cheap after that
    db.execute("CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL)")
    return db
