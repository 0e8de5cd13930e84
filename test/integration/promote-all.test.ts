/**
 * Disaster day through the real CLI: `ccr-follow promote --all | --match` promotes many followers
 * in one request. The leader is a node of this test's own (the shared leader stays up for the other
 * tests), stopped as its data centre would fail; the follower is the shared Elasticsearch one, and
 * the daemon keeps its state in an index there (the cluster backend: the promotion records and
 * their recovery points are read back from it).
 *
 * 1. One follower made unpromotable (its follower index closed): the others are promoted, that one
 *    is named with its reason, exit 1.
 * 2. 20 followers — 16 followed by hand, 2 by an auto-follow pattern, and the 2 backing indices of
 *    a data stream — with the leader node stopped: `promote --all` promotes all, pauses both
 *    patterns and says so, prints the RPO and RTO, exit 0; every index takes writes, the stream
 *    takes writes under its name; the records keep the recovery point and the run's totals. Again:
 *    every line "already an ordinary index", exit 0.
 */
import { expect } from 'chai';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { ClusterConfig } from '../../src/cluster/cluster-config.js';
import type { PromoteManyAnswer } from '../../src/follow/promote-many.js';
import { ELASTICSEARCH_8, LocalNode, findFreePorts } from '../../src/local-cluster/index.js';
import type { PromotionRecord } from '../../src/state/state-store.js';
import { runCli } from '../helpers/cli-process.js';
import { testClusters, uniqueName, type TestCluster } from '../helpers/clusters.js';
import { compareIndices, connect, countDocs, createLeaderIndex, startTestDaemon, statsOf, waitForCaughtUp, type TestDaemon } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const HAND_FOLLOWED = 16;
const FOLLOW_TIMEOUT_MS = 120_000;

/** The test's own leader node, shaped as the harness's clusters are. */
function asTestCluster(node: LocalNode): TestCluster {
  return {
    role: 'esLeader', flavor: node.flavor, version: node.version ?? ELASTICSEARCH_8.version, url: node.url, external: false, logFile: node.logFile,
    clusterConfig: (alias: string): ClusterConfig => ({ alias, urls: [node.url], auth: { type: 'none' }, requestTimeoutMs: 30_000 }),
    stop: () => node.stop(), start: () => node.start(), restart: () => node.restart(),
  };
}

describe('ccr-follow promote --all / --match (disaster day)', function () {
  this.timeout(600_000);
  let baseDir: string;
  let node: LocalNode;
  let leaderCluster: TestCluster;
  let followerCluster: TestCluster;
  let leader: ClusterClient;
  let follower: ClusterClient;
  let test: TestDaemon | undefined;
  const stateIndex = uniqueName('.ccr-follow-state-promote');
  const followerIndices: string[] = [];

  before(async () => {
    followerCluster = (await testClusters()).esFollower;
    baseDir = await mkdtemp(join(tmpdir(), 'ccr-follow-promote-all-'));
    // mkdtemp's mode 700 would lock out the unprivileged user the node runs as under root.
    await chmod(baseDir, 0o755);
    const [httpPort, transportPort] = await findFreePorts(2);
    node = new LocalNode({ name: 'promote-all-leader', distribution: ELASTICSEARCH_8, baseDir, httpPort, transportPort, heap: '512m', startTimeoutMs: 240_000 });
    await node.start();
    leaderCluster = asTestCluster(node);
    leader = await connect(leaderCluster, 'leader');
    follower = await connect(followerCluster, 'follower');
    test = await startTestDaemon({ leader: leaderCluster, follower: followerCluster, stateIndex });
  });

  after(async () => {
    await test?.stop();
    for (const index of followerIndices) await follower?.deleteIndex(index).catch(() => undefined);
    await follower?.deleteIndex(stateIndex).catch(() => undefined);
    await Promise.all([leader?.close(), follower?.close()]);
    await node?.stop();
    if (baseDir && process.env['CCR_TEST_KEEP_DIRS'] !== '1') await rm(baseDir, { recursive: true, force: true });
  });

  const daemon = () => test!.daemon;
  const promote = (...args: string[]) => runCli(['--url', daemon().url, 'promote', ...args], { timeoutMs: 120_000 });

  /** A leader index of one shard with `docs` documents, followed into `followerIndex`. */
  async function followNew(leaderIndex: string, followerIndex: string, docs: number): Promise<void> {
    await createLeaderIndex(leader, leaderIndex, { shards: 1 });
    await leader.writeDocuments(leaderIndex, Array.from({ length: docs }, (_, i) => ({ op: 'index' as const, id: `d${i}`, source: { n: i } })), { refresh: true });
    followerIndices.push(followerIndex);
    await daemon().manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
  }

  it('promotes the others and names the one it could not promote, with its reason: exit 1', async () => {
    const q = uniqueName('pm');
    const pairs = [0, 1, 2].map((i) => [`${q}-l${i}`, `${q}-f${i}`] as const);
    for (const [l, f] of pairs) await followNew(l, f, 5);
    for (const [l, f] of pairs) await waitForCaughtUp(daemon(), leader, l, f);
    const broken = pairs[1]![1];
    await follower.closeIndex(broken);

    const result = await promote('--match', `${q}-f*`, '--json');
    expect(result.code, result.stderr).to.equal(1);
    const answer = JSON.parse(result.stdout) as PromoteManyAnswer;
    expect(answer.succeeded).to.equal(false);
    expect(answer.indices.map((i) => [i.follower, i.result])).to.deep.equal(pairs.map(([, f]) => [`follower/${f}`, f === broken ? 'failed' : 'promoted']));
    const failed = answer.indices.find((i) => i.result === 'failed')!;
    expect(failed.reason).to.match(/closed/);
    // The one that failed is still a (paused) follower; the others are ordinary indices taking writes.
    expect(daemon().manager.has(`follower/${broken}`)).to.equal(true);
    for (const [, f] of pairs.filter(([, f]) => f !== broken)) {
      expect(daemon().manager.has(`follower/${f}`)).to.equal(false);
      await follower.writeDocuments(f, [{ op: 'index', id: 'after-promotion', source: { n: -1 } }], { refresh: true });
      expect(await countDocs(follower, f)).to.equal(6);
    }

    // The human output names it too.
    const again = await promote('--match', `${q}-f*`);
    expect(again.code).to.equal(1);
    expect(again.stdout).to.match(new RegExp(`follower/${broken}\\s+failed: .*closed`));
    expect(again.stdout).to.match(new RegExp(`follower/${pairs[0]![1]}\\s+already an ordinary index`));
    await daemon().manager.unfollow(`follower/${broken}`);
  });

  it('promotes 20 followers of a stopped leader in one command, pausing its auto-follow patterns, with the RPO and RTO; again: all already ordinary', async () => {
    const p = uniqueName('pa');
    const hand = Array.from({ length: HAND_FOLLOWED }, (_, i) => [`${p}-l${i}`, `${p}-f${i}`] as const);
    for (const [l, f] of hand) await followNew(l, f, 3 + (hand.findIndex(([x]) => x === l) % 4));
    // Leader aliases: one over a single index (writable again after promotion), one over two (kept as it is).
    const single = `${p}-single`;
    const shared = `${p}-shared`;
    await leader.updateAliases([
      { add: { index: hand[0]![0], alias: single, filter: { range: { n: { gte: 0 } } } } },
      { add: { indices: [hand[1]![0], hand[2]![0]], alias: shared } },
    ]);
    const aliasesOf = async (index: string): Promise<string[]> =>
      Object.keys((await follower.raw<Record<string, { aliases: Record<string, unknown> }>>('aliases', { method: 'GET', path: `/${index}/_alias` })).body[index]?.aliases ?? {});
    await waitFor(async () => (await aliasesOf(hand[0]![1])).includes(single) && (await aliasesOf(hand[2]![1])).includes(shared),
      { timeoutMs: FOLLOW_TIMEOUT_MS, message: 'the leader aliases on the followers' });

    // Two patterns of this leader: plain indices, and a data stream.
    await daemon().autoFollow.put(`${p}-auto`, { remote_cluster: 'leader', leader_index_patterns: [`${p}-auto-*`] });
    await daemon().autoFollow.put(`${p}-streams`, { remote_cluster: 'leader', leader_index_patterns: [`${p}-stream*`] });
    const autoIndices = [`${p}-auto-1`, `${p}-auto-2`];
    for (const index of autoIndices) {
      await createLeaderIndex(leader, index, { shards: 1 });
      await leader.writeDocuments(index, [{ op: 'index', id: 'a', source: { n: 1 } }, { op: 'index', id: 'b', source: { n: 2 } }], { refresh: true });
    }
    followerIndices.push(...autoIndices);
    const stream = `${p}-stream`;
    await leader.raw('put index template', {
      method: 'PUT', path: `/_index_template/${p}-template`,
      body: {
        index_patterns: [`${p}-stream*`], data_stream: {},
        template: { settings: { 'index.number_of_shards': 1, 'index.number_of_replicas': 0 }, mappings: { properties: { '@timestamp': { type: 'date' }, n: { type: 'integer' } } } },
      },
    });
    const writeToStream = async (client: ClusterClient, from: number, count: number): Promise<void> => {
      const lines = Array.from({ length: count }, (_, i) => `{"create":{}}\n${JSON.stringify({ '@timestamp': new Date(Date.UTC(2026, 11, 7, 0, 0, from + i)).toISOString(), n: from + i })}\n`);
      const res = await client.raw<{ errors: boolean; items: unknown[] }>('write to the stream', { method: 'POST', path: `/${stream}/_bulk`, query: { refresh: 'true' }, ndjson: lines.join('') });
      expect(res.body.errors, `stream bulk errors: ${JSON.stringify(res.body.items[0])}`).to.equal(false);
    };
    await writeToStream(leader, 0, 10);
    await leader.raw('roll over', { method: 'POST', path: `/${stream}/_rollover` });
    await writeToStream(leader, 10, 5);
    const resolved = await leader.raw<{ data_streams: { name: string; backing_indices: string[] }[] }>('resolve', {
      method: 'GET', path: `/_resolve/index/${stream}`, query: { expand_wildcards: 'all' },
    });
    const backing = resolved.body.data_streams[0]!.backing_indices;
    expect(backing).to.have.length(2);
    followerIndices.push(...backing);

    const all: (readonly [string, string])[] = [...hand, ...autoIndices.map((i) => [i, i] as const), ...backing.map((i) => [i, i] as const)];
    expect(all).to.have.length(20);
    await waitFor(() => all.every(([, f]) => daemon().manager.has(`follower/${f}`)), { timeoutMs: FOLLOW_TIMEOUT_MS, message: 'the auto-followed indices followed' });
    for (const [l, f] of all) await waitForCaughtUp(daemon(), leader, l, f);
    for (const [l, f] of all) expect(await compareIndices(leader, l, follower, f), `${f} equals ${l}`).to.deep.equal([]);
    // Once the stream's alias is complete, it answers for both backing indices.
    await waitFor(async () => (await countDocs(follower, stream)) === 15, { timeoutMs: FOLLOW_TIMEOUT_MS, message: `15 documents under ${stream} on the follower` });
    const applied = new Map(all.map(([, f]) => [f, statsOf(daemon(), f).shards.reduce((n, s) => n + s.follower_global_checkpoint + 1, 0)]));

    await node.stop();
    const result = await promote('--all');
    expect(result.code, `${result.stdout}\n${result.stderr}`).to.equal(0);
    const lines = result.stdout.split('\n');
    expect(result.stdout).to.contain(`paused auto-follow pattern(s) ${p}-auto, ${p}-streams`);
    for (const [, f] of all) expect(lines.some((line) => new RegExp(`^follower/${f.replace(/[.]/g, '\\.')}\\s+promoted; RPO: at least 0 operation`).test(line)), `a line for ${f}`).to.equal(true);
    expect(result.stdout).to.contain(`data stream follower/${stream}: writable under its name, write index ${backing[1]}`);
    expect(result.stdout).to.match(/RPO: at least 0 operation\(s\) and up to [\d.]+ s of the leader's writes may be missing, over 20 follower\(s\)/);
    expect(result.stdout).to.match(/RTO: [\d.]+ s from the request to the last index writable \([\d.]+ s since the command started\)/);
    expect(result.stdout).to.match(/^20 promoted, \d+ already ordinary, 0 failed$/m);

    // Nothing is a follower any more, nothing new is followed, and everything takes writes.
    for (const [, f] of all) expect(daemon().manager.has(`follower/${f}`), f).to.equal(false);
    // The leader's aliases are kept; the one over a single index takes writes again.
    expect(result.stdout).to.match(new RegExp(`follower/${hand[0]![1]}\\s+promoted; .*alias\\(es\\) ${single} take writes again`));
    expect(await aliasesOf(hand[0]![1])).to.include(single);
    for (const [, f] of hand.slice(1, 3)) expect(await aliasesOf(f)).to.include(shared);
    await follower.writeDocuments(single, [{ op: 'index', id: 'through-the-alias', source: { n: 7 } }], { refresh: true });
    expect((await follower.getVersionedDocument(hand[0]![1], 'through-the-alias'))?.source, 'written through the alias').to.deep.equal({ n: 7 });
    for (const name of [`${p}-auto`, `${p}-streams`]) expect(daemon().autoFollow.list(name)[0]!.pattern.active, name).to.equal(false);
    for (const [, f] of all) {
      const before = await countDocs(follower, f);
      await follower.writeDocuments(f, [{ op: 'index', id: 'written-after-promotion', source: { n: -1, '@timestamp': '2026-12-07T01:00:00Z' } }], { refresh: true });
      expect(await countDocs(follower, f), f).to.equal(before + 1);
    }
    await writeToStream(follower, 100, 3);
    expect(await countDocs(follower, backing[1]!)).to.equal(5 + 1 + 3);

    // Again: every index already ordinary, with the recovery point its record kept.
    const again = await promote('--all', '--json');
    expect(again.code, again.stderr).to.equal(0);
    const answer = JSON.parse(again.stdout) as PromoteManyAnswer;
    expect(answer.indices.every((i) => i.result === 'already_promoted')).to.equal(true);
    const ours = answer.indices.filter((i) => all.some(([, f]) => i.follower === `follower/${f}`));
    expect(ours).to.have.length(20);
    for (const i of ours) {
      expect(i.result, i.follower).to.equal('already_promoted');
      expect(i.recoveryPoint?.operationsApplied, i.follower).to.equal(applied.get(i.follower.slice('follower/'.length)));
      expect(i.recoveryPoint?.operationsMissingAtLeast, i.follower).to.equal(0);
    }
    const human = await promote('--all');
    expect(human.code).to.equal(0);
    for (const [, f] of all) expect(human.stdout).to.match(new RegExp(`follower/${f.replace(/[.]/g, '\\.')}\\s+already an ordinary index`));

    // The records in the state index carry the run's totals.
    await follower.refresh(stateIndex);
    const docs = await follower.raw<{ hits: { hits: { _source: { kind: string; data: { promotion: PromotionRecord } } }[] } }>('state', {
      method: 'POST', path: `/${stateIndex}/_search`, body: { size: 100, query: { term: { kind: 'promotion' } } },
    });
    const records = docs.body.hits.hits.map((h) => h._source.data.promotion).filter((r) => all.some(([, f]) => r.followerIndex === f));
    expect(records).to.have.length(20);
    for (const r of records) expect(r.run, r.followerIndex).to.deep.include({ followers: 20, operationsMissingAtLeast: 0, unknownFollowers: 0 });
  });
});
