/**
 * `npm run bench:promote`: the recovery time (RTO) of `ccr-follow promote --all` for 20 and for
 * 200 followers whose leader node has just stopped, as on a disaster day (README, "Disaster day").
 *
 * Per count, on a fresh leader and follower node started here (src/local-cluster) and the real
 * daemon as a child process: N leader indices of one shard with a few documents each, each
 * followed and caught up; the leader node is stopped; then `ccr-follow promote --all --json` runs
 * through the real CLI. Reported: the daemon's RTO (from the request to the last index writable),
 * the command's wall time (process start to exit, what an operator waits), and how many were
 * promoted. Writes bench/results/<date>-promote-rto.json and .md and prints the table.
 *
 * Scale by environment: BENCH_PROMOTE_COUNTS=20,200 BENCH_PAIR=es-os|es-es|os-os
 * BENCH_PROMOTE_DOCS=50 (per index) BENCH_PROMOTE_CONCURRENCY=<1..64> (default: the daemon's)
 * BENCH_HEAP=512m. Development: BENCH_PROMOTE_COUNTS=3 npm run bench:promote
 */
import type { PromoteManyAnswer } from '../src/follow/promote-many.js';
import type { FollowerIndexStats } from '../src/follow/index-follower.js';
import { runCli } from '../test/helpers/cli-process.js';
import { waitFor } from '../test/helpers/wait-for.js';
import { runBench, startDaemon, startPair, stopNodes, type BenchNode } from './lib/context.js';
import type { PairName } from './lib/env.js';
import { writeResults } from './lib/results.js';

const PAIRS: readonly PairName[] = ['es-os', 'es-es', 'os-os'];
/** The goals the measurement is judged against (seconds). */
const GOALS: Readonly<Record<number, number>> = { 20: 10, 200: 30 };

interface Measurement {
  readonly followers: number;
  readonly rtoMillis: number | undefined;
  readonly commandMillis: number;
  readonly promoted: number;
  readonly failed: number;
  readonly exitCode: number | null;
}

const started = Date.now();
function log(msg: string): void {
  console.log(`[bench:promote ${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${msg}`);
}

function config(): { counts: number[]; pair: PairName; docs: number; concurrency: number | undefined; heap: string } {
  const counts = (process.env['BENCH_PROMOTE_COUNTS'] ?? '20,200').split(',').map((c) => Number(c.trim()));
  if (counts.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('BENCH_PROMOTE_COUNTS: expected positive integers separated by commas');
  const pair = (process.env['BENCH_PAIR'] ?? 'es-os') as PairName;
  if (!PAIRS.includes(pair)) throw new Error(`BENCH_PAIR: expected one of ${PAIRS.join(', ')}`);
  const docs = Number(process.env['BENCH_PROMOTE_DOCS'] ?? 50);
  if (!Number.isInteger(docs) || docs < 1) throw new Error('BENCH_PROMOTE_DOCS: expected a positive integer');
  const c = process.env['BENCH_PROMOTE_CONCURRENCY'];
  return { counts, pair, docs, concurrency: c === undefined ? undefined : Number(c), heap: process.env['BENCH_HEAP'] ?? '512m' };
}

async function prepare(leader: BenchNode, count: number, docs: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `rto-${String(i).padStart(4, '0')}`);
  for (const name of names) {
    await leader.rest.createIndex(name, { settings: { 'index.number_of_shards': 1, 'index.number_of_replicas': 0 } });
    const lines = Array.from({ length: docs }, (_, i) => `{"index":{"_id":"d${i}"}}\n${JSON.stringify({ n: i, text: `document ${i}` })}\n`).join('');
    await leader.rest.bulk(name, lines);
  }
  return names;
}

async function measure(pair: PairName, count: number, docs: number, concurrency: number | undefined, heap: string): Promise<Measurement> {
  log(`${count} followers: starting ${pair} nodes`);
  const { leader, follower } = await startPair(pair, heap, log);
  const daemon = await startDaemon(leader, follower);
  try {
    const names = await prepare(leader, count, docs);
    for (const name of names) await daemon.api('PUT', `/follower/${name}/_ccr/follow`, { remote_cluster: 'leader', leader_index: name });
    await waitFor(async () => {
      const stats = (await daemon.api<{ follow_stats: { indices: FollowerIndexStats[] } }>('GET', '/_ccr/stats')).follow_stats.indices;
      return stats.length === count && stats.every((s) => s.shards.length === 1 && s.shards[0]!.follower_global_checkpoint === docs - 1);
    }, { timeoutMs: 600_000, intervalMs: 500, message: `${count} followers caught up` });
    log(`${count} followers caught up; stopping the leader node`);
    await leader.local.stop();

    const args = ['--url', daemon.url, 'promote', '--all', '--json', ...(concurrency === undefined ? [] : ['--concurrency', String(concurrency)])];
    const commandStarted = Date.now();
    const result = await runCli(args, { timeoutMs: 600_000 });
    const commandMillis = Date.now() - commandStarted;
    if (result.stdout.trim() === '') throw new Error(`promote --all printed nothing (exit ${result.code}): ${result.stderr}`);
    const answer = JSON.parse(result.stdout) as PromoteManyAnswer;
    const m: Measurement = {
      followers: count, rtoMillis: answer.rtoMillis, commandMillis, exitCode: result.code,
      promoted: answer.indices.filter((i) => i.result === 'promoted').length,
      failed: answer.indices.filter((i) => i.result === 'failed').length,
    };
    log(`${count} followers: RTO ${seconds(m.rtoMillis)}, command ${seconds(m.commandMillis)}, ${m.promoted} promoted, ${m.failed} failed, exit ${m.exitCode}`);
    return m;
  } finally {
    await daemon.stop().catch(() => undefined);
    await stopNodes();
  }
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`;
}

function table(pair: PairName, docs: number, results: readonly Measurement[]): string {
  const rows = results.map((r) => {
    const goal = GOALS[r.followers];
    const verdict = goal === undefined || r.rtoMillis === undefined ? '' : r.rtoMillis <= goal * 1000 ? `≤ ${goal} s: met` : `≤ ${goal} s: missed`;
    return `| ${r.followers} | ${seconds(r.rtoMillis)} | ${seconds(r.commandMillis)} | ${r.promoted} | ${r.failed} | ${r.exitCode} | ${verdict} |`;
  });
  return [
    `promote --all, leader node stopped (${pair}, 1 shard and ${docs} documents per index)`,
    '',
    '| followers | RTO (daemon) | command wall time | promoted | failed | exit | goal |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  const { counts, pair, docs, concurrency, heap } = config();
  const results: Measurement[] = [];
  for (const count of counts) results.push(await measure(pair, count, docs, concurrency, heap));
  const text = table(pair, docs, results);
  console.log(`\n${text}\n`);
  const base = await writeResults('promote-rto', { pair, docs, concurrency, heap, results }, text);
  log(`wrote ${base}.json and .md`);
}

runBench(main);
