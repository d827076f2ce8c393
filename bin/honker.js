#!/usr/bin/env node
// The `honker` command (package.json "bin"): runs the compiled CLI, dist/cli.js. `npm run build:ts`
// builds dist/ (so does `prepare`, on npm install in a checkout and before publishing);
// `npm run build` builds the C library, not dist/.
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`honker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
