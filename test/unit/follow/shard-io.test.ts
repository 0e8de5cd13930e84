/**
 * LeaderShardReaderImpl over in-memory clusters (fake-cluster.ts): which requests one read of
 * operations makes and in what order. Reading and following are tested on real nodes; this pins
 * the order that the guarantees rest on, which a real node cannot be made to expose.
 */
import { expect } from 'chai';
import { IndexReplacedError } from '../../../src/cluster/errors.js';
import { IndexIdentity } from '../../../src/follow/index-identity.js';
import { LeaderIndexWatcher } from '../../../src/follow/leader-index-watcher.js';
import { MetadataSync } from '../../../src/follow/metadata-sync.js';
import { LeaderShardReaderImpl } from '../../../src/follow/shard-io.js';
import { WriteGate } from '../../../src/follow/write-gate.js';
import { silentLogger } from '../../../src/util/logger.js';
import { FakeCluster, FakeIndex, type FakeIndex as Index } from './fake-cluster.js';

describe('LeaderShardReaderImpl', () => {
  let leader: FakeCluster;
  let leaderIndex: Index;
  let watcher: LeaderIndexWatcher;
  let reader: LeaderShardReaderImpl;
  const never = new AbortController().signal;

  beforeEach(() => {
    leader = new FakeCluster('leader');
    const follower = new FakeCluster('follower');
    leaderIndex = leader.add('orders');
    const followerIndex = follower.add('orders-copy');
    for (const id of ['a', 'b', 'c']) leaderIndex.index(id);
    const leaderIdentity = new IndexIdentity(leader.client, 'orders', 'leader', leaderIndex.uuid);
    const followerIdentity = new IndexIdentity(follower.client, 'orders-copy', 'follower', followerIndex.uuid);
    const metadata = new MetadataSync({
      leader: leader.client, leaderIndex: 'orders', follower: follower.client, followerIndex: 'orders-copy', gate: new WriteGate(), logger: silentLogger,
      leaderIdentity, followerIdentity,
    });
    watcher = new LeaderIndexWatcher(leader.client, 'orders', { minPollIntervalMs: 1, maxPollIntervalMs: 2 });
    reader = new LeaderShardReaderImpl(leader.client, 'orders', 0, watcher, metadata, 100, leaderIdentity);
  });
  afterEach(() => watcher.close());

  it('refreshes, searches, then reads the uuid and metadata versions in one request started after the search', async () => {
    const { globalCheckpoint } = await reader.awaitGlobalCheckpoint(-1, 60_000, never);
    leader.calls.length = 0;
    const hits = await reader.read(-1, globalCheckpoint, never);
    expect(hits.map((h) => h.id)).to.deep.equal(['a', 'b', 'c']);
    const order = leader.calls.filter((c) => !c.startsWith('shardSeqNos') && !c.startsWith('indexMetadata'));
    expect(order.slice(0, 3)).to.deep.equal(['refresh orders', 'searchShardBySeqNo orders', 'metadataVersions orders']);
    expect(leader.callsOf('indexUuid'), 'no separate uuid read').to.deep.equal([]);
  });

  it('tells where a read\'s time went: the refresh wait, the search, the check after it', async () => {
    const { globalCheckpoint } = await reader.awaitGlobalCheckpoint(-1, 60_000, never);
    const client = leader.client as unknown as { refresh: (index: string, signal?: AbortSignal) => Promise<void> };
    const refresh = client.refresh.bind(client);
    client.refresh = async (index, signal) => {
      await new Promise((resolve) => setTimeout(resolve, 60));
      return refresh(index, signal);
    };
    await reader.read(-1, globalCheckpoint, never);
    const millis = reader.stageMillis();
    expect(millis.visibilityWait).to.be.at.least(55);
    expect(millis.search).to.be.at.least(0).and.below(millis.visibilityWait);
    expect(millis.confirm).to.be.at.least(0).and.below(millis.visibilityWait);
  });

  it('refuses what it read from a leader index deleted and created again under its name', async () => {
    const { globalCheckpoint } = await reader.awaitGlobalCheckpoint(-1, 60_000, never);
    const again = new FakeIndex('orders', 'a-new-uuid');
    for (const id of ['x', 'y', 'z']) again.index(id);
    leader.indices.set('orders', again);
    const err = await reader.read(-1, globalCheckpoint, never).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(IndexReplacedError);
  });
});
