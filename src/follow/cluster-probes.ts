/**
 * The shared probes of each cluster (docs/architecture.md, "Many followers, one probe"): per
 * cluster alias, one checkpoint probe (`_stats` of all its followed indices) and one metadata
 * probe (a filtered cluster-state read of their versions and uuids), whoever follows from or into
 * it. Built once by whoever builds the followers, and passed to each: so a daemon's idle cost is
 * a few requests per cluster and tick, not per followed index.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import type { IndexVersions, ShardSeqNoState } from '../cluster/types.js';
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

  constructor(options: ClusterProbesOptions = {}) {
    this.#o = options;
  }

  /** The checkpoint probe of `client`'s cluster (the first client of an alias serves it). */
  checkpoints(client: ClusterClient): IndexProbe<ShardSeqNoState[]> {
    return lookup(this.#checkpoints, client.alias, () => {
      const c = client.forPurpose('checkpoints');
      return new IndexBatchProbe<ShardSeqNoState[]>({
        readMany: (indices, signal) => c.shardSeqNosOfMany(indices, signal),
        readOne: (index, signal) => c.shardSeqNos(index, signal),
        tickMs: this.#o.checkpointTickMs ?? CHECKPOINT_TICK_MS,
      });
    });
  }

  /** The metadata probe of `client`'s cluster. */
  metadata(client: ClusterClient): IndexProbe<IndexVersions> {
    return lookup(this.#metadata, client.alias, () => {
      const c = client.forPurpose('metadata');
      return new IndexBatchProbe<IndexVersions>({
        readMany: (indices, signal) => c.metadataVersionsOfMany(indices, signal),
        readOne: (index, signal) => c.metadataVersions(index, signal),
        tickMs: this.#o.metadataTickMs ?? METADATA_TICK_MS,
      });
    });
  }

  close(): void {
    for (const probe of [...this.#checkpoints.values(), ...this.#metadata.values()]) probe.close();
    this.#checkpoints.clear();
    this.#metadata.clear();
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
