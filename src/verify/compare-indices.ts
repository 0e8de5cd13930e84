/**
 * Compares two indices shard by shard — counts, ids missing on either side, documents whose
 * `_source` or routing differ — for `ccr-follow verify`. It needs nothing but the two clusters, so
 * it also checks migrations between clusters that were never followed.
 *
 * Each shard is compared as shard-diff.ts reads it: streamed a page at a time, each page looked
 * up on the other side. The reverse pass (extras on the follower) runs only when the counts say
 * there can be any.
 */
import type { SeqNoHit } from '../cluster/types.js';
import { absentFrom, differs, lookUp, shardPages, type IndexRef } from './shard-diff.js';

const PAGE_SIZE = 1000;
/** How many example ids a report lists per kind of difference and shard. */
const EXAMPLES = 10;

export interface ShardComparison {
  readonly shard: number;
  readonly leader_count: number;
  readonly follower_count: number;
  readonly compared: number;
  readonly missing_on_follower: number;
  readonly extra_on_follower: number;
  readonly different: number;
  readonly examples: { readonly missing_on_follower: string[]; readonly extra_on_follower: string[]; readonly different: string[] };
}

export interface ComparisonReport {
  readonly identical: boolean;
  readonly leader: string;
  readonly follower: string;
  /** Set when only a sample of documents per shard was compared. */
  readonly sample?: number;
  readonly shards: ShardComparison[];
  readonly took_millis: number;
}

export interface CompareOptions {
  /** Compare only this many documents per shard (counts are always compared). */
  readonly sample?: number;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

export async function compareIndices(
  leader: IndexRef,
  follower: IndexRef,
  options: CompareOptions = {},
): Promise<ComparisonReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const { signal } = options;
  await Promise.all([leader.client.refresh(leader.index, signal), follower.client.refresh(follower.index, signal)]);
  const [lm, fm] = await Promise.all([leader.client.indexMetadata(leader.index, signal), follower.client.indexMetadata(follower.index, signal)]);
  if (lm.numberOfShards !== fm.numberOfShards) {
    throw new Error(`the indices have different numbers of shards (${lm.numberOfShards} vs ${fm.numberOfShards}): documents cannot be compared shard by shard`);
  }
  const shards: ShardComparison[] = [];
  for (let shard = 0; shard < lm.numberOfShards; shard += 1) {
    shards.push(await compareShard(leader, follower, shard, options));
  }
  const identical = shards.every((s) => s.leader_count === s.follower_count && s.missing_on_follower === 0 && s.extra_on_follower === 0 && s.different === 0);
  return {
    identical, leader: `${leader.client.alias}/${leader.index}`, follower: `${follower.client.alias}/${follower.index}`,
    ...(options.sample === undefined ? {} : { sample: options.sample }), shards, took_millis: now() - started,
  };
}

async function compareShard(
  leader: IndexRef,
  follower: IndexRef,
  shard: number,
  options: CompareOptions,
): Promise<ShardComparison> {
  const { signal } = options;
  const [leaderCount, followerCount] = await Promise.all([
    leader.client.countShard(leader.index, shard, signal),
    follower.client.countShard(follower.index, shard, signal),
  ]);
  const missing: string[] = [];
  const different: string[] = [];
  const extra: string[] = [];
  let compared = 0;
  let matched = 0;
  let missingCount = 0;
  let differentCount = 0;
  let extraCount = 0;

  // Leader → follower: every leader document must be on the follower, equal.
  for await (const page of leaderPages(leader, shard, options.sample, signal)) {
    const lookups = await lookUp(follower, page, true, signal);
    for (const [i, hit] of page.entries()) {
      const other = lookups[i]!;
      compared += 1;
      if (!other.found) {
        missingCount += 1;
        if (missing.length < EXAMPLES) missing.push(hit.id);
      } else if (differs(hit, other)) {
        matched += 1;
        differentCount += 1;
        if (different.length < EXAMPLES) different.push(hit.id);
      } else {
        matched += 1;
      }
    }
  }

  // Follower → leader: only needed when the follower holds more than was matched.
  if (options.sample === undefined && followerCount > matched) {
    for await (const page of shardPages(follower, shard, { pageSize: PAGE_SIZE, withSource: false }, signal)) {
      for (const hit of await absentFrom(leader, page, signal)) {
        extraCount += 1;
        if (extra.length < EXAMPLES) extra.push(hit.id);
      }
    }
  }
  return {
    shard, leader_count: leaderCount, follower_count: followerCount, compared,
    missing_on_follower: missingCount, extra_on_follower: extraCount, different: differentCount,
    examples: { missing_on_follower: missing, extra_on_follower: extra, different },
  };
}

/** The leader shard in `_seq_no` order, a page at a time; with `sample`, one page of random documents. */
async function* leaderPages(leader: IndexRef, shard: number, sample: number | undefined, signal?: AbortSignal): AsyncGenerator<SeqNoHit[]> {
  if (sample === undefined) {
    yield* shardPages(leader, shard, { pageSize: PAGE_SIZE, withSource: true }, signal);
  } else {
    yield await leader.client.sampleShard(leader.index, shard, sample, signal);
  }
}
