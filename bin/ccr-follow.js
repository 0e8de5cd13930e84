#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm ci` / `npm run build`).
import { main } from '../dist/src/cli/main.js';

const code = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  cwd: process.cwd(),
  // Only on a terminal: progress bars and `stats --watch` redraw in place.
  ...(process.stdout.isTTY ? { tty: { write: (text) => process.stdout.write(text) } } : {}),
});
// Exit once stdout has drained: a piped `stats --json` must not be cut short.
process.stdout.write("", () => process.exit(code));
