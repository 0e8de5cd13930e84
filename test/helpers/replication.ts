/**
 * Helpers for replication tests against real clusters: an in-process daemon, a randomized
 * workload, convergence waits and a shard-by-shard, document-by-document comparison.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterClient } from '../../src/cluster/cluster-client.js';
import { ClusterRegistry } from '../../src/cluster/cluster-registry.js';
import type { ClusterConfig } from '../../src/cluster/cluster-config.js';
import type { DocumentWrite } from '../../src/cluster/types.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { defaultConfig } from '../../src/daemon/config.js';
import type { FollowerIndexStats } from '../../src/follow/index-follower.js';
import { exactCanonical } from '../../src/cluster/exact-json.js';
import { silentLogger, type Logger, type MemoryLogger } from '../../src/util/logger.js';
import type { TestCluster } from './clusters.js';
import { mulberry32 } from './prng.js';
import { waitFor } from './wait-for.js';

export interface TestDaemon {
  readonly daemon: Daemon;
  readonly stateDir: string;
  stop(): Promise<void>;
}

/** A daemon in this process with clusters `leader` and `follower`, on a free control port. */
/** With `stateIndex`, the daemon keeps its state in that index of the follower cluster instead of `stateDir`. */
export async function startTestDaemon(opts: { leader: TestCluster; follower: TestCluster; stateDir?: string; stateIndex?: string; logger?: Logger }): Promise<TestDaemon> {
  const stateDir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), 'ccr-follow-state-')));
  const clusters = new Map<string, ClusterConfig>([
    ['leader', opts.leader.clusterConfig('leader')],
    ['follower', opts.follower.clusterConfig('follower')],
  ]);
  const config = {
    ...defaultConfig(stateDir), clusters, stateDir, control: { host: '127.0.0.1', port: 0 },
    ...(opts.stateIndex === undefined ? {} : { stateCluster: { alias: 'follower', index: opts.stateIndex } }),
  };
  const daemon = await Daemon.start({ config, logger: opts.logger ?? silentLogger, clusters: new ClusterRegistry(clusters), checkpointIntervalMs: 200, historyIntervalMs: 1000 });
  return { daemon, stateDir, stop: () => daemon.stop() };
}

export async function connect(cluster: TestCluster, alias: string = cluster.role): Promise<ClusterClient> {
  return ClusterClient.connect(cluster.clusterConfig(alias));
}


export interface WorkloadOptions {
  readonly seed: number;
  /** Distinct ids; fewer ids mean more updates of the same documents. */
  readonly ids: number;
  readonly batchSize?: number;
  /** Share of documents written with a custom routing value. */
  readonly routedShare?: number;
  /** Share of operations that are deletes (default 0). */
  readonly deleteShare?: number;
}

/**
 * A randomized stream of index and update operations: ids drawn from a small pool so documents
 * are rewritten many times, some with a custom routing (always the same one per id, as an
 * application would), payloads of varying size.
 */
export class RandomWorkload {
  readonly #random: () => number;
  #batches = 0;
  #ops = 0;

  constructor(private readonly client: ClusterClient, private readonly index: string, private readonly opts: WorkloadOptions) {
    this.#random = mulberry32(opts.seed);
  }

  get operations(): number {
    return this.#ops;
  }

  async writeBatch(): Promise<void> {
    const size = this.opts.batchSize ?? 200;
    const docs: DocumentWrite[] = [];
    this.#batches += 1;
    for (let i = 0; i < size; i += 1) {
      const n = Math.floor(this.#random() * this.opts.ids);
      const id = `doc-${n}`;
      const routing = n < this.opts.ids * (this.opts.routedShare ?? 0.3) ? `r${n % 7}` : undefined;
      if (this.#random() < (this.opts.deleteShare ?? 0)) {
        docs.push({ op: 'delete', id, ...(routing === undefined ? {} : { routing }) });
      } else {
        const text = 'x'.repeat(Math.floor(this.#random() * 200));
        docs.push({ op: 'index', id, ...(routing === undefined ? {} : { routing }), source: { n, batch: this.#batches, i, text, tags: [`t${n % 5}`], value: this.#random() } });
      }
    }
    await this.client.writeDocuments(this.index, docs);
    this.#ops += docs.length;
  }

  async run(batches: number): Promise<void> {
    for (let b = 0; b < batches; b += 1) await this.writeBatch();
  }
}

export async function createLeaderIndex(client: ClusterClient, index: string, opts: { shards?: number; refreshInterval?: string; mappings?: Record<string, unknown> } = {}): Promise<void> {
  await client.createIndex(index, {
    settings: {
      'index.number_of_shards': opts.shards ?? 3,
      'index.number_of_replicas': 0,
      ...(opts.refreshInterval ? { 'index.refresh_interval': opts.refreshInterval } : {}),
    },
    mappings: opts.mappings ?? { properties: { n: { type: 'integer' }, batch: { type: 'integer' }, text: { type: 'text' }, tags: { type: 'keyword' } } },
  });
}

export interface ShardDoc {
  readonly routing: string | undefined;
  readonly source: string;
}

/** Every live document of one shard: id → routing and canonical `_source`. */
export async function shardDocuments(client: ClusterClient, index: string, shard: number): Promise<Map<string, ShardDoc>> {
  const docs = new Map<string, ShardDoc>();
  let after: number | undefined;
  for (;;) {
    const hits = await client.searchShardBySeqNo(index, { shard, fromExclusive: -1, toInclusive: Number.MAX_SAFE_INTEGER, size: 5000, searchAfter: after });
    for (const h of hits) docs.set(h.id, { routing: h.routing, source: exactCanonical(h.sourceJson) });
    if (hits.length < 5000) return docs;
    after = hits[hits.length - 1]!.seqNo;
  }
}


/**
 * Compares leader and follower shard by shard, document by document (ids, routing, `_source`).
 * Returns a list of differences, empty when identical. Both indices are refreshed first.
 */
export async function compareIndices(leader: ClusterClient, leaderIndex: string, follower: ClusterClient, followerIndex: string): Promise<string[]> {
  await Promise.all([leader.refresh(leaderIndex), follower.refresh(followerIndex)]);
  const [lm, fm] = await Promise.all([leader.indexMetadata(leaderIndex), follower.indexMetadata(followerIndex)]);
  const diffs: string[] = [];
  if (lm.numberOfShards !== fm.numberOfShards) return [`shard count ${lm.numberOfShards} vs ${fm.numberOfShards}`];
  let total = 0;
  for (let shard = 0; shard < lm.numberOfShards; shard += 1) {
    const [l, f] = await Promise.all([shardDocuments(leader, leaderIndex, shard), shardDocuments(follower, followerIndex, shard)]);
    total += l.size;
    for (const [id, doc] of l) {
      const other = f.get(id);
      if (!other) diffs.push(`shard ${shard}: [${id}] missing on the follower`);
      else if (other.routing !== doc.routing) diffs.push(`shard ${shard}: [${id}] routing ${doc.routing} vs ${other.routing}`);
      else if (other.source !== doc.source) diffs.push(`shard ${shard}: [${id}] _source differs`);
    }
    for (const id of f.keys()) if (!l.has(id)) diffs.push(`shard ${shard}: [${id}] on the follower only`);
  }
  if (total === 0) diffs.push('the leader index is empty: nothing was compared');
  return diffs.slice(0, 20);
}

export function statsOf(daemon: Daemon, followerIndex: string): FollowerIndexStats {
  const stats = daemon.manager.stats(`follower/${followerIndex}`)[0];
  if (!stats) throw new Error(`no stats for follower/${followerIndex}`);
  return stats;
}

/**
 * Waits until every shard's follower checkpoint has reached the leader's current global
 * checkpoint (read from the leader itself, not from our stats), failing fast on a fatal error.
 */
export async function waitForCaughtUp(daemon: Daemon, leader: ClusterClient, leaderIndex: string, followerIndex: string, timeoutMs = 120_000): Promise<void> {
  const outcome = await waitFor(async () => {
    const stats = statsOf(daemon, followerIndex);
    if (stats.fatal_exception) return `follower paused: ${stats.fatal_exception.type}: ${stats.fatal_exception.reason}`;
    const leaderShards = await leader.shardSeqNos(leaderIndex);
    if (stats.shards.length !== leaderShards.length) return false;
    const caughtUp = leaderShards.every((l) => (stats.shards.find((s) => s.shard_id === l.shard)?.follower_global_checkpoint ?? -2) >= l.globalCheckpoint);
    return caughtUp ? 'caught up' : false;
  }, { timeoutMs, intervalMs: 200, message: () => `follower/${followerIndex} to catch up: ${JSON.stringify(statsOf(daemon, followerIndex).shards.map((s) => [s.follower_global_checkpoint, s.leader_global_checkpoint, s.state]))}` });
  // A fatal error ends the wait at once: the test fails with the follower's own reason.
  if (outcome !== 'caught up') throw new Error(outcome);
}

export async function countDocs(client: ClusterClient, index: string): Promise<number> {
  const res = await client.raw<{ count: number }>('count', { method: 'GET', path: `/${index}/_count` });
  return res.body.count;
}

/** What an index holds, by its own sequence numbers: any applied operation changes it. */
export async function indexSnapshot(client: ClusterClient, index: string): Promise<{ maxSeqNos: number[]; docs: number }> {
  await client.refresh(index);
  const [shards, docs] = await Promise.all([client.shardSeqNos(index), countDocs(client, index)]);
  return { maxSeqNos: shards.map((s) => s.maxSeqNo), docs };
}

export function sumOf<T>(items: readonly T[], f: (item: T) => number): number {
  return items.reduce((sum, item) => sum + f(item), 0);
}

/** Polls `condition` for `durationMs` (waitFor-based) and fails if it is ever false. */
export async function expectStaysTrue(condition: () => Promise<boolean>, durationMs: number, what: string): Promise<void> {
  const until = Date.now() + durationMs;
  let samples = 0;
  let broken = false;
  await waitFor(async () => {
    samples += 1;
    if (!(await condition())) broken = true;
    return broken || Date.now() >= until;
  }, { timeoutMs: durationMs + 30_000, intervalMs: 250, message: what });
  if (broken) throw new Error(`${what} (broken at sample ${samples})`);
  if (samples < 2) throw new Error(`${what}: only ${samples} sample(s) taken`);
}

/**
 * The primary term of every shard of `index`, from the cluster state's index metadata (shard
 * number → term). A primary that starts again — a node restart — gets a higher term.
 */
export async function primaryTerms(client: ClusterClient, index: string): Promise<number[]> {
  const res = await client.raw<{ metadata?: { indices?: Record<string, { primary_terms?: Record<string, number> }> } }>('read primary terms', {
    method: 'GET', path: `/_cluster/state/metadata/${encodeURIComponent(index)}`, query: { filter_path: 'metadata.indices.*.primary_terms' },
  });
  const terms = Object.values(res.body.metadata?.indices ?? {})[0]?.primary_terms;
  if (!terms) throw new Error(`no primary terms for [${index}] in the cluster state`);
  return Object.entries(terms).sort(([a], [b]) => Number(a) - Number(b)).map(([, term]) => term);
}

/** Every live document of `index`, shard by shard (index = shard number); the index is refreshed first. */
export async function indexDocuments(client: ClusterClient, index: string): Promise<Map<string, ShardDoc>[]> {
  await client.refresh(index);
  const { numberOfShards } = await client.indexMetadata(index);
  const shards: Map<string, ShardDoc>[] = [];
  for (let shard = 0; shard < numberOfShards; shard += 1) shards.push(await shardDocuments(client, index, shard));
  return shards;
}

/**
 * Compares an index with documents captured earlier (indexDocuments) — e.g. a leader index that
 * no longer exists — document by document: ids, routing and `_source`, nothing missing, nothing
 * extra. Returns the differences, empty when identical.
 */
export async function compareWithDocuments(expected: readonly Map<string, ShardDoc>[], client: ClusterClient, index: string): Promise<string[]> {
  const actual = await indexDocuments(client, index);
  if (actual.length !== expected.length) return [`shard count ${expected.length} vs ${actual.length}`];
  const diffs: string[] = [];
  expected.forEach((l, shard) => {
    const f = actual[shard]!;
    for (const [id, doc] of l) {
      const other = f.get(id);
      if (!other) diffs.push(`shard ${shard}: [${id}] missing`);
      else if (other.routing !== doc.routing) diffs.push(`shard ${shard}: [${id}] routing ${doc.routing} vs ${other.routing}`);
      else if (other.source !== doc.source) diffs.push(`shard ${shard}: [${id}] _source differs`);
    }
    for (const id of f.keys()) if (!l.has(id)) diffs.push(`shard ${shard}: [${id}] not expected`);
  });
  if (expected.every((m) => m.size === 0)) diffs.push('nothing was expected: nothing was compared');
  return diffs.slice(0, 20);
}

/** After a failed test: the daemon's last non-debug log entries, which usually say why. */
export function printRecentLog(logger: MemoryLogger, limit = 40): void {
  const recent = logger.entries.filter((e) => e.level !== 'debug').slice(-limit);
  console.log(`      daemon log (last ${recent.length} entries):\n${recent.map((e) => `        ${e.level} ${e.message} ${JSON.stringify(e.meta)}`).join('\n')}`);
}
