// `npm run test:postgres`: the tests that start a throwaway PostgreSQL server
// (test/helpers/pg-server.ts): the SQL surface and the client on Postgres
// (test/postgres/) and the behaviours both engines share (test/matrix.*).
// Kept out of `npm test` (package.json "ava") so that stays a few minutes on
// two cores; .ci/run runs both. The options are package.json's.
import { readFileSync } from 'node:fs';

const base = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')).ava;

export default { ...base, files: ['test/postgres/**/*.test.ts', 'test/matrix.*.test.ts'] };
