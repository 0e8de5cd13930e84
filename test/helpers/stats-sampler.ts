/**
 * Samples a daemon process's stats for one follower and its RSS at a fixed interval until stopped,
 * keeping the per-shard write-buffer maxima and the RSS maximum: what the back-pressure and
 * follower-down tests bound.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { FollowerIndexStats } from '../../src/follow/index-follower.js';
import { followerStats, type DaemonProcess } from './daemon-process.js';

export interface ShardBufferMax {
  bufferOps: number;
  bufferBytes: number;
}

export class StatsSampler {
  readonly perShard = new Map<number, ShardBufferMax>();
  samples = 0;
  rssMax = 0;
  latest: FollowerIndexStats | undefined;
  #stopped = false;
  #error: unknown;
  readonly #done: Promise<void>;

  constructor(private readonly daemon: DaemonProcess, private readonly followerIndex: string, private readonly intervalMs: number) {
    this.#done = this.#run();
    this.#done.catch((err: unknown) => {
      this.#error = err;
    });
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const [stats, rss] = await Promise.all([followerStats(this.daemon, this.followerIndex), this.daemon.rssBytes()]);
      this.latest = stats;
      this.samples += 1;
      this.rssMax = Math.max(this.rssMax, rss);
      for (const s of stats.shards) {
        const max = this.perShard.get(s.shard_id) ?? { bufferOps: 0, bufferBytes: 0 };
        max.bufferOps = Math.max(max.bufferOps, s.write_buffer_operation_count);
        max.bufferBytes = Math.max(max.bufferBytes, s.write_buffer_size_in_bytes);
        this.perShard.set(s.shard_id, max);
      }
      await delay(this.intervalMs);
    }
  }

  /** Resets the RSS maximum (a new phase starts). */
  resetRss(): void {
    this.rssMax = 0;
  }

  /** Throws the sampling failure, if any (the daemon died, the API stopped answering). */
  check(): void {
    if (this.#error !== undefined) throw this.#error;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }
}
