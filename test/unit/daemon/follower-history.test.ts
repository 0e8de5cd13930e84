/** The daemon's per-follower history: a fixed ring of samples, rates between samples, statuses with reasons. */
import { expect } from 'chai';
import { FollowerHistory, SampleRing } from '../../../src/daemon/follower-history.js';
import type { FollowerIndexStats } from '../../../src/follow/index-follower.js';
import type { ShardStats } from '../../../src/shard/shard-stats.js';
import { followerStats, shardStats } from '../../helpers/stats-fixtures.js';

const shard = (id: number, over: Partial<ShardStats> = {}): ShardStats => shardStats(id, { failed_write_requests: 2, ...over });
const follower = (over: Partial<FollowerIndexStats> = {}): FollowerIndexStats => followerStats({
  operations_deleted: 0, shards: [shard(0), shard(1, { lag_millis: 4000 })], ...over,
});

/** A history over a settable list of stats and a hand-moved clock. */
function scripted(capacity = 4): { history: FollowerHistory; set(stats: FollowerIndexStats[]): void; tick(ms: number): void } {
  let stats: FollowerIndexStats[] = [];
  let now = 1_000_000;
  const history = new FollowerHistory({ stats: () => stats, now: () => now, intervalMs: 10_000, capacity });
  return { history, set: (s) => (stats = s), tick: (ms) => { now += ms; history.sample(); } };
}

describe('FollowerHistory', () => {
  it('samples lag, buffer and retries summed over shards, and the write rate between samples', () => {
    const h = scripted();
    h.set([follower({ operations_written: 100 })]);
    h.tick(0);
    h.set([follower({ operations_written: 600 })]);
    h.tick(10_000);
    const [view] = h.history.view().followers;
    expect(view).to.include({ follower_cluster: 'follower', index: 'orders' });
    expect(view!.samples.map((s) => s.operations_written_per_second)).to.deep.equal([0, 50]);
    expect(view!.samples[1]).to.deep.equal({
      at: 1_010_000, status: 'active', lag_operations: 100, lag_millis: 4000, operations_written_per_second: 50,
      write_buffer_operation_count: 14, write_buffer_size_in_bytes: 1400, retries: 6,
    });
  });

  it('counts a follower started between samples from the previous sample, so a backlog copied at once shows a rate', () => {
    const h = scripted();
    h.set([]);
    h.tick(0);
    h.set([follower({ operations_written: 2000 })]);
    h.tick(10_000);
    expect(h.history.view().followers[0]!.samples.map((s) => s.operations_written_per_second)).to.deep.equal([200]);
  });

  it('keeps only the newest `capacity` samples, oldest first', () => {
    const h = scripted(3);
    for (let i = 0; i < 5; i++) {
      h.set([follower({ total_global_checkpoint_lag: i })]);
      h.tick(10_000);
    }
    const samples = h.history.view().followers[0]!.samples;
    expect(samples.map((s) => s.lag_operations)).to.deep.equal([2, 3, 4]);
    expect(samples.map((s) => s.at)).to.deep.equal([1_030_000, 1_040_000, 1_050_000]);
  });

  it('records paused and failed samples with their reason, and counts a counter that went back as no writes', () => {
    const h = scripted();
    h.set([follower({ operations_written: 500 })]);
    h.tick(0);
    h.set([follower({ status: 'paused', operations_written: 10 })]);
    h.tick(10_000);
    h.set([follower({ status: 'paused', operations_written: 10, fatal_exception: { type: 'index_not_found_exception', reason: 'no such index [orders-src]', at: '2026-01-01T00:00:00Z' } })]);
    h.tick(10_000);
    const samples = h.history.view().followers[0]!.samples;
    expect(samples.map((s) => [s.status, s.reason, s.operations_written_per_second])).to.deep.equal([
      ['active', undefined, 0],
      ['paused', 'paused by a user', 0],
      ['failed', 'index_not_found_exception: no such index [orders-src]', 0],
    ]);
  });

  it('forgets a follower that is no longer followed', () => {
    const h = scripted();
    h.set([follower(), follower({ index: 'other' })]);
    h.tick(0);
    h.set([follower({ index: 'other' })]);
    h.tick(10_000);
    expect(h.history.view().followers.map((f) => f.index)).to.deep.equal(['other']);
  });

  it('samples at once on start and stops on stop', () => {
    const history = new FollowerHistory({ stats: () => [follower()], intervalMs: 60_000 });
    history.start();
    history.stop();
    expect(history.view().followers[0]!.samples).to.have.length(1);
    expect(history.view()).to.include({ interval_millis: 60_000, capacity: 360 });
  });

  it('refuses an interval or capacity that cannot hold a history', () => {
    expect(() => new FollowerHistory({ stats: () => [], intervalMs: 0 })).to.throw(/interval > 0/);
    expect(() => new FollowerHistory({ stats: () => [], capacity: 1 })).to.throw(/capacity of at least 2/);
  });
});

describe('SampleRing', () => {
  it('holds one reason string for a run of samples with the same reason', () => {
    const ring = new SampleRing(4);
    const base = { lag_operations: 0, lag_millis: 0, operations_written_per_second: 0, write_buffer_operation_count: 0, write_buffer_size_in_bytes: 0, retries: 0 };
    ring.push({ ...base, at: 1, status: 'failed', reason: 'x: y' });
    ring.push({ ...base, at: 2, status: 'failed', reason: `x: ${'y'}` });
    expect(ring.samples().map((s) => s.reason)).to.deep.equal(['x: y', 'x: y']);
    expect(ring.lastAt()).to.equal(2);
  });
});
