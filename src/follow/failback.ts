/**
 * The reads and writes of a fail-back (README, "Fail back"): with the old leader index under a
 * write block, both indices are compared shard by shard as failback-plan.ts decides, the lost
 * writes are saved, and only then is the difference written — the old leader's lost writes put
 * back or deleted, its lost deletes restored, the promoted index's deletes applied — all above the
 * version base. What the promoted index received after promotion is left to the reverse follow,
 * which starts at each shard's recorded `max_seq_no` (follow-manager.ts starts it).
 *
 * Reading: shards are compared a few at a time (SHARDS_AT_ONCE), each read in `_seq_no` order
 * a page at a time (ids, routing, seq_no and version, no `_source`), the next page read while the
 * previous one is decided. A shard whose promoted side is small enough (failback-plan.ts,
 * `shardComparison`) is compared in memory: the promoted shard's ids, then the old leader's read
 * against them, and only the ids one side lacks looked up (realtime) on the other. A larger
 * shard is compared with lookups page by page, memory bounded, and its second pass (promoted
 * documents the old leader lacks) is skipped when counts prove it finds nothing
 * (`promotedOnlyPassNeeded`). What is kept is the ids of the difference, until the version base
 * is known (after every shard).
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import type { ExternalOp, SeqNoHit } from '../cluster/types.js';
import type { PromotedShard } from '../state/state-store.js';
import type { Logger } from '../util/logger.js';
import { differs, lookUp, shardPages } from '../verify/shard-diff.js';
import {
  baseVersion, decideOldLeaderDoc, decidePromotedOnlyDoc, lostWriteLine, promotedOnlyPassNeeded, shardComparison, versionBase,
  type LostWrite, type PromotedLookup, type ShardPlanCounts,
} from './failback-plan.js';

/** Ids per scanned page and per lookup: ids-only pages and `_mget` of ids are cheap at this size. */
const PAGE_SIZE = 5000;
/** Shards compared at once; each in-memory comparison holds its promoted shard's ids. */
const SHARDS_AT_ONCE = 4;
const WRITE_BATCH = 500;

export interface FailbackSides {
  readonly promoted: ClusterClient;
  readonly promotedIndex: string;
  readonly oldLeader: ClusterClient;
  readonly oldLeaderIndex: string;
  /** The promotion record's shards. */
  readonly shards: Readonly<Record<number, PromotedShard>>;
  readonly logger: Logger;
  /** Compare a shard in memory up to this many promoted documents (default `IN_MEMORY_DIFF_MAX_IDS`). */
  readonly inMemoryMaxIds?: number;
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
  /** This shard's lost writes, in the order read. */
  readonly lostWrites: readonly LostWrite[];
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
  const points = Object.entries(sides.shards).map(([shardKey, point]) => ({ shard: Number(shardKey), point }));
  const planned = await inTurns(points, SHARDS_AT_ONCE, ({ shard, point }) => planShard(sides, shard, point, oldSeqNos.get(shard) ?? -1, signal));
  const maxOldVersion = Math.max(0, ...planned.map((s) => s.maxOldVersion));
  // The lost writes in shard order, as a shard-after-shard comparison would list them.
  return { shards: planned, versionBase: versionBase(maxOldVersion), lostWrites: planned.flatMap((s) => s.lostWrites) };
}

/**
 * `work` over every item, at most `atOnce` at a time; the answers in the items' order. The first
 * failure fails it all, and no item is started after it.
 */
async function inTurns<T, R>(items: readonly T[], atOnce: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const answers: R[] = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        answers[i] = await work(items[i]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(atOnce, items.length) }, worker));
  return answers;
}

/** Pages of `pages`, the next one read while the caller works on the current one. */
async function* readAhead<T>(pages: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = pages.next();
  try {
    for (;;) {
      const current = await next;
      if (current.done === true) return;
      next = pages.next();
      // Awaited on the next turn; if the caller stops first, its failure must not go unhandled.
      next.catch(() => undefined);
      yield current.value;
    }
  } finally {
    pages.return(undefined).catch(() => undefined);
  }
}

/** One shard's plan as it is built. */
class ShardPlanner {
  readonly writes: PlannedWrite[] = [];
  readonly lostWrites: LostWrite[] = [];
  copied = 0;
  putBack = 0;
  deleted = 0;
  maxOldVersion = 0;
  /** Old-leader documents whose promoted document had a `_seq_no` at or below the recorded max. */
  matchedAtPromotion = 0;

  constructor(
    private readonly sides: FailbackSides, readonly shard: number, readonly point: PromotedShard,
    /** The old leader shard's `max_seq_no` as read under the block. */
    readonly oldMaxSeqNo: number,
  ) {}

  /**
   * A page of old-leader documents, each with what the promoted index holds of it: deletes and
   * lost writes decided, the lost writes read in full from both sides.
   */
  async oldLeaderPage(page: readonly SeqNoHit[], lookups: readonly PromotedLookup[], signal?: AbortSignal): Promise<void> {
    const lostHere: { hit: SeqNoHit; failback: LostWrite['failback'] }[] = [];
    for (const [i, hit] of page.entries()) {
      const lookup = lookups[i]!;
      this.maxOldVersion = Math.max(this.maxOldVersion, hit.version ?? 0);
      if (lookup.found && (lookup.seqNo ?? -1) <= this.point.maxSeqNo) this.matchedAtPromotion += 1;
      const decision = decideOldLeaderDoc({ id: hit.id, routing: hit.routing, seqNo: hit.seqNo, version: hit.version ?? 0 }, lookup, this.point);
      if (decision.kind === 'put_back') {
        lostHere.push({ hit, failback: 'put_back' });
      } else if (decision.kind === 'delete') {
        this.writes.push({ id: hit.id, routing: hit.routing, op: 'delete' });
        this.deleted += 1;
        if (decision.lost) lostHere.push({ hit, failback: 'deleted' });
      }
    }
    if (lostHere.length === 0) return;
    const promotedSide = { client: this.sides.promoted, index: this.sides.promotedIndex };
    const oldSide = { client: this.sides.oldLeader, index: this.sides.oldLeaderIndex };
    // The old leader's documents as stored, for the lost-writes file (nothing writes them: the block holds).
    const [sources, promotedDocs] = await Promise.all([
      lookUp(oldSide, lostHere.map((l) => l.hit), true, signal),
      lookUp(promotedSide, lostHere.map((l) => l.hit), true, signal),
    ]);
    for (const [i, { hit, failback }] of lostHere.entries()) {
      const s = sources[i]!;
      const promotedDoc = promotedDocs[i]!;
      if (failback === 'put_back') {
        // The follower may have applied an operation above its checkpoint (windows complete out of
        // order): a document the promoted index holds as the old leader has it did reach it.
        if (promotedDoc.found && (promotedDoc.seqNo ?? -1) <= this.point.maxSeqNo && !differs({ ...hit, sourceJson: s.sourceJson ?? '{}' }, promotedDoc)) continue;
        this.writes.push({ id: hit.id, routing: hit.routing, op: 'index' });
        this.putBack += 1;
      }
      this.lostWrites.push({
        shard: this.shard, id: hit.id, routing: hit.routing, sourceJson: s.sourceJson ?? '{}', seqNo: s.seqNo ?? hit.seqNo, version: s.version ?? hit.version, failback,
      });
    }
  }

  /** Promoted documents at or below the recorded max, looked up on the old leader: those it lacks it deleted alone (restored). */
  async restoreAbsent(atPromotion: readonly { id: string; routing: string | undefined }[], signal?: AbortSignal): Promise<void> {
    for (let from = 0; from < atPromotion.length; from += PAGE_SIZE) {
      const batch = atPromotion.slice(from, from + PAGE_SIZE);
      const lookups = await this.sides.oldLeader.multiGet(this.sides.oldLeaderIndex, batch, false, signal);
      for (const [i, { id, routing }] of batch.entries()) {
        if (lookups[i]!.found) continue;
        this.writes.push({ id, routing, op: 'index' });
        this.putBack += 1;
        this.lostWrites.push({ shard: this.shard, id, routing, sourceJson: undefined, seqNo: undefined, version: undefined, failback: 'restored' });
      }
    }
  }

  plan(): ShardPlan {
    const { shard, point, copied, putBack, deleted } = this;
    return {
      counts: { shard, followFrom: point.maxSeqNo, copied, putBack, deleted, lostWrites: this.lostWrites.length },
      writes: this.writes, oldMaxSeqNo: this.oldMaxSeqNo, maxOldVersion: this.maxOldVersion, lostWrites: this.lostWrites,
    };
  }
}

async function planShard(
  sides: FailbackSides, shard: number, point: PromotedShard, oldMaxSeqNo: number, signal?: AbortSignal,
): Promise<ShardPlan> {
  const planner = new ShardPlanner(sides, shard, point, oldMaxSeqNo);
  const promotedDocs = await sides.promoted.countShard(sides.promotedIndex, shard, signal);
  if (shardComparison(promotedDocs, sides.inMemoryMaxIds) === 'in_memory') await compareInMemory(sides, shard, point, planner, signal);
  else await comparePaged(sides, shard, point, planner, signal);
  return planner.plan();
}

/**
 * The promoted shard's ids and `_seq_no`s in a map, then every old-leader document against it
 * (matched ids leave the map): what is left are the promoted documents the old leader lacks.
 * Only the ids one side lacks are looked up on the other (realtime), as the paged comparison
 * looks up every id.
 */
async function compareInMemory(sides: FailbackSides, shard: number, point: PromotedShard, planner: ShardPlanner, signal?: AbortSignal): Promise<void> {
  const promoted = { client: sides.promoted, index: sides.promotedIndex };
  const old = { client: sides.oldLeader, index: sides.oldLeaderIndex };
  const promotedSeqNos = new Map<string, number>();
  const promotedRoutings = new Map<string, string>();
  for await (const page of readAhead(shardPages(promoted, shard, { pageSize: PAGE_SIZE, withSource: false }, signal))) {
    for (const hit of page) {
      // A document changed while the shard is read can show twice: its later `_seq_no` wins.
      promotedSeqNos.set(hit.id, hit.seqNo);
      if (hit.routing !== undefined) promotedRoutings.set(hit.id, hit.routing);
    }
  }
  for (const seqNo of promotedSeqNos.values()) if (decidePromotedOnlyDoc(seqNo, point) === 'follow') planner.copied += 1;

  for await (const page of readAhead(shardPages(old, shard, { pageSize: PAGE_SIZE, withSource: false, withVersion: true }, signal))) {
    const lookups: PromotedLookup[] = [];
    const unmatched: number[] = [];
    for (const [i, hit] of page.entries()) {
      const seqNo = promotedSeqNos.get(hit.id);
      if (seqNo === undefined) {
        unmatched.push(i);
        lookups.push({ found: false });
      } else {
        promotedSeqNos.delete(hit.id);
        lookups.push({ found: true, seqNo });
      }
    }
    if (unmatched.length > 0) {
      // Written on the promoted index since it was read, or on another shard of it: ask it.
      const found = await lookUp(promoted, unmatched.map((i) => page[i]!), false, signal);
      for (const [k, i] of unmatched.entries()) lookups[i] = found[k]!;
    }
    await planner.oldLeaderPage(page, lookups, signal);
  }

  const atPromotion: { id: string; routing: string | undefined }[] = [];
  for (const [id, seqNo] of promotedSeqNos) {
    if (decidePromotedOnlyDoc(seqNo, point) === 'restore') atPromotion.push({ id, routing: promotedRoutings.get(id) });
  }
  await planner.restoreAbsent(atPromotion, signal);
}

/**
 * Every old-leader document looked up on the promoted index, page by page; then, unless counts
 * prove it finds nothing (`promotedOnlyPassNeeded`), every promoted document at or below the
 * recorded max looked up on the old leader. Memory stays bounded whatever the shard's size.
 */
async function comparePaged(sides: FailbackSides, shard: number, point: PromotedShard, planner: ShardPlanner, signal?: AbortSignal): Promise<void> {
  const promoted = { client: sides.promoted, index: sides.promotedIndex };
  const old = { client: sides.oldLeader, index: sides.oldLeaderIndex };
  // Counted before any lookup: the promoted index's documents at or below the max can only leave that range.
  const promotedAtPromotion = await sides.promoted.countShard(sides.promotedIndex, shard, signal, { fromExclusive: -1, toInclusive: point.maxSeqNo });

  for await (const page of readAhead(shardPages(old, shard, { pageSize: PAGE_SIZE, withSource: false, withVersion: true }, signal))) {
    await planner.oldLeaderPage(page, await lookUp(promoted, page, false, signal), signal);
  }

  const facts = { oldMaxSeqNo: planner.oldMaxSeqNo, promotedAtPromotion, matchedAtPromotion: planner.matchedAtPromotion };
  if (!promotedOnlyPassNeeded(facts, point)) {
    planner.copied = await sides.promoted.countShard(sides.promotedIndex, shard, signal, { fromExclusive: point.maxSeqNo, toInclusive: Number.MAX_SAFE_INTEGER });
    return;
  }
  for await (const page of readAhead(shardPages(promoted, shard, { pageSize: PAGE_SIZE, withSource: false }, signal))) {
    const atPromotion = page.filter((h) => decidePromotedOnlyDoc(h.seqNo, point) === 'restore');
    planner.copied += page.length - atPromotion.length;
    await planner.restoreAbsent(atPromotion, signal);
  }
}

/** The lost-writes file's text: one NDJSON line each. */
export function lostWritesText(plan: FailbackPlan): string {
  return plan.lostWrites.map((w) => `${lostWriteLine(w)}\n`).join('');
}

/**
 * Writes the plan's difference onto the old leader (its write block lifted), above the version
 * base: each document put back is the promoted index's as it is now (a realtime get), with the
 * version of its promoted `_seq_no`; each delete (read again too: a document the promoted index
 * created since the plan is put, not deleted), and each document the promoted index no longer
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
      // Every id of the batch is read again, the planned deletes too: the promoted index takes
      // writes meanwhile, and a document it created since the plan must be written, not deleted
      // with a version its own later copy (from the reverse follow) could not pass.
      const docs = await sides.promoted.multiGet(sides.promotedIndex, batch.map((w) => ({ id: w.id, routing: w.routing })), true, signal);
      const ops: ExternalOp[] = batch.map((w, i) => {
        const doc = docs[i]!;
        return doc.found
          ? { op: 'index', id: w.id, routing: doc.routing ?? w.routing, version: baseVersion(plan.versionBase, doc.seqNo ?? 0), sourceJson: doc.sourceJson ?? '{}' }
          : { op: 'delete', id: w.id, routing: w.routing, version: deleteVersion };
      });
      for (const result of await sides.oldLeader.bulkExternal(sides.oldLeaderIndex, ops, signal)) {
        if (result.outcome === 'failed') throw result.error;
        if (result.outcome === 'applied') written += 1;
      }
    }
  }
  if (written > 0) sides.logger.info(`fail-back wrote ${written} document(s) of the difference onto ${sides.oldLeaderIndex}`);
  return written;
}
