/**
 * Opening a database of either engine by name (test fixtures and the tests
 * share it; this file imports no ava, so child processes can load it).
 */
import { open } from '../../src/index.js';
import { openPostgres } from '../../src/postgres/index.js';

export type EngineName = 'sqlite' | 'postgres';

/** Either client, used through the names both share (test/helpers/engines.ts). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDb = any;

/** Open the database `target` (a file, or a postgres:// URL) with the engine's client. */
export async function openEngine(engine: EngineName, target: string): Promise<AnyDb> {
  return engine === 'postgres' ? openPostgres(target) : open(target);
}
