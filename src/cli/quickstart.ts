/**
 * `ccr-follow quickstart`: the embedded default. With no clusters configured it starts a local
 * Elasticsearch leader and an OpenSearch follower (the pinned test distributions, fetched with
 * Maven), runs a daemon in this process, writes a stream of sample time-series documents to the
 * leader, follows them and prints live stats until Ctrl-C (or --duration). Everything it started
 * is stopped on the way out.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import nodePath from 'node:path';
import type { ClusterConfig } from '../cluster/cluster-config.js';
import { ClusterClient } from '../cluster/cluster-client.js';
import { DEFAULT_DISTRIBUTIONS, LocalNode } from '../local-cluster/index.js';
import { Daemon } from '../daemon/daemon.js';
import { createLogger } from '../daemon/logger.js';
import { SecretRegistry } from '../util/secrets.js';
import { sleep } from '../util/sleep.js';
import { resolveConfig } from './cli-config.js';
import { ExitCodes } from './exit-codes.js';
import { renderStats } from './format.js';
import type { CliIo } from './main.js';
import { SampleWriter } from './sample-writer.js';

// A fresh suffix per run, so a quickstart against configured clusters never collides with an earlier one.
const RUN = Date.now().toString(36);
const LEADER_INDEX = `quickstart-metrics-${RUN}`;
const FOLLOWER_INDEX = `quickstart-metrics-${RUN}-replica`;

export interface QuickstartOptions {
  readonly configFile: string | undefined;
  readonly durationSeconds: number | undefined;
  readonly io: CliIo;
}

export async function runQuickstart({ configFile, durationSeconds, io }: QuickstartOptions): Promise<number> {
  const secrets = new SecretRegistry();
  const config = await resolveConfig(configFile, io.env, io.cwd, secrets);
  const workDir = await mkdtemp(nodePath.join(tmpdir(), 'ccr-follow-quickstart-'));
  // mkdtemp makes the folder private; the nodes run as an unprivileged user when we are root.
  await chmod(workDir, 0o755);
  const logger = createLogger({ level: 'warn', format: 'text', secrets });
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let leaderConfig = config.clusters.get('leader');
    let followerConfig = config.clusters.get('follower');
    if (!leaderConfig || !followerConfig) {
      io.out('No clusters "leader" and "follower" configured: starting a local Elasticsearch leader and OpenSearch follower…');
      const nodes = [
        new LocalNode({ name: 'leader', distribution: DEFAULT_DISTRIBUTIONS.elasticsearch, baseDir: workDir, log: (m) => io.out(`  ${m}`) }),
        new LocalNode({ name: 'follower', distribution: DEFAULT_DISTRIBUTIONS.opensearch, baseDir: workDir, log: (m) => io.out(`  ${m}`) }),
      ];
      cleanups.push(() => Promise.allSettled(nodes.map((n) => n.stop())));
      await Promise.all(nodes.map((n) => n.start()));
      leaderConfig = localCluster('leader', nodes[0]!.url);
      followerConfig = localCluster('follower', nodes[1]!.url);
    }
    const daemon = await Daemon.start({
      config: { ...config, clusters: new Map([['leader', leaderConfig], ['follower', followerConfig]]), stateDir: nodePath.join(workDir, 'state'), control: { host: '127.0.0.1', port: 0 } },
      logger,
    });
    cleanups.unshift(() => daemon.stop());
    io.out(`daemon control API at ${daemon.url} (try: ccr-follow --url ${daemon.url} stats)`);
    // The control server answers a browser's GET / with the live status page (status-page.ts); no
    // token here, since the quickstart's daemon listens on loopback without one.
    io.out(`status page at ${daemon.url}/ (open it in a browser)`);

    const leader = await ClusterClient.connect(leaderConfig);
    cleanups.push(() => leader.close());
    io.out(`leader:   ${leaderConfig.urls[0]} (${leader.info.flavor} ${leader.info.version})`);
    const writer = new SampleWriter(leader, LEADER_INDEX);
    await writer.prepare();
    await writer.writeBatch();
    const writing = writer.run(stop.signal);
    await daemon.manager.follow({ leaderCluster: 'leader', leaderIndex: LEADER_INDEX, followerCluster: 'follower', followerIndex: FOLLOWER_INDEX });
    io.out(`following leader/${LEADER_INDEX} → follower/${FOLLOWER_INDEX}; Ctrl-C to stop\n`);

    const deadline = durationSeconds === undefined ? Infinity : Date.now() + durationSeconds * 1000;
    while (!stop.signal.aborted && Date.now() < deadline) {
      io.out(`${new Date().toISOString()}  leader documents written: ${writer.written}\n${renderStats(daemon.manager.stats())}\n`);
      await sleep(Math.min(2000, Math.max(0, deadline - Date.now())), stop.signal).catch(() => undefined);
    }
    stop.abort();
    await writing;
    const [stats] = daemon.manager.stats();
    io.out(`stopped. ${writer.written} documents written to the leader; ${stats?.operations_written ?? 0} operations applied to the follower.`);
    return stats?.fatal_exception ? ExitCodes.failed : ExitCodes.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const cleanup of cleanups) await cleanup().catch((err: unknown) => io.err(`cleanup: ${(err as Error).message}`));
    await logger.close();
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function localCluster(alias: string, url: string): ClusterConfig {
  return { alias, urls: [url], auth: { type: 'none' }, requestTimeoutMs: 30_000 };
}
