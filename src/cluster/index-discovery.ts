/**
 * The REST calls auto-follow needs: which leader indices and data streams match a set of
 * patterns, when a few of them were created and whether they are open, and the alias that exposes
 * a followed data stream on the follower. Built on `ClusterClient.raw()`, identical for
 * Elasticsearch and OpenSearch.
 *
 * Data streams are resolved with `GET /_resolve/index/<patterns>?expand_wildcards=all`: it lists
 * indices, aliases and data streams with their backing indices in one call on every version we
 * support, while `GET /_data_stream` answers 405 on the Elasticsearch 8.19 test distribution
 * (its handler lives in a module that distribution lacks; docs/architecture.md, "Facts about the test
 * distributions").
 */
import type { ClusterClient } from './cluster-client.js';
import { ClusterProtocolError } from './errors.js';

/** One concrete index as `_resolve/index` lists it. */
export interface ResolvedIndex {
  readonly name: string;
  readonly open: boolean;
  /** `index.hidden`, which every data stream backing index has. */
  readonly hidden: boolean;
  /** A system index (Elasticsearch marks them; OpenSearch never does). */
  readonly system: boolean;
  /** The data stream this is a backing index of. */
  readonly dataStream?: string;
  readonly aliases: readonly string[];
}

export interface ResolvedDataStream {
  readonly name: string;
  /** Oldest first; the last one is the write index. */
  readonly backingIndices: readonly string[];
}

export interface ResolvedAlias {
  readonly name: string;
  readonly indices: readonly string[];
}

export interface ResolvedIndices {
  readonly indices: readonly ResolvedIndex[];
  readonly aliases: readonly ResolvedAlias[];
  readonly dataStreams: readonly ResolvedDataStream[];
}

/** What `indexDetails` tells about one index. */
export interface IndexDetails {
  readonly name: string;
  readonly state: 'open' | 'close';
  /** `index.creation_date`, epoch milliseconds (the leader's clock). */
  readonly creationDate: number;
  readonly hidden: boolean;
  readonly system: boolean;
  /**
   * Every primary shard started (or relocating). Until then a new or reopening index is in the
   * metadata, "open", but its shards answer nothing yet: CCR waits for this before following too.
   */
  readonly primariesActive: boolean;
}

/**
 * Stays under Elasticsearch's default `http.max_initial_line_length` (4kb) with room for the path
 * and the query string: longer name lists are split over several requests.
 */
const MAX_NAMES_IN_PATH = 3000;

/**
 * Indices, aliases and data streams matching `expressions` (wildcards allowed), hidden and closed
 * ones included. A name that does not exist is left out rather than failing the call: a pattern
 * without a wildcard names an index that may only appear later.
 */
export async function resolveIndices(client: ClusterClient, expressions: readonly string[], signal?: AbortSignal): Promise<ResolvedIndices> {
  interface Body {
    indices?: { name: string; attributes?: string[]; aliases?: string[]; data_stream?: string }[];
    aliases?: { name: string; indices?: string[] }[];
    data_streams?: { name: string; backing_indices?: string[] }[];
  }
  if (expressions.length === 0) return { indices: [], aliases: [], dataStreams: [] };
  const res = await client.raw<Body>('resolve indices', {
    method: 'GET',
    path: `/_resolve/index/${expressionPath(expressions)}`,
    query: { expand_wildcards: 'all', ignore_unavailable: true },
  }, signal);
  const body = res.body;
  if (!Array.isArray(body?.indices)) {
    throw new ClusterProtocolError({ alias: client.alias, operation: 'resolve indices', reason: 'the answer has no "indices" list' });
  }
  return {
    indices: body.indices.map((i) => {
      const attributes = i.attributes ?? [];
      return {
        name: i.name,
        open: !attributes.includes('closed'),
        hidden: attributes.includes('hidden'),
        system: attributes.includes('system'),
        ...(i.data_stream === undefined ? {} : { dataStream: i.data_stream }),
        aliases: i.aliases ?? [],
      };
    }),
    aliases: (body.aliases ?? []).map((a) => ({ name: a.name, indices: a.indices ?? [] })),
    dataStreams: (body.data_streams ?? []).map((d) => ({ name: d.name, backingIndices: d.backing_indices ?? [] })),
  };
}

/**
 * State, creation date and primaries of the named indices (data stream backing indices included),
 * from the cluster state's metadata and routing table, filtered to those fields. Names that no
 * longer exist are absent from the answer.
 */
export async function indexDetails(client: ClusterClient, names: readonly string[], signal?: AbortSignal): Promise<Map<string, IndexDetails>> {
  interface IndexBody { state?: string; system?: boolean; settings?: { index?: { creation_date?: string; hidden?: string } } }
  interface Copy { state?: string; primary?: boolean }
  interface Body {
    metadata?: { indices?: Record<string, IndexBody> };
    routing_table?: { indices?: Record<string, { shards?: Record<string, Copy[]> }> };
  }
  const result = new Map<string, IndexDetails>();
  for (const chunk of chunkNames(names)) {
    const res = await client.raw<Body>('read index creation dates', {
      method: 'GET',
      path: `/_cluster/state/metadata,routing_table/${expressionPath(chunk)}`,
      query: {
        expand_wildcards: 'all',
        ignore_unavailable: true,
        filter_path: [
          'metadata.indices.*.state', 'metadata.indices.*.system', 'metadata.indices.*.settings.index.creation_date', 'metadata.indices.*.settings.index.hidden',
          'routing_table.indices.*.shards.*.state', 'routing_table.indices.*.shards.*.primary',
        ].join(','),
      },
    }, signal);
    const routing = res.body?.routing_table?.indices ?? {};
    for (const [name, body] of Object.entries(res.body?.metadata?.indices ?? {})) {
      const creationDate = Number(body.settings?.index?.creation_date);
      if (!Number.isFinite(creationDate)) {
        throw new ClusterProtocolError({ alias: client.alias, operation: 'read index creation dates', reason: `index [${name}] has no index.creation_date` });
      }
      result.set(name, {
        name,
        state: body.state === 'close' ? 'close' : 'open',
        creationDate,
        hidden: body.settings?.index?.hidden === 'true',
        system: body.system === true,
        primariesActive: primariesActive(routing[name]?.shards),
      });
    }
  }
  return result;
}

function primariesActive(shards: Record<string, { state?: string; primary?: boolean }[]> | undefined): boolean {
  const groups = Object.values(shards ?? {});
  return groups.length > 0 && groups.every((copies) => copies.some((c) => c.primary === true && (c.state === 'STARTED' || c.state === 'RELOCATING')));
}

/** Adds `alias` to each of `indices` (a no-op for those that already have it). */
export async function putAlias(client: ClusterClient, alias: string, indices: readonly string[], signal?: AbortSignal): Promise<void> {
  if (indices.length === 0) return;
  await client.raw('put alias', { method: 'POST', path: '/_aliases', body: { actions: [{ add: { indices: [...indices], alias } }] } }, signal);
}

/** Removes `alias` from each of `indices`. */
export async function removeAlias(client: ClusterClient, alias: string, indices: readonly string[], signal?: AbortSignal): Promise<void> {
  if (indices.length === 0) return;
  await client.raw('remove alias', { method: 'POST', path: '/_aliases', body: { actions: [{ remove: { indices: [...indices], alias } }] } }, signal);
}

/** Comma-separated, each name encoded but `*` and `,` kept as the index expression syntax needs. */
function expressionPath(expressions: readonly string[]): string {
  return expressions.map((e) => encodeURIComponent(e)).join(',');
}

function chunkNames(names: readonly string[]): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let length = 0;
  for (const name of names) {
    const cost = encodeURIComponent(name).length + 1;
    if (current.length > 0 && length + cost > MAX_NAMES_IN_PATH) {
      chunks.push(current);
      current = [];
      length = 0;
    }
    current.push(name);
    length += cost;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
