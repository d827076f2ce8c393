-- stream: honker_stream_publish / read_since / save_offset / get_offset
select 'stream_01', honker_stream_publish('orders', 'o-1', '{"total":9}') = 1;
select 'stream_02', honker_stream_publish('audit', NULL, 'plain text') = 2;
select 'stream_03', honker_stream_publish('orders', '', 'p"q\r') = 3;
select 'stream_04', honker_stream_publish('orders', NULL, '') = 4;
-- offsets are global and increasing across topics, never reused
delete from _honker_stream where offset = 4;
select 'stream_05', honker_stream_publish('audit', 'k', 'x') = 5;
select 'stream_06', (select topic || '|' || key || '|' || payload from _honker_stream where offset = 1) = 'orders|o-1|{"total":9}';
select 'stream_07', (select key is null from _honker_stream where offset = 2) = 1;
-- read_since: offset > given, ascending, this topic only; payload is a JSON string, key string or null
update _honker_stream set created_at = 1700000000;
select 'stream_08', honker_stream_read_since('orders', 0, 10) = '[{"offset":1,"topic":"orders","key":"o-1","payload":"{\"total\":9}","created_at":1700000000},{"offset":3,"topic":"orders","key":"","payload":"p\"q\\r","created_at":1700000000}]';
select 'stream_09', honker_stream_read_since('audit', 0, 10) = '[{"offset":2,"topic":"audit","key":null,"payload":"plain text","created_at":1700000000},{"offset":5,"topic":"audit","key":"k","payload":"x","created_at":1700000000}]';
select 'stream_10', json_extract(honker_stream_read_since('orders', 0, 10), '$[0].payload') = '{"total":9}';
select 'stream_11', honker_stream_read_since('orders', 1, 10) = '[{"offset":3,"topic":"orders","key":"","payload":"p\"q\\r","created_at":1700000000}]';
select 'stream_12', honker_stream_read_since('orders', 3, 10) = '[]';
select 'stream_13', honker_stream_read_since('nobody', 0, 10) = '[]';
select 'stream_14', honker_stream_read_since('orders', 0, 0) = '[]';
select 'stream_15', honker_stream_read_since('orders', 9223372036854775807, 10) = '[]';
select 'stream_16', json_valid(honker_stream_read_since('orders', 0, 9223372036854775807)) = 1;
-- pagination with limit: pages chain by the last offset, no gaps or repeats
with recursive n(i) as (select 1 union all select i + 1 from n where i < 7) select honker_stream_publish('page', NULL, 'e' || i) from n;
select 'stream_17', (select group_concat(value ->> 'payload') from json_each(honker_stream_read_since('page', 0, 3))) = 'e1,e2,e3';
select 'stream_18', (select group_concat(value ->> 'payload') from json_each(honker_stream_read_since('page', (select max(offset) from _honker_stream where payload = 'e3'), 3.0))) = 'e4,e5,e6';
select 'stream_19', (select group_concat(value ->> 'payload') from json_each(honker_stream_read_since('page', (select max(offset) from _honker_stream where payload = 'e6'), 3))) = 'e7';
select 'stream_20', json_array_length(honker_stream_read_since('page', 0, 100)) = 7;
-- save_offset: 1 when stored, 0 when the saved offset is already >=; never moves back
select 'stream_21', honker_stream_get_offset('billing', 'orders') = 0;
select 'stream_22', honker_stream_save_offset('billing', 'orders', 3) = 1;
select 'stream_23', honker_stream_get_offset('billing', 'orders') = 3;
select 'stream_24', honker_stream_save_offset('billing', 'orders', 3) = 0;
select 'stream_25', honker_stream_save_offset('billing', 'orders', 1) = 0;
select 'stream_26', honker_stream_get_offset('billing', 'orders') = 3;
select 'stream_27', honker_stream_save_offset('billing', 'orders', 5.0) = 1;
select 'stream_28', honker_stream_get_offset('billing', 'orders') = 5;
-- a first save of 0 stores a row (honker: new row counts as stored)
select 'stream_29', honker_stream_save_offset('fresh', 'orders', 0) = 1;
select 'stream_30', (select count(*) from _honker_stream_consumers where name = 'fresh') = 1;
-- consumers are independent per (consumer, topic); argument order is (consumer, topic)
select 'stream_31', honker_stream_save_offset('billing', 'audit', 2) = 1;
select 'stream_32', honker_stream_save_offset('shipping', 'orders', 1) = 1;
select 'stream_33', honker_stream_get_offset('billing', 'orders') = 5;
select 'stream_34', honker_stream_get_offset('billing', 'audit') = 2;
select 'stream_35', honker_stream_get_offset('shipping', 'orders') = 1;
select 'stream_36', honker_stream_get_offset('orders', 'billing') = 0;
select 'stream_37', (select group_concat(name || '/' || topic || '=' || offset, ' ') from (select * from _honker_stream_consumers order by name, topic)) = 'billing/audit=2 billing/orders=5 fresh/orders=0 shipping/orders=1';
-- large payloads round-trip
select 'stream_38', length(json_extract(honker_stream_read_since('big', 0, 1), '$[0].payload')) is null;
select honker_stream_publish('big', NULL, printf('%.*c', 100000, 'x'));
select 'stream_39', length(json_extract(honker_stream_read_since('big', 0, 1), '$[0].payload')) = 100000;
-- events another writer stored under a blank topic (honker 0.4 has no rule) stay readable, and a consumer can save its place
insert into _honker_stream (topic, payload) values (' ', 'from-0.4');
select 'stream_40', json_extract(honker_stream_read_since(' ', 0, 10), '$[0].payload') = 'from-0.4';
select 'stream_41', honker_stream_save_offset('reader', ' ', (select max(offset) from _honker_stream)) = 1 and honker_stream_get_offset('reader', ' ') = (select max(offset) from _honker_stream);
