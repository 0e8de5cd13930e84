/**
 * `GET /metrics` during a follow of a real leader parses as Prometheus text and agrees with `stats`
 * of the same run; lag in seconds rises while the follower is paused and the leader is written, and
 * returns to 0 after resume and catch-up.
 */
import { expect } from 'chai';
import { httpSend } from '../../src/cli/control-client.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import type { FollowerIndexStats } from '../../src/follow/index-follower.js';
import { uniqueName } from '../helpers/clusters.js';
import { FLAVOR_PAIRS, pairTitle, useFollowPair } from '../helpers/follow-fixture.js';
import { parsePrometheusText, sampleValue, type ParsedMetrics } from '../helpers/prometheus-text.js';
import { createLeaderIndex, RandomWorkload, statsOf, waitForCaughtUp } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

async function scrape(daemon: Daemon): Promise<ParsedMetrics> {
  const res = await httpSend(new URL(`${daemon.url}/metrics`), 'GET', undefined);
  expect(res.status).to.equal(200);
  return parsePrometheusText(res.text);
}

/** Shard metric name → the stats field it reports, for exact comparison when nothing moves. */
const SHARD_FIELDS: Readonly<Record<string, (s: FollowerIndexStats['shards'][number]) => number>> = {
  ccr_follow_shard_lag_operations: (s) => s.lag_operations,
  ccr_follow_shard_lag_seconds: (s) => s.lag_millis / 1000,
  ccr_follow_shard_leader_global_checkpoint: (s) => s.leader_global_checkpoint,
  ccr_follow_shard_follower_global_checkpoint: (s) => s.follower_global_checkpoint,
  ccr_follow_shard_operations_read_total: (s) => s.operations_read,
  ccr_follow_shard_read_bytes_total: (s) => s.bytes_read,
  ccr_follow_shard_operations_written_total: (s) => s.operations_written,
  ccr_follow_shard_operations_deleted_total: (s) => s.operations_deleted,
  ccr_follow_shard_failed_read_requests_total: (s) => s.failed_read_requests,
  ccr_follow_shard_failed_write_requests_total: (s) => s.failed_write_requests,
  ccr_follow_shard_write_buffer_operations: (s) => s.write_buffer_operation_count,
  ccr_follow_shard_write_buffer_bytes: (s) => s.write_buffer_size_in_bytes,
  ccr_follow_shard_outstanding_read_requests: (s) => s.outstanding_read_requests,
  ccr_follow_shard_outstanding_write_requests: (s) => s.outstanding_write_requests,
  ccr_follow_shard_read_visibility_wait_seconds_total: (s) => (s.total_read_visibility_wait_millis ?? NaN) / 1000,
  ccr_follow_shard_read_search_seconds_total: (s) => (s.total_read_search_millis ?? NaN) / 1000,
  ccr_follow_shard_read_confirm_seconds_total: (s) => (s.total_read_confirm_millis ?? NaN) / 1000,
  ccr_follow_shard_write_queued_seconds_total: (s) => (s.total_write_queued_millis ?? NaN) / 1000,
  ccr_follow_shard_write_bulk_seconds_total: (s) => (s.total_write_bulk_millis ?? NaN) / 1000,
};

const MONOTONE = ['ccr_follow_shard_operations_read_total', 'ccr_follow_shard_read_bytes_total', 'ccr_follow_shard_operations_written_total', 'ccr_follow_shard_follower_global_checkpoint'];

describe('Prometheus metrics at /metrics', function () {
  this.timeout(300_000);
  const flavors = FLAVOR_PAIRS[2]!; // ES → OS
  describe(pairTitle(flavors), () => {
    const pair = useFollowPair(flavors);

    async function followed(seed: number): Promise<{ leaderIndex: string; followerIndex: string; labels: Record<string, string>; workload: RandomWorkload }> {
      const leaderIndex = uniqueName('leader');
      const followerIndex = uniqueName('follower');
      pair.track('leader', leaderIndex);
      pair.track('follower', followerIndex);
      await createLeaderIndex(pair.leader, leaderIndex, { shards: 2 });
      const workload = new RandomWorkload(pair.leader, leaderIndex, { seed, ids: 2000 });
      await workload.run(3);
      await pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex });
      return { leaderIndex, followerIndex, labels: { follower_index: `follower/${followerIndex}`, leader_cluster: 'leader', leader_index: leaderIndex }, workload };
    }

    it('reports lag and counters that parse as Prometheus text and agree with stats', async () => {
      const { leaderIndex, followerIndex, labels, workload } = await followed(91);
      // While operations flow: each monotone value lies between the stats taken just before and just after the scrape.
      const writing = workload.run(15);
      let compared = 0;
      await waitFor(async () => {
        const before = statsOf(pair.daemon, followerIndex);
        const parsed = await scrape(pair.daemon);
        const after = statsOf(pair.daemon, followerIndex);
        for (const shard of after.shards) {
          const l = { ...labels, shard: String(shard.shard_id) };
          for (const name of MONOTONE) {
            const v = sampleValue(parsed, name, l);
            const pick = SHARD_FIELDS[name]!;
            const lo = before.shards.find((s) => s.shard_id === shard.shard_id);
            expect(v, name).to.be.within(lo ? pick(lo) : -1, pick(shard));
          }
        }
        compared += 1;
        return compared >= 5 && after.operations_written > 0;
      }, { timeoutMs: 120_000, intervalMs: 200, message: 'five scrapes during the follow' });
      await writing;
      await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);

      // Caught up and idle: every value equals stats exactly.
      const stats = statsOf(pair.daemon, followerIndex);
      const parsed = await scrape(pair.daemon);
      expect(parsed.types.get('ccr_follow_shard_operations_written_total')).to.equal('counter');
      expect(parsed.types.get('ccr_follow_shard_lag_seconds')).to.equal('gauge');
      for (const shard of stats.shards) {
        for (const [name, pick] of Object.entries(SHARD_FIELDS)) {
          expect(sampleValue(parsed, name, { ...labels, shard: String(shard.shard_id) }), name).to.equal(pick(shard));
        }
      }
      expect(sampleValue(parsed, 'ccr_follow_shard_lag_seconds', { ...labels, shard: '0' })).to.equal(0);
      // Where the time went: every shard searched and wrote, and its stages fit in its read and write time.
      for (const shard of stats.shards) {
        expect(shard.total_read_search_millis, `shard ${shard.shard_id} search time`).to.be.greaterThan(0);
        expect(shard.total_write_bulk_millis, `shard ${shard.shard_id} bulk time`).to.be.greaterThan(0);
        const stages = shard.total_write_queued_millis! + shard.total_write_bulk_millis!;
        expect(stages, `shard ${shard.shard_id} write stages`).to.be.at.most(shard.total_write_time_millis + shard.successful_write_requests + shard.failed_write_requests);
      }
      expect(sampleValue(parsed, 'ccr_follow_follower_status', { ...labels, status: 'active' })).to.equal(1);
      expect(sampleValue(parsed, 'ccr_follow_follower_status', { ...labels, status: 'paused' })).to.equal(0);
      expect(sampleValue(parsed, 'ccr_follow_follower_progress_ratio', labels)).to.equal(1);
      const autoFollow = pair.daemon.autoFollow.stats();
      expect(sampleValue(parsed, 'ccr_follow_auto_follow_successful_follow_indices_total')).to.equal(autoFollow.number_of_successful_follow_indices);
      expect(sampleValue(parsed, 'ccr_follow_auto_follow_failed_follow_indices_total')).to.equal(autoFollow.number_of_failed_follow_indices);
      for (const s of parsed.samples.filter((x) => x.name.startsWith('ccr_follow_shard_'))) {
        expect(Object.keys(s.labels).sort()).to.deep.equal(['follower_index', 'leader_cluster', 'leader_index', 'shard']);
      }
    });

    it('reports lag in seconds rising while paused and the leader is written, and 0 after resume and catch-up', async () => {
      const { leaderIndex, followerIndex, labels, workload } = await followed(92);
      await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
      const key = `follower/${followerIndex}`;
      const maxLag = (p: ParsedMetrics): number => Math.max(...p.samples.filter((s) => s.name === 'ccr_follow_shard_lag_seconds' && s.labels.follower_index === key).map((s) => s.value));
      await waitFor(async () => maxLag(await scrape(pair.daemon)) === 0, { timeoutMs: 30_000, message: 'lag 0 once caught up' });

      await pair.daemon.manager.pause(key);
      await workload.run(2);
      const first = await waitFor(async () => {
        const parsed = await scrape(pair.daemon);
        return maxLag(parsed) > 0 ? parsed : false;
      }, { timeoutMs: 30_000, message: 'lag in seconds above 0 while paused' });
      expect(sampleValue(first, 'ccr_follow_follower_status', { ...labels, status: 'paused' })).to.equal(1);
      expect(sampleValue(first, 'ccr_follow_shard_lag_operations', { ...labels, shard: '0' }) + sampleValue(first, 'ccr_follow_shard_lag_operations', { ...labels, shard: '1' })).to.be.greaterThan(0);
      const lagThen = maxLag(first);
      // Rises with time while nothing is applied: at least 1.5 s more, measured by the daemon's own clock.
      await waitFor(async () => maxLag(await scrape(pair.daemon)) >= lagThen + 1.5, { timeoutMs: 30_000, intervalMs: 250, message: `lag to rise above ${lagThen + 1.5} s` });
      const stats = statsOf(pair.daemon, followerIndex);
      expect(Math.max(...stats.shards.map((s) => s.lag_millis))).to.be.greaterThan((lagThen + 1.5) * 1000 - 1);

      await pair.daemon.manager.resume(key, {});
      await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
      await waitFor(async () => maxLag(await scrape(pair.daemon)) === 0, { timeoutMs: 60_000, message: 'lag in seconds back to 0 after resume' });
      expect(sampleValue(await scrape(pair.daemon), 'ccr_follow_follower_status', { ...labels, status: 'active' })).to.equal(1);
    });
  });
});
