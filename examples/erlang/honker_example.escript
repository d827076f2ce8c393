#!/usr/bin/env escript
%% escript honker_example.escript producer [db] [queue] [count]    each order and its job commit together
%% escript honker_example.escript worker   [db] [queue] [worker]   claim, handle, ack; sleep until the next commit
%% Uses Debian's driver (erlang-p1-sqlite3, module sqlite3); Hex is not reachable from Debian alone.
-mode(compile).
-export([init/1, handle_event/2, handle_call/2]).   % the SIGTERM handler below

main(["producer" | Args]) ->
    [Path, Queue, Count] = Args ++ lists:nthtail(length(Args), ["app.db", "orders", "1"]),
    connect(Path),
    lists:foreach(fun(N) -> produce(Queue, N) end, lists:seq(1, list_to_integer(Count)));
main(["worker" | Args]) ->
    Defaults = ["app.db", "orders", "erlang-" ++ os:getpid()],
    [Path, Queue, Worker] = Args ++ lists:nthtail(length(Args), Defaults),
    connect(Path),
    %% SIGTERM would stop the VM gracefully, which waits for the driver's call, blocked in the
    %% watcher wait: halt at once instead (a claimed job comes back after its 30 s).
    ok = gen_event:swap_handler(erl_signal_server, {erl_signal_handler, []}, {?MODULE, []}),
    %% The watcher's poller thread wakes our wait on any commit to the file, from any process.
    Watcher = value("SELECT honker_update_watcher_open(?, NULL)", [bin(filename:absname(Path))]),
    %% Registered: if this process dies, its jobs come back within about a second.
    query("SELECT honker_worker_register(?)", [bin(Worker)]),
    work(bin(Queue), bin(Worker), Watcher, now_ms());
main(_) ->
    io:format(standard_error, "usage: honker_example.escript producer|worker [db] [queue] [count|worker_id]~n", []),
    halt(2).

%% The SIGTERM handler (a gen_event handler of erl_signal_server).
init(_) -> {ok, []}.
handle_event(sigterm, _) -> erlang:halt(0, [{flush, false}]);
handle_event(_, State) -> {ok, State}.
handle_call(_, State) -> {ok, ok, State}.

%% $HONKER_EXT_PATH, else ask the npm package where its library is.
extension_path() ->
    case os:getenv("HONKER_EXT_PATH") of
        Path when Path =/= false, Path =/= "" -> Path;
        _ -> string:trim(os:cmd("npx honker extension-path"))
    end.

connect(Path) ->
    {ok, _} = sqlite3:open(honker, [{file, Path}]),   % a gen_server named honker
    ok = sqlite3:enable_load_extension(honker, true),
    query("PRAGMA busy_timeout = 5000"),              % wait for the write lock, don't fail
    query("PRAGMA journal_mode = WAL"),               % readers never block the writer
    query("SELECT load_extension(?)", [bin(extension_path())]),
    query("SELECT honker_bootstrap()"),               % honker's tables, once; cheap after that
    query("CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL)").

produce(Queue, N) ->
    %% IMMEDIATE takes the write lock now, so the transaction cannot fail half-way with SQLITE_BUSY.
    query("BEGIN IMMEDIATE"),
    Order = value("INSERT INTO orders(item) VALUES (?) RETURNING id", [bin(io_lib:format("book ~b", [N]))]),
    %% (queue, payload, run_at, delay_s, priority, max_attempts, expires_s)
    Job = value("SELECT honker_enqueue(?, json_object('order', ?), NULL, NULL, 0, 3, NULL)", [bin(Queue), Order]),
    query("COMMIT"),                                  % the order and its job exist together, or neither
    io:format("{\"order\":~b,\"job\":~b}~n", [Order, Job]).

work(Queue, Worker, Watcher, WokeMs) ->
    %% Claim up to 10 jobs for 30 s each, in a statement of its own; OTP 25 has no JSON module, so
    %% SQLite's json_each reads them in a second one (each payload is a JSON string holding the
    %% payload's JSON text), all before any ack (see ../README.md).
    Claimed = value("SELECT honker_claim_batch(?, ?, 10, 30)", [Queue, Worker]),
    Jobs = query("SELECT value->>'id', value->>'attempts', coalesce((value->>'payload')->>'fail', 0)"
                 " FROM json_each(?)", [Claimed]),
    lists:foreach(fun(Job) -> handle(Job, Worker, WokeMs) end, Jobs),
    case Jobs of
        [_ | _] -> work(Queue, Worker, Watcher, WokeMs);   % there may be more
        [] ->
            %% Nothing due: sleep until a commit or the next due time (a retry's delay), never a fixed poll.
            NextAt = value("SELECT honker_queue_next_claim_at(?)", [Queue]),   % unix s, 0 = nothing scheduled
            TimeoutMs = case NextAt of 0 -> -1; _ -> max(0, trunc(NextAt * 1000 - now_ms())) end,
            %% The driver's call must outlive the wait: infinity.
            case value("SELECT honker_update_watcher_wait(?, ?)", [Watcher, TimeoutMs], infinity) of
                W when W < 0 -> error("watcher died (database file replaced?)");
                _ -> work(Queue, Worker, Watcher, now_ms())
            end
    end.

handle({Id, Attempts, Fail}, Worker, WokeMs) ->
    Outcome = case Fail of
        1 ->  % the handler failed: try again in 1 s (dead after max_attempts)
            query("SELECT honker_retry(?, ?, 1, ?)", [Id, Worker, <<"payload asked to fail">>]),
            "retried";
        _ ->  % "ship" the order, then ack: the job is deleted
            query("SELECT honker_ack(?, ?)", [Id, Worker]),
            "acked"
    end,
    io:format("{\"id\":~b,\"attempts\":~b,\"outcome\":\"~s\",\"woke_ms\":~.3f}~n", [Id, Attempts, Outcome, WokeMs]).

%% Rows as tuples; exits on a SQL error. Timeout: the gen_server call's, in ms.
query(Sql) -> query(Sql, []).
query(Sql, Args) -> query(Sql, Args, 10000).
query(Sql, Args, Timeout) ->
    case sqlite3:sql_exec_timeout(honker, Sql, Args, Timeout) of
        [{columns, _}, {rows, Rows}] -> Rows;
        {error, Code, Msg} -> error({sql, Sql, Code, Msg});
        _OkOrRowid -> []
    end.

value(Sql, Args) -> value(Sql, Args, 10000).
value(Sql, Args, Timeout) -> element(1, hd(query(Sql, Args, Timeout))).

now_ms() -> os:system_time(microsecond) / 1000.
bin(S) -> unicode:characters_to_binary(S).
