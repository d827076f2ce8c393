-- inspect: honker_queues_stats and honker_job_list (ext/queue_inspect.c), the command line's views.
select 'inspect_01', honker_queues_stats() = '[]';
select 'inspect_02', honker_job_list('none', NULL, 10) = '[]';
select honker_enqueue('b', '"due-old"', unixepoch() - 50, NULL, 0, 3, NULL);
select honker_enqueue('b', '"due-high"', NULL, NULL, 5, 3, NULL);
select honker_enqueue('b', '"later"', NULL, 100, 9, 3, NULL);
select honker_enqueue('b', '"later-soon"', NULL, 10, 0, 3, NULL);
select honker_enqueue('a', '"claimed"', NULL, NULL, 0, 3, NULL);
select honker_claim_batch('a', 'w', 1, 60);
select honker_enqueue('c', '"doomed"', NULL, NULL, 0, 1, NULL);
select honker_claim_batch('c', 'w', 1, 60);
select honker_fail(6, 'w', 'boom');
-- queues_stats: one object per queue (live or dead), ordered by name, exact keys
select 'inspect_03', (select group_concat(value ->> '$.queue', ',') from json_each(honker_queues_stats())) = 'a,b,c';
select 'inspect_04', (select json_group_array(json_array(value ->> '$.pending', value ->> '$.scheduled', value ->> '$.processing', value ->> '$.dead')) from json_each(honker_queues_stats())) = '[[0,0,1,0],[2,2,0,0],[0,0,0,1]]';
select 'inspect_05', (select value ->> '$.oldest_pending_at' from json_each(honker_queues_stats()) where value ->> '$.queue' = 'b') between unixepoch() - 53 and unixepoch() - 50;
select 'inspect_06', (select count(*) from json_each(honker_queues_stats()) where value ->> '$.oldest_pending_at' is null) = 2;
select 'inspect_07', (select group_concat(key, ',') from json_each(honker_queues_stats() -> '$[0]')) = 'queue,pending,scheduled,processing,dead,oldest_pending_at';
-- each count agrees with honker_queue_stats
select 'inspect_08', (select count(*) from json_each(honker_queues_stats()) where json_remove(value, '$.queue', '$.oldest_pending_at') = honker_queue_stats(value ->> '$.queue')) = 3;
-- job_list: NULL = every live job by id; pending = claim order; scheduled = soonest first; processing; dead
select 'inspect_10', (select group_concat(value ->> '$.payload', ',') from json_each(honker_job_list('b', NULL, 10))) = '"due-old","due-high","later","later-soon"';
select 'inspect_11', (select group_concat(value ->> '$.payload', ',') from json_each(honker_job_list('b', 'pending', 10))) = '"due-high","due-old"';
select 'inspect_12', (select group_concat(value ->> '$.payload', ',') from json_each(honker_job_list('b', 'scheduled', 10))) = '"later-soon","later"';
select 'inspect_13', (select group_concat(value ->> '$.worker_id', ',') from json_each(honker_job_list('a', 'processing', 10))) = 'w';
select 'inspect_14', honker_job_list('b', 'processing', 10) = '[]';
select 'inspect_15', (select value ->> '$.last_error' from json_each(honker_job_list('c', 'dead', 10))) = 'boom';
select 'inspect_16', honker_job_list('c', NULL, 10) = '[]';
-- limit, 0, integral REAL; keys are get_job's (live) and dead_list's (dead)
select 'inspect_17', json_array_length(honker_job_list('b', NULL, 2)) = 2 and honker_job_list('b', NULL, 0) = '[]' and json_array_length(honker_job_list('b', NULL, 3.0)) = 3;
select 'inspect_18', honker_job_list('b', 'pending', 1) = '[' || honker_get_job(2) || ']';
select 'inspect_19', honker_job_list('c', 'dead', 5) = honker_dead_list('c', 5);
select 'inspect_20', (select value ->> '$.state' from json_each(honker_job_list('b', 'scheduled', 1))) = 'pending';
-- a requeued dead job moves between the lists
select honker_dead_requeue(6);
select 'inspect_21', honker_job_list('c', 'dead', 5) = '[]' and json_array_length(honker_job_list('c', 'pending', 5)) = 1;
select 'inspect_22', (select value ->> '$.dead' from json_each(honker_queues_stats()) where value ->> '$.queue' = 'c') = 0;
-- job_list's offset pages a listing; job_errors is every failed attempt's error
select 'inspect_30', (select group_concat(value ->> '$.payload', ',') from json_each(honker_job_list('b', NULL, 2, 1))) = '"due-high","later"';
select 'inspect_31', honker_job_list('b', NULL, 10, 4) = '[]' and honker_job_list('b', NULL, 10, 0) = honker_job_list('b', NULL, 10);
select 'inspect_32', (select group_concat(value ->> '$.payload', ',') from json_each(honker_job_list('b', 'pending', 1, 1))) = '"due-old"';
select 'inspect_33', honker_job_errors(6) = json_array(json_object('attempt', 1, 'error', 'boom', 'created_at', (select created_at from _honker_job_errors where job_id = 6)));
select 'inspect_34', honker_job_errors(1) = '[]' and honker_job_errors(999) = '[]';
select honker_enqueue('r', '{}', NULL, NULL, 0, 3, NULL);
select honker_claim_batch('r', 'w', 1, 60);
select honker_retry((select max(id) from _honker_live), 'w', 0, 'first');
select honker_claim_batch('r', 'w', 1, 60);
select honker_retry((select max(id) from _honker_live), 'w', 0, 'second <b>');
select 'inspect_35', (select group_concat(value ->> '$.attempt' || ':' || (value ->> '$.error'), ',') from json_each(honker_job_errors((select max(id) from _honker_live)))) = '1:first,2:second <b>';
-- run_now: a pending job waiting for a later run_at becomes due; anything else is 0
select honker_enqueue('rn', '"later"', NULL, 3600, 0, 3, NULL);
select 'inspect_36', honker_run_now((select max(id) from _honker_live)) = 1 and (select run_at <= unixepoch() from _honker_live where id = (select max(id) from _honker_live));
select 'inspect_37', honker_run_now((select max(id) from _honker_live)) = 0 and honker_run_now(999999) = 0;
select 'inspect_38', honker_run_now(1) = 0;
