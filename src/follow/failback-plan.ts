/**
 * The fail-back plan: what making the old leader index a follower of the promoted one must do,
 * shard by shard, so that only the difference is written (README, "Fail back"). Pure functions
 * over what the promotion record and the two indices say; the reads and writes are
 * `failback.ts`'s.
 *
 * A promotion record keeps, per shard, the leader `_seq_no` L up to which the promoted index had
 * applied everything (its leader checkpoint) and the promoted index's own `max_seq_no` M then.
 * So, per shard:
 * - what the promoted index received after promotion lies above M in its own history: the reverse
 *   follow simply starts there (its checkpoint is M), and copies it as any follow does;
 * - what the old leader changed after L never reached the promoted index: its documents with a
 *   `_seq_no` above L are the **lost writes**. Each is put back to the promoted index's document,
 *   or deleted when the promoted index lacks it;
 * - deletes are not in any history a search reads: they come from comparing ids both ways (as the
 *   delete reconciliation does). An old-leader document at or below L that the promoted index
 *   lacks was deleted there after promotion: it is deleted. A promoted document at or below M that
 *   the old leader lacks was deleted on the old leader only (never copied): a lost write too, and
 *   the document is restored.
 *
 * Versions (README, "Fail back", "Versions"). The old leader's documents carry internal versions
 * (one per change: a document updated 5,000 times has version 5,000) or, if it once followed,
 * external ones; the reverse follow writes `(seq_no + 1) × 1024` of the promoted index's history,
 * which can be lower, and a lower external version is refused (409, read as "already there"). So
 * a fail-back follow writes above a **version base** B: the smallest multiple of the stride above
 * every version on the old leader index, read while its write block holds. Every version it writes
 * is B + `externalVersion(seq_no)`: above any old version, still growing with the promoted index's
 * seq_no (later writes win, replays stay harmless), still a multiple of the stride (foreign writes
 * still show). A document left as it was keeps its old version, below B: the delete
 * reconciliation may delete it (`mayDeleteVersion`), and the foreign-write audit starts above the
 * old leader's `max_seq_no` at the fail-back, so only later changes are judged.
 */
import { externalVersion, VERSION_STRIDE } from '../shard/external-version.js';
import type { PromotedShard, PromotionRecord } from '../state/state-store.js';

/** An old-leader document as the shard scan reads it: id, routing, its own `_seq_no` and `_version`. */
export interface OldLeaderDoc {
  readonly id: string;
  readonly routing: string | undefined;
  readonly seqNo: number;
  readonly version: number;
}

/** The promoted index's document of the same id (a realtime get). */
export interface PromotedLookup {
  readonly found: boolean;
  /** The promoted index's own `_seq_no` of it, when found. */
  readonly seqNo?: number;
}

/**
 * What fail-back does with one old-leader document:
 * - `keep`: equal to the promoted index's (both as of the promotion);
 * - `follow`: the promoted index changed it after promotion; the reverse follow copies that;
 * - `put_back`: a lost write; the promoted index's document is written over it;
 * - `delete`: the promoted index lacks it; `lost` when the old leader wrote it after the recorded
 *   leader checkpoint (a lost write), else it was deleted on the promoted index after promotion.
 */
export type OldLeaderDecision =
  | { readonly kind: 'keep' }
  | { readonly kind: 'follow' }
  | { readonly kind: 'put_back' }
  | { readonly kind: 'delete'; readonly lost: boolean };

export function decideOldLeaderDoc(doc: OldLeaderDoc, promoted: PromotedLookup, point: PromotedShard): OldLeaderDecision {
  const lost = doc.seqNo > point.leaderCheckpoint;
  if (!promoted.found) return { kind: 'delete', lost };
  if (lost) return { kind: 'put_back' };
  return (promoted.seqNo ?? -1) > point.maxSeqNo ? { kind: 'follow' } : { kind: 'keep' };
}

/**
 * What fail-back does with a promoted document the old leader lacks: `restore` it when it was
 * there at promotion (the old leader deleted it afterwards: a lost delete), else leave it to the
 * reverse follow (`follow`), which copies everything above the promoted index's recorded max.
 */
export function decidePromotedOnlyDoc(promotedSeqNo: number, point: PromotedShard): 'restore' | 'follow' {
  return promotedSeqNo <= point.maxSeqNo ? 'restore' : 'follow';
}

/**
 * Shards whose promoted side holds at most this many documents are compared in memory: the
 * promoted shard's ids (with their `_seq_no`) are read into a map, about 130 bytes an id, so
 * 65 MB at the bound, and the old leader's are read against it; no lookup but of the few ids one
 * side lacks. Larger shards are compared a page at a time with lookups, memory bounded.
 */
export const IN_MEMORY_DIFF_MAX_IDS = 500_000;

/** How a shard is compared: its promoted side's ids in memory, or pages looked up on the other side. */
export function shardComparison(promotedDocs: number, maxInMemory = IN_MEMORY_DIFF_MAX_IDS): 'in_memory' | 'paged' {
  return promotedDocs <= maxInMemory ? 'in_memory' : 'paged';
}

/** What is known of one shard, after the old leader's documents were looked up on the promoted index. */
export interface PromotedOnlyFacts {
  /** The old leader shard's `max_seq_no` (under the write block). */
  readonly oldMaxSeqNo: number;
  /** Promoted documents with a `_seq_no` at or below the recorded max, counted before the lookups. */
  readonly promotedAtPromotion: number;
  /** Old-leader documents whose promoted document, looked up, had a `_seq_no` at or below the recorded max. */
  readonly matchedAtPromotion: number;
}

/**
 * Whether the paged comparison must read every promoted document to find those at or below the
 * recorded max the old leader lacks (its own deletes, restored). It can find one only:
 * - when the old leader has operations above the recorded leader checkpoint: up to it, the
 *   promoted index had applied all of the old leader's history, so every document it had then
 *   the old leader still has (a delete there would be an operation above the checkpoint);
 * - and when not every such promoted document was matched: ids are unique, so each promoted
 *   document at or below the max is matched by at most one old-leader document; a promoted
 *   document never comes back to a `_seq_no` at or below the max (a change gives it a new one),
 *   so the set counted before the lookups holds every one the pass could find. If all of them were
 *   matched, the old leader holds them all. A document changed or deleted on the promoted index
 *   between the count and its lookup is not matched, which only makes the pass run. (The old
 *   leader is read under its write block, so none of its documents is read twice; a dry run
 *   without the block compares indices that move, and its counts are estimates anyway.)
 */
export function promotedOnlyPassNeeded(facts: PromotedOnlyFacts, point: PromotedShard): boolean {
  if (facts.oldMaxSeqNo <= point.leaderCheckpoint) return false;
  return facts.matchedAtPromotion !== facts.promotedAtPromotion;
}

/** The smallest multiple of the version stride above every version on the old leader index. */
export function versionBase(maxOldVersion: number): number {
  if (!Number.isSafeInteger(maxOldVersion) || maxOldVersion < 0) throw new RangeError(`invalid document version ${maxOldVersion}`);
  return (Math.floor(maxOldVersion / VERSION_STRIDE) + 1) * VERSION_STRIDE;
}

/** The external version a follow with version base `base` writes for the leader's `seqNo`. */
export function baseVersion(base: number, seqNo: number): number {
  return base + externalVersion(seqNo);
}

/**
 * Whether a follower document's version was written by ccr-follow, for a follow with version base
 * `base` (0 for an ordinary follow): a multiple of the stride above the base.
 */
export function isReplicatedAbove(base: number, version: number): boolean {
  return version > base && version % VERSION_STRIDE === 0;
}

/**
 * Whether the delete reconciliation may delete a follower document the leader lacks: one
 * ccr-follow wrote, or one a fail-back found equal to the leader's and left with its old version
 * (below the base). A foreign document is the audit's.
 */
export function mayDeleteVersion(base: number, version: number): boolean {
  return isReplicatedAbove(base, version) || version < base;
}

/** Counts of one shard's plan, as `--dry-run` reports them. */
export interface ShardPlanCounts {
  readonly shard: number;
  /** Start of the reverse follow: the promoted index's recorded `max_seq_no`. */
  readonly followFrom: number;
  /** Promoted documents the reverse follow copies (changed after promotion). */
  readonly copied: number;
  /** Old-leader documents overwritten with the promoted index's, and old-leader deletes undone. */
  readonly putBack: number;
  readonly deleted: number;
  /** Of the above, the old leader's writes that never reached the promoted index. */
  readonly lostWrites: number;
}

/** One lost write as the `--lost-writes` file holds it. */
export interface LostWrite {
  readonly shard: number;
  readonly id: string;
  readonly routing: string | undefined;
  /** The old leader's `_source` as stored, or undefined for a document the old leader deleted. */
  readonly sourceJson: string | undefined;
  /** The old leader's `_seq_no` and `_version`; undefined for a delete (its tombstone is not readable). */
  readonly seqNo: number | undefined;
  readonly version: number | undefined;
  /** What fail-back did: the promoted index's document written over it, deleted as the promoted index lacks it, or restored. */
  readonly failback: 'put_back' | 'deleted' | 'restored';
}

/**
 * One NDJSON line of the lost-writes file. `_source` is the old leader's text as stored, never
 * parsed (numbers a double cannot hold stay as written); a raw line break in it can only be
 * whitespace between tokens (JSON strings escape theirs), so it becomes a space.
 */
export function lostWriteLine(w: LostWrite): string {
  const source = w.sourceJson === undefined ? 'null' : w.sourceJson.replace(/[\r\n]/g, ' ');
  return `{"shard":${w.shard},"_id":${JSON.stringify(w.id)},"_routing":${JSON.stringify(w.routing ?? null)},`
    + `"_seq_no":${w.seqNo ?? 'null'},"_version":${w.version ?? 'null'},"deleted_on_old_leader":${w.sourceJson === undefined},`
    + `"failback":${JSON.stringify(w.failback)},"_source":${source}}`;
}

/** What a fail-back is asked to do, and what the two indices are now. */
export interface FailbackPair {
  readonly promotedCluster: string;
  readonly promotedIndex: string;
  readonly oldLeaderCluster: string;
  readonly oldLeaderIndex: string;
}

export interface IndexNow {
  readonly uuid: string;
  readonly numberOfShards: number;
}

/**
 * Why a fail-back must be refused before anything changes, or undefined: no promotion record of
 * the promoted index whose leader was the old leader index, either index not the one the record
 * names (another uuid: deleted and created again, so another history), or other shard counts.
 */
export function failbackRefusal(
  pair: FailbackPair,
  promotion: Pick<PromotionRecord, 'leaderCluster' | 'leaderIndex' | 'indexUuids' | 'shards'> | undefined,
  promoted: IndexNow, oldLeader: IndexNow,
): string | undefined {
  const promotedName = `${pair.promotedCluster}/${pair.promotedIndex}`;
  const oldName = `${pair.oldLeaderCluster}/${pair.oldLeaderIndex}`;
  if (!promotion) return `no promotion record for [${promotedName}]: fail-back starts from the point \`promote\` recorded, and that index was not promoted by ccr-follow`;
  if (promotion.leaderCluster !== pair.oldLeaderCluster || promotion.leaderIndex !== pair.oldLeaderIndex) {
    return `[${promotedName}] was promoted from [${promotion.leaderCluster}/${promotion.leaderIndex}], not from [${oldName}]: no promotion record for this pair`;
  }
  if (promotion.indexUuids) {
    if (promotion.indexUuids.follower !== promoted.uuid) {
      return `[${promotedName}] has index uuid [${promoted.uuid}], not [${promotion.indexUuids.follower}] as when it was promoted: it was deleted and created again, another history`;
    }
    if (promotion.indexUuids.leader !== oldLeader.uuid) {
      return `[${oldName}] has index uuid [${oldLeader.uuid}], not [${promotion.indexUuids.leader}] as when it was followed: it was deleted and created again, another history`;
    }
  }
  if (promoted.numberOfShards !== oldLeader.numberOfShards) {
    return `[${promotedName}] has ${promoted.numberOfShards} shard(s) and [${oldName}] ${oldLeader.numberOfShards}: a follower needs the leader's shard count`;
  }
  const recorded = Object.keys(promotion.shards).length;
  if (recorded !== promoted.numberOfShards) {
    return `the promotion record of [${promotedName}] has ${recorded} shard(s), the index ${promoted.numberOfShards}`;
  }
  return undefined;
}
