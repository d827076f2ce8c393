# Open app.db the honker way: shared by producer.exs and worker.exs. It uses Debian's Erlang
# SQLite driver (erlang-p1-sqlite3, module :sqlite3); Hex (exqlite) is not reachable here.
defmodule HonkerDB do
  # $HONKER_EXT_PATH, else ask the npm package where its library is.
  def extension_path do
    System.get_env("HONKER_EXT_PATH") ||
      case System.cmd("npx", ["honker", "extension-path"]) do
        {out, 0} -> String.trim(out)
        {_, code} -> raise "npx honker extension-path failed (#{code}): is honker installed here?"
      end
  end

  def connect(path) do
    # The driver runs as a named gen_server over the file.
    {:ok, _} = :sqlite3.open(:honker, file: String.to_charlist(path))
    :ok = :sqlite3.enable_load_extension(:honker, true)
    query!("PRAGMA busy_timeout = 5000")  # wait for the write lock instead of failing at once
    query!("PRAGMA journal_mode = WAL")   # readers never block the writer
    query!("SELECT load_extension(?)", [extension_path()])
    query!("SELECT honker_bootstrap()")   # honker's tables, once; cheap after that
    query!("CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL)")
    :honker
  end

  # Rows as lists; raises on a SQL error. timeout is the gen_server call's, in ms.
  def query!(sql, args \\ [], timeout \\ 10_000) do
    case :sqlite3.sql_exec_timeout(:honker, sql, args, timeout) do
      [{:columns, _}, {:rows, rows}] -> Enum.map(rows, &Tuple.to_list/1)
      {:error, code, msg} -> raise "#{sql}: #{msg} (#{code})"
      _ok_or_rowid -> []
    end
  end

  def value!(sql, args \\ [], timeout \\ 10_000), do: query!(sql, args, timeout) |> hd() |> hd()
end
