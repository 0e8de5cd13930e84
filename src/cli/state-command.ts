/**
 * `ccr-follow state migrate --to cluster|local`: moves the daemon's state between the local state
 * directory (`daemon.state_dir`) and the state index of `daemon.state.cluster`, with the daemon
 * stopped. The local directory's lock proves no daemon uses it; the source is left unchanged.
 */
import { ClusterRegistry, UnknownClusterError } from '../cluster/cluster-registry.js';
import { openClusterState } from '../daemon/cluster-state.js';
import { FileStateStore } from '../state/file-state-store.js';
import { processOwner, STATE_LOCK_TIMEOUT_MS } from '../state/state-lock.js';
import { migrateState } from '../state/migrate-state.js';
import type { StateStore } from '../state/state-store.js';
import { SecretRegistry } from '../util/secrets.js';
import { resolveConfig } from './cli-config.js';
import { ExitCodes } from './exit-codes.js';
import type { CliIo } from './main.js';
import { UsageError } from './target.js';

export type StateBackend = 'cluster' | 'local';

export function parseBackend(value: string): StateBackend {
  if (value === 'cluster' || value === 'local') return value;
  throw new UsageError(`--to must be cluster or local, got ${JSON.stringify(value)}`);
}

export async function runStateMigrate(opts: { configFile: string | undefined; to: StateBackend; io: CliIo }): Promise<number> {
  const { io } = opts;
  const config = await resolveConfig(opts.configFile, io.env, io.cwd, new SecretRegistry());
  const target = config.stateCluster;
  if (!target) {
    throw new UsageError('the config names no state cluster: set daemon.state.cluster (the alias of the cluster that keeps the state) to migrate to or from it');
  }
  const clusters = new ClusterRegistry(config.clusters);
  const opened: StateStore[] = [];
  try {
    // The directory first: its lock refuses while a daemon runs on it.
    const local = await FileStateStore.open(config.stateDir);
    opened.push(local);
    const client = await clusters.client(target.alias).catch((err: unknown) => {
      throw err instanceof UnknownClusterError ? new UsageError(err.message) : err;
    });
    // Held for the migration: refused while a daemon uses the state index, and no daemon starts on it meanwhile.
    const lock = { owner: processOwner('state-migrate'), timeoutMs: STATE_LOCK_TIMEOUT_MS, onLost: () => undefined };
    const remote = await openClusterState(client, target.index, lock);
    opened.push(remote);
    const localName = `the state directory ${config.stateDir}`;
    const remoteName = `the state index ${target.alias}/${target.index}`;
    const [from, to, fromName, toName] = opts.to === 'cluster' ? [local, remote, localName, remoteName] : [remote, local, remoteName, localName];
    const summary = await migrateState(from, to);
    io.out(`migrated ${summary.followers} follower(s) with ${summary.checkpoints} shard checkpoint(s) and ${summary.patterns} auto-follow pattern(s) `
      + `with ${summary.handledIndices} handled index(es), ${summary.promotions} promotion record(s) and ${summary.metadataPatterns} cluster-metadata pattern(s) from ${fromName} to ${toName}; the source is unchanged.`);
    io.out(opts.to === 'cluster'
      ? 'The daemon uses the state index while daemon.state.cluster is set: start it again.'
      : 'Remove daemon.state from the config so that the daemon uses the state directory, then start it again.');
    return ExitCodes.ok;
  } finally {
    // The stores first: the state index's lock is freed through the cluster's client.
    await Promise.allSettled(opened.map((s) => s.close()));
    await clusters.close();
  }
}
