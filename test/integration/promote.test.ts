/**
 * `ccr-follow promote` through the real CLI with the leader node down, as when its data centre
 * fails: the follower index becomes an ordinary writable index, and the promotion record says per
 * shard the leader checkpoint it had applied and its own max seq_no.
 */
import { expect } from 'chai';
import type { PromotionRecord } from '../../src/state/state-store.js';
import { runCli } from '../helpers/cli-process.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import { useFollowPair } from '../helpers/follow-fixture.js';
import { countDocs, createLeaderIndex, RandomWorkload, statsOf, waitForCaughtUp } from '../helpers/replication.js';

describe('ccr-follow promote', function () {
  this.timeout(300_000);
  const pair = useFollowPair(['elasticsearch', 'elasticsearch']);

  it('promotes a follower whose leader is down, recording where each shard stood', async () => {
    const leaderIndex = uniqueName('leader');
    const followerIndex = uniqueName('follower');
    pair.track('leader', leaderIndex);
    pair.track('follower', followerIndex);
    await createLeaderIndex(pair.leader, leaderIndex);
    const workload = new RandomWorkload(pair.leader, leaderIndex, { seed: 17, ids: 600 });
    await workload.run(4);
    await pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
    await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
    const applied = statsOf(pair.daemon, followerIndex).shards.map((s) => [s.shard_id, s.follower_global_checkpoint]);

    const leaderNode = (await testClusters()).esLeader;
    await leaderNode.stop();
    try {
      const promoted = await runCli(['--url', pair.daemon.url, 'promote', `follower/${followerIndex}`, '--json'], { timeoutMs: 120_000 });
      expect(promoted.code, promoted.stderr).to.equal(0);
      const record = JSON.parse(promoted.stdout) as PromotionRecord;
      expect(record).to.include({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
      const own = await pair.follower.shardSeqNos(followerIndex);
      expect(Object.keys(record.shards)).to.have.length(3);
      for (const [shard, checkpoint] of applied) {
        expect(record.shards[shard!]!.leaderCheckpoint, `shard ${shard} leader checkpoint`).to.equal(checkpoint);
        expect(record.shards[shard!]!.maxSeqNo, `shard ${shard} own max seq_no`).to.equal(own.find((s) => s.shard === shard)!.maxSeqNo);
      }

      // No longer a follower, and an ordinary writable index.
      expect(pair.daemon.manager.has(`follower/${followerIndex}`)).to.equal(false);
      const before = await countDocs(pair.follower, followerIndex);
      await pair.follower.writeDocuments(followerIndex, [{ op: 'index', id: 'written-after-promotion', source: { n: 1 } }], { refresh: true });
      expect(await countDocs(pair.follower, followerIndex)).to.equal(before + 1);
      const again = await runCli(['--url', pair.daemon.url, 'promote', `follower/${followerIndex}`]);
      expect(again.code).to.equal(1);
      expect(again.stderr).to.contain('is not a follower index');
    } finally {
      await leaderNode.start();
    }
  });
});
