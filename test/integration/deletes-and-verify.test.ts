/**
 * Deletes reach the follower through reconciliation, a re-created document always survives its own
 * earlier delete, no id is scanned while nothing was deleted, and `verify` (the same comparison,
 * offline) proves two indices equal or names what differs.
 */
import { expect } from 'chai';
import { compareIndices as verifyIndices } from '../../src/verify/compare-indices.js';
import { uniqueName } from '../helpers/clusters.js';
import { FLAVOR_PAIRS, pairTitle, useFollowPair } from '../helpers/follow-fixture.js';
import {
  compareIndices, createLeaderIndex, RandomWorkload, shardDocuments, statsOf, waitForCaughtUp,
} from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const FAST_RECONCILE = { reconcile_interval: '500ms' };

describe('replicating deletes', function () {
  this.timeout(300_000);

  for (const flavors of FLAVOR_PAIRS) {
    describe(pairTitle(flavors), () => {
      const pair = useFollowPair(flavors);

      const follow = (leaderIndex: string, followerIndex: string): Promise<unknown> =>
        pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex, params: FAST_RECONCILE });

      /** Polls until the follower equals the leader document by document. */
      const converged = (leaderIndex: string, followerIndex: string): Promise<true> =>
        waitFor(async () => (await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).length === 0 || undefined, {
          timeoutMs: 90_000, intervalMs: 250, message: `follower/${followerIndex} to equal leader/${leaderIndex}`,
        });

      it('applies a randomized index / update / delete workload: verify and an independent comparison agree', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        await createLeaderIndex(pair.leader, leaderIndex);
        const workload = new RandomWorkload(pair.leader, leaderIndex, { seed: 99, ids: 600, routedShare: 0.3, deleteShare: 0.33 });
        await workload.run(5);
        await follow(leaderIndex, followerIndex);
        await workload.run(20);
        await converged(leaderIndex, followerIndex);
        // Whether the stream's deletes had to be reconciled depends on timing: delete 25 documents the
        // follower certainly holds, then measure how long until the follower reflects them.
        await pair.leader.refresh(leaderIndex);
        const present = [...(await shardDocuments(pair.leader, leaderIndex, 0)).entries(), ...(await shardDocuments(pair.leader, leaderIndex, 1)).entries()].slice(0, 25);
        expect(present).to.have.length(25);
        await pair.leader.writeDocuments(leaderIndex, present.map(([id, doc]) => ({ op: 'delete' as const, id, ...(doc.routing === undefined ? {} : { routing: doc.routing }) })));
        const lastDelete = Date.now();
        await converged(leaderIndex, followerIndex);
        console.log(`      last delete reflected on the follower after ${Date.now() - lastDelete} ms`);
        expect(statsOf(pair.daemon, followerIndex).operations_deleted).to.be.at.least(25);

        const report = await verifyIndices({ client: pair.leader, index: leaderIndex }, { client: pair.follower, index: followerIndex });
        expect(report.identical, JSON.stringify(report.shards)).to.equal(true);
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).to.deep.equal([]);
      });

      it('keeps a document deleted and re-created in quick succession, equal to the leader\'s', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        await createLeaderIndex(pair.leader, leaderIndex);
        await pair.leader.writeDocuments(leaderIndex, [{ op: 'index', id: 'phoenix', source: { n: 0 } }, { op: 'index', id: 'other', source: { n: -1 } }]);
        await follow(leaderIndex, followerIndex);
        for (let round = 1; round <= 15; round += 1) {
          await pair.leader.writeDocuments(leaderIndex, [{ op: 'delete', id: 'phoenix' }]);
          await pair.leader.writeDocuments(leaderIndex, [{ op: 'index', id: 'phoenix', source: { n: round } }]);
        }
        await converged(leaderIndex, followerIndex);
        await pair.follower.refresh(followerIndex);
        const [doc] = await pair.follower.multiGet(followerIndex, [{ id: 'phoenix', routing: undefined }], true);
        expect(doc?.found).to.equal(true);
        expect(JSON.parse(doc!.sourceJson!)).to.deep.equal({ n: 15 });
      });

      it('scans no ids while the leader has deleted nothing', async () => {
        const leaderIndex = uniqueName('leader');
        const followerIndex = uniqueName('follower');
        await createLeaderIndex(pair.leader, leaderIndex);
        const workload = new RandomWorkload(pair.leader, leaderIndex, { seed: 5, ids: 500 });
        await workload.run(3);
        await follow(leaderIndex, followerIndex);
        await workload.run(10);
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
        // Reconciliation did run (the counts were compared) on every shard...
        await waitFor(() => statsOf(pair.daemon, followerIndex).shards.every((s) => s.reconciliations > 0), {
          timeoutMs: 30_000, message: 'a reconciliation pass on every shard',
        });
        // ...but never had to scan ids.
        const shards = statsOf(pair.daemon, followerIndex).shards;
        expect(shards.map((s) => s.reconciliation_id_scans)).to.deep.equal([0, 0, 0]);
        expect(shards.map((s) => s.reconciliation_ids_checked)).to.deep.equal([0, 0, 0]);
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).to.deep.equal([]);
      });
    });
  }
});
