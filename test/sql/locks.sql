-- locks: honker_lock_acquire / release / renew, honker_rate_limit_try / sweep
select 'locks_01', honker_lock_acquire('backup', 'a', 60) = 1;
select 'locks_02', (select owner || '|' || (abs(expires_at - (unixepoch() + 60)) <= 5) from _honker_locks where name = 'backup') = 'a|1';
select 'locks_03', honker_lock_acquire('backup', 'b', 60) = 0;
select 'locks_04', (select owner from _honker_locks where name = 'backup') = 'a';
-- re-acquire by the holder: 1, and the lease is NOT extended (honker; renew extends)
update _honker_locks set expires_at = unixepoch() + 30 where name = 'backup';
select 'locks_05', honker_lock_acquire('backup', 'a', 600) = 1;
select 'locks_06', (select expires_at - unixepoch() between 20 and 30 from _honker_locks where name = 'backup') = 1;
-- locks are per name
select 'locks_07', honker_lock_acquire('other', 'b', 60.0) = 1;
-- an expired holder (expires_at <= now) is replaced
update _honker_locks set expires_at = unixepoch() where name = 'backup';
select 'locks_08', honker_lock_acquire('backup', 'b', 60) = 1;
select 'locks_09', (select owner || '|' || (expires_at > unixepoch() + 30) from _honker_locks where name = 'backup') = 'b|1';
select 'locks_10', (select count(*) from _honker_locks) = 2;
-- release: only the owner; expired or not
select 'locks_11', honker_lock_release('backup', 'a') = 0;
select 'locks_12', honker_lock_release('backup', 'b') = 1;
select 'locks_13', honker_lock_release('backup', 'b') = 0;
select 'locks_14', honker_lock_release('nothing', 'b') = 0;
select 'locks_15', honker_lock_acquire('backup', 'a', 60) = 1;
update _honker_locks set expires_at = unixepoch() - 10 where name = 'backup';
select 'locks_16', honker_lock_release('backup', 'a') = 1;
-- renew: only the current, unexpired owner; sets now + ttl_s
select 'locks_17', honker_lock_renew('backup', 'a', 60) = 0;
select 'locks_18', honker_lock_acquire('backup', 'a', 60) = 1;
select 'locks_19', honker_lock_renew('backup', 'b', 60) = 0;
select 'locks_20', honker_lock_renew('backup', 'a', 600) = 1;
select 'locks_21', (select expires_at - unixepoch() between 590 and 600 from _honker_locks where name = 'backup') = 1;
select 'locks_22', honker_lock_renew('backup', 'a', 1) = 1;
select 'locks_23', (select expires_at - unixepoch() between 0 and 1 from _honker_locks where name = 'backup') = 1;
update _honker_locks set expires_at = unixepoch() where name = 'backup';
select 'locks_24', honker_lock_renew('backup', 'a', 60) = 0;
select 'locks_25', (select owner from _honker_locks where name = 'backup') = 'a';
-- rate limits: fixed window (now / per_s) * per_s; a rejected call is not counted
select 'locks_26', honker_rate_limit_try('api', 3, 60) = 1;
select 'locks_27', honker_rate_limit_try('api', 3, 60) = 1;
select 'locks_28', honker_rate_limit_try('api', 3.0, 60.0) = 1;
select 'locks_29', honker_rate_limit_try('api', 3, 60) = 0;
select 'locks_30', honker_rate_limit_try('api', 3, 60) = 0;
select 'locks_31', (select count(*) || '|' || max(count) from _honker_rate_limits where name = 'api') = '1|3';
select 'locks_32', (select window_start from _honker_rate_limits where name = 'api') in ((unixepoch() / 60) * 60, (unixepoch() / 60) * 60 - 60);
-- a higher limit on the same window lets more through; limits are per name
select 'locks_33', honker_rate_limit_try('api', 4, 60) = 1;
select 'locks_34', honker_rate_limit_try('api', 4, 60) = 0;
select 'locks_35', honker_rate_limit_try('other', 1, 60) = 1;
select 'locks_36', honker_rate_limit_try('other', 1, 60) = 0;
-- a new window starts from zero (simulate: move the current window into the past)
update _honker_rate_limits set window_start = window_start - 60 where name = 'api';
select 'locks_37', honker_rate_limit_try('api', 3, 60) = 1;
select 'locks_38', (select group_concat(count) from (select count from _honker_rate_limits where name = 'api' order by window_start)) = '4,1';
-- per_s = 1: window is the current second; huge per_s: window 0
select 'locks_39', honker_rate_limit_try('sec', 1, 1) = 1;
select 'locks_40', (select window_start from _honker_rate_limits where name = 'sec') between unixepoch() - 1 and unixepoch();
select 'locks_41', honker_rate_limit_try('forever', 1, 9223372036854775807) = 1;
select 'locks_42', (select window_start from _honker_rate_limits where name = 'forever') = 0;
select 'locks_43', honker_rate_limit_try('forever', 1, 9223372036854775807) = 0;
-- sweep: deletes windows with window_start < now - older_than_s
delete from _honker_rate_limits;
insert into _honker_rate_limits (name, window_start, count) values ('s', unixepoch() - 1000, 1), ('s', unixepoch() - 100, 1), ('s', unixepoch() + 100, 1);
select 'locks_44', honker_rate_limit_sweep(2000) = 0;
select 'locks_45', honker_rate_limit_sweep(500) = 1;
select 'locks_46', honker_rate_limit_sweep(9223372036854775807) = 0;
select 'locks_47', honker_rate_limit_sweep(0.0) = 1;
select 'locks_48', (select count(*) from _honker_rate_limits) = 1;
-- limit 0 rejects every call and writes nothing
select 'locks_49', honker_rate_limit_try('zero', 0, 60) = 0;
select 'locks_50', honker_rate_limit_try('zero', 0.0, 1) = 0;
select 'locks_51', (select count(*) from _honker_rate_limits where name = 'zero') = 0;
-- a lease may end at 9999-12-31T23:59:59Z, not later (errors: locks.errors.test.ts; 2 s margin: the function reads its own now)
select 'locks_52', honker_lock_acquire('edge', 'o', 253402300797 - unixepoch()) = 1 and (select expires_at from _honker_locks where name = 'edge') between 253402300797 and 253402300799;
select 'locks_53', honker_lock_renew('edge', 'o', 253402300797 - unixepoch()) = 1;
-- a lock another writer stored under a blank name (honker 0.4 has no rule) can still be renewed and released
insert into _honker_locks (name, owner, expires_at) values (' ', 'old-owner', unixepoch() + 60);
select 'locks_54', honker_lock_renew(' ', 'old-owner', 60) = 1 and honker_lock_release(' ', 'old-owner') = 1;
