/**
 * A document written directly to the follower (an update of a replicated one, and one the leader
 * never had) is detected, counted in `foreign_writes_detected`, and put back when
 * `repair_foreign_writes` is on — or left alone, only reported, when it is off.
 */
import { expect } from 'chai';
import { uniqueName } from '../helpers/clusters.js';
import { FLAVOR_PAIRS, pairTitle, useFollowPair } from '../helpers/follow-fixture.js';
import { compareIndices, createLeaderIndex, statsOf, waitForCaughtUp } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';


describe('writes made to a follower index behind ccr-follow\'s back', function () {
  this.timeout(180_000);

  for (const flavors of FLAVOR_PAIRS.slice(0, 3)) {
    describe(pairTitle(flavors), () => {
      const pair = useFollowPair(flavors);

      before(async () => {
      });

      async function followAndTamper(repair: boolean): Promise<{ leaderIndex: string; followerIndex: string }> {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        await createLeaderIndex(pair.leader, leaderIndex);
        await pair.leader.writeDocuments(leaderIndex, Array.from({ length: 30 }, (_, n) => ({ op: 'index' as const, id: `doc-${n}`, source: { n } })));
        await pair.daemon.manager.follow({
          leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex,
          params: { reconcile_interval: '300ms', repair_foreign_writes: repair },
        });
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).to.deep.equal([]);
        await pair.follower.writeDocuments(followerIndex, [
          { op: 'index', id: 'doc-7', source: { n: 7, tampered: true } },
          { op: 'index', id: 'intruder', source: { n: -1 } },
        ]);
        await waitFor(() => statsOf(pair.daemon, followerIndex).foreign_writes_detected >= 2, {
          timeoutMs: 60_000, intervalMs: 200, message: () => `the foreign writes to be detected (${statsOf(pair.daemon, followerIndex).foreign_writes_detected} so far)`,
        });
        return { leaderIndex, followerIndex };
      }

      it('detects them and puts the leader\'s documents back when repair is on', async () => {
        const { leaderIndex, followerIndex } = await followAndTamper(true);
        await waitFor(async () => (await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).length === 0 || undefined, {
          timeoutMs: 60_000, intervalMs: 300, message: 'the follower to equal the leader again',
        });
        const shards = statsOf(pair.daemon, followerIndex).shards;
        expect(shards.reduce((sum, s) => sum + s.foreign_writes_repaired, 0)).to.equal(2);
        // A later leader update of the repaired document still wins.
        await pair.leader.writeDocuments(leaderIndex, [{ op: 'index', id: 'doc-7', source: { n: 7, updated: 'after repair' } }]);
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).to.deep.equal([]);
      });

      it('only reports them when repair is off', async () => {
        const { leaderIndex, followerIndex } = await followAndTamper(false);
        const diffs = await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex);
        expect(diffs.some((d) => d.includes('[doc-7] _source differs'))).to.equal(true);
        expect(diffs.some((d) => d.includes('[intruder] on the follower only'))).to.equal(true);
        expect(statsOf(pair.daemon, followerIndex).shards.reduce((sum, s) => sum + s.foreign_writes_repaired, 0)).to.equal(0);
      });
    });
  }
});
