/**
 * Fault: a slow and lossy WAN between the daemon and the leader. The daemon's `leader` alias points
 * at a TCP proxy (test/helpers/tcp-proxy.ts) that adds 50 ms each way to every chunk, caps each
 * direction of each connection at 1.5 MB/s and cuts connections at random (seeded). The follower
 * must copy an existing index and follow live writes through it, then hold exactly the leader's
 * documents; the test prints the throughput reached.
 */
import { expect } from 'chai';
import type { Flavor } from '../../src/cluster/types.js';
import type { TestCluster } from '../helpers/clusters.js';
import { pairTitle, useClusterPair } from '../helpers/follow-fixture.js';
import { compareIndices, createLeaderIndex, RandomWorkload, startTestDaemon, statsOf, waitForCaughtUp, type TestDaemon } from '../helpers/replication.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const DELAY_MS = 50;
const BYTES_PER_SECOND = 1.5 * 1024 ** 2;
/** Per chunk (≤ 64 KB): a 2 MB read response is cut about one time in six. */
const CUT_PROBABILITY = 0.005;
const SEED = 1004;
/** Operations on the leader before the follow starts (the copy) and while it runs. */
const BATCHES_BEFORE = 100;
const BATCHES_DURING = 50;

const PAIRS: readonly (readonly [Flavor, Flavor])[] = [['elasticsearch', 'elasticsearch'], ['opensearch', 'elasticsearch']];

const MB = 1024 ** 2;

/** The same cluster, but reached through `url`: only the daemon's config changes. */
function through(cluster: TestCluster, url: string): TestCluster {
  return Object.assign(Object.create(cluster) as TestCluster, {
    clusterConfig: (alias: string) => ({ ...cluster.clusterConfig(alias), urls: [url] }),
  });
}

describe('fault: a slow and lossy WAN between the daemon and the leader', function () {
  this.timeout(600_000);

  for (const flavors of PAIRS) {
    describe(pairTitle(flavors), () => {
      let proxy: TcpProxy | undefined;
      let daemon: TestDaemon | undefined;
      const fx = useClusterPair(flavors, {
        teardown: async () => {
          await daemon?.stop().catch(() => undefined);
          await proxy?.close();
        },
      });

      it('copies and follows through 50 ms each way, 1.5 MB/s and random cuts, and converges', async () => {
        const { pair, leader, follower } = fx;
        const target = new URL(pair.leader.clusterConfig('leader').urls[0]!);
        proxy = await TcpProxy.start({
          target: { host: target.hostname, port: Number(target.port) }, delayMs: DELAY_MS, bytesPerSecond: BYTES_PER_SECOND,
          cutProbability: CUT_PROBABILITY, seed: SEED,
        });
        daemon = await startTestDaemon({ leader: through(pair.leader, proxy.url), follower: pair.follower });
        const { leaderIndex, followerIndex } = fx.indexNames();
        await createLeaderIndex(leader, leaderIndex);
        const workload = new RandomWorkload(leader, leaderIndex, { seed: SEED, ids: 40_000, routedShare: 0.3 });
        await workload.run(BATCHES_BEFORE);

        const startedAt = Date.now();
        await daemon.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
        await workload.run(BATCHES_DURING);
        const lastWriteAt = Date.now();
        await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex, 480_000);
        const caughtUpAt = Date.now();
        const stats = statsOf(daemon.daemon, followerIndex);
        const diffs = await compareIndices(leader, leaderIndex, follower, followerIndex);

        const seconds = (caughtUpAt - startedAt) / 1000;
        const written = stats.shards.reduce((sum, s) => sum + s.operations_written, 0);
        const bytesRead = stats.shards.reduce((sum, s) => sum + s.bytes_read, 0);
        const failedReads = stats.shards.reduce((sum, s) => sum + s.failed_read_requests, 0);
        console.log(`      ${workload.operations} leader operations; caught up ${caughtUpAt - startedAt} ms after the follow started, `
          + `${caughtUpAt - lastWriteAt} ms after the last write`);
        console.log(`      throughput: ${(written / seconds).toFixed(0)} docs/s written, ${(bytesRead / seconds / MB).toFixed(2)} MB/s of documents read, `
          + `${(proxy.stats.bytesDown / seconds / MB).toFixed(2)} MB/s through the proxy from the leader (cap ${(BYTES_PER_SECOND / MB).toFixed(1)} MB/s per connection)`);
        console.log(`      proxy: ${proxy.stats.connections} connections, ${proxy.stats.cuts} cut, ${(proxy.stats.bytesUp / MB).toFixed(1)} MB up / `
          + `${(proxy.stats.bytesDown / MB).toFixed(1)} MB down; failed reads ${failedReads}, read_exceptions kept ${stats.shards.reduce((sum, s) => sum + s.read_exceptions.length, 0)}`);

        expect(diffs, 'differences between leader and follower').to.deep.equal([]);
        expect(stats.fatal_exception, 'fatal_exception').to.equal(undefined);
        expect(proxy.stats.cuts, 'connections the proxy cut').to.be.greaterThan(0);
        expect(proxy.stats.bytesDown, 'bytes from the leader through the proxy').to.be.greaterThan(0);
      });
    });
  }
});
