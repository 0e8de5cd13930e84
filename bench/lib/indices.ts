/** Many small indices at once: created, filled and deleted with a bounded number of requests in flight. */
import { chunkNames, expressionPath } from '../../src/cluster/index-expressions.js';
import type { Rest } from './http.js';

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function mapWithLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  }));
}

/** Empty indices of 1 shard and 0 replicas, `concurrency` created at a time. */
export async function createEmptyIndices(rest: Rest, names: readonly string[], concurrency: number): Promise<void> {
  const settings = { settings: { 'index.number_of_shards': 1, 'index.number_of_replicas': 0 } };
  // PUT waits for the primary to start (wait_for_active_shards defaults to 1).
  await mapWithLimit(names, concurrency, (name) => rest.request('PUT', `/${name}`, settings));
}

/** Indices of 1 shard and 0 replicas, `docs` documents each (ids d0…), their operations 0…docs-1. */
export async function createSmallIndices(rest: Rest, names: readonly string[], docs: number, concurrency: number): Promise<void> {
  await createEmptyIndices(rest, names, concurrency);
  const batch = Math.max(1, Math.floor(1000 / docs));
  for (let i = 0; i < names.length; i += batch) {
    const lines = names.slice(i, i + batch).flatMap((index) => Array.from({ length: docs }, (_, n) =>
      `{"index":{"_index":"${index}","_id":"d${n}"}}\n${JSON.stringify({ n, text: `document ${n}` })}\n`));
    const res = await rest.request<{ errors: boolean; items?: unknown[] }>('POST', '/_bulk?filter_path=errors,items.*.error', lines.join(''));
    if (res.errors) throw new Error(`bulk into ${names.length} indices had errors: ${JSON.stringify(res.items?.slice(0, 3))}`);
  }
}

export async function deleteIndices(rest: Rest, names: readonly string[]): Promise<void> {
  for (const chunk of chunkNames(names)) await rest.request('DELETE', `/${expressionPath(chunk)}?ignore_unavailable=true`);
}

/** Per index, the max_seq_no of its primary shard 0 (one `_stats` request per chunk of names). */
export async function maxSeqNos(rest: Rest, names: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const chunk of chunkNames(names)) {
    const res = await rest.request<{ indices: Record<string, { shards: Record<string, { routing: { primary: boolean }; seq_no: { max_seq_no: number } }[]> }> }>(
      'GET', `/${expressionPath(chunk)}/_stats/docs?level=shards&filter_path=indices.*.shards.*.routing.primary,indices.*.shards.*.seq_no.max_seq_no`);
    for (const [index, stats] of Object.entries(res.indices)) {
      const primary = stats.shards['0']?.find((c) => c.routing.primary);
      if (primary) out.set(index, primary.seq_no.max_seq_no);
    }
  }
  return out;
}
