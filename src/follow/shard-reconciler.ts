/**
 * Reconciliation of one follower shard with its leader shard: the differences that reading the
 * leader's new operations cannot see (docs/architecture.md, shard step 7).
 *
 * Deletes. A search never returns deleted documents, so deletes are found by comparison:
 * 1. Cheap invariant: live document counts of the two shards, both refreshed. The follower only
 *    ever holds documents the leader had, so with no deletes its count can never exceed the
 *    leader's; while it does not, no id is scanned.
 * 2. Otherwise follower ids are scanned page by page (ids, routing, versions), each page checked
 *    against the leader with a realtime multi-get, and the ones the leader no longer has are
 *    deleted on the follower with an external version derived from the leader's max seq_no read
 *    *before* that get: a document re-created on the leader later gets a higher seq_no, so its
 *    re-creation always wins, whatever order they arrive in. The scan stops as soon as it has
 *    found as many as the counts said were extra.
 *
 * Foreign writes. Every write ccr-follow makes has a version that is a multiple of
 * VERSION_STRIDE; anyone else writing with internal versioning leaves one that is not. Each pass
 * audits the follower documents changed since the last pass (by the follower's own `_seq_no`) and
 * counts those; with `repair` it puts back the leader's document, or deletes one the leader lacks,
 * with a version above the foreign one yet below the leader's next operation on it.
 *
 * Idle passes. With the shared probes (cluster-probes.ts), a pass asks neither cluster what it
 * already knows: when a leader answer newer than the last pass shows the same max seq_no, the
 * leader had no operation since, so its live documents and their count are the ones that pass
 * counted (no leader request); when, too, the follower shard's max seq_no is the one read at the
 * start of that pass, nothing was written to the follower either (no foreign write, no delete), so
 * there is nothing to compare and the pass ends at once. Any operation, on either side, moves a max
 * seq_no and brings the whole pass back.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import { ClusterShardUnavailableError } from '../cluster/errors.js';
import type { ExternalOp, SeqNoHit } from '../cluster/types.js';
import { baseVersion, isReplicatedAbove, mayDeleteVersion } from './failback-plan.js';
import type { ReconcileOutcome, ShardReconciler } from '../shard/ports.js';
import type { Logger } from '../util/logger.js';
import { absentFrom, shardPages } from '../verify/shard-diff.js';
import type { IndexIdentity } from './index-identity.js';

const PAGE_SIZE = 1000;

export interface ShardReconcilerOptions {
  readonly leader: ClusterClient;
  readonly leaderIndex: string;
  readonly follower: ClusterClient;
  readonly followerIndex: string;
  readonly shard: number;
  readonly repairForeignWrites: boolean;
  readonly logger: Logger;
  /** The leader index the follow started with: what another index lacks proves nothing. */
  readonly leaderIdentity: IndexIdentity;
  /** The leader shard's max seq_no as the index's watcher last saw it, and when (epoch ms); absent: always asked. */
  readonly leaderSeen?: () => { readonly maxSeqNo: number; readonly at: number } | undefined;
  /** The follower shard's max seq_no through the follower cluster's shared probe; absent: never skipped. */
  readonly followerMaxSeqNo?: (signal: AbortSignal) => Promise<number>;
  readonly now?: () => number;
  /**
   * A fail-back follow's version base and the follower `_seq_no` its audit starts above
   * (failback-plan.ts): its writes are above the base, the documents it left as they were below.
   * Absent: an ordinary follow (base 0, audit from the shard's beginning).
   */
  readonly failback?: { readonly versionBase: number; readonly auditFrom: number };
}

/** What the last pass found, for the next one to skip what has not changed since. */
interface LastPass {
  readonly leaderMaxSeqNo: number;
  readonly leaderCount: number;
  /** The follower shard's max seq_no read before that pass looked at the follower. */
  readonly followerMaxSeqNo: number;
  readonly excess: number;
  readonly endedAt: number;
}

export class ShardReconcilerImpl implements ShardReconciler {
  readonly #o: ShardReconcilerOptions;
  /** Follower `_seq_no` up to which changes were audited for foreign writes. */
  #auditedUpTo = -1;
  /** Follower seq_nos of our own repair writes, whose versions look foreign on purpose. */
  readonly #ownRepairs = new Set<number>();
  #last: LastPass | undefined;

  readonly #base: number;

  constructor(options: ShardReconcilerOptions) {
    this.#o = options;
    this.#base = options.failback?.versionBase ?? 0;
    this.#auditedUpTo = options.failback?.auditFrom ?? -1;
  }

  async reconcile(signal: AbortSignal): Promise<ReconcileOutcome> {
    const { leader, leaderIndex, follower, followerIndex, shard } = this.#o;
    const now = this.#o.now ?? Date.now;
    const last = this.#last;
    const seen = this.#o.leaderSeen?.();
    const leaderUnchanged = last !== undefined && seen !== undefined && seen.at > last.endedAt && seen.maxSeqNo === last.leaderMaxSeqNo;
    const followerMaxSeqNo = await (this.#o.followerMaxSeqNo?.(signal) ?? Promise.resolve(undefined));
    if (leaderUnchanged && followerMaxSeqNo === last.followerMaxSeqNo) {
      this.#last = { ...last, endedAt: now() };
      return { leaderMaxSeqNo: last.leaderMaxSeqNo, excess: last.excess, foreignWritesDetected: 0, foreignWritesRepaired: 0, scanned: false, idsChecked: 0, deleted: 0, clean: true };
    }
    const leaderMaxSeqNo = leaderUnchanged ? last.leaderMaxSeqNo : await this.#leaderMaxSeqNo(signal);
    await Promise.all([leaderUnchanged ? undefined : leader.refresh(leaderIndex, signal), follower.refresh(followerIndex, signal)]);
    const foreign = await this.#auditForeignWrites(signal);
    if (foreign.repaired > 0) await follower.refresh(followerIndex, signal);
    const [leaderCount, followerCount] = await Promise.all([
      leaderUnchanged ? last.leaderCount : leader.countShard(leaderIndex, shard, signal),
      follower.countShard(followerIndex, shard, signal),
    ]);
    const excess = followerCount - leaderCount;
    const base = { leaderMaxSeqNo, excess, foreignWritesDetected: foreign.detected, foreignWritesRepaired: foreign.repaired };
    // Our own repairs and deletes move the follower's max seq_no: the next pass then looks again.
    this.#last = followerMaxSeqNo === undefined ? undefined : { leaderMaxSeqNo, leaderCount, followerMaxSeqNo, excess, endedAt: now() };
    if (excess <= 0) return { ...base, scanned: false, idsChecked: 0, deleted: 0, clean: true };

    let idsChecked = 0;
    let deleted = 0;
    for await (const page of this.#followerPages(-1, signal)) {
      // Read before the get: anything the leader creates after the get has a higher seq_no.
      const version = baseVersion(this.#base, await this.#leaderMaxSeqNo(signal));
      // A document the leader lacks is a leader delete, unless a foreign write put it there (the audit's job).
      const gone = (await absentFrom({ client: leader, index: leaderIndex }, page, signal)).filter((hit) => mayDeleteVersion(this.#base, hit.version ?? 0));
      idsChecked += page.length;
      if (gone.length > 0) {
        // The counts and the get were answered by the leader index the follow started with, not one
        // re-created under its name (which lacks every document of the old history).
        await this.#o.leaderIdentity.confirm(signal);
        const results = await follower.bulkExternal(followerIndex, gone.map((h) => ({ op: 'delete' as const, id: h.id, routing: h.routing, version })), signal);
        for (const r of results) {
          if (r.outcome === 'failed') throw r.error;
          if (r.outcome === 'applied') deleted += 1;
        }
      }
      if (deleted >= excess) break;
    }
    // Clean once every extra is accounted for, or the whole shard was scanned (what is left is foreign).
    return { ...base, scanned: true, idsChecked, deleted, clean: true };
  }

  async #auditForeignWrites(signal: AbortSignal): Promise<{ detected: number; repaired: number }> {
    let detected = 0;
    let repaired = 0;
    for await (const page of this.#followerPages(this.#auditedUpTo, signal)) {
      const foreign = page.filter((h) => !isReplicatedAbove(this.#base, h.version ?? 0) && !this.#ownRepairs.has(h.seqNo));
      if (foreign.length > 0) {
        detected += foreign.length;
        this.#o.logger.warn(`foreign write on the follower: ${foreign.length} document(s) changed by someone else`, {
          shard: this.#o.shard, ids: foreign.slice(0, 10).map((h) => h.id), repair: this.#o.repairForeignWrites,
        });
        if (this.#o.repairForeignWrites) repaired += await this.#repair(foreign, signal);
      }
      this.#auditedUpTo = page[page.length - 1]!.seqNo;
    }
    for (const seqNo of this.#ownRepairs) if (seqNo <= this.#auditedUpTo) this.#ownRepairs.delete(seqNo);
    return { detected, repaired };
  }

  /** Puts back the leader's document (or deletes one the leader lacks) over a foreign write. */
  async #repair(foreign: readonly SeqNoHit[], signal: AbortSignal): Promise<number> {
    const { leader, leaderIndex, follower, followerIndex } = this.#o;
    const lookups = await leader.multiGet(leaderIndex, foreign.map((h) => ({ id: h.id, routing: h.routing })), true, signal);
    await this.#o.leaderIdentity.confirm(signal); // the leader's documents, not a re-created index's
    const ops: ExternalOp[] = foreign.map((hit, i) => {
      const l = lookups[i]!;
      // Above the foreign version, below the leader's next operation on this document.
      const over = (hit.version ?? 0) + 1;
      if (!l.found) return { op: 'delete', id: hit.id, routing: hit.routing, version: over };
      return { op: 'index', id: hit.id, routing: hit.routing, version: Math.max(baseVersion(this.#base, l.seqNo ?? 0), over), sourceJson: l.sourceJson ?? '{}' };
    });
    let repaired = 0;
    for (const r of await follower.bulkExternal(followerIndex, ops, signal)) {
      if (r.outcome === 'failed') throw r.error;
      if (r.outcome !== 'applied') continue;
      repaired += 1;
      if (r.seqNo !== undefined) this.#ownRepairs.add(r.seqNo);
    }
    return repaired;
  }

  /** The follower shard's ids, routings and versions above `afterSeqNo`, a page at a time. */
  #followerPages(afterSeqNo: number, signal: AbortSignal): AsyncGenerator<SeqNoHit[]> {
    const follower = { client: this.#o.follower, index: this.#o.followerIndex };
    return shardPages(follower, this.#o.shard, { pageSize: PAGE_SIZE, withSource: false, withVersion: true, afterSeqNo }, signal);
  }

  async #leaderMaxSeqNo(signal: AbortSignal): Promise<number> {
    const state = (await this.#o.leader.shardSeqNos(this.#o.leaderIndex, signal)).find((s) => s.shard === this.#o.shard);
    if (!state) {
      throw new ClusterShardUnavailableError({
        alias: this.#o.leader.alias, operation: 'read shard sequence numbers', reason: `shard ${this.#o.shard} of leader index [${this.#o.leaderIndex}] is not started`,
      });
    }
    return state.maxSeqNo;
  }
}
