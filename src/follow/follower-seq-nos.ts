/**
 * Each follower shard's own highest `_seq_no` (CCR's `follower_max_seq_no`). The follower numbers
 * its operations itself, so this is not the leader's: read from the follower when the follow starts,
 * then raised by the seq_no of every document ccr-follow writes. A write by someone else since then
 * shows at the next start.
 */
import type { BulkItemResult } from '../cluster/types.js';
import type { FollowerShardWriter } from '../shard/ports.js';

export class FollowerMaxSeqNos {
  readonly #max = new Map<number, number>();

  constructor(initial: readonly { readonly shard: number; readonly maxSeqNo: number }[] = []) {
    for (const { shard, maxSeqNo } of initial) this.#max.set(shard, maxSeqNo);
  }

  /** -1 while nothing is known of the shard (as for an empty shard). */
  of(shard: number): number {
    return this.#max.get(shard) ?? -1;
  }

  /** The writer of one shard, noting the seq_no of each document it applies. */
  writerFor(shard: number, writer: FollowerShardWriter): FollowerShardWriter {
    return {
      write: async (ops, signal) => {
        const items = await writer.write(ops, signal);
        this.#observe(shard, items);
        return items;
      },
      // The shared bulk budget's limit and the writer's timings must reach the shard task through this wrapper too.
      ...(writer.concurrencyLimit ? { concurrencyLimit: () => writer.concurrencyLimit!() } : {}),
      ...(writer.stageMillis ? { stageMillis: () => writer.stageMillis!() } : {}),
    };
  }

  #observe(shard: number, items: readonly BulkItemResult[]): void {
    let max = this.of(shard);
    for (const item of items) {
      if (item.outcome === 'applied' && item.seqNo !== undefined && item.seqNo > max) max = item.seqNo;
    }
    this.#max.set(shard, max);
  }
}
