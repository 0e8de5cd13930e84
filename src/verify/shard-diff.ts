/**
 * The comparison of one shard's documents with another index, shared by `verify`
 * (compare-indices.ts) and the follower's delete reconciliation (follow/shard-reconciler.ts):
 * a shard is read in `_seq_no` order a page at a time (`_id` cannot be sorted on in
 * Elasticsearch 8), and each page is looked up on the other side with a realtime multi-get,
 * so memory stays bounded whatever the index size.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import { exactCanonical } from '../cluster/exact-json.js';
import type { DocumentLookup, SeqNoHit } from '../cluster/types.js';

export interface IndexRef {
  readonly client: ClusterClient;
  readonly index: string;
}

export interface PageOptions {
  readonly pageSize: number;
  /** Read each `_source` (for comparisons); false reads ids and routing only. */
  readonly withSource: boolean;
  /** Also read each document's `_version`. */
  readonly withVersion?: boolean;
  /** Start above this `_seq_no` (default: the shard's beginning). */
  readonly afterSeqNo?: number;
}

/** One shard's live documents in `_seq_no` order, a page at a time. */
export async function* shardPages(side: IndexRef, shard: number, options: PageOptions, signal?: AbortSignal): AsyncGenerator<SeqNoHit[]> {
  let after = options.afterSeqNo ?? -1;
  for (;;) {
    const page = await side.client.searchShardBySeqNo(side.index, {
      shard, fromExclusive: after, toInclusive: Number.MAX_SAFE_INTEGER, size: options.pageSize,
      withSource: options.withSource, ...(options.withVersion ? { withVersion: true } : {}),
    }, signal);
    if (page.length > 0) yield page;
    if (page.length < options.pageSize) return;
    after = page[page.length - 1]!.seqNo;
  }
}

/** `hits` looked up on `other` by id and routing (realtime), in the same order. */
export function lookUp(other: IndexRef, hits: readonly SeqNoHit[], withSource: boolean, signal?: AbortSignal): Promise<DocumentLookup[]> {
  return other.client.multiGet(other.index, hits.map((h) => ({ id: h.id, routing: h.routing })), withSource, signal);
}

/** The hits of `page` that `other` does not hold. */
export async function absentFrom(other: IndexRef, page: readonly SeqNoHit[], signal?: AbortSignal): Promise<SeqNoHit[]> {
  const lookups = await lookUp(other, page, false, signal);
  return page.filter((_, i) => !lookups[i]!.found);
}

/** Whether a found document differs from `hit`: another routing, or a `_source` that says something else (exact-json.ts). */
export function differs(hit: SeqNoHit, other: DocumentLookup): boolean {
  return other.routing !== hit.routing || exactCanonical(other.sourceJson ?? '{}') !== exactCanonical(hit.sourceJson);
}
