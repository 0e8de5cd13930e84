/**
 * A resume while the state index refuses writes, on a real Elasticsearch node: the follower's state
 * index is made read-only (`index.blocks.write`) during a `resume`. The resume is refused with
 * `state_write_exception`, naming the state index and the block, and changes nothing: the follower
 * stays paused and its stored record says paused. Once the index is writable again, the next
 * `resume` is taken (not refused as "already following"), the stored record says active, and the
 * follower catches up document by document.
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import { FollowError } from '../../src/follow/follow-errors.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import { compareIndices, connect, createLeaderIndex, RandomWorkload, startTestDaemon, statsOf, type TestDaemon, waitForCaughtUp } from '../helpers/replication.js';

describe('a resume while the state index is read-only', function () {
  this.timeout(180_000);

  let leader: ClusterClient;
  let follower: ClusterClient;
  let daemon: TestDaemon | undefined;
  const stateIndex = `.${uniqueName('ccr-state')}`;
  const leaderIndex = uniqueName('leader');
  const followerIndex = uniqueName('follower');
  const key = `follower/${followerIndex}`;

  before(async () => {
    const pair = (await testClusters()).pair('elasticsearch', 'elasticsearch');
    [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
    daemon = await startTestDaemon({ ...pair, stateIndex });
  });

  after(async () => {
    await daemon?.stop();
    await follower?.putSettings(stateIndex, { 'index.blocks.write': null }).catch(() => undefined);
    for (const [c, i] of [[leader, leaderIndex], [follower, followerIndex], [follower, stateIndex]] as const) await c?.deleteIndex(i).catch(() => undefined);
    await Promise.all([leader?.close(), follower?.close()]);
  });

  /** The follower's record as the state index holds it. */
  const storedStatus = async (): Promise<unknown> => {
    const doc = await follower.getVersionedDocument(stateIndex, `follower:${key}`);
    return (doc?.source as { data?: { follower?: { status?: unknown } } } | undefined)?.data?.follower?.status;
  };

  it('is refused and changes nothing; once writable, the next resume follows on and the record says active', async () => {
    const manager = daemon!.daemon.manager;
    await createLeaderIndex(leader, leaderIndex);
    const workload = new RandomWorkload(leader, leaderIndex, { seed: 24, ids: 300 });
    await workload.run(2);
    await manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
    await waitForCaughtUp(daemon!.daemon, leader, leaderIndex, followerIndex);
    await manager.pause(key);
    expect(await storedStatus()).to.equal('paused');
    await workload.run(2);

    await follower.putSettings(stateIndex, { 'index.blocks.write': true });
    let refused: unknown;
    try {
      await manager.resume(key).catch((err: unknown) => (refused = err));
    } finally {
      // Lifted at once: the daemon's lock renewals need the index writable again within seconds.
      await follower.putSettings(stateIndex, { 'index.blocks.write': null });
    }
    expect(refused, 'the resume refused').to.be.instanceOf(FollowError);
    const error = refused as FollowError;
    expect(error.type).to.equal('state_write_exception');
    expect(error.message).to.include(`cannot resume [${key}]: its record cannot be saved, nothing was changed`);
    expect(error.message).to.include(`follower/${stateIndex}`).and.include('index.blocks.write');
    expect(statsOf(daemon!.daemon, followerIndex)).to.include({ status: 'paused', state: 'paused' });
    expect(await storedStatus(), 'the stored record unchanged').to.equal('paused');

    await manager.resume(key);
    expect(await storedStatus()).to.equal('active');
    await waitForCaughtUp(daemon!.daemon, leader, leaderIndex, followerIndex);
    expect(statsOf(daemon!.daemon, followerIndex)).to.include({ status: 'active', state: 'active' });
    expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
  });
});
