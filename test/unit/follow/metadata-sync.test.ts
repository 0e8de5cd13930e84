/**
 * MetadataSync over in-memory clusters (fake-cluster.ts): what it copies from the leader and when,
 * how a static setting is applied with writes held, and what it refuses. Faked to drive paths a
 * real node cannot be made to take on demand (a settings update that fails while the follower is
 * closed, a leader re-created between two syncs); metadata replication itself is also tested on
 * real nodes.
 */
import { expect } from 'chai';
import { ClusterConnectionError, ClusterResponseError, IndexReplacedError } from '../../../src/cluster/errors.js';
import { IndexBatchProbe, type IndexProbe, type ProbeLane } from '../../../src/follow/index-batch-probe.js';
import { IndexIdentity } from '../../../src/follow/index-identity.js';
import type { IndexVersions } from '../../../src/cluster/types.js';
import { MetadataSync } from '../../../src/follow/metadata-sync.js';
import { WriteGate } from '../../../src/follow/write-gate.js';
import { silentLogger } from '../../../src/util/logger.js';
import { turns, until } from '../shard/fakes.js';
import { FakeCluster, type FakeIndex } from './fake-cluster.js';

describe('MetadataSync', () => {
  let leader: FakeCluster;
  let follower: FakeCluster;
  let leaderIndex: FakeIndex;
  let followerIndex: FakeIndex;
  let identities: IndexIdentity[];
  let gate: WriteGate;
  let sync: MetadataSync;
  const never = new AbortController().signal;

  beforeEach(() => {
    leader = new FakeCluster('leader');
    follower = new FakeCluster('follower');
    leaderIndex = leader.add('orders');
    followerIndex = follower.add('orders-copy');
    identities = [
      new IndexIdentity(leader.client, 'orders', 'leader', leaderIndex.uuid),
      new IndexIdentity(follower.client, 'orders-copy', 'follower', followerIndex.uuid),
    ];
    gate = new WriteGate();
    sync = new MetadataSync({
      leader: leader.client, leaderIndex: 'orders', follower: follower.client, followerIndex: 'orders-copy', gate, logger: silentLogger,
      leaderIdentity: identities[0]!, followerIdentity: identities[1]!,
    });
  });
  afterEach(() => {
    for (const i of identities) i.close();
  });

  it('brings the follower to the leader\'s settings, mapping and aliases, then asks nothing until the leader moves', async () => {
    leaderIndex.settings = { 'index.max_result_window': '20000', 'index.number_of_replicas': '3' };
    leaderIndex.mappings = { properties: { price: { type: 'long' } } };
    leaderIndex.aliases = { 'orders-read': { is_write_index: true } };
    await sync.ensure(leaderIndex.versions, never);
    expect(followerIndex.settings['index.max_result_window']).to.equal('20000');
    expect(followerIndex.settings, 'replicas are the follower\'s own').to.not.have.property('index.number_of_replicas');
    expect(followerIndex.mappings).to.deep.equal({ properties: { price: { type: 'long' } } });
    expect(followerIndex.aliases).to.deep.equal({ 'orders-read': { is_write_index: false } });
    expect(sync.followerVersions).to.deep.include(followerIndex.versions);

    const calls = leader.calls.length;
    await sync.ensure(leaderIndex.versions, never);
    expect(leader.calls.length, 'already in step').to.equal(calls);

    leaderIndex.mappings = { properties: { price: { type: 'long' }, sku: { type: 'keyword' } } };
    leaderIndex.versions = { ...leaderIndex.versions, mappingVersion: 2 };
    await sync.ensure(leaderIndex.versions, never);
    expect(followerIndex.mappings).to.deep.equal(leaderIndex.mappings);
  });

  it('does not put again the mapping and settings a new follower index was created from, but still copies the aliases', async () => {
    leaderIndex.settings = { 'index.max_result_window': '20000' };
    leaderIndex.mappings = { properties: { price: { type: 'long' } } };
    leaderIndex.aliases = { 'orders-read': {} };
    const created = new MetadataSync({
      leader: leader.client, leaderIndex: 'orders', follower: follower.client, followerIndex: 'orders-copy', gate, logger: silentLogger,
      leaderIdentity: identities[0]!, followerIdentity: identities[1]!,
      createdFrom: { mappingVersion: leaderIndex.versions.mappingVersion, settingsVersion: leaderIndex.versions.settingsVersion },
    });
    await created.ensure(leaderIndex.versions, never);
    expect(follower.callsOf('putMapping')).to.deep.equal([]);
    expect(follower.callsOf('putSettings')).to.deep.equal([]);
    expect(followerIndex.aliases).to.have.property('orders-read');

    leaderIndex.mappings = { properties: { price: { type: 'long' }, sku: { type: 'keyword' } } };
    leaderIndex.versions = { ...leaderIndex.versions, mappingVersion: leaderIndex.versions.mappingVersion + 1 };
    await created.ensure(leaderIndex.versions, never);
    expect(followerIndex.mappings, 'a later change is copied').to.deep.equal(leaderIndex.mappings);
  });

  it('shares one sync between callers that arrive while it runs', async () => {
    leaderIndex.versions = { mappingVersion: 3, settingsVersion: 1, aliasesVersion: 1 };
    await Promise.all([sync.ensure(leaderIndex.versions, never), sync.ensure(leaderIndex.versions, never), sync.ensure(leaderIndex.versions, never)]);
    expect(leader.callsOf('indexMetadata')).to.have.length(1);
    expect(follower.callsOf('putMapping')).to.have.length(1);
  });

  it('applies a static setting on the closed follower with writes held, and reopens it even when the update fails', async () => {
    leaderIndex.settings = { 'index.analysis.analyzer.folding.type': 'custom' };
    follower.failNext('putSettings', () => new ClusterResponseError({ alias: 'follower', operation: 'update settings', statusCode: 400, esType: 'illegal_argument_exception', reason: 'unknown analyzer' }));
    // The close is held open until the test has tried to write meanwhile.
    let releaseClose: (() => void) | undefined;
    const close = follower.closeIndex.bind(follower);
    follower.closeIndex = async (index, signal) => {
      await close(index, signal);
      await new Promise<void>((resolve) => { releaseClose = resolve; });
    };
    let writeEntered = false;
    const syncing = sync.ensure(leaderIndex.versions, never).then(() => undefined, (e: unknown) => e);
    await until(() => releaseClose !== undefined, 2000, 'the follower closed');
    const entered = gate.enter(never).then((leave) => {
      writeEntered = true;
      leave();
    });
    await turns(10);
    expect(writeEntered, 'no write while the follower is closed').to.equal(false);
    releaseClose!();
    expect(await syncing).to.be.instanceOf(ClusterResponseError);
    expect(follower.calls.filter((c) => /^(closeIndex|putSettings|openIndex)/.test(c))).to.deep.equal([
      'closeIndex orders-copy', 'putSettings orders-copy', 'openIndex orders-copy',
    ]);
    expect(followerIndex.state).to.equal('open');
    await entered;
    expect(writeEntered, 'writes go on once it is reopened').to.equal(true);
  });

  it('refuses the metadata of a leader index deleted and created again, applying nothing', async () => {
    const replaced = leader.recreate('orders');
    replaced.mappings = { properties: { other: { type: 'text' } } };
    const err = await sync.ensure(replaced.versions, never).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(IndexReplacedError);
    expect(follower.callsOf('putMapping')).to.deep.equal([]);
    expect(follower.callsOf('putSettings')).to.deep.equal([]);
  });

  it('watches the leader, reports a failed check and keeps watching until aborted', async () => {
    const abort = new AbortController();
    const errors: unknown[] = [];
    leader.failNext('metadataVersions', () => new ClusterConnectionError({ alias: 'leader', operation: 'read index versions', reason: 'ECONNREFUSED' }));
    const watching = sync.watch(1, abort.signal, (err) => errors.push(err));
    await until(() => follower.callsOf('putMapping').length === 1, 2000, 'the first sync after the failed check');
    expect(errors).to.have.length(1).and.to.satisfy((e: unknown[]) => e[0] instanceof ClusterConnectionError);
    abort.abort();
    await watching;
  });
  it('with the shared probes, wakes only for news: a leader change is synced, a replaced follower reported, ticks without news cost no new read', async () => {
    const timers: (() => void)[] = [];
    const schedule = (fn: () => void): (() => void) => { timers.push(fn); return () => undefined; };
    const tick = async (): Promise<void> => {
      for (const fn of timers.splice(0)) fn();
      await turns(20);
    };
    let reads = 0;
    const probeOf = (cluster: FakeCluster): IndexProbe<IndexVersions> => {
      const probe = new IndexBatchProbe<IndexVersions>({
        readMany: (indices, signal) => cluster.client.metadataVersionsOfMany(indices, signal),
        readOne: (index, signal) => cluster.client.metadataVersions(index, signal), tickMs: 2000, schedule,
      });
      return { read: (index: string, lane: ProbeLane, signal: AbortSignal, until?: (v: IndexVersions) => boolean) => { reads += 1; return probe.read(index, lane, signal, until); } };
    };
    const watched = new MetadataSync({
      leader: leader.client, leaderIndex: 'orders', follower: follower.client, followerIndex: 'orders-copy', gate, logger: silentLogger,
      leaderIdentity: identities[0]!, followerIdentity: identities[1]!, probes: { leader: probeOf(leader), follower: probeOf(follower) },
    });
    const abort = new AbortController();
    const errors: unknown[] = [];
    const watching = watched.watch(1, abort.signal, (err) => errors.push(err));
    await tick();
    await until(() => follower.callsOf('putMapping').length === 1, 2000, 'the first sync');
    await turns(20);
    const readsIdle = reads;
    for (let t = 0; t < 5; t += 1) await tick();
    expect(reads, 'no new read per tick without news').to.equal(readsIdle);
    expect(follower.callsOf('putMapping')).to.have.length(1);

    leaderIndex.mappings = { properties: { added: { type: 'keyword' } } };
    leaderIndex.versions = { ...leaderIndex.versions, mappingVersion: leaderIndex.versions.mappingVersion + 1 };
    await tick();
    await until(() => follower.callsOf('putMapping').length === 2, 2000, 'the sync of the new mapping');

    follower.recreate('orders-copy');
    await turns(20);
    await tick();
    await until(() => errors.length === 1, 2000, 'the replaced follower reported');
    expect(errors[0]).to.be.instanceOf(IndexReplacedError);
    abort.abort();
    await watching;
  });
});
