/**
 * `start --wait`: polls a follower's stats until it has caught up with its leader, showing a
 * progress bar on a terminal (redrawn in place) and plain lines otherwise. Copied / total are the
 * follower's and the leader's global checkpoints summed over shards (+1 each: operations, not
 * seq_nos), so "total" grows while the leader is written. Ends with `caught-up`, or `paused` when
 * the follower was paused (by a fatal error or by someone else) before catching up.
 */
import type { FollowerIndexStats } from '../follow/index-follower.js';
import { formatDuration } from '../util/units.js';

export interface ProgressSample {
  readonly copied: number;
  readonly total: number;
  /** ms since the epoch. */
  readonly at: number;
}

export function progressOf(stats: FollowerIndexStats, at: number): ProgressSample {
  const copied = stats.shards.reduce((a, s) => a + Math.max(0, s.follower_global_checkpoint + 1), 0);
  const total = stats.shards.reduce((a, s) => a + Math.max(0, s.leader_global_checkpoint + 1), 0);
  return { copied, total: Math.max(total, copied), at };
}

/** Caught up: every shard's follower checkpoint at the leader's, as read from the leader since start. */
export function isCaughtUp(stats: FollowerIndexStats): boolean {
  return stats.status === 'active' && stats.leader_checkpoints_seen
    && stats.shards.every((s) => s.follower_global_checkpoint >= s.leader_global_checkpoint);
}

/** Operations per second over the samples kept (the last `windowMs`), and the time left at that rate. */
export class RateMeter {
  readonly #samples: ProgressSample[] = [];
  constructor(private readonly windowMs = 10_000) {}

  add(sample: ProgressSample): { rate: number; etaMs: number | undefined } {
    this.#samples.push(sample);
    while (this.#samples.length > 2 && sample.at - this.#samples[0]!.at > this.windowMs) this.#samples.shift();
    const first = this.#samples[0]!;
    const elapsed = sample.at - first.at;
    const rate = elapsed > 0 ? Math.max(0, ((sample.copied - first.copied) * 1000) / elapsed) : 0;
    const left = sample.total - sample.copied;
    return { rate, etaMs: left <= 0 ? 0 : rate > 0 ? (left / rate) * 1000 : undefined };
  }
}

export function renderProgress(p: { copied: number; total: number; rate: number; etaMs: number | undefined }, tty: boolean, width = 30): string {
  const ratio = p.total === 0 ? 1 : Math.min(1, p.copied / p.total);
  const pct = `${(ratio * 100).toFixed(1)}%`;
  const eta = p.etaMs === undefined ? '?' : formatDuration(Math.round(p.etaMs));
  const numbers = `${p.copied}/${p.total} ops, ${Math.round(p.rate)} ops/s, ETA ${eta}`;
  if (!tty) return `copied ${numbers} (${pct})`;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct.padStart(6)}  ${numbers}`;
}

export interface WaitIo {
  readonly out: (line: string) => void;
  /** Present on a terminal: raw writes, for redrawing one line. */
  readonly tty?: { write(text: string): void };
}

export type WaitOutcome = { readonly outcome: 'caught-up'; readonly stats: FollowerIndexStats } | { readonly outcome: 'paused'; readonly stats: FollowerIndexStats };

export async function waitUntilCaughtUp(opts: {
  readonly fetch: () => Promise<FollowerIndexStats>;
  readonly io: WaitIo;
  readonly intervalMs: number;
  readonly now?: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}): Promise<WaitOutcome> {
  const now = opts.now ?? Date.now;
  const meter = new RateMeter();
  const { io } = opts;
  for (;;) {
    const stats = await opts.fetch();
    const sample = progressOf(stats, now());
    const { rate, etaMs } = meter.add(sample);
    const done = isCaughtUp(stats);
    const line = renderProgress({ ...sample, rate, etaMs: done ? 0 : etaMs }, io.tty !== undefined);
    if (io.tty) io.tty.write(`\r\x1b[2K${line}${done || stats.status === 'paused' ? '\n' : ''}`);
    else io.out(line);
    if (stats.status === 'paused') return { outcome: 'paused', stats };
    if (done) return { outcome: 'caught-up', stats };
    await opts.sleep(opts.intervalMs);
  }
}
