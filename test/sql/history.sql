-- history: honker_history and the per-minute counts every settle path writes (ext/history.c).
select 'history_01', honker_history(NULL, 0) = '[]';
with recursive n(i) as (select 1 union all select i + 1 from n where i < 6) select count(honker_enqueue('a', '{}', NULL, NULL, 0, 2, NULL)) from n;
select honker_enqueue('b', '{}', NULL, NULL, 0, 1, NULL);
select honker_claim_batch('a', 'w', 6, 60);
select honker_claim_batch('b', 'w', 1, 60);
-- ack and ack_batch count completed; a wrong worker counts nothing
select honker_ack(1, 'w');
select honker_ack(2, 'other');
select honker_ack_batch('[2,3,3]', 'w');
select 'history_02', (select value ->> '$.completed' from json_each(honker_history('a', 0))) = 3;
-- retry with attempts left: failed; on the final attempt: dead; fail: dead
select honker_retry(4, 'w', 0, 'e1');
select 'history_03', (select json_array(value ->> '$.failed', value ->> '$.dead') from json_each(honker_history('a', 0))) = '[1,0]';
select honker_claim_batch('a', 'w2', 1, 60);
select honker_retry(4, 'w2', 0, 'e2');
select honker_fail(5, 'w', 'e3');
select honker_fail(6, 'w', 'e4');
select 'history_04', (select json_array(value ->> '$.completed', value ->> '$.failed', value ->> '$.dead') from json_each(honker_history('a', 0))) = '[3,1,3]';
-- exact keys, minute is the start of a minute, the row is now's
select 'history_05', (select group_concat(key, ',') from json_each(honker_history(NULL, 0) -> '$[0]')) = 'queue,minute,completed,failed,dead';
select 'history_06', (select value ->> '$.minute' % 60 = 0 and value ->> '$.minute' between unixepoch() - 60 and unixepoch() from json_each(honker_history('a', 0)));
-- another queue has its own row; NULL lists both, by minute then queue; a filter lists one
select honker_retry(7, 'w', 0, 'last');
select 'history_07', (select group_concat(value ->> '$.queue', ',') from json_each(honker_history(NULL, 0))) = 'a,b';
select 'history_08', (select value ->> '$.dead' from json_each(honker_history('b', 0))) = 1;
select 'history_09', honker_history('nope', 0) = '[]';
-- since: minutes >= since only
select 'history_10', honker_history(NULL, unixepoch() + 60) = '[]';
select 'history_11', json_array_length(honker_history(NULL, unixepoch() - unixepoch() % 60)) = 2;
-- a claim burying an exhausted row counts dead; so does sweep_expired
select honker_enqueue('c', '{}', NULL, NULL, 0, 1, NULL);
update _honker_live set attempts = 1 where queue = 'c';
select honker_claim_batch('c', 'w', 1, 60);
select 'history_12', (select value ->> '$.dead' from json_each(honker_history('c', 0))) = 1;
select honker_enqueue('c', '{}', NULL, NULL, 0, 3, 1);
update _honker_live set expires_at = unixepoch() - 1 where queue = 'c';
select honker_sweep_expired('c');
select 'history_13', (select value ->> '$.dead' from json_each(honker_history('c', 0))) = 2;
-- cancel, release and dead requeue are not settles
select honker_enqueue('d', '{}', NULL, NULL, 0, 3, NULL);
select honker_cancel((select max(id) from _honker_live));
select 'history_14', honker_history('d', 0) = '[]';
-- a rolled-back settle counts nothing
select honker_enqueue('e', '{}', NULL, NULL, 0, 3, NULL);
select honker_claim_batch('e', 'w', 1, 60);
begin;
select honker_ack((select max(id) from _honker_live), 'w');
rollback;
select 'history_15', honker_history('e', 0) = '[]';
-- retention: the first settle of a queue in a minute deletes rows older than 7 days
insert into _honker_history (minute, queue, completed) values (unixepoch() - unixepoch() % 60 - 7 * 86400 - 60, 'old', 5);
insert into _honker_history (minute, queue, completed) values (unixepoch() - unixepoch() % 60 - 7 * 86400 + 60, 'kept', 5);
select honker_ack((select max(id) from _honker_live), 'w');
select 'history_16', (select count(*) from _honker_history where queue = 'old') = 0;
select 'history_17', (select count(*) from _honker_history where queue = 'kept') = 1;
select 'history_18', (select value ->> '$.completed' from json_each(honker_history('e', 0))) = 1;
-- integral REAL since; the table is WITHOUT ROWID keyed (minute, queue)
select 'history_19', json_array_length(honker_history(NULL, 0.0)) = json_array_length(honker_history(NULL, 0));
select 'history_20', (select group_concat(name, ',') from pragma_index_info('sqlite_autoindex__honker_history_1')) = 'minute,queue';
