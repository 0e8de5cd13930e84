/**
 * The one place that decides what an error means for replication (docs/architecture.md, shard
 * step 9, and its error table, which follows this file). Everything else asks `classify(err)`;
 * nothing else reads status codes, `error.type` or errno, and no error is given a status or type it
 * did not come with so that this answers as wanted: what ccr-follow finds out itself (a shard not
 * started, an index re-created under its name) has its own error class in errors.ts and its own row
 * here. Retrying is `retry()` (cluster/retry.ts), which asks this function.
 *
 * The answer is an action (retry, fatal, aborted) and, for retry and fatal, the `kind` of the row
 * that matched: what the error means, for the few callers that word an outcome differently (a
 * control request refused with `index_not_found_exception` or `security_exception`: toFollowError).
 *
 * Unknown errors are fatal: a replicator that retries what it does not understand hides problems
 * from the operator forever, while a paused follower with a clear reason gets fixed.
 */
import { ClusterError, type ClusterErrorKind, IllegalReplicationStateError, UnknownClusterError } from './errors.js';

/** What a retried error means. */
export type RetryKind = 'unreachable' | 'timeout' | 'shard_unavailable' | 'nodes_changing' | 'overloaded' | 'blocked' | 'unavailable';
/** What a fatal error means. */
export type FatalKind =
  | 'tls' | 'security' | 'unknown_cluster' | 'index_not_found' | 'index_replaced' | 'not_found' | 'protocol' | 'illegal_state'
  | 'refused' | 'unexpected';
export type ErrorKind = RetryKind | FatalKind;

export type Classification =
  | { readonly action: 'retry'; readonly kind: RetryKind; readonly reason: string }
  | {
    readonly action: 'fatal'; readonly kind: FatalKind; readonly reason: string;
    /** See `autoFollowRetries` on the rows. */
    readonly autoFollowRetries: boolean;
  }
  | { readonly action: 'aborted' };

/** One row of the table: what the error means, and the words its reason starts with. */
export type Row =
  | { readonly action: 'retry'; readonly kind: RetryKind; readonly says: string }
  | {
    readonly action: 'fatal'; readonly kind: FatalKind;
    /** Absent: the error's message is the whole reason (it already says what to change). */
    readonly says?: string;
    /**
     * Auto-follow only. A fatal error pauses a follower index until a person resumes it; but an
     * auto-follow pattern that gives up on a leader index never comes back to it. So when the cause
     * lies outside that index (credentials, certificates, the config), and is fixed there without
     * touching the index, auto-follow tries the index again next round instead of giving up.
     */
    readonly autoFollowRetries?: true;
  };

/**
 * By the class ccr-follow built the error as (`ClusterError.kind`). `undefined`: the cluster
 * answered with an error, and its `error.type` then its status decide (the tables below).
 */
const BY_CLASS: Readonly<Record<Exclude<ClusterErrorKind, 'aborted'>, Row | undefined>> = {
  // No answer: a node restarting, a network or proxy blip. It comes back; meanwhile the lag shows it.
  connection: { action: 'retry', kind: 'unreachable', says: 'cluster unreachable' },
  // A slow or overloaded cluster; the next attempt may be quicker.
  timeout: { action: 'retry', kind: 'timeout', says: 'request timed out' },
  // An untrusted, expired or misnamed certificate, a refused client certificate, http vs https:
  // the next handshake fails the same way until someone changes the config or the certificate.
  // The message already says which (ClusterTlsError) and what to change.
  tls: { action: 'fatal', kind: 'tls', autoFollowRetries: true },
  // A primary not started yet (a new or reopening index), or a shard that failed or timed out in
  // this search or count: shards start, recover and relocate.
  shard_unavailable: { action: 'retry', kind: 'shard_unavailable', says: 'shard not available' },
  // The index is not there: retrying would read nothing forever. A person re-creates or unfollows.
  index_not_found: { action: 'fatal', kind: 'index_not_found', says: 'not found' },
  // The index was deleted and created again under its name: another `_seq_no` history, which must
  // never be mixed with the one the follow has copied so far.
  index_replaced: { action: 'fatal', kind: 'index_replaced', says: 'index replaced' },
  // An answer in a shape we cannot trust (unreadable, missing what was asked for): acting on it
  // could lose or invent documents.
  protocol: { action: 'fatal', kind: 'protocol' },
  response: undefined,
};

/**
 * A cluster alias the config does not define. Fatal: only a config change adds it. Auto-follow
 * tries again, since a follower cluster added to the config later makes the index followable.
 */
const UNKNOWN_CLUSTER: Row = { action: 'fatal', kind: 'unknown_cluster', says: 'cluster not configured', autoFollowRetries: true };

const retry = (kind: RetryKind, says: string): Row => ({ action: 'retry', kind, says });

/** By Elasticsearch / OpenSearch `error.type`, whatever the status. */
const BY_TYPE: Readonly<Record<string, Row>> = {
  // Thread pool queue full: the node asks us to slow down.
  es_rejected_execution_exception: retry('overloaded', 'the cluster is rejecting work (queue full)'),
  // Memory protection tripped; it clears as in-flight requests finish.
  circuit_breaking_exception: retry('overloaded', 'a circuit breaker tripped'),
  // A shard copy is recovering or relocating (node restart, rebalancing).
  no_shard_available_action_exception: retry('shard_unavailable', 'no shard copy available'),
  unavailable_shards_exception: retry('shard_unavailable', 'shards unavailable'),
  shard_not_found_exception: retry('shard_unavailable', 'shard not found on the node (relocating or recovering)'),
  primary_missing_action_exception: retry('shard_unavailable', 'primary shard missing'),
  // A shard copy in a state that cannot serve the request while it starts, recovers, relocates or
  // closes (a relocation, a rolling restart): Elasticsearch's and OpenSearch's
  // IllegalIndexShardStateException and its index_shard_* subclasses, which answer 404 or 500 (so
  // the status rows would call them fatal). CCR retries them (ShardFollowNodeTask.shouldRetry).
  illegal_index_shard_state_exception: retry('shard_unavailable', 'shard in a state that cannot serve the request'),
  index_shard_closed_exception: retry('shard_unavailable', 'shard closed (relocating or closing)'),
  index_shard_not_started_exception: retry('shard_unavailable', 'shard not started yet'),
  index_shard_not_recovering_exception: retry('shard_unavailable', 'shard not recovering'),
  index_shard_recovering_exception: retry('shard_unavailable', 'shard recovering'),
  index_shard_relocated_exception: retry('shard_unavailable', 'shard relocated'),
  index_shard_started_exception: retry('shard_unavailable', 'shard already started'),
  // Lucene's AlreadyClosedException: a shard's engine or reader closed under the request (a
  // relocation, a node shutting down). CCR retries it.
  already_closed_exception: retry('shard_unavailable', 'shard engine closed under the request'),
  // Nodes joining or leaving the cluster.
  node_not_connected_exception: retry('nodes_changing', 'node not connected'),
  node_disconnected_exception: retry('nodes_changing', 'node disconnected'),
  node_closed_exception: retry('nodes_changing', 'node closing'),
  // A node that left between choosing it and asking it (CCR retries it too).
  no_such_node_exception: retry('nodes_changing', 'node left the cluster'),
  connect_transport_exception: retry('nodes_changing', 'transport connection failed'),
  master_not_discovered_exception: retry('nodes_changing', 'no elected master'),
  cluster_manager_not_discovered_exception: retry('nodes_changing', 'no elected cluster manager'),
  process_cluster_event_timeout_exception: retry('nodes_changing', 'cluster state update timed out'),
  // Blocks lift: a write block set by an operator, a disk watermark, a recovering state. (A 403
  // with this type is a block, not a missing privilege.)
  cluster_block_exception: retry('blocked', 'a cluster or index block is in place'),
  // The follower is closed while static settings from the leader are applied; it reopens.
  index_closed_exception: retry('blocked', 'the index is closed'),
  // The index is not there (deleted, or never created): as index_not_found above.
  index_not_found_exception: { action: 'fatal', kind: 'index_not_found', says: 'not found' },
};

/** By HTTP status, when no `error.type` row matched. */
const BY_STATUS: Readonly<Record<number, Row>> = {
  // Throttling and gateways: the cluster, or what stands before it, asks us to come back later.
  429: retry('overloaded', 'too many requests'),
  502: retry('unavailable', 'bad gateway'),
  503: retry('unavailable', 'service unavailable'),
  504: retry('unavailable', 'gateway timeout'),
  // Refused credentials or a missing privilege stay refused until someone changes the user or the
  // config; the message says which (errors.ts). Auto-follow tries again: see autoFollowRetries.
  401: { action: 'fatal', kind: 'security', says: 'authentication refused: check the credentials for this cluster', autoFollowRetries: true },
  403: { action: 'fatal', kind: 'security', says: 'permission denied: the configured user lacks a privilege', autoFollowRetries: true },
  // Whatever was asked for is gone; asking again finds nothing either.
  404: { action: 'fatal', kind: 'not_found', says: 'not found' },
};

/**
 * Any other answer of the cluster (a mapping conflict, a rejected document, an unknown type or
 * status): the follower pauses with the cluster's reason instead of retrying blindly.
 */
const OTHER_RESPONSE: Row = { action: 'fatal', kind: 'refused' };

/**
 * Something ccr-follow checks about its own work did not hold (`IllegalReplicationStateError`): an
 * answer that does not match its request, a promise of its own broken. Going on could lose or
 * invent documents; the message says what was found.
 */
const ILLEGAL_STATE: Row = { action: 'fatal', kind: 'illegal_state', says: 'illegal replication state' };

/** Not from the cluster layer: a bug or something unforeseen. Unknown, hence fatal. */
const NOT_FROM_A_CLUSTER: Row = { action: 'fatal', kind: 'unexpected', says: 'unexpected error' };

/** The whole table, for the tests and docs/architecture.md. */
export const CLASSIFY_TABLE = {
  byClass: BY_CLASS, byType: BY_TYPE, byStatus: BY_STATUS, unknownCluster: UNKNOWN_CLUSTER, illegalState: ILLEGAL_STATE,
  otherResponse: OTHER_RESPONSE, notFromACluster: NOT_FROM_A_CLUSTER,
} as const;

export function classify(err: unknown): Classification {
  // A stop (pause, shutdown), never a failure: an AbortError from a sleep or a signal, or a request
  // the caller aborted.
  if (isAbort(err) || (err instanceof ClusterError && err.kind === 'aborted')) return { action: 'aborted' };
  if (err instanceof UnknownClusterError) return verdict(UNKNOWN_CLUSTER, err.message);
  if (err instanceof IllegalReplicationStateError) return verdict(ILLEGAL_STATE, err.message);
  if (!(err instanceof ClusterError)) return verdict(NOT_FROM_A_CLUSTER, err instanceof Error ? err.message : String(err));
  const byClass = BY_CLASS[err.kind as Exclude<ClusterErrorKind, 'aborted'>];
  if (byClass !== undefined) return verdict(byClass, byClass.action === 'retry' ? err.reason : err.message);
  const byType = err.esType !== undefined && Object.hasOwn(BY_TYPE, err.esType) ? BY_TYPE[err.esType] : undefined;
  const row = byType ?? (err.statusCode !== undefined && Object.hasOwn(BY_STATUS, err.statusCode) ? BY_STATUS[err.statusCode] : undefined) ?? OTHER_RESPONSE;
  return verdict(row, row.action === 'retry' ? err.reason : err.message);
}

/** The kind of the row `err` matches, or `aborted`. */
export function kindOf(err: unknown): ErrorKind | 'aborted' {
  const verdict = classify(err);
  return verdict.action === 'aborted' ? 'aborted' : verdict.kind;
}

function verdict(row: Row, detail: string): Classification {
  const reason = row.says === undefined ? detail : `${row.says}: ${detail}`;
  if (row.action === 'retry') return { action: 'retry', kind: row.kind, reason };
  return { action: 'fatal', kind: row.kind, reason, autoFollowRetries: row.autoFollowRetries === true };
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}
