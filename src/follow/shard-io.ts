/** The shard task's ports, implemented over the cluster layer for one shard of one follower. */
import type { ClusterClient } from '../cluster/cluster-client.js';
import type { BulkItemResult, ExternalOp, SeqNoHit } from '../cluster/types.js';
import type { FollowerShardWriter, LeaderCheckpoint, LeaderShardReader, ReadStageMillis, WriteStageMillis } from '../shard/ports.js';
import type { IndexIdentity } from './index-identity.js';
import type { LeaderIndexWatcher } from './leader-index-watcher.js';
import type { MetadataSync } from './metadata-sync.js';
import type { WriteBudget } from './write-budget.js';
import type { WriteGate } from './write-gate.js';

/** Elasticsearch refuses `size` above index.max_result_window (10000 by default), even with search_after. */
const MAX_PAGE_SIZE = 10_000;

export class LeaderShardReaderImpl implements LeaderShardReader {
  readonly #millis = { visibilityWait: 0, search: 0, confirm: 0 };

  constructor(
    private readonly leader: ClusterClient,
    private readonly leaderIndex: string,
    private readonly shard: number,
    private readonly watcher: LeaderIndexWatcher,
    private readonly metadata: MetadataSync,
    private readonly pageSize: number,
    private readonly identity: IndexIdentity,
  ) {}

  awaitGlobalCheckpoint(above: number, timeoutMs: number, signal: AbortSignal): Promise<LeaderCheckpoint> {
    return this.watcher.awaitGlobalCheckpoint(this.shard, above, timeoutMs, signal);
  }

  stageMillis(): ReadStageMillis {
    return { ...this.#millis };
  }

  async read(fromExclusive: number, toInclusive: number, signal: AbortSignal): Promise<SeqNoHit[]> {
    // Each stage's time is counted when it completes (a failed one shows in the failed reads).
    let lapStart = performance.now();
    const lap = (stage: keyof ReadStageMillis): void => {
      const now = performance.now();
      this.#millis[stage] += now - lapStart;
      lapStart = now;
    };
    await this.watcher.ensureVisible(this.shard, toInclusive, signal);
    lap('visibilityWait');
    const hits = await this.#search(fromExclusive, toInclusive, signal);
    lap('search');
    // These hits are the follow's history only if they came from the index it started with: a leader
    // index deleted and created again under its name has a new one (its seq_nos start over). The
    // same read, started after the search, gives the metadata versions that cover every hit.
    const versions = await this.identity.confirm(signal);
    // Mapping before documents: the follower must know every field these hits may carry.
    await this.metadata.ensure(versions, signal);
    lap('confirm');
    return hits;
  }

  async #search(fromExclusive: number, toInclusive: number, signal: AbortSignal): Promise<SeqNoHit[]> {
    const size = Math.min(this.pageSize, MAX_PAGE_SIZE);
    const hits: SeqNoHit[] = [];
    let searchAfter: number | undefined;
    for (;;) {
      const page = await this.leader.searchShardBySeqNo(this.leaderIndex, { shard: this.shard, fromExclusive, toInclusive, size, searchAfter }, signal);
      hits.push(...page);
      if (page.length < size) return hits;
      searchAfter = page[page.length - 1]!.seqNo;
    }
  }
}

export class FollowerShardWriterImpl implements FollowerShardWriter {
  readonly #millis = { queued: 0, bulk: 0 };

  constructor(
    private readonly follower: ClusterClient,
    private readonly followerIndex: string,
    private readonly gate: WriteGate,
    /** The follower cluster's shared bulk budget; absent: sent at once. */
    private readonly budget?: WriteBudget,
    /** A fail-back follow's version base, added to every version (failback-plan.ts says why); 0 otherwise. */
    private readonly versionBase = 0,
  ) {}

  concurrencyLimit(): number {
    return this.budget?.limit ?? Number.POSITIVE_INFINITY;
  }

  stageMillis(): WriteStageMillis {
    return { ...this.#millis };
  }

  async write(ops: readonly ExternalOp[], signal: AbortSignal): Promise<BulkItemResult[]> {
    const queuedAt = performance.now();
    let sentAt: number | undefined;
    // Held while the follower index is closed for a static settings change. Entered before the
    // budget, so that a write held here never keeps a slot other followers could use.
    const leave = await this.gate.enter(signal);
    try {
      const sent = this.versionBase === 0 ? ops : ops.map((op) => ({ ...op, version: op.version + this.versionBase }));
      const bulk = (): Promise<BulkItemResult[]> => {
        sentAt = performance.now();
        return this.follower.bulkExternal(this.followerIndex, sent, signal);
      };
      return await (this.budget ? this.budget.run(ops.length, bulk, signal) : bulk());
    } finally {
      leave();
      const now = performance.now();
      this.#millis.queued += (sentAt ?? now) - queuedAt;
      if (sentAt !== undefined) this.#millis.bulk += now - sentAt;
    }
  }
}
