/**
 * A follower's record as the state holds it, and the one way to change it: `write(change)` stores
 * `change(stored record)` and only then takes it as the record. A write that lost its conditional
 * check (`StateConflictError`: the stored record changed since it was read, e.g. an earlier write
 * timed out but landed) re-reads the record and applies the same change to what is stored, once.
 * The index uuids found at a follow's first start are kept by every write until one stores them.
 */
import { type FollowerRecord, followerKey, StateConflictError, type StateStore } from '../state/state-store.js';
import type { Logger } from '../util/logger.js';

/** A change to a follower's record, applied to what is stored (again, after a conflict). */
export type RecordChange = (stored: FollowerRecord) => FollowerRecord;

export class StoredRecord {
  #record: FollowerRecord;
  #foundUuids: FollowerRecord['indexUuids'];

  constructor(record: FollowerRecord, private readonly state: StateStore, private readonly logger: Logger) {
    this.#record = record;
  }

  /** As stored: changed only by a write that succeeded (or by re-reading it). */
  get current(): FollowerRecord {
    return this.#record;
  }

  get key(): string {
    return followerKey(this.#record.followerCluster, this.#record.followerIndex);
  }

  /** The uuids the follow started with: as stored, else as found at its first start. */
  get indexUuids(): FollowerRecord['indexUuids'] {
    return this.#record.indexUuids ?? this.#foundUuids;
  }

  /** Keeps the uuids found at the first start, for every later write until one stores them. */
  found(uuids: NonNullable<FollowerRecord['indexUuids']>): void {
    this.#foundUuids ??= uuids;
  }

  async write(change: RecordChange): Promise<void> {
    const next = this.#withFoundUuids(change(this.#record));
    try {
      await this.state.putFollower(next);
      this.#record = next;
    } catch (err) {
      if (!(err instanceof StateConflictError)) throw err;
      const stored = await this.state.getFollower(this.key);
      if (stored === undefined) throw err; // removed meanwhile (unfollowed elsewhere): nothing to apply the change to
      this.#record = stored;
      this.logger.warn(`the follower's record changed in the state since it was read; applying the change to the stored one: ${err.message}`);
      const again = this.#withFoundUuids(change(stored));
      await this.state.putFollower(again);
      this.#record = again;
    }
  }

  #withFoundUuids(record: FollowerRecord): FollowerRecord {
    return record.indexUuids === undefined && this.#foundUuids !== undefined ? { ...record, indexUuids: this.#foundUuids } : record;
  }
}
