/**
 * The one place that decides what an error means for replication (DESIGN.md, shard step 9).
 * Everything else asks `classify(err)`; nothing else reads status codes, `error.type` or errno.
 * Unknown errors are fatal: a replicator that retries what it does not understand hides problems
 * from the operator forever, while a paused follower with a clear reason gets fixed.
 */
import { ClusterError } from './errors.js';

export type Classification =
  | { readonly action: 'retry'; readonly reason: string }
  | { readonly action: 'fatal'; readonly reason: string }
  | { readonly action: 'aborted' };

/** Elasticsearch / OpenSearch `error.type` values that mean "try again later". */
const RETRYABLE_TYPES: Readonly<Record<string, string>> = {
  // Thread pool queue full: the node asks us to slow down.
  es_rejected_execution_exception: 'the cluster is rejecting work (queue full)',
  // Memory protection tripped; it clears as in-flight requests finish.
  circuit_breaking_exception: 'a circuit breaker tripped',
  // A shard copy is recovering or relocating (node restart, rebalancing).
  no_shard_available_action_exception: 'no shard copy available',
  unavailable_shards_exception: 'shards unavailable',
  shard_not_found_exception: 'shard not found on the node (relocating or recovering)',
  primary_missing_action_exception: 'primary shard missing',
  // Nodes joining or leaving the cluster.
  node_not_connected_exception: 'node not connected',
  node_disconnected_exception: 'node disconnected',
  node_closed_exception: 'node closing',
  connect_transport_exception: 'transport connection failed',
  master_not_discovered_exception: 'no elected master',
  cluster_manager_not_discovered_exception: 'no elected cluster manager',
  process_cluster_event_timeout_exception: 'cluster state update timed out',
  // Blocks lift: a write block set by an operator, a disk watermark, a recovering state.
  cluster_block_exception: 'a cluster or index block is in place',
  // The follower is closed while static settings from the leader are applied; it reopens.
  index_closed_exception: 'the index is closed',
};

/** HTTP statuses that mean "try again later", when `error.type` did not already decide. */
const RETRYABLE_STATUSES: Readonly<Record<number, string>> = {
  429: 'too many requests',
  502: 'bad gateway',
  503: 'service unavailable',
  504: 'gateway timeout',
};

/** Statuses whose meaning is fatal whatever the type, named so the reason reads well. */
const FATAL_STATUSES: Readonly<Record<number, string>> = {
  401: 'authentication refused: check the credentials for this cluster',
  403: 'permission denied: the configured user lacks a privilege',
  404: 'not found',
};

export function classify(err: unknown): Classification {
  if (isAbort(err)) return { action: 'aborted' };
  if (!(err instanceof ClusterError)) {
    return { action: 'fatal', reason: `unexpected error: ${err instanceof Error ? err.message : String(err)}` };
  }
  switch (err.kind) {
    case 'aborted':
      return { action: 'aborted' };
    case 'connection':
      return { action: 'retry', reason: `cluster unreachable: ${err.reason}` };
    // An untrusted, expired or misnamed certificate, a refused client certificate, http vs https:
    // the next handshake fails the same way until someone changes the config or the certificate.
    // The message already says which (ClusterTlsError) and what to change.
    case 'tls':
      return { action: 'fatal', reason: err.message };
    case 'timeout':
      return { action: 'retry', reason: 'request timed out' };
    case 'protocol':
    case 'response':
      break;
  }
  if (err.esType !== undefined && err.esType in RETRYABLE_TYPES) {
    return { action: 'retry', reason: `${RETRYABLE_TYPES[err.esType]}: ${err.reason}` };
  }
  if (err.statusCode !== undefined && err.statusCode in RETRYABLE_STATUSES) {
    return { action: 'retry', reason: `${RETRYABLE_STATUSES[err.statusCode]}: ${err.reason}` };
  }
  if (err.statusCode !== undefined && err.statusCode in FATAL_STATUSES) {
    return { action: 'fatal', reason: `${FATAL_STATUSES[err.statusCode]}: ${err.message}` };
  }
  return { action: 'fatal', reason: err.message };
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}
