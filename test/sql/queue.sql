-- queue: value semantics of the job queue (spec/sql.md > Queue, "Fixes", "Additions").
-- Expiry and lapsed claims are set up by writing past timestamps directly.
create temp table c (k text primary key, v);
-- enqueue: defaults, run_at, delay wins over run_at, expires, priority
select 'queue_01', honker_enqueue('q1', 'a', NULL, NULL, 0, 3, NULL) = 1;
select 'queue_02', (select run_at = created_at and state = 'pending' and attempts = 0 and max_attempts = 3 and expires_at is null and priority = 0 and worker_id is null and claim_expires_at is null from _honker_live where id = 1);
select 'queue_03', honker_enqueue('q1', 'b', 1000, NULL, -7, 5, NULL) = 2 and (select run_at = 1000 and priority = -7 and max_attempts = 5 from _honker_live where id = 2);
select 'queue_04', honker_enqueue('q1', 'c', 1000, 60, 0, 3, NULL) = 3 and (select run_at - created_at from _honker_live where id = 3) = 60;
select 'queue_05', honker_enqueue('q1', 'd', NULL, 0, 0, 3, 30) = 4 and (select expires_at - created_at = 30 and run_at = created_at from _honker_live where id = 4);
select 'queue_06', honker_enqueue('q1', '', NULL, NULL, 0, 1, NULL) = 5 and (select payload = '' from _honker_live where id = 5);
select 'queue_07', (select count(*) from _honker_notifications) = 0;
select 'queue_08', honker_enqueue('q1', 'e', 3.0, 2.0, 1.0, 3.0, 4.0) = 6 and (select run_at - created_at = 2 and priority = 1 and expires_at - created_at = 4 from _honker_live where id = 6);
-- claim: best first (priority DESC, run_at, id), due only, n limits, n = 0
select honker_enqueue('ord', 'low-old', unixepoch() - 10, NULL, 0, 3, NULL);
select honker_enqueue('ord', 'high', NULL, NULL, 5, 3, NULL);
select honker_enqueue('ord', 'low-new', NULL, NULL, 0, 3, NULL);
select honker_enqueue('ord', 'low-old2', unixepoch() - 10, NULL, 0, 3, NULL);
select honker_enqueue('ord', 'future-top', NULL, 3600, 9, 3, NULL);
select honker_enqueue('ord', 'negative', NULL, NULL, -5, 3, NULL);
select 'queue_10', honker_claim_batch('ord', 'w', 0, 60) = '[]';
select 'queue_11', (select group_concat(json_extract(value, '$.payload'), ',') from json_each(honker_claim_batch('ord', 'w', 2, 60))) = 'high,low-old';
select 'queue_12', (select group_concat(json_extract(value, '$.payload'), ',') from json_each(honker_claim_batch('ord', 'w', 10, 60))) = 'low-old2,low-new,negative';
select 'queue_13', honker_claim_batch('ord', 'w', 10, 60) = '[]';
select 'queue_14', (select count(*) from _honker_live where queue = 'ord' and state = 'processing' and worker_id = 'w' and attempts = 1 and claim_expires_at - unixepoch() between 59 and 60) = 5;
select 'queue_15', honker_claim_batch('nothing-here', 'w', 5, 60) = '[]';
-- claim: the exact JSON shape, payload as a JSON string
select honker_enqueue('shape', '{"x":"é\n"}', NULL, NULL, 0, 3, NULL);
insert into c values ('shape', honker_claim_batch('shape', 'w1', 1, 60));
select 'queue_16', (select v from c where k = 'shape') = (select '[{"id":' || id || ',"queue":"shape","payload":"{\"x\":\"é\\n\"}","worker_id":"w1","attempts":1,"claim_expires_at":' || claim_expires_at || '}]' from _honker_live where queue = 'shape');
select 'queue_17', (select json_extract(v, '$[0].payload') from c where k = 'shape') = '{"x":"é\n"}';
-- ack: valid claim only (same worker, claim_expires_at >= now)
select honker_enqueue('ack', 'a1', NULL, NULL, 0, 3, NULL);
select honker_enqueue('ack', 'a2', NULL, NULL, 0, 3, NULL);
select honker_enqueue('ack', 'a3', NULL, NULL, 0, 3, NULL);
select honker_enqueue('ack', 'a4', NULL, NULL, 0, 3, NULL);
select honker_claim_batch('ack', 'wa', 4, 60);
select 'queue_20', honker_ack((select id from _honker_live where payload = 'a1'), 'someone-else') = 0;
select 'queue_21', honker_ack((select id from _honker_live where payload = 'a1'), 'wa') = 1 and (select count(*) from _honker_live where payload = 'a1') = 0;
insert into c values ('shape_id', (select id from _honker_live where queue = 'shape'));
select 'queue_22', honker_ack((select v from c where k = 'shape_id'), 'w1') = 1 and honker_ack((select v from c where k = 'shape_id'), 'w1') = 0;
update _honker_live set claim_expires_at = unixepoch() - 1 where payload = 'a2';
select 'queue_23', honker_ack((select id from _honker_live where payload = 'a2'), 'wa') = 0;
select 'queue_24', honker_ack_batch('[]', 'wa') = 0;
select 'queue_25', honker_ack_batch(json_array((select id from _honker_live where payload = 'a2'), (select id from _honker_live where payload = 'a3'), (select id from _honker_live where payload = 'a3'), (select id from _honker_live where payload = 'a4'), 999999), 'wa') = 2;
select 'queue_26', (select group_concat(payload) from _honker_live where queue = 'ack') = 'a2';
select 'queue_27', honker_ack_batch(json_array((select id from _honker_live where payload = 'a2')), 'someone') = 0;
-- heartbeat: valid claim only; a late heartbeat is 0
select honker_enqueue('hb', 'h1', NULL, NULL, 0, 3, NULL);
select honker_claim_batch('hb', 'wh', 1, 10);
select 'queue_30', honker_heartbeat((select id from _honker_live where payload = 'h1'), 'wh', 500) = 1 and (select claim_expires_at - unixepoch() between 499 and 500 from _honker_live where payload = 'h1');
select 'queue_31', honker_heartbeat((select id from _honker_live where payload = 'h1'), 'other', 500) = 0;
update _honker_live set claim_expires_at = unixepoch() - 1 where payload = 'h1';
select 'queue_32', honker_heartbeat((select id from _honker_live where payload = 'h1'), 'wh', 500) = 0 and (select claim_expires_at < unixepoch() from _honker_live where payload = 'h1');
-- retry: back to pending with its error readable; the last attempt goes to dead
select honker_enqueue('rt', 'r1', NULL, NULL, 3, 2, NULL);
select honker_claim_batch('rt', 'wr', 1, 60);
select 'queue_40', honker_retry((select id from _honker_live where payload = 'r1'), 'other', 0, 'x') = 0;
select 'queue_41', honker_retry((select id from _honker_live where payload = 'r1'), 'wr', 30, 'first failure') = 1;
select 'queue_42', (select state = 'pending' and worker_id is null and claim_expires_at is null and attempts = 1 and run_at - unixepoch() between 29 and 30 and last_error = 'first failure' and priority = 3 from _honker_live where payload = 'r1');
select 'queue_43', (select json_extract(honker_get_job(id), '$.last_error') from _honker_live where payload = 'r1') = 'first failure';
select 'queue_44', (select group_concat(attempt || ':' || error) from _honker_job_errors where job_id = (select id from _honker_live where payload = 'r1')) = '1:first failure';
update _honker_live set run_at = unixepoch() where payload = 'r1';
select 'queue_45', json_extract(honker_claim_batch('rt', 'wr', 1, 60), '$[0].attempts') = 2;
insert into c values ('r1', (select id from _honker_live where payload = 'r1'));
select 'queue_46', honker_retry((select v from c where k = 'r1'), 'wr', 0, 'final failure') = 1 and (select count(*) from _honker_live where payload = 'r1') = 0;
select 'queue_47', (select queue = 'rt' and payload = 'r1' and priority = 3 and attempts = 2 and max_attempts = 2 and last_error = 'final failure' and died_at - unixepoch() between -1 and 0 from _honker_dead where id = (select v from c where k = 'r1'));
select 'queue_48', (select group_concat(attempt || ':' || error, '|') from _honker_job_errors where job_id = (select v from c where k = 'r1')) = '1:first failure|2:final failure';
-- fail: valid claim only, straight to dead
select honker_enqueue('fl', 'f1', NULL, NULL, 0, 5, NULL);
select honker_claim_batch('fl', 'wf', 1, 60);
select 'queue_50', honker_fail((select id from _honker_live where payload = 'f1'), 'other', 'no') = 0;
select 'queue_51', honker_fail((select id from _honker_live where payload = 'f1'), 'wf', 'bad input') = 1;
select 'queue_52', (select last_error = 'bad input' and attempts = 1 and max_attempts = 5 from _honker_dead where payload = 'f1');
select 'queue_53', honker_fail(424242, 'wf', 'gone') = 0;
-- cancel: any live state; errors go with the job
select honker_enqueue('cx', 'c1', NULL, NULL, 0, 3, NULL);
select honker_enqueue('cx', 'c2', NULL, NULL, 0, 3, NULL);
select honker_claim_batch('cx', 'wc', 1, 60);
select honker_retry((select id from _honker_live where payload = 'c1'), 'wc', 100, 'e1');
select 'queue_55', honker_cancel((select id from _honker_live where payload = 'c1')) = 1 and (select count(*) from _honker_job_errors where error = 'e1') = 0;
select honker_claim_batch('cx', 'wc', 1, 60);
select 'queue_56', honker_cancel((select id from _honker_live where payload = 'c2')) = 1 and (select count(*) from _honker_live where queue = 'cx') = 0;
select 'queue_57', honker_cancel(424242) = 0;
-- get_job: every live column plus last_error, '' when missing
select honker_enqueue('gj', 'g"1', 77, NULL, 2, 4, NULL);
select 'queue_58', (select honker_get_job(id) = '{"id":' || id || ',"queue":"gj","payload":"g\"1","state":"pending","priority":2,"run_at":77,"worker_id":null,"claim_expires_at":null,"attempts":0,"max_attempts":4,"created_at":' || created_at || ',"expires_at":null,"last_error":null}' from _honker_live where queue = 'gj');
select 'queue_59', honker_get_job(424242) = '';
-- expires: expired rows are not claimable and are swept, also processing ones whose claim lapsed
select honker_enqueue('ex', 'x-pending', NULL, NULL, 0, 3, 100);
select honker_enqueue('ex', 'x-lapsed', NULL, NULL, 0, 3, 100);
select honker_enqueue('ex', 'x-held', NULL, NULL, 0, 3, 100);
select honker_enqueue('ex', 'x-fresh', NULL, NULL, 0, 3, 100);
select honker_claim_batch('ex', 'wx', 3, 60);
update _honker_live set expires_at = unixepoch() - 1 where queue = 'ex' and payload <> 'x-fresh';
update _honker_live set claim_expires_at = unixepoch() - 1 where payload = 'x-lapsed';
update _honker_live set state = 'pending', worker_id = NULL, claim_expires_at = NULL where payload = 'x-pending';
select 'queue_60', (select group_concat(json_extract(value, '$.payload')) from json_each(honker_claim_batch('ex', 'wy', 10, 60))) = 'x-fresh';
select 'queue_61', honker_sweep_expired('ex') = 2;
select 'queue_62', (select group_concat(payload || ':' || last_error, ',') from (select * from _honker_dead where queue = 'ex' order by payload)) = 'x-lapsed:expired,x-pending:expired';
select 'queue_63', (select group_concat(payload, ',') from (select payload from _honker_live where queue = 'ex' order by payload)) = 'x-fresh,x-held';
select 'queue_64', honker_sweep_expired('ex') = 0 and honker_sweep_expired('no-such-queue') = 0;
-- exhausted attempts: a lapsed claim with no attempts left goes to dead on the next claim
select honker_enqueue('mx', 'm1', NULL, NULL, 0, 1, NULL);
select honker_enqueue('mx', 'm2', NULL, NULL, -1, 2, NULL);
select honker_claim_batch('mx', 'w1', 2, 60);
update _honker_live set claim_expires_at = unixepoch() - 1 where queue = 'mx';
select 'queue_70', (select group_concat(json_extract(value, '$.payload') || '@' || json_extract(value, '$.attempts') || '/' || json_extract(value, '$.worker_id')) from json_each(honker_claim_batch('mx', 'w2', 5, 60))) = 'm2@2/w2';
select 'queue_71', (select last_error = 'max attempts exceeded' and attempts = 1 from _honker_dead where payload = 'm1');
-- next_claim_at: 0 when nothing; now when claimable now; else the next moment
select 'queue_75', honker_queue_next_claim_at('nx') = 0;
select honker_enqueue('nx', 'n-future', NULL, 500, 0, 3, NULL);
select 'queue_76', honker_queue_next_claim_at('nx') = (select run_at from _honker_live where payload = 'n-future');
select honker_enqueue('nx', 'n-held', NULL, NULL, 0, 3, NULL);
select honker_claim_batch('nx', 'wn', 1, 100);
select 'queue_77', honker_queue_next_claim_at('nx') = (select claim_expires_at + 1 from _honker_live where payload = 'n-held');
update _honker_live set claim_expires_at = unixepoch() - 1 where payload = 'n-held';
select 'queue_78', honker_queue_next_claim_at('nx') between unixepoch() and unixepoch() + 1;
select honker_enqueue('ny', 'due', NULL, NULL, 0, 3, NULL);
select 'queue_79', honker_queue_next_claim_at('ny') between unixepoch() and unixepoch() + 1;
-- stats
select honker_enqueue('st', 's1', NULL, NULL, 0, 3, NULL);
select honker_enqueue('st', 's2', NULL, NULL, 0, 3, NULL);
select honker_enqueue('st', 's3', NULL, 300, 0, 3, NULL);
select honker_enqueue('st', 's4', NULL, NULL, 0, 3, NULL);
select honker_claim_batch('st', 'ws', 1, 60);
select honker_fail((select id from _honker_live where payload = 's1'), 'ws', 'dead one');
select 'queue_80', honker_queue_stats('st') = '{"pending":2,"scheduled":1,"processing":0,"dead":1}';
select honker_claim_batch('st', 'ws', 1, 60);
select 'queue_81', honker_queue_stats('st') = '{"pending":1,"scheduled":1,"processing":1,"dead":1}';
select 'queue_82', honker_queue_stats('empty') = '{"pending":0,"scheduled":0,"processing":0,"dead":0}';
-- dead_requeue: same id, pending now, attempts 0, error kept
insert into c values ('s1', (select id from _honker_dead where payload = 's1'));
select 'queue_85', honker_dead_requeue((select v from c where k = 's1')) = 1;
select 'queue_86', (select queue = 'st' and state = 'pending' and attempts = 0 and max_attempts = 3 and run_at between unixepoch() - 3 and unixepoch() and last_error = 'dead one' and worker_id is null from _honker_live where id = (select v from c where k = 's1')) and (select count(*) from _honker_dead where payload = 's1') = 0;
select 'queue_87', honker_dead_requeue((select v from c where k = 's1')) = 0 and honker_dead_requeue(424242) = 0;
select 'queue_88', json_extract(honker_claim_batch('st', 'ws', 1, 60), '$[0].payload') = 's1';
-- dead_purge: by queue and age, with the job's errors
update _honker_dead set died_at = unixepoch() - 1000 where queue = 'rt';
select 'queue_89', honker_dead_purge('rt', 2000) = 0 and honker_dead_purge('other', 0) = 0;
select 'queue_90', honker_dead_purge('rt', 500) = 1 and (select count(*) from _honker_dead where queue = 'rt') = 0 and (select count(*) from _honker_job_errors where job_id = (select v from c where k = 'r1')) = 0;
select 'queue_91', honker_dead_purge('fl', 0) = 1 and (select count(*) from _honker_dead where queue = 'ex') = 2;
-- enqueue_unique: one live job per (queue, key); the key is free once the job is gone
insert into c values ('u1', honker_enqueue_unique('uq', 'k', 'first', NULL, NULL, 0, 3, NULL));
select 'queue_92', honker_enqueue_unique('uq', 'k', 'second', NULL, 60, 9, 3, NULL) = (select v from c where k = 'u1');
select 'queue_93', (select count(*) from _honker_live where queue = 'uq') = 1 and (select payload from _honker_live where queue = 'uq') = 'first';
select 'queue_94', honker_enqueue_unique('uq2', 'k', 'other queue', NULL, NULL, 0, 3, NULL) <> (select v from c where k = 'u1') and honker_enqueue_unique('uq', 'k2', 'other key', NULL, NULL, 0, 3, NULL) <> (select v from c where k = 'u1');
select 'queue_95', json_extract(honker_claim_batch('uq', 'wu', 1, 60), '$[0].id') = (select v from c where k = 'u1') and honker_enqueue_unique('uq', 'k', 'while held', NULL, NULL, 0, 3, NULL) = (select v from c where k = 'u1');
select 'queue_96', honker_ack((select v from c where k = 'u1'), 'wu') = 1 and honker_enqueue_unique('uq', 'k', 'again', NULL, NULL, 0, 3, NULL) > (select v from c where k = 'u1');
select 'queue_97', (select count(*) from _honker_live where queue = 'uq' and unique_key = 'k' and payload = 'again') = 1;
-- dead_list (for src/queue.ts): newest first, limited, every _honker_dead column
select 'queue_98', (select group_concat(json_extract(value, '$.payload')) from json_each(honker_dead_list('ex', 10))) = 'x-lapsed,x-pending';
select 'queue_99', json_array_length(honker_dead_list('ex', 1)) = 1 and honker_dead_list('ex', 0) = '[]' and honker_dead_list('none', 5) = '[]';
select 'queue_100', (select group_concat(key) from json_each(honker_dead_list('ex', 1), '$[0]')) = 'id,queue,payload,priority,run_at,attempts,max_attempts,last_error,created_at,died_at';
select 'queue_101', json_extract(honker_dead_list('ex', 1), '$[0].last_error') = 'expired' and json_extract(honker_dead_list('ex', 1), '$[0].id') = (select max(id) from _honker_dead where queue = 'ex');
-- honker_release (ours): an unstarted claimed job goes back, keeping its place and its attempts
select honker_enqueue('rel', 'r1', unixepoch() - 50, NULL, 0, 3, NULL);
select honker_enqueue('rel', 'r2', unixepoch() - 40, NULL, 0, 3, NULL);
select 'queue_102', json_array_length(honker_claim_batch('rel', 'w', 2, 30)) = 2;
select 'queue_103', honker_release((select id from _honker_live where payload = 'r1'), 'other') = 0;
select 'queue_104', honker_release((select id from _honker_live where payload = 'r1'), 'w') = 1;
select 'queue_105', (select state || ':' || attempts || ':' || ifnull(worker_id, '-') || ':' || ifnull(claim_expires_at, '-') from _honker_live where payload = 'r1') = 'pending:0:-:-';
select 'queue_106', (select count(*) from _honker_job_errors where job_id = (select id from _honker_live where payload = 'r1')) = 0;
select 'queue_107', honker_release((select id from _honker_live where payload = 'r1'), 'w') = 0;
select 'queue_108', json_extract(honker_claim_batch('rel', 'w2', 1, 30), '$[0].payload') = 'r1';
update _honker_live set claim_expires_at = unixepoch() - 1 where payload = 'r2';
select 'queue_109', honker_release((select id from _honker_live where payload = 'r2'), 'w') = 0;
-- honker_dead_get (ours): one dead job by id, '' when the id is not dead
select 'queue_110', json_extract(honker_dead_get((select max(id) from _honker_dead where queue = 'ex')), '$.queue') = 'ex';
select 'queue_111', (select group_concat(key) from json_each(honker_dead_get((select max(id) from _honker_dead)))) = 'id,queue,payload,priority,run_at,attempts,max_attempts,last_error,created_at,died_at';
select 'queue_112', honker_dead_get(987654321) = '' and honker_dead_get((select min(id) from _honker_live)) = '';
-- times end by 9999-12-31T23:59:59Z (253402300799): the last second itself is accepted (errors: queue.errors.test.ts).
-- Durations keep a 2 s margin: the function reads its own now, which may be a second past this statement's.
select 'queue_113', honker_enqueue('edge', 'last', 253402300799, NULL, 0, 3, NULL) > 0 and (select run_at from _honker_live where payload = 'last') = 253402300799;
select 'queue_114', honker_enqueue('edge', 'wait', NULL, 253402300797 - unixepoch(), 0, 3, 253402300797 - unixepoch()) > 0 and (select run_at between 253402300797 and 253402300799 and expires_at = run_at from _honker_live where payload = 'wait');
select 'queue_115', honker_enqueue('edge', 'past', -5, NULL, 0, 3, NULL) > 0 and (select run_at from _honker_live where payload = 'past') = -5;
select 'queue_116', json_array_length(honker_claim_batch('edge', 'w-edge', 1, 253402300797 - unixepoch())) = 1 and (select claim_expires_at from _honker_live where worker_id = 'w-edge') between 253402300797 and 253402300799;
-- names: spaces inside are kept; only a blank name is refused, and only where a row is stored under it
select 'queue_117', honker_enqueue(' padded ', 'x', NULL, NULL, 0, 3, NULL) > 0 and json_extract(honker_queue_stats(' padded '), '$.pending') = 1;
-- a job another writer stored under a blank queue name (honker 0.4 has no rule) can still be claimed, acked and inspected
insert into _honker_live (queue, payload) values ('  ', 'from-0.4');
select 'queue_118', json_extract(honker_queue_stats('  '), '$.pending') = 1 and honker_queue_next_claim_at('  ') > 0;
insert into c values ('blank', honker_claim_batch('  ', 'w-blank', 1, 60));
select 'queue_119', (select json_extract(v, '$[0].payload') from c where k = 'blank') = 'from-0.4' and honker_ack((select json_extract(v, '$[0].id') from c where k = 'blank'), 'w-blank') = 1;
select 'queue_120', honker_sweep_expired('  ') = 0 and honker_dead_list('  ', 5) = '[]' and honker_dead_purge('  ', 0) = 0;
-- enqueue_unique: a duplicate consumes no id (ids stay unique and increasing; a held key is looked up first)
insert into c values ('u-next', honker_enqueue_unique('uq3', 'k', 'p', NULL, NULL, 0, 3, NULL));
select 'queue_121', honker_enqueue_unique('uq3', 'k', 'dup', NULL, NULL, 0, 3, NULL) = (select v from c where k = 'u-next') and honker_enqueue_unique('uq3', 'k', 'dup', NULL, NULL, 0, 3, NULL) = (select v from c where k = 'u-next');
select 'queue_122', honker_enqueue('uq3', 'plain', NULL, NULL, 0, 3, NULL) = (select v from c where k = 'u-next') + 1;
-- a job acked or cancelled by honker 0.4 (a plain DELETE) leaves its _honker_job_errors rows: dead_purge and sweep_expired sweep them
insert into c values ('orphan', honker_enqueue('oq', 'p', NULL, NULL, 0, 3, NULL));
select 'queue_123', json_extract(honker_claim_batch('oq', 'wo', 1, 60), '$[0].id') = (select v from c where k = 'orphan') and honker_retry((select v from c where k = 'orphan'), 'wo', 0, 'boom') = 1;
delete from _honker_live where id = (select v from c where k = 'orphan');
select 'queue_124', (select count(*) from _honker_job_errors where job_id = (select v from c where k = 'orphan')) = 1;
select 'queue_125', honker_dead_purge('some-other-queue', 0) = 0 and (select count(*) from _honker_job_errors where job_id = (select v from c where k = 'orphan')) = 0;
