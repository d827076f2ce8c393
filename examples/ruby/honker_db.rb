# Open app.db the honker way: shared by producer.rb and worker.rb.
require "sqlite3"

module HonkerDB
  # $HONKER_EXT_PATH, else ask the npm package where its library is.
  def self.extension_path
    return ENV["HONKER_EXT_PATH"] if ENV["HONKER_EXT_PATH"]

    path = `npx honker extension-path`.strip
    raise "npx honker extension-path failed: is honker installed here (npm install honker)?" unless $?.success?

    path
  end

  def self.connect(path)
    db = SQLite3::Database.new(path)
    db.busy_timeout = 5000                # wait for the write lock instead of failing at once
    db.execute("PRAGMA journal_mode = WAL") # readers never block the writer
    db.enable_load_extension(true)
    db.load_extension(extension_path)
    db.enable_load_extension(false)
    db.execute("SELECT honker_bootstrap()") # honker's tables, once; cheap after that
    db.execute("CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL)")
    db
  end
end
