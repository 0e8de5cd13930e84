/** Follower and shard stats as IndexFollower reports them, for unit tests of what reads them (metrics, history). */
import type { FollowerIndexStats } from '../../src/follow/index-follower.js';
import type { ShardStats } from '../../src/shard/shard-stats.js';

export function shardStats(id: number, over: Partial<ShardStats> = {}): ShardStats {
  return {
    shard_id: id, state: 'following', leader_global_checkpoint: 99, leader_max_seq_no: 99, follower_global_checkpoint: 49, last_requested_seq_no: 60,
    outstanding_read_requests: 2, outstanding_write_requests: 1, write_buffer_operation_count: 7, write_buffer_size_in_bytes: 700,
    peak_write_buffer_operation_count: 7, peak_write_buffer_size_in_bytes: 700, successful_read_requests: 3, failed_read_requests: 1,
    operations_read: 60, bytes_read: 6000, total_read_time_millis: 10, successful_write_requests: 2, failed_write_requests: 0,
    operations_written: 50, total_write_time_millis: 5, read_exceptions: [], write_exceptions: [], reconcile_exceptions: [],
    operations_deleted: 3, foreign_writes_detected: 0, foreign_writes_repaired: 0, reconciliations: 0, reconciliation_id_scans: 0,
    reconciliation_ids_checked: 0, failed_reconciliations: 0, time_since_last_read_millis: 5, lag_operations: 50, lag_millis: 2500, ...over,
  };
}

export function followerStats(over: Partial<FollowerIndexStats> = {}): FollowerIndexStats {
  return {
    index: 'orders', remote_cluster: 'leader', leader_index: 'orders-src', follower_cluster: 'follower', status: 'active', state: 'active',
    total_global_checkpoint_lag: 100, operations_written: 100, operations_deleted: 6, foreign_writes_detected: 0, leader_checkpoints_seen: true,
    shards: [shardStats(0), shardStats(1, { follower_global_checkpoint: 99, lag_operations: 0, lag_millis: 0 })], ...over,
  };
}
