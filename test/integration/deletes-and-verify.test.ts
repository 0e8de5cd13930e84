/**
 * Issue 4: deletes reach the follower through reconciliation, a re-created document always
 * survives its own earlier delete, no id is scanned while nothing was deleted, and `verify`
 * (the same comparison, offline) proves two indices equal or names what differs.
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { Flavor } from '../../src/cluster/types.js';
import { compareIndices as verifyIndices } from '../../src/verify/compare-indices.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import {
  compareIndices, connect, createLeaderIndex, RandomWorkload, shardDocuments, startTestDaemon, statsOf, waitForCaughtUp, type TestDaemon,
} from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const PAIRS: readonly (readonly [Flavor, Flavor])[] = [
  ['elasticsearch', 'elasticsearch'], ['opensearch', 'opensearch'], ['elasticsearch', 'opensearch'], ['opensearch', 'elasticsearch'],
];
const short = (f: Flavor): string => (f === 'elasticsearch' ? 'ES' : 'OS');
const FAST_RECONCILE = { reconcile_interval: '500ms' };

describe('replicating deletes', function () {
  this.timeout(300_000);

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

      const follow = (leaderIndex: string, followerIndex: string): Promise<unknown> =>
        daemon.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex, params: FAST_RECONCILE });

      /** Polls until the follower equals the leader document by document. */
      const converged = (leaderIndex: string, followerIndex: string): Promise<true> =>
        waitFor(async () => (await compareIndices(leader, leaderIndex, follower, followerIndex)).length === 0 || undefined, {
          timeoutMs: 90_000, intervalMs: 250, message: `follower/${followerIndex} to equal leader/${leaderIndex}`,
        });

      it('applies a randomized index / update / delete workload: verify and an independent comparison agree', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        await createLeaderIndex(leader, leaderIndex);
        const workload = new RandomWorkload(leader, leaderIndex, { seed: 99, ids: 600, routedShare: 0.3, deleteShare: 0.33 });
        await workload.run(5);
        await follow(leaderIndex, followerIndex);
        await workload.run(20);
        await converged(leaderIndex, followerIndex);
        // Whether the stream's deletes had to be reconciled depends on timing: delete 25 documents the
        // follower certainly holds, then measure how long until the follower reflects them.
        await leader.refresh(leaderIndex);
        const present = [...(await shardDocuments(leader, leaderIndex, 0)).entries(), ...(await shardDocuments(leader, leaderIndex, 1)).entries()].slice(0, 25);
        expect(present).to.have.length(25);
        await leader.writeDocuments(leaderIndex, present.map(([id, doc]) => ({ op: 'delete' as const, id, ...(doc.routing === undefined ? {} : { routing: doc.routing }) })));
        const lastDelete = Date.now();
        await converged(leaderIndex, followerIndex);
        console.log(`      last delete reflected on the follower after ${Date.now() - lastDelete} ms`);
        expect(statsOf(daemon.daemon, followerIndex).operations_deleted).to.be.at.least(25);

        const report = await verifyIndices({ client: leader, index: leaderIndex }, { client: follower, index: followerIndex });
        expect(report.identical, JSON.stringify(report.shards)).to.equal(true);
        expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
      });

      it('keeps a document deleted and re-created in quick succession, equal to the leader\'s', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        await createLeaderIndex(leader, leaderIndex);
        await leader.writeDocuments(leaderIndex, [{ op: 'index', id: 'phoenix', source: { n: 0 } }, { op: 'index', id: 'other', source: { n: -1 } }]);
        await follow(leaderIndex, followerIndex);
        for (let round = 1; round <= 15; round += 1) {
          await leader.writeDocuments(leaderIndex, [{ op: 'delete', id: 'phoenix' }]);
          await leader.writeDocuments(leaderIndex, [{ op: 'index', id: 'phoenix', source: { n: round } }]);
        }
        await converged(leaderIndex, followerIndex);
        await follower.refresh(followerIndex);
        const [doc] = await follower.multiGet(followerIndex, [{ id: 'phoenix', routing: undefined }], true);
        expect(doc?.found).to.equal(true);
        expect(JSON.parse(doc!.sourceJson!)).to.deep.equal({ n: 15 });
      });

      it('scans no ids while the leader has deleted nothing', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        await createLeaderIndex(leader, leaderIndex);
        const workload = new RandomWorkload(leader, leaderIndex, { seed: 5, ids: 500 });
        await workload.run(3);
        await follow(leaderIndex, followerIndex);
        await workload.run(10);
        await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);
        // Reconciliation did run (the counts were compared) on every shard...
        await waitFor(() => statsOf(daemon.daemon, followerIndex).shards.every((s) => s.reconciliations > 0), {
          timeoutMs: 30_000, message: 'a reconciliation pass on every shard',
        });
        // ...but never had to scan ids.
        const shards = statsOf(daemon.daemon, followerIndex).shards;
        expect(shards.map((s) => s.reconciliation_id_scans)).to.deep.equal([0, 0, 0]);
        expect(shards.map((s) => s.reconciliation_ids_checked)).to.deep.equal([0, 0, 0]);
        expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
      });
    });
  }
});
