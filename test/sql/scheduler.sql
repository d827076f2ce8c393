-- scheduler: honker_cron_next_after and the honker_scheduler_* functions (spec/sql.md "Scheduler")
-- Only zone-independent expressions here (@every, minutes, seconds); local-time cases are in test/cron.parser.test.ts.
-- @every: boundaries are multiples of the period since the epoch, strictly after from_unix
select 'scheduler_01', honker_cron_next_after('@every 60s', 1000) = 1020;
select 'scheduler_02', honker_cron_next_after('@every 60s', 1020) = 1080;
select 'scheduler_03', honker_cron_next_after('@every 1s', 1776601805) = 1776601806;
select 'scheduler_04', honker_cron_next_after('@every 1d', 1776601805) = 1776643200;
select 'scheduler_05', honker_cron_next_after('@every 1h', 1776601805) = 1776603600;
select 'scheduler_06', honker_cron_next_after('@every 7s', 0) = 7;
select 'scheduler_07', honker_cron_next_after('@every 7s', 14.0) = 21;
select 'scheduler_08', honker_cron_next_after('*/15 * * * *', 1776601805) = 1776602700;
select 'scheduler_09', honker_cron_next_after('*/10 * * * * *', 1776601805) = 1776601810;
select 'scheduler_10', honker_cron_next_after('* * * * * *', 1776601805) = 1776601806;
select 'scheduler_11', honker_cron_next_after('@hourly', 1776601805) = 1776603600;
select 'scheduler_12', honker_cron_next_after('@every 1s', 253402300799) = 253402300800;
-- register: upsert, next_fire_at = next boundary after now, defaults
select 'scheduler_20', honker_scheduler_register('beta', 'q-beta', '@every 60s', '{"n":2}', 5, 30, 4) = 1;
select 'scheduler_21', honker_scheduler_register('alpha', 'q-alpha', '@every 10s', 'plain', 0, NULL) = 1;
select 'scheduler_22', (select next_fire_at from _honker_scheduler_tasks where name = 'alpha') between unixepoch() + 1 and unixepoch() + 10;
select 'scheduler_23', (select next_fire_at % 60 = 0 and next_fire_at > unixepoch() from _honker_scheduler_tasks where name = 'beta');
select 'scheduler_24', (select max_attempts = 3 and expires_s is null and enabled = 1 and priority = 0 from _honker_scheduler_tasks where name = 'alpha');
select 'scheduler_25', (select max_attempts = 4 and expires_s = 30 and priority = 5 and payload = '{"n":2}' and queue = 'q-beta' from _honker_scheduler_tasks where name = 'beta');
select 'scheduler_26', honker_scheduler_register('gamma', 'q', '@every 1s', 'p', 2.0, 5.0, 2.0) = 1;
select 'scheduler_27', (select priority = 2 and expires_s = 5 and max_attempts = 2 and typeof(priority) = 'integer' from _honker_scheduler_tasks where name = 'gamma');
select 'scheduler_28', honker_scheduler_unregister('gamma') = 1;
-- list: ordered by name, every key, enabled is a JSON boolean, payload a JSON string
select 'scheduler_30', json_array_length(honker_scheduler_list()) = 2;
select 'scheduler_31', json_extract(honker_scheduler_list(), '$[0].name') = 'alpha' and json_extract(honker_scheduler_list(), '$[1].name') = 'beta';
select 'scheduler_32', (select group_concat(key, ',') from json_each(json_extract(honker_scheduler_list(), '$[1]'))) = 'name,queue,cron_expr,payload,priority,expires_s,next_fire_at,enabled,max_attempts';
select 'scheduler_33', json_type(honker_scheduler_list(), '$[1].enabled') = 'true';
select 'scheduler_34', json_type(honker_scheduler_list(), '$[0].expires_s') = 'null' and json_extract(honker_scheduler_list(), '$[1].expires_s') = 30;
select 'scheduler_35', json_type(honker_scheduler_list(), '$[1].payload') = 'text' and json_extract(honker_scheduler_list(), '$[1].payload') = '{"n":2}';
select 'scheduler_36', json_extract(honker_scheduler_list(), '$[1].next_fire_at') = (select next_fire_at from _honker_scheduler_tasks where name = 'beta');
select 'scheduler_37', json_extract(honker_scheduler_list(), '$[1].cron_expr') = '@every 60s' and json_extract(honker_scheduler_list(), '$[1].max_attempts') = 4 and json_extract(honker_scheduler_list(), '$[1].priority') = 5;
-- pause: 1 when it was enabled; a paused task is listed with enabled false
select 'scheduler_40', honker_scheduler_pause('alpha') = 1;
select 'scheduler_41', honker_scheduler_pause('alpha') = 0;
select 'scheduler_42', honker_scheduler_pause('nobody') = 0;
select 'scheduler_43', json_type(honker_scheduler_list(), '$[0].enabled') = 'false';
-- re-registering replaces every column but keeps a paused task paused
select 'scheduler_44', honker_scheduler_register('alpha', 'q-alpha2', '@every 20s', 'plain2', 1, NULL) = 1;
select 'scheduler_45', (select queue = 'q-alpha2' and cron_expr = '@every 20s' and payload = 'plain2' and priority = 1 and enabled = 0 and next_fire_at % 20 = 0 from _honker_scheduler_tasks where name = 'alpha');
select 'scheduler_46', (select count(*) from _honker_scheduler_tasks) = 2;
-- resume: 1 when it was paused; the boundaries missed while paused are skipped (next_fire_at moves past now)
update _honker_scheduler_tasks set next_fire_at = 1000 where name = 'alpha';
select 'scheduler_47', honker_scheduler_resume('alpha') = 1;
select 'scheduler_48', (select enabled = 1 and next_fire_at > unixepoch() and next_fire_at <= unixepoch() + 20 from _honker_scheduler_tasks where name = 'alpha');
select 'scheduler_49', honker_scheduler_resume('alpha') = 0;
select 'scheduler_50', honker_scheduler_resume('nobody') = 0;
-- soonest: min next_fire_at of enabled tasks, 0 when none
update _honker_scheduler_tasks set next_fire_at = 5000 where name = 'alpha';
update _honker_scheduler_tasks set next_fire_at = 3000 where name = 'beta';
select 'scheduler_55', honker_scheduler_soonest() = 3000;
select honker_scheduler_pause('beta');
select 'scheduler_56', honker_scheduler_soonest() = 5000;
select honker_scheduler_pause('alpha');
select 'scheduler_57', honker_scheduler_soonest() = 0;
-- unregister: 1 when deleted, then 0
select 'scheduler_58', honker_scheduler_unregister('alpha') = 1;
select 'scheduler_59', honker_scheduler_unregister('alpha') = 0;
select 'scheduler_60', honker_scheduler_unregister('beta') = 1;
select 'scheduler_61', honker_scheduler_list() = '[]' and honker_scheduler_soonest() = 0;
-- update: NULL leaves a column alone; expires_s and max_attempts only with their touch flag
select honker_scheduler_register('u', 'uq', '@every 60s', 'up', 1, 10, 4);
update _honker_scheduler_tasks set next_fire_at = 7 where name = 'u';
select 'scheduler_70', honker_scheduler_update('u', NULL, NULL, NULL, NULL, 0) = 0;
select 'scheduler_71', honker_scheduler_update('nobody', NULL, 'x', NULL, NULL, 0) = 0;
select 'scheduler_72', honker_scheduler_update('u', NULL, 'up2', NULL, NULL, 0) = 1;
select 'scheduler_73', (select payload = 'up2' and next_fire_at = 7 and expires_s = 10 and priority = 1 and cron_expr = '@every 60s' and max_attempts = 4 from _honker_scheduler_tasks where name = 'u');
select 'scheduler_74', honker_scheduler_update('u', NULL, NULL, 9, 99, 0) = 1;
select 'scheduler_75', (select priority = 9 and expires_s = 10 from _honker_scheduler_tasks where name = 'u');
select 'scheduler_76', honker_scheduler_update('u', NULL, NULL, NULL, NULL, 1) = 1;
select 'scheduler_77', (select expires_s is null and priority = 9 from _honker_scheduler_tasks where name = 'u');
select 'scheduler_78', honker_scheduler_update('u', NULL, NULL, 2.0, 20.0, 1.0) = 1;
select 'scheduler_79', (select expires_s = 20 and priority = 2 and typeof(expires_s) = 'integer' from _honker_scheduler_tasks where name = 'u');
select 'scheduler_80', honker_scheduler_update('u', NULL, NULL, NULL, NULL, 0, 7, 1) = 1;
select 'scheduler_81', (select max_attempts = 7 and expires_s = 20 from _honker_scheduler_tasks where name = 'u');
select 'scheduler_82', honker_scheduler_update('u', NULL, NULL, NULL, NULL, 0, 9, 0) = 0;
select 'scheduler_83', honker_scheduler_update('u', NULL, NULL, NULL, NULL, 0, NULL, 1) = 1;
select 'scheduler_84', (select max_attempts = 3 and next_fire_at = 7 from _honker_scheduler_tasks where name = 'u');
select 'scheduler_85', honker_scheduler_update('u', '@every 1h', NULL, NULL, NULL, 0) = 1;
select 'scheduler_86', (select cron_expr = '@every 1h' and next_fire_at > unixepoch() and next_fire_at % 3600 = 0 and payload = 'up2' from _honker_scheduler_tasks where name = 'u');
select 'scheduler_87', honker_scheduler_pause('u') = 1 and honker_scheduler_update('u', NULL, 'paused-edit', NULL, NULL, 0) = 1;
select 'scheduler_88', (select enabled = 0 and payload = 'paused-edit' from _honker_scheduler_tasks where name = 'u');
select 'scheduler_89', honker_scheduler_unregister('u') = 1;
-- tick: one job per due boundary, run_at = the boundary, expires_at = boundary + expires_s, in name order
select honker_scheduler_register('t-every', 'tq', '@every 100s', 'tp', 2, 50, 5);
select honker_scheduler_register('t-cap', 'cq', '@every 1s', 'cp', 0, NULL);
select honker_scheduler_register('t-paused', 'pq', '@every 100s', 'pp', 0, NULL);
select honker_scheduler_register('t-later', 'lq', '@every 100s', 'lp', 0, NULL);
select honker_scheduler_pause('t-paused');
update _honker_scheduler_tasks set next_fire_at = 1000 where name in ('t-every', 't-cap', 't-paused');
select 'scheduler_90', honker_scheduler_tick(999) = '[]';
select 'scheduler_91', honker_scheduler_tick(1000) = '[{"name":"t-cap","queue":"cq","fire_at":1000,"job_id":1},{"name":"t-every","queue":"tq","fire_at":1000,"job_id":2}]';
select 'scheduler_92', (select next_fire_at from _honker_scheduler_tasks where name = 't-every') = 1100 and (select next_fire_at from _honker_scheduler_tasks where name = 't-cap') = 1001;
select 'scheduler_93', honker_scheduler_tick(1000) = '[]';
select 'scheduler_94', (select queue || '|' || payload || '|' || state || '|' || priority || '|' || run_at || '|' || max_attempts || '|' || expires_at || '|' || attempts from _honker_live where id = 2) = 'tq|tp|pending|2|1000|5|1050|0';
select 'scheduler_95', (select queue = 'cq' and payload = 'cp' and expires_at is null and max_attempts = 3 and run_at = 1000 from _honker_live where id = 1);
select 'scheduler_96', (select count(*) from _honker_live) = 2;
-- catch-up: at most 64 boundaries per task per tick, the oldest; the rest are skipped
create temp table tick1300 as select value from json_each(honker_scheduler_tick(1300));
select 'scheduler_100', (select count(*) from tick1300 where json_extract(value, '$.name') = 't-cap') = 64;
select 'scheduler_101', (select min(json_extract(value, '$.fire_at')) || '-' || max(json_extract(value, '$.fire_at')) from tick1300 where json_extract(value, '$.name') = 't-cap') = '1001-1064';
select 'scheduler_102', (select next_fire_at from _honker_scheduler_tasks where name = 't-cap') = 1301;
select 'scheduler_103', (select group_concat(json_extract(value, '$.fire_at'), ',') from tick1300 where json_extract(value, '$.name') = 't-every') = '1100,1200,1300';
select 'scheduler_104', (select next_fire_at from _honker_scheduler_tasks where name = 't-every') = 1400;
select 'scheduler_105', (select count(*) from tick1300) = 67 and (select count(*) from _honker_live) = 69;
select 'scheduler_106', (select count(*) from tick1300 t join _honker_live l on l.id = json_extract(t.value, '$.job_id') and l.run_at = json_extract(t.value, '$.fire_at') and l.queue = json_extract(t.value, '$.queue')) = 67;
select 'scheduler_107', (select count(*) from _honker_live where queue in ('pq', 'lq')) = 0;
select 'scheduler_108', (select group_concat(run_at, ',') from (select run_at from _honker_live where queue = 'tq' order by id)) = '1000,1100,1200,1300';
select 'scheduler_109', (select expires_at from _honker_live where queue = 'tq' and run_at = 1300) = 1350;
-- resuming a long-paused task fires nothing for the paused period
select honker_scheduler_unregister('t-cap');
select 'scheduler_110', honker_scheduler_resume('t-paused') = 1;
select 'scheduler_111', honker_scheduler_tick(1400) = '[{"name":"t-every","queue":"tq","fire_at":1400,"job_id":70}]';
select 'scheduler_112', honker_scheduler_soonest() = 1500;
-- honker_cron_error: NULL for a schedule that fires, else the parser's reason
select 'scheduler_113', honker_cron_error('*/5 * * * *') IS NULL;
select 'scheduler_114', honker_cron_error('@every 30s') IS NULL;
select 'scheduler_115', honker_cron_error('61 * * * *') = 'minute field: 61 is out of range 0-59';
select 'scheduler_116', honker_cron_error('0 0 30 2 *') = 'never matches: no selected day-of-month exists in the selected months';
select 'scheduler_117', honker_cron_error('') = 'expected 5 or 6 fields (got 0)';
-- expires_s: the first fire's jobs may expire at 9999-12-31T23:59:59Z (errors: scheduler.errors.test.ts; 2 s margin)
select 'scheduler_118', honker_scheduler_register('edge', 'q', '@every 1s', 'p', 0, 253402300796 - unixepoch()) = 1;
select 'scheduler_119', honker_scheduler_update('edge', NULL, NULL, NULL, 253402300797 - unixepoch(), 1) = 1;
-- a task another writer stored under a blank name can still be paused, resumed and removed
insert into _honker_scheduler_tasks (name, queue, cron_expr, payload, next_fire_at) values (' ', 'q', '@hourly', 'p', unixepoch() + 3600);
select 'scheduler_120', honker_scheduler_pause(' ') = 1 and honker_scheduler_resume(' ') = 1 and honker_scheduler_unregister(' ') = 1;
-- register and update store the canonical text: the same schedule in a form honker 0.4's ticker parses (cron.h)
select 'scheduler_121', honker_scheduler_register('canon', 'q', '@daily', 'p', 0, NULL) = 1;
select 'scheduler_122', (select cron_expr from _honker_scheduler_tasks where name = 'canon') = '0 0 * * *';
select 'scheduler_123', honker_scheduler_update('canon', '0 9 * * MON-FRI', NULL, NULL, NULL, 0) = 1 and (select cron_expr from _honker_scheduler_tasks where name = 'canon') = '0 9 * * 1-5';
select 'scheduler_124', honker_scheduler_update('canon', '5/15 * * * 7', NULL, NULL, NULL, 0) = 1 and (select cron_expr from _honker_scheduler_tasks where name = 'canon') = '5-59/15 * * * 0';
select 'scheduler_125', honker_scheduler_register('canon', 'q', '  @EVERY  90S ', 'p', 0, NULL) = 1 and (select cron_expr from _honker_scheduler_tasks where name = 'canon') = '@every 90s';
select 'scheduler_126', honker_scheduler_register('canon', 'q', '*/15  0-6 * JAN *', 'p', 0, NULL, 2) = 1 and (select cron_expr from _honker_scheduler_tasks where name = 'canon') = '*/15 0-6 * 1 *';
select 'scheduler_127', honker_scheduler_unregister('canon') = 1;
