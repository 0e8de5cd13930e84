/**
 * Opens the cluster state backend (`daemon.state.cluster` in the config): creates the state index
 * on first use and gives `state/` the few document calls it needs, so that `state/` never builds a
 * request and the cluster client knows nothing of state records.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import { classify, type ErrorKind } from '../cluster/classify.js';
import { ClusterError } from '../cluster/errors.js';
import { retry, RetryPolicy } from '../cluster/retry.js';
import { ClusterStateStore, type StateDocuments } from '../state/cluster-state-store.js';
import { StateLock, type StateLockOptions } from '../state/state-lock.js';
import { StateWriteError } from '../state/state-store.js';
import type { Sleep } from '../util/sleep.js';

/** One primary, and one replica wherever a second node exists: the state outlives a node. */
const STATE_INDEX_SETTINGS = { 'index.number_of_shards': 1, 'index.auto_expand_replicas': '0-1', 'index.hidden': true };
/** Only the two fields searched on are indexed; each record is kept in `_source` as written. */
const STATE_INDEX_MAPPINGS = { dynamic: false, properties: { kind: { type: 'keyword' }, key: { type: 'keyword' } } };

/**
 * With `lock`, the state is taken for this daemon alone (state-lock.ts): the open fails with
 * `StateInUseError` while another live daemon holds it. Without, for tools that only read or that
 * run while no daemon does (and tests).
 */
export async function openClusterState(
  client: ClusterClient, index: string, lock?: Omit<StateLockOptions, 'now'>, writes: StateWriteRetry = DEFAULT_WRITE_RETRY,
): Promise<ClusterStateStore> {
  const docs = await openStateDocuments(client, index, writes);
  return new ClusterStateStore(docs, lock ? await StateLock.acquire(docs, lock) : undefined);
}

/**
 * The state index's documents, created on first use: what the store and, with several daemons,
 * the lease keeper read and write.
 */
export async function openStateDocuments(client: ClusterClient, index: string, writes: StateWriteRetry = DEFAULT_WRITE_RETRY): Promise<StateDocuments> {
  await client.createIndexIfAbsent(index, { settings: STATE_INDEX_SETTINGS, mappings: STATE_INDEX_MAPPINGS });
  const location = `${client.alias}/${index}`;
  const policy = new RetryPolicy(writes.maxDelayMs);
  // Every write goes through classify, by the one retry loop: what it retries (429, 503, a
  // timeout, a relocating shard, a block) is tried `attempts` times; what stays refused, or is
  // fatal (a missing privilege, a mapping conflict), is what StateWriteError means for the file
  // backend: the follower pauses with state_write_exception, naming the state index and what to
  // change, and resumes by itself once writes work again.
  const writing = async <T>(id: string, write: () => Promise<T>): Promise<T> => {
    try {
      return await retry(write, { signal: NEVER_ABORTED, policy, maxAttempts: writes.attempts, ...(writes.sleep ? { sleep: writes.sleep } : {}) });
    } catch (err) {
      if (!(err instanceof ClusterError)) throw err;
      const verdict = classify(err);
      const kind = verdict.action === 'aborted' ? 'aborted' : verdict.kind;
      const advice = stateWriteAdvice(kind, client.alias, index) ?? (verdict.action === 'retry' ? `still failing after ${writes.attempts} attempts` : undefined);
      throw new StateWriteError(location, kind, id, { cause: err, where: 'index', ...(advice ? { advice } : {}) });
    }
  };
  return {
    location,
    get: (id) => client.getVersionedDocument(index, id),
    list: (kind) => client.searchVersionedDocuments(index, 'kind', kind, 'key'),
    put: (id, source, condition) => writing(id, () => client.putDocumentIf(index, id, source, condition)),
    delete: (id) => writing(id, () => client.deleteDocument(index, id)),
  };
}

/** How state writes are retried: `attempts` in all, the delay doubling from 50 ms up to `maxDelayMs`. */
export interface StateWriteRetry {
  readonly attempts: number;
  readonly maxDelayMs: number;
  /** For tests. */
  readonly sleep?: Sleep;
}

/**
 * About 6 s of retries (8 attempts, delays up to 2 s): long enough to ride out a throttled or
 * relocating state shard, short enough that a user's pause or resume answers while the state
 * stays refused, and well within the lock's renewal margin (a third of its 30 s timeout).
 */
const DEFAULT_WRITE_RETRY: StateWriteRetry = { attempts: 8, maxDelayMs: 2000 };

/** The state store's writes have no caller to stop them: `attempts` ends them. */
const NEVER_ABORTED = new AbortController().signal;

/** What to change when the state index refuses a write, by classify's kind. */
function stateWriteAdvice(kind: ErrorKind | 'aborted', alias: string, index: string): string | undefined {
  switch (kind) {
    case 'security':
      return `grant the user of clusters.${alias}.auth the privileges create_index, read, write, view_index_metadata and maintenance on [${index}] (README, "Security")`;
    case 'blocked':
      return `a block refuses writes to [${index}] (index.blocks.write, index.blocks.read_only, or read_only_allow_delete after a disk watermark): free the disk and remove the block`;
    case 'refused':
      return `[${index}] refused the document: its mapping must stay as ccr-follow creates it (dynamic: false; kind and key as keyword)`;
    case 'index_not_found':
    case 'not_found':
      return `[${index}] is gone: restart the daemon to create it again`;
    default:
      return undefined;
  }
}
