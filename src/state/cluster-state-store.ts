/**
 * The `StateStore` kept in a hidden index of a cluster (usually the follower cluster), so that
 * the state outlives the machine a daemon runs on: a daemon started anywhere with the same config
 * carries on from the stored checkpoints.
 *
 * One document per record, with the same envelopes as the file backend (record-validation.ts):
 *
 *   follower:<key>        a FollowerRecord          checkpoints:<key>   its shard checkpoints
 *   pattern:<name>        an auto-follow pattern    handled:<name>      the leader indices it handled
 *   promotion:<key>       where a promoted follower index stood (ccr-follow promote)
 *   metadata:<name>       a cluster-metadata pattern, with what its rounds put
 *   daemon-lock           held by a migration, which has the state alone (see `StateLock`)
 *   lease:<record id>     which daemon runs a follower or pattern   member:<id>   a daemon's heartbeat
 *                         (both written by src/lease/, through the same document port)
 *
 * Every write is conditional (`if_seq_no` / `if_primary_term`, or create-only for a record not seen
 * yet), so a daemon never overwrites state it has not read. When a checkpoint or handled-indices
 * write loses that race, the stored document is read again and merged — checkpoints by the
 * highest per shard, handled indices by union — so a checkpoint never moves backwards and a
 * handled index is never forgotten. A follower or pattern record that changed under us is a
 * `StateConflictError`: another daemon changed it, and guessing which change wins would be wrong.
 */
import {
  checkFollowerKey, checkPatternRecordName, decodeCheckpoints, decodeFollower, decodeHandled, decodePattern,
  checkStored, decodeMetadataPattern, decodePromotion, encodeCheckpoints, encodeFollower, encodeHandled, encodeMetadataPattern, encodePattern, encodePromotion,
  type Stored,
} from './record-validation.js';
import {
  type AutoFollowPatternRecord, AutoFollowPatternNotFoundError, checkPatternKey, type FollowerKey, type FollowerRecord,
  FollowerNotFoundError, type HandledLeaderIndex, type MetadataPatternRecord, type PromotionRecord, type ShardCheckpoints, StateConflictError, type StateStore, recordKey,
} from './state-store.js';
import { KeyedQueue } from '../util/keyed-queue.js';
import type { StateLock } from './state-lock.js';

/** Where a document stands: the pair a conditional write must name. */
export interface DocVersion {
  readonly seqNo: number;
  readonly primaryTerm: number;
}

export interface StateDocument extends DocVersion {
  readonly id: string;
  readonly source: unknown;
}

/** A write's precondition: the document is absent, or exactly at this version. */
export type WriteCondition = { readonly absent: true } | { readonly version: DocVersion };

/** What the state index must offer; `cluster/` provides it (the daemon wires it), `state/` never builds a request. */
export interface StateDocuments {
  /** Where the documents live, for messages: `<alias>/<index>`. */
  readonly location: string;
  /** Realtime: sees every acknowledged write. */
  get(id: string): Promise<StateDocument | undefined>;
  /** Every document whose `kind` is `kind`, after a refresh. */
  list(kind: string): Promise<StateDocument[]>;
  put(id: string, source: Readonly<Record<string, unknown>>, condition: WriteCondition): Promise<DocVersion | 'conflict'>;
  /** No error when absent. */
  delete(id: string): Promise<void>;
}

type Kind = 'follower' | 'checkpoints' | 'pattern' | 'handled' | 'promotion' | 'metadata';

/** Rounds of read-merge-write before a checkpoint or handled-set write gives up (each lost to a newer write). */
const MERGE_ROUNDS = 5;

export class ClusterStateStore implements StateStore {
  /** The version of each record document as this store last read or wrote it. */
  readonly #versions = new Map<string, DocVersion>();
  /**
   * The version of each checkpoint or handled-set document as this store last wrote it (or last
   * merged with): never as merely read, so a write can only replace what it has taken into account.
   */
  readonly #merged = new Map<string, DocVersion>();
  /** Writes per document, in call order. */
  readonly #writes = new KeyedQueue();
  #closed = false;

  /** `lock`: this daemon's hold on the state; once it is lost, every write is refused. */
  constructor(private readonly docs: StateDocuments, private readonly lock?: StateLock) {}

  async listFollowers(): Promise<FollowerRecord[]> {
    const docs = await this.#list('follower');
    return docs.map(({ key, stored, location }) => checkFollowerKey(decodeFollower(stored, location), key, location));
  }

  async getFollower(key: FollowerKey): Promise<FollowerRecord | undefined> {
    const found = await this.#get('follower', key);
    return found && checkFollowerKey(decodeFollower(found.stored, found.location), key, found.location);
  }

  async putFollower(record: FollowerRecord): Promise<void> {
    const key = recordKey(record);
    const stored = encodeFollower(record);
    await this.#serialise(docId('follower', key), () => this.#putExact('follower', key, stored));
  }

  async deleteFollower(key: FollowerKey): Promise<void> {
    // Record first: a checkpoint save racing with this sees no follower and is refused.
    await this.#serialise(docId('follower', key), () => this.#delete(docId('follower', key)));
    await this.#serialise(docId('checkpoints', key), () => this.#delete(docId('checkpoints', key)));
  }

  async loadCheckpoints(key: FollowerKey): Promise<ShardCheckpoints> {
    const found = await this.#get('checkpoints', key);
    return found ? decodeCheckpoints(found.stored, key, found.location) : {};
  }

  async saveCheckpoints(key: FollowerKey, checkpoints: ShardCheckpoints): Promise<void> {
    const stored = encodeCheckpoints(key, checkpoints); // copied and checked now
    await this.#serialise(docId('checkpoints', key), async () => {
      if (!(await this.docs.get(docId('follower', key)))) throw new FollowerNotFoundError(key);
      await this.#putMerged('checkpoints', key, stored, (current) => {
        const shards: Record<number, number> = { ...decodeCheckpoints(current, key, this.#location(docId('checkpoints', key))) };
        // Everything at or below either checkpoint is on the follower: the higher one is true.
        for (const [shard, checkpoint] of Object.entries(stored.shards as Record<number, number>)) {
          shards[Number(shard)] = Math.max(shards[Number(shard)] ?? -1, checkpoint);
        }
        return encodeCheckpoints(key, shards);
      });
    });
  }

  async discardCheckpoints(key: FollowerKey): Promise<string | undefined> {
    const id = docId('checkpoints', key);
    return this.#serialise(id, async () => {
      const found = await this.docs.get(id);
      if (!found) return undefined;
      // Kept for inspection under another id (and kind), which nothing reads.
      const aside = `${id}.corrupt-${new Date().toISOString()}`;
      await this.docs.put(aside, { kind: 'corrupt', key, data: found.source as Stored }, { absent: true });
      await this.#delete(id);
      return this.#location(aside);
    });
  }

  async listAutoFollowPatterns(): Promise<AutoFollowPatternRecord[]> {
    const docs = await this.#list('pattern');
    return docs.map(({ key, stored, location }) => checkPatternRecordName(decodePattern(stored, location), key, location));
  }

  async getAutoFollowPattern(name: string): Promise<AutoFollowPatternRecord | undefined> {
    const found = await this.#get('pattern', checkPatternKey(name));
    return found && checkPatternRecordName(decodePattern(found.stored, found.location), name, found.location);
  }

  async putAutoFollowPattern(record: AutoFollowPatternRecord): Promise<void> {
    const stored = encodePattern(record);
    await this.#serialise(docId('pattern', record.name), () => this.#putExact('pattern', record.name, stored));
  }

  async deleteAutoFollowPattern(name: string): Promise<void> {
    checkPatternKey(name);
    await this.#serialise(docId('pattern', name), () => this.#delete(docId('pattern', name)));
    await this.#serialise(docId('handled', name), () => this.#delete(docId('handled', name)));
  }

  async loadHandledIndices(name: string): Promise<HandledLeaderIndex[]> {
    const found = await this.#get('handled', checkPatternKey(name));
    return found ? decodeHandled(found.stored, name, found.location) : [];
  }

  async saveHandledIndices(name: string, indices: readonly HandledLeaderIndex[]): Promise<void> {
    const stored = encodeHandled(checkPatternKey(name), indices);
    await this.#serialise(docId('handled', name), async () => {
      if (!(await this.docs.get(docId('pattern', name)))) throw new AutoFollowPatternNotFoundError(name);
      await this.#putMerged('handled', name, stored, (current) => {
        // Ours win for the indices both name; the ones only the other write knew are kept.
        const ours = decodeHandled(stored, name, 'this write');
        const known = new Set(ours.map((h) => h.leaderIndex));
        const theirs = decodeHandled(current, name, this.#location(docId('handled', name))).filter((h) => !known.has(h.leaderIndex));
        return encodeHandled(name, [...ours, ...theirs]);
      });
    });
  }

  async putPromotion(record: PromotionRecord): Promise<void> {
    const key = recordKey(record);
    const stored = encodePromotion(record);
    await this.#serialise(docId('promotion', key), () => this.#putExact('promotion', key, stored));
  }

  async getPromotion(key: FollowerKey): Promise<PromotionRecord | undefined> {
    const found = await this.#get('promotion', key);
    return found && decodePromotion(found.stored, key, found.location);
  }

  async listPromotions(): Promise<PromotionRecord[]> {
    return (await this.#list('promotion')).map(({ key, stored, location }) => decodePromotion(stored, key, location));
  }

  async listMetadataPatterns(): Promise<MetadataPatternRecord[]> {
    return (await this.#list('metadata')).map(({ key, stored, location }) => decodeMetadataPattern(stored, key, location));
  }

  async putMetadataPattern(record: MetadataPatternRecord): Promise<void> {
    const stored = encodeMetadataPattern(record);
    await this.#serialise(docId('metadata', record.name), () => this.#putExact('metadata', record.name, stored));
  }

  async deleteMetadataPattern(name: string): Promise<void> {
    checkPatternKey(name);
    await this.#serialise(docId('metadata', name), () => this.#delete(docId('metadata', name)));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writes.allIdle();
    await this.lock?.release();
  }

  // ---- internals ------------------------------------------------------------------------------

  async #get(kind: Kind, key: string): Promise<{ stored: Stored; location: string } | undefined> {
    const id = docId(kind, key);
    await this.#writes.idle(id); // read your own writes, even unawaited ones
    const doc = await this.docs.get(id);
    if (!doc) return undefined;
    this.#versions.set(id, doc);
    return { stored: this.#envelope(doc), location: this.#location(id) };
  }

  async #list(kind: Kind): Promise<{ key: string; stored: Stored; location: string }[]> {
    await this.#writes.allIdle();
    const docs = await this.docs.list(kind);
    return docs
      .map((doc) => {
        this.#versions.set(doc.id, doc);
        return { key: doc.id.slice(kind.length + 1), stored: this.#envelope(doc), location: this.#location(doc.id) };
      })
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** The stored envelope of a document, checked as the file backend checks a file. */
  #envelope(doc: StateDocument): Stored {
    const data = (doc.source as { data?: unknown } | undefined)?.data;
    return checkStored(data, this.#location(doc.id));
  }

  /** Writes a record over exactly the version this store knows (or only if absent): a conflict is an error. */
  async #putExact(kind: Kind, key: string, stored: Stored): Promise<void> {
    const id = docId(kind, key);
    const known = this.#versions.get(id);
    const result = await this.docs.put(id, { kind, key, data: stored }, known ? { version: known } : { absent: true });
    if (result === 'conflict') throw new StateConflictError(this.docs.location, id);
    this.#versions.set(id, result);
  }

  /**
   * Writes `stored` over the version this store last wrote; when anything else was written since
   * (another daemon, or this one before a restart), merges with what is there and tries again.
   */
  async #putMerged(kind: Kind, key: string, stored: Stored, merge: (current: Stored) => Stored): Promise<void> {
    const id = docId(kind, key);
    let next = stored;
    let basis = this.#merged.get(id);
    for (let round = 0; round < MERGE_ROUNDS; round += 1) {
      const result = await this.docs.put(id, { kind, key, data: next }, basis ? { version: basis } : { absent: true });
      if (result !== 'conflict') {
        this.#merged.set(id, result);
        return;
      }
      const current = await this.docs.get(id);
      basis = current;
      next = current ? merge(this.#envelope(current)) : stored;
    }
    throw new StateConflictError(this.docs.location, id);
  }

  async #delete(id: string): Promise<void> {
    await this.docs.delete(id);
    this.#versions.delete(id);
    this.#merged.delete(id);
  }

  #serialise<T>(id: string, write: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error(`state in ${this.docs.location} is closed`));
    if (this.lock?.lost !== undefined) return Promise.reject(new Error(`state in ${this.docs.location} is no longer this daemon's: ${this.lock.lost}`));
    return this.#writes.run(id, write);
  }

  #location(id: string): string {
    return `${this.docs.location} document ${id}`;
  }
}

function docId(kind: Kind, key: string): string {
  return `${kind}:${key}`;
}


