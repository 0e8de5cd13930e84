/**
 * Issue 6, test 4: a document written directly to the follower (an update of a replicated one,
 * and one the leader never had) is detected, counted in `foreign_writes_detected`, and put back
 * when `repair_foreign_writes` is on — or left alone, only reported, when it is off.
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { Flavor } from '../../src/cluster/types.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import { compareIndices, connect, createLeaderIndex, startTestDaemon, statsOf, waitForCaughtUp, type TestDaemon } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const PAIRS: readonly (readonly [Flavor, Flavor])[] = [['elasticsearch', 'elasticsearch'], ['opensearch', 'opensearch'], ['elasticsearch', 'opensearch']];
const short = (f: Flavor): string => (f === 'elasticsearch' ? 'ES' : 'OS');

describe('writes made to a follower index behind ccr-follow\'s back', function () {
  this.timeout(180_000);

  for (const [leaderFlavor, followerFlavor] of PAIRS) {
    describe(`${short(leaderFlavor)} → ${short(followerFlavor)}`, () => {
      let daemon: TestDaemon;
      let leader: ClusterClient;
      let follower: ClusterClient;

      before(async () => {
        const pair = (await testClusters()).pair(leaderFlavor, followerFlavor);
        daemon = await startTestDaemon(pair);
        [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
      });

      after(async () => {
        await daemon?.stop();
        await Promise.all([leader?.close(), follower?.close()]);
      });

      async function followAndTamper(repair: boolean): Promise<{ leaderIndex: string; followerIndex: string }> {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        await createLeaderIndex(leader, leaderIndex);
        await leader.writeDocuments(leaderIndex, Array.from({ length: 30 }, (_, n) => ({ op: 'index' as const, id: `doc-${n}`, source: { n } })));
        await daemon.daemon.manager.follow({
          leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex,
          params: { reconcile_interval: '300ms', repair_foreign_writes: repair },
        });
        await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);
        expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
        await follower.writeDocuments(followerIndex, [
          { op: 'index', id: 'doc-7', source: { n: 7, tampered: true } },
          { op: 'index', id: 'intruder', source: { n: -1 } },
        ]);
        await waitFor(() => statsOf(daemon.daemon, followerIndex).foreign_writes_detected >= 2, {
          timeoutMs: 60_000, intervalMs: 200, message: () => `the foreign writes to be detected (${statsOf(daemon.daemon, followerIndex).foreign_writes_detected} so far)`,
        });
        return { leaderIndex, followerIndex };
      }

      it('detects them and puts the leader\'s documents back when repair is on', async () => {
        const { leaderIndex, followerIndex } = await followAndTamper(true);
        await waitFor(async () => (await compareIndices(leader, leaderIndex, follower, followerIndex)).length === 0 || undefined, {
          timeoutMs: 60_000, intervalMs: 300, message: 'the follower to equal the leader again',
        });
        const shards = statsOf(daemon.daemon, followerIndex).shards;
        expect(shards.reduce((sum, s) => sum + s.foreign_writes_repaired, 0)).to.equal(2);
        // A later leader update of the repaired document still wins.
        await leader.writeDocuments(leaderIndex, [{ op: 'index', id: 'doc-7', source: { n: 7, updated: 'after repair' } }]);
        await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);
        expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
      });

      it('only reports them when repair is off', async () => {
        const { leaderIndex, followerIndex } = await followAndTamper(false);
        const diffs = await compareIndices(leader, leaderIndex, follower, followerIndex);
        expect(diffs.some((d) => d.includes('[doc-7] _source differs'))).to.equal(true);
        expect(diffs.some((d) => d.includes('[intruder] on the follower only'))).to.equal(true);
        expect(statsOf(daemon.daemon, followerIndex).shards.reduce((sum, s) => sum + s.foreign_writes_repaired, 0)).to.equal(0);
      });
    });
  }
});
