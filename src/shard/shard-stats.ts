/** Per-shard stats with Elasticsearch CCR's field names (README, "Stats"). */
export interface ShardExceptionEntry {
  readonly kind: 'read' | 'write' | 'reconcile';
  readonly from_seq_no: number;
  readonly retries: number;
  readonly at: string;
  readonly exception: { readonly type: string; readonly reason: string };
}

export interface ShardStats {
  readonly shard_id: number;
  readonly state: string;
  readonly leader_global_checkpoint: number;
  readonly leader_max_seq_no: number;
  readonly follower_global_checkpoint: number;
  readonly last_requested_seq_no: number;
  readonly outstanding_read_requests: number;
  readonly outstanding_write_requests: number;
  readonly write_buffer_operation_count: number;
  readonly write_buffer_size_in_bytes: number;
  /** Highest buffer fill since the task started: what back-pressure actually allowed. */
  readonly peak_write_buffer_operation_count: number;
  readonly peak_write_buffer_size_in_bytes: number;
  readonly successful_read_requests: number;
  readonly failed_read_requests: number;
  readonly operations_read: number;
  readonly bytes_read: number;
  readonly total_read_time_millis: number;
  readonly successful_write_requests: number;
  readonly failed_write_requests: number;
  readonly operations_written: number;
  readonly total_write_time_millis: number;
  /**
   * Where the read and write time went (absent where the I/O does not measure it): waiting for a
   * leader refresh to make a window searchable, searching it, checking the index's uuid and metadata
   * after the search; waiting for the follower cluster's bulk budget, and the bulk requests.
   */
  readonly total_read_visibility_wait_millis?: number;
  readonly total_read_search_millis?: number;
  readonly total_read_confirm_millis?: number;
  readonly total_write_queued_millis?: number;
  readonly total_write_bulk_millis?: number;
  /** The most recent retried read failures (CCR keeps those of reads still failing). */
  readonly read_exceptions: readonly ShardExceptionEntry[];
  readonly write_exceptions: readonly ShardExceptionEntry[];
  readonly reconcile_exceptions: readonly ShardExceptionEntry[];
  /** Documents deleted on the follower because the leader no longer has them. */
  readonly operations_deleted: number;
  /** Documents found written to the follower by someone else, and how many were put back. */
  readonly foreign_writes_detected: number;
  readonly foreign_writes_repaired: number;
  /** Delete reconciliation passes, and how many of them had to scan ids (counts disagreed). */
  readonly reconciliations: number;
  readonly reconciliation_id_scans: number;
  readonly reconciliation_ids_checked: number;
  readonly failed_reconciliations: number;
  /** When the last reconciliation pass finished (ISO time). */
  readonly last_reconciliation?: string;
  readonly time_since_last_read_millis: number;
  /** leader_global_checkpoint - follower_global_checkpoint. */
  readonly lag_operations: number;
  /** Age of the oldest operation the leader has made durable and the follower has not applied (0 when caught up). */
  readonly lag_millis: number;
  readonly fatal_exception?: { readonly type: string; readonly reason: string };
  /** The follower index's metadata versions, as CCR reports them (filled in by the index follower). */
  readonly follower_mapping_version?: number;
  readonly follower_settings_version?: number;
  readonly follower_aliases_version?: number;
}

/** Whether a shard has caught up: `ShardFollowTask.progress()`, the same figures as its stats. */
export type ShardProgress = Pick<ShardStats, 'shard_id' | 'operations_written' | 'lag_operations' | 'lag_millis'>;
