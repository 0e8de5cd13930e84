/**
 * The README's first command: `ccr-follow quickstart` writes sample documents to a leader, follows
 * them and shows live stats. Here it runs against the test clusters (a config that defines
 * `leader` and `follower` is used instead of starting nodes), for a fixed duration.
 */
import { expect } from 'chai';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli-process.js';
import { testClusters } from '../helpers/clusters.js';

describe('ccr-follow quickstart', function () {
  this.timeout(180_000);

  it('replicates its sample stream live and exits 0 after --duration', async () => {
    const pair = (await testClusters()).pair('elasticsearch', 'opensearch');
    const dir = await mkdtemp(join(tmpdir(), 'ccr-follow-quickstart-test-'));
    const config = join(dir, 'ccr-follow.yml');
    await writeFile(config, `clusters:\n  leader:\n    url: ${pair.leader.url}\n  follower:\n    url: ${pair.follower.url}\n`);
    const result = await runCli(['--config', config, 'quickstart', '--duration', '8'], { timeoutMs: 120_000 });
    expect(result.code, result.stderr + result.stdout).to.equal(0);
    expect(result.stdout).to.match(/following leader\/quickstart-metrics-\w+ → follower\/quickstart-metrics-\w+-replica/);
    // The status page's address beside the control API's: the same server, path `/`.
    const api = /daemon control API at (http:\/\/127\.0\.0\.1:\d+) /.exec(result.stdout);
    expect(api, result.stdout).to.not.equal(null);
    expect(result.stdout).to.include(`status page at ${api![1]}/ (open it in a browser)`);
    expect(result.stdout).to.contain('FOLLOWER').and.to.contain('LAG OPS');
    const summary = /stopped\. (\d+) documents written to the leader; (\d+) operations applied to the follower\./.exec(result.stdout);
    expect(summary, result.stdout).to.not.equal(null);
    expect(Number(summary![1])).to.be.greaterThan(0);
    expect(Number(summary![2])).to.be.greaterThan(0);
  });
});
