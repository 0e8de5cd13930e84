/**
 * `npm run bench:leases`: several daemons sharing the followers through leases (README, "Running
 * several daemons"): failover time after a SIGKILL, hand-over time after a SIGTERM, and the
 * requests per second the leases and heartbeats add on the state cluster.
 *
 * One leader and one follower node (src/local-cluster); the follower cluster keeps the state index
 * (`daemon.state: { cluster: follower }`, `lease_timeout` at its default of 30 s). N leader indices
 * of 1 shard, followed through three daemons (child processes), under a slow continuous write load
 * on the leader (one small bulk every 250 ms, rotating over the indices, so that each gets a write
 * every BENCH_LEASE_WRITE_EVERY seconds). Per repetition, with the fleet balanced:
 * - failover: SIGKILL the daemon holding the most leases; for each follower it ran, the time from
 *   the kill until the follower index's max_seq_no (on the follower cluster) moves past where it
 *   was once the daemon was gone: the first operation applied by its new owner. Reported: the
 *   first and the last of them. A replacement daemon is started and the fleet balanced again;
 * - hand-over: the same after a SIGTERM of the daemon holding the most;
 * - the state cluster's load: writes stopped and every daemon idle, the requests per second the
 *   follower cluster served (`_nodes/usage`), split into state traffic (document and search
 *   actions, which idle followers do not send) and the rest.
 * At the end, two daemons are stopped and the same load is measured with one daemon holding all N:
 * the difference is what the leases of a fleet of three add.
 * Writes bench/results/<date>-lease-failover.json and .md and prints the table.
 *
 * Scale by environment: BENCH_LEASE_FOLLOWERS=100 BENCH_LEASE_REPS=3 BENCH_IDLE_SECONDS=60
 * BENCH_LEASE_WRITE_EVERY=2 (seconds between two writes to one index) BENCH_PAIR=es-os|es-es|os-os
 * BENCH_HEAP=512m. Development: BENCH_LEASE_FOLLOWERS=12 BENCH_LEASE_REPS=1 BENCH_IDLE_SECONDS=10
 */
import type { DaemonProcess } from '../test/helpers/daemon-process.js';
import { waitFor } from '../test/helpers/wait-for.js';
import { runBench, startDaemon, startPair, type BenchNode } from './lib/context.js';
import { followersIdle, followStats } from './lib/daemon-stats.js';
import type { PairName } from './lib/env.js';
import { createSmallIndices, mapWithLimit, maxSeqNos } from './lib/indices.js';
import { loadAverage, loadNote, writeResults } from './lib/results.js';
import { summarize } from './lib/stats.js';
import { actionRates, formatRates, restActionCounts, totalRate, type ActionCounts } from './lib/usage.js';

const PAIRS: readonly PairName[] = ['es-os', 'es-es', 'os-os'];
const STATE_INDEX = '.ccr-follow-state';
/** The default `daemon.lease_timeout`, which the daemons run with. */
const LEASE_TIMEOUT_MS = 30_000;
const FLEET = 3;
const WRITE_TICK_MS = 250;
/**
 * REST actions of the state store and the leases (conditional writes, reads, the scans' refresh and
 * search). Idle followers send the follower cluster none of these: their probes are `_stats` and
 * cluster state reads, and an idle reconciliation pass asks nothing.
 */
const STATE_ACTIONS = new Set([
  'document_index_action', 'document_create_action', 'document_create_action_auto_id', 'document_get_action', 'document_mget_action',
  'document_update_action', 'document_delete_action', 'search_action', 'count_action', 'refresh_action', 'bulk_action', 'delete_by_query_action',
]);

interface Config {
  readonly pair: PairName;
  readonly followers: number;
  readonly reps: number;
  readonly idleSeconds: number;
  readonly writeEverySeconds: number;
  readonly heap: string;
}

interface Takeover {
  readonly signal: 'SIGKILL' | 'SIGTERM';
  /** Followers the stopped daemon ran. */
  readonly followers: number;
  /** From the signal until the daemon had exited. */
  readonly exitSeconds: number;
  /** From the signal until the first, and the last, of its followers had an operation applied by a new owner. */
  readonly firstSeconds: number;
  readonly lastSeconds: number;
  /** From starting a replacement until the fleet was balanced again. */
  readonly rebalanceSeconds: number;
}

interface StateLoad {
  readonly daemons: number;
  readonly seconds: number;
  readonly stateRate: number;
  readonly stateActions: ActionCounts;
  readonly otherRate: number;
  readonly otherActions: ActionCounts;
}

interface Repetition {
  readonly rep: number;
  readonly failover: Takeover;
  readonly handOver: Takeover;
  readonly load: StateLoad;
}

const started = Date.now();
function log(msg: string): void {
  console.log(`[bench:leases ${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${msg}`);
}

function positiveInt(name: string, def: number): number {
  const raw = process.env[name];
  const v = raw === undefined || raw === '' ? def : Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: expected a positive integer, got ${raw}`);
  return v;
}

function config(): Config {
  const pair = (process.env['BENCH_PAIR'] ?? 'es-os') as PairName;
  if (!PAIRS.includes(pair)) throw new Error(`BENCH_PAIR: expected one of ${PAIRS.join(', ')}`);
  const followers = positiveInt('BENCH_LEASE_FOLLOWERS', 100);
  if (followers < FLEET) throw new Error(`BENCH_LEASE_FOLLOWERS: at least ${FLEET}, one per daemon`);
  return {
    pair, followers,
    reps: positiveInt('BENCH_LEASE_REPS', 3),
    idleSeconds: positiveInt('BENCH_IDLE_SECONDS', 60),
    writeEverySeconds: positiveInt('BENCH_LEASE_WRITE_EVERY', 2),
    heap: process.env['BENCH_HEAP'] ?? '512m',
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => { setTimeout(resolve, ms); });
const seconds = (fromMs: number): number => (performance.now() - fromMs) / 1000;

/** One small bulk per tick, each document to the next index in turn; paused while the load is measured. */
class SlowWriter {
  #next = 0;
  #paused = false;
  #error: unknown;
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;

  constructor(private readonly leader: BenchNode, private readonly names: readonly string[], everySeconds: number) {
    const perTick = Math.max(1, Math.round((names.length * WRITE_TICK_MS) / (everySeconds * 1000)));
    this.#loop = this.#run(perTick);
  }

  async #run(perTick: number): Promise<void> {
    while (!this.#stop.signal.aborted) {
      if (!this.#paused) {
        const lines = Array.from({ length: perTick }, () => {
          const index = this.names[this.#next++ % this.names.length]!;
          return `{"index":{"_index":"${index}"}}\n{"written":${Date.now()}}\n`;
        });
        try {
          const res = await this.leader.rest.request<{ errors: boolean }>('POST', '/_bulk?filter_path=errors', lines.join(''));
          if (res.errors) throw new Error('a bulk request had item errors');
        } catch (err) {
          this.#error = err;
          return;
        }
      }
      await sleep(WRITE_TICK_MS);
    }
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#throwIfFailed();
    this.#paused = false;
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    this.#throwIfFailed();
  }

  #throwIfFailed(): void {
    if (this.#error !== undefined) throw new Error(`the leader writer failed: ${this.#error instanceof Error ? this.#error.message : String(this.#error)}`);
  }
}

/** The followers each daemon runs now, from its own stats. */
async function placement(fleet: readonly DaemonProcess[]): Promise<Map<DaemonProcess, string[]>> {
  return new Map(await Promise.all(fleet.map(async (d) => {
    const stats = await followStats(d, 'index,state');
    return [d, stats.filter((s) => s.state === 'starting' || s.state === 'active').map((s) => s.index)] as const;
  })));
}

/** Every follower run, by exactly one daemon, and no daemon more than one above another. */
async function waitBalanced(fleet: readonly DaemonProcess[], followers: number, what: string): Promise<Map<DaemonProcess, string[]>> {
  let last = '';
  return waitFor(async () => {
    const now = await placement(fleet);
    const counts = [...now.values()].map((r) => r.length);
    last = counts.join('/');
    return new Set([...now.values()].flat()).size === followers && counts.reduce((a, b) => a + b, 0) === followers
      && Math.max(...counts) - Math.min(...counts) <= 1 ? now : undefined;
  }, { timeoutMs: 4 * LEASE_TIMEOUT_MS + 120_000, intervalMs: 1_000, message: () => `${what}: ${followers} followers balanced over ${fleet.length} daemons (now ${last})` });
}

/** Signals the daemon running the most followers; times until each of them has an operation applied by its new owner. */
async function takeover(fleet: DaemonProcess[], follower: BenchNode, signal: 'SIGKILL' | 'SIGTERM'): Promise<{ victim: DaemonProcess; measured: Omit<Takeover, 'rebalanceSeconds'> }> {
  const where = await placement(fleet);
  const [victim, held] = [...where].sort((a, b) => b[1].length - a[1].length)[0]!;
  const sent = performance.now();
  victim.kill(signal);
  await victim.waitForExit(90_000);
  const exitSeconds = seconds(sent);
  // A bulk the killed daemon had already sent may still land just after it died.
  if (signal === 'SIGKILL') await sleep(1_000);
  const baseline = await maxSeqNos(follower.rest, held);
  const applied = new Map<string, number>();
  await waitFor(async () => {
    const now = await maxSeqNos(follower.rest, held.filter((i) => !applied.has(i)));
    const at = seconds(sent);
    for (const [index, seqNo] of now) if (seqNo > (baseline.get(index) ?? -1)) applied.set(index, at);
    return applied.size === held.length;
  }, { timeoutMs: 3 * LEASE_TIMEOUT_MS + 60_000, intervalMs: 200, message: () => `the ${held.length} followers of the ${signal === 'SIGKILL' ? 'killed' : 'stopped'} daemon to apply an operation (${applied.size} did)` });
  const times = [...applied.values()];
  return { victim, measured: { signal, followers: held.length, exitSeconds, firstSeconds: Math.min(...times), lastSeconds: Math.max(...times) } };
}

async function replace(fleet: DaemonProcess[], victim: DaemonProcess, leader: BenchNode, follower: BenchNode, followers: number): Promise<number> {
  const from = performance.now();
  fleet.splice(fleet.indexOf(victim), 1, await startDaemon(leader, follower, [], STATE_INDEX));
  await waitBalanced(fleet, followers, 'after a replacement joined');
  return seconds(from);
}

async function stateLoad(fleet: readonly DaemonProcess[], follower: BenchNode, idleSeconds: number): Promise<StateLoad> {
  // Followers that just moved still run their start's reconciliation passes, which search the follower cluster too.
  await waitFor(async () => (await Promise.all(fleet.map(followersIdle))).every(Boolean), { timeoutMs: 600_000, intervalMs: 1_000, message: 'every daemon\'s followers to be idle' });
  const before = await restActionCounts(follower.rest);
  const from = performance.now();
  await sleep(idleSeconds * 1000);
  const rates = actionRates(before, await restActionCounts(follower.rest), seconds(from));
  const pick = (state: boolean): ActionCounts => Object.fromEntries(Object.entries(rates).filter(([a]) => STATE_ACTIONS.has(a) === state));
  const [stateActions, otherActions] = [pick(true), pick(false)];
  const load = { daemons: fleet.length, seconds: seconds(from), stateRate: totalRate(stateActions), stateActions, otherRate: totalRate(otherActions), otherActions };
  log(`state cluster, ${fleet.length} daemon(s) idle: state ${load.stateRate.toFixed(2)} req/s (${formatRates(stateActions)}); other ${load.otherRate.toFixed(2)} req/s (${formatRates(otherActions)})`);
  return load;
}

function row(label: string, values: readonly number[], digits = 1): string {
  const s = summarize(values);
  return s ? `| ${label} | ${s.median.toFixed(digits)} | ${s.max.toFixed(digits)} | ${values.map((v) => v.toFixed(digits)).join(', ')} |` : `| ${label} | – | – | – |`;
}

function report(cfg: Config, leader: BenchNode, follower: BenchNode, reps: readonly Repetition[], alone: StateLoad): string {
  const renewal = LEASE_TIMEOUT_MS / 3 / 1000;
  const computed = (cfg.followers + 9 * FLEET) / renewal;
  const added = reps.map((r) => r.load.stateRate - alone.stateRate);
  return [
    `Leases: ${FLEET} daemons sharing ${cfg.followers} followers (1 shard each), ${leader.label} → ${follower.label} (${cfg.pair}), state in the follower cluster, `
      + `lease_timeout ${LEASE_TIMEOUT_MS / 1000} s (default); writes to each leader index every ${cfg.writeEverySeconds} s; ${reps.length} repetition(s).`,
    '',
    '| measure | median | max | each repetition |',
    '| --- | ---: | ---: | --- |',
    row('SIGKILL → first follower applies an operation on its new owner, s', reps.map((r) => r.failover.firstSeconds)),
    row('SIGKILL → last follower applies an operation on its new owner, s', reps.map((r) => r.failover.lastSeconds)),
    row('&nbsp;&nbsp;followers the killed daemon ran', reps.map((r) => r.failover.followers), 0),
    row('SIGTERM → first follower applies an operation on its new owner, s', reps.map((r) => r.handOver.firstSeconds)),
    row('SIGTERM → last follower applies an operation on its new owner, s', reps.map((r) => r.handOver.lastSeconds)),
    row('&nbsp;&nbsp;SIGTERM → the daemon exited, s', reps.map((r) => r.handOver.exitSeconds)),
    row('&nbsp;&nbsp;followers the stopped daemon ran', reps.map((r) => r.handOver.followers), 0),
    row('replacement started → fleet balanced again (after the SIGKILL), s', reps.map((r) => r.failover.rebalanceSeconds)),
    row(`state cluster, ${FLEET} daemons idle: state requests/s`, reps.map((r) => r.load.stateRate), 2),
    row('state cluster, 1 daemon alone (measured once): state requests/s', [alone.stateRate], 2),
    row(`added by a fleet of ${FLEET} over 1 daemon, requests/s`, added, 2),
    '',
    `The README's formula, (M + 9N) per renewal period of ${renewal} s, gives ${computed.toFixed(1)} requests/s for M = ${cfg.followers}, N = ${FLEET} `
      + `(and ${((cfg.followers + 9) / renewal).toFixed(1)} for one daemon).`,
    '',
    'State requests are the follower cluster\'s document, search and refresh actions (`_nodes/usage`), per second while idle:',
    '',
    ...reps.map((r) => `- ${FLEET} daemons, repetition ${r.rep}: ${formatRates(r.load.stateActions)}; not state: ${formatRates(r.load.otherActions)}`),
    `- 1 daemon: ${formatRates(alone.stateActions)}; not state: ${formatRates(alone.otherActions)}`,
    '',
    `A follower's time is when its index's max_seq_no on the follower cluster moved past where it was once the signalled daemon had exited; `
      + `a follower with nothing to apply at take-over shows its next write, up to ${cfg.writeEverySeconds} s later.`,
  ].join('\n');
}

async function main(): Promise<void> {
  const cfg = config();
  const loadStart = loadAverage();
  log(`load average at the start: ${loadStart.join(' ')}`);
  const { leader, follower } = await startPair(cfg.pair, cfg.heap, log);
  const names = Array.from({ length: cfg.followers }, (_, i) => `lease-${String(i).padStart(4, '0')}`);
  await createSmallIndices(leader.rest, names, 5, 16);
  const fleet: DaemonProcess[] = [];
  for (let i = 0; i < FLEET; i++) fleet.push(await startDaemon(leader, follower, [], STATE_INDEX));
  // Each follow asked of a different daemon runs there first; the share rule evens out the rest.
  await mapWithLimit(names.map((name, i) => ({ name, daemon: fleet[i % FLEET]! })), 16,
    ({ name, daemon }) => daemon.api('PUT', `/follower/${name}/_ccr/follow`, { remote_cluster: 'leader', leader_index: name }));
  await waitBalanced(fleet, cfg.followers, 'after the follows');
  log(`${cfg.followers} followers running on ${FLEET} daemons; writing to each index every ${cfg.writeEverySeconds} s`);
  const writer = new SlowWriter(leader, names, cfg.writeEverySeconds);
  const reps: Repetition[] = [];
  try {
    for (let rep = 1; rep <= cfg.reps; rep++) {
      const killed = await takeover(fleet, follower, 'SIGKILL');
      const k = killed.measured;
      log(`rep ${rep}: SIGKILL of a daemon running ${k.followers}: first applied ${k.firstSeconds.toFixed(1)} s, last ${k.lastSeconds.toFixed(1)} s after the kill`);
      const failover: Takeover = { ...k, rebalanceSeconds: await replace(fleet, killed.victim, leader, follower, cfg.followers) };
      const stopped = await takeover(fleet, follower, 'SIGTERM');
      const t = stopped.measured;
      log(`rep ${rep}: SIGTERM of a daemon running ${t.followers}: exited after ${t.exitSeconds.toFixed(1)} s, first applied ${t.firstSeconds.toFixed(1)} s, last ${t.lastSeconds.toFixed(1)} s after the signal`);
      const handOver: Takeover = { ...t, rebalanceSeconds: await replace(fleet, stopped.victim, leader, follower, cfg.followers) };
      writer.pause();
      const load = await stateLoad(fleet, follower, cfg.idleSeconds);
      writer.resume();
      reps.push({ rep, failover, handOver, load });
    }
  } finally {
    await writer.stop();
  }
  // One daemon alone for the same followers: stop the other two gracefully, it takes all their leases.
  for (const daemon of fleet.splice(1)) await daemon.stop();
  await waitBalanced(fleet, cfg.followers, 'one daemon alone');
  const alone = await stateLoad(fleet, follower, cfg.idleSeconds);
  const loadEnd = loadAverage();
  const text = report(cfg, leader, follower, reps, alone);
  const note = loadNote(loadStart, loadEnd);
  console.log(`\n${text}\n\n${note}\n`);
  const base = await writeResults('lease-failover', {
    config: { ...cfg, leaseTimeoutMs: LEASE_TIMEOUT_MS, daemons: FLEET }, leader: leader.label, follower: follower.label, load: { start: loadStart, end: loadEnd }, reps, alone,
  }, `${text}\n\n${note}\n`);
  log(`wrote ${base}.json and .md`);
}

runBench(main);
