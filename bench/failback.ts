/**
 * `npm run bench:failback`: fail-back by difference against a full re-bootstrap (README, "Fail back").
 *
 * On a fresh Elasticsearch 8 leader node and OpenSearch 2 follower node started here
 * (src/local-cluster) and one real daemon as a child process, per repetition: an index of
 * BENCH_DOCS log-like documents (3 shards) on the leader, followed until caught up, then promoted
 * (planned, the leader node running; BENCH_STOP_LEADER=1 stops the leader node for the promotion
 * and starts it again). Then 2 % of the documents change: on the promoted index 1.5 % updated,
 * 0.25 % new ids, 0.25 % deleted; on the old leader 0.1 % written after the promotion (lost writes).
 * Measured:
 *  - fail-back: from the `failback` request until the reverse follow has caught up with the
 *    promoted index, then the old leader compared to it document by document (must be identical);
 *    documents written into the old leader (its operations since, by max_seq_no), lost writes;
 *  - a full re-bootstrap of the same promoted index into a fresh index on the old leader's
 *    cluster (an ordinary follow), until caught up, compared the same way; documents written.
 * Writes bench/results/<date>-failback.json and .md and prints the table.
 *
 * Environment: BENCH_DOCS (200000), BENCH_REPS (1; with more, medians), BENCH_HEAP (1g, as the
 * other benches), BENCH_SEED, BENCH_STOP_LEADER=1. Development: BENCH_DOCS=20000.
 * One repetition by default: each loads and first follows its own index, so at 200,000 documents
 * one takes an estimated 5 to 9 minutes on 2 shared cores (10 times the 28 to 57 s a
 * 20,000-document repetition took here, nodes' start not counted), and three would not fit in 10.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterClient } from '../src/cluster/cluster-client.js';
import type { FailbackAnswer } from '../src/follow/follow-manager.js';
import type { FollowerIndexStats } from '../src/follow/index-follower.js';
import { ELASTICSEARCH_8, OPENSEARCH_2 } from '../src/local-cluster/index.js';
import { compareIndices } from '../src/verify/compare-indices.js';
import type { DaemonProcess } from '../test/helpers/daemon-process.js';
import { waitFor } from '../test/helpers/wait-for.js';
import { chooseChanges, DEFAULT_SHARES, lostWriteCount, promotedChangeCount, type ChangeSet } from './lib/change-set.js';
import { runBench, startDaemon, startPair, type BenchNode } from './lib/context.js';
import { documentId, documentJson } from './lib/docs.js';
import { int } from './lib/env.js';
import { Rest } from './lib/http.js';
import { loadLeader } from './lib/phases.js';
import { loadAverage, loadNote, writeResults } from './lib/results.js';
import { summarize } from './lib/stats.js';

/** Each wait (catch-up of 200,000 documents on a shared machine included) gives up after this. */
const WAIT_MS = 30 * 60_000;
const BULK = 5000;

interface Config {
  readonly docs: number;
  readonly reps: number;
  readonly heap: string;
  readonly seed: number;
  readonly stopLeader: boolean;
}

function config(): Config {
  const stop = process.env['BENCH_STOP_LEADER'] ?? '0';
  if (stop !== '0' && stop !== '1') throw new Error(`BENCH_STOP_LEADER must be 0 or 1, got ${stop}`);
  return { docs: int('BENCH_DOCS', 200_000), reps: int('BENCH_REPS', 1), heap: process.env['BENCH_HEAP'] ?? '1g', seed: int('BENCH_SEED', 20261122), stopLeader: stop === '1' };
}

interface Repetition {
  readonly rep: number;
  /** The whole repetition: load, first follow, promotion, changes, both measurements and their checks. */
  readonly repMillis: number;
  /** The first follow of the leader index (a bootstrap Elasticsearch → OpenSearch), for context. */
  readonly initialFollowMillis: number;
  readonly promotedChanges: number;
  readonly failback: {
    /** From the request to the reverse follow caught up. */
    readonly millis: number;
    /** The request alone (plan, lost writes saved, put back and deleted). */
    readonly requestMillis: number;
    /** Operations the old leader index took (its max_seq_no summed over shards, before and after). */
    readonly documentsWritten: number;
    /** What the daemon says it wrote: the fail-back request's own writes, and the reverse follow's. */
    readonly failbackWrites: number;
    readonly followWrites: number;
    readonly lostWrites: number;
    readonly lostWritesInFile: number;
    readonly verifyMillis: number;
  };
  readonly rebootstrap: {
    readonly millis: number;
    /** Operations the fresh index took (its max_seq_no + 1, summed over shards). */
    readonly documentsWritten: number;
    readonly followWrites: number;
    readonly verifyMillis: number;
  };
}

const started = Date.now();
function log(msg: string): void {
  console.log(`[bench:failback ${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${msg}`);
}

/** Index and delete actions as NDJSON `_bulk` bodies of at most BULK actions; sources of `n` drawn with `seed`. */
function changeBodies(seed: number, writes: readonly number[], deletes: readonly number[]): string[] {
  const lines = [
    ...writes.map((n) => `{"index":{"_id":"${documentId('d', n)}"}}\n${documentJson(seed, n)}\n`),
    ...deletes.map((n) => `{"delete":{"_id":"${documentId('d', n)}"}}\n`),
  ];
  const bodies: string[] = [];
  for (let i = 0; i < lines.length; i += BULK) bodies.push(lines.slice(i, i + BULK).join(''));
  return bodies;
}

async function writeChanges(node: BenchNode, index: string, bodies: readonly string[]): Promise<void> {
  for (const body of bodies) await node.rest.bulk(index, body);
}

/** Operations an index has taken: max_seq_no + 1 summed over its primaries. */
async function operations(node: BenchNode, index: string): Promise<number> {
  return [...(await node.rest.shardSeqNos(index)).values()].reduce((sum, s) => sum + s.maxSeqNo + 1, 0);
}

async function followerStats(daemon: DaemonProcess, key: string): Promise<FollowerIndexStats> {
  const s = (await daemon.api<{ indices: FollowerIndexStats[] }>('GET', `/${key}/_ccr/stats`)).indices[0];
  if (!s) throw new Error(`${key}: the daemon has no stats for it`);
  const fatal = s.fatal_exception ?? s.shards.find((sh) => sh.fatal_exception !== undefined)?.fatal_exception;
  if (fatal) throw new Error(`${key} failed: ${fatal.type}: ${fatal.reason}`);
  return s;
}

/** Until every shard of follower `key` has applied its leader's operations up to `maxSeqNos` (per shard). */
async function waitCaughtUp(daemon: DaemonProcess, key: string, maxSeqNos: ReadonlyMap<number, number>): Promise<FollowerIndexStats> {
  return waitFor(async () => {
    if (!daemon.running) throw new Error('the daemon exited');
    const s = await followerStats(daemon, key);
    const done = s.shards.length === maxSeqNos.size
      && s.shards.every((sh) => sh.follower_global_checkpoint >= (maxSeqNos.get(sh.shard_id) ?? Infinity));
    return done ? s : false;
  }, { timeoutMs: WAIT_MS, intervalMs: 250, message: `${key} to catch up` });
}

/** Compares the two indices document by document (the project's verify); throws unless identical. */
async function verify(promoted: ClusterClient, promotedIndex: string, old: ClusterClient, index: string): Promise<number> {
  const report = await compareIndices({ client: promoted, index: promotedIndex }, { client: old, index });
  if (!report.identical) {
    const bad = report.shards.filter((s) => s.missing_on_follower + s.extra_on_follower + s.different > 0);
    throw new Error(`leader/${index} is not equal to follower/${promotedIndex}: ${JSON.stringify(bad)}`);
  }
  return report.took_millis;
}

async function maxSeqNos(node: BenchNode, index: string): Promise<Map<number, number>> {
  return new Map([...(await node.rest.shardSeqNos(index))].map(([shard, s]) => [shard, s.maxSeqNo]));
}

interface Nodes {
  readonly leader: BenchNode;
  readonly follower: BenchNode;
  readonly daemon: DaemonProcess;
  /** The daemon's control API with a timeout long enough for a fail-back request over 200,000 documents. */
  readonly control: Rest;
  readonly leaderClient: ClusterClient;
  readonly followerClient: ClusterClient;
}

async function repetition(cfg: Config, n: Nodes, rep: number): Promise<Repetition> {
  const { leader, follower, daemon, control } = n;
  const oldIndex = `failback-${rep}`;
  const promotedIndex = `failback-${rep}-promoted`;
  const freshIndex = `failback-${rep}-rebootstrap`;
  const seed = cfg.seed + rep;
  const changes: ChangeSet = chooseChanges(cfg.docs, DEFAULT_SHARES, seed);
  const repStarted = performance.now();

  await loadLeader({ leader, seed, log }, oldIndex, cfg.docs);
  const followStarted = performance.now();
  await daemon.api('PUT', `/follower/${promotedIndex}/_ccr/follow`, { remote_cluster: 'leader', leader_index: oldIndex });
  await waitCaughtUp(daemon, `follower/${promotedIndex}`, await maxSeqNos(leader, oldIndex));
  const initialFollowMillis = performance.now() - followStarted;
  log(`rep ${rep}: follower/${promotedIndex} caught up with ${cfg.docs} documents in ${seconds(initialFollowMillis)}`);

  if (cfg.stopLeader) await leader.local.stop();
  try {
    await control.request('POST', `/follower/${promotedIndex}/_ccr/promote`, {}, WAIT_MS);
  } finally {
    if (cfg.stopLeader) await leader.local.start();
  }
  log(`rep ${rep}: follower/${promotedIndex} promoted${cfg.stopLeader ? ' with the leader node stopped' : ''}`);

  await writeChanges(follower, promotedIndex, changeBodies(seed + 1, [...changes.updated, ...changes.created], changes.deleted));
  await writeChanges(leader, oldIndex, changeBodies(seed + 2, [...changes.lostUpdated, ...changes.lostCreated], changes.lostDeleted));
  const expectedLost = lostWriteCount(changes);
  log(`rep ${rep}: ${promotedChangeCount(changes)} documents changed on the promoted index, ${expectedLost} lost writes on the old leader`);

  // The reverse follow has caught up when it has applied every operation the promoted index took.
  const target = await maxSeqNos(follower, promotedIndex);
  const before = await operations(leader, oldIndex);
  const dir = await mkdtemp(join(tmpdir(), 'ccr-bench-failback-'));
  try {
    const lostFile = join(dir, 'lost-writes.ndjson');
    const failbackStarted = performance.now();
    const answer = await control.request<FailbackAnswer>('POST', `/leader/${oldIndex}/_ccr/failback`,
      { remote_cluster: 'follower', leader_index: promotedIndex, lost_writes_file: lostFile }, WAIT_MS);
    const requestMillis = performance.now() - failbackStarted;
    const reverse = await waitCaughtUp(daemon, `leader/${oldIndex}`, target);
    const failbackMillis = performance.now() - failbackStarted;
    const failbackVerify = await verify(n.followerClient, promotedIndex, n.leaderClient, oldIndex);
    const lostWritesInFile = (await readFile(lostFile, 'utf8')).split('\n').filter((l) => l.trim() !== '').length;
    if (answer.lost_writes !== expectedLost || lostWritesInFile !== expectedLost) {
      throw new Error(`fail-back counted ${answer.lost_writes} lost writes and saved ${lostWritesInFile}, expected ${expectedLost}`);
    }
    const failback = {
      millis: failbackMillis, requestMillis, documentsWritten: (await operations(leader, oldIndex)) - before,
      failbackWrites: answer.documents_written, followWrites: reverse.operations_written,
      lostWrites: answer.lost_writes, lostWritesInFile, verifyMillis: failbackVerify,
    };
    log(`rep ${rep}: fail-back caught up in ${seconds(failback.millis)} (request ${seconds(requestMillis)}), ${failback.documentsWritten} documents written, `
      + `${failback.lostWrites} lost writes; identical (compared in ${seconds(failbackVerify)})`);
    // Quiet while the baseline runs: nothing more reaches the promoted index anyway.
    await daemon.api('POST', `/leader/${oldIndex}/_ccr/pause_follow`);

    const freshStarted = performance.now();
    await daemon.api('PUT', `/leader/${freshIndex}/_ccr/follow`, { remote_cluster: 'follower', leader_index: promotedIndex });
    const fresh = await waitCaughtUp(daemon, `leader/${freshIndex}`, target);
    const freshMillis = performance.now() - freshStarted;
    const rebootstrap = {
      millis: freshMillis, documentsWritten: await operations(leader, freshIndex), followWrites: fresh.operations_written,
      verifyMillis: await verify(n.followerClient, promotedIndex, n.leaderClient, freshIndex),
    };
    log(`rep ${rep}: re-bootstrap caught up in ${seconds(rebootstrap.millis)}, ${rebootstrap.documentsWritten} documents written; identical (compared in ${seconds(rebootstrap.verifyMillis)})`);

    for (const index of [oldIndex, freshIndex]) {
      if (index === freshIndex) await daemon.api('POST', `/leader/${index}/_ccr/pause_follow`);
      await daemon.api('POST', `/leader/${index}/_ccr/unfollow`);
      await leader.rest.deleteIndex(index);
    }
    await follower.rest.deleteIndex(promotedIndex);
    return { rep, repMillis: performance.now() - repStarted, initialFollowMillis, promotedChanges: promotedChangeCount(changes), failback, rebootstrap };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function median(reps: readonly Repetition[], f: (r: Repetition) => number): number {
  return summarize(reps.map(f))?.median ?? NaN;
}

function report(cfg: Config, leader: BenchNode, follower: BenchNode, reps: readonly Repetition[]): { text: string; medians: Record<string, number> } {
  const medians = {
    failbackMillis: median(reps, (r) => r.failback.millis),
    rebootstrapMillis: median(reps, (r) => r.rebootstrap.millis),
    /** Of the medians, as the table shows them (each repetition's own ratio is in its row). */
    timeRatio: median(reps, (r) => r.failback.millis) / median(reps, (r) => r.rebootstrap.millis),
    failbackDocuments: median(reps, (r) => r.failback.documentsWritten),
    rebootstrapDocuments: median(reps, (r) => r.rebootstrap.documentsWritten),
    documentsRatio: median(reps, (r) => r.failback.documentsWritten) / median(reps, (r) => r.rebootstrap.documentsWritten),
    lostWrites: median(reps, (r) => r.failback.lostWrites),
  };
  const rows = reps.map((r) => `| ${r.rep} | ${seconds(r.failback.millis)} (request ${seconds(r.failback.requestMillis)}) | ${seconds(r.rebootstrap.millis)} | `
    + `${(r.failback.millis / r.rebootstrap.millis).toFixed(3)} | ${r.failback.documentsWritten} | ${r.rebootstrap.documentsWritten} | `
    + `${(r.failback.documentsWritten / r.rebootstrap.documentsWritten).toFixed(4)} | ${r.failback.lostWrites} | ${seconds(r.initialFollowMillis)} | ${seconds(r.repMillis)} |`);
  const promotion = cfg.stopLeader ? 'leader node stopped for the promotion and started again' : 'planned promotion (leader node running)';
  const text = [
    `# Fail back by difference vs a full re-bootstrap`,
    '',
    `${leader.label} leader, ${follower.label} follower, one daemon, heap ${cfg.heap}; ${cfg.docs} log-like documents, 3 shards; ${promotion}. `
      + `After the promotion: ${reps[0]?.promotedChanges ?? 0} documents changed on the promoted index (1.5 % updated, 0.25 % new, 0.25 % deleted) `
      + `and ${reps[0]?.failback.lostWrites ?? 0} lost writes on the old leader (0.1 %). Both copies were compared to the promoted index document by document: identical.`,
    '',
    `| median of ${reps.length} | fail-back | full re-bootstrap | ratio of the medians |`,
    `| --- | ---: | ---: | ---: |`,
    `| wall time | ${seconds(medians.failbackMillis)} | ${seconds(medians.rebootstrapMillis)} | ${medians.timeRatio.toFixed(3)} |`,
    `| documents written into the old leader's cluster | ${medians.failbackDocuments} | ${medians.rebootstrapDocuments} | ${medians.documentsRatio.toFixed(4)} |`,
    `| lost writes saved | ${medians.lostWrites} | - | |`,
    '',
    `| rep | fail-back until caught up | re-bootstrap until caught up | time ratio | fail-back documents | re-bootstrap documents | documents ratio | lost writes | first follow | whole repetition |`,
    `| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...rows,
    '',
    `Wall time: from the request (fail-back: POST …/_ccr/failback; re-bootstrap: PUT …/_ccr/follow of a fresh index) until every shard of the old leader's cluster `
      + `has applied the promoted index's operations. Documents written: operations the index took on the old leader's cluster (max_seq_no), `
      + `the fail-back's own puts and deletes included.`,
  ].join('\n');
  return { text, medians };
}

async function main(): Promise<void> {
  const cfg = config();
  const loadStart = loadAverage();
  log(`load average at the start: ${loadStart.join(' ')}`);
  const { leader, follower } = await startPair('es-os', cfg.heap, log, [ELASTICSEARCH_8, OPENSEARCH_2]);
  const daemon = await startDaemon(leader, follower);
  const clientConfig = (alias: string, url: string) => ({ alias, urls: [url], auth: { type: 'none' as const }, requestTimeoutMs: 120_000 });
  const [leaderClient, followerClient] = await Promise.all([
    ClusterClient.connect(clientConfig('leader', leader.local.url)), ClusterClient.connect(clientConfig('follower', follower.local.url)),
  ]);
  try {
    const nodes: Nodes = { leader, follower, daemon, control: new Rest(daemon.url), leaderClient, followerClient };
    const reps: Repetition[] = [];
    for (let rep = 1; rep <= cfg.reps; rep++) reps.push(await repetition(cfg, nodes, rep));
    const loadEnd = loadAverage();
    const { text, medians } = report(cfg, leader, follower, reps);
    const note = loadNote(loadStart, loadEnd);
    console.log(`\n${text}\n\n${note}\n`);
    const base = await writeResults('failback', {
      config: cfg, leader: leader.label, follower: follower.label, shares: DEFAULT_SHARES, load: { start: loadStart, end: loadEnd }, medians, reps,
    }, `${text}\n\n${note}\n`);
    log(`wrote ${base}.json and .md`);
  } finally {
    await Promise.all([leaderClient.close(), followerClient.close()]);
    await daemon.stop().catch(() => undefined);
  }
}

runBench(main);
