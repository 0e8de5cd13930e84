/**
 * An in-memory cluster behind the ClusterClient calls `follow/` makes, for unit tests that must
 * drive a path a real node cannot be made to take on demand: exactly N unreachable starts, an
 * index re-created between two calls, a refused request. One shard's worth of behaviour per index:
 * live documents with their `_seq_no` and `_version`, `version_type=external` writes (a version not
 * above the stored one is "already applied"), metadata with versions. Integration tests are where
 * real nodes answer; this only answers the way they do for what these tests ask.
 */
import type { ClusterClient } from '../../../src/cluster/cluster-client.js';
import { RequestCounts, type RequestStats } from '../../../src/cluster/request-counts.js';
import { ClusterResponseError } from '../../../src/cluster/errors.js';
import type {
  BulkItemResult, DocumentLookup, ExternalOp, IndexMetadata, IndexVersions, SeqNoHit, SeqNoSearch, ShardSeqNoState,
} from '../../../src/cluster/types.js';
import { abortError } from '../../../src/util/sleep.js';

export interface FakeDoc {
  readonly seqNo: number;
  readonly version: number;
  readonly sourceJson: string;
  readonly routing: string | undefined;
}

export class FakeIndex {
  uuid: string;
  numberOfShards = 1;
  state: 'open' | 'close' = 'open';
  settings: Record<string, unknown> = {};
  mappings: Record<string, unknown> = { properties: {} };
  aliases: Record<string, unknown> = {};
  versions: { mappingVersion: number; settingsVersion: number; aliasesVersion: number } = { mappingVersion: 1, settingsVersion: 1, aliasesVersion: 1 };
  readonly docs = new Map<string, FakeDoc>();
  maxSeqNo = -1;
  /** Null: no started primary (a new or reopening index). */
  globalCheckpoint: number | null = -1;

  constructor(readonly name: string, uuid: string) {
    this.uuid = uuid;
  }

  /** A write made on this index itself (not through bulkExternal): internal versioning, version + 1. */
  index(id: string, source: object = { id }, routing?: string): number {
    this.maxSeqNo += 1;
    const version = (this.docs.get(id)?.version ?? 0) + 1;
    this.docs.set(id, { seqNo: this.maxSeqNo, version, sourceJson: JSON.stringify(source), routing });
    if (this.globalCheckpoint !== null) this.globalCheckpoint = this.maxSeqNo;
    return this.maxSeqNo;
  }

  delete(id: string): void {
    this.maxSeqNo += 1;
    this.docs.delete(id);
    if (this.globalCheckpoint !== null) this.globalCheckpoint = this.maxSeqNo;
  }
}

type Method = keyof FakeCluster & string;

export class FakeCluster {
  readonly indices = new Map<string, FakeIndex>();
  /** Every call, as `method index`. */
  readonly calls: string[] = [];
  /** The operations of every bulkExternal call, in order. */
  readonly bulks: ExternalOp[][] = [];
  readonly #failures = new Map<string, Array<() => unknown>>();
  #uuids = 0;

  constructor(readonly alias: string) {}

  get client(): ClusterClient {
    return this as unknown as ClusterClient;
  }

  add(name: string, uuid = `${this.alias}-${name}-${(this.#uuids += 1)}`): FakeIndex {
    const index = new FakeIndex(name, uuid);
    this.indices.set(name, index);
    return index;
  }

  /** Deletes `name` and creates it again, empty, with a new uuid. */
  recreate(name: string): FakeIndex {
    return this.add(name);
  }

  /** The next `count` calls of `method` throw what `error` returns. */
  failNext(method: Method, error: () => unknown, count = 1): void {
    const queue = this.#failures.get(method) ?? [];
    for (let i = 0; i < count; i += 1) queue.push(error);
    this.#failures.set(method, queue);
  }

  callsOf(method: Method): string[] {
    return this.calls.filter((c) => c.split(' ')[0] === method);
  }

  // ---- the ClusterClient calls -------------------------------------------------------------

  /** Every purpose view is this same fake (its calls are recorded in `calls` alike). */
  forPurpose(): ClusterClient {
    return this.client;
  }

  requestStats(): RequestStats {
    return new RequestCounts().stats();
  }

  /** As the real one: indices it cannot answer (missing, not started) are left out. */
  async shardSeqNosOfMany(indices: readonly string[], signal?: AbortSignal): Promise<Map<string, ShardSeqNoState[]>> {
    this.#enter('shardSeqNosOfMany', indices.join(','), signal);
    const result = new Map<string, ShardSeqNoState[]>();
    for (const index of indices) {
      const i = this.indices.get(index);
      if (i === undefined || i.globalCheckpoint === null) continue;
      result.set(index, seqNosOf(i));
    }
    return result;
  }

  async metadataVersionsOfMany(indices: readonly string[], signal?: AbortSignal): Promise<Map<string, IndexVersions>> {
    this.#enter('metadataVersionsOfMany', indices.join(','), signal);
    const result = new Map<string, IndexVersions>();
    for (const index of indices) {
      const i = this.indices.get(index);
      if (i !== undefined) result.set(index, { ...i.versions, uuid: i.uuid });
    }
    return result;
  }

  async indexExists(index: string, signal?: AbortSignal): Promise<boolean> {
    this.#enter('indexExists', index, signal);
    return this.indices.has(index);
  }

  async indexMetadata(index: string, signal?: AbortSignal): Promise<IndexMetadata> {
    const i = this.#index('indexMetadata', index, signal);
    return {
      index, uuid: i.uuid, numberOfShards: i.numberOfShards, routingNumShards: i.numberOfShards,
      settings: { ...i.settings, 'index.uuid': i.uuid, 'index.number_of_shards': String(i.numberOfShards) },
      mappings: structuredClone(i.mappings), aliases: structuredClone(i.aliases), ...i.versions, state: i.state,
    };
  }

  async metadataVersions(index: string, signal?: AbortSignal): Promise<IndexVersions> {
    const i = this.#index('metadataVersions', index, signal);
    return { ...i.versions, uuid: i.uuid };
  }

  async indexUuid(index: string, signal?: AbortSignal): Promise<string> {
    return this.#index('indexUuid', index, signal).uuid;
  }

  async shardSeqNos(index: string, signal?: AbortSignal): Promise<ShardSeqNoState[]> {
    return seqNosOf(this.#index('shardSeqNos', index, signal));
  }

  async refresh(index: string, signal?: AbortSignal): Promise<void> {
    this.#index('refresh', index, signal);
  }

  async searchShardBySeqNo(index: string, search: SeqNoSearch, signal?: AbortSignal): Promise<SeqNoHit[]> {
    const i = this.#index('searchShardBySeqNo', index, signal);
    if (search.shard !== 0) return [];
    const above = Math.max(search.fromExclusive, search.searchAfter ?? -Infinity);
    return [...i.docs.entries()]
      .filter(([, d]) => d.seqNo > above && d.seqNo <= search.toInclusive)
      .sort(([, a], [, b]) => a.seqNo - b.seqNo)
      .slice(0, search.size)
      .map(([id, d]) => {
        const sourceJson = search.withSource === false ? '{}' : d.sourceJson;
        return {
          id, routing: d.routing, seqNo: d.seqNo, primaryTerm: 1, sourceJson, sizeInBytes: id.length + sourceJson.length,
          ...(search.withVersion === true ? { version: d.version } : {}),
        };
      });
  }

  async countShard(index: string, shard: number, signal?: AbortSignal): Promise<number> {
    const i = this.#index('countShard', index, signal);
    return shard === 0 ? i.docs.size : 0;
  }

  async multiGet(index: string, docs: readonly { id: string; routing: string | undefined }[], withSource: boolean, signal?: AbortSignal): Promise<DocumentLookup[]> {
    const i = this.#index('multiGet', index, signal);
    return docs.map(({ id }) => {
      const d = i.docs.get(id);
      if (!d) return { id, found: false, routing: undefined };
      return { id, found: true, routing: d.routing, seqNo: d.seqNo, version: d.version, ...(withSource ? { sourceJson: d.sourceJson } : {}) };
    });
  }

  async bulkExternal(index: string, ops: readonly ExternalOp[], signal?: AbortSignal): Promise<BulkItemResult[]> {
    const i = this.#index('bulkExternal', index, signal);
    this.bulks.push([...ops]);
    return ops.map((op): BulkItemResult => {
      const existing = i.docs.get(op.id);
      if (existing && existing.version >= op.version) return { outcome: 'already_applied', id: op.id };
      i.maxSeqNo += 1;
      if (op.op === 'delete') i.docs.delete(op.id);
      else i.docs.set(op.id, { seqNo: i.maxSeqNo, version: op.version, sourceJson: Buffer.from(op.sourceJson).toString(), routing: op.routing });
      if (i.globalCheckpoint !== null) i.globalCheckpoint = i.maxSeqNo;
      return { outcome: 'applied', id: op.id, seqNo: i.maxSeqNo };
    });
  }

  async createIndex(index: string, body: { settings: Record<string, unknown>; mappings: Record<string, unknown> }, signal?: AbortSignal): Promise<void> {
    this.#enter('createIndex', index, signal);
    if (this.indices.has(index)) {
      throw new ClusterResponseError({ alias: this.alias, operation: 'create index', statusCode: 400, esType: 'resource_already_exists_exception', reason: `index [${index}] already exists` });
    }
    const created = this.add(index);
    created.settings = { ...body.settings };
    created.mappings = structuredClone(body.mappings);
  }

  async deleteIndex(index: string, signal?: AbortSignal): Promise<void> {
    this.#index('deleteIndex', index, signal);
    this.indices.delete(index);
  }

  async putMapping(index: string, mappings: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
    const i = this.#index('putMapping', index, signal);
    i.mappings = structuredClone(mappings);
    i.versions = { ...i.versions, mappingVersion: i.versions.mappingVersion + 1 };
  }

  async putSettings(index: string, settings: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
    const i = this.#index('putSettings', index, signal);
    i.settings = { ...i.settings, ...settings };
    i.versions = { ...i.versions, settingsVersion: i.versions.settingsVersion + 1 };
  }

  async updateAliases(actions: readonly Record<string, unknown>[], signal?: AbortSignal): Promise<void> {
    this.#enter('updateAliases', String(actions.length), signal);
    for (const action of actions) {
      const [kind, spec] = Object.entries(action)[0] as ['add' | 'remove', { index: string; alias: string } & Record<string, unknown>];
      const i = this.indices.get(spec.index);
      if (!i) continue;
      const { index: _index, alias, ...rest } = spec;
      const aliases = { ...i.aliases };
      if (kind === 'add') aliases[alias] = rest;
      else delete aliases[alias];
      i.aliases = aliases;
      i.versions = { ...i.versions, aliasesVersion: i.versions.aliasesVersion + 1 };
    }
  }

  async closeIndex(index: string, signal?: AbortSignal): Promise<void> {
    this.#index('closeIndex', index, signal).state = 'close';
  }

  async openIndex(index: string, signal?: AbortSignal): Promise<void> {
    this.#index('openIndex', index, signal).state = 'open';
  }

  async close(): Promise<void> {
    // Nothing to release.
  }

  // ---- internals ---------------------------------------------------------------------------

  #enter(method: Method, index: string, signal: AbortSignal | undefined): void {
    this.calls.push(`${method} ${index}`);
    if (signal?.aborted) throw abortError();
    const failure = this.#failures.get(method)?.shift();
    if (failure) throw failure();
  }

  #index(method: Method, index: string, signal: AbortSignal | undefined): FakeIndex {
    this.#enter(method, index, signal);
    const found = this.indices.get(index);
    if (!found) {
      throw new ClusterResponseError({ alias: this.alias, operation: method, statusCode: 404, esType: 'index_not_found_exception', reason: `no such index [${index}]` });
    }
    return found;
  }
}

/** Shard 0 holds the index's operations; the others are empty. None while the index has no checkpoint yet. */
function seqNosOf(i: FakeIndex): ShardSeqNoState[] {
  if (i.globalCheckpoint === null) return [];
  const shards: ShardSeqNoState[] = [{ shard: 0, globalCheckpoint: i.globalCheckpoint, maxSeqNo: i.maxSeqNo, localCheckpoint: i.maxSeqNo }];
  for (let shard = 1; shard < i.numberOfShards; shard += 1) shards.push({ shard, globalCheckpoint: -1, maxSeqNo: -1, localCheckpoint: -1 });
  return shards;
}
