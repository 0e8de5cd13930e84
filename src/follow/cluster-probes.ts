/**
 * The shared probes of each cluster (docs/architecture.md, "Many followers, one probe"): per
 * cluster alias, one checkpoint probe (`_stats` of all its followed indices) and one metadata
 * probe (a filtered cluster-state read of their versions and uuids), whoever follows from or into
 * it. Built once by whoever builds the followers, and passed to each: so a daemon's idle cost is
 * a few requests per cluster and tick, not per followed index.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import type { IndexVersions, ShardSeqNoState } from '../cluster/types.js';
import { ClusterIndexNames } from './cluster-index-names.js';
import { IndexBatchProbe, type IndexProbe } from './index-batch-probe.js';

/** How often an idle index's global checkpoints are read: its first new operation is seen within this. */
export const CHECKPOINT_TICK_MS = 1000;
/**
 * How often every followed index's metadata versions and uuid are read. Only idle indices depend
 * on it (a settings or alias change with no document, a follower index deleted): while operations
 * flow, each read of them confirms the leader's versions and uuid itself. Slower than the
 * checkpoint tick, because at hundreds of followers each tick is several requests per cluster.
 */
export const METADATA_TICK_MS = 5000;

export interface ClusterProbesOptions {
  readonly checkpointTickMs?: number;
  readonly metadataTickMs?: number;
}

export class ClusterProbes {
  readonly #o: ClusterProbesOptions;
  readonly #checkpoints = new Map<string, IndexBatchProbe<ShardSeqNoState[]>>();
  readonly #metadata = new Map<string, IndexBatchProbe<IndexVersions>>();
  readonly #names = new Map<string, ClusterIndexNames>();

  constructor(options: ClusterProbesOptions = {}) {
    this.#o = options;
  }

  /** The checkpoint probe of `client`'s cluster (the first client of an alias serves it). */
  checkpoints(client: ClusterClient): IndexProbe<ShardSeqNoState[]> {
    return lookup(this.#checkpoints, client.alias, () => {
      const c = client.forPurpose('checkpoints');
      const names = this.#namesOf(client);
      return new IndexBatchProbe<ShardSeqNoState[]>({
        readMany: (indices, signal) => names.read(indices, signal, (expressions) => c.shardSeqNosOfMany(indices, signal, expressions)),
        readOne: (index, signal) => c.shardSeqNos(index, signal),
        tickMs: this.#o.checkpointTickMs ?? CHECKPOINT_TICK_MS,
      });
    });
  }

  /** The metadata probe of `client`'s cluster. */
  metadata(client: ClusterClient): IndexProbe<IndexVersions> {
    return lookup(this.#metadata, client.alias, () => {
      const c = client.forPurpose('metadata');
      const names = this.#namesOf(client);
      return new IndexBatchProbe<IndexVersions>({
        readMany: (indices, signal) => names.read(indices, signal, (expressions) => c.metadataVersionsOfMany(indices, signal, expressions)),
        readOne: (index, signal) => c.metadataVersions(index, signal),
        tickMs: this.#o.metadataTickMs ?? METADATA_TICK_MS,
      });
    });
  }

  /** The cluster's names, listed for both probes of `client`'s cluster (counted as metadata requests). */
  #namesOf(client: ClusterClient): ClusterIndexNames {
    return lookup(this.#names, client.alias, () => {
      const c = client.forPurpose('metadata');
      return new ClusterIndexNames({
        list: async (signal) => {
          const all = await c.resolveIndex(['*'], signal);
          return [...all.indices, ...all.aliases, ...all.data_streams].map((entry) => entry.name);
        },
      });
    });
  }

  close(): void {
    for (const probe of [...this.#checkpoints.values(), ...this.#metadata.values()]) probe.close();
    this.#checkpoints.clear();
    this.#metadata.clear();
    this.#names.clear();
  }
}

function lookup<P>(map: Map<string, P>, alias: string, build: () => P): P {
  let probe = map.get(alias);
  if (probe === undefined) {
    probe = build();
    map.set(alias, probe);
  }
  return probe;
}
