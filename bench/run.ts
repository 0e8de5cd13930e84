/**
 * `npm run bench`: ccr-follow against the follower's raw `_bulk` ceiling, `_reindex` from
 * remote and elasticdump, on the same documents, in one run, on leader and follower nodes started
 * here through the harness (src/local-cluster). Writes bench/results/<date>-<pair>.json and .md
 * and prints the table.
 *
 * Scale by environment (defaults are the full-size run's): BENCH_DOCS=500000 BENCH_REPS=3 BENCH_SECONDS=60
 * BENCH_PAIRS=es-es,os-os BENCH_PINNED=both|0|1 BENCH_PROFILE=1 BENCH_TOOLS=1 BENCH_TUNED='{...}'
 * BENCH_PHASE_PARAMS=default|tuned BENCH_BLOCKED_BUFFER=16mb BENCH_HEAP=1g BENCH_SEED=...
 * Development: BENCH_DOCS=20000 BENCH_REPS=1 BENCH_SECONDS=10 BENCH_PINNED=0 npm run bench
 */
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/helpers/cli-process.js';
import { stopAllDaemonProcesses } from '../test/helpers/daemon-process.js';
import { type BenchNode, pairHasTools, startPair, stopNodes } from './lib/context.js';
import { readConfig, type BenchConfig, type PairName } from './lib/env.js';
import {
  activeChildren, ccrBootstrap, ccrBootstrapMany, loadMany, type ManySources, type RequestShape, ceiling, ceilingBodies, type Ctx, elasticdumpBootstrap, ensureElasticdump, lagAtRate, loadLeader,
  reindexBootstrap, saturatedTail, tuneCeiling, writeBlocked,
} from './lib/phases.js';
import { svgCharts, type Series } from './lib/plot.js';
import { formatProfile, summarizeProfile } from './lib/profile.js';
import { pin, tasksetAvailable } from './lib/proc.js';
import { markdown, ok, type Failure, type Maybe, type ModeResult, type PairResult, type RepResult } from './lib/report.js';

const SHARED_GRID: readonly (readonly [number, number])[] = [[2000, 3], [5000, 2], [5000, 3], [5000, 4], [10000, 2], [10000, 3]];
const PINNED_GRID: readonly (readonly [number, number])[] = [[2000, 2], [5000, 1], [5000, 2], [10000, 1]];
const ALL_CPUS = `0-${cpus().length - 1}`;

const started = Date.now();
function log(msg: string): void {
  console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${msg}`);
}

async function attempt<T>(label: string, fn: () => Promise<T>): Promise<Maybe<T>> {
  try {
    return await fn();
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    log(`${label} failed: ${error}`);
    return { error } satisfies Failure;
  }
}

async function pinAll(leader: BenchNode, follower: BenchNode, pinned: boolean): Promise<void> {
  await pin(follower.pids(), pinned ? '1' : ALL_CPUS);
  await pin(leader.pids(), pinned ? '0' : ALL_CPUS);
  await pin([process.pid], pinned ? '0' : ALL_CPUS);
}

async function newestProfile(dir: string, after: number): Promise<string | undefined> {
  const files = await readdir(dir).catch(() => [] as string[]);
  let best: { file: string; mtime: number } | undefined;
  for (const f of files.filter((x) => x.endsWith('.cpuprofile'))) {
    const mtime = (await stat(join(dir, f))).mtimeMs;
    if (mtime >= after && (!best || mtime > best.mtime)) best = { file: join(dir, f), mtime };
  }
  return best?.file;
}

const rate = (v: number | undefined): string => (v === undefined ? 'n/a' : `${Math.round(v)}/s`);
const shape = (r: RequestShape | undefined): string => (r
  ? `${r.reads} reads × ${r.opsPerRead.toFixed(0)} ops (${r.msPerRead.toFixed(0)} ms each: refresh wait ${r.readStages.visibilityWait.toFixed(0)}, search ${r.readStages.search.toFixed(0)}, check ${r.readStages.confirm.toFixed(0)}), `
    + `${r.writes} bulks × ${r.opsPerWrite.toFixed(0)} ops (${r.msPerWrite.toFixed(0)} ms each: queued ${r.writeStages.queued.toFixed(0)}, bulk ${r.writeStages.bulk.toFixed(0)})`
    + (r.writeLimit ? `, bulk limit ${r.writeLimit.limit} (last change ${r.writeLimit.lastChange})` : '')
  : '');

async function runPair(cfg: BenchConfig, pair: PairName, skipped: string[]): Promise<PairResult> {
  const loadBefore = loadavg();
  log(`${pair}: starting leader and follower (${cfg.heap} heaps)`);
  const { leader, follower } = await startPair(pair, cfg.heap, (m) => log(`  ${m}`));
  try {
    const sourceIndex = 'bench-source';
    const sourceCheckpoints = await loadLeader({ leader, seed: cfg.seed, log }, sourceIndex, cfg.docs);
    const base: Ctx = { leader, follower, seed: cfg.seed, sourceIndex, docs: cfg.docs, sourceCheckpoints, log };
    const tools = cfg.tools && pairHasTools(pair);
    if (cfg.tools && !tools) skipped.push(`${pair}: \`_reindex\` from remote and elasticdump (they need GET / on the source, which ES 8.19's test zip answers 405; _reindex exists only on OpenSearch 3.6's zip)`);
    const elasticdump = tools ? await ensureElasticdump(REPO_ROOT, log) : undefined;
    const phaseParams = cfg.phaseParams === 'tuned' ? cfg.tuned : {};
    const has = (phase: string): boolean => cfg.phases.includes(phase);
    // The same documents in all, spread over many indices: a daemon following many at once should be as fast as following one.
    const manySources: ManySources | undefined = has('many') && cfg.modes.includes('shared') ? await loadMany({ leader, seed: cfg.seed, log }, cfg.many, Math.round(cfg.docs / cfg.many)) : undefined;
    const modes: ModeResult[] = [];

    for (const mode of cfg.modes) {
      const pinned = mode === 'pinned';
      await pinAll(leader, follower, pinned);
      const ctx: Ctx = pinned ? { ...base, toolCpus: '0' } : base;
      if (modes.length === 0) {
        // A fresh JVM indexes slower until its JIT has warmed up: one untimed pass first.
        await ceiling(ctx, ceilingBodies(cfg.seed, Math.min(cfg.docs, 50_000), 5000), Math.min(cfg.docs, 50_000), 2);
      }
      log(`${pair} ${mode}: tuning the ceiling`);
      const setting = await tuneCeiling(ctx, Math.min(cfg.docs, 100_000), pinned ? PINNED_GRID : SHARED_GRID);
      log(`${pair} ${mode}: ceiling setting bulk ${setting.size} × ${setting.concurrency}`);
      let bodies: Buffer[] | undefined = ceilingBodies(cfg.seed, cfg.docs, setting.size);
      const reps: RepResult[] = [];
      for (let rep = 1; rep <= cfg.reps; rep += 1) {
        const ceilingResult = await ceiling(ctx, bodies, cfg.docs, setting.concurrency);
        log(`${pair} ${mode} rep ${rep}: ceiling ${rate(ceilingResult.docsPerSecond)}`);
        const r: { -readonly [K in keyof RepResult]: RepResult[K] } = { rep, ceiling: ceilingResult };
        if (has('ccr')) {
          const ccrDefault = await ccrBootstrap(ctx, {});
          log(`${pair} ${mode} rep ${rep}: ccr-follow default ${rate(ccrDefault.docsPerSecond)}, daemon ${ccrDefault.toolCpuPer100k.toFixed(2)} CPU-s/100k, ${shape(ccrDefault.requests)}`);
          const ccrTuned = await ccrBootstrap(ctx, cfg.tuned);
          log(`${pair} ${mode} rep ${rep}: ccr-follow tuned ${rate(ccrTuned.docsPerSecond)}, daemon ${ccrTuned.toolCpuPer100k.toFixed(2)} CPU-s/100k, ${shape(ccrTuned.requests)}`);
          Object.assign(r, { ccrDefault, ccrTuned });
        }
        if (manySources && !pinned) {
          r.many = await attempt('many indices', () => ccrBootstrapMany(ctx, manySources, {}));
          const m = ok(r.many);
          if (m) log(`${pair} rep ${rep}: ${m.indices} indices at once ${rate(m.docsPerSecond)}, daemon ${m.daemonCpuPer100k.toFixed(2)} CPU-s/100k, peak RSS ${m.peakRssMb.toFixed(0)} MB`);
        }
        if (tools && has('tools')) {
          r.reindex = await attempt('_reindex', () => reindexBootstrap(ctx));
          log(`${pair} ${mode} rep ${rep}: _reindex ${rate(ok(r.reindex)?.docsPerSecond)}`);
          r.elasticdump = await attempt('elasticdump', () => elasticdumpBootstrap(ctx, elasticdump!, REPO_ROOT));
          log(`${pair} ${mode} rep ${rep}: elasticdump ${rate(ok(r.elasticdump)?.docsPerSecond)}`);
        }
        if (!pinned) {
          const tail = has('tail') ? await attempt('saturated tail', () => saturatedTail(ctx, phaseParams, cfg.seconds)) : undefined;
          r.tail = tail;
          const t = ok(tail);
          if (t) log(`${pair} rep ${rep}: tail written ${rate(t.writtenPerSecond)}, replicated ${rate(t.replicatedPerSecond)} (${t.replicatedRatio.toFixed(2)}), drain ${t.drainSeconds.toFixed(1)} s, daemon ${t.daemonCpuPer100k.toFixed(2)} CPU-s/100k, ${shape(t.requests)}, ${t.leaderRefreshesPerSecond.toFixed(1)} leader refreshes/s`);
          // A fixed rate (BENCH_LAG_RATE, 5000 docs/s) that every run can compare; 0: half of what the leader took in the tail.
          const lagRate = cfg.lagRate > 0 ? cfg.lagRate : (t?.writtenPerSecond ?? ceilingResult.docsPerSecond / 2) / 2;
          if (has('lag')) r.lag = await attempt('lag', () => lagAtRate(ctx, phaseParams, lagRate, cfg.seconds));
          const l = ok(r.lag);
          if (l) log(`${pair} rep ${rep}: lag at ${rate(l.docsPerSecond)}: applied p50/p99/max ${l.appliedMs.p50.toFixed(0)}/${l.appliedMs.p99.toFixed(0)}/${l.appliedMs.max.toFixed(0)} ms, searchable ${l.searchableMs.p50.toFixed(0)}/${l.searchableMs.p99.toFixed(0)}/${l.searchableMs.max.toFixed(0)} ms (${l.probes} probes, ${l.lost} lost), daemon ${l.daemonCpuPer100k.toFixed(2)} CPU-s/100k, ${shape(l.requests)}, ${l.leaderRefreshesPerSecond.toFixed(1)} leader refreshes/s`);
          if (has('blocked')) r.blocked = await attempt('write-blocked', () => writeBlocked(ctx, phaseParams, cfg.blockedBuffer, Math.max(50_000, Math.round(cfg.docs / 2))));
          const b = ok(r.blocked);
          if (b) log(`${pair} rep ${rep}: write-blocked: RSS ${b.rssBeforeMb.toFixed(0)} → max ${b.rssMaxMb.toFixed(0)} MB, buffers peak ${b.peakBufferMb.toFixed(1)} MB, drain ${b.drainSeconds.toFixed(1)} s, peak ${b.peakOutstandingWrites} writes / ${b.peakOutstandingReads} reads in flight`);
        }
        reps.push(r);
      }
      bodies = undefined;
      modes.push({ mode, ceilingSetting: setting, reps });
    }
    if (cfg.modes.includes('pinned')) await pinAll(leader, follower, false);

    const profiles: PairResult['profiles'] = [];
    if (cfg.profile) {
      const dir = join(REPO_ROOT, 'bench', 'results', 'profiles');
      await mkdir(dir, { recursive: true });
      for (const [label, params] of [['default', {}], ['tuned', cfg.tuned]] as const) {
        const t0 = Date.now();
        const res = await attempt(`profiled bootstrap (${label})`, () => ccrBootstrap(base, params, ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${pair}-${label}-${t0}.cpuprofile`]));
        const file = ok(res) ? await newestProfile(dir, t0) : undefined;
        if (file) {
          const summary = await summarizeProfile(file, 25, ok(res)?.followAfterMs ?? 0);
          profiles.push({ label, file, summary });
          log(`${pair}: daemon profile, bootstrap with ${label} parameters (${file}):\n${formatProfile(summary)}`);
        }
      }
    }
    return {
      pair,
      leader: leader.label,
      follower: follower.label,
      date: new Date().toISOString(),
      config: cfg,
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', node: process.version, loadBefore, loadAfter: loadavg() },
      modes,
      profiles,
      skipped: [...skipped],
    };
  } finally {
    await stopAllDaemonProcesses();
    await stopNodes();
  }
}

/** Lag over time in the tail phases, one line per repetition: applied latency at a fixed rate, and documents behind while saturated. */
function lagPlot(result: PairResult): string | undefined {
  const shared = result.modes.find((m) => m.mode === 'shared');
  if (!shared) return undefined;
  const lag: Series[] = [];
  const tail: Series[] = [];
  for (const r of shared.reps) {
    const l = ok(r.lag);
    if (l) lag.push({ name: `rep ${r.rep} (${Math.round(l.docsPerSecond)} docs/s)`, points: l.appliedSeries });
    const t = ok(r.tail);
    if (t) tail.push({ name: `rep ${r.rep}`, points: t.lagSeries });
  }
  if (lag.length === 0 && tail.length === 0) return undefined;
  return svgCharts(`${result.leader} → ${result.follower}, default parameters, ${result.date.slice(0, 10)}`, [
    { title: 'Lag at a fixed rate: leader acknowledged → applied on the follower (realtime GET)', xLabel: 'seconds since the first write', yLabel: 'ms', series: lag, goal: { y: 500, label: 'p99 goal 500 ms' } },
    { title: 'Saturated tail: documents written to the leader, not yet on the follower', xLabel: 'seconds since the writers started', yLabel: 'documents behind', series: tail },
  ]);
}

async function main(): Promise<void> {
  const cfg = readConfig();
  log(`config: ${JSON.stringify(cfg)}`);
  const skipped: string[] = [];
  let effective = cfg;
  if (cfg.modes.includes('pinned') && !tasksetAvailable()) {
    skipped.push('pinned mode: `taskset` not found (package util-linux)');
    effective = { ...cfg, modes: cfg.modes.filter((m) => m !== 'pinned') };
    if (effective.modes.length === 0) throw new Error('BENCH_PINNED=1 needs taskset (util-linux)');
  }
  if (cpus().length < 2 && effective.modes.includes('pinned')) {
    skipped.push('pinned mode: needs 2 cores');
    effective = { ...effective, modes: ['shared'] };
  }
  const resultsDir = join(REPO_ROOT, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  for (const pair of effective.pairs) {
    const result = await runPair(effective, pair, skipped.splice(0));
    const day = result.date.slice(0, 10);
    const plot = lagPlot(result);
    if (plot) await writeFile(join(resultsDir, `${day}-${pair}-lag.svg`), plot);
    const md = markdown(result) + (plot ? `\nLag over time: [${day}-${pair}-lag.svg](${day}-${pair}-lag.svg)\n` : '');
    await writeFile(join(resultsDir, `${day}-${pair}.json`), `${JSON.stringify(result, null, 2)}\n`);
    await writeFile(join(resultsDir, `${day}-${pair}.md`), md);
    console.log(`\n${md}`);
    log(`wrote bench/results/${day}-${pair}.json and .md`);
  }
}

let interrupted = false;
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(code);
    interrupted = true;
    log(`${signal}: stopping the daemon, tools and nodes`);
    for (const pid of activeChildren) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    void Promise.allSettled([stopAllDaemonProcesses(), stopNodes()]).then(() => process.exit(code));
  });
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    console.error(err);
    await stopAllDaemonProcesses().catch(() => undefined);
    await stopNodes().catch(() => undefined);
    process.exit(1);
  },
);
