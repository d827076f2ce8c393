-- notify: notify(channel, payload) and honker_notify_prune(older_than_s, max_keep)
select 'notify_01', notify('orders', '{"id":42}') = 1;
select 'notify_02', notify('orders', '') = 2;
select 'notify_03', notify('other', 'x') = 3;
select 'notify_04', (select channel || '|' || payload from _honker_notifications where id = 1) = 'orders|{"id":42}';
select 'notify_05', (select payload from _honker_notifications where id = 2) = '';
select 'notify_06', (select abs(created_at - unixepoch()) <= 5 from _honker_notifications where id = 1) = 1;
select 'notify_07', notify('orders', 3.0 || '') = 4;
select 'notify_08', (select payload from _honker_notifications where id = 4) = '3.0';
select 'notify_09', notify('orders', 'a' || char(0) || 'b') = 5;
select 'notify_10', (select length(cast(payload as blob)) from _honker_notifications where id = 5) = 3;
-- ids are never reused (AUTOINCREMENT), even after the newest row is deleted
delete from _honker_notifications where id = 5;
select 'notify_11', notify('orders', 'after delete') = 6;
-- prune: both NULL deletes nothing
select 'notify_12', honker_notify_prune(NULL, NULL) = 0;
select 'notify_13', (select count(*) from _honker_notifications) = 5;
-- prune by age: created_at <= now - older_than_s, every channel (margins absorb a slow clock tick)
update _honker_notifications set created_at = unixepoch() - 100 where id in (1, 3);
update _honker_notifications set created_at = unixepoch() - 50 where id = 2;
select 'notify_14', honker_notify_prune(110, NULL) = 0;
select 'notify_15', honker_notify_prune(90, NULL) = 2;
select 'notify_16', (select group_concat(id) from (select id from _honker_notifications order by id)) = '2,4,6';
select 'notify_17', honker_notify_prune(3.0 * 20, NULL) = 0;
select 'notify_18', honker_notify_prune(40, NULL) = 1;
select 'notify_19', (select group_concat(id) from (select id from _honker_notifications order by id)) = '4,6';
-- prune by rank: keeps the max_keep newest ids of all channels, gaps do not count
delete from _honker_notifications;
select notify('a', '1'), notify('b', '2'), notify('a', '3'), notify('b', '4'), notify('a', '5'), notify('a', '6');
-- ids 7..12; punch gaps: remove 9 and 11
delete from _honker_notifications where id in (9, 11);
select 'notify_20', honker_notify_prune(NULL, 100) = 0;
select 'notify_21', honker_notify_prune(NULL, 4) = 0;
select 'notify_22', honker_notify_prune(NULL, 3) = 1;
select 'notify_23', (select group_concat(id) from (select id from _honker_notifications order by id)) = '8,10,12';
select 'notify_24', honker_notify_prune(NULL, 2.0) = 1;
select 'notify_25', (select group_concat(id) from (select id from _honker_notifications order by id)) = '10,12';
select 'notify_26', honker_notify_prune(NULL, 0) = 2;
select 'notify_27', (select count(*) from _honker_notifications) = 0;
select 'notify_28', honker_notify_prune(NULL, 0) = 0;
select 'notify_29', honker_notify_prune(0, 0) = 0;
-- both given: a row matching either rule goes (max_keep is not a floor for age)
select notify('a', '1'), notify('a', '2'), notify('a', '3'), notify('a', '4');
-- ids 13..16; 16 (the newest) is old, 13 is young
update _honker_notifications set created_at = unixepoch() - 1000 where id = 16;
select 'notify_30', honker_notify_prune(500, 2) = 3;
select 'notify_31', (select group_concat(id) from (select id from _honker_notifications order by id)) = '15';
-- older_than_s = 0 deletes everything created up to now
select 'notify_32', honker_notify_prune(0, NULL) = 1;
select 'notify_33', (select count(*) from _honker_notifications) = 0;
-- huge arguments are fine
select notify('a', 'x');
select 'notify_34', honker_notify_prune(9223372036854775807, 9223372036854775807) = 0;
select 'notify_35', (select count(*) from _honker_notifications) = 1;
-- honker_notify_last_id and honker_notify_read_since (what listeners use)
delete from _honker_notifications;
select 'notify_36', honker_notify_last_id() = 0;
select 'notify_37', honker_notify_read_since('a', 0, 10) = '[]';
select notify('a', '{"n":1}'), notify('b', 'two'), notify('a', 'three "q"'), notify('a', '');
update _honker_notifications set created_at = 1700000000;
select 'notify_38', honker_notify_last_id() = (select max(id) from _honker_notifications);
select 'notify_39', honker_notify_read_since('a', 0, 10) = printf('[{"id":%d,"channel":"a","payload":"{\"n\":1}","created_at":1700000000},{"id":%d,"channel":"a","payload":"three \"q\"","created_at":1700000000},{"id":%d,"channel":"a","payload":"","created_at":1700000000}]', (select min(id) from _honker_notifications), (select min(id) + 2 from _honker_notifications), (select max(id) from _honker_notifications));
select 'notify_40', json_extract(honker_notify_read_since('a', 0, 10), '$[0].payload') = '{"n":1}';
select 'notify_41', json_array_length(honker_notify_read_since('a', 0, 2)) = 2;
select 'notify_42', json_array_length(honker_notify_read_since('a', (select min(id) from _honker_notifications), 10.0)) = 2;
select 'notify_43', honker_notify_read_since('a', honker_notify_last_id(), 10) = '[]';
select 'notify_44', json_extract(honker_notify_read_since('b', 0, 10), '$[0].payload') = 'two';
select 'notify_45', honker_notify_read_since('a', 0, 0) = '[]';
select 'notify_46', honker_notify_read_since('nobody', 0, 10) = '[]';
-- last_id after pruning everything: 0, and the next notify is still above every old id
select 'notify_47', honker_notify_prune(NULL, 0) = 4;
select 'notify_48', honker_notify_last_id() = 0;
select 'notify_49', notify('a', 'x') > 20;
-- notifications another writer stored under a blank channel (honker 0.4 has no rule) stay readable
insert into _honker_notifications (channel, payload) values ('  ', 'from-0.4');
select 'notify_50', json_extract(honker_notify_read_since('  ', 0, 10), '$[0].payload') = 'from-0.4';
