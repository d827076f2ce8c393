/**
 * `honker extension-path`: the absolute path of the loadable library that
 * this install uses, for every other SQLite host (the sqlite3 CLI's `.load`,
 * Python's load_extension, Go, Ruby …): the same file the client loads.
 */
import { extensionPath } from '../extension.js';
import { out, parse, type Command } from './args.js';
import * as fmt from './format.js';

export const extensionPathCommand: Command = {
  usage: `usage: honker extension-path [--json]

Prints the absolute path of libhonker_ext as this install finds it (a prebuilt
library for this platform, or the one compiled from source), for other SQLite
hosts:  sqlite3 app.db ".load $(npx honker extension-path)"`,
  async run(args) {
    const p = parse(extensionPathCommand, args, {}, [0, 0]);
    if (!p) return 0;
    const file = extensionPath();
    if (out(p).json) fmt.writeJson({ path: file });
    else fmt.write(file);
    return 0;
  },
};
