/**
 * `ccr-follow switchover` through the real CLI, Elasticsearch 8 → OpenSearch 2 and back: under a
 * write load the operator pauses for the move, the leader role goes to the follower (write block,
 * catch-up with deletes, promote, fail-back of an empty difference), the load resumes on the new
 * leader, and the switch back returns the role. Nothing is lost: after each move the two indices
 * are equal document by document, and the downtime printed is under 10 s.
 */
import { expect } from 'chai';
import type { SwitchoverAnswer } from '../../src/follow/switchover.js';
import { runCli } from '../helpers/cli-process.js';
import { uniqueName } from '../helpers/clusters.js';
import { useFollowPair } from '../helpers/follow-fixture.js';
import { LeaderWriter } from '../helpers/leader-writer.js';
import { compareIndices, createLeaderIndex, RandomWorkload, waitForCaughtUp } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';

async function expectEqual(a: ClusterClient, aIndex: string, b: ClusterClient, bIndex: string): Promise<void> {
  let last: string[] = [];
  await waitFor(async () => {
    last = await compareIndices(a, aIndex, b, bIndex);
    return last.length === 0;
  }, { timeoutMs: 120_000, intervalMs: 1000, message: () => `${bIndex} to equal ${aIndex}: ${last.join('; ')}` });
}

describe('ccr-follow switchover (Elasticsearch 8 ↔ OpenSearch 2)', function () {
  this.timeout(600_000);
  const pair = useFollowPair(['elasticsearch', 'opensearch']);

  it('moves the leader role and back under a paused write load, losing nothing, with the downtime printed', async () => {
    const leaderIndex = uniqueName('leader');
    const followerIndex = uniqueName('follower');
    pair.track('leader', leaderIndex);
    pair.track('follower', followerIndex);
    await createLeaderIndex(pair.leader, leaderIndex);
    await new RandomWorkload(pair.leader, leaderIndex, { seed: 41, ids: 3000, deleteShare: 0.1 }).run(10);
    await pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
    await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);

    // The application writes (updates and deletes) until the operator pauses it for the move.
    const onLeader = new LeaderWriter(new RandomWorkload(pair.leader, leaderIndex, { seed: 42, ids: 3000, deleteShare: 0.2, batchSize: 100 }), { pauseMs: 50 });
    await onLeader.writeMore(10);
    await onLeader.stop();
    const over = await runCli(['--url', pair.daemon.url, 'switchover', `leader/${leaderIndex}`, `follower/${followerIndex}`, '--json'], { timeoutMs: 180_000 });
    expect(over.code, over.stderr).to.equal(0);
    const first = JSON.parse(over.stdout) as SwitchoverAnswer;
    console.log(`      switchover: write downtime ${first.write_downtime_millis} ms (catch-up ${first.catch_up_millis} ms)`);
    expect(first.write_downtime_millis, 'write downtime of the switchover').to.be.below(10_000);
    expect(first.failback.lost_writes).to.equal(0);
    expect(first.failback.documents_written, 'an empty difference').to.equal(0);
    expect(pair.daemon.manager.has(`follower/${followerIndex}`)).to.equal(false);
    expect(pair.daemon.manager.has(`leader/${leaderIndex}`)).to.equal(true);
    await expectEqual(pair.follower, followerIndex, pair.leader, leaderIndex);

    // The application writes to the new leader, then is paused again for the switch back.
    const onFollower = new LeaderWriter(new RandomWorkload(pair.follower, followerIndex, { seed: 43, ids: 3000, deleteShare: 0.2, batchSize: 100 }), { pauseMs: 50 });
    await onFollower.writeMore(10);
    await onFollower.stop();
    const back = await runCli(['--url', pair.daemon.url, 'switchover', `follower/${followerIndex}`, `leader/${leaderIndex}`], { timeoutMs: 180_000 });
    expect(back.code, back.stderr).to.equal(0);
    const downtime = /write downtime: ([\d.]+) s/.exec(back.stdout);
    expect(downtime, back.stdout).to.not.equal(null);
    console.log(`      switch back: ${back.stdout.split('\n')[1]}`);
    expect(Number(downtime![1]), 'write downtime of the switch back').to.be.below(10);
    expect(pair.daemon.manager.has(`follower/${followerIndex}`)).to.equal(true);
    expect(pair.daemon.manager.has(`leader/${leaderIndex}`)).to.equal(false);
    await expectEqual(pair.follower, followerIndex, pair.leader, leaderIndex);

    // The original direction again: writes on the leader reach the follower.
    await new RandomWorkload(pair.leader, leaderIndex, { seed: 44, ids: 3000, deleteShare: 0.2 }).run(3);
    await expectEqual(pair.leader, leaderIndex, pair.follower, followerIndex);
  });
});
