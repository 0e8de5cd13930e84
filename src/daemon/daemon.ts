/**
 * The daemon: state store, cluster clients, follow manager, auto-follow coordinator and control
 * API, started and stopped as one. `stop()` is idempotent, runs every cleanup step even when one
 * fails, and reports the failures together.
 *
 * With the state in a cluster (`daemon.state.cluster`), several daemons share it: each joins the
 * fleet through a `LeaseKeeper` and runs only the followers and patterns whose lease it holds
 * (leased-work.ts); stopping hands every lease over. With the state directory, one daemon holds it
 * alone (its lock), as before.
 */
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { AutoFollowCoordinator } from '../autofollow/auto-follow-coordinator.js';
import { MetadataCoordinator } from '../cluster-metadata/metadata-coordinator.js';
import { ClusterRegistry } from '../cluster/cluster-registry.js';
import { FollowManager } from '../follow/follow-manager.js';
import { FileStateStore } from '../state/file-state-store.js';
import { LeaseKeeper } from '../lease/lease-keeper.js';
import { ClusterStateStore } from '../state/cluster-state-store.js';
import { processOwner, refuseWhileLocked } from '../state/state-lock.js';
import { openStateDocuments } from './cluster-state.js';
import { type LeasedParts, leasedOwnership, leasedWork } from './leased-work.js';
import type { StateStore } from '../state/state-store.js';
import type { Logger } from '../util/logger.js';
import type { DaemonConfig } from './config.js';
import { checkControlBinding } from './control-auth.js';
import { buildControlServer } from './control-server.js';
import { FollowerHistory } from './follower-history.js';
import { checkLeaderAlias, promoteManyService } from './promote-many-api.js';
import { promoteAcrossFleet } from './fleet-promote.js';
import type { PromoteManyRequest } from '../follow/promote-many.js';
import { VERSION } from './version.js';
import { Fleet, type SelfInfo } from './fleet.js';
import { peerSend } from './peer-client.js';

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
  readonly #leases: LeaseKeeper | undefined;
  #stopping: Promise<void> | undefined;
  readonly url: string;

  private constructor(parts: {
    logger: Logger; state: StateStore; clusters: ClusterRegistry; manager: FollowManager; autoFollow: AutoFollowCoordinator; metadata: MetadataCoordinator;
    server: FastifyInstance; history: FollowerHistory; url: string; leases: LeaseKeeper | undefined;
  }) {
    this.#leases = parts.leases;
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
    const parts: LeasedParts = {};
    const self: SelfInfo = { id: processOwner().id, host: hostname(), pid: process.pid, version: VERSION, started: new Date().toISOString() };
    const { state, leases } = await (options.openState ? options.openState(config).then((s) => ({ state: s, leases: undefined })) : openState(config, clusters, logger, parts, self))
      .catch(async (err: unknown) => {
        await clusters.close();
        throw err;
      });
    for (const warning of clusters.securityWarnings()) logger.warn(warning);
    const manager = new FollowManager({
      clusters, state, logger, checkpointIntervalMs: options.checkpointIntervalMs, ...(leases ? { ownership: leasedOwnership(leases, 'follower') } : {}),
    });
    const autoFollow = new AutoFollowCoordinator({
      clusters, state, followers: manager, logger, pollIntervalMs: options.autoFollowPollIntervalMs, ...(leases ? { ownership: leasedOwnership(leases, 'pattern') } : {}),
    });
    parts.manager = manager;
    parts.autoFollow = autoFollow;
    const metadata = new MetadataCoordinator({
      clusters, state, logger, pollIntervalMs: options.metadataPollIntervalMs, ...(leases ? { ownership: leasedOwnership(leases, 'metadata') } : {}),
    });
    parts.metadata = metadata;
    const promoteMany = promoteManyService({ manager, autoFollow, state, clusters, logger, metadata });
    const history = new FollowerHistory({ stats: () => manager.stats(), intervalMs: options.historyIntervalMs });
    const token = config.control.token === undefined ? {} : { token: config.control.token };
    const fleet = new Fleet({ self, manager, patterns: autoFollow, state, logger: logger.child({ part: 'fleet' }), send: peerSend, ...(leases ? { leases } : {}), ...token });
    // With several daemons, a promotion of many covers the fleet: each daemon promotes those it runs.
    const promoteManyAcrossFleet = leases ? (req: PromoteManyRequest) => promoteAcrossFleet(req, {
      fleet, local: promoteMany, checkLeader: (alias) => checkLeaderAlias(clusters, alias), pauseLocalPattern: (name) => autoFollow.pause(name),
      promoteMetadata: (leader) => metadata.promote(leader === undefined ? {} : { leader }), state, connect: (alias) => clusters.client(alias),
      send: peerSend, logger: logger.child({ part: 'fleet' }), ...token,
    }) : undefined;
    const server = buildControlServer({
      manager, autoFollow, logger, version: VERSION, token: config.control.token, promoteMany, history, metadata, fleet, send: peerSend,
      ...(promoteManyAcrossFleet ? { promoteManyAcrossFleet } : {}),
    });
    try {
      await manager.restore();
      // After the followers: a pattern's first round must see them, or it would follow again.
      await autoFollow.restore();
      await metadata.restore();
      const address = await server.listen({ host: config.control.host, port: config.control.port });
      fleet.control = address;
      const where = config.stateCluster ? { state_cluster: `${config.stateCluster.alias}/${config.stateCluster.index}` } : { state_dir: config.stateDir };
      logger.info(`ccr-follow ${VERSION} daemon listening on ${address}`, { ...where, clusters: clusters.aliases });
      // Joins the others once it can be reached: its heartbeat names this control address.
      if (leases) {
        await leases.start(address);
        logger.info(`joined the daemons sharing ${config.stateCluster!.alias}/${config.stateCluster!.index} as ${leases.memberId}: `
          + `running the followers and patterns whose lease it holds (lease_timeout ${config.leaseTimeoutMs / 1000}s)`);
      }
      const daemon = new Daemon({ logger, state, clusters, manager, autoFollow, metadata, server, history, url: address, leases });
      history.start();
      return daemon;
    } catch (err) {
      await Promise.allSettled([server.close(), leases?.stop()]);
      await Promise.allSettled([autoFollow.close(), metadata.close()]);
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
    // Hands every lease over: each follower and pattern stops here, checkpoints saved, then its
    // lease is marked free, so the other daemons take them at their next scan.
    if (this.#leases) await step(() => this.#leases!.stop());
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
 * The state directory, taken for this daemon alone; or the state index of `daemon.state.cluster`
 * when the config names one, shared with the other daemons through leases (refused while a
 * migration holds it).
 */
async function openState(
  config: DaemonConfig, clusters: ClusterRegistry, logger: Logger, parts: LeasedParts, member: SelfInfo,
): Promise<{ state: StateStore; leases: LeaseKeeper | undefined }> {
  if (!config.stateCluster) return { state: await FileStateStore.open(config.stateDir), leases: undefined };
  const docs = await openStateDocuments(await clusters.client(config.stateCluster.alias), config.stateCluster.index);
  await refuseWhileLocked(docs);
  const leases = new LeaseKeeper({ docs, member, timeoutMs: config.leaseTimeoutMs, work: leasedWork(parts), logger: logger.child({ part: 'leases' }) });
  return { state: new ClusterStateStore(docs), leases };
}
