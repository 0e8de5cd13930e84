/**
 * The fail-back plan's two ways of comparing a shard, against a real Elasticsearch 8 old leader and
 * a real OpenSearch 2 promoted index: in memory (the promoted shard's ids read into a map) and page
 * by page with lookups (shards above the bound, forced here with a bound of 0), the latter with and
 * without its second pass (skipped when counts prove it finds nothing). Both must decide the same
 * difference, and the expected one: the promotion point is taken from the two indices after the
 * same writes, then each side is written on its own.
 */
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { DocumentWrite } from '../../src/cluster/types.js';
import { lostWriteLine } from '../../src/follow/failback-plan.js';
import { planFailback, type FailbackPlan } from '../../src/follow/failback.js';
import type { PromotedShard } from '../../src/state/state-store.js';
import { silentLogger } from '../../src/util/logger.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import { connect, createLeaderIndex } from '../helpers/replication.js';

/** Over two pages of the comparison in each of the two shards. */
const DOCS = 12_000;
const routingOf = (n: number): string | undefined => (n % 10 === 0 ? `r${n % 7}` : undefined);
const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

function ops(kind: 'index' | 'delete', ids: readonly number[], tag: string, prefix = 'doc'): DocumentWrite[] {
  return ids.map((n) => {
    const routing = routingOf(n);
    const meta = { id: `${prefix}-${n}`, ...(routing === undefined ? {} : { routing }) };
    return kind === 'delete' ? { op: 'delete', ...meta } : { op: 'index', ...meta, source: { n, tag } };
  });
}

async function write(client: ClusterClient, index: string, docs: readonly DocumentWrite[]): Promise<void> {
  for (let from = 0; from < docs.length; from += 2000) await client.writeDocuments(index, docs.slice(from, from + 2000));
}

/** What a plan decides, in an order that does not depend on how it was read. */
function decided(plan: FailbackPlan): unknown {
  return {
    versionBase: plan.versionBase,
    counts: plan.shards.map((s) => s.counts),
    writes: plan.shards.map((s) => s.writes.map((w) => `${w.op} ${w.id} ${w.routing ?? '-'}`).sort()),
    lostWrites: plan.lostWrites.map(lostWriteLine).sort(),
    oldMaxSeqNos: plan.shards.map((s) => s.oldMaxSeqNo),
  };
}

const sum = (plan: FailbackPlan, f: (c: FailbackPlan['shards'][number]['counts']) => number): number => plan.shards.reduce((t, s) => t + f(s.counts), 0);

describe('fail-back plan: in memory and page by page, Elasticsearch 8 old leader, OpenSearch 2 promoted index', function () {
  this.timeout(300_000);
  let old: ClusterClient;
  let promoted: ClusterClient;
  const created: { client: () => ClusterClient; index: string }[] = [];

  before(async () => {
    const pair = (await testClusters()).pair('elasticsearch', 'opensearch');
    [old, promoted] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
  });

  after(async () => {
    for (const { client, index } of created) await client().deleteIndex(index).catch(() => undefined);
    await Promise.all([old?.close(), promoted?.close()]);
  });

  /** Two indices with the same documents, and the promotion point between them (as `promote` records it). */
  async function promotedPair(): Promise<{ oldIndex: string; promotedIndex: string; shards: Record<number, PromotedShard> }> {
    const oldIndex = uniqueName('old-leader');
    const promotedIndex = uniqueName('promoted');
    created.push({ client: () => old, index: oldIndex }, { client: () => promoted, index: promotedIndex });
    await Promise.all([createLeaderIndex(old, oldIndex, { shards: 2 }), createLeaderIndex(promoted, promotedIndex, { shards: 2 })]);
    const docs = ops('index', range(0, DOCS), 'first');
    await Promise.all([write(old, oldIndex, docs), write(promoted, promotedIndex, docs)]);
    const [oldSeqNos, promotedSeqNos] = await Promise.all([old.shardSeqNos(oldIndex), promoted.shardSeqNos(promotedIndex)]);
    const shards: Record<number, PromotedShard> = {};
    for (const s of oldSeqNos) shards[s.shard] = { leaderCheckpoint: s.maxSeqNo, maxSeqNo: promotedSeqNos.find((p) => p.shard === s.shard)!.maxSeqNo };
    return { oldIndex, promotedIndex, shards };
  }

  async function bothWays(oldIndex: string, promotedIndex: string, shards: Record<number, PromotedShard>): Promise<{ inMemory: FailbackPlan; paged: FailbackPlan }> {
    const sides = { promoted, promotedIndex, oldLeader: old, oldLeaderIndex: oldIndex, shards, logger: silentLogger };
    const inMemory = await planFailback(sides);
    const paged = await planFailback({ ...sides, inMemoryMaxIds: 0 });
    expect(decided(paged)).to.deep.equal(decided(inMemory));
    return { inMemory, paged };
  }

  it('decides the same difference both ways: lost writes, deletes on either side, new and changed promoted documents', async () => {
    const { oldIndex, promotedIndex, shards } = await promotedPair();
    // The promoted index after promotion: 40 changed, 10 new, 10 deleted.
    await write(promoted, promotedIndex, [...ops('index', range(100, 40), 'promoted'), ...ops('index', range(0, 10), 'new', 'new'), ...ops('delete', range(200, 10), '')]);
    // The old leader after promotion (lost writes): 10 changed, 5 created, 5 deleted, 1 written again as it was.
    await write(old, oldIndex, [
      ...ops('index', range(300, 10), 'lost'), ...ops('index', range(0, 5), 'lost', 'lost'), ...ops('delete', range(400, 5), ''),
      ...ops('index', [500], 'first'),
    ]);
    const { inMemory } = await bothWays(oldIndex, promotedIndex, shards);
    expect(sum(inMemory, (c) => c.copied)).to.equal(50);
    expect(sum(inMemory, (c) => c.deleted)).to.equal(10 + 5);
    expect(sum(inMemory, (c) => c.putBack)).to.equal(10 + 5);
    expect(inMemory.lostWrites.map((w) => `${w.failback} ${w.id}`).sort()).to.deep.equal([
      ...range(0, 5).map((n) => `deleted lost-${n}`), ...range(300, 10).map((n) => `put_back doc-${n}`), ...range(400, 5).map((n) => `restored doc-${n}`),
    ].sort());
    expect(inMemory.shards.flatMap((s) => s.writes).filter((w) => w.op === 'delete').map((w) => w.id).sort())
      .to.deep.equal([...range(200, 10).map((n) => `doc-${n}`), ...range(0, 5).map((n) => `lost-${n}`)].sort());
  });

  it('decides the same difference both ways when the second pass is skipped (no delete on the old leader) or has nothing to read (no old-leader write)', async () => {
    const skipped = await promotedPair();
    await write(promoted, skipped.promotedIndex, [...ops('index', range(100, 20), 'promoted'), ...ops('delete', range(200, 5), '')]);
    await write(old, skipped.oldIndex, ops('index', range(300, 6), 'lost'));
    const { inMemory } = await bothWays(skipped.oldIndex, skipped.promotedIndex, skipped.shards);
    expect(inMemory.lostWrites.map((w) => `${w.failback} ${w.id}`).sort()).to.deep.equal(range(300, 6).map((n) => `put_back doc-${n}`).sort());
    expect(sum(inMemory, (c) => c.copied)).to.equal(20);
    expect(sum(inMemory, (c) => c.deleted)).to.equal(5);

    const untouched = await promotedPair();
    await write(promoted, untouched.promotedIndex, ops('delete', range(0, 3), ''));
    const quiet = await bothWays(untouched.oldIndex, untouched.promotedIndex, untouched.shards);
    expect(quiet.inMemory.lostWrites).to.deep.equal([]);
    expect(sum(quiet.inMemory, (c) => c.deleted)).to.equal(3);
    expect(sum(quiet.inMemory, (c) => c.putBack)).to.equal(0);
  });
});
