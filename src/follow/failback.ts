/**
 * The reads and writes of a fail-back (README, "Fail back"): with the old leader index under a
 * write block, both indices are compared shard by shard as failback-plan.ts decides, the lost
 * writes are saved, and only then is the difference written — the old leader's lost writes put
 * back or deleted, its lost deletes restored, the promoted index's deletes applied — all above the
 * version base. What the promoted index received after promotion is left to the reverse follow,
 * which starts at each shard's recorded `max_seq_no` (follow-manager.ts starts it).
 *
 * Memory: shards are scanned a page at a time (ids, routing, seq_no and version, no `_source`);
 * what is kept is the ids of the difference, until the version base is known (after every shard).
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import type { ExternalOp, SeqNoHit } from '../cluster/types.js';
import type { PromotedShard } from '../state/state-store.js';
import type { Logger } from '../util/logger.js';
import { absentFrom, differs, lookUp, shardPages } from '../verify/shard-diff.js';
import {
  baseVersion, decideOldLeaderDoc, decidePromotedOnlyDoc, lostWriteLine, versionBase, type LostWrite, type ShardPlanCounts,
} from './failback-plan.js';

const PAGE_SIZE = 1000;
const WRITE_BATCH = 500;

export interface FailbackSides {
  readonly promoted: ClusterClient;
  readonly promotedIndex: string;
  readonly oldLeader: ClusterClient;
  readonly oldLeaderIndex: string;
  /** The promotion record's shards. */
  readonly shards: Readonly<Record<number, PromotedShard>>;
  readonly logger: Logger;
}

/** A document of the difference fail-back writes itself (not the reverse follow). */
interface PlannedWrite {
  readonly id: string;
  readonly routing: string | undefined;
  /** `index`: the promoted index's document (read again when written); `delete`: removed. */
  readonly op: 'index' | 'delete';
}

interface ShardPlan {
  readonly counts: ShardPlanCounts;
  readonly writes: readonly PlannedWrite[];
  /** The old leader shard's `max_seq_no` as scanned: the foreign-write audit starts above it. */
  readonly oldMaxSeqNo: number;
  readonly maxOldVersion: number;
}

export interface FailbackPlan {
  readonly shards: readonly ShardPlan[];
  readonly versionBase: number;
  readonly lostWrites: readonly LostWrite[];
}

/**
 * Compares the two indices shard by shard and decides the difference; reads only. The old leader
 * must be under its write block (or, for a dry run, is read as it is now).
 */
export async function planFailback(sides: FailbackSides, signal?: AbortSignal): Promise<FailbackPlan> {
  const { promoted, promotedIndex, oldLeader, oldLeaderIndex } = sides;
  await Promise.all([promoted.refresh(promotedIndex, signal), oldLeader.refresh(oldLeaderIndex, signal)]);
  const oldSeqNos = new Map((await oldLeader.shardSeqNos(oldLeaderIndex, signal)).map((s) => [s.shard, s.maxSeqNo]));
  const shards: ShardPlan[] = [];
  const lostWrites: LostWrite[] = [];
  for (const [shardKey, point] of Object.entries(sides.shards)) {
    const shard = Number(shardKey);
    shards.push(await planShard(sides, shard, point, oldSeqNos.get(shard) ?? -1, lostWrites, signal));
  }
  const maxOldVersion = Math.max(0, ...shards.map((s) => s.maxOldVersion));
  return { shards, versionBase: versionBase(maxOldVersion), lostWrites };
}

async function planShard(
  sides: FailbackSides, shard: number, point: PromotedShard, oldMaxSeqNo: number, lostWrites: LostWrite[], signal?: AbortSignal,
): Promise<ShardPlan> {
  const promoted = { client: sides.promoted, index: sides.promotedIndex };
  const old = { client: sides.oldLeader, index: sides.oldLeaderIndex };
  const writes: PlannedWrite[] = [];
  let copied = 0;
  let putBack = 0;
  let deleted = 0;
  let lost = 0;
  let maxOldVersion = 0;

  // Every old-leader document, against the promoted index's.
  for await (const page of shardPages(old, shard, { pageSize: PAGE_SIZE, withSource: false, withVersion: true }, signal)) {
    const lookups = await lookUp(promoted, page, false, signal);
    const lostHere: { hit: SeqNoHit; failback: LostWrite['failback']; promotedSeqNo?: number }[] = [];
    for (const [i, hit] of page.entries()) {
      maxOldVersion = Math.max(maxOldVersion, hit.version ?? 0);
      const decision = decideOldLeaderDoc({ id: hit.id, routing: hit.routing, seqNo: hit.seqNo, version: hit.version ?? 0 }, lookups[i]!, point);
      if (decision.kind === 'put_back') {
        lostHere.push({ hit, failback: 'put_back', promotedSeqNo: lookups[i]!.seqNo ?? -1 });
      } else if (decision.kind === 'delete') {
        writes.push({ id: hit.id, routing: hit.routing, op: 'delete' });
        deleted += 1;
        if (decision.lost) lostHere.push({ hit, failback: 'deleted' });
      }
    }
    if (lostHere.length > 0) {
      // The old leader's documents as stored, for the lost-writes file (nothing writes them: the block holds).
      const sources = await lookUp(old, lostHere.map((l) => l.hit), true, signal);
      const promotedDocs = await lookUp(promoted, lostHere.map((l) => l.hit), true, signal);
      for (const [i, { hit, failback, promotedSeqNo }] of lostHere.entries()) {
        const s = sources[i]!;
        if (failback === 'put_back') {
          // The follower may have applied an operation above its checkpoint (windows complete out of
          // order): a document the promoted index holds as the old leader has it did reach it.
          if (promotedSeqNo! <= point.maxSeqNo && promotedDocs[i]!.found && !differs({ ...hit, sourceJson: s.sourceJson ?? '{}' }, promotedDocs[i]!)) continue;
          writes.push({ id: hit.id, routing: hit.routing, op: 'index' });
          putBack += 1;
        }
        lostWrites.push({
          shard, id: hit.id, routing: hit.routing, sourceJson: s.sourceJson ?? '{}', seqNo: s.seqNo ?? hit.seqNo, version: s.version ?? hit.version, failback,
        });
        lost += 1;
      }
    }
  }

  // Every promoted document, against the old leader's: those at or below the recorded max that the
  // old leader lacks were deleted there only (restored); those above are the reverse follow's.
  for await (const page of shardPages(promoted, shard, { pageSize: PAGE_SIZE, withSource: false }, signal)) {
    const atPromotion = page.filter((h) => decidePromotedOnlyDoc(h.seqNo, point) === 'restore');
    copied += page.length - atPromotion.length;
    if (atPromotion.length === 0) continue;
    for (const hit of await absentFrom(old, atPromotion, signal)) {
      writes.push({ id: hit.id, routing: hit.routing, op: 'index' });
      putBack += 1;
      lost += 1;
      lostWrites.push({ shard, id: hit.id, routing: hit.routing, sourceJson: undefined, seqNo: undefined, version: undefined, failback: 'restored' });
    }
  }
  return { counts: { shard, followFrom: point.maxSeqNo, copied, putBack, deleted, lostWrites: lost }, writes, oldMaxSeqNo, maxOldVersion };
}

/** The lost-writes file's text: one NDJSON line each. */
export function lostWritesText(plan: FailbackPlan): string {
  return plan.lostWrites.map((w) => `${lostWriteLine(w)}\n`).join('');
}

/**
 * Writes the plan's difference onto the old leader (its write block lifted), above the version
 * base: each document put back is the promoted index's as it is now (a realtime get), with the
 * version of its promoted `_seq_no`; each delete, and each document the promoted index no longer
 * has, with the version of the promoted shard's `max_seq_no` read before the get, so a document
 * the promoted index creates later still wins. Answers the number of documents written.
 */
export async function applyFailback(sides: FailbackSides, plan: FailbackPlan, signal?: AbortSignal): Promise<number> {
  let written = 0;
  for (const shardPlan of plan.shards) {
    const { shard } = shardPlan.counts;
    for (let from = 0; from < shardPlan.writes.length; from += WRITE_BATCH) {
      const batch = shardPlan.writes.slice(from, from + WRITE_BATCH);
      const promotedMax = (await sides.promoted.shardSeqNos(sides.promotedIndex, signal)).find((s) => s.shard === shard)?.maxSeqNo ?? -1;
      const deleteVersion = baseVersion(plan.versionBase, promotedMax);
      const toIndex = batch.filter((w) => w.op === 'index');
      const docs = toIndex.length === 0 ? [] : await sides.promoted.multiGet(sides.promotedIndex, toIndex.map((w) => ({ id: w.id, routing: w.routing })), true, signal);
      const ops: ExternalOp[] = batch.filter((w) => w.op === 'delete').map((w) => ({ op: 'delete' as const, id: w.id, routing: w.routing, version: deleteVersion }));
      for (const [i, w] of toIndex.entries()) {
        const doc = docs[i]!;
        ops.push(doc.found
          ? { op: 'index', id: w.id, routing: doc.routing ?? w.routing, version: baseVersion(plan.versionBase, doc.seqNo ?? 0), sourceJson: doc.sourceJson ?? '{}' }
          : { op: 'delete', id: w.id, routing: w.routing, version: deleteVersion });
      }
      for (const result of await sides.oldLeader.bulkExternal(sides.oldLeaderIndex, ops, signal)) {
        if (result.outcome === 'failed') throw result.error;
        if (result.outcome === 'applied') written += 1;
      }
    }
  }
  if (written > 0) sides.logger.info(`fail-back wrote ${written} document(s) of the difference onto ${sides.oldLeaderIndex}`);
  return written;
}
