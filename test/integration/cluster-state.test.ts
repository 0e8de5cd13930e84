/**
 * The cluster state backend on a real Elasticsearch 8 and a real OpenSearch 2 node: records and
 * checkpoints round-trip through the state index; two daemons' stores racing on one checkpoint
 * never move it backwards (the older write loses its version check and is merged); a record
 * changed by another store is a conflict, not a silent overwrite; and a daemon started afresh on
 * the same state index carries on from the stored checkpoints.
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import { openClusterState } from '../../src/daemon/cluster-state.js';
import { StateConflictError } from '../../src/state/state-store.js';
import { LOCK_ID, StateInUseError } from '../../src/state/state-lock.js';
import { FollowerNotFoundError, type FollowerRecord } from '../../src/state/state-store.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import { compareIndices, connect, createLeaderIndex, RandomWorkload, startTestDaemon, waitForCaughtUp } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

function record(followerIndex: string, overrides: Partial<FollowerRecord> = {}): FollowerRecord {
  return {
    leaderCluster: 'leader', leaderIndex: `l-${followerIndex}`, followerCluster: 'follower', followerIndex,
    params: { max_read_request_operation_count: 5120 }, status: 'active', createdAt: '2026-12-04T00:00:00.000Z', ...overrides,
  };
}

describe('the cluster state backend', function () {
  this.timeout(240_000);

  for (const flavor of ['elasticsearch', 'opensearch'] as const) {
    describe(`kept on ${flavor === 'elasticsearch' ? 'Elasticsearch 8' : 'OpenSearch 2'}`, () => {
      let client: ClusterClient;
      const stateIndices: string[] = [];

      before(async () => {
        const clusters = await testClusters();
        client = await connect(flavor === 'elasticsearch' ? clusters.esFollower : clusters.osFollower, 'follower');
      });

      after(async () => {
        for (const index of stateIndices) await client?.deleteIndex(index).catch(() => undefined);
        await client?.close();
      });

      const newStateIndex = (): string => {
        const index = `.${uniqueName('ccr-state')}`;
        stateIndices.push(index);
        return index;
      };

      it('creates a hidden one-shard state index and round-trips records, checkpoints and patterns', async () => {
        const index = newStateIndex();
        const store = await openClusterState(client, index);
        const settings = (await client.indexMetadata(index)).settings;
        expect(settings['index.number_of_shards']).to.equal('1');
        expect(settings['index.auto_expand_replicas']).to.equal('0-1');
        expect(settings['index.hidden']).to.equal('true');

        await store.putFollower(record('orders'));
        await store.putFollower(record('logs', { status: 'paused', fatalException: { type: 'x', reason: 'y', at: '2026-12-04T00:00:01.000Z' } }));
        await store.saveCheckpoints('follower/orders', { 0: 41, 1: -1, 2: 7 });
        expect(await store.getFollower('follower/orders')).to.deep.equal(record('orders'));
        expect((await store.listFollowers()).map((r) => r.followerIndex)).to.deep.equal(['logs', 'orders']);
        expect(await store.loadCheckpoints('follower/orders')).to.deep.equal({ 0: 41, 1: -1, 2: 7 });
        expect(await store.loadCheckpoints('follower/logs')).to.deep.equal({});
        let refused: unknown;
        await store.saveCheckpoints('follower/nobody', { 0: 1 }).catch((err: unknown) => (refused = err));
        expect(refused).to.be.instanceOf(FollowerNotFoundError);

        await store.putAutoFollowPattern({
          name: 'daily', remoteCluster: 'leader', followerCluster: 'follower', leaderIndexPatterns: ['logs-*'], leaderIndexExclusionPatterns: [],
          followIndexPattern: '{{leader_index}}-copy', params: {}, status: 'active', createdAt: '2026-12-04T00:00:00.000Z', activeSince: '2026-12-04T00:00:00.000Z',
        });
        await store.saveHandledIndices('daily', [{ leaderIndex: 'logs-1', outcome: 'existing', at: '2026-12-04T00:00:00.000Z' }]);
        expect((await store.listAutoFollowPatterns()).map((p) => p.name)).to.deep.equal(['daily']);
        expect(await store.loadHandledIndices('daily')).to.have.length(1);

        const promotion = {
          leaderCluster: 'leader', leaderIndex: 'l-logs', followerCluster: 'follower', followerIndex: 'logs',
          promotedAt: '2026-12-04T00:00:02.000Z', shards: { 0: { leaderCheckpoint: 9, maxSeqNo: 12 } },
          recoveryPoint: { leaderSeenAt: '2026-12-04T00:00:01.000Z', leaderCheckpoints: { 0: 11 }, operationsApplied: 10, operationsMissingAtLeast: 2, secondsPossiblyMissing: 1.5 },
          run: { startedAt: '2026-12-04T00:00:01.500Z', followers: 2, operationsMissingAtLeast: 2, unknownFollowers: 1 },
        };
        await store.putPromotion(promotion);
        expect(await store.getPromotion('follower/logs')).to.deep.equal(promotion);

        const metadataPattern = {
          name: 'dr', remoteCluster: 'leader', followerCluster: 'follower', include: { ingest_pipeline: ['*'] }, exclude: {},
          status: 'active' as const, createdAt: '2026-12-07T00:00:00.000Z', synced: { 'ingest_pipeline/p': { leaderFingerprint: 'a', followerFingerprint: 'b' } },
        };
        await store.putMetadataPattern(metadataPattern);
        expect(await store.listMetadataPatterns()).to.deep.equal([metadataPattern]);
        await store.deleteMetadataPattern('dr');
        expect(await store.listMetadataPatterns()).to.deep.equal([]);
        expect(await store.listPromotions()).to.deep.equal([promotion]);
        expect(await store.getPromotion('follower/orders')).to.equal(undefined);

        await store.deleteFollower('follower/orders');
        expect(await store.getFollower('follower/orders')).to.equal(undefined);
        expect(await store.loadCheckpoints('follower/orders')).to.deep.equal({});
        await store.close();

        // Another daemon opening the same index sees what is left.
        const again = await openClusterState(client, index);
        expect((await again.listFollowers()).map((r) => r.followerIndex)).to.deep.equal(['logs']);
        await again.close();
      });

      it('is held by one daemon at a time: refused while held, taken over once expired, lost when taken over', async () => {
        const index = newStateIndex();
        const owner = (id: string) => ({ id, host: 'test-host', pid: 4242 });
        const lostA: string[] = [];
        const a = await openClusterState(client, index, { owner: owner('a'), timeoutMs: 1500, onLost: (r) => lostA.push(r) });
        await a.putFollower(record('locked'));
        let refused: unknown;
        await openClusterState(client, index, { owner: owner('b'), timeoutMs: 1500, onLost: () => undefined }).catch((err: unknown) => (refused = err));
        expect(refused).to.be.instanceOf(StateInUseError);
        expect((refused as Error).message).to.contain('test-host (pid 4242)');

        // Someone else takes the lock over (as a daemon would after a's lock had expired): a learns it at its next renewal.
        const lock = await client.getVersionedDocument(index, LOCK_ID);
        expect(await client.putDocumentIf(index, LOCK_ID, { kind: 'lock', key: 'daemon', owner: 'c', host: 'elsewhere', pid: 1, expires_at: Date.now() + 1200 }, { version: lock! }))
          .to.not.equal('conflict');
        await waitFor(() => lostA.length > 0 || undefined, { timeoutMs: 5_000, intervalMs: 50, message: 'a to learn that it lost the lock' });
        expect(lostA[0]).to.contain('another daemon has taken the state over');
        let afterLoss: unknown;
        await a.saveCheckpoints('follower/locked', { 0: 5 }).catch((err: unknown) => (afterLoss = err));
        expect((afterLoss as Error | undefined)?.message).to.contain('no longer this daemon\'s');

        // c never renews (it died): once its lock has expired, b takes the state over.
        await waitFor(async () => {
          const b = await openClusterState(client, index, { owner: owner('b'), timeoutMs: 1500, onLost: () => undefined }).catch((err: unknown) => {
            if (err instanceof StateInUseError) return undefined;
            throw err;
          });
          if (!b) return undefined;
          expect((await b.listFollowers()).map((r) => r.followerIndex)).to.deep.equal(['locked']);
          await b.close();
          return true;
        }, { timeoutMs: 10_000, intervalMs: 200, message: 'b to take the expired lock over' });
        await a.close();
      });

      it('never moves a checkpoint backwards when two daemons race, and refuses to overwrite a record it has not read', async () => {
        const index = newStateIndex();
        const a = await openClusterState(client, index);
        await a.putFollower(record('race'));
        await a.saveCheckpoints('follower/race', { 0: 10, 1: 10 });
        const b = await openClusterState(client, index);
        expect(await b.loadCheckpoints('follower/race')).to.deep.equal({ 0: 10, 1: 10 });

        await a.saveCheckpoints('follower/race', { 0: 100, 1: 20 });
        // b's write is older than a's: its version check fails, and it is merged with what a wrote.
        await b.saveCheckpoints('follower/race', { 0: 50, 1: 30 });
        expect(await a.loadCheckpoints('follower/race')).to.deep.equal({ 0: 100, 1: 30 });
        await a.saveCheckpoints('follower/race', { 0: 120, 1: 20 });
        expect(await b.loadCheckpoints('follower/race')).to.deep.equal({ 0: 120, 1: 30 });

        // Records: b read the record, a changed it since; b's change is refused, a's stays.
        await b.getFollower('follower/race');
        await a.putFollower(record('race', { status: 'paused' }));
        let conflict: unknown;
        await b.putFollower(record('race', { params: { max_read_request_operation_count: 1 } })).catch((err: unknown) => (conflict = err));
        expect(conflict).to.be.instanceOf(StateConflictError);
        expect((await a.getFollower('follower/race'))?.status).to.equal('paused');
        expect((await a.getFollower('follower/race'))?.params).to.deep.equal(record('race').params);
        await Promise.all([a.close(), b.close()]);
      });
    });
  }

  it('lets a daemon started afresh on the same state index carry on from the stored checkpoints', async () => {
    const pair = (await testClusters()).pair('elasticsearch', 'opensearch');
    const [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
    const stateIndex = `.${uniqueName('ccr-state')}`;
    const leaderIndex = uniqueName('leader');
    const followerIndex = uniqueName('follower');
    try {
      await createLeaderIndex(leader, leaderIndex);
      const workload = new RandomWorkload(leader, leaderIndex, { seed: 16, ids: 500 });
      await workload.run(4);
      const first = await startTestDaemon({ ...pair, stateIndex });
      await first.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
      await waitForCaughtUp(first.daemon, leader, leaderIndex, followerIndex);
      // A second daemon on the same state joins instead of being refused; the follower stays with
      // the first, which holds its lease, and the second names it.
      const joined = await startTestDaemon({ ...pair, stateIndex });
      try {
        expect(joined.daemon.manager.has(`follower/${followerIndex}`), 'run by the daemon that joined').to.equal(false);
        expect(() => joined.daemon.manager.stats(`follower/${followerIndex}`)).to.throw(/is run by the daemon on .*control API http/);
      } finally {
        await joined.stop();
      }
      await first.stop();

      // A new daemon, another state directory: all it has is the state index.
      await workload.run(4);
      const second = await startTestDaemon({ ...pair, stateIndex });
      try {
        const restored = await waitFor(() => {
          const stats = second.daemon.manager.stats(`follower/${followerIndex}`)[0];
          return stats && stats.shards.length === 3 ? stats : undefined;
        }, { timeoutMs: 60_000, intervalMs: 100, message: 'the follow to be restored from the state index with its 3 shards' });
        expect(restored.shards.map((s) => s.follower_global_checkpoint >= 0), 'every shard resumed above -1').to.deep.equal([true, true, true]);
        await waitForCaughtUp(second.daemon, leader, leaderIndex, followerIndex);
        expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);

        // Another daemon takes the follower's lease over (as after a partition): this one stops it at its next renewal.
        const leaseId = `lease:follower:follower/${followerIndex}`;
        const lease = await follower.getVersionedDocument(stateIndex, leaseId);
        await follower.putDocumentIf(stateIndex, leaseId, { kind: 'lease', key: `follower:follower/${followerIndex}`, owner: 'other', host: 'elsewhere', pid: 1 }, { version: lease! });
        await waitFor(() => !second.daemon.manager.has(`follower/${followerIndex}`) || undefined,
          { timeoutMs: 30_000, intervalMs: 200, message: 'the daemon to stop the follower whose lease another took' });
        // Named as the owner from the next scan on (every third of the lease timeout).
        await waitFor(() => {
          try {
            second.daemon.manager.stats(`follower/${followerIndex}`);
            return undefined;
          } catch (err) {
            return /is run by the daemon on elsewhere \(pid 1\)/.test((err as Error).message) || undefined;
          }
        }, { timeoutMs: 15_000, intervalMs: 200, message: 'the daemon to name the one that took the lease' });
      } finally {
        await second.stop();
      }
    } finally {
      for (const [c, i] of [[leader, leaderIndex], [follower, followerIndex], [follower, stateIndex]] as const) await c.deleteIndex(i).catch(() => undefined);
      await Promise.all([leader.close(), follower.close()]);
    }
  });
});
