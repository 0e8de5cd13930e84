/**
 * Delete reconciliation for one shard (DESIGN.md step 7). A search never returns deleted
 * documents, so deletes are found by comparison:
 *
 * 1. Cheap invariant: live document counts of the two shards, both refreshed. The follower only
 *    ever holds documents the leader had, so with no deletes its count can never exceed the
 *    leader's; while it does not, nothing is scanned.
 * 2. Otherwise follower ids are scanned page by page (ids and routing only), each page checked
 *    against the leader with a realtime multi-get, and the ones the leader no longer has are
 *    deleted on the follower with `version_type=external` and a version equal to the leader's
 *    max seq_no read *before* that get. A document re-created on the leader later gets a higher
 *    seq_no, so its re-creation always wins over our delete, whatever order they arrive in.
 *    The scan stops as soon as it has found as many as the counts said were extra.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import type { ReconcileOutcome, ShardReconciler } from '../shard/ports.js';

const PAGE_SIZE = 1000;

export class ShardReconcilerImpl implements ShardReconciler {
  constructor(
    private readonly leader: ClusterClient,
    private readonly leaderIndex: string,
    private readonly follower: ClusterClient,
    private readonly followerIndex: string,
    private readonly shard: number,
  ) {}

  async reconcile(signal: AbortSignal): Promise<ReconcileOutcome> {
    const leaderMaxSeqNo = await this.#leaderMaxSeqNo(signal);
    await Promise.all([this.leader.refresh(this.leaderIndex, signal), this.follower.refresh(this.followerIndex, signal)]);
    const [leaderCount, followerCount] = await Promise.all([
      this.leader.countShard(this.leaderIndex, this.shard, signal),
      this.follower.countShard(this.followerIndex, this.shard, signal),
    ]);
    const excess = followerCount - leaderCount;
    if (excess <= 0) return { leaderMaxSeqNo, excess, scanned: false, idsChecked: 0, deleted: 0, clean: true };

    let idsChecked = 0;
    let deleted = 0;
    let after: number | undefined;
    for (;;) {
      const page = await this.follower.searchShardBySeqNo(this.followerIndex, {
        shard: this.shard, fromExclusive: -1, toInclusive: Number.MAX_SAFE_INTEGER, size: PAGE_SIZE, searchAfter: after, withSource: false,
      }, signal);
      if (page.length === 0) break;
      // Read before the get: anything the leader creates after the get has a higher seq_no.
      const version = await this.#leaderMaxSeqNo(signal);
      const lookups = await this.leader.multiGet(this.leaderIndex, page.map((h) => ({ id: h.id, routing: h.routing })), false, signal);
      const gone = page.filter((_hit, i) => !lookups[i]!.found);
      idsChecked += page.length;
      if (gone.length > 0) {
        const results = await this.follower.bulkExternal(this.followerIndex,
          gone.map((h) => ({ op: 'delete' as const, id: h.id, routing: h.routing, version })), signal);
        for (const r of results) {
          if (r.outcome === 'failed') throw r.error;
          if (r.outcome === 'applied') deleted += 1;
        }
      }
      if (deleted >= excess || page.length < PAGE_SIZE) break;
      after = page[page.length - 1]!.seqNo;
    }
    return { leaderMaxSeqNo, excess, scanned: true, idsChecked, deleted, clean: deleted >= excess };
  }

  async #leaderMaxSeqNo(signal: AbortSignal): Promise<number> {
    const state = (await this.leader.shardSeqNos(this.leaderIndex, signal)).find((s) => s.shard === this.shard);
    if (!state) throw new Error(`leader index [${this.leaderIndex}] has no shard ${this.shard}`);
    return state.maxSeqNo;
  }
}
