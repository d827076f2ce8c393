-- schema: honker_bootstrap and the on-disk format (spec/sql.md "Tables")
select 'schema_01', honker_bootstrap() = 1;
select 'schema_02', honker_bootstrap() = 1;
select 'schema_03', (select value from _honker_meta where key = 'schema_version') = '3';
select 'schema_04', (select group_concat(name, ',') from pragma_table_info('_honker_live')) = 'id,queue,payload,state,priority,run_at,worker_id,claim_expires_at,attempts,max_attempts,created_at,expires_at,unique_key,last_error';
select 'schema_05', (select group_concat(name, ',') from pragma_table_info('_honker_dead')) = 'id,queue,payload,priority,run_at,attempts,max_attempts,last_error,created_at,died_at';
select 'schema_06', (select group_concat(name, ',') from pragma_table_info('_honker_scheduler_tasks')) = 'name,queue,cron_expr,payload,priority,expires_s,next_fire_at,enabled,max_attempts';
select 'schema_07', (select count(*) from sqlite_master where type = 'index' and name in ('_honker_live_claim', '_honker_live_pending_deadline', '_honker_live_processing_deadline', '_honker_notifications_recent', '_honker_stream_topic', '_honker_live_ready', '_honker_live_unique')) = 7;
select 'schema_08', (select group_concat(name, ',') from pragma_table_info('_honker_stream')) = 'offset,topic,key,payload,created_at';
select 'schema_09', (select group_concat(name, ',') from pragma_table_info('_honker_results')) = 'job_id,value,created_at,expires_at';
select 'schema_10', (select group_concat(name, ',') from pragma_table_info('_honker_workers')) = 'worker_id,slot,pid,host,registered_at,token';
