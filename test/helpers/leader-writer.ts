/**
 * Writes to a leader index in the background, batch after batch, until stopped: the steady stream
 * of application writes the fault tests replicate under. What each batch holds is the caller's
 * (`RandomWorkload`, or a test's own documents); how they are written is set by the options:
 *
 * - `opsPerSecond`: paced at that many operations per second on average since the start (unpaced,
 *   a leader on a small machine takes far more than the test needs and starves the nodes of CPU);
 * - `pauseMs`: a pause after each batch instead (a stream the follower can keep up with);
 * - `retryErrors`: a failed batch is counted and the next one tried after `retryDelayMs`, as an
 *   application keeps retrying while a leader node restarts. Otherwise the first write error ends
 *   the writer and surfaces from `writeMore()` / `stop()` (never as an unhandled rejection).
 *
 * Tests compare the follower with the leader index itself, not with a model of what was written.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from './wait-for.js';

/** Something that writes one batch to the leader and counts the operations written so far. */
export interface LeaderBatches {
  writeBatch(): Promise<void>;
  readonly operations: number;
}

export interface LeaderWriterOptions {
  readonly opsPerSecond?: number;
  readonly pauseMs?: number;
  readonly retryErrors?: boolean;
  /** Wait before the batch after a failed one (with `retryErrors`); default 250 ms. */
  readonly retryDelayMs?: number;
}

export class LeaderWriter {
  #stopped = false;
  #batches = 0;
  #failedBatches = 0;
  #lastWriteAt = 0;
  #error: unknown;
  readonly #done: Promise<void>;

  /** Starts writing at once. */
  constructor(source: LeaderBatches, opts: LeaderWriterOptions = {}) {
    this.#done = (async () => {
      const started = Date.now();
      const base = source.operations;
      while (!this.#stopped) {
        try {
          await source.writeBatch();
          this.#batches += 1;
          this.#lastWriteAt = Date.now();
        } catch (err) {
          if (!opts.retryErrors) throw err;
          this.#failedBatches += 1;
          await delay(opts.retryDelayMs ?? 250);
          continue;
        }
        if (opts.pauseMs) await delay(opts.pauseMs);
        if (opts.opsPerSecond) {
          const due = started + ((source.operations - base) / opts.opsPerSecond) * 1000;
          if (due > Date.now()) await delay(due - Date.now());
        }
      }
    })();
    // Kept, and rethrown by writeMore() and stop().
    this.#done.catch((err: unknown) => {
      this.#error = err ?? new Error('the leader writer failed');
    });
  }

  get batches(): number {
    return this.#batches;
  }

  /** Batches that failed and were given up (only with `retryErrors`). */
  get failedBatches(): number {
    return this.#failedBatches;
  }

  /** When the last successful batch was acknowledged (epoch ms; 0 before the first). */
  get lastWriteAt(): number {
    return this.#lastWriteAt;
  }

  /** Waits until `count` more batches than now have been written (the writer keeps going). */
  async writeMore(count: number, timeoutMs = 60_000): Promise<void> {
    const target = this.#batches + count;
    const outcome = await waitFor(() => (this.#error !== undefined ? 'failed' : this.#batches >= target), {
      timeoutMs, intervalMs: 20, message: () => `the leader writer to write ${count} more batches (at ${this.#batches}, target ${target})`,
    });
    if (outcome === 'failed') throw this.#error;
  }

  /** Stops after the batch in flight; rethrows the error that ended the writer, if one did. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }
}
