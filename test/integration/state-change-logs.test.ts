/**
 * Logs: a follower's state changes are logged once each at info, with the follower named: started,
 * caught up after starting, paused with the reason, resumed, caught up again.
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import { memoryLogger } from '../../src/util/logger.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import { connect, createLeaderIndex, RandomWorkload, startTestDaemon, waitForCaughtUp, type TestDaemon } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

describe('state change logs (ES → ES)', function () {
  this.timeout(300_000);
  const logger = memoryLogger();
  let daemon: TestDaemon;
  let leader: ClusterClient;
  const leaderIndex = uniqueName('leader');
  const followerIndex = uniqueName('follower');

  before(async () => {
    const pair = (await testClusters()).pair('elasticsearch', 'elasticsearch');
    daemon = await startTestDaemon({ ...pair, logger });
    leader = await connect(pair.leader, 'leader');
  });

  after(async () => {
    await daemon?.stop();
    await leader?.deleteIndex(leaderIndex).catch(() => undefined);
    const follower = await connect((await testClusters()).pair('elasticsearch', 'elasticsearch').follower, 'follower');
    await follower.deleteIndex(followerIndex).catch(() => undefined);
    await Promise.all([leader?.close(), follower.close()]);
  });

  it('logs start, caught up, pause with reason, resume and caught up again, once each', async () => {
    await createLeaderIndex(leader, leaderIndex, { shards: 2 });
    const workload = new RandomWorkload(leader, leaderIndex, { seed: 71, ids: 500 });
    await workload.run(3);
    const key = `follower/${followerIndex}`;
    await daemon.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
    await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);
    const mine = (): string[] => logger.entries.filter((e) => e.level === 'info' && e.meta['follower'] === key).map((e) => e.message);
    await waitFor(() => mine().some((m) => m.startsWith('caught up with the leader')), { timeoutMs: 30_000, message: 'the caught-up log line' });

    await daemon.daemon.manager.pause(key);
    await workload.run(1);
    await daemon.daemon.manager.resume(key, {});
    await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);
    await waitFor(() => mine().filter((m) => m.startsWith('caught up with the leader')).length === 2, { timeoutMs: 30_000, message: 'the second caught-up log line' });

    const lines = mine().map((m) => m.replace(/ \d+(\.\d+)?(ms|s|m) after starting$/, ' <t> after starting'));
    expect(lines).to.deep.equal([
      'following 2 shard(s)', 'caught up with the leader <t> after starting', 'follower paused', 'follower resumed',
      'following 2 shard(s)', 'caught up with the leader <t> after starting',
    ]);
    const paused = logger.entries.find((e) => e.message === 'follower paused' && e.meta['follower'] === key);
    expect(paused?.meta['reason']).to.equal('pause requested');
  });
});
