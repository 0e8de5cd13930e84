/**
 * One client per cluster alias: the typed REST calls the follower needs, identical for
 * Elasticsearch and OpenSearch. Every request ccr-follow makes to a cluster is built here.
 */
import type { ClusterConfig } from './cluster-config.js';
import { ClusterIndexNotFoundError, ClusterProtocolError, ClusterResponseError, ClusterShardUnavailableError } from './errors.js';
import { createTransport, describeErrorBody, type Flavor, type RestTransport } from './rest-transport.js';
import { detectFlavor } from './detect-flavor.js';
import { chunkNames, expressionPath } from './index-expressions.js';
import {
  deleteRequest, KIND_NAMES, listRequest, parseList, putRequest, type MetadataItem, type MetadataKind,
} from './metadata-items.js';
import { parseLossless, parseWithRawValues, stringifyLossless, type RawJson } from './raw-json.js';
import type {
  BulkItemResult, DocumentCondition, DocumentLookup, VersionedDocument, DocumentWrite, ClusterInfo, ExternalOp, IndexMetadata, IndexVersions, SeqNoHit, SeqNoSearch, ShardSeqNoState,
} from './types.js';
import type { IndexStateMetadata, IndexStatesAnswer, ResolveIndexAnswer, ShardCopyState } from './types.js';
import { RequestCounts, type RequestPurpose, type RequestStats } from './request-counts.js';

export class ClusterClient {
  readonly info: ClusterInfo;
  /** The transport as built, shared by every purpose view of this client. */
  readonly #raw: RestTransport;
  /** The same transport, counting each request under this view's purpose. */
  readonly #transport: RestTransport;
  readonly #counts: RequestCounts;

  constructor(info: ClusterInfo, transport: RestTransport, counts: RequestCounts = new RequestCounts(), purpose: RequestPurpose = 'other') {
    this.info = info;
    this.#raw = transport;
    this.#counts = counts;
    this.#transport = {
      alias: transport.alias,
      request: (operation, req, signal) => {
        counts.count(purpose);
        return transport.request(operation, req, signal);
      },
      close: () => transport.close(),
    };
  }

  /**
   * The same client (same connection, same counts) whose requests count as sent for `purpose`:
   * what the daemon sends each cluster, and why, is in `requestStats()`.
   */
  forPurpose(purpose: RequestPurpose): ClusterClient {
    return new ClusterClient(this.info, this.#raw, this.#counts, purpose);
  }

  /** Requests sent to this cluster by every view of this client, per purpose. */
  requestStats(): RequestStats {
    return this.#counts.stats();
  }

  get alias(): string {
    return this.info.alias;
  }

  /** Detects flavor and version, then builds the matching official client. */
  static async connect(config: ClusterConfig, signal?: AbortSignal): Promise<ClusterClient> {
    const { flavor, version } = await detectFlavor(config, signal);
    return new ClusterClient({ alias: config.alias, flavor, version }, createTransport(config, flavor));
  }

  /** For tests that must force a flavor's client. */
  static withFlavor(config: ClusterConfig, flavor: Flavor, version: string): ClusterClient {
    return new ClusterClient({ alias: config.alias, flavor, version }, createTransport(config, flavor));
  }

  close(): Promise<void> {
    return this.#transport.close();
  }

  /** Global checkpoint and max seq_no of every primary shard, in one call (docs/architecture.md, shard step 1). */
  async shardSeqNos(index: string, signal?: AbortSignal): Promise<ShardSeqNoState[]> {
    interface Copy { routing?: { primary?: boolean }; seq_no?: { global_checkpoint: number; max_seq_no: number; local_checkpoint: number } }
    interface StatsBody { _shards?: { total: number; successful: number }; indices?: Record<string, { shards?: Record<string, Copy[]> }> }
    const res = await this.#transport.request<StatsBody>('read shard sequence numbers', {
      method: 'GET',
      path: `/${encodeURIComponent(index)}/_stats/docs`,
      query: { level: 'shards', filter_path: '_shards,indices.*.shards.*.routing.primary,indices.*.shards.*.seq_no' },
    }, signal);
    // A new or reopening index answers before its primaries start (successful 0, no shards): not yet, not never.
    if (!res.body._shards || res.body._shards.successful === 0) {
      throw new ClusterShardUnavailableError({
        alias: this.alias, operation: 'read shard sequence numbers', reason: `no started shard of [${index}] answered yet`,
      });
    }
    // The response is keyed by the concrete index name, which is `index` unless it was an alias.
    const shards = Object.values(res.body.indices ?? {})[0]?.shards ?? {};
    const result: ShardSeqNoState[] = [];
    for (const [shardId, copies] of Object.entries(shards)) {
      const primary = copies.find((c) => c.routing?.primary === true);
      if (primary?.seq_no === undefined) {
        throw new ClusterShardUnavailableError({
          alias: this.alias, operation: 'read shard sequence numbers', reason: `primary of shard ${shardId} of [${index}] is not started`,
        });
      }
      result.push({
        shard: Number(shardId),
        globalCheckpoint: primary.seq_no.global_checkpoint,
        maxSeqNo: primary.seq_no.max_seq_no,
        localCheckpoint: primary.seq_no.local_checkpoint,
      });
    }
    return result.sort((a, b) => a.shard - b.shard);
  }

  /**
   * `shardSeqNos` of many indices, in one `_stats` request per run of names that fits a request
   * line (docs/architecture.md, shard step 1). An index is left out of the answer when it is
   * missing, closed, not under its own name, or has a primary without sequence numbers: the caller
   * asks `shardSeqNos` for it alone, whose answer (or error) says why. `expressions` may name the
   * indices more briefly (`coveringExpressions`): what matches beyond `indices` is not returned.
   */
  async shardSeqNosOfMany(indices: readonly string[], signal?: AbortSignal, expressions: readonly string[] = indices): Promise<Map<string, ShardSeqNoState[]>> {
    interface Copy { routing?: { primary?: boolean }; seq_no?: { global_checkpoint: number; max_seq_no: number; local_checkpoint: number } }
    interface StatsBody { indices?: Record<string, { shards?: Record<string, Copy[]> }> }
    const answered = new Map<string, { shards?: Record<string, Copy[]> }>();
    const operation = 'read shard sequence numbers';
    for (const chunk of chunkNames(expressions)) {
      const res = await this.#transport.request<Buffer>(operation, {
        method: 'GET',
        path: `/${expressionPath(chunk)}/_stats/docs`,
        // Patterns match hidden indices too (a data stream's backing indices), but never closed ones, which `_stats` refuses.
        query: { level: 'shards', ignore_unavailable: true, expand_wildcards: 'open,hidden', filter_path: 'indices.*.shards.*.routing.primary,indices.*.shards.*.seq_no' },
        rawResponse: true,
      }, signal);
      const body = this.#readJson<StatsBody | undefined>(res.body, operation);
      for (const [name, entry] of Object.entries(body?.indices ?? {})) answered.set(name, entry);
    }
    const result = new Map<string, ShardSeqNoState[]>();
    for (const index of indices) {
      const shards = answered.get(index)?.shards;
      const states = shards === undefined ? undefined : primaryStates(shards);
      if (states !== undefined && states.length > 0) result.set(index, states);
    }
    return result;
  }

  /**
   * One page of live documents of one shard with `_seq_no` in (fromExclusive, toInclusive],
   * sorted by `_seq_no`. Partial results are refused: a shard that failed must never look empty.
   */
  async searchShardBySeqNo(index: string, search: SeqNoSearch, signal?: AbortSignal): Promise<SeqNoHit[]> {
    interface SearchBody { _shards?: { total: number; successful: number; failed: number }; timed_out?: boolean; hits?: { hits?: SearchHit<RawJson>[] } }
    const operation = `read operations of shard ${search.shard}`;
    const res = await this.#transport.request<Buffer>(operation, {
      method: 'POST',
      path: `/${encodeURIComponent(index)}/_search`,
      query: {
        preference: `_shards:${search.shard}`,
        allow_partial_search_results: false,
        // No filter_path: with one, the leader re-serialises each `_source` (1.50 becomes 1.5).
      },
      body: {
        size: search.size,
        ...(search.withSource === false ? { _source: false } : {}),
        ...(search.withVersion === true ? { version: true } : {}),
        track_total_hits: false,
        seq_no_primary_term: true,
        query: { range: { _seq_no: { gt: search.fromExclusive, lte: search.toInclusive } } },
        sort: [{ _seq_no: 'asc' }],
        ...(search.searchAfter === undefined ? {} : { search_after: [search.searchAfter] }),
      },
      // Each `_source` goes to the follower as the leader wrote it, never parsed (raw-json.ts says why).
      rawResponse: true,
    }, signal);
    const body = this.#readRaw<SearchBody>(res.body, operation);
    const shards = body._shards;
    if (!shards || shards.failed > 0 || shards.successful < 1 || body.timed_out) {
      throw new ClusterShardUnavailableError({
        alias: this.alias, operation,
        reason: `shard search incomplete (${JSON.stringify(shards)}, timed_out=${body.timed_out})`,
      });
    }
    return (body.hits?.hits ?? []).map((h) => rawHit(h));
  }

  /** Applies operations with `version_type=external`; a 409 means "already there": success. */
  async bulkExternal(index: string, ops: readonly ExternalOp[], signal?: AbortSignal): Promise<BulkItemResult[]> {
    const operation = 'bulk write';
    const res = await this.#transport.request<Buffer>(operation, {
      method: 'POST',
      path: `/${encodeURIComponent(index)}/_bulk`,
      // Ids are the request's own; the follower's seq_nos give its shards' max_seq_no (stats).
      query: { filter_path: 'errors,items.*.status,items.*.error,items.*._seq_no' },
      ndjson: externalBulkBody(ops),
      rawResponse: true,
    }, signal);
    // Almost every answer says no item failed: then only each item's seq_no is read, in order, without building the answer.
    if (BULK_WITHOUT_ERRORS.test(res.body.subarray(0, 32).toString('latin1'))) {
      const seqNos = Array.from(res.body.toString('latin1').matchAll(ITEM_SEQ_NO), (m) => Number(m[1]));
      return ops.map((op, i) => ({ outcome: 'applied', id: op.id, ...(seqNos.length === ops.length ? { seqNo: seqNos[i]! } : {}) }));
    }
    type Item = Record<string, { status: number; _seq_no?: number; error?: { type?: string; reason?: string; caused_by?: unknown } }>;
    const body = this.#read(res.body, operation, (b) => JSON.parse(b.toString('utf8'))) as { items?: Item[] };
    if (body.items?.length !== ops.length) {
      throw new ClusterProtocolError({ alias: this.alias, operation, reason: `sent ${ops.length} operations, got ${body.items?.length ?? 0} results` });
    }
    return body.items.map((wrapped, i) => {
      const item = Object.values(wrapped)[0]!;
      const id = ops[i]!.id;
      if (item.status < 300) return { outcome: 'applied', id, ...(item._seq_no === undefined ? {} : { seqNo: item._seq_no }) };
      if (item.status === 409) return { outcome: 'already_applied', id };
      const { esType, reason } = describeErrorBody({ error: item.error });
      const error = new ClusterResponseError({
        alias: this.alias, operation: `write document [${id}]`, statusCode: item.status, esType, reason: reason ?? 'no reason given',
      });
      return { outcome: 'failed', id, error };
    });
  }

  /**
   * Ordinary writes (not replication): index or delete documents with the cluster's own
   * versioning. Used by the quickstart's sample data and by tools; throws if any item failed.
   */
  async writeDocuments(index: string, docs: readonly DocumentWrite[], options: { refresh?: boolean } = {}, signal?: AbortSignal): Promise<void> {
    const lines: string[] = [];
    for (const d of docs) {
      const meta = { ...(d.id === undefined ? {} : { _id: d.id }), ...(d.routing === undefined ? {} : { routing: d.routing }) };
      lines.push(JSON.stringify({ [d.op]: meta }));
      if (d.op === 'index') lines.push(JSON.stringify(d.source));
    }
    const res = await this.#transport.request<{ errors: boolean; items: Record<string, { status: number; error?: unknown }>[] }>('write documents', {
      method: 'POST', path: `/${encodeURIComponent(index)}/_bulk`,
      query: { filter_path: 'errors,items.*.status,items.*.error', ...(options.refresh ? { refresh: 'true' } : {}) },
      ndjson: `${lines.join('\n')}\n`,
    }, signal);
    if (res.body.errors) {
      const failed = res.body.items.map((i) => Object.values(i)[0]!).find((i) => i.status >= 300 && i.status !== 404);
      if (failed) {
        const { esType, reason } = describeErrorBody({ error: failed.error });
        throw new ClusterResponseError({ alias: this.alias, operation: 'write documents', statusCode: failed.status, esType, reason: reason ?? 'bulk item failed' });
      }
    }
  }

  /** Up to `size` random live documents of one shard (for spot checks), each `_source` as the cluster's exact text. */
  async sampleShard(index: string, shard: number, size: number, signal?: AbortSignal): Promise<SeqNoHit[]> {
    const operation = `sample shard ${shard}`;
    const res = await this.#transport.request<Buffer>(operation, {
      method: 'POST', path: `/${encodeURIComponent(index)}/_search`,
      query: { preference: `_shards:${shard}`, allow_partial_search_results: false },
      body: {
        size: Math.min(size, 10_000), seq_no_primary_term: true, track_total_hits: false,
        query: { function_score: { random_score: { seed: Date.now(), field: '_seq_no' } } },
      },
      rawResponse: true,
    }, signal);
    const body = this.#readRaw<{ hits?: { hits?: SearchHit<RawJson>[] } }>(res.body, operation);
    return (body.hits?.hits ?? []).map((h) => rawHit(h));
  }

  /**
   * Live documents of one shard, as search sees them (refresh first for an exact count); with
   * `seqNos`, only those whose `_seq_no` is in (fromExclusive, toInclusive].
   */
  async countShard(index: string, shard: number, signal?: AbortSignal, seqNos?: { fromExclusive: number; toInclusive: number }): Promise<number> {
    interface CountBody { count: number; _shards?: { failed: number; successful: number } }
    const operation = `count documents of shard ${shard}`;
    const res = await this.#transport.request<CountBody>(operation, {
      method: 'POST', path: `/${encodeURIComponent(index)}/_count`, query: { preference: `_shards:${shard}` },
      ...(seqNos === undefined ? {} : { body: { query: { range: { _seq_no: { gt: seqNos.fromExclusive, lte: seqNos.toInclusive } } } } }),
    }, signal);
    const shards = res.body._shards;
    if (!shards || shards.failed > 0 || shards.successful < 1) {
      throw new ClusterShardUnavailableError({ alias: this.alias, operation, reason: `shard count incomplete (${JSON.stringify(shards)})` });
    }
    return res.body.count;
  }

  /**
   * Realtime gets (they see unrefreshed writes), with each document's routing. Each `_source` is
   * the cluster's exact text, never parsed: a repair writes it back, and verify compares it.
   */
  async multiGet(index: string, docs: readonly { id: string; routing: string | undefined }[], withSource: boolean, signal?: AbortSignal): Promise<DocumentLookup[]> {
    if (docs.length === 0) return [];
    interface Doc { _id: string; found?: boolean; _routing?: string; _source?: RawJson; _seq_no?: number; _version?: number; error?: unknown }
    const operation = 'get documents';
    const res = await this.#transport.request<Buffer>(operation, {
      method: 'POST', path: `/${encodeURIComponent(index)}/_mget`,
      query: { realtime: true, _source: withSource },
      body: { docs: docs.map((d) => ({ _id: d.id, ...(d.routing === undefined ? {} : { routing: d.routing }) })) },
      rawResponse: true,
    }, signal);
    const body = this.#readRaw<{ docs?: Doc[] }>(res.body, operation);
    if (body.docs?.length !== docs.length) {
      throw new ClusterProtocolError({ alias: this.alias, operation, reason: `asked for ${docs.length} documents, got ${body.docs?.length ?? 0}` });
    }
    return body.docs.map((d) => {
      if (d.error !== undefined) {
        const { esType, reason } = describeErrorBody({ error: d.error });
        // No status of its own: the item's error type decides (classify), as for any answer.
        throw new ClusterResponseError({ alias: this.alias, operation: `get document [${d._id}]`, esType, reason: reason ?? 'get failed' });
      }
      return {
        id: d._id, found: d.found === true, routing: d._routing,
        ...(d.found === true && withSource ? { sourceJson: d._source?.raw ?? '{}' } : {}),
        ...(d.found === true ? { seqNo: d._seq_no, version: d._version } : {}),
      };
    });
  }

  async indexExists(index: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.#transport.request('check index exists', { method: 'HEAD', path: `/${encodeURIComponent(index)}`, accept: [404] }, signal);
    return res.status === 200;
  }

  /** Number of shards, routing shards, mappings, flat settings, aliases and metadata versions. */
  async indexMetadata(index: string, signal?: AbortSignal): Promise<IndexMetadata> {
    interface IndexBody { aliases?: Record<string, unknown>; mappings?: Record<string, unknown>; settings?: Record<string, unknown> }
    const operation = 'read index metadata';
    const res = await this.#transport.request<Buffer>(operation, {
      method: 'GET', path: `/${encodeURIComponent(index)}`, query: { flat_settings: true }, rawResponse: true,
    }, signal);
    // Lossless: an alias filter or a mapping's `_meta` / `null_value` may hold a 64-bit number (see createIndex).
    const [name, body] = Object.entries(this.#read(res.body, operation, parseLossless) as Record<string, IndexBody>)[0] ?? [];
    if (name === undefined || body === undefined) {
      throw new ClusterProtocolError({ alias: this.alias, operation: 'read index metadata', reason: `empty answer for [${index}]` });
    }
    const state = await this.#clusterStateOf(name, signal);
    const settings = body.settings ?? {};
    return {
      index: name,
      uuid: String(settings['index.uuid'] ?? ''),
      numberOfShards: Number(settings['index.number_of_shards']),
      routingNumShards: state.routing_num_shards,
      settings,
      mappings: body.mappings ?? {},
      aliases: body.aliases ?? {},
      mappingVersion: state.mapping_version ?? 0,
      settingsVersion: state.settings_version ?? 0,
      aliasesVersion: state.aliases_version ?? 0,
      state: state.state === 'close' ? 'close' : 'open',
    };
  }

  /**
   * The mapping / settings / aliases versions and the index's uuid, in one small cluster-state read:
   * cheap enough for every read of operations (the uuid proves which index they came from).
   */
  async metadataVersions(index: string, signal?: AbortSignal): Promise<IndexVersions> {
    return toVersions(await this.#clusterStateOf(index, signal));
  }

  /**
   * `metadataVersions` of many indices, in one filtered cluster-state read per run of names that
   * fits a request line. An index missing from the answer is left out: the caller asks
   * `metadataVersions` for it alone, whose answer (or error) says why. `expressions` as in
   * `shardSeqNosOfMany`.
   */
  async metadataVersionsOfMany(indices: readonly string[], signal?: AbortSignal, expressions: readonly string[] = indices): Promise<Map<string, IndexVersions>> {
    const answered = new Map<string, ClusterStateIndex>();
    const operation = 'read index versions';
    for (const chunk of chunkNames(expressions)) {
      const res = await this.#transport.request<Buffer>(operation, {
        method: 'GET',
        path: `/_cluster/state/metadata/${expressionPath(chunk)}`,
        query: { expand_wildcards: 'all', ignore_unavailable: true, filter_path: VERSIONS_FILTER },
        rawResponse: true,
      }, signal);
      const body = this.#readJson<{ metadata?: { indices?: Record<string, ClusterStateIndex> } } | undefined>(res.body, operation);
      for (const [name, entry] of Object.entries(body?.metadata?.indices ?? {})) answered.set(name, entry);
    }
    // By its own name only (a data stream's backing index answers all its siblings too).
    const result = new Map<string, IndexVersions>();
    for (const index of indices) {
      const s = answered.get(index);
      if (s !== undefined) result.set(index, toVersions(s));
    }
    return result;
  }

  /** The index's uuid: it changes when an index is deleted and created again under its name. */
  async indexUuid(index: string, signal?: AbortSignal): Promise<string> {
    const res = await this.#transport.request<Record<string, { settings?: { index?: { uuid?: string } } }>>('read index uuid', {
      method: 'GET', path: `/${encodeURIComponent(index)}/_settings/index.uuid`,
    }, signal);
    return Object.values(res.body)[0]?.settings?.index?.uuid ?? '';
  }

  /**
   * A plain JSON answer read with `JSON.parse` alone: the clients' own reader scans each answer
   * for prototype keys first, which for the shared probes' answers (hundreds of indices, every
   * second, the daemon idle) was the largest single cost. Nothing here is merged into an object.
   */
  #readJson<T>(bytes: Buffer, operation: string): T {
    return (bytes.length === 0 ? undefined : this.#read(bytes, operation, (b) => JSON.parse(b.toString('utf8')))) as T;
  }

  /** An answer read with each `_source` (and the unused `sort`, `_index`) kept as its exact text. */
  #readRaw<T>(bytes: Buffer, operation: string): T {
    return this.#read(bytes, operation, (b) => parseWithRawValues(b, SOURCE_KEY)) as T;
  }

  #read(bytes: Buffer, operation: string, parse: (bytes: Buffer) => unknown): unknown {
    try {
      return parse(bytes);
    } catch (err) {
      throw new ClusterProtocolError({ alias: this.alias, operation, reason: `unreadable answer: ${(err as Error).message}` });
    }
  }

  async #clusterStateOf(index: string, signal?: AbortSignal): Promise<ClusterStateIndex> {
    const res = await this.#transport.request<{ metadata?: { indices?: Record<string, ClusterStateIndex> } }>('read index versions', {
      method: 'GET',
      path: `/_cluster/state/metadata/${encodeURIComponent(index)}`,
      query: { filter_path: `${VERSIONS_FILTER},metadata.indices.*.routing_num_shards` },
    }, signal);
    // By its own name: asked for one backing index of a data stream, the cluster state answers
    // every backing index of the stream (another's uuid would look like a re-created index).
    // An alias is answered under its one concrete index.
    const indices = res.body.metadata?.indices ?? {};
    const entries = Object.values(indices);
    const found = Object.hasOwn(indices, index) ? indices[index] : entries.length === 1 ? entries[0] : undefined;
    if (!found) {
      throw new ClusterIndexNotFoundError({ alias: this.alias, operation: 'read index versions', reason: `no such index [${index}]` });
    }
    return found;
  }

  /**
   * Metadata bodies are sent with stringifyLossless: values read by indexMetadata may hold
   * LosslessNumbers, which JSON.stringify would not write as the leader had them.
   */
  async createIndex(
    index: string, body: { settings: Record<string, unknown>; mappings: Record<string, unknown>; aliases?: Record<string, unknown> },
    signal?: AbortSignal, waitForActiveShards: number | 'all' = 1,
  ): Promise<{ shardsAcknowledged: boolean }> {
    const res = await this.#transport.request<{ shards_acknowledged?: boolean }>('create index', {
      method: 'PUT', path: `/${encodeURIComponent(index)}`, query: { wait_for_active_shards: waitForActiveShards }, json: stringifyLossless(body),
    }, signal);
    return { shardsAcknowledged: res.body?.shards_acknowledged === true };
  }

  async putMapping(index: string, mappings: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
    await this.#transport.request('update mapping', { method: 'PUT', path: `/${encodeURIComponent(index)}/_mapping`, json: stringifyLossless(mappings) }, signal);
  }

  async putSettings(index: string, settings: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
    await this.#transport.request('update settings', { method: 'PUT', path: `/${encodeURIComponent(index)}/_settings`, json: stringifyLossless(settings) }, signal);
  }

  /** Closes an index (static settings can only change on a closed index). */
  async closeIndex(index: string, signal?: AbortSignal): Promise<void> {
    await this.#transport.request('close index', { method: 'POST', path: `/${encodeURIComponent(index)}/_close`, query: { wait_for_active_shards: 0 } }, signal);
  }

  /** Opens an index and waits for its primaries. */
  async openIndex(index: string, signal?: AbortSignal): Promise<void> {
    await this.#transport.request('open index', { method: 'POST', path: `/${encodeURIComponent(index)}/_open`, query: { wait_for_active_shards: 1 } }, signal);
  }

  /** Applies alias `add` / `remove` actions atomically. */
  async updateAliases(actions: readonly Record<string, unknown>[], signal?: AbortSignal): Promise<void> {
    if (actions.length === 0) return;
    await this.#transport.request('update aliases', { method: 'POST', path: '/_aliases', json: stringifyLossless({ actions }) }, signal);
  }

  async refresh(index: string, signal?: AbortSignal): Promise<void> {
    await this.#transport.request('refresh', { method: 'POST', path: `/${encodeURIComponent(index)}/_refresh` }, signal);
  }

  async deleteIndex(index: string, signal?: AbortSignal): Promise<void> {
    await this.#transport.request('delete index', { method: 'DELETE', path: `/${encodeURIComponent(index)}` }, signal);
  }

  /** Every item of one kind of cluster metadata (metadata-items.ts), sorted by name; none when the cluster has none. */
  async listMetadataItems(kind: MetadataKind, signal?: AbortSignal): Promise<MetadataItem[]> {
    const res = await this.#transport.request<unknown>(`list ${KIND_NAMES[kind]}s`, listRequest(kind, this.info.flavor), signal);
    return res.status === 404 ? [] : parseList(kind, this.info.flavor, res.body);
  }

  /** Creates or replaces one item (an ISM policy only if unchanged since it was read: see `writeCondition`). */
  async putMetadataItem(item: MetadataItem, signal?: AbortSignal): Promise<void> {
    await this.#transport.request(`put ${KIND_NAMES[item.kind]} [${item.name}]`, putRequest(item, this.info.flavor), signal);
  }

  /** Deletes one item; one already gone is not an error. */
  async deleteMetadataItem(kind: MetadataKind, name: string, signal?: AbortSignal): Promise<void> {
    await this.#transport.request(`delete ${KIND_NAMES[kind]} [${name}]`, deleteRequest(kind, name, this.info.flavor), signal);
  }

  /**
   * `GET /_resolve/index/<expressions>`: the indices, aliases and data streams matching
   * `expressions` (wildcards allowed), hidden and closed ones included. A name that does not exist
   * is left out rather than failing the call. One call on every version we support, where
   * `GET /_data_stream` is not (docs/architecture.md, "Facts about the test distributions").
   */
  async resolveIndex(expressions: readonly string[], signal?: AbortSignal): Promise<ResolveIndexAnswer> {
    if (expressions.length === 0) return { indices: [], aliases: [], data_streams: [] };
    const operation = 'resolve indices';
    const res = await this.#transport.request<Partial<ResolveIndexAnswer> | undefined>(operation, {
      method: 'GET',
      path: `/_resolve/index/${expressionPath(expressions)}`,
      query: { expand_wildcards: 'all', ignore_unavailable: true },
    }, signal);
    const body = res.body;
    if (!Array.isArray(body?.indices)) {
      throw new ClusterProtocolError({ alias: this.alias, operation, reason: 'the answer has no "indices" list' });
    }
    return { indices: body.indices, aliases: body.aliases ?? [], data_streams: body.data_streams ?? [] };
  }

  /**
   * State, `system` flag, creation date and `hidden` setting, and the routing of every shard copy,
   * of the named indices (data stream backing indices included), from the cluster state filtered to
   * those fields. Names that do not exist are absent. A long list is read in several requests.
   */
  async indexStates(names: readonly string[], signal?: AbortSignal): Promise<IndexStatesAnswer> {
    interface Body {
      metadata?: { indices?: Record<string, IndexStateMetadata> };
      routing_table?: { indices?: Record<string, { shards?: Record<string, ShardCopyState[]> }> };
    }
    const metadata: Record<string, IndexStateMetadata> = {};
    const routing: Record<string, Record<string, ShardCopyState[]>> = {};
    for (const chunk of chunkNames(names)) {
      const res = await this.#transport.request<Body | undefined>('read index creation dates', {
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
      Object.assign(metadata, res.body?.metadata?.indices ?? {});
      for (const [name, table] of Object.entries(res.body?.routing_table?.indices ?? {})) {
        if (table.shards !== undefined) routing[name] = table.shards;
      }
    }
    return { metadata, routing };
  }

  /**
   * Creates the index unless it exists (an index another caller created first is no error).
   * For small indices of ccr-follow's own, such as the state index.
   */
  async createIndexIfAbsent(index: string, body: { settings: Record<string, unknown>; mappings: Record<string, unknown> }, signal?: AbortSignal): Promise<void> {
    if (await this.indexExists(index, signal)) return;
    const res = await this.#transport.request<{ error?: unknown }>('create index', {
      method: 'PUT', path: `/${encodeURIComponent(index)}`, query: { wait_for_active_shards: 1 }, body, accept: [400],
    }, signal);
    if (res.status === 200) return;
    const { esType, reason } = describeErrorBody(res.body);
    if (esType === 'resource_already_exists_exception') return;
    throw new ClusterResponseError({ alias: this.alias, operation: 'create index', statusCode: res.status, esType, reason: reason ?? 'index not created' });
  }

  /** A realtime get of one document with its seq_no and primary term; undefined when it (or its index) does not exist. */
  async getVersionedDocument(index: string, id: string, signal?: AbortSignal): Promise<VersionedDocument | undefined> {
    interface GetBody { found?: boolean; _id: string; _source?: unknown; _seq_no?: number; _primary_term?: number }
    const res = await this.#transport.request<GetBody>('get document', {
      method: 'GET', path: `/${encodeURIComponent(index)}/_doc/${encodeURIComponent(id)}`, query: { realtime: true }, accept: [404],
    }, signal);
    if (res.status === 404 || res.body.found !== true) return undefined;
    return { id: res.body._id, source: res.body._source, seqNo: res.body._seq_no ?? -1, primaryTerm: res.body._primary_term ?? 0 };
  }

  /**
   * Indexes `source` under `id` only if `condition` holds (optimistic concurrency control:
   * `op_type=create`, or `if_seq_no` + `if_primary_term`). A failed condition (409) is an answer,
   * `'conflict'`, not an error. (Not refreshed: a realtime get sees it at once, a search after a refresh.)
   */
  async putDocumentIf(index: string, id: string, source: Readonly<Record<string, unknown>>, condition: DocumentCondition, signal?: AbortSignal): Promise<{ seqNo: number; primaryTerm: number } | 'conflict'> {
    const query: Record<string, string | number> = 'absent' in condition
      ? { op_type: 'create' }
      : { if_seq_no: condition.version.seqNo, if_primary_term: condition.version.primaryTerm };
    const res = await this.#transport.request<{ _seq_no?: number; _primary_term?: number }>('write document', {
      method: 'PUT', path: `/${encodeURIComponent(index)}/_doc/${encodeURIComponent(id)}`, query, body: source, accept: [409],
    }, signal);
    if (res.status === 409) return 'conflict';
    return { seqNo: res.body._seq_no ?? -1, primaryTerm: res.body._primary_term ?? 0 };
  }

  /** Deletes one document; no error when it does not exist. */
  async deleteDocument(index: string, id: string, signal?: AbortSignal): Promise<void> {
    await this.#transport.request('delete document', {
      method: 'DELETE', path: `/${encodeURIComponent(index)}/_doc/${encodeURIComponent(id)}`, accept: [404],
    }, signal);
  }

  /**
   * Every document whose keyword `field` is `value`, with seq_no and primary term, after a
   * refresh (a search sees only refreshed documents). Pages sorted by the keyword `sortField`.
   */
  async searchVersionedDocuments(index: string, field: string, value: string, sortField: string, signal?: AbortSignal): Promise<VersionedDocument[]> {
    interface Hit { _id: string; _source?: unknown; _seq_no?: number; _primary_term?: number; sort?: unknown[] }
    await this.refresh(index, signal);
    const docs: VersionedDocument[] = [];
    const size = 1000;
    let after: unknown[] | undefined;
    for (;;) {
      const res = await this.#transport.request<{ hits?: { hits?: Hit[] } }>('search documents', {
        method: 'POST', path: `/${encodeURIComponent(index)}/_search`,
        body: {
          size, seq_no_primary_term: true, track_total_hits: false,
          query: { term: { [field]: value } }, sort: [{ [sortField]: 'asc' }],
          ...(after === undefined ? {} : { search_after: after }),
        },
      }, signal);
      const hits = res.body.hits?.hits ?? [];
      for (const h of hits) docs.push({ id: h._id, source: h._source, seqNo: h._seq_no ?? -1, primaryTerm: h._primary_term ?? 0 });
      if (hits.length < size) return docs;
      after = hits[hits.length - 1]!.sort;
    }
  }

  /** An arbitrary call for tests and tools that need an API the product does not use. */
  raw<T>(operation: string, req: Parameters<RestTransport['request']>[1], signal?: AbortSignal): Promise<{ status: number; body: T }> {
    return this.#transport.request<T>(operation, req, signal);
  }
}

/** Kept as text: `_source` for the follower; `sort` and `_index` are never read, so never built. */
const SOURCE_KEY: ReadonlySet<string> = new Set(['_source', 'sort', '_index']);

interface SearchHit<Source> { _id: string; _routing?: string; _seq_no: number; _primary_term: number; _source?: Source; _version?: number }

/**
 * A hit whose `_source` was kept as the answer's bytes (`"{}"` when the search left it out); its
 * string form is decoded only if something reads `sourceJson` (verify, tests), never on the way
 * from leader to follower.
 */
class RawHit implements SeqNoHit {
  readonly id: string;
  readonly routing: string | undefined;
  readonly seqNo: number;
  readonly primaryTerm: number;
  readonly version?: number;
  readonly sizeInBytes: number;
  readonly #source: RawJson | undefined;

  constructor(h: SearchHit<RawJson>) {
    this.id = h._id;
    this.routing = h._routing;
    this.seqNo = h._seq_no;
    this.primaryTerm = h._primary_term;
    if (h._version !== undefined) this.version = h._version;
    this.#source = h._source;
    this.sizeInBytes = (h._source?.bytes ?? 2) + Buffer.byteLength(h._id) + 64;
  }

  get sourceJson(): string {
    return this.#source?.raw ?? '{}';
  }

  get sourceBytes(): Uint8Array {
    return this.#source?.utf8 ?? EMPTY_OBJECT;
  }
}

const EMPTY_OBJECT = Buffer.from('{}');

/** A bulk answer filtered to `errors,items…` that says no item failed (both flavors put `errors` first once `took` is filtered out). */
const BULK_WITHOUT_ERRORS = /^\s*\{\s*"errors"\s*:\s*false\b/;
/** An item's `_seq_no` in such an answer (no error text there that could hold the same words). */
const ITEM_SEQ_NO = /"_seq_no"\s*:\s*(\d+)/g;

/**
 * The ndjson body of an external-version bulk, written into one buffer: action lines as text,
 * each source as the bytes it came in (built per operation replicated, so no intermediate strings;
 * JSON.stringify of each action object once cost 10% of the daemon's CPU).
 */
export function externalBulkBody(ops: readonly ExternalOp[]): Buffer {
  const actions: string[] = new Array<string>(ops.length);
  let length = 0;
  for (const [i, op] of ops.entries()) {
    const routing = op.routing === undefined ? '' : `,"routing":${JSON.stringify(op.routing)}`;
    const action = `{"${op.op}":{"_id":${JSON.stringify(op.id)},"version":${op.version},"version_type":"external"${routing}}}\n`;
    actions[i] = action;
    length += Buffer.byteLength(action);
    if (op.op === 'index') length += (typeof op.sourceJson === 'string' ? Buffer.byteLength(op.sourceJson) : op.sourceJson.length) + 1;
  }
  const body = Buffer.allocUnsafe(length);
  let at = 0;
  for (const [i, op] of ops.entries()) {
    at += body.write(actions[i]!, at, 'utf8');
    if (op.op !== 'index') continue;
    if (typeof op.sourceJson === 'string') at += body.write(op.sourceJson, at, 'utf8');
    else {
      body.set(op.sourceJson, at);
      at += op.sourceJson.length;
    }
    body[at] = 0x0a;
    at += 1;
  }
  return body;
}

function rawHit(h: SearchHit<RawJson>): SeqNoHit {
  return new RawHit(h);
}

interface ClusterStateIndex {
  state?: string;
  mapping_version?: number;
  settings_version?: number;
  aliases_version?: number;
  routing_num_shards?: number;
  settings?: { index?: { uuid?: string } };
}

const VERSIONS_FILTER = [
  'metadata.indices.*.state', 'metadata.indices.*.mapping_version', 'metadata.indices.*.settings_version',
  'metadata.indices.*.aliases_version', 'metadata.indices.*.settings.index.uuid',
].join(',');

function toVersions(s: ClusterStateIndex): IndexVersions {
  return {
    mappingVersion: s.mapping_version ?? 0, settingsVersion: s.settings_version ?? 0, aliasesVersion: s.aliases_version ?? 0,
    uuid: s.settings?.index?.uuid ?? '',
  };
}

/** Each shard's primary sequence numbers from a `_stats?level=shards` entry; undefined when a primary has none (not started). */
function primaryStates(shards: Record<string, { routing?: { primary?: boolean }; seq_no?: { global_checkpoint: number; max_seq_no: number; local_checkpoint: number } }[]>): ShardSeqNoState[] | undefined {
  const result: ShardSeqNoState[] = [];
  for (const [shardId, copies] of Object.entries(shards)) {
    const seqNo = copies.find((c) => c.routing?.primary === true)?.seq_no;
    if (seqNo === undefined) return undefined;
    result.push({ shard: Number(shardId), globalCheckpoint: seqNo.global_checkpoint, maxSeqNo: seqNo.max_seq_no, localCheckpoint: seqNo.local_checkpoint });
  }
  return result.sort((a, b) => a.shard - b.shard);
}
