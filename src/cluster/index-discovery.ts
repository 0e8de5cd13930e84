/**
 * What auto-follow needs to know about a cluster's indices: which leader indices and data streams
 * match a set of patterns, when a few of them were created, whether they are open and ready, and
 * the alias that exposes a followed data stream on the follower. The requests are
 * `ClusterClient`'s (`resolveIndex`, `indexStates`, `updateAliases`), identical for Elasticsearch
 * and OpenSearch; this reads their answers.
 *
 * Data streams are resolved with `GET /_resolve/index/<patterns>?expand_wildcards=all`: it lists
 * indices, aliases and data streams with their backing indices in one call on every version we
 * support, while `GET /_data_stream` answers 405 on the Elasticsearch 8.19 test distribution
 * (its handler lives in a module that distribution lacks; docs/architecture.md, "Facts about the test
 * distributions").
 */
import type { ClusterClient } from './cluster-client.js';
import { ClusterProtocolError } from './errors.js';
import type { ShardCopyState } from './types.js';

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
 * Indices, aliases and data streams matching `expressions` (wildcards allowed), hidden and closed
 * ones included. A name that does not exist is left out rather than failing the call: a pattern
 * without a wildcard names an index that may only appear later.
 */
export async function resolveIndices(client: ClusterClient, expressions: readonly string[], signal?: AbortSignal): Promise<ResolvedIndices> {
  const answer = await client.resolveIndex(expressions, signal);
  return {
    indices: answer.indices.map((i) => {
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
    aliases: answer.aliases.map((a) => ({ name: a.name, indices: a.indices ?? [] })),
    dataStreams: answer.data_streams.map((d) => ({ name: d.name, backingIndices: d.backing_indices ?? [] })),
  };
}

/**
 * State, creation date and primaries of the named indices (data stream backing indices included),
 * from the cluster state's metadata and routing table, filtered to those fields. Names that no
 * longer exist are absent from the answer.
 */
export async function indexDetails(client: ClusterClient, names: readonly string[], signal?: AbortSignal): Promise<Map<string, IndexDetails>> {
  const { metadata, routing } = await client.indexStates(names, signal);
  const result = new Map<string, IndexDetails>();
  for (const [name, body] of Object.entries(metadata)) {
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
      primariesActive: primariesActive(routing[name]),
    });
  }
  return result;
}

function primariesActive(shards: Readonly<Record<string, readonly ShardCopyState[]>> | undefined): boolean {
  const groups = Object.values(shards ?? {});
  return groups.length > 0 && groups.every((copies) => copies.some((c) => c.primary === true && (c.state === 'STARTED' || c.state === 'RELOCATING')));
}

/** Adds `alias` to each of `indices` (a no-op for those that already have it). */
export async function putAlias(client: ClusterClient, alias: string, indices: readonly string[], signal?: AbortSignal): Promise<void> {
  if (indices.length === 0) return;
  await client.updateAliases([{ add: { indices: [...indices], alias } }], signal);
}
