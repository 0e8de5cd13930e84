/** The metrics registry reads the stats snapshots at scrape time, with Prometheus names and labels. */
import { expect } from 'chai';
import type { AutoFollowStatsView } from '../../../src/autofollow/auto-follow-stats.js';
import type { MetadataPatternView } from '../../../src/cluster-metadata/metadata-coordinator.js';
import { buildMetricsRegistry, followerProgress } from '../../../src/daemon/metrics.js';
import { followerStatus } from '../../../src/follow/follower-status.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prometheus-text.js';
import { followerStats, shardStats } from '../../helpers/stats-fixtures.js';

const shard = shardStats;
const follower = followerStats;

const autoFollow: AutoFollowStatsView = {
  number_of_failed_follow_indices: 2, number_of_failed_remote_cluster_state_requests: 1, number_of_successful_follow_indices: 5,
  recent_auto_follow_errors: [], auto_followed_clusters: [],
};

describe('metrics registry', () => {
  it('exposes shard stats with the follower labels, in base units, read at scrape time', async () => {
    let followers = [follower()];
    const registry = buildMetricsRegistry({ followers: () => followers, autoFollow: () => autoFollow });
    const labels = { follower_index: 'follower/orders', leader_cluster: 'leader', leader_index: 'orders-src', shard: '0' };
    let parsed = parsePrometheusText(await registry.metrics());
    expect(sampleValue(parsed, 'ccr_follow_shard_lag_seconds', labels)).to.equal(2.5);
    expect(sampleValue(parsed, 'ccr_follow_shard_lag_operations', labels)).to.equal(50);
    expect(sampleValue(parsed, 'ccr_follow_shard_read_bytes_total', labels)).to.equal(6000);
    expect(sampleValue(parsed, 'ccr_follow_shard_write_buffer_bytes', labels)).to.equal(700);
    expect(parsed.types.get('ccr_follow_shard_operations_written_total')).to.equal('counter');
    expect(sampleValue(parsed, 'ccr_follow_auto_follow_successful_follow_indices_total')).to.equal(5);
    expect(sampleValue(parsed, 'ccr_follow_follower_progress_ratio', { follower_index: 'follower/orders' })).to.equal(150 / 200);

    followers = [follower({ index: 'other', status: 'paused', fatal_exception: { type: 'x', reason: 'y', at: '' } })];
    parsed = parsePrometheusText(await registry.metrics());
    expect(parsed.samples.filter((s) => s.labels.follower_index === 'follower/orders')).to.deep.equal([]);
    expect(sampleValue(parsed, 'ccr_follow_follower_status', { follower_index: 'follower/other', status: 'failed' })).to.equal(1);
    expect(sampleValue(parsed, 'ccr_follow_follower_status', { follower_index: 'follower/other', status: 'paused' })).to.equal(0);
  });

  it('exports each follower cluster\'s write budget once, however many followers write through it', async () => {
    const budget = { limit: 3, in_flight: 3, waiting: 2, read_ahead_windows: 4.5, shards_waiting_to_read: 4, last_change: { from: 2, to: 3, at: '2026-12-07T00:00:00.000Z', reason: 'requests waiting' } };
    const followers = [follower({ write_concurrency: budget }), follower({ index: 'other', write_concurrency: budget }), follower({ index: 'fixed', follower_cluster: 'dr' })];
    const parsed = parsePrometheusText(await buildMetricsRegistry({ followers: () => followers, autoFollow: () => autoFollow }).metrics());
    expect(parsed.samples.filter((s) => s.name === 'ccr_follow_write_concurrency_limit')).to.have.length(1);
    expect(sampleValue(parsed, 'ccr_follow_write_concurrency_limit', { follower_cluster: 'follower' })).to.equal(3);
    expect(sampleValue(parsed, 'ccr_follow_read_ahead_windows', { follower_cluster: 'follower' })).to.equal(4.5);
    expect(sampleValue(parsed, 'ccr_follow_read_ahead_shards_waiting', { follower_cluster: 'follower' })).to.equal(4);
    expect(sampleValue(parsed, 'ccr_follow_write_concurrency_waiting', { follower_cluster: 'follower' })).to.equal(2);
  });

  it('exports each cluster-metadata pattern\'s items and changes', async () => {
    const pattern: MetadataPatternView = {
      name: 'dr', pattern: { active: true },
      stats: {
        rounds: 4, failed_rounds: 1, items_followed: 3, items_created: 3, items_changed: 2, items_put_back: 1, items_deleted: 0,
        not_expressible: [{ kind: 'lifecycle_policy', name: 'hot', reason: 'no mapping' }], held_back: [{ kind: 'index_template', name: 'logs', fields: ['data_stream'] }],
      },
    };
    const parsed = parsePrometheusText(await buildMetricsRegistry({ followers: () => [], autoFollow: () => autoFollow, metadata: () => [pattern] }).metrics());
    expect(sampleValue(parsed, 'ccr_follow_cluster_metadata_items', { pattern: 'dr', state: 'followed' })).to.equal(3);
    expect(sampleValue(parsed, 'ccr_follow_cluster_metadata_items', { pattern: 'dr', state: 'not_expressible' })).to.equal(1);
    expect(sampleValue(parsed, 'ccr_follow_cluster_metadata_items', { pattern: 'dr', state: 'held_back' })).to.equal(1);
    expect(sampleValue(parsed, 'ccr_follow_cluster_metadata_changes_total', { pattern: 'dr', change: 'put_back' })).to.equal(1);
    expect(sampleValue(parsed, 'ccr_follow_cluster_metadata_changes_total', { pattern: 'dr', change: 'changed' })).to.equal(2);
    expect(sampleValue(parsed, 'ccr_follow_cluster_metadata_failed_rounds_total', { pattern: 'dr' })).to.equal(1);
  });

  it('exports the requests sent to each leader cluster by purpose, once per leader however many followers report them', async () => {
    const none = { checkpoints: 0, metadata: 0, reads: 0, reconciliation: 0, writes: 0, other: 0 };
    const requests = { per_second: { ...none, checkpoints: 1, metadata: 0.5 }, total: { ...none, checkpoints: 120, metadata: 60, reads: 7 } };
    const followers = [follower({ leader_requests: requests }), follower({ index: 'other', leader_requests: requests }), follower({ index: 'starting' })];
    const parsed = parsePrometheusText(await buildMetricsRegistry({ followers: () => followers, autoFollow: () => autoFollow }).metrics());
    expect(parsed.samples.filter((s) => s.name === 'ccr_follow_leader_requests_total')).to.have.length(6);
    expect(sampleValue(parsed, 'ccr_follow_leader_requests_total', { leader_cluster: 'leader', purpose: 'checkpoints' })).to.equal(120);
    expect(sampleValue(parsed, 'ccr_follow_leader_requests_total', { leader_cluster: 'leader', purpose: 'reads' })).to.equal(7);
    expect(sampleValue(parsed, 'ccr_follow_leader_requests_per_second', { leader_cluster: 'leader', purpose: 'metadata' })).to.equal(0.5);
    expect(parsed.types.get('ccr_follow_leader_requests_total')).to.equal('counter');
  });

  it('calls a follower failed only when a fatal error paused it, and an empty leader fully copied', () => {
    expect(followerStatus(follower({ status: 'paused' }))).to.equal('paused');
    expect(followerStatus(follower())).to.equal('active');
    const empty = follower({ shards: [shard(0, { leader_global_checkpoint: -1, follower_global_checkpoint: -1 })] });
    expect(followerProgress(empty)).to.deep.equal({ copied: 0, total: 0, ratio: 1 });
  });
});
