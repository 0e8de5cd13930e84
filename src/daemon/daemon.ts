/**
 * The daemon: state store, cluster clients, follow manager, auto-follow coordinator and control
 * API, started and stopped as one. `stop()` is idempotent, runs every cleanup step even when one
 * fails, and reports the failures together.
 */
import type { FastifyInstance } from 'fastify';
import { AutoFollowCoordinator } from '../autofollow/auto-follow-coordinator.js';
import { MetadataCoordinator } from '../cluster-metadata/metadata-coordinator.js';
import { ClusterRegistry } from '../cluster/cluster-registry.js';
import { FollowManager } from '../follow/follow-manager.js';
import { FileStateStore } from '../state/file-state-store.js';
import { processOwner, STATE_LOCK_TIMEOUT_MS } from '../state/state-lock.js';
import { openClusterState } from './cluster-state.js';
import type { StateStore } from '../state/state-store.js';
import type { Logger } from '../util/logger.js';
import type { DaemonConfig } from './config.js';
import { checkControlBinding } from './control-auth.js';
import { buildControlServer } from './control-server.js';
import { FollowerHistory } from './follower-history.js';
import { promoteManyService } from './promote-many-api.js';
import { VERSION } from './version.js';

export interface DaemonOptions {
  readonly config: DaemonConfig;
  readonly logger: Logger;
  /** Defaults to the file state store in `config.stateDir`. */
  readonly openState?: (config: DaemonConfig) => Promise<StateStore>;
  readonly clusters?: ClusterRegistry;
  readonly checkpointIntervalMs?: number;
  /** How often auto-follow asks each leader cluster for new indices (default 2 s); tests shorten it. */
  readonly autoFollowPollIntervalMs?: number;
  /** How often each follower is sampled for the status page's history (default 10 s); tests shorten it. */
  readonly historyIntervalMs?: number;
  /** How often each cluster-metadata pattern is compared (default 10 s); tests shorten it. */
  readonly metadataPollIntervalMs?: number;
}

export class Daemon {
  readonly #logger: Logger;
  readonly #state: StateStore;
  readonly #clusters: ClusterRegistry;
  readonly manager: FollowManager;
  readonly autoFollow: AutoFollowCoordinator;
  readonly metadata: MetadataCoordinator;
  readonly #server: FastifyInstance;
  readonly #history: FollowerHistory;
  #stopping: Promise<void> | undefined;
  readonly url: string;
  /** Resolves with the reason when the daemon stopped by itself (it lost the state it worked on). */
  readonly stoppedByItself: Promise<string>;
  #stoppedByItself: (reason: string) => void = () => undefined;

  private constructor(parts: {
    logger: Logger; state: StateStore; clusters: ClusterRegistry; manager: FollowManager; autoFollow: AutoFollowCoordinator; metadata: MetadataCoordinator;
    server: FastifyInstance; history: FollowerHistory; url: string;
  }) {
    this.stoppedByItself = new Promise((resolve) => (this.#stoppedByItself = resolve));
    this.#logger = parts.logger;
    this.#state = parts.state;
    this.#clusters = parts.clusters;
    this.manager = parts.manager;
    this.autoFollow = parts.autoFollow;
    this.metadata = parts.metadata;
    this.#server = parts.server;
    this.#history = parts.history;
    this.url = parts.url;
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    const { config, logger } = options;
    // Before anything is opened: an exposed control API without a token must not run even briefly.
    checkControlBinding(config.control);
    const clusters = options.clusters ?? new ClusterRegistry(config.clusters);
    // The daemon does not exist yet while the state opens; a lock lost before it does stops it as soon as it does.
    let lostBeforeStart: string | undefined;
    let onLockLost = (reason: string): void => {
      lostBeforeStart = reason;
    };
    const state = await (options.openState ?? ((c) => openState(c, clusters, (reason) => onLockLost(reason))))(config).catch(async (err: unknown) => {
      await clusters.close();
      throw err;
    });
    for (const warning of clusters.securityWarnings()) logger.warn(warning);
    const manager = new FollowManager({ clusters, state, logger, checkpointIntervalMs: options.checkpointIntervalMs });
    const autoFollow = new AutoFollowCoordinator({ clusters, state, followers: manager, logger, pollIntervalMs: options.autoFollowPollIntervalMs });
    const metadata = new MetadataCoordinator({ clusters, state, logger, pollIntervalMs: options.metadataPollIntervalMs });
    const promoteMany = promoteManyService({ manager, autoFollow, state, clusters, logger, metadata });
    const history = new FollowerHistory({ stats: () => manager.stats(), intervalMs: options.historyIntervalMs });
    const server = buildControlServer({ manager, autoFollow, logger, version: VERSION, token: config.control.token, promoteMany, history, metadata });
    try {
      await manager.restore();
      // After the followers: a pattern's first round must see them, or it would follow again.
      await autoFollow.restore();
      await metadata.restore();
      const address = await server.listen({ host: config.control.host, port: config.control.port });
      const where = config.stateCluster ? { state_cluster: `${config.stateCluster.alias}/${config.stateCluster.index}` } : { state_dir: config.stateDir };
      logger.info(`ccr-follow ${VERSION} daemon listening on ${address}`, { ...where, clusters: clusters.aliases });
      const daemon = new Daemon({ logger, state, clusters, manager, autoFollow, metadata, server, history, url: address });
      history.start();
      onLockLost = (reason) => daemon.#lockLost(reason);
      if (lostBeforeStart !== undefined) daemon.#lockLost(lostBeforeStart);
      return daemon;
    } catch (err) {
      await Promise.allSettled([server.close(), autoFollow.close(), metadata.close()]);
      await Promise.allSettled([manager.close()]);
      await Promise.allSettled([state.close()]);
      await Promise.allSettled([clusters.close()]);
      throw err;
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  /** Another daemon may take the state over from now on: stop every task at once, and say why. */
  #lockLost(reason: string): void {
    this.#logger.error(`stopping: the state is no longer this daemon's: ${reason}`);
    void this.stop().catch((err: unknown) => this.#logger.error(`daemon did not stop cleanly: ${(err as Error).message}`))
      .finally(() => this.#stoppedByItself(reason));
  }

  async #shutdown(): Promise<void> {
    this.#logger.info('daemon stopping: finishing in-flight writes and saving checkpoints');
    const failures: unknown[] = [];
    const step = async (fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        failures.push(err);
      }
    };
    this.#history.stop();
    await step(() => this.#server.close());
    // Before the followers: no round may start a follower while they are being stopped.
    await step(() => this.autoFollow.close());
    await step(() => this.metadata.close());
    await step(() => this.manager.close());
    // The state before the clusters: a state index is written (and its lock freed) through them.
    await step(() => this.#state.close());
    await step(() => this.#clusters.close());
    if (failures.length > 0) throw new AggregateError(failures, 'daemon did not stop cleanly');
    this.#logger.info('daemon stopped');
  }
}

/**
 * The state directory, or the state index of `daemon.state.cluster` when the config names one,
 * taken for this daemon alone (`onLockLost`: it was taken over, or could not be renewed in time).
 */
async function openState(config: DaemonConfig, clusters: ClusterRegistry, onLockLost: (reason: string) => void): Promise<StateStore> {
  if (!config.stateCluster) return FileStateStore.open(config.stateDir);
  const lock = { owner: processOwner(), timeoutMs: STATE_LOCK_TIMEOUT_MS, onLost: onLockLost };
  return openClusterState(await clusters.client(config.stateCluster.alias), config.stateCluster.index, lock);
}
