/**
 * The recent history of every follower index, kept by the daemon so a status page opened now shows
 * the last hour at once (a page that derived rates from its own polls showed nothing for minutes).
 *
 * Every `intervalMs` (10 s by default) one sample of each follower's `stats()` is taken into that
 * follower's ring buffer of `capacity` samples (360 by default: one hour). The buffer is columnar:
 * seven Float64Array columns and one Uint8Array of statuses, plus one reference per slot to the
 * reason of a failure (the same string object while the reason does not change), so its size is
 * fixed when it is made: 360 × (7 × 8 + 1 + 8) bytes ≈ 23 KiB per follower, whatever happens. A
 * follower that is no longer followed loses its buffer at the next sample.
 *
 * The throughput of a sample is the operations written since the previous sample over the time
 * between them; a counter that went backwards (the follower restarted its tasks) counts as 0. A
 * follower absent from the previous sample was started after it, with its counters at 0, so its
 * first sample counts everything it wrote since then (a follower that copied its backlog within one
 * interval would otherwise never show a rate).
 */
import type { FollowerIndexStats } from '../follow/index-follower.js';
import { followerStatus, FOLLOWER_STATUSES, type FollowerStatus } from '../follow/follower-status.js';

export const DEFAULT_HISTORY_INTERVAL_MS = 10_000;
/** One hour at the default interval. */
export const DEFAULT_HISTORY_CAPACITY = 360;

/** One sample of a follower, as the control API answers it. */
export interface HistorySample {
  /** When the sample was taken (epoch milliseconds). */
  readonly at: number;
  readonly status: FollowerStatus;
  /** Why it is failed (`type: reason`), or that it was paused by a user. */
  readonly reason?: string;
  readonly lag_operations: number;
  /** The largest shard lag, in milliseconds. */
  readonly lag_millis: number;
  readonly operations_written_per_second: number;
  readonly write_buffer_operation_count: number;
  readonly write_buffer_size_in_bytes: number;
  /** Failed (retried) read and write requests since the tasks started. */
  readonly retries: number;
}

export interface FollowerHistoryView {
  readonly follower_cluster: string;
  readonly index: string;
  readonly samples: HistorySample[];
}

export interface HistoryAnswer {
  readonly interval_millis: number;
  readonly capacity: number;
  readonly followers: FollowerHistoryView[];
}

const COLUMNS = ['at', 'lag_operations', 'lag_millis', 'operations_written_per_second', 'write_buffer_operation_count', 'write_buffer_size_in_bytes', 'retries'] as const;
type Column = (typeof COLUMNS)[number];

/** A fixed-size ring of one follower's samples. */
export class SampleRing {
  readonly #columns: Record<Column, Float64Array>;
  readonly #status: Uint8Array;
  readonly #reason: (string | undefined)[];
  #next = 0;
  #size = 0;
  /** Operations written at the previous sample, for the next one's rate. */
  lastWritten: number | undefined;

  constructor(readonly capacity: number) {
    this.#columns = Object.fromEntries(COLUMNS.map((c) => [c, new Float64Array(capacity)])) as Record<Column, Float64Array>;
    this.#status = new Uint8Array(capacity);
    this.#reason = new Array<string | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.#size;
  }

  push(sample: HistorySample): void {
    for (const c of COLUMNS) this.#columns[c][this.#next] = sample[c];
    this.#status[this.#next] = FOLLOWER_STATUSES.indexOf(sample.status);
    // The previous slot's string when equal, so a long failure holds one string, not one per sample.
    const previous = this.#reason[(this.#next + this.capacity - 1) % this.capacity];
    this.#reason[this.#next] = sample.reason === previous ? previous : sample.reason;
    this.#next = (this.#next + 1) % this.capacity;
    this.#size = Math.min(this.capacity, this.#size + 1);
  }

  /** Oldest first. */
  samples(): HistorySample[] {
    const out: HistorySample[] = [];
    for (let i = 0; i < this.#size; i++) {
      const slot = (this.#next - this.#size + i + this.capacity) % this.capacity;
      const reason = this.#reason[slot];
      const sample: Record<string, unknown> = { status: FOLLOWER_STATUSES[this.#status[slot]!] };
      for (const c of COLUMNS) sample[c] = this.#columns[c][slot];
      if (reason !== undefined) sample['reason'] = reason;
      out.push(sample as unknown as HistorySample);
    }
    return out;
  }

  /** When the newest sample was taken, if any. */
  lastAt(): number | undefined {
    return this.#size === 0 ? undefined : this.#columns.at[(this.#next + this.capacity - 1) % this.capacity];
  }
}

export interface FollowerHistoryDeps {
  /** Every follower's stats: the follow manager's `stats()`. */
  readonly stats: () => readonly FollowerIndexStats[];
  readonly now?: () => number;
  readonly intervalMs?: number;
  readonly capacity?: number;
}

export class FollowerHistory {
  readonly #stats: () => readonly FollowerIndexStats[];
  readonly #now: () => number;
  readonly intervalMs: number;
  readonly capacity: number;
  readonly #rings = new Map<string, { cluster: string; index: string; ring: SampleRing }>();
  /** When the previous sample of all followers was taken, if any. */
  #lastSampleAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: FollowerHistoryDeps) {
    this.#stats = deps.stats;
    this.#now = deps.now ?? Date.now;
    this.intervalMs = deps.intervalMs ?? DEFAULT_HISTORY_INTERVAL_MS;
    this.capacity = deps.capacity ?? DEFAULT_HISTORY_CAPACITY;
    if (!(this.intervalMs > 0) || !Number.isInteger(this.capacity) || this.capacity < 2) {
      throw new Error(`follower history needs an interval > 0 and a capacity of at least 2 (got ${this.intervalMs} ms, ${this.capacity})`);
    }
  }

  /** Takes a first sample now, then one every interval until `stop()`. */
  start(): void {
    if (this.#timer) return;
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
    // The history never keeps the process alive on its own.
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Takes one sample of every follower, and forgets those no longer followed. */
  sample(): void {
    const at = this.#now();
    const seen = new Set<string>();
    for (const f of this.#stats()) {
      const key = `${f.follower_cluster}/${f.index}`;
      seen.add(key);
      let entry = this.#rings.get(key);
      let since: { at: number; written: number } | undefined;
      if (entry) {
        const previousAt = entry.ring.lastAt();
        if (previousAt !== undefined && entry.ring.lastWritten !== undefined) since = { at: previousAt, written: entry.ring.lastWritten };
      } else {
        entry = { cluster: f.follower_cluster, index: f.index, ring: new SampleRing(this.capacity) };
        this.#rings.set(key, entry);
        if (this.#lastSampleAt !== undefined) since = { at: this.#lastSampleAt, written: 0 };
      }
      entry.ring.push(sampleOf(f, at, since));
      entry.ring.lastWritten = f.operations_written;
    }
    for (const key of this.#rings.keys()) if (!seen.has(key)) this.#rings.delete(key);
    this.#lastSampleAt = at;
  }

  /** Every follower's samples, oldest first, as the control API answers them. */
  view(): HistoryAnswer {
    return {
      interval_millis: this.intervalMs,
      capacity: this.capacity,
      followers: [...this.#rings.values()].map((e) => ({ follower_cluster: e.cluster, index: e.index, samples: e.ring.samples() })),
    };
  }
}

/** One sample of `f` at `at`; its rate counts the operations written since `since`, when known. */
function sampleOf(f: FollowerIndexStats, at: number, since: { at: number; written: number } | undefined): HistorySample {
  const status = followerStatus(f);
  const written = since === undefined || at <= since.at ? 0
    : Math.max(0, f.operations_written - since.written) * 1000 / (at - since.at);
  let lagMillis = 0;
  let bufferOps = 0;
  let bufferBytes = 0;
  let retries = 0;
  for (const s of f.shards) {
    lagMillis = Math.max(lagMillis, s.lag_millis);
    bufferOps += s.write_buffer_operation_count;
    bufferBytes += s.write_buffer_size_in_bytes;
    retries += s.failed_read_requests + s.failed_write_requests;
  }
  const reason = status === 'failed' ? `${f.fatal_exception!.type}: ${f.fatal_exception!.reason}` : status === 'paused' ? 'paused by a user' : undefined;
  return {
    at,
    status,
    ...(reason !== undefined ? { reason } : {}),
    lag_operations: f.total_global_checkpoint_lag,
    lag_millis: lagMillis,
    operations_written_per_second: Math.round(written * 10) / 10,
    write_buffer_operation_count: bufferOps,
    write_buffer_size_in_bytes: bufferBytes,
    retries,
  };
}
