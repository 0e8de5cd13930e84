/**
 * Issue 3, tests 1, 2 and 8: a 3-shard leader receiving a randomized stream of index and update
 * operations (custom routing, documents rewritten many times) while it is followed, starting from
 * a non-empty index, ends identical on the follower — for every flavor pair, and with the
 * leader's refresh_interval at -1 (visibility guaranteed by ccr-follow, not by the leader).
 */
import { expect } from 'chai';
import { uniqueName } from '../helpers/clusters.js';
import { FLAVOR_PAIRS, pairTitle, useFollowPair } from '../helpers/follow-fixture.js';
import {
  compareIndices, createLeaderIndex, RandomWorkload, statsOf, waitForCaughtUp,
} from '../helpers/replication.js';

describe('following an index under concurrent writes', function () {
  this.timeout(300_000);

  for (const flavors of FLAVOR_PAIRS) {
    describe(pairTitle(flavors), () => {
      const pair = useFollowPair(flavors);

      it('ends with exactly the leader\'s documents, compared shard by shard', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        await createLeaderIndex(pair.leader, leaderIndex);
        const workload = new RandomWorkload(pair.leader, leaderIndex, { seed: 42, ids: 1500, routedShare: 0.3 });
        await workload.run(10); // a non-empty index before the follow starts: the bootstrap copy

        const started = Date.now();
        await pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
        await workload.run(25); // …and writes while it is followed
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
        console.log(`      ${workload.operations} operations; caught up ${Date.now() - started} ms after the follow started`);

        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).to.deep.equal([]);
        const stats = statsOf(pair.daemon, followerIndex);
        expect(stats.shards).to.have.length(3);
        expect(stats.fatal_exception).to.equal(undefined);
        expect(stats.operations_written).to.be.greaterThan(0);
      });

      it('guarantees visibility itself when the leader never refreshes (refresh_interval -1)', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        await createLeaderIndex(pair.leader, leaderIndex, { refreshInterval: '-1' });
        const workload = new RandomWorkload(pair.leader, leaderIndex, { seed: 7, ids: 800 });
        await workload.run(5);
        await pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
        await workload.run(10);
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).to.deep.equal([]);
      });
    });
  }
});
