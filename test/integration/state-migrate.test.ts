/**
 * `ccr-follow state migrate` through the real CLI: a follow's state moves from the local
 * directory into the state index and back, with the daemon stopped between, losing no checkpoint;
 * the follow carries on after each move. Refused clearly, changing nothing: into a state that is
 * not empty, while a daemon holds the directory, and without a state cluster in the config.
 */
import { expect } from 'chai';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClusterState } from '../../src/daemon/cluster-state.js';
import { FileStateStore } from '../../src/state/file-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { runCli } from '../helpers/cli-process.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import { compareIndices, connect, createLeaderIndex, RandomWorkload, startTestDaemon, waitForCaughtUp } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

async function snapshot(store: StateStore): Promise<{ followers: string[]; checkpoints: Record<string, unknown> }> {
  try {
    const followers = (await store.listFollowers()).map((r) => `${r.followerCluster}/${r.followerIndex}`);
    const checkpoints: Record<string, unknown> = {};
    for (const key of followers) checkpoints[key] = await store.loadCheckpoints(key);
    return { followers, checkpoints };
  } finally {
    await store.close();
  }
}

describe('ccr-follow state migrate', function () {
  this.timeout(300_000);

  it('moves a running follow\'s state into the state index and back, losing no checkpoint', async () => {
    const pair = (await testClusters()).pair('elasticsearch', 'elasticsearch');
    const [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
    const stateIndex = `.${uniqueName('ccr-state')}`;
    const leaderIndex = uniqueName('leader');
    const followerIndex = uniqueName('follower');
    const dir = await mkdtemp(join(tmpdir(), 'ccr-follow-migrate-'));
    const firstDir = join(dir, 'first');
    const secondDir = join(dir, 'second');
    const configFor = async (stateDir: string, withCluster: boolean): Promise<string> => {
      const file = join(dir, `${withCluster ? 'cluster' : 'local'}-${stateDir.endsWith('first') ? 1 : 2}.yml`);
      await writeFile(file, `clusters:\n  leader:\n    url: ${pair.leader.url}\n  follower:\n    url: ${pair.follower.url}\n`
        + `daemon:\n  state_dir: ${stateDir}\n${withCluster ? `  state:\n    cluster: follower\n    index: ${stateIndex}\n` : ''}`);
      return file;
    };
    try {
      await createLeaderIndex(leader, leaderIndex);
      const workload = new RandomWorkload(leader, leaderIndex, { seed: 44, ids: 400 });
      await workload.run(3);

      // 1. A follow on the local directory.
      const local = await startTestDaemon({ ...pair, stateDir: firstDir });
      await local.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
      await waitForCaughtUp(local.daemon, leader, leaderIndex, followerIndex);
      const noCluster = await runCli(['--config', await configFor(firstDir, false), 'state', 'migrate', '--to', 'cluster']);
      expect(noCluster.code, noCluster.stderr).to.equal(2);
      expect(noCluster.stderr).to.contain('daemon.state.cluster');
      const whileRunning = await runCli(['--config', await configFor(firstDir, true), 'state', 'migrate', '--to', 'cluster']);
      expect(whileRunning.code, whileRunning.stderr).to.equal(1);
      expect(whileRunning.stderr).to.match(/in use by pid/);
      await local.stop();
      const before = await snapshot(await FileStateStore.open(firstDir));
      expect(before.followers).to.deep.equal([`follower/${followerIndex}`]);

      // 2. Into the state index, then the follow carries on from it.
      const toCluster = await runCli(['--config', await configFor(firstDir, true), 'state', 'migrate', '--to', 'cluster']);
      expect(toCluster.code, toCluster.stderr).to.equal(0);
      expect(toCluster.stdout).to.contain('migrated 1 follower(s) with 3 shard checkpoint(s)');
      expect(await snapshot(await openClusterState(follower, stateIndex))).to.deep.equal(before);
      const again = await runCli(['--config', await configFor(firstDir, true), 'state', 'migrate', '--to', 'cluster']);
      expect(again.code, again.stderr).to.equal(1);
      expect(again.stderr).to.contain('already holds 1 follower(s)');
      expect(await snapshot(await openClusterState(follower, stateIndex))).to.deep.equal(before);

      await workload.run(3);
      const onCluster = await startTestDaemon({ ...pair, stateDir: join(dir, 'unused'), stateIndex });
      await waitForCaughtUp(onCluster.daemon, leader, leaderIndex, followerIndex);
      await onCluster.stop();
      const onClusterState = await snapshot(await openClusterState(follower, stateIndex));

      // 3. Back into an empty directory, and on from there.
      const toLocal = await runCli(['--config', await configFor(secondDir, true), 'state', 'migrate', '--to', 'local']);
      expect(toLocal.code, toLocal.stderr).to.equal(0);
      expect(await snapshot(await FileStateStore.open(secondDir))).to.deep.equal(onClusterState);
      await workload.run(3);
      const backLocal = await startTestDaemon({ ...pair, stateDir: secondDir });
      try {
        const resumed = await waitFor(() => {
          const stats = backLocal.daemon.manager.stats(`follower/${followerIndex}`)[0];
          return stats && stats.shards.length === 3 ? stats : undefined;
        }, { timeoutMs: 60_000, intervalMs: 100, message: 'the follow to be restored with its 3 shards' });
        const stored = onClusterState.checkpoints[`follower/${followerIndex}`] as Record<number, number>;
        for (const shard of resumed.shards) expect(shard.follower_global_checkpoint, `shard ${shard.shard_id}`).to.be.at.least(stored[shard.shard_id]!);
        await waitForCaughtUp(backLocal.daemon, leader, leaderIndex, followerIndex);
        expect(await compareIndices(leader, leaderIndex, follower, followerIndex)).to.deep.equal([]);
      } finally {
        await backLocal.stop();
      }
    } finally {
      for (const [c, i] of [[leader, leaderIndex], [follower, followerIndex], [follower, stateIndex]] as const) await c.deleteIndex(i).catch(() => undefined);
      await Promise.all([leader.close(), follower.close()]);
    }
  });
});
