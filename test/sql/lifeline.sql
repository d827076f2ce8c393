-- lifeline: honker_worker_register / unregister / workers / rescue in one process (ext/lifeline.c);
-- other processes, kills and forks: test/lifeline.registry.test.ts
select 'lifeline_01', honker_worker_register('w1') = 0;
select 'lifeline_02', honker_worker_register('w2') = 1;
-- registrations nest per connection: the same id gets the same slot
select 'lifeline_03', honker_worker_register('w1') = 0;
select 'lifeline_04', json_array_length(honker_workers()) = 2;
select 'lifeline_05', (select group_concat(json_extract(value, '$.worker_id') || ':' || json_extract(value, '$.slot') || ':' || json_extract(value, '$.alive') || ':' || json_extract(value, '$.claims'), ',') from json_each(honker_workers())) = 'w1:0:1:0,w2:1:1:0';
select 'lifeline_06', (select count(*) from _honker_workers where pid > 0 and host <> '' and abs(registered_at - unixepoch()) <= 5) = 2;
select 'lifeline_07', honker_workers_rescue() = 0;
-- a live worker keeps its claims; with jobs in flight a waiter looks again within a second
select honker_enqueue('q', '{}', NULL, NULL, 0, 3, NULL);
select honker_claim_batch('q', 'w1', 1, 300);
select 'lifeline_08', honker_queue_next_claim_at('q') - unixepoch() between 0 and 1;
select 'lifeline_09', json_extract(honker_workers(), '$[0].claims') = 1;
select 'lifeline_10', honker_workers_rescue() = 0 and (select claim_expires_at - unixepoch() from _honker_live) > 200;
-- two registrations of w1: the first unregister keeps the slot
select 'lifeline_11', honker_worker_unregister('w1') = 1;
select 'lifeline_12', json_array_length(honker_workers()) = 2;
select 'lifeline_13', honker_worker_unregister('w1') = 1;
select 'lifeline_14', honker_worker_unregister('w1') = 0;
select 'lifeline_15', (select group_concat(slot) from _honker_workers) = '1';
-- a row whose byte no process holds (its process died): its claims lapse, its row goes
insert into _honker_workers (worker_id, slot, pid, host, registered_at, token) values ('w1', 5, 999999999, 'elsewhere', 0, 1);
select 'lifeline_16', json_extract(honker_workers(), '$[1].alive') = 0 and json_extract(honker_workers(), '$[1].claims') = 1;
select 'lifeline_17', honker_workers_rescue() = 1;
select 'lifeline_18', (select claim_expires_at < unixepoch() from _honker_live) = 1;
select 'lifeline_19', (select group_concat(slot) from _honker_workers) = '1';
-- the lapsed claim is claimed again; the attempt counts
select 'lifeline_20', json_extract(honker_claim_batch('q', 'w2', 1, 300), '$[0].attempts') = 2;
-- claims of an unregistered worker are never expired early
select honker_enqueue('q', '{}', NULL, NULL, 0, 3, NULL);
select honker_claim_batch('q', 'raw-sql', 1, 300);
select 'lifeline_21', honker_workers_rescue() = 0 and (select claim_expires_at - unixepoch() from _honker_live where worker_id = 'raw-sql') > 200;
select 'lifeline_22', honker_worker_unregister('w2') = 1 and honker_workers() = '[]';
