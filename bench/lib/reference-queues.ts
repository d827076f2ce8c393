/**
 * The queues the claim scenarios compare honker_ext with, on queue 'q' and
 * worker 'w':
 *   - a naive raw-SQL queue: a plain `jobs` table with one (queue, state,
 *     priority DESC, run_at, id) index; claim by `UPDATE … WHERE id =
 *     (SELECT … LIMIT 1) RETURNING`, ack by `DELETE`;
 *   - honker 0.4's claim and ack statements (from its ops.rs), replayed on
 *     our tables: an exhausted-row DELETE pre-pass then the claim UPDATE, in
 *     one IMMEDIATE transaction; both walk every due row of the queue.
 */
import type { Db } from './measure.js';

export interface ReferenceQueue {
  /** Claim one job, or undefined when none is due. */
  claim: () => { id: number; payload: string } | undefined;
  /** Ack a claimed job; false when its claim was gone. */
  ack: (id: number) => boolean;
}

/** The columns of the naive queue's `jobs` table, for callers that fill it. */
export const NAIVE_COLUMNS = 'queue, payload, state, priority, run_at, worker_id, claim_expires_at';

/** Create the naive queue's table in db; `enqueue(payload)` adds a due job. */
export function naiveQueue(db: Db, visibilityS: number): ReferenceQueue & { enqueue: (payload: string) => void } {
  db.exec(`CREATE TABLE jobs (id INTEGER PRIMARY KEY, queue TEXT NOT NULL, payload TEXT NOT NULL,
             state TEXT NOT NULL DEFAULT 'pending', priority INTEGER NOT NULL DEFAULT 0,
             run_at INTEGER NOT NULL, worker_id TEXT, claim_expires_at INTEGER);
           CREATE INDEX jobs_claim ON jobs (queue, state, priority DESC, run_at, id);`);
  const insert = db.prepare("INSERT INTO jobs (queue, payload, run_at) VALUES ('q', ?, unixepoch())");
  const claim = db.prepare(
    `UPDATE jobs SET state = 'processing', worker_id = 'w', claim_expires_at = unixepoch() + ?
     WHERE id = (SELECT id FROM jobs WHERE queue = 'q' AND state = 'pending' AND run_at <= unixepoch()
                 ORDER BY priority DESC, run_at, id LIMIT 1)
     RETURNING id, payload`,
  );
  const ack = db.prepare("DELETE FROM jobs WHERE id = ? AND worker_id = 'w'");
  return {
    enqueue: (payload) => void insert.run(payload),
    claim: () => claim.get(visibilityS) as { id: number; payload: string } | undefined,
    ack: (id) => ack.run(id).changes === 1,
  };
}

export function honker04Queue(db: Db, visibilityS: number): ReferenceQueue {
  const prepass = db.prepare(
    `DELETE FROM _honker_live WHERE queue = 'q' AND attempts >= max_attempts
       AND (expires_at IS NULL OR expires_at > unixepoch())
       AND ((state = 'pending' AND run_at <= unixepoch())
         OR (state = 'processing' AND claim_expires_at < unixepoch()))
     RETURNING id, queue, payload, priority, run_at, max_attempts, attempts, created_at`,
  );
  const update = db.prepare(
    `UPDATE _honker_live SET state = 'processing', worker_id = 'w',
       claim_expires_at = unixepoch() + ?, attempts = attempts + 1
     WHERE id IN (SELECT id FROM _honker_live WHERE queue = 'q'
       AND state IN ('pending', 'processing') AND attempts < max_attempts
       AND (expires_at IS NULL OR expires_at > unixepoch())
       AND ((state = 'pending' AND run_at <= unixepoch())
         OR (state = 'processing' AND claim_expires_at < unixepoch()))
       ORDER BY priority DESC, run_at ASC, id ASC LIMIT 1)
     RETURNING id, queue, payload, worker_id, attempts, claim_expires_at`,
  );
  const claim = db.transaction(() => {
    prepass.all();
    return update.get(visibilityS) as { id: number; payload: string } | undefined;
  });
  const ack = db.prepare("DELETE FROM _honker_live WHERE id = ? AND worker_id = 'w' AND claim_expires_at >= unixepoch()");
  return { claim: () => claim.immediate(), ack: (id) => ack.run(id).changes === 1 };
}
