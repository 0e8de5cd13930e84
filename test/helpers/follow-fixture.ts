/**
 * The setup most replication tests share, for one leader → follower flavor pair, registered as
 * hooks of the calling describe block:
 * - `useClusterPair`: the two test clusters and a client of each, made before the describe's tests;
 *   after them, the caller's own teardown (daemon, writer, …), then the indices the tests
 *   registered are deleted and the clients closed;
 * - `useFollowPair`: the same with an in-process daemon.
 */
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { Flavor } from '../../src/cluster/types.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import { testClusters, uniqueName, type TestCluster } from './clusters.js';
import { connect, startTestDaemon, type TestDaemon } from './replication.js';

/** ES→ES, OS→OS, ES→OS, OS→ES. */
export const FLAVOR_PAIRS: readonly (readonly [Flavor, Flavor])[] = [
  ['elasticsearch', 'elasticsearch'], ['opensearch', 'opensearch'], ['elasticsearch', 'opensearch'], ['opensearch', 'elasticsearch'],
];

export const SAME_FLAVOR_PAIRS = FLAVOR_PAIRS.slice(0, 2);

export function pairTitle([leader, follower]: readonly [Flavor, Flavor]): string {
  const short = (f: Flavor): string => (f === 'elasticsearch' ? 'ES' : 'OS');
  return `${short(leader)} → ${short(follower)}`;
}

export interface ClusterPair {
  /** The leader and follower test clusters (nodes a test may stop or restart unless `external`). */
  readonly pair: { readonly leader: TestCluster; readonly follower: TestCluster };
  readonly leader: ClusterClient;
  readonly follower: ClusterClient;
  /** Deletes `index` on that side when the describe block ends. */
  track(side: 'leader' | 'follower', index: string): void;
  /** A fresh leader and follower index name, both tracked; `key` is the follower's `follower/<index>`. */
  indexNames(): { leaderIndex: string; followerIndex: string; key: string };
}

export interface ClusterPairOptions {
  /**
   * Runs after the describe's tests, before the indices are deleted: stop what the tests left
   * running (a writer, a daemon). `pair` is undefined when the before hook failed.
   */
  readonly teardown?: (pair: ClusterPair['pair'] | undefined) => Promise<unknown>;
}

/** Registers before / after hooks in the calling describe block; read the fields inside tests. */
export function useClusterPair([leaderFlavor, followerFlavor]: readonly [Flavor, Flavor], options: ClusterPairOptions = {}): ClusterPair {
  let pair: ClusterPair['pair'] | undefined;
  let leader: ClusterClient | undefined;
  let follower: ClusterClient | undefined;
  const created: { side: 'leader' | 'follower'; index: string }[] = [];

  before(async () => {
    pair = (await testClusters()).pair(leaderFlavor, followerFlavor);
    [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
  });

  after(async () => {
    try {
      await options.teardown?.(pair);
    } finally {
      await Promise.allSettled(created.map(({ side, index }) => (side === 'leader' ? leader : follower)?.deleteIndex(index)));
      await Promise.all([leader?.close(), follower?.close()]);
    }
  });

  const track = (side: 'leader' | 'follower', index: string): void => {
    created.push({ side, index });
  };
  return {
    get pair() { return ready(pair, 'the cluster pair'); },
    get leader() { return ready(leader, 'the leader client'); },
    get follower() { return ready(follower, 'the follower client'); },
    track,
    indexNames: () => {
      const leaderIndex = uniqueName('leader');
      const followerIndex = uniqueName('follower');
      track('leader', leaderIndex);
      track('follower', followerIndex);
      return { leaderIndex, followerIndex, key: `follower/${followerIndex}` };
    },
  };
}

function ready<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not ready: use it inside a test, after the before hook`);
  return value;
}

export interface FollowPair {
  readonly daemon: Daemon;
  readonly leader: ClusterClient;
  readonly follower: ClusterClient;
  /** Deletes `index` on that side when the describe block ends. */
  track(side: 'leader' | 'follower', index: string): void;
}

/** Registers before / after hooks in the calling describe block; read the fields inside tests. */
export function useFollowPair([leaderFlavor, followerFlavor]: readonly [Flavor, Flavor]): FollowPair {
  let testDaemon: TestDaemon | undefined;
  let leader: ClusterClient | undefined;
  let follower: ClusterClient | undefined;
  const created: { side: 'leader' | 'follower'; index: string }[] = [];

  before(async () => {
    const pair = (await testClusters()).pair(leaderFlavor, followerFlavor);
    console.log(`      leader ${pair.leader.flavor} ${pair.leader.version}, follower ${pair.follower.flavor} ${pair.follower.version}`);
    testDaemon = await startTestDaemon(pair);
    [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
  });

  after(async () => {
    await testDaemon?.stop();
    for (const { side, index } of created) await (side === 'leader' ? leader : follower)?.deleteIndex(index).catch(() => undefined);
    await Promise.all([leader?.close(), follower?.close()]);
  });

  return {
    get daemon() { return ready(testDaemon, 'the daemon').daemon; },
    get leader() { return ready(leader, 'the leader client'); },
    get follower() { return ready(follower, 'the follower client'); },
    track: (side, index) => { created.push({ side, index }); },
  };
}
