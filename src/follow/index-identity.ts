/**
 * Which index a follow reads from and writes to is fixed by its uuid, not its name: a leader index
 * deleted and created again under the same name starts a new `_seq_no` history, and reading it
 * above the old checkpoints (or deleting follower documents it lacks) would mix two histories.
 *
 * `IndexIdentity.confirm()` proves that whatever the caller read from the index *before* calling
 * was read from the expected index: it resolves only after a uuid read that started after the call
 * found the expected uuid (an index never gets an old uuid back). Concurrent callers share reads:
 * a caller arriving while a read is in flight waits for the next one, which serves all who queued.
 *
 * The uuid is read with the index's metadata versions (one cluster-state read), which `confirm()`
 * returns: read after the caller's own read, they cover every document it saw (a document's
 * mapping is in the cluster state before the document is indexed), so a shard reader needs no
 * other metadata read.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import { IndexReplacedError } from '../cluster/errors.js';
import type { IndexVersions } from '../cluster/types.js';
import { abortError, raceAbort } from '../util/sleep.js';

export class IndexIdentity {
  readonly #lifetime = new AbortController();
  #inflight: Promise<IndexVersions> | undefined;
  #queued: Promise<IndexVersions> | undefined;

  constructor(
    private readonly client: ClusterClient,
    private readonly index: string,
    private readonly role: 'leader' | 'follower',
    readonly uuid: string,
  ) {}

  /** Throws the "deleted and created again" error when `uuid` is not the expected one. */
  check(uuid: string): void {
    if (uuid !== this.uuid) throw new IndexReplacedError({ alias: this.client.alias, role: this.role, index: this.index, expectedUuid: this.uuid, foundUuid: uuid });
  }

  /**
   * Resolves once a uuid read started after this call confirms the index, with the metadata
   * versions read with it; rejects with its error otherwise.
   */
  confirm(signal: AbortSignal): Promise<IndexVersions> {
    if (signal.aborted) return Promise.reject(abortError());
    let shared: Promise<IndexVersions>;
    if (this.#inflight === undefined) {
      shared = this.#start();
    } else {
      // The read in flight may have started before the caller's own read ended: wait for the next.
      this.#queued ??= this.#inflight.then(() => undefined, () => undefined).then(() => {
        this.#queued = undefined;
        return this.#start();
      });
      shared = this.#queued;
    }
    return raceAbort(shared, signal);
  }

  close(): void {
    this.#lifetime.abort();
  }

  #start(): Promise<IndexVersions> {
    const run = (async () => {
      const versions = await this.client.metadataVersions(this.index, this.#lifetime.signal);
      this.check(versions.uuid);
      return versions;
    })();
    this.#inflight = run;
    const clear = (): void => {
      if (this.#inflight === run) this.#inflight = undefined;
    };
    // Callers observe failures through `run`; this only clears the slot.
    run.then(clear, clear);
    return run;
  }
}
