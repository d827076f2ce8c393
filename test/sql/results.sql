-- results: honker_result_save / result_get / result_sweep
select 'results_01', honker_result_get(1) is null;
select 'results_02', honker_result_save(1, '{"ok":true}', 0) = 1;
select 'results_03', honker_result_get(1) = '{"ok":true}';
select 'results_04', (select expires_at is null from _honker_results where job_id = 1) = 1;
-- ttl_s > 0 expires at now + ttl_s
select 'results_05', honker_result_save(2, 'two', 3600) = 1;
select 'results_06', (select abs(expires_at - (unixepoch() + 3600)) <= 5 from _honker_results where job_id = 2) = 1;
select 'results_07', honker_result_get(2) = 'two';
-- negative ttl_s also means no expiry (honker's rule: ttl_s <= 0)
select 'results_08', honker_result_save(3, 'three', -5) = 1;
select 'results_09', (select expires_at is null from _honker_results where job_id = 3) = 1;
-- upsert replaces value and expiry; both directions
select 'results_10', honker_result_save(1, 'one again', 60.0) = 1;
select 'results_11', honker_result_get(1) = 'one again';
select 'results_12', (select expires_at is not null from _honker_results where job_id = 1) = 1;
select 'results_13', honker_result_save(1, 'one forever', 0) = 1;
select 'results_14', (select expires_at is null from _honker_results where job_id = 1) = 1;
select 'results_15', (select count(*) from _honker_results) = 3;
-- empty value, embedded NUL, negative and huge job ids
select 'results_16', honker_result_save(4, '', 0) = 1;
select 'results_17', honker_result_get(4) = '';
select 'results_18', honker_result_save(-7, 'neg', 0) = 1 and honker_result_get(-7) = 'neg';
select 'results_19', honker_result_save(9223372036854775807, 'max', 0) = 1 and honker_result_get(9223372036854775807) = 'max';
select 'results_20', honker_result_save(5, 'a' || char(0) || 'b', 0) = 1;
select 'results_21', length(cast(honker_result_get(5) as blob)) = 3;
-- expired (expires_at <= now): NULL from get even before the sweep
update _honker_results set expires_at = unixepoch() where job_id = 2;
select 'results_22', honker_result_get(2) is null;
select 'results_23', (select count(*) from _honker_results where job_id = 2) = 1;
select honker_result_save(6, 'six', 10);
update _honker_results set expires_at = unixepoch() - 100 where job_id = 6;
select honker_result_save(7, 'seven', 1000);
-- sweep deletes exactly the expired rows
select 'results_24', honker_result_sweep() = 2;
select 'results_25', (select group_concat(job_id) from (select job_id from _honker_results order by job_id)) = '-7,1,3,4,5,7,9223372036854775807';
select 'results_26', honker_result_sweep() = 0;
select 'results_27', honker_result_get(7) = 'seven';
-- saving again over an expired row makes it visible again
select honker_result_save(8, 'old', 10);
update _honker_results set expires_at = unixepoch() - 1 where job_id = 8;
select 'results_28', honker_result_get(8) is null;
select 'results_29', honker_result_save(8, 'new', 10) = 1 and honker_result_get(8) = 'new';
-- a result may expire at 9999-12-31T23:59:59Z (errors: results.errors.test.ts; 2 s margin: the function reads its own now)
select 'results_30', honker_result_save(9, 'long', 253402300797 - unixepoch()) = 1 and (select expires_at from _honker_results where job_id = 9) between 253402300797 and 253402300799;
