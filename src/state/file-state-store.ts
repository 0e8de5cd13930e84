/**
 * The embedded `StateStore`: a local directory owned by one daemon at a time.
 *
 *   <dir>/daemon.lock                  pid of the daemon that holds the directory
 *   <dir>/followers/<key>.json         one FollowerRecord per file
 *   <dir>/checkpoints/<key>.json       that follower's shard checkpoints
 *   <dir>/auto-follow/<name>.json      one AutoFollowPatternRecord per file
 *   <dir>/auto-follow-handled/<name>.json  the leader indices that pattern has handled
 *   <dir>/promotions/<key>.json        where a promoted follower index stood (ccr-follow promote)
 *   <dir>/cluster-metadata/<name>.json one MetadataPatternRecord per file
 *
 * (`<key>` is `encodeURIComponent(followerKey)`, `<name>` `encodeURIComponent(pattern name)`.)
 * Guarantees:
 * - a crash never leaves a torn file: each write goes to a temp file that is fsynced, renamed over
 *   the target, and the directory fsynced, so a reader sees the old content or the new, whole;
 * - writes to one file run one after another in call order, so an older write can never land
 *   after a newer one (checkpoints must never go backwards by accident, nor a handled set shrink);
 * - a file that cannot be read back is an error naming it, never silently skipped: losing a
 *   follower record or a checkpoint quietly would mean silently not replicating, or re-copying;
 * - every file carries `"format": 1`, so a later layout can be recognised and migrated;
 * - a write the file system refuses (read-only, full, permission denied) rejects with a
 *   `StateWriteError` naming the directory and the errno, and changes nothing: the temp file is
 *   removed and the target keeps its previous content, so writing simply works again later;
 * - checkpoints found corrupt can be set aside (`discardCheckpoints`): renamed to
 *   `<key>.json.corrupt-<time>` beside the others, which nothing reads, for inspection.
 *
 * What a file holds, and the checks on reading it back, are `record-validation.ts` (shared by every
 * backend); writing, removing and setting aside files safely is `atomic-file.ts`. This file is the
 * layout, the lock, the order of writes, and the errors a refusing file system turns into.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, rm } from 'node:fs/promises';
import nodePath from 'node:path';
import { KeyedQueue } from '../util/keyed-queue.js';
import {
  exists, readIfExists, removeDurably, removeTempFiles, setAside, syncDirectory, writeAtomically, writeDurably,
} from './atomic-file.js';
import {
  checkFollowerKey,
  checkPatternRecordName,
  decodeCheckpoints,
  decodeFollower,
  decodeHandled,
  decodePattern,
  decodeMetadataPattern,
  decodePromotion,
  encodeCheckpoints,
  encodeFollower,
  encodeHandled,
  encodeMetadataPattern,
  encodePattern,
  encodePromotion,
  parseStoredText,
  type Stored,
} from './record-validation.js';
import {
  type AutoFollowPatternRecord,
  AutoFollowPatternNotFoundError,
  checkPatternKey,
  type FollowerKey,
  type FollowerRecord,
  FollowerNotFoundError,
  type HandledLeaderIndex,
  type MetadataPatternRecord,
  type PromotionRecord,
  type ShardCheckpoints,
  StateCorruptError,
  type StateStore,
  StateWriteError,
  followerKey,
  recordKey,
} from './state-store.js';

const LOCK_FILE = 'daemon.lock';
const FOLLOWERS = 'followers';
const CHECKPOINTS = 'checkpoints';
const PATTERNS = 'auto-follow';
const HANDLED = 'auto-follow-handled';
const PROMOTIONS = 'promotions';
const METADATA_PATTERNS = 'cluster-metadata';
const DIRS = [FOLLOWERS, CHECKPOINTS, PATTERNS, HANDLED, PROMOTIONS, METADATA_PATTERNS] as const;

export class StateLockedError extends Error {
  override readonly name = 'StateLockedError';
  constructor(readonly dir: string, readonly pid: number) {
    super(`state directory ${dir} is in use by pid ${pid}${pid === process.pid ? ' (this process)' : ''}; `
      + `if no ccr-follow daemon runs as that pid, remove ${nodePath.join(dir, LOCK_FILE)}`);
  }
}

// Defined beside the interface (callers outside state/ recognise them); re-exported for users of this file.
export { StateCorruptError, StateWriteError };

/**
 * Every method is `async`, so bad input and a closed store surface as rejections, never as
 * synchronous throws; the part of each method before its first `await` still runs at call time,
 * which is what puts writes in call order.
 */
export class FileStateStore implements StateStore {
  /** Writes per file, in call order (each caller gets its own write's outcome). */
  readonly #writes = new KeyedQueue();
  #closing: Promise<void> | undefined;

  private constructor(readonly dir: string) {}

  /** Creates `dir` if needed and takes its lock; throws `StateLockedError` if a live daemon holds it. */
  static async open(dir: string): Promise<FileStateStore> {
    const root = nodePath.resolve(dir);
    for (const kind of DIRS) await mkdir(nodePath.join(root, kind), { recursive: true });
    await acquireLock(root);
    try {
      await removeLeftovers(root);
    } catch (err) {
      await releaseLock(root);
      throw err;
    }
    return new FileStateStore(root);
  }

  async listFollowers(): Promise<FollowerRecord[]> {
    this.#assertOpen();
    await this.#writes.allIdle();
    const names = (await readdir(nodePath.join(this.dir, FOLLOWERS))).filter((name) => name.endsWith('.json')).sort();
    const records = await Promise.all(names.map((name) => this.#readFollower(nodePath.join(this.dir, FOLLOWERS, name))));
    return records.filter((record): record is FollowerRecord => record !== undefined);
  }

  async getFollower(key: FollowerKey): Promise<FollowerRecord | undefined> {
    this.#assertOpen();
    const file = this.#file(FOLLOWERS, key);
    await this.#writes.idle(file); // read your own writes, even unawaited ones
    return this.#readFollower(file);
  }

  async putFollower(record: FollowerRecord): Promise<void> {
    this.#assertOpen();
    const file = this.#file(FOLLOWERS, recordKey(record));
    const stored = encodeFollower(record);
    return this.#serialise(file, () => writeJson(file, stored));
  }

  async deleteFollower(key: FollowerKey): Promise<void> {
    this.#assertOpen();
    // Record first, then checkpoints: a save queued in between sees no follower and is refused,
    // and a crash in between leaves orphan checkpoints, which the next open() removes.
    await this.#serialise(this.#file(FOLLOWERS, key), () => removeDurably(this.#file(FOLLOWERS, key)));
    await this.#serialise(this.#file(CHECKPOINTS, key), () => removeDurably(this.#file(CHECKPOINTS, key)));
  }

  async loadCheckpoints(key: FollowerKey): Promise<ShardCheckpoints> {
    this.#assertOpen();
    const file = this.#file(CHECKPOINTS, key);
    await this.#writes.idle(file);
    const stored = await readStored(file);
    return stored === undefined ? {} : decodeCheckpoints(stored, key, file);
  }

  async saveCheckpoints(key: FollowerKey, checkpoints: ShardCheckpoints): Promise<void> {
    this.#assertOpen();
    const file = this.#file(CHECKPOINTS, key);
    const stored = encodeCheckpoints(key, checkpoints); // copied now: the caller may mutate its object later
    const followerFile = this.#file(FOLLOWERS, key);
    // Taken now, so the follower is judged as of this call: a putFollower or deleteFollower called
    // earlier counts even if still in flight, one called later does not.
    const earlierFollowerWrites = this.#writes.idle(followerFile);
    return this.#serialise(file, async () => {
      await earlierFollowerWrites;
      if (!(await exists(followerFile))) throw new FollowerNotFoundError(key);
      await writeJson(file, stored);
    });
  }

  async discardCheckpoints(key: FollowerKey): Promise<string | undefined> {
    this.#assertOpen();
    const file = this.#file(CHECKPOINTS, key);
    const at = new Date();
    let aside: string | undefined;
    await this.#serialise(file, async () => {
      aside = await setAside(file, at);
    });
    return aside;
  }

  async listAutoFollowPatterns(): Promise<AutoFollowPatternRecord[]> {
    this.#assertOpen();
    await this.#writes.allIdle();
    const names = (await readdir(nodePath.join(this.dir, PATTERNS))).filter((name) => name.endsWith('.json')).sort();
    const records = await Promise.all(names.map((name) => this.#readPattern(nodePath.join(this.dir, PATTERNS, name))));
    return records.filter((record): record is AutoFollowPatternRecord => record !== undefined);
  }

  async getAutoFollowPattern(name: string): Promise<AutoFollowPatternRecord | undefined> {
    this.#assertOpen();
    const file = this.#patternFile(PATTERNS, name);
    await this.#writes.idle(file);
    return this.#readPattern(file);
  }

  async putAutoFollowPattern(record: AutoFollowPatternRecord): Promise<void> {
    this.#assertOpen();
    const file = this.#patternFile(PATTERNS, record.name);
    const stored = encodePattern(record);
    return this.#serialise(file, () => writeJson(file, stored));
  }

  async deleteAutoFollowPattern(name: string): Promise<void> {
    this.#assertOpen();
    // As deleteFollower: the pattern first, so a save queued in between is refused; a crash in
    // between leaves an orphan handled set, which the next open() removes.
    const patternFile = this.#patternFile(PATTERNS, name);
    const handledFile = this.#patternFile(HANDLED, name);
    await this.#serialise(patternFile, () => removeDurably(patternFile));
    await this.#serialise(handledFile, () => removeDurably(handledFile));
  }

  async loadHandledIndices(name: string): Promise<HandledLeaderIndex[]> {
    this.#assertOpen();
    const file = this.#patternFile(HANDLED, name);
    await this.#writes.idle(file);
    const stored = await readStored(file);
    return stored === undefined ? [] : decodeHandled(stored, name, file);
  }

  async saveHandledIndices(name: string, indices: readonly HandledLeaderIndex[]): Promise<void> {
    this.#assertOpen();
    const file = this.#patternFile(HANDLED, name);
    const stored = encodeHandled(name, indices); // copied now: the caller may change its entries later
    const patternFile = this.#patternFile(PATTERNS, name);
    // Judged as of this call, as saveCheckpoints judges its follower.
    const earlierPatternWrites = this.#writes.idle(patternFile);
    return this.#serialise(file, async () => {
      await earlierPatternWrites;
      if (!(await exists(patternFile))) throw new AutoFollowPatternNotFoundError(name);
      await writeJson(file, stored);
    });
  }

  close(): Promise<void> {
    // Not async: repeated calls must return the very same promise.
    this.#closing ??= (async () => {
      await this.#writes.allIdle();
      await releaseLock(this.dir);
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closing) throw new Error(`state store ${this.dir} is closed`);
  }

  async putPromotion(record: PromotionRecord): Promise<void> {
    this.#assertOpen();
    const file = this.#file(PROMOTIONS, recordKey(record));
    const stored = encodePromotion(record);
    return this.#serialise(file, () => writeJson(file, stored));
  }

  async getPromotion(key: FollowerKey): Promise<PromotionRecord | undefined> {
    this.#assertOpen();
    const file = this.#file(PROMOTIONS, key);
    await this.#writes.idle(file);
    const stored = await readStored(file);
    return stored === undefined ? undefined : decodePromotion(stored, key, file);
  }

  async listPromotions(): Promise<PromotionRecord[]> {
    this.#assertOpen();
    await this.#writes.allIdle();
    const names = (await readdir(nodePath.join(this.dir, PROMOTIONS))).filter((name) => name.endsWith('.json')).sort();
    return Promise.all(names.map(async (name) => {
      const file = nodePath.join(this.dir, PROMOTIONS, name);
      return decodePromotion((await readStored(file))!, decodeURIComponent(name.slice(0, -'.json'.length)), file);
    }));
  }

  async listMetadataPatterns(): Promise<MetadataPatternRecord[]> {
    this.#assertOpen();
    await this.#writes.allIdle();
    const names = (await readdir(nodePath.join(this.dir, METADATA_PATTERNS))).filter((name) => name.endsWith('.json')).sort();
    return Promise.all(names.map(async (name) => {
      const file = nodePath.join(this.dir, METADATA_PATTERNS, name);
      return decodeMetadataPattern((await readStored(file))!, decodeURIComponent(name.slice(0, -'.json'.length)), file);
    }));
  }

  async putMetadataPattern(record: MetadataPatternRecord): Promise<void> {
    this.#assertOpen();
    const file = this.#metadataFile(record.name);
    const stored = encodeMetadataPattern(record);
    return this.#serialise(file, () => writeJson(file, stored));
  }

  async deleteMetadataPattern(name: string): Promise<void> {
    this.#assertOpen();
    const file = this.#metadataFile(name);
    await this.#serialise(file, () => removeDurably(file));
  }

  #metadataFile(name: string): string {
    return nodePath.join(this.dir, METADATA_PATTERNS, `${encodeURIComponent(checkPatternKey(name))}.json`);
  }

  #file(kind: typeof FOLLOWERS | typeof CHECKPOINTS | typeof PROMOTIONS, key: FollowerKey): string {
    const [cluster = '', index = '', ...rest] = key.split('/');
    if (rest.length > 0) throw new RangeError(`invalid follower key ${JSON.stringify(key)}: expected cluster/index`);
    return nodePath.join(this.dir, kind, `${encodeURIComponent(followerKey(cluster, index))}.json`);
  }

  #patternFile(kind: typeof PATTERNS | typeof HANDLED, name: string): string {
    return nodePath.join(this.dir, kind, `${encodeURIComponent(checkPatternKey(name))}.json`);
  }

  /** Runs `write` after every earlier write to `file` has settled, so writes land in call order. */
  #serialise(file: string, write: () => Promise<void>): Promise<void> {
    return this.#writes.run(file, () => write().catch((err: unknown) => {
      throw asWriteError(err, this.dir, file);
    }));
  }

  async #readFollower(file: string): Promise<FollowerRecord | undefined> {
    const stored = await readStored(file);
    if (stored === undefined) return undefined;
    const record = decodeFollower(stored, file);
    return checkFollowerKey(record, decodeURIComponent(nodePath.basename(file, '.json')), file);
  }

  async #readPattern(file: string): Promise<AutoFollowPatternRecord | undefined> {
    const stored = await readStored(file);
    if (stored === undefined) return undefined;
    const record = decodePattern(stored, file);
    return checkPatternRecordName(record, decodeURIComponent(nodePath.basename(file, '.json')), file);
  }
}

// ---- lock ------------------------------------------------------------------------------------

async function acquireLock(dir: string): Promise<void> {
  const lockFile = nodePath.join(dir, LOCK_FILE);
  // Written in full first, then hard-linked into place: link() fails if the lock exists, so
  // creating it is atomic, and no other process can ever read a half-written pid.
  const draft = `${lockFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeDurably(draft, `${process.pid}\n`);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await link(draft, lockFile);
        await syncDirectory(dir);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
      }
      const holder = await readLockPid(lockFile);
      if (holder !== undefined && isAlive(holder)) throw new StateLockedError(dir, holder);
      // Stale: its daemon died without close() (SIGKILL, power loss). Take it over. Two daemons
      // doing this at the same instant could both win; that needs two restarts racing on one
      // directory right after a crash, and even then replicating twice is harmless.
      await rm(lockFile, { force: true });
    }
  } finally {
    await rm(draft, { force: true });
  }
}

async function releaseLock(dir: string): Promise<void> {
  const lockFile = nodePath.join(dir, LOCK_FILE);
  // Only our own: if the lock was taken over meanwhile, it belongs to someone else now.
  if ((await readLockPid(lockFile)) === process.pid) await removeDurably(lockFile);
}

/** The pid in the lock file; undefined if it vanished or holds no pid (then it is stale). */
async function readLockPid(lockFile: string): Promise<number | undefined> {
  const text = await readIfExists(lockFile);
  if (text === undefined) return undefined;
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: existence check only
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temp files of writes cut short by a crash, checkpoints whose follower is gone, handled sets whose pattern is. */
async function removeLeftovers(dir: string): Promise<void> {
  for (const kind of DIRS) await removeTempFiles(nodePath.join(dir, kind));
  for (const name of await readdir(nodePath.join(dir, CHECKPOINTS))) {
    if (name.endsWith('.json') && !(await exists(nodePath.join(dir, FOLLOWERS, name)))) {
      await removeDurably(nodePath.join(dir, CHECKPOINTS, name));
    }
  }
  for (const name of await readdir(nodePath.join(dir, HANDLED))) {
    if (name.endsWith('.json') && !(await exists(nodePath.join(dir, PATTERNS, name)))) {
      await removeDurably(nodePath.join(dir, HANDLED, name));
    }
  }
}

// ---- writes and reads ------------------------------------------------------------------------

/**
 * A file-system error of a write becomes a `StateWriteError` naming the state directory, so the
 * follow layer can tell "the disk refuses" (pause, retry later) from a bug. The store's own typed
 * errors, and errors without an errno, pass unchanged.
 */
function asWriteError(err: unknown, dir: string, file: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (!(err instanceof Error) || typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return err;
  return new StateWriteError(dir, code, file, { cause: err });
}

async function writeJson(file: string, stored: Stored): Promise<void> {
  await writeAtomically(file, `${JSON.stringify(stored, null, 2)}\n`);
}

/** The parsed file with its format checked; undefined if the file does not exist. */
async function readStored(file: string): Promise<Stored | undefined> {
  const text = await readIfExists(file);
  return text === undefined ? undefined : parseStoredText(text, file);
}
