/**
 * Issue 3, tests 1, 2 and 8: a 3-shard leader receiving a randomized stream of index and update
 * operations (custom routing, documents rewritten many times) while it is followed, starting from
 * a non-empty index, ends identical on the follower — for every flavor pair, and with the
 * leader's refresh_interval at -1 (visibility guaranteed by ccr-follow, not by the leader).
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { Flavor } from '../../src/cluster/types.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import {
  compareIndices, connect, createLeaderIndex, RandomWorkload, startTestDaemon, statsOf, waitForCaughtUp, type TestDaemon,
} from '../helpers/replication.js';

const PAIRS: readonly (readonly [Flavor, Flavor])[] = [
  ['elasticsearch', 'elasticsearch'],
  ['opensearch', 'opensearch'],
  ['elasticsearch', 'opensearch'],
  ['opensearch', 'elasticsearch'],
];
const short = (f: Flavor): string => (f === 'elasticsearch' ? 'ES' : 'OS');

describe('following an index under concurrent writes', function () {
  this.timeout(300_000);

  for (const [leaderFlavor, followerFlavor] of PAIRS) {
    describe(`${short(leaderFlavor)} → ${short(followerFlavor)}`, () => {
      let daemon: TestDaemon;
      let leader: ClusterClient;
      let follower: ClusterClient;

      before(async () => {
        const clusters = await testClusters();
        const pair = clusters.pair(leaderFlavor, followerFlavor);
        console.log(`      leader ${pair.leader.flavor} ${pair.leader.version}, follower ${pair.follower.flavor} ${pair.follower.version}`);
        daemon = await startTestDaemon(pair);
        [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
      });

      after(async () => {
        await daemon?.stop();
        await Promise.all([leader?.close(), follower?.close()]);
      });

      it('ends with exactly the leader\'s documents, compared shard by shard', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        await createLeaderIndex(leader, leaderIndex);
        const workload = new RandomWorkload(leader, leaderIndex, { seed: 42, ids: 1500, routedShare: 0.3 });
        await workload.run(10); // a non-empty index before the follow starts: the bootstrap copy

        const started = Date.now();
        await daemon.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
        await workload.run(25); // …and writes while it is followed
        await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);
        console.log(`      ${workload.operations} operations; caught up ${Date.now() - started} ms after the follow started`);

        expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
        const stats = statsOf(daemon.daemon, followerIndex);
        expect(stats.shards).to.have.length(3);
        expect(stats.fatal_exception).to.equal(undefined);
        expect(stats.operations_written).to.be.greaterThan(0);
      });

      it('guarantees visibility itself when the leader never refreshes (refresh_interval -1)', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        await createLeaderIndex(leader, leaderIndex, { refreshInterval: '-1' });
        const workload = new RandomWorkload(leader, leaderIndex, { seed: 7, ids: 800 });
        await workload.run(5);
        await daemon.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
        await workload.run(10);
        await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);
        expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
      });
    });
  }
});
