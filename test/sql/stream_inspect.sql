-- stream_inspect: honker_streams and honker_stream_consumers (ext/stream_inspect.c).
select 'stream_inspect_01', honker_streams() = '[]' and honker_stream_consumers() = '[]';
select honker_stream_publish('orders', NULL, '{}');
select honker_stream_publish('audit', NULL, '{}');
select honker_stream_publish('orders', NULL, '{}');
select honker_stream_publish('orders', NULL, '{}');
update _honker_stream set created_at = 1700000000 + offset;
select honker_stream_save_offset('billing', 'orders', 1);
select honker_stream_save_offset('mail', 'orders', 4);
select honker_stream_save_offset('late', 'gone', 7);
-- one object per topic with events or consumers, by topic
select 'stream_inspect_02', honker_streams() = '[{"topic":"audit","head":2,"last_at":1700000002,"consumers":0},{"topic":"gone","head":0,"last_at":null,"consumers":1},{"topic":"orders","head":4,"last_at":1700000004,"consumers":2}]';
-- lag counts the topic's events after the offset (offsets are global across topics)
select 'stream_inspect_03', honker_stream_consumers() = '[{"topic":"gone","consumer":"late","offset":7,"head":0,"lag":0},{"topic":"orders","consumer":"billing","offset":1,"head":4,"lag":2},{"topic":"orders","consumer":"mail","offset":4,"head":4,"lag":0}]';
-- notify: honker_notify_channels and honker_notify_recent (ext/notify.c)
select 'stream_inspect_04', honker_notify_channels() = '[]' and honker_notify_recent('x', 5) = '[]';
select notify('orders', '1');
select notify('audit', '2');
select notify('orders', '3');
update _honker_notifications set created_at = 1700000000 + id;
select 'stream_inspect_05', honker_notify_channels() = '[{"channel":"audit","last_id":2,"last_at":1700000002},{"channel":"orders","last_id":3,"last_at":1700000003}]';
select 'stream_inspect_06', honker_notify_recent('orders', 5) = '[{"id":3,"channel":"orders","payload":"3","created_at":1700000003},{"id":1,"channel":"orders","payload":"1","created_at":1700000001}]';
select 'stream_inspect_07', honker_notify_recent('orders', 1) = '[{"id":3,"channel":"orders","payload":"3","created_at":1700000003}]' and honker_notify_recent('orders', 0) = '[]';
