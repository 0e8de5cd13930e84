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

  it('with --metadata, compares the two clusters\' templates and pipelines as a pattern keeps them, naming what differs', async () => {
    const p = uniqueName('vm');
    const template = { index_patterns: [`${p}-*`], priority: 100, template: { settings: { index: { number_of_replicas: 0 } } } };
    for (const client of [leader, follower]) {
      await client.putMetadataItem({ kind: 'index_template', name: `${p}-logs`, body: template });
      await client.putMetadataItem({ kind: 'ingest_pipeline', name: `${p}-enrich`, body: { description: 'same', processors: [] } });
    }
    const options = ['--index-template', `${p}-*`, '--ingest-pipeline', `${p}-*`];
    const same = await runCli(['--config', configFile, 'verify', '--metadata', 'leader', 'follower', ...options]);
    expect(same.code, same.stderr).to.equal(0);
    expect(same.stdout).to.match(/IDENTICAL: 2 item\(s\) of leader vs follower, 0 differ/);

    await follower.putMetadataItem({ kind: 'ingest_pipeline', name: `${p}-enrich`, body: { description: 'changed', processors: [] } });
    await leader.putMetadataItem({ kind: 'index_template', name: `${p}-extra`, body: { index_patterns: [`${p}-extra-*`], priority: 101 } });
    const different = await runCli(['--config', configFile, 'verify', '--metadata', 'leader', 'follower', ...options, '--json']);
    expect(different.code, different.stderr).to.equal(1);
    expect(JSON.parse(different.stdout)).to.deep.equal({
      identical: false,
      items: [
        { kind: 'index_template', name: `${p}-extra`, verdict: 'missing_on_follower' },
        { kind: 'index_template', name: `${p}-logs`, verdict: 'identical' },
        { kind: 'ingest_pipeline', name: `${p}-enrich`, verdict: 'different', detail: 'description' },
      ],
    });
    const usage = await runCli(['--config', configFile, 'verify', '--metadata', 'leader/x', 'follower']);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.contain('give cluster aliases');
    for (const client of [leader, follower]) {
      for (const [kind, name] of [['index_template', `${p}-logs`], ['index_template', `${p}-extra`], ['ingest_pipeline', `${p}-enrich`]] as const) await client.deleteMetadataItem(kind, name);
    }
  });
});
