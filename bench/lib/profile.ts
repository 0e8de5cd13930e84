/**
 * Summarises a V8 `.cpuprofile` (as written by `node --cpu-prof`): self time per function and
 * per module, so the report can name hot spots without a browser.
 *
 * Also a CLI: node dist/bench/lib/profile.js <file.cpuprofile> [top] [skip-ms] [until-ms]
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileEntry {
  readonly name: string;
  readonly ms: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Excluding (idle): time the process was on the CPU, as sampled. */
  readonly busyMs: number;
  readonly functions: readonly ProfileEntry[];
  readonly modules: readonly ProfileEntry[];
}

function moduleOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/dist\/(src\/.*)$/.exec(url);
  return own ? own[1]! : url;
}

/**
 * `skipMs`: leave out the first samples (the process's start-up), by sampled time; `untilMs`: and
 * those after it (a window, e.g. an idle minute between a start and the writes after it).
 */
export async function summarizeProfile(file: string, top = 20, skipMs = 0, untilMs = Infinity): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let elapsedUs = 0;
  profile.samples.forEach((id, i) => {
    const d = profile.timeDeltas[i] ?? 0;
    elapsedUs += d;
    if (elapsedUs >= skipMs * 1000 && elapsedUs < untilMs * 1000) selfUs.set(id, (selfUs.get(id) ?? 0) + d);
  });
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    total += us;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const m = moduleOf(url, functionName);
    const key = `${functionName || '(anonymous)'} ${m}${url ? `:${lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    mod.set(m, (mod.get(m) ?? 0) + us);
  }
  const busy = total - idle;
  const rank = (m: Map<string, number>): ProfileEntry[] =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, ms: us / 1000, share: busy > 0 ? us / busy : 0 }));
  return { totalMs: total / 1000, busyMs: busy / 1000, functions: rank(fn), modules: rank(mod) };
}

export function formatProfile(s: ProfileSummary): string {
  const lines = [`sampled ${(s.totalMs / 1000).toFixed(1)} s, on CPU ${(s.busyMs / 1000).toFixed(1)} s`, '', 'self time by module:'];
  for (const e of s.modules) lines.push(`  ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`);
  lines.push('', 'self time by function:');
  for (const e of s.functions) lines.push(`  ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, top, skip, until] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node dist/bench/lib/profile.js <file.cpuprofile> [top] [skip-ms] [until-ms]');
    process.exitCode = 2;
  } else {
    console.log(formatProfile(await summarizeProfile(file, Number(top ?? 25), Number(skip ?? 0), until === undefined ? Infinity : Number(until))));
  }
}
