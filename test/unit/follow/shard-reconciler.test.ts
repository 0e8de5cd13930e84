/**
 * What one reconciliation pass finds and does (ShardReconcilerImpl), over in-memory clusters
 * (fake-cluster.ts): the paths a real pair of nodes cannot be made to take on demand, such as a
 * leader index re-created between the comparison and the deletes, or a primary not started. The
 * repair of foreign writes is left to the integration tests.
 */
import { expect } from 'chai';
import { classify } from '../../../src/cluster/classify.js';
import { ClusterShardUnavailableError, IndexReplacedError } from '../../../src/cluster/errors.js';
import { IndexIdentity } from '../../../src/follow/index-identity.js';
import { ShardReconcilerImpl } from '../../../src/follow/shard-reconciler.js';
import { externalVersion } from '../../../src/shard/external-version.js';
import { silentLogger } from '../../../src/util/logger.js';
import { FakeCluster, type FakeIndex } from './fake-cluster.js';

describe('ShardReconcilerImpl', () => {
  let leader: FakeCluster;
  let follower: FakeCluster;
  let leaderIndex: FakeIndex;
  let followerIndex: FakeIndex;
  let identity: IndexIdentity;
  let reconciler: ShardReconcilerImpl;
  const never = new AbortController().signal;

  beforeEach(() => {
    leader = new FakeCluster('leader');
    follower = new FakeCluster('follower');
    leaderIndex = leader.add('orders');
    followerIndex = follower.add('orders-copy');
    identity = new IndexIdentity(leader.client, 'orders', 'leader', leaderIndex.uuid);
    reconciler = new ShardReconcilerImpl({
      leader: leader.client, leaderIndex: 'orders', follower: follower.client, followerIndex: 'orders-copy', shard: 0,
      repairForeignWrites: false, logger: silentLogger, leaderIdentity: identity,
    });
  });
  afterEach(() => identity.close());

  /** Copies every live leader document to the follower, as the shard task writes them. */
  async function replicate(): Promise<void> {
    const ops = [...leaderIndex.docs].map(([id, d]) => ({ op: 'index' as const, id, routing: d.routing, version: externalVersion(d.seqNo), sourceJson: d.sourceJson }));
    await follower.client.bulkExternal('orders-copy', ops);
    follower.bulks.length = 0;
  }

  it('scans nothing while the follower holds no more documents than the leader', async () => {
    for (const id of ['a', 'b', 'c']) leaderIndex.index(id);
    await replicate();
    const outcome = await reconciler.reconcile(never);
    expect(outcome).to.deep.equal({
      leaderMaxSeqNo: 2, excess: 0, scanned: false, idsChecked: 0, deleted: 0, clean: true, foreignWritesDetected: 0, foreignWritesRepaired: 0,
    });
    expect(leader.callsOf('multiGet')).to.deep.equal([]);
  });

  it('deletes on the follower what the leader deleted, at a version above every leader operation seen before the get', async () => {
    for (const id of ['a', 'b', 'c', 'd']) leaderIndex.index(id);
    await replicate();
    leaderIndex.delete('b');
    leaderIndex.delete('d');
    const outcome = await reconciler.reconcile(never);
    expect(outcome).to.include({ excess: 2, scanned: true, deleted: 2, clean: true, leaderMaxSeqNo: 5 });
    expect([...followerIndex.docs.keys()].sort()).to.deep.equal(['a', 'c']);
    expect(follower.bulks).to.deep.equal([[
      { op: 'delete', id: 'b', routing: undefined, version: externalVersion(5) },
      { op: 'delete', id: 'd', routing: undefined, version: externalVersion(5) },
    ]]);
  });

  it('never deletes a document it did not write (a foreign write), and counts that write once', async () => {
    leaderIndex.index('a');
    await replicate();
    followerIndex.index('written-on-the-follower');
    const first = await reconciler.reconcile(never);
    expect(first).to.include({ excess: 1, scanned: true, deleted: 0, clean: true, foreignWritesDetected: 1, foreignWritesRepaired: 0 });
    expect(followerIndex.docs.has('written-on-the-follower')).to.equal(true);
    expect(follower.bulks).to.deep.equal([]);
    // Audited already: the next pass does not count it again.
    expect((await reconciler.reconcile(never)).foreignWritesDetected).to.equal(0);
  });

  it('after a fail-back, deletes documents left with their old versions, writes above the version base, and judges only later changes as foreign', async () => {
    // The old leader's own documents (internal versions), equal to the leader's: a fail-back left them as they were.
    for (const id of ['a', 'b', 'c']) {
      leaderIndex.index(id);
      followerIndex.index(id);
      followerIndex.index(id);
    }
    const base = 2048;
    const failedBack = new ShardReconcilerImpl({
      leader: leader.client, leaderIndex: 'orders', follower: follower.client, followerIndex: 'orders-copy', shard: 0,
      repairForeignWrites: false, logger: silentLogger, leaderIdentity: identity, failback: { versionBase: base, auditFrom: followerIndex.maxSeqNo },
    });
    leaderIndex.delete('b');
    const first = await failedBack.reconcile(never);
    expect(first).to.include({ excess: 1, deleted: 1, foreignWritesDetected: 0 });
    expect(follower.bulks).to.deep.equal([[{ op: 'delete', id: 'b', routing: undefined, version: base + externalVersion(leaderIndex.maxSeqNo) }]]);
    // A foreign write after the fail-back, over a document left as it was: its version is still below the base.
    followerIndex.index('a');
    expect((await failedBack.reconcile(never)).foreignWritesDetected).to.equal(1);
  });

  it('deletes nothing when the leader index was deleted and created again under its name', async () => {
    for (const id of ['a', 'b']) leaderIndex.index(id);
    await replicate();
    // The new index lacks every document of the old history: none of that proves a delete.
    const replaced = leader.recreate('orders');
    replaced.index('a');
    const err = await reconciler.reconcile(never).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(IndexReplacedError);
    expect(follower.bulks).to.deep.equal([]);
    expect([...followerIndex.docs.keys()].sort()).to.deep.equal(['a', 'b']);
  });

  it('answers a leader shard without a started primary with a retryable error', async () => {
    leaderIndex.globalCheckpoint = null;
    const err = await reconciler.reconcile(never).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ClusterShardUnavailableError);
    expect(classify(err)).to.include({ action: 'retry', kind: 'shard_unavailable' });
  });

  describe('idle passes (with the shared probes)', () => {
    let clock: number;
    let idle: ShardReconcilerImpl;

    beforeEach(() => {
      clock = 1000;
      idle = new ShardReconcilerImpl({
        leader: leader.client, leaderIndex: 'orders', follower: follower.client, followerIndex: 'orders-copy', shard: 0,
        repairForeignWrites: false, logger: silentLogger, leaderIdentity: identity,
        // The watcher's latest answer is always newer than the last pass here.
        leaderSeen: () => ({ maxSeqNo: leaderIndex.maxSeqNo, at: clock }),
        followerMaxSeqNo: async () => followerIndex.maxSeqNo,
        now: () => clock - 1,
      });
    });

    it('asks neither cluster anything when neither max seq_no moved since the last pass', async () => {
      for (const id of ['a', 'b', 'c']) leaderIndex.index(id);
      await replicate();
      await idle.reconcile(never);
      expect(leader.callsOf('countShard')).to.have.length(1);
      leader.calls.length = 0;
      follower.calls.length = 0;
      clock += 1000;
      const outcome = await idle.reconcile(never);
      expect(outcome).to.deep.include({ leaderMaxSeqNo: 2, excess: 0, clean: true, scanned: false });
      expect(leader.calls).to.deep.equal([]);
      expect(follower.calls).to.deep.equal([]);
    });

    it('compares again, leader included, once the leader had an operation (a delete)', async () => {
      for (const id of ['a', 'b', 'c']) leaderIndex.index(id);
      await replicate();
      await idle.reconcile(never);
      clock += 1000;
      leaderIndex.delete('b');
      const outcome = await idle.reconcile(never);
      expect(outcome).to.deep.include({ leaderMaxSeqNo: 3, excess: 1, deleted: 1 });
      expect(followerIndex.docs.has('b')).to.equal(false);
    });

    it('with the leader unchanged, looks at the follower alone once something was written to it, counting the leader as the last pass did', async () => {
      for (const id of ['a', 'b']) leaderIndex.index(id);
      await replicate();
      await idle.reconcile(never);
      clock += 1000;
      leader.calls.length = 0;
      // A document the leader never had, with a version that looks replicated: the counts find it.
      await follower.client.bulkExternal('orders-copy', [{ op: 'index', id: 'stray', routing: undefined, version: externalVersion(0), sourceJson: '{}' }]);
      const outcome = await idle.reconcile(never);
      expect(outcome).to.deep.include({ excess: 1, deleted: 1 });
      expect(leader.callsOf('countShard')).to.deep.equal([]);
      expect(leader.callsOf('refresh')).to.deep.equal([]);
      expect(followerIndex.docs.has('stray')).to.equal(false);
    });
  });
});
