/**
 * `ccr-follow verify` (the real CLI, no daemon) detects a document removed, altered or added on the
 * follower behind ccr-follow's back, names it, and exits non-zero; it exits 0 on identical indices.
 */
import { expect } from 'chai';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import { runCli } from '../helpers/cli-process.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import { connect, createLeaderIndex, RandomWorkload, shardDocuments } from '../helpers/replication.js';

describe('ccr-follow verify', function () {
  this.timeout(120_000);
  let leader: ClusterClient;
  let follower: ClusterClient;
  let configFile: string;

  before(async () => {
    const pair = (await testClusters()).pair('elasticsearch', 'opensearch');
    [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
    const dir = await mkdtemp(join(tmpdir(), 'ccr-follow-verify-'));
    configFile = join(dir, 'ccr-follow.yml');
    await writeFile(configFile, `clusters:\n  leader:\n    url: ${pair.leader.url}\n  follower:\n    url: ${pair.follower.url}\n`);
  });

  after(() => Promise.all([leader?.close(), follower?.close()]));

  /** Two identical 3-shard indices, built independently (a migration check: never followed). */
  async function identicalPair(): Promise<{ leaderIndex: string; followerIndex: string }> {
    const leaderIndex = uniqueName('verify-l');
    const followerIndex = uniqueName('verify-f');
    await createLeaderIndex(leader, leaderIndex);
    await createLeaderIndex(follower, followerIndex);
    for (const [client, index] of [[leader, leaderIndex], [follower, followerIndex]] as const) {
      await new RandomWorkload(client, index, { seed: 3, ids: 3000, batchSize: 500 }).run(8);
    }
    return { leaderIndex, followerIndex };
  }

  const verify = (leaderIndex: string, followerIndex: string, ...extra: string[]) =>
    runCli(['--config', configFile, 'verify', `leader/${leaderIndex}`, `follower/${followerIndex}`, ...extra]);

  it('exits 0 and says IDENTICAL for two equal indices', async () => {
    const { leaderIndex, followerIndex } = await identicalPair();
    const result = await verify(leaderIndex, followerIndex);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('IDENTICAL');
  });

  it('names a document removed, one altered and one added behind its back, and exits non-zero', async () => {
    const { leaderIndex, followerIndex } = await identicalPair();
    // Two existing documents of the follower, with their routing, to tamper with.
    await follower.refresh(followerIndex);
    const [removed, altered] = [...(await shardDocuments(follower, followerIndex, 1)).entries()];
    await follower.writeDocuments(followerIndex, [
      { op: 'delete', id: removed![0], routing: removed![1].routing },
      { op: 'index', id: altered![0], routing: altered![1].routing, source: { n: 20, tampered: true } },
      { op: 'index', id: 'intruder', source: { n: -1 } },
    ]);
    const result = await verify(leaderIndex, followerIndex, '--json');
    expect(result.code).to.equal(1);
    const report = JSON.parse(result.stdout) as { identical: boolean; shards: { examples: Record<string, string[]> }[] };
    expect(report.identical).to.equal(false);
    const all = (kind: string): string[] => report.shards.flatMap((s) => s.examples[kind] ?? []);
    expect(all('missing_on_follower')).to.deep.equal([removed![0]]);
    expect(all('different')).to.deep.equal([altered![0]]);
    expect(all('extra_on_follower')).to.deep.equal(['intruder']);

    const human = await verify(leaderIndex, followerIndex);
    expect(human.code).to.equal(1);
    expect(human.stdout).to.contain('DIFFERENT').and.to.contain(removed![0]).and.to.contain(altered![0]).and.to.contain('intruder');
  });

  it('spot-checks a sample and still compares the counts', async () => {
    const { leaderIndex, followerIndex } = await identicalPair();
    await follower.writeDocuments(followerIndex, [{ op: 'index', id: 'intruder', source: { n: -1 } }]);
    const result = await verify(leaderIndex, followerIndex, '--sample', '50', '--json');
    expect(result.code).to.equal(1);
    const report = JSON.parse(result.stdout) as { sample: number; shards: { compared: number; leader_count: number; follower_count: number }[] };
    expect(report.sample).to.equal(50);
    expect(report.shards.every((s) => s.compared <= 50)).to.equal(true);
    expect(report.shards.some((s) => s.follower_count === s.leader_count + 1)).to.equal(true);
  });

  it('refuses an unknown cluster alias with a usage error', async () => {
    const result = await runCli(['--config', configFile, 'verify', 'nowhere/x', 'follower/y']);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('unknown cluster alias [nowhere]');
  });
});
