/**
 * `npm run bench:idle`: what one daemon costs while its followers are idle, at 10, 100 and 500
 * followed indices (README, "Many followers: the idle cost").
 *
 * One leader and one follower node are started once (src/local-cluster). Per count N: N leader
 * indices of 1 shard and a few documents (names unique per count, deleted on both sides after it);
 * as a baseline, the follower cluster creating N empty indices itself (what each start must do at
 * least; then deleted); a cold daemon (a child process with an empty state directory); all N followed at once through
 * concurrent `PUT /follower/<index>/_ccr/follow` (bounded in flight), timed from the first request
 * until every follower holds every document (cold start). Once the start's requests are over (the
 * daemon's own request rates show only its probes, and each shard has had three reconciliation
 * passes), an idle window: requests per second each node served (`_nodes/usage`, per action), the
 * daemon's own count per purpose (stats), its CPU (/proc) and RSS. Then single writes, each to a
 * random index after 1–2 s of quiet, timed from the leader's acknowledgement until a GET on the
 * follower finds the document (polled every 20 ms). The daemon is stopped (by pid) between counts.
 * Writes bench/results/<date>-idle-cost.json and .md and prints the table.
 *
 * Scale by environment: BENCH_IDLE_COUNTS=10,100,500 BENCH_IDLE_SECONDS=60 BENCH_IDLE_WRITES=50
 * BENCH_IDLE_DOCS=5 (per index) BENCH_IDLE_CONCURRENCY=8 (creates and starts in flight)
 * BENCH_PAIR=es-os|es-es|os-os BENCH_HEAP=512m. Development: BENCH_IDLE_COUNTS=5,20 BENCH_IDLE_SECONDS=10
 * BENCH_IDLE_PROFILE=<dir>: the daemon runs with `--cpu-prof` into that directory, and the log names
 * each phase's offset from the daemon's start, to summarise one window of the profile with
 * `node dist/bench/lib/profile.js <file> 30 <from-ms> <until-ms>`.
 */
import type { PerPurpose, RequestStats } from '../src/cluster/request-counts.js';
import type { DaemonProcess } from '../test/helpers/daemon-process.js';
import { waitFor } from '../test/helpers/wait-for.js';
import { runBench, startDaemon, startPair, type BenchNode } from './lib/context.js';
import { followersIdle, followStats } from './lib/daemon-stats.js';
import type { PairName } from './lib/env.js';
import { createEmptyIndices, createSmallIndices, deleteIndices, mapWithLimit } from './lib/indices.js';
import { processCpuSeconds, rssBytes } from './lib/proc.js';
import { loadAverage, loadNote, writeResults } from './lib/results.js';
import { percentile } from './lib/stats.js';
import { actionRates, formatRates, restActionCounts, totalRate, type ActionCounts } from './lib/usage.js';

const PAIRS: readonly PairName[] = ['es-os', 'es-es', 'os-os'];
/** The goals, set for 500 followers (README); every count is judged against them. */
const GOALS = { coldStartSeconds: 60, leaderRate: 10, followerRate: 10, cpuPercent: 2, rssMb: 300, writeP99Ms: 1500 } as const;

interface Config {
  readonly counts: number[];
  readonly pair: PairName;
  readonly idleSeconds: number;
  readonly writes: number;
  readonly docs: number;
  readonly concurrency: number;
  readonly heap: string;
  readonly profileDir: string | undefined;
}

interface Measurement {
  readonly followers: number;
  readonly nameLength: number;
  readonly createSeconds: number;
  /**
   * Baseline, same run: the follower cluster creating as many empty indices of 1 shard itself, the
   * same number in flight (each start creates one: the cluster's master creates them one by one).
   */
  readonly followerCreateSeconds: number;
  /** From the first start request until the last was answered. */
  readonly startsSeconds: number;
  /** From the first start request until every follower held every document. */
  readonly coldStartSeconds: number;
  /** From caught up until the start's own requests were over (the idle window began after it). */
  readonly settleSeconds: number;
  readonly idleSeconds: number;
  readonly leaderRate: number;
  readonly leaderActions: ActionCounts;
  readonly followerRate: number;
  readonly followerActions: ActionCounts;
  /** The daemon's own count of requests to the leader per second, by purpose, over the idle window. */
  readonly daemonLeaderRates: PerPurpose;
  readonly cpuPercent: number;
  readonly rssMb: number;
  readonly writeMs: { p50: number; p99: number; max: number; samples: number[] };
}

const started = Date.now();
function log(msg: string): void {
  console.log(`[bench:idle ${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${msg}`);
}

function positiveInt(name: string, def: number): number {
  const raw = process.env[name];
  const v = raw === undefined || raw === '' ? def : Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: expected a positive integer, got ${raw}`);
  return v;
}

function config(): Config {
  const counts = (process.env['BENCH_IDLE_COUNTS'] ?? '10,100,500').split(',').map((c) => Number(c.trim()));
  if (counts.some((c) => !Number.isInteger(c) || c < 1 || c > 9999)) throw new Error('BENCH_IDLE_COUNTS: expected integers from 1 to 9999 separated by commas');
  const pair = (process.env['BENCH_PAIR'] ?? 'es-os') as PairName;
  if (!PAIRS.includes(pair)) throw new Error(`BENCH_PAIR: expected one of ${PAIRS.join(', ')}`);
  return {
    counts, pair,
    idleSeconds: positiveInt('BENCH_IDLE_SECONDS', 60),
    writes: positiveInt('BENCH_IDLE_WRITES', 50),
    docs: positiveInt('BENCH_IDLE_DOCS', 5),
    concurrency: positiveInt('BENCH_IDLE_CONCURRENCY', 8),
    heap: process.env['BENCH_HEAP'] ?? '512m',
    profileDir: process.env['BENCH_IDLE_PROFILE'] || undefined,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => { setTimeout(resolve, ms); });

/** 25 characters, as the README's computed table assumes (`logs-t0042-s0500-26.12.07`). */
function indexName(count: number, i: number): string {
  return `logs-t${String(i).padStart(4, '0')}-s${String(count).padStart(4, '0')}-26.12.07`;
}

/** The daemon's requests to the leader since it started (the same for every follower of that leader). */
async function leaderRequests(daemon: DaemonProcess): Promise<RequestStats> {
  const stats = (await followStats(daemon, 'leader_requests'))[0]?.leader_requests;
  if (!stats) throw new Error('the daemon reports no leader_requests');
  return stats;
}

async function timeWrites(leader: BenchNode, follower: BenchNode, names: readonly string[], writes: number): Promise<number[]> {
  const samples: number[] = [];
  for (let k = 0; k < writes; k++) {
    await sleep(1000 + Math.random() * 1000);
    const index = names[Math.floor(Math.random() * names.length)]!;
    await leader.rest.request('PUT', `/${index}/_doc/w${k}`, { n: k, text: `write ${k}` });
    const acknowledged = performance.now();
    await waitFor(async () => (await fetch(`${follower.local.url}/${index}/_doc/w${k}`, { signal: AbortSignal.timeout(5_000) })).status === 200,
      { timeoutMs: 60_000, intervalMs: 20, message: `write ${k} to ${index} on the follower` });
    samples.push(performance.now() - acknowledged);
  }
  return samples;
}

async function measure(leader: BenchNode, follower: BenchNode, count: number, cfg: Config): Promise<Measurement> {
  const names = Array.from({ length: count }, (_, i) => indexName(count, i));
  const createdAt = performance.now();
  await createSmallIndices(leader.rest, names, cfg.docs, cfg.concurrency);
  const createSeconds = (performance.now() - createdAt) / 1000;
  log(`${count}: ${count} leader indices created in ${createSeconds.toFixed(1)} s`);
  const baseline = names.map((n) => `raw-${n}`);
  const baselineAt = performance.now();
  await createEmptyIndices(follower.rest, baseline, cfg.concurrency);
  const followerCreateSeconds = (performance.now() - baselineAt) / 1000;
  await deleteIndices(follower.rest, baseline);
  log(`${count}: baseline: the follower cluster created ${count} empty indices itself in ${followerCreateSeconds.toFixed(1)} s (${cfg.concurrency} in flight); starting a cold daemon`);
  const profile = cfg.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cfg.profileDir}`, `--cpu-prof-name=idle-${count}-${Date.now()}.cpuprofile`];
  const daemonStart = performance.now();
  const sinceDaemonStart = (): string => `${(performance.now() - daemonStart).toFixed(0)} ms after the daemon's start`;
  const daemon = await startDaemon(leader, follower, profile);
  try {
    const first = performance.now();
    if (cfg.profileDir !== undefined) log(`${count}: starts from ${sinceDaemonStart()}`);
    await mapWithLimit(names, cfg.concurrency, (name) => daemon.api('PUT', `/follower/${name}/_ccr/follow`, { remote_cluster: 'leader', leader_index: name }));
    const startsSeconds = (performance.now() - first) / 1000;
    await waitFor(async () => {
      const stats = await followStats(daemon, 'index,shards.follower_global_checkpoint');
      return stats.length === count && stats.every((s) => s.shards.length === 1 && s.shards[0]!.follower_global_checkpoint === cfg.docs - 1);
    }, { timeoutMs: 600_000, intervalMs: 200, message: `${count} followers caught up` });
    const coldStartSeconds = (performance.now() - first) / 1000;
    log(`${count}: started (answers in ${startsSeconds.toFixed(1)} s), all caught up ${coldStartSeconds.toFixed(1)} s after the first start`);

    // The idle window must not hold the start's requests.
    const settleFrom = performance.now();
    await waitFor(() => followersIdle(daemon), { timeoutMs: 600_000, intervalMs: 1_000, message: `${count} followers to be idle` });
    const settleSeconds = (performance.now() - settleFrom) / 1000;
    log(`${count}: idle after ${settleSeconds.toFixed(0)} s more; measuring ${cfg.idleSeconds} s`);

    if (cfg.profileDir !== undefined) log(`${count}: idle window from ${sinceDaemonStart()}`);
    const ownBefore = await leaderRequests(daemon);
    const [leaderBefore, followerBefore] = await Promise.all([restActionCounts(leader.rest), restActionCounts(follower.rest)]);
    const cpuBefore = processCpuSeconds(daemon.pid);
    const from = performance.now();
    await sleep(cfg.idleSeconds * 1000);
    const [leaderAfter, followerAfter] = await Promise.all([restActionCounts(leader.rest), restActionCounts(follower.rest)]);
    const cpuAfter = processCpuSeconds(daemon.pid);
    const seconds = (performance.now() - from) / 1000;
    const ownAfter = await leaderRequests(daemon);
    const rssMb = rssBytes(daemon.pid) / 1024 / 1024;
    const leaderActions = actionRates(leaderBefore, leaderAfter, seconds);
    const followerActions = actionRates(followerBefore, followerAfter, seconds);
    const daemonLeaderRates = Object.fromEntries(Object.entries(ownAfter.total).map(([p, n]) => [p, (n - ownBefore.total[p as keyof PerPurpose]) / seconds])) as PerPurpose;
    log(`${count}: idle leader ${totalRate(leaderActions).toFixed(2)} req/s (${formatRates(leaderActions)})`);
    log(`${count}: idle follower ${totalRate(followerActions).toFixed(2)} req/s (${formatRates(followerActions)})`);
    log(`${count}: the daemon's own count to the leader per second: ${formatPurposes(daemonLeaderRates)}; CPU ${((cpuAfter - cpuBefore) / seconds * 100).toFixed(2)} % of a core, RSS ${rssMb.toFixed(0)} MB`);

    if (cfg.profileDir !== undefined) log(`${count}: idle window until ${sinceDaemonStart()}`);
    log(`${count}: ${cfg.writes} single writes to random idle indices`);
    const samples = await timeWrites(leader, follower, names, cfg.writes);
    const writeMs = { p50: percentile(samples, 50), p99: percentile(samples, 99), max: Math.max(...samples), samples: samples.map((s) => Math.round(s)) };
    log(`${count}: write applied after p50 ${writeMs.p50.toFixed(0)} ms, p99 ${writeMs.p99.toFixed(0)} ms, max ${writeMs.max.toFixed(0)} ms`);
    return {
      followers: count, nameLength: names[0]!.length, createSeconds, followerCreateSeconds, startsSeconds, coldStartSeconds, settleSeconds, idleSeconds: seconds,
      leaderRate: totalRate(leaderActions), leaderActions, followerRate: totalRate(followerActions), followerActions, daemonLeaderRates,
      cpuPercent: ((cpuAfter - cpuBefore) / seconds) * 100, rssMb, writeMs,
    };
  } finally {
    await daemon.stop().catch(() => undefined);
    await Promise.all([deleteIndices(leader.rest, names), deleteIndices(follower.rest, names)]);
  }
}

/** The purposes the daemon sent requests for, e.g. `checkpoints 1.00, metadata 0.50`. */
function formatPurposes(rates: PerPurpose): string {
  return formatRates(Object.fromEntries(Object.entries(rates).filter(([, v]) => v > 0)));
}

function cell(value: number, digits: number, goal: number): string {
  return `${value.toFixed(digits)} ${value <= goal ? '✅' : '❌'}`;
}

function table(cfg: Config, leader: BenchNode, follower: BenchNode, results: readonly Measurement[]): string {
  const rows = results.map((r) => `| ${r.followers} | ${cell(r.coldStartSeconds, 1, GOALS.coldStartSeconds)} | ${r.followerCreateSeconds.toFixed(1)} | ${(r.coldStartSeconds / r.followerCreateSeconds).toFixed(2)} | ${cell(r.leaderRate, 2, GOALS.leaderRate)} | ${cell(r.followerRate, 2, GOALS.followerRate)} `
    + `| ${cell(r.cpuPercent, 2, GOALS.cpuPercent)} | ${cell(r.rssMb, 0, GOALS.rssMb)} | ${r.writeMs.p50.toFixed(0)} | ${cell(r.writeMs.p99, 0, GOALS.writeP99Ms)} | ${r.writeMs.max.toFixed(0)} |`);
  const breakdown = results.flatMap((r) => [
    `- ${r.followers} followers: leader ${formatRates(r.leaderActions)}; follower ${formatRates(r.followerActions)}; `
      + `the daemon's count to the leader: ${formatPurposes(r.daemonLeaderRates)}.`,
  ]);
  return [
    `Idle cost of one daemon, ${leader.label} → ${follower.label} (${cfg.pair}), followed indices of 1 shard, ${cfg.docs} documents each, names of ${results[0]?.nameLength ?? '?'} characters;`,
    `idle window ${cfg.idleSeconds} s, ${cfg.writes} single writes. Goals (set for 500 followers, every row judged against them): cold start ≤ ${GOALS.coldStartSeconds} s, `
      + `≤ ${GOALS.leaderRate} requests/s to each node, daemon ≤ ${GOALS.cpuPercent} % of a core and RSS ≤ ${GOALS.rssMb} MB, write applied p99 ≤ ${GOALS.writeP99Ms} ms.`,
    '',
    '| followers | cold start, s | baseline: follower cluster creates as many indices itself, s | cold start ÷ baseline | leader, req/s | follower, req/s | daemon CPU, % of a core | daemon RSS, MB | write applied p50, ms | p99, ms | max, ms |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `Each start creates its follower index: the baseline is that part alone (${cfg.concurrency} in flight, 1 shard, no mapping), measured in the same run just before the daemon starts.`,
    '',
    'Requests per second by REST action while idle (`_nodes/usage`), and by purpose as the daemon counts them:',
    '',
    ...breakdown,
  ].join('\n');
}

async function main(): Promise<void> {
  const cfg = config();
  const loadStart = loadAverage();
  log(`load average at the start: ${loadStart.join(' ')}`);
  const { leader, follower } = await startPair(cfg.pair, cfg.heap, log);
  const results: Measurement[] = [];
  for (const count of cfg.counts) results.push(await measure(leader, follower, count, cfg));
  const loadEnd = loadAverage();
  const text = table(cfg, leader, follower, results);
  const note = loadNote(loadStart, loadEnd);
  console.log(`\n${text}\n\n${note}\n`);
  const base = await writeResults('idle-cost', { config: cfg, leader: leader.label, follower: follower.label, goals: GOALS, load: { start: loadStart, end: loadEnd }, results }, `${text}\n\n${note}\n`);
  log(`wrote ${base}.json and .md`);
}

runBench(main);
