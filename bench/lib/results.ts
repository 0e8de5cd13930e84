/** Where a bench's results go, and how the machine's load is reported beside them. */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../test/helpers/cli-process.js';

/** The 1-, 5- and 15-minute load averages. */
export function loadAverage(): number[] {
  return loadavg().map((l) => Math.round(l * 100) / 100);
}

/** One paragraph for the .md: the load at start and end, and a plain warning when the machine was not quiet. */
export function loadNote(start: readonly number[], end: readonly number[]): string {
  const note = `Load average (1, 5, 15 min) at the start ${start.join(' ')}, at the end ${end.join(' ')}.`;
  return start[0]! > 1.0
    ? `${note} **Not a quiet machine:** the 1-minute load was ${start[0]} (above 1.0) when the run started, so these figures include other work's noise.`
    : note;
}

/** Writes bench/results/<date>-<name>.json and .md; answers the path without the extension. */
export async function writeResults(name: string, json: unknown, md: string): Promise<string> {
  const dir = join(REPO_ROOT, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const base = join(dir, `${new Date().toISOString().slice(0, 10)}-${name}`);
  await writeFile(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(`${base}.md`, md.endsWith('\n') ? md : `${md}\n`);
  return base;
}
