/**
 * The setup most replication tests share: for one leader → follower flavor pair, an in-process
 * daemon and a client of each cluster, created before the describe's tests and closed after, and
 * the indices a test registers deleted at the end.
 */
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { Flavor } from '../../src/cluster/types.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import { testClusters } from './clusters.js';
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

  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not ready: use it inside a test, after the before hook`);
    return value;
  };
  return {
    get daemon() { return ready(testDaemon, 'the daemon').daemon; },
    get leader() { return ready(leader, 'the leader client'); },
    get follower() { return ready(follower, 'the follower client'); },
    track: (side, index) => { created.push({ side, index }); },
  };
}
