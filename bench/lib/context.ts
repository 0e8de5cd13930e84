/** The nodes of one pair, the daemon as a child process, CPU snapshots across all of them. */
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterConfig } from '../../src/cluster/cluster-config.js';
import { ELASTICSEARCH_8, LocalNode, OPENSEARCH_3, ensureDistribution, type Distribution } from '../../src/local-cluster/index.js';
import type { TestCluster } from '../../test/helpers/clusters.js';
import { DaemonProcess, stopAllDaemonProcesses } from '../../test/helpers/daemon-process.js';
import type { LogLevel } from '../../src/util/logger.js';
import type { PairName } from './env.js';
import { Rest } from './http.js';
import { groupCpuSeconds, groupPids, processCpuSeconds, reapedChildrenCpuSeconds } from './proc.js';

export interface BenchNode {
  readonly role: 'leader' | 'follower';
  readonly local: LocalNode;
  readonly rest: Rest;
  readonly label: string;
  cpuSeconds(): number;
  pids(): number[];
}

const DISTRIBUTIONS: Record<PairName, [Distribution, Distribution]> = {
  'es-es': [ELASTICSEARCH_8, ELASTICSEARCH_8],
  'os-os': [OPENSEARCH_3, OPENSEARCH_3],
  'es-os': [ELASTICSEARCH_8, OPENSEARCH_3],
};

export function pairHasTools(pair: PairName): boolean {
  // _reindex from remote exists only on the OpenSearch 3.6 zip, and both it and elasticdump need
  // GET / on the source, which ES 8.19's test zip answers 405.
  return pair === 'os-os';
}

/** A leader and a follower node of `pair`, or of the two `distributions` given instead of the pair's. */
export async function startPair(
  pair: PairName, heap: string, log: (msg: string) => void, distributions: readonly [Distribution, Distribution] = DISTRIBUTIONS[pair],
): Promise<{ leader: BenchNode; follower: BenchNode }> {
  // Fresh every time: a directory left by an earlier run whose process had the same id holds
  // another node's data, which a node of another version refuses to start on.
  const baseDir = await mkdtemp(join(tmpdir(), `ccr-follow-bench-${process.pid}-`));
  await chmod(baseDir, 0o755);
  const [ld, fd] = distributions;
  for (const d of new Set([ld, fd])) await ensureDistribution(d, { log });
  const make = (role: 'leader' | 'follower', dist: Distribution): LocalNode => new LocalNode({
    name: `bench-${role}`,
    distribution: dist,
    baseDir,
    heap,
    startTimeoutMs: 240_000,
    // Remote reindex reads from the leader on loopback; harmless on the leader itself.
    extraSettings: dist.flavor === 'opensearch' && dist.major >= 3 ? { 'reindex.remote.allowlist': '127.0.0.1:*' } : {},
    log,
  });
  const nodes = [make('leader', ld), make('follower', fd)];
  livePairNodes.push(...nodes);
  await Promise.all(nodes.map((n) => n.start()));
  const wrap = (role: 'leader' | 'follower', local: LocalNode): BenchNode => ({
    role,
    local,
    rest: new Rest(local.url),
    label: `${local.flavor === 'elasticsearch' ? 'Elasticsearch' : 'OpenSearch'} ${local.version ?? local.distribution.version}`,
    cpuSeconds: () => groupCpuSeconds(local.pid!),
    pids: () => groupPids(local.pid!),
  });
  return { leader: wrap('leader', nodes[0]!), follower: wrap('follower', nodes[1]!) };
}

/** Nodes started and not yet stopped, for the signal handlers. */
export const livePairNodes: LocalNode[] = [];

export async function stopNodes(): Promise<void> {
  const nodes = livePairNodes.splice(0);
  await Promise.allSettled(nodes.map((n) => n.stop()));
}

function fakeCluster(url: string): TestCluster {
  const config = (alias: string): ClusterConfig => ({ alias, urls: [url], auth: { type: 'none' }, requestTimeoutMs: 120_000 });
  return { clusterConfig: config } as unknown as TestCluster;
}

/** A daemon with its own state directory, or sharing the state index `stateIndex` in the follower cluster (leases). */
export async function startDaemon(leader: BenchNode, follower: BenchNode, nodeArgs: readonly string[] = [], stateIndex?: string): Promise<DaemonProcess> {
  return DaemonProcess.start({
    leader: fakeCluster(leader.local.url), follower: fakeCluster(follower.local.url), logLevel: (process.env['BENCH_DAEMON_LOG'] ?? 'warn') as LogLevel, nodeArgs, startTimeoutMs: 60_000,
    ...(stateIndex === undefined ? {} : { stateIndex }),
  });
}

export interface CpuSnapshot {
  readonly at: number;
  readonly leader: number;
  readonly follower: number;
  readonly daemon: number;
  readonly bench: number;
  /** Children of the bench that exited and were reaped (elasticdump). */
  readonly reaped: number;
}

export function snapshot(leader: BenchNode, follower: BenchNode, daemonPid?: number): CpuSnapshot {
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    leader: leader.cpuSeconds(),
    follower: follower.cpuSeconds(),
    daemon: daemonPid === undefined ? 0 : processCpuSeconds(daemonPid),
    bench: (usage.user + usage.system) / 1e6,
    reaped: reapedChildrenCpuSeconds(),
  };
}

export interface CpuDelta {
  readonly seconds: number;
  readonly leader: number;
  readonly follower: number;
  readonly daemon: number;
  readonly bench: number;
  readonly tool: number;
}

export function delta(a: CpuSnapshot, b: CpuSnapshot): CpuDelta {
  return {
    seconds: (b.at - a.at) / 1000,
    leader: b.leader - a.leader,
    follower: b.follower - a.follower,
    daemon: b.daemon - a.daemon,
    bench: b.bench - a.bench,
    tool: b.reaped - a.reaped,
  };
}

/**
 * Runs a bench's `main`, then stops every daemon and node it started — also on SIGINT/SIGTERM
 * (exit 130) and on an error (exit code 1, with its stack): nothing is left running.
 */
export function runBench(main: () => Promise<void>): void {
  const cleanUp = async (): Promise<void> => {
    await stopAllDaemonProcesses();
    await stopNodes();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
  }
  main().then(cleanUp, async (err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    await cleanUp();
    process.exitCode = 1;
  });
}
