// The harness itself: the four shared clusters answer, report their versions, and a local node
// comes back on the same URL after a restart.
import { expect } from 'chai';
import { testClusters, type TestCluster, type TestClusters } from '../helpers/clusters.js';

async function health(cluster: TestCluster): Promise<{ status: string; response: Response }> {
  const config = cluster.clusterConfig('probe');
  const headers: Record<string, string> =
    config.auth.type === 'basic' ? { authorization: `Basic ${Buffer.from(`${config.auth.username}:${config.auth.password}`).toString('base64')}` } : {};
  const response = await fetch(`${cluster.url}/_cluster/health`, { headers, signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { status: string };
  return { status: body.status, response };
}

describe('test cluster harness', function () {
  this.timeout(300_000);
  let clusters: TestClusters;

  before(async function () {
    clusters = await testClusters();
  });

  it('starts four healthy clusters of the expected flavors', async function () {
    const expected = { esLeader: 'elasticsearch', esFollower: 'elasticsearch', osLeader: 'opensearch', osFollower: 'opensearch' } as const;
    for (const [role, flavor] of Object.entries(expected)) {
      const cluster = clusters[role as keyof typeof expected];
      const { status, response } = await health(cluster);
      console.log(`      ${role}: ${cluster.flavor} ${cluster.version} at ${cluster.url} is ${status}`);
      expect(response.status, role).to.equal(200);
      expect(status, role).to.be.oneOf(['green', 'yellow']);
      expect(cluster.role).to.equal(role);
      expect(cluster.flavor, role).to.equal(flavor);
      expect(cluster.version, role).to.match(/^\d+\.\d+\.\d+/);
    }
    expect(new Set([clusters.esLeader.url, clusters.esFollower.url, clusters.osLeader.url, clusters.osFollower.url]).size).to.equal(4);
  });

  it('pairs leaders and followers by flavor', function () {
    expect(clusters.pair('elasticsearch', 'opensearch')).to.deep.equal({ leader: clusters.esLeader, follower: clusters.osFollower });
    expect(clusters.pair('opensearch', 'elasticsearch')).to.deep.equal({ leader: clusters.osLeader, follower: clusters.esFollower });
    expect(clusters.pair('elasticsearch', 'elasticsearch').follower).to.equal(clusters.esFollower);
    expect(clusters.pair('opensearch', 'opensearch').leader).to.equal(clusters.osLeader);
  });

  it('restarts osFollower healthy on the same URL', async function () {
    const cluster = clusters.osFollower;
    if (cluster.external) {
      await cluster.restart().then(
        () => expect.fail('restart of an external cluster must fail'),
        (err: Error) => expect(err.message).to.match(/external cluster/),
      );
      return;
    }
    const urlBefore = cluster.url;
    const started = Date.now();
    await cluster.restart();
    console.log(`      osFollower restarted in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(cluster.url).to.equal(urlBefore);
    const { status } = await health(cluster);
    expect(status).to.be.oneOf(['green', 'yellow']);
  });
});
