/** CPU seconds, RSS and CPU pinning of processes, from /proc and taskset (Linux). */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let clkTck: number | undefined;
function ticksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

interface Stat {
  readonly pgrp: number;
  readonly utime: number;
  readonly stime: number;
  readonly cutime: number;
  readonly cstime: number;
  readonly rssPages: number;
}

function readStat(pid: number | 'self'): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name (which may hold spaces) in parentheses: state is field 3.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const num = (field: number): number => Number(f[field - 3]);
  return { pgrp: num(5), utime: num(14), stime: num(15), cutime: num(16), cstime: num(17), rssPages: num(24) };
}

/** user + system CPU seconds of one process (all its threads). 0 once it is gone. */
export function processCpuSeconds(pid: number): number {
  const s = readStat(pid);
  return s ? (s.utime + s.stime) / ticksPerSecond() : 0;
}

/** CPU seconds of the children this process has waited for (e.g. elasticdump after it exited). */
export function reapedChildrenCpuSeconds(): number {
  const s = readStat('self');
  return s ? (s.cutime + s.cstime) / ticksPerSecond() : 0;
}

/** Pids of every process in process group `pgid` (a local node's launcher, its JVM(s)). */
export function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = readStat(Number(entry));
    if (s?.pgrp === pgid) pids.push(Number(entry));
  }
  return pids;
}

/** CPU seconds of a whole process group: a node's JVMs together. */
export function groupCpuSeconds(pgid: number): number {
  return groupPids(pgid).reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
}

/** Resident set size in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Peak resident set size in bytes (VmHWM) over the process's life. */
export function peakRssBytes(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function tasksetAvailable(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Pins every thread of every pid to `cpus` (e.g. "0" or "0,1"); threads created later inherit it. */
export async function pin(pids: readonly number[], cpus: string): Promise<void> {
  await Promise.all(pids.map((pid) => new Promise<void>((resolve, reject) => {
    execFile('taskset', ['-a', '-p', '-c', cpus, String(pid)], (err, _stdout, stderr) => {
      if (err && !/No such process/.test(stderr)) reject(new Error(`taskset -a -p -c ${cpus} ${pid}: ${stderr || err.message}`));
      else resolve();
    });
  })));
}

/** Samples a pid's RSS every `intervalMs` and keeps the highest. */
export class RssSampler {
  #max = 0;
  readonly #timer: NodeJS.Timeout;
  constructor(private readonly pid: number, intervalMs = 100) {
    this.#timer = setInterval(() => (this.#max = Math.max(this.#max, rssBytes(this.pid))), intervalMs);
    this.#max = rssBytes(pid);
  }
  get max(): number {
    return this.#max;
  }
  stop(): number {
    clearInterval(this.#timer);
    this.#max = Math.max(this.#max, rssBytes(this.pid));
    return this.#max;
  }
}
