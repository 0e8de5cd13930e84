/**
 * Opens the cluster state backend (`daemon.state.cluster` in the config): creates the state index
 * on first use and gives `state/` the few document calls it needs, so that `state/` never builds a
 * request and the cluster client knows nothing of state records.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import { ClusterError } from '../cluster/errors.js';
import { ClusterStateStore, type StateDocuments } from '../state/cluster-state-store.js';
import { StateLock, type StateLockOptions } from '../state/state-lock.js';
import { StateWriteError } from '../state/state-store.js';

/** One primary, and one replica wherever a second node exists: the state outlives a node. */
const STATE_INDEX_SETTINGS = { 'index.number_of_shards': 1, 'index.auto_expand_replicas': '0-1', 'index.hidden': true };
/** Only the two fields searched on are indexed; each record is kept in `_source` as written. */
const STATE_INDEX_MAPPINGS = { dynamic: false, properties: { kind: { type: 'keyword' }, key: { type: 'keyword' } } };

/**
 * With `lock`, the state is taken for this daemon alone (state-lock.ts): the open fails with
 * `StateInUseError` while another live daemon holds it. Without, for tools that only read or that
 * run while no daemon does (and tests).
 */
export async function openClusterState(client: ClusterClient, index: string, lock?: Omit<StateLockOptions, 'now'>): Promise<ClusterStateStore> {
  await client.createIndexIfAbsent(index, { settings: STATE_INDEX_SETTINGS, mappings: STATE_INDEX_MAPPINGS });
  const location = `${client.alias}/${index}`;
  // A write the cluster refuses or cannot take is what StateWriteError means for the file backend:
  // the follower pauses with state_write_exception and resumes by itself once writes work again.
  const writing = async <T>(id: string, write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } catch (err) {
      if (err instanceof ClusterError) throw new StateWriteError(location, err.esType ?? err.kind, id, { cause: err });
      throw err;
    }
  };
  const docs: StateDocuments = {
    location,
    get: (id) => client.getVersionedDocument(index, id),
    list: (kind) => client.searchVersionedDocuments(index, 'kind', kind, 'key'),
    put: (id, source, condition) => writing(id, () => client.putDocumentIf(index, id, source, condition)),
    delete: (id) => writing(id, () => client.deleteDocument(index, id)),
  };
  return new ClusterStateStore(docs, lock ? await StateLock.acquire(docs, lock) : undefined);
}
