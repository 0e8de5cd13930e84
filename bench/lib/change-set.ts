/**
 * Which documents the fail-back bench changes after the promotion, on which side: drawn once,
 * without repetition, from the ids 0…docs-1 the leader was loaded with, so no id is changed on both
 * sides (each old-leader change is then exactly one lost write) and a seed always draws the same.
 */
import { mulberry32 } from '../../test/helpers/prng.js';

/** Shares of the loaded documents (0.015 = 1.5 %). */
export interface ChangeShares {
  /** Updated on the promoted index. */
  readonly updated: number;
  /** New ids on the promoted index. */
  readonly created: number;
  /** Deleted on the promoted index. */
  readonly deleted: number;
  /** Written on the old leader after the promotion (lost writes): 80 % updates, 10 % deletes, 10 % new ids. */
  readonly lost: number;
}

export interface ChangeSet {
  /** Document numbers updated on the promoted index, ascending. */
  readonly updated: readonly number[];
  readonly deleted: readonly number[];
  /** New documents on the promoted index: numbers docs … docs+created-1. */
  readonly created: readonly number[];
  /** Lost writes: updated, deleted, and created (numbers after the promoted index's new ones) on the old leader. */
  readonly lostUpdated: readonly number[];
  readonly lostDeleted: readonly number[];
  readonly lostCreated: readonly number[];
}

export const DEFAULT_SHARES: ChangeShares = { updated: 0.015, created: 0.0025, deleted: 0.0025, lost: 0.001 };

export function lostWriteCount(c: ChangeSet): number {
  return c.lostUpdated.length + c.lostDeleted.length + c.lostCreated.length;
}

/** Documents changed on the promoted index (updates, new ids, deletes). */
export function promotedChangeCount(c: ChangeSet): number {
  return c.updated.length + c.created.length + c.deleted.length;
}

export function chooseChanges(docs: number, shares: ChangeShares, seed: number): ChangeSet {
  if (!Number.isInteger(docs) || docs < 1) throw new Error(`docs must be a positive integer, got ${docs}`);
  for (const [name, share] of Object.entries(shares)) {
    if (!(share >= 0 && share <= 1)) throw new Error(`the ${name} share must be between 0 and 1, got ${share}`);
  }
  const count = (share: number): number => Math.round(docs * share);
  const lost = count(shares.lost);
  const lostDeleted = Math.round(lost * 0.1);
  const lostCreated = Math.round(lost * 0.1);
  const sizes = [count(shares.updated), count(shares.deleted), lost - lostDeleted - lostCreated, lostDeleted];
  const drawn = sizes.reduce((a, b) => a + b, 0);
  if (drawn > docs) throw new Error(`the shares change ${drawn} existing documents, more than the ${docs} loaded`);

  // A partial Fisher–Yates shuffle: the first `drawn` slots are a uniform sample without repetition.
  const ids = Int32Array.from({ length: docs }, (_, i) => i);
  const random = mulberry32(seed);
  for (let i = 0; i < drawn; i += 1) {
    const j = i + Math.floor(random() * (docs - i));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  const groups: number[][] = [];
  let at = 0;
  for (const size of sizes) {
    groups.push(Array.from(ids.subarray(at, at + size)).sort((a, b) => a - b));
    at += size;
  }
  const created = Array.from({ length: count(shares.created) }, (_, i) => docs + i);
  return {
    updated: groups[0]!, deleted: groups[1]!, created,
    lostUpdated: groups[2]!, lostDeleted: groups[3]!,
    lostCreated: Array.from({ length: lostCreated }, (_, i) => docs + created.length + i),
  };
}
