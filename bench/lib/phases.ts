/**
 * One measurement each: the raw `_bulk` ceiling, a bootstrap by ccr-follow / `_reindex` from remote /
 * elasticdump, the saturated tail, lag at a fixed rate, and RSS with the follower write-blocked.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonProcess } from '../../test/helpers/daemon-process.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { type BenchNode, type CpuDelta, delta, snapshot, startDaemon } from './context.js';
import { bulkBody, documentId, indexBody, pooledBulkBody, pooledDocumentJson } from './docs.js';
import { peakRssBytes, pin, rssBytes, RssSampler } from './proc.js';
import { percentile } from './stats.js';

export interface Ctx {
  readonly leader: BenchNode;
  readonly follower: BenchNode;
  readonly seed: number;
  /** The pre-loaded leader index and its documents. */
  readonly sourceIndex: string;
  readonly docs: number;
  /** Per shard: the leader's global checkpoint after loading (the bootstrap's finish line). */
  readonly sourceCheckpoints: ReadonlyMap<number, number>;
  /** CPUs for the daemon and for tools (pinned mode), undefined when not pinned. */
  readonly toolCpus?: string;
  readonly log: (msg: string) => void;
}

export interface CopyResult {
  readonly docs: number;
  readonly seconds: number;
  readonly docsPerSecond: number;
  readonly cpu: CpuDelta;
  /** CPU seconds per 100k documents of the copying tool (daemon, elasticdump; bench process for the ceiling). */
  readonly toolCpuPer100k: number;
  readonly leaderCpuPer100k: number;
  readonly followerCpuPer100k: number;
  readonly peakRssMb?: number;
  readonly requests?: RequestShape;
  /** ccr-follow: ms from spawning the daemon to PUT follow (its start-up, left out of profiles). */
  readonly followAfterMs?: number;
  readonly note?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let counter = 0;
const name = (prefix: string): string => `${prefix}-${(counter++).toString().padStart(3, '0')}`;

function copyResult(docs: number, cpu: CpuDelta, toolCpu: number, extra: Partial<CopyResult> = {}): CopyResult {
  return {
    docs,
    seconds: cpu.seconds,
    docsPerSecond: docs / cpu.seconds,
    cpu,
    toolCpuPer100k: (toolCpu / docs) * 100_000,
    leaderCpuPer100k: (cpu.leader / docs) * 100_000,
    followerCpuPer100k: (cpu.follower / docs) * 100_000,
    ...extra,
  };
}

async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

// --- loading ---------------------------------------------------------------------------------

/** Creates `index` on the leader and writes documents [0, docs) (bulk 5000, 2 in flight), refreshed and flushed. */
export async function loadLeader(ctx: Pick<Ctx, 'leader' | 'seed' | 'log'>, index: string, docs: number): Promise<Map<number, number>> {
  await ctx.leader.rest.createIndex(index, indexBody());
  const starts = Array.from({ length: Math.ceil(docs / 5000) }, (_, i) => i * 5000);
  const t0 = performance.now();
  await inParallel(starts, 2, (from) => ctx.leader.rest.bulk(index, bulkBody(ctx.seed, 'd', from, Math.min(docs, from + 5000), false)));
  await ctx.leader.rest.request('POST', `/${index}/_flush`);
  const count = await ctx.leader.rest.count(index);
  if (count !== docs) throw new Error(`leader ${index} holds ${count} documents, expected ${docs}`);
  ctx.log(`loaded ${docs} documents into leader/${index} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const seqNos = await ctx.leader.rest.shardSeqNos(index);
  return new Map([...seqNos].map(([shard, s]) => [shard, s.globalCheckpoint]));
}

// --- ceiling ----------------------------------------------------------------------------------

/** `_bulk` bodies (external versions and ids) for documents [0, docs) in requests of `size`. */
export function ceilingBodies(seed: number, docs: number, size: number): Buffer[] {
  const bodies: Buffer[] = [];
  for (let from = 0; from < docs; from += size) bodies.push(bulkBody(seed, 'd', from, Math.min(docs, from + size), true));
  return bodies;
}

/** The follower's raw `_bulk` rate: pre-built bodies, `concurrency` requests in flight, into a fresh index. */
export async function ceiling(ctx: Ctx, bodies: readonly Buffer[], docs: number, concurrency: number): Promise<CopyResult> {
  const index = name('bench-ceiling');
  await ctx.follower.rest.createIndex(index, indexBody());
  try {
    const s0 = snapshot(ctx.leader, ctx.follower);
    await inParallel(bodies, concurrency, (body) => ctx.follower.rest.bulk(index, body));
    const cpu = delta(s0, snapshot(ctx.leader, ctx.follower));
    return copyResult(docs, cpu, cpu.bench);
  } finally {
    await ctx.follower.rest.deleteIndex(index);
  }
}

/** Tries each (bulk size, concurrency) on `docs` documents and returns the fastest. */
export async function tuneCeiling(ctx: Ctx, docs: number, grid: readonly (readonly [number, number])[]): Promise<{ size: number; concurrency: number; trials: { size: number; concurrency: number; docsPerSecond: number }[] }> {
  const trials: { size: number; concurrency: number; docsPerSecond: number }[] = [];
  for (const size of [...new Set(grid.map(([s]) => s))]) {
    const bodies = ceilingBodies(ctx.seed, docs, size);
    for (const [, concurrency] of grid.filter(([s]) => s === size)) {
      const r = await ceiling(ctx, bodies, docs, concurrency);
      trials.push({ size, concurrency, docsPerSecond: r.docsPerSecond });
      ctx.log(`  ceiling trial: bulk ${size} × ${concurrency} in flight: ${Math.round(r.docsPerSecond)} docs/s`);
    }
  }
  const best = trials.reduce((a, b) => (b.docsPerSecond > a.docsPerSecond ? b : a));
  return { size: best.size, concurrency: best.concurrency, trials };
}

// --- ccr-follow -------------------------------------------------------------------------------

interface ShardStats {
  shard_id: number; follower_global_checkpoint: number; leader_global_checkpoint: number; write_buffer_size_in_bytes: number; peak_write_buffer_size_in_bytes?: number;
  outstanding_read_requests: number; outstanding_write_requests: number; successful_read_requests: number; operations_read: number; successful_write_requests: number; operations_written: number;
  total_read_time_millis: number; total_write_time_millis: number;
  total_read_visibility_wait_millis?: number; total_read_search_millis?: number; total_read_confirm_millis?: number;
  total_write_queued_millis?: number; total_write_bulk_millis?: number;
}
interface FollowerStats {
  shards: ShardStats[]; fatal_exception?: { type: string; reason: string };
  write_concurrency?: { limit: number; last_change: { from: number; to: number; reason: string } };
}

async function stats(daemon: DaemonProcess, index: string): Promise<FollowerStats | undefined> {
  const res = await daemon.api<{ indices: FollowerStats[] }>('GET', `/follower/${index}/_ccr/stats`).catch(() => undefined);
  const s = res?.indices[0];
  if (s?.fatal_exception) throw new Error(`follower/${index} failed: ${s.fatal_exception.type}: ${s.fatal_exception.reason}`);
  return s;
}

/** How the daemon split the work: requests made and operations per request, summed over shards. */
export interface RequestShape {
  readonly reads: number; readonly opsPerRead: number; readonly writes: number; readonly opsPerWrite: number;
  /** Mean time of one read (stats' total_read_time_millis / successful_read_requests) and of one bulk. */
  readonly msPerRead: number; readonly msPerWrite: number;
  /** Where a read's and a bulk's time went, per request (stats' total_read_*_millis, total_write_*_millis). */
  readonly readStages: { readonly visibilityWait: number; readonly search: number; readonly confirm: number };
  readonly writeStages: { readonly queued: number; readonly bulk: number };
  /** The follower cluster's adaptive bulk limit at the end, and why it last changed (absent with explicit parameters). */
  readonly writeLimit?: { readonly limit: number; readonly lastChange: string };
}

function requestShape(s: FollowerStats | undefined): RequestShape {
  const sum = (f: (sh: ShardStats) => number): number => (s?.shards ?? []).reduce((a, sh) => a + (f(sh) ?? 0), 0);
  const reads = sum((sh) => sh.successful_read_requests);
  const writes = sum((sh) => sh.successful_write_requests);
  return {
    reads, opsPerRead: sum((sh) => sh.operations_read) / Math.max(1, reads), writes, opsPerWrite: sum((sh) => sh.operations_written) / Math.max(1, writes),
    msPerRead: sum((sh) => sh.total_read_time_millis) / Math.max(1, reads), msPerWrite: sum((sh) => sh.total_write_time_millis) / Math.max(1, writes),
    readStages: {
      visibilityWait: sum((sh) => sh.total_read_visibility_wait_millis ?? 0) / Math.max(1, reads),
      search: sum((sh) => sh.total_read_search_millis ?? 0) / Math.max(1, reads),
      confirm: sum((sh) => sh.total_read_confirm_millis ?? 0) / Math.max(1, reads),
    },
    writeStages: {
      queued: sum((sh) => sh.total_write_queued_millis ?? 0) / Math.max(1, writes),
      bulk: sum((sh) => sh.total_write_bulk_millis ?? 0) / Math.max(1, writes),
    },
    ...(s?.write_concurrency ? {
      writeLimit: { limit: s.write_concurrency.limit, lastChange: `${s.write_concurrency.last_change.from} → ${s.write_concurrency.last_change.to}: ${s.write_concurrency.last_change.reason}` },
    } : {}),
  };
}


async function follow(daemon: DaemonProcess, leaderIndex: string, followerIndex: string, params: Readonly<Record<string, unknown>>): Promise<void> {
  await daemon.api('PUT', `/follower/${followerIndex}/_ccr/follow`, { remote_cluster: 'leader', leader_index: leaderIndex, ...params });
}

/**
 * Waits until every shard's checkpoint, as the daemon reports it, reaches `checkpoints`. To keep the
 * bench's polling out of the daemon's CPU figures, it first watches the follower's own indexing
 * counter (`_stats/indexing`, primaries.index_total: operations applied, refreshed or not) reach
 * `expectedOps` — every bench write is a new document, indexed exactly once — and only then asks the
 * daemon, every 200 ms, until its checkpoints agree.
 */
async function waitCaughtUp(daemon: DaemonProcess, follower: BenchNode, followerIndex: string, checkpoints: ReadonlyMap<number, number>, expectedOps: number, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await waitFor(async () => {
    if (!daemon.running) throw new Error('the daemon exited');
    return (await indexedOps(follower, followerIndex)) >= expectedOps;
  }, { timeoutMs, intervalMs, message: `follower/${followerIndex} to index ${expectedOps} operations` });
  await waitFor(async () => {
    const s = await stats(daemon, followerIndex);
    if (!s || s.shards.length !== checkpoints.size) return false;
    return s.shards.every((sh) => sh.follower_global_checkpoint >= (checkpoints.get(sh.shard_id) ?? Infinity));
  }, { timeoutMs: Math.max(1000, deadline - Date.now()), intervalMs: 200, message: `follower/${followerIndex} to catch up` });
}

/** Refreshes of an index's primaries so far (summed over shards). */
async function refreshCount(node: BenchNode, index: string): Promise<number> {
  const res = await node.rest.request<{ _all?: { primaries?: { refresh?: { total?: number } } } }>('GET', `/${index}/_stats/refresh?filter_path=_all.primaries.refresh.total`).catch(() => undefined);
  return res?._all?.primaries?.refresh?.total ?? 0;
}

/** Index operations the follower index's primaries have applied (0 while it does not exist). */
async function indexedOps(node: BenchNode, index: string): Promise<number> {
  const res = await node.rest.request<{ _all?: { primaries?: { indexing?: { index_total?: number } } } }>('GET', `/${index}/_stats/indexing?filter_path=_all.primaries.indexing.index_total`).catch(() => undefined);
  return res?._all?.primaries?.indexing?.index_total ?? 0;
}

async function startPinnedDaemon(ctx: Ctx, nodeArgs: readonly string[] = []): Promise<DaemonProcess> {
  const daemon = await startDaemon(ctx.leader, ctx.follower, nodeArgs);
  if (ctx.toolCpus) await pin([daemon.pid], ctx.toolCpus);
  return daemon;
}

/** ccr-follow bootstraps the pre-loaded leader index: from PUT follow until every shard's checkpoint reaches the leader's. */
export async function ccrBootstrap(ctx: Ctx, params: Readonly<Record<string, unknown>>, nodeArgs: readonly string[] = []): Promise<CopyResult> {
  const index = name('bench-ccr');
  const spawned = performance.now();
  const daemon = await startPinnedDaemon(ctx, nodeArgs);
  try {
    const s0 = snapshot(ctx.leader, ctx.follower, daemon.pid);
    const followAfterMs = performance.now() - spawned;
    await follow(daemon, ctx.sourceIndex, index, params);
    await waitCaughtUp(daemon, ctx.follower, index, ctx.sourceCheckpoints, ctx.docs, 30 * 60_000);
    const cpu = delta(s0, snapshot(ctx.leader, ctx.follower, daemon.pid));
    const peak = peakRssBytes(daemon.pid);
    const requests = requestShape(await stats(daemon, index));
    const count = await ctx.follower.rest.count(index);
    if (count !== ctx.docs) throw new Error(`follower/${index} holds ${count} documents after catching up, expected ${ctx.docs}`);
    return copyResult(ctx.docs, cpu, cpu.daemon, { peakRssMb: peak / 2 ** 20, requests, followAfterMs });
  } finally {
    await daemon.stop(60_000);
    await ctx.follower.rest.deleteIndex(index);
  }
}

// --- _reindex from remote -----------------------------------------------------------------------

export async function reindexBootstrap(ctx: Ctx): Promise<CopyResult> {
  const index = name('bench-reindex');
  await ctx.follower.rest.createIndex(index, indexBody());
  try {
    const s0 = snapshot(ctx.leader, ctx.follower);
    const { task } = await ctx.follower.rest.request<{ task: string }>('POST', '/_reindex?wait_for_completion=false', {
      source: { remote: { host: ctx.leader.local.url }, index: ctx.sourceIndex, size: 5000 },
      dest: { index },
    });
    const result = await waitFor(async () => {
      const t = await ctx.follower.rest.request<{ completed: boolean; response?: { created: number; failures: unknown[] }; error?: unknown }>('GET', `/_tasks/${task}`);
      if (t.error) throw new Error(`reindex failed: ${JSON.stringify(t.error)}`);
      return t.completed ? t : false;
    }, { timeoutMs: 30 * 60_000, intervalMs: 50, message: 'reindex to complete' });
    const cpu = delta(s0, snapshot(ctx.leader, ctx.follower));
    if ((result.response?.failures.length ?? 0) > 0) throw new Error(`reindex failures: ${JSON.stringify(result.response?.failures.slice(0, 3))}`);
    await ctx.follower.rest.request('DELETE', `/.tasks/_doc/${task}`).catch(() => undefined);
    const count = await ctx.follower.rest.count(index);
    if (count !== ctx.docs) throw new Error(`reindex copied ${count} documents, expected ${ctx.docs}`);
    // The work happens inside the follower node: it is the "tool".
    return copyResult(ctx.docs, cpu, 0, { note: 'runs inside the follower node' });
  } finally {
    await ctx.follower.rest.deleteIndex(index);
  }
}

// --- elasticdump ------------------------------------------------------------------------------

export const ELASTICDUMP_VERSION = '6.125.1';
export const ELASTICDUMP_ARGS = ['--type=data', '--limit=10000', '--concurrency=4'];

export async function ensureElasticdump(repoRoot: string, log: (msg: string) => void): Promise<string> {
  const prefix = join(repoRoot, 'bench', '.tools');
  const bin = join(prefix, 'node_modules', 'elasticdump', 'bin', 'elasticdump');
  if (existsSync(bin)) return bin;
  log(`installing elasticdump@${ELASTICDUMP_VERSION} into bench/.tools (once)`);
  await runChild('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, `elasticdump@${ELASTICDUMP_VERSION}`], repoRoot);
  if (!existsSync(bin)) throw new Error(`npm install did not produce ${bin}`);
  return bin;
}

function runChild(cmd: string, args: readonly string[], cwd: string, onSpawn?: (pid: number) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
    if (child.pid !== undefined && onSpawn) void onSpawn(child.pid).catch(() => undefined);
    activeChildren.add(child.pid ?? -1);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      activeChildren.delete(child.pid ?? -1);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code ?? signal}:\n${err}`));
    });
  });
}

/** Tool processes running now (killed by pid on an interrupt). */
export const activeChildren = new Set<number>();

export async function elasticdumpBootstrap(ctx: Ctx, bin: string, repoRoot: string): Promise<CopyResult> {
  const index = name('bench-elasticdump');
  await ctx.follower.rest.createIndex(index, indexBody());
  try {
    const s0 = snapshot(ctx.leader, ctx.follower);
    await runChild(process.execPath, [bin, `--input=${ctx.leader.local.url}/${ctx.sourceIndex}`, `--output=${ctx.follower.local.url}/${index}`, ...ELASTICDUMP_ARGS],
      repoRoot, ctx.toolCpus ? (pid) => pin([pid], ctx.toolCpus!) : undefined);
    const cpu = delta(s0, snapshot(ctx.leader, ctx.follower));
    const count = await ctx.follower.rest.count(index);
    if (count !== ctx.docs) throw new Error(`elasticdump copied ${count} documents, expected ${ctx.docs}`);
    return copyResult(ctx.docs, cpu, cpu.tool);
  } finally {
    await ctx.follower.rest.deleteIndex(index);
  }
}

// --- saturated tail ---------------------------------------------------------------------------

export interface TailResult {
  readonly seconds: number;
  readonly written: number;
  readonly replicatedAtEnd: number;
  readonly writtenPerSecond: number;
  readonly replicatedPerSecond: number;
  readonly replicatedRatio: number;
  readonly drainSeconds: number;
  readonly daemonCpuPer100k: number;
  readonly cpu: CpuDelta;
  readonly requests: RequestShape;
  /** Refreshes of the leader index per second (summed over its 3 shards) while written and followed. */
  readonly leaderRefreshesPerSecond: number;
  /** [seconds since the writers started, documents written to the leader but not yet indexed on the follower], every second. */
  readonly lagSeries: (readonly [number, number])[];
}

async function followEmpty(ctx: Ctx, params: Readonly<Record<string, unknown>>, prefix: string): Promise<{ leaderIndex: string; followerIndex: string; daemon: DaemonProcess }> {
  const leaderIndex = name(`${prefix}-l`);
  const followerIndex = name(`${prefix}-f`);
  await ctx.leader.rest.createIndex(leaderIndex, indexBody());
  const daemon = await startPinnedDaemon(ctx);
  await follow(daemon, leaderIndex, followerIndex, params);
  await waitFor(async () => (await stats(daemon, followerIndex))?.shards.length === 3, { timeoutMs: 60_000, message: `follower/${followerIndex} to start` });
  return { leaderIndex, followerIndex, daemon };
}

async function cleanup(ctx: Ctx, f: { leaderIndex: string; followerIndex: string; daemon: DaemonProcess }): Promise<void> {
  await f.daemon.stop(60_000);
  await Promise.all([ctx.leader.rest.deleteIndex(f.leaderIndex), ctx.follower.rest.deleteIndex(f.followerIndex)]);
}

/** Writes the leader as fast as it takes for `seconds` while followed. */
export async function saturatedTail(ctx: Ctx, params: Readonly<Record<string, unknown>>, seconds: number): Promise<TailResult> {
  const f = await followEmpty(ctx, params, 'bench-tail');
  try {
    const refreshes0 = await refreshCount(ctx.leader, f.leaderIndex);
    const s0 = snapshot(ctx.leader, ctx.follower, f.daemon.pid);
    const end = performance.now() + seconds * 1000;
    let next = 0;
    let written = 0;
    const BATCH = 2000;
    const writer = async (): Promise<void> => {
      while (performance.now() < end) {
        const from = next;
        next += BATCH;
        await ctx.leader.rest.bulk(f.leaderIndex, pooledBulkBody(ctx.seed, 't', from, from + BATCH));
        written += BATCH;
      }
    };
    const began = performance.now();
    const writers = Promise.all([writer(), writer()]);
    // Awaited below; marked handled now so a failure while we sleep is not an unhandled rejection.
    writers.catch(() => undefined);
    // Documents acknowledged by the leader and not yet indexed by the follower, once a second, until drained.
    const lagSeries: [number, number][] = [];
    let sampling = true;
    const sampler = (async () => {
      for (let tick = 1; sampling; tick += 1) {
        await sleep(Math.max(0, began + tick * 1000 - performance.now()));
        const acknowledged = written;
        lagSeries.push([(performance.now() - began) / 1000, Math.max(0, acknowledged - await indexedOps(ctx.follower, f.followerIndex))]);
      }
    })();
    await sleep(Math.max(0, end - performance.now()));
    const atEnd = await indexedOps(ctx.follower, f.followerIndex);
    const writtenAtEnd = written;
    await writers;
    const stopped = performance.now();
    const seqNos = await ctx.leader.rest.shardSeqNos(f.leaderIndex);
    await waitCaughtUp(f.daemon, ctx.follower, f.followerIndex, new Map([...seqNos].map(([s, v]) => [s, v.maxSeqNo])), written, 10 * 60_000, 20);
    const drainSeconds = (performance.now() - stopped) / 1000;
    sampling = false;
    await sampler;
    const cpu = delta(s0, snapshot(ctx.leader, ctx.follower, f.daemon.pid));
    const requests = requestShape(await stats(f.daemon, f.followerIndex));
    const leaderRefreshesPerSecond = ((await refreshCount(ctx.leader, f.leaderIndex)) - refreshes0) / cpu.seconds;
    return {
      leaderRefreshesPerSecond,
      seconds,
      written,
      replicatedAtEnd: atEnd,
      writtenPerSecond: writtenAtEnd / seconds,
      replicatedPerSecond: atEnd / seconds,
      replicatedRatio: atEnd / writtenAtEnd,
      drainSeconds,
      daemonCpuPer100k: (cpu.daemon / written) * 100_000,
      cpu,
      requests,
      lagSeries,
    };
  } finally {
    await cleanup(ctx, f);
  }
}

// --- lag at a fixed rate ------------------------------------------------------------------------

export interface LagResult {
  readonly docsPerSecond: number;
  readonly probes: number;
  readonly lost: number;
  readonly appliedMs: { p50: number; p99: number; max: number };
  readonly searchableMs: { p50: number; p99: number; max: number };
  readonly requests: RequestShape;
  readonly daemonCpuPer100k: number;
  readonly leaderRefreshesPerSecond: number;
  /** [seconds since the first write, ms from the leader's acknowledgement to applied] per probe. */
  readonly appliedSeries: (readonly [number, number])[];
}

/**
 * Writes the leader at `rate` documents/s (a bulk every 100 ms) for `seconds`; the last document
 * of every other bulk is a probe. From the leader's acknowledgement, one poller asks the follower
 * every 20 ms with a realtime `_mget` (applied) and an `ids` search (searchable) for all probes
 * still pending, so the probe count does not change the load.
 */
export async function lagAtRate(ctx: Ctx, params: Readonly<Record<string, unknown>>, rate: number, seconds: number): Promise<LagResult> {
  const f = await followEmpty(ctx, params, 'bench-lag');
  try {
    const TICK_MS = 100;
    const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1000));
    const pendingApplied = new Map<string, number>();
    const pendingSearchable = new Map<string, number>();
    const appliedMs: number[] = [];
    const searchableMs: number[] = [];
    const appliedSeries: [number, number][] = [];
    const refreshes0 = await refreshCount(ctx.leader, f.leaderIndex);
    const s0 = snapshot(ctx.leader, ctx.follower, f.daemon.pid);
    let writing = true;
    let probes = 0;
    let lastAck = performance.now();

    const start = performance.now();
    const poller = (async () => {
      while (writing || pendingApplied.size > 0 || pendingSearchable.size > 0) {
        const started = performance.now();
        const aIds = [...pendingApplied.keys()];
        const sIds = [...pendingSearchable.keys()];
        await Promise.all([
          aIds.length === 0 ? undefined : ctx.follower.rest.request<{ docs: { _id: string; found?: boolean }[] }>('POST', `/${f.followerIndex}/_mget?_source=false`, { ids: aIds }).then((res) => {
            const now = performance.now();
            for (const d of res.docs) if (d.found) {
              const acked = pendingApplied.get(d._id)!;
              appliedMs.push(now - acked);
              appliedSeries.push([(acked - start) / 1000, now - acked]);
              pendingApplied.delete(d._id);
            }
          }),
          sIds.length === 0 ? undefined : ctx.follower.rest.request<{ hits: { hits: { _id: string }[] } }>('POST', `/${f.followerIndex}/_search`, { size: sIds.length, _source: false, query: { ids: { values: sIds } } }).then((res) => {
            const now = performance.now();
            for (const h of res.hits.hits) if (pendingSearchable.has(h._id)) {
              searchableMs.push(now - pendingSearchable.get(h._id)!);
              pendingSearchable.delete(h._id);
            }
          }),
        ]).catch(() => undefined);
        if (!writing && performance.now() - lastAck > 30_000) break;
        await sleep(Math.max(0, 20 - (performance.now() - started)));
      }
    })();

    const inflight = new Set<Promise<void>>();
    let writeError: unknown;
    const ticks = Math.round((seconds * 1000) / TICK_MS);
    for (let tick = 0; tick < ticks; tick += 1) {
      await sleep(Math.max(0, start + tick * TICK_MS - performance.now()));
      const from = tick * perTick;
      const to = from + perTick;
      const lines: string[] = [];
      for (let n = from; n < to; n += 1) lines.push(`{"index":{"_id":"${documentId('g', n)}"}}`, pooledDocumentJson(ctx.seed, n));
      const probeId = tick % 2 === 0 ? documentId('g', to - 1) : undefined;
      const p = ctx.leader.rest.bulk(f.leaderIndex, `${lines.join('\n')}\n`).then(() => {
        lastAck = performance.now();
        if (probeId) {
          probes += 1;
          pendingApplied.set(probeId, lastAck);
          pendingSearchable.set(probeId, lastAck);
        }
      }).catch((err: unknown) => {
        writeError ??= err;
      }).finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await Promise.all(inflight);
    writing = false;
    await poller;
    if (writeError) throw writeError;
    const lost = pendingApplied.size + pendingSearchable.size;
    const cpu = delta(s0, snapshot(ctx.leader, ctx.follower, f.daemon.pid));
    const requests = requestShape(await stats(f.daemon, f.followerIndex));
    const sum = (v: number[]): { p50: number; p99: number; max: number } => ({ p50: percentile(v, 50), p99: percentile(v, 99), max: v.length ? Math.max(...v) : NaN });
    return {
      docsPerSecond: perTick * (1000 / TICK_MS), probes, lost, appliedMs: sum(appliedMs), searchableMs: sum(searchableMs), requests,
      appliedSeries: appliedSeries.sort((a, b) => a[0] - b[0]),
      daemonCpuPer100k: (cpu.daemon / (ticks * perTick)) * 100_000,
      leaderRefreshesPerSecond: ((await refreshCount(ctx.leader, f.leaderIndex)) - refreshes0) / cpu.seconds,
    };
  } finally {
    await cleanup(ctx, f);
  }
}

// --- RSS with the follower write-blocked ---------------------------------------------------------

export interface BlockedResult {
  readonly docs: number;
  readonly writeBufferLimit: string;
  readonly rssBeforeMb: number;
  readonly rssMaxMb: number;
  readonly peakBufferMb: number;
  /** Most bulk requests in flight (being retried against the block) at once, over all shards. */
  readonly peakOutstandingWrites: number;
  readonly peakOutstandingReads: number;
  readonly drainSeconds: number;
}

/** Follower write-blocked, leader written with `docs` documents: the daemon's RSS must stay bounded by the write buffer. */
export async function writeBlocked(ctx: Ctx, params: Readonly<Record<string, unknown>>, bufferSize: string, docs: number): Promise<BlockedResult> {
  const f = await followEmpty(ctx, { ...params, max_write_buffer_size: bufferSize }, 'bench-blocked');
  try {
    await ctx.follower.rest.request('PUT', `/${f.followerIndex}/_settings`, { 'index.blocks.write': true });
    const rssBefore = rssBytes(f.daemon.pid);
    const sampler = new RssSampler(f.daemon.pid, 100);
    let peakBuffer = 0;
    let peakWrites = 0;
    let peakReads = 0;
    const bufferPoll = setInterval(() => {
      void stats(f.daemon, f.followerIndex).then((s) => {
        const sum = (g: (sh: ShardStats) => number): number => (s?.shards ?? []).reduce((a, sh) => a + g(sh), 0);
        peakBuffer = Math.max(peakBuffer, sum((sh) => sh.write_buffer_size_in_bytes));
        peakWrites = Math.max(peakWrites, sum((sh) => sh.outstanding_write_requests));
        peakReads = Math.max(peakReads, sum((sh) => sh.outstanding_read_requests));
      }, () => undefined);
    }, 200);
    try {
      const starts = Array.from({ length: Math.ceil(docs / 5000) }, (_, i) => i * 5000);
      await inParallel(starts, 2, (from) => ctx.leader.rest.bulk(f.leaderIndex, pooledBulkBody(ctx.seed, 'b', from, Math.min(docs, from + 5000))));
      // Let the reads run into the full buffer.
      await sleep(5_000);
    } finally {
      clearInterval(bufferPoll);
    }
    const rssMax = sampler.stop();
    const final = await stats(f.daemon, f.followerIndex);
    peakBuffer = Math.max(peakBuffer, (final?.shards ?? []).reduce((a, sh) => a + (sh.peak_write_buffer_size_in_bytes ?? 0), 0));
    const released = performance.now();
    await ctx.follower.rest.request('PUT', `/${f.followerIndex}/_settings`, { 'index.blocks.write': null });
    const seqNos = await ctx.leader.rest.shardSeqNos(f.leaderIndex);
    await waitCaughtUp(f.daemon, ctx.follower, f.followerIndex, new Map([...seqNos].map(([s, v]) => [s, v.maxSeqNo])), docs, 10 * 60_000);
    return {
      docs,
      writeBufferLimit: bufferSize,
      rssBeforeMb: rssBefore / 2 ** 20,
      rssMaxMb: rssMax / 2 ** 20,
      peakBufferMb: peakBuffer / 2 ** 20,
      peakOutstandingWrites: peakWrites,
      peakOutstandingReads: peakReads,
      drainSeconds: (performance.now() - released) / 1000,
    };
  } finally {
    await cleanup(ctx, f);
  }
}

// --- many indices bootstrapping at once -------------------------------------------------------

export interface ManySources {
  readonly indices: readonly string[];
  readonly checkpoints: ReadonlyMap<string, ReadonlyMap<number, number>>;
  readonly docsEach: number;
}

export interface ManyResult {
  readonly indices: number;
  readonly docs: number;
  readonly seconds: number;
  readonly docsPerSecond: number;
  readonly daemonCpuPer100k: number;
  readonly peakRssMb: number;
}

/** `count` leader indices of 3 shards holding `docsEach` documents each, loaded once per pair. */
export async function loadMany(ctx: Pick<Ctx, 'leader' | 'seed' | 'log'>, count: number, docsEach: number): Promise<ManySources> {
  const indices = Array.from({ length: count }, (_, i) => `bench-many-${String(i).padStart(2, '0')}`);
  const checkpoints = new Map<string, ReadonlyMap<number, number>>();
  for (const index of indices) checkpoints.set(index, await loadLeader(ctx, index, docsEach));
  return { indices, checkpoints, docsEach };
}

/**
 * One daemon follows every index of `sources` at once (all PUT follow together): from the first
 * request until every shard of every follower has reached its leader's checkpoint. The bench polls
 * one `_stats` of all the follower indices, not the daemon, until they hold every document.
 */
export async function ccrBootstrapMany(ctx: Ctx, sources: ManySources, params: Readonly<Record<string, unknown>>): Promise<ManyResult> {
  const prefix = name('bench-many-f');
  const followers = sources.indices.map((leaderIndex) => ({ leaderIndex, followerIndex: `${prefix}-${leaderIndex.slice(-2)}` }));
  const total = sources.docsEach * sources.indices.length;
  const daemon = await startPinnedDaemon(ctx);
  try {
    const s0 = snapshot(ctx.leader, ctx.follower, daemon.pid);
    await Promise.all(followers.map((f) => follow(daemon, f.leaderIndex, f.followerIndex, params)));
    await waitFor(async () => {
      if (!daemon.running) throw new Error('the daemon exited');
      return (await indexedOps(ctx.follower, `${prefix}-*`)) >= total;
    }, { timeoutMs: 30 * 60_000, intervalMs: 100, message: `${followers.length} followers to index ${total} operations` });
    for (const f of followers) await waitCaughtUp(daemon, ctx.follower, f.followerIndex, sources.checkpoints.get(f.leaderIndex)!, sources.docsEach, 60_000);
    const cpu = delta(s0, snapshot(ctx.leader, ctx.follower, daemon.pid));
    return {
      indices: followers.length, docs: total, seconds: cpu.seconds, docsPerSecond: total / cpu.seconds,
      daemonCpuPer100k: (cpu.daemon / total) * 100_000, peakRssMb: peakRssBytes(daemon.pid) / 2 ** 20,
    };
  } finally {
    await daemon.stop(60_000);
    // By name: Elasticsearch 8 refuses to delete indices by wildcard (action.destructive_requires_name).
    await ctx.follower.rest.deleteIndex(followers.map((f) => f.followerIndex).join(','));
  }
}
