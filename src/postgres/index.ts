/**
 * honker on PostgreSQL: `import { openPostgres } from 'honker/postgres'`.
 * The same SQL surface (pg/, installed by openPostgres) and the same client
 * names as the SQLite client (`import { open } from 'honker'`), async where
 * Postgres needs it. This entry point is the only one that loads `pg`
 * (an optional peer dependency: install it next to honker to use Postgres).
 */
export { openPostgres, isPostgresUrl, PgHonkerDatabase, pgTaskDatabases, type OpenPostgresOptions } from './database.js';
export { PgConnection, type Queryable } from './connection.js';
export { PgQueue, PgJob } from './queue.js';
export { PgDeadLetters } from './dead.js';
export { PgStream } from './stream.js';
export { PgResults } from './results.js';
export { PgLock } from './locks.js';
export { PgScheduler } from './scheduler.js';
export { PgWorker } from './worker.js';
export { type PgTask, type PgTaskHandle } from './task.js';
export { installScript } from './install.js';
export { dashboard, type DashboardDatabase, type DashboardHandler, type DashboardOptions } from '../dashboard/index.js';
export { HonkerError, type HonkerErrorCode } from '../errors.js';
export { currentTask, registeredTasks, type TaskContext, type TaskOptions } from '../task.js';
export type { EnqueueOptions, ClaimOptions, QueueOptions, QueueStats, JobRow } from '../queue.js';
export type { DeadJob } from '../dead.js';
export type { Notification, ListenOptions } from '../notify.js';
export type { StreamEvent, SubscribeOptions } from '../stream.js';
export type { LockOptions, RateLimitOptions } from '../locks.js';
export type { ScheduleEntry, ScheduledTask, FiredJob, RunOptions } from '../scheduler.js';
export type { WorkerOptions, WorkerRunOptions, WorkerSummary } from '../worker.js';
export type { TaskEnvelope, TaskResultEnvelope } from '../envelope.js';
