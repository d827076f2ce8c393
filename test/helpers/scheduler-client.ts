/**
 * Scheduler processes for the client's multi-process tests:
 * test/fixtures/client-scheduler-runner.ts as a LineChild of JSON lines
 * (send it commands, signal it) that knows its leader changes.
 */
import type { ExecutionContext } from 'ava';
import { fixturePath, LineChild, owned, tsxCommand } from './child.js';

export type RunnerLine = {
  ready?: boolean;
  pid?: number;
  leader?: boolean;
  t?: number;
  done?: 'resolved' | 'rejected';
  code?: string;
  message?: string;
};

/** test/fixtures/client-scheduler-runner.ts on file with leaseS, killed after the test. */
export class Runner extends LineChild<RunnerLine> {
  constructor(t: ExecutionContext, file: string, leaseS: number) {
    super(...tsxCommand(fixturePath('client-scheduler-runner'), [file, String(leaseS)]), true, { label: 'client-scheduler-runner' });
    owned(t, this);
  }

  /** The leader changes printed so far. */
  get changes(): RunnerLine[] {
    return this.lines.filter((l) => l.leader !== undefined);
  }

  /** Is this process the leader according to its last printed change? */
  get leading(): boolean {
    return this.changes.at(-1)?.leader === true;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The run_at values of the jobs a task fired, from _honker_live (sorted). */
export function firedBoundaries(runAts: number[]): { duplicates: number[]; gaps: number[] } {
  const sorted = [...runAts].sort((a, b) => a - b);
  const duplicates: number[] = [];
  const gaps: number[] = [];
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) duplicates.push(sorted[i]);
    for (let b = sorted[i - 1] + 1; b < sorted[i]; b++) gaps.push(b);
  }
  return { duplicates, gaps };
}
