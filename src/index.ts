/**
 * honker: Postgres-style NOTIFY/LISTEN, a durable job queue, streams, a cron
 * scheduler, locks and rate limits inside your SQLite file.
 */
export { open, attach, HonkerDatabase, type OpenOptions } from './database.js';
export { extensionPath, load, type ExtensionHost } from './extension.js';
export { HonkerError, type HonkerErrorCode } from './errors.js';
export {
  Queue,
  Job,
  type QueueOptions,
  type EnqueueOptions,
  type ClaimOptions,
  type QueueStats,
  type JobRow,
} from './queue.js';
export { DeadLetters, type DeadJob } from './dead.js';
export { type Notification, type ListenOptions } from './notify.js';
export { Stream, type StreamEvent, type SubscribeOptions } from './stream.js';
export { Results } from './results.js';
export { Lock, type LockOptions, type RateLimitOptions } from './locks.js';
export { Scheduler, type ScheduleEntry, type ScheduledTask, type FiredJob, type RunOptions } from './scheduler.js';
export { type WatcherStats } from './watcher.js';
export { dashboard, type DashboardDatabase, type DashboardHandler, type DashboardOptions } from './dashboard/index.js';
export {
  currentTask,
  registeredTasks,
  type RegisteredTask,
  type Task,
  type TaskHandle,
  type TaskOptions,
  type TaskContext,
} from './task.js';
export { type TaskEnvelope, type TaskResultEnvelope } from './envelope.js';
export { Worker, type WorkerOptions, type WorkerRunOptions, type WorkerSummary } from './worker.js';
export {
  WorkerEvents,
  type WorkerEventMap,
  type WorkerEventName,
  type JobInfo,
  type CompletedEvent,
  type FailedEvent,
  type RetriedEvent,
  type DeadEvent,
  type ReleasedEvent,
  type LostEvent,
} from './events.js';
