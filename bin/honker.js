#!/usr/bin/env node
// The `honker` command (package.json "bin"): runs the compiled CLI (dist/cli.js, built by `npm run build`).
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
