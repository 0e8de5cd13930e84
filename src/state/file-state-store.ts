/**
 * The embedded `StateStore`: a local directory owned by one daemon at a time.
 *
 *   <dir>/daemon.lock                  pid of the daemon that holds the directory
 *   <dir>/followers/<key>.json         one FollowerRecord per file
 *   <dir>/checkpoints/<key>.json       that follower's shard checkpoints
 *   <dir>/auto-follow/<name>.json      one AutoFollowPatternRecord per file
 *   <dir>/auto-follow-handled/<name>.json  the leader indices that pattern has handled
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
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import nodePath from 'node:path';
import {
  type AutoFollowPatternRecord,
  AutoFollowPatternNotFoundError,
  checkPatternName,
  type FatalException,
  type FollowerKey,
  type FollowerRecord,
  FollowerNotFoundError,
  type FollowStatus,
  type HandledLeaderIndex,
  type HandledOutcome,
  type ShardCheckpoints,
  StateCorruptError,
  type StateStore,
  StateWriteError,
  followerKey,
  recordKey,
} from './state-store.js';

const FORMAT = 1;
const LOCK_FILE = 'daemon.lock';
const FOLLOWERS = 'followers';
const CHECKPOINTS = 'checkpoints';
const PATTERNS = 'auto-follow';
const HANDLED = 'auto-follow-handled';
const DIRS = [FOLLOWERS, CHECKPOINTS, PATTERNS, HANDLED] as const;
const STATUSES: readonly FollowStatus[] = ['active', 'paused'];
const OUTCOMES: readonly HandledOutcome[] = ['existing', 'followed', 'skipped', 'failed'];

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
  /** Per file: the last queued write, settled either way (its caller gets its outcome). */
  readonly #tails = new Map<string, Promise<void>>();
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
    await Promise.all(this.#tails.values());
    const names = (await readdir(nodePath.join(this.dir, FOLLOWERS))).filter((name) => name.endsWith('.json')).sort();
    const records = await Promise.all(names.map((name) => this.#readFollower(nodePath.join(this.dir, FOLLOWERS, name))));
    return records.filter((record): record is FollowerRecord => record !== undefined);
  }

  async getFollower(key: FollowerKey): Promise<FollowerRecord | undefined> {
    this.#assertOpen();
    const file = this.#file(FOLLOWERS, key);
    await this.#tails.get(file); // read your own writes, even unawaited ones
    return this.#readFollower(file);
  }

  async putFollower(record: FollowerRecord): Promise<void> {
    this.#assertOpen();
    const file = this.#file(FOLLOWERS, recordKey(record));
    const stored = { format: FORMAT, follower: pickRecord(record) };
    return this.#serialise(file, () => writeAtomically(file, stored));
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
    await this.#tails.get(file);
    const stored = await readStored(file);
    return stored === undefined ? {} : parseCheckpoints(stored, key, file);
  }

  async saveCheckpoints(key: FollowerKey, checkpoints: ShardCheckpoints): Promise<void> {
    this.#assertOpen();
    const file = this.#file(CHECKPOINTS, key);
    const shards = checkShards(checkpoints, key); // copied now: the caller may mutate its object later
    const followerFile = this.#file(FOLLOWERS, key);
    // Taken now, so the follower is judged as of this call: a putFollower or deleteFollower called
    // earlier counts even if still in flight, one called later does not.
    const earlierFollowerWrites = this.#tails.get(followerFile);
    return this.#serialise(file, async () => {
      await earlierFollowerWrites;
      if (!(await exists(followerFile))) throw new FollowerNotFoundError(key);
      await writeAtomically(file, { format: FORMAT, follower: key, shards });
    });
  }

  async discardCheckpoints(key: FollowerKey): Promise<string | undefined> {
    this.#assertOpen();
    const file = this.#file(CHECKPOINTS, key);
    const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    let moved = false;
    await this.#serialise(file, async () => {
      if (!(await exists(file))) return;
      await rename(file, aside);
      await syncDirectory(nodePath.dirname(file));
      moved = true;
    });
    return moved ? aside : undefined;
  }

  async listAutoFollowPatterns(): Promise<AutoFollowPatternRecord[]> {
    this.#assertOpen();
    await Promise.all(this.#tails.values());
    const names = (await readdir(nodePath.join(this.dir, PATTERNS))).filter((name) => name.endsWith('.json')).sort();
    const records = await Promise.all(names.map((name) => this.#readPattern(nodePath.join(this.dir, PATTERNS, name))));
    return records.filter((record): record is AutoFollowPatternRecord => record !== undefined);
  }

  async getAutoFollowPattern(name: string): Promise<AutoFollowPatternRecord | undefined> {
    this.#assertOpen();
    const file = this.#patternFile(PATTERNS, name);
    await this.#tails.get(file);
    return this.#readPattern(file);
  }

  async putAutoFollowPattern(record: AutoFollowPatternRecord): Promise<void> {
    this.#assertOpen();
    const file = this.#patternFile(PATTERNS, record.name);
    const stored = { format: FORMAT, pattern: pickPattern(record) };
    return this.#serialise(file, () => writeAtomically(file, stored));
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
    await this.#tails.get(file);
    const stored = await readStored(file);
    return stored === undefined ? [] : parseHandledFile(stored, name, file);
  }

  async saveHandledIndices(name: string, indices: readonly HandledLeaderIndex[]): Promise<void> {
    this.#assertOpen();
    const file = this.#patternFile(HANDLED, name);
    const entries = checkHandled(indices, name); // copied now: the caller may change its entries later
    const patternFile = this.#patternFile(PATTERNS, name);
    // Judged as of this call, as saveCheckpoints judges its follower.
    const earlierPatternWrites = this.#tails.get(patternFile);
    return this.#serialise(file, async () => {
      await earlierPatternWrites;
      if (!(await exists(patternFile))) throw new AutoFollowPatternNotFoundError(name);
      await writeAtomically(file, { format: FORMAT, pattern: name, indices: entries });
    });
  }

  close(): Promise<void> {
    // Not async: repeated calls must return the very same promise.
    this.#closing ??= (async () => {
      await Promise.all(this.#tails.values());
      await releaseLock(this.dir);
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closing) throw new Error(`state store ${this.dir} is closed`);
  }

  #file(kind: typeof FOLLOWERS | typeof CHECKPOINTS, key: FollowerKey): string {
    const [cluster = '', index = '', ...rest] = key.split('/');
    if (rest.length > 0) throw new RangeError(`invalid follower key ${JSON.stringify(key)}: expected cluster/index`);
    return nodePath.join(this.dir, kind, `${encodeURIComponent(followerKey(cluster, index))}.json`);
  }

  #patternFile(kind: typeof PATTERNS | typeof HANDLED, name: string): string {
    return nodePath.join(this.dir, kind, `${encodeURIComponent(checkPatternName(name))}.json`);
  }

  /** Runs `write` after every earlier write to `file` has settled, so writes land in call order. */
  #serialise(file: string, write: () => Promise<void>): Promise<void> {
    const result = (this.#tails.get(file) ?? Promise.resolve()).then(write).catch((err: unknown) => {
      throw asWriteError(err, this.dir, file);
    });
    // The tail only orders later writes; `result` carries this write's error to its caller.
    const tail = result.then(() => undefined, () => undefined);
    this.#tails.set(file, tail);
    void tail.then(() => {
      if (this.#tails.get(file) === tail) this.#tails.delete(file);
    });
    return result;
  }

  async #readFollower(file: string): Promise<FollowerRecord | undefined> {
    const stored = await readStored(file);
    if (stored === undefined) return undefined;
    const record = parseRecord(stored.follower, file);
    const expected = decodeURIComponent(nodePath.basename(file, '.json'));
    if (recordKey(record) !== expected) {
      throw new StateCorruptError(file, `holds follower ${recordKey(record)}, but its name says ${expected}`);
    }
    return record;
  }

  async #readPattern(file: string): Promise<AutoFollowPatternRecord | undefined> {
    const stored = await readStored(file);
    if (stored === undefined) return undefined;
    const record = parsePattern(stored.pattern, file);
    const expected = decodeURIComponent(nodePath.basename(file, '.json'));
    if (record.name !== expected) {
      throw new StateCorruptError(file, `holds auto-follow pattern ${record.name}, but its name says ${expected}`);
    }
    return record;
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
  let text: string;
  try {
    text = await readFile(lockFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
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
  for (const kind of DIRS) {
    for (const name of await readdir(nodePath.join(dir, kind))) {
      if (name.endsWith('.tmp')) await rm(nodePath.join(dir, kind, name), { force: true });
    }
  }
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

// ---- durable file operations ------------------------------------------------------------------

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

async function writeAtomically(file: string, content: object): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeDurably(temp, `${JSON.stringify(content, null, 2)}\n`);
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncDirectory(nodePath.dirname(file)); // makes the rename itself survive a power loss
}

async function writeDurably(file: string, text: string): Promise<void> {
  const handle = await open(file, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function removeDurably(file: string): Promise<void> {
  await rm(file, { force: true });
  await syncDirectory(nodePath.dirname(file));
}

async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

// ---- decoding ---------------------------------------------------------------------------------

type Stored = Record<string, unknown>;

/** The parsed file with its format checked; undefined if the file does not exist. */
async function readStored(file: string): Promise<Stored | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (text.trim() === '') throw new StateCorruptError(file, `empty (${Buffer.byteLength(text)} bytes): truncated`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new StateCorruptError(file, `not valid JSON, ${Buffer.byteLength(text)} bytes, truncated or damaged (${(err as Error).message})`, { cause: err });
  }
  if (!isObject(parsed)) throw new StateCorruptError(file, 'expected a JSON object');
  if (parsed.format !== FORMAT) {
    const newer = typeof parsed.format === 'number' && parsed.format > FORMAT;
    throw new StateCorruptError(file, newer
      ? `format ${parsed.format} was written by a newer ccr-follow (this one reads format ${FORMAT})`
      : `expected "format": ${FORMAT}, got ${JSON.stringify(parsed.format)}`, { newerFormat: newer });
  }
  return parsed;
}

function parseRecord(value: unknown, file: string): FollowerRecord {
  // Annotated so TypeScript treats a call as the end of the path (narrowing after it).
  const bad: (what: string) => never = (what) => {
    throw new StateCorruptError(file, `follower.${what}`);
  };
  if (!isObject(value)) return bad('expected an object');
  const text = (field: string): string => {
    const v = value[field];
    return typeof v === 'string' && v !== '' ? v : bad(`${field}: expected a non-empty string`);
  };
  const params = value.params;
  if (!isObject(params) || !Object.values(params).every((v) => typeof v === 'number' && Number.isFinite(v))) {
    bad('params: expected an object of numbers');
  }
  const status = value.status;
  if (!STATUSES.includes(status as FollowStatus)) bad(`status: expected one of ${STATUSES.join(', ')}`);
  let fatalException: FatalException | undefined;
  if (value.fatalException !== undefined) {
    const fe = value.fatalException;
    if (!isObject(fe) || ![fe.type, fe.reason, fe.at].every((v) => typeof v === 'string')) {
      bad('fatalException: expected type, reason and at as strings');
    }
    fatalException = { type: String(fe.type), reason: String(fe.reason), at: String(fe.at) };
  }
  const uuids = value.indexUuids;
  if (uuids !== undefined && (!isObject(uuids) || ![uuids.leader, uuids.follower].every((v) => typeof v === 'string' && v !== ''))) {
    bad('indexUuids: expected leader and follower as non-empty strings');
  }
  return pickRecord({
    leaderCluster: text('leaderCluster'),
    leaderIndex: text('leaderIndex'),
    followerCluster: text('followerCluster'),
    followerIndex: text('followerIndex'),
    params: params as Record<string, number>,
    status: status as FollowStatus,
    createdAt: text('createdAt'),
    ...(fatalException ? { fatalException } : {}),
    ...(isObject(uuids) ? { indexUuids: { leader: String(uuids.leader), follower: String(uuids.follower) } } : {}),
  });
}

/** Exactly the record's fields, in a fixed order, so stray properties are never persisted. */
function pickRecord(record: FollowerRecord): FollowerRecord {
  return {
    leaderCluster: record.leaderCluster,
    leaderIndex: record.leaderIndex,
    followerCluster: record.followerCluster,
    followerIndex: record.followerIndex,
    params: { ...record.params },
    status: record.status,
    ...(record.fatalException
      ? { fatalException: { type: record.fatalException.type, reason: record.fatalException.reason, at: record.fatalException.at } }
      : {}),
    createdAt: record.createdAt,
    ...(record.indexUuids ? { indexUuids: { leader: record.indexUuids.leader, follower: record.indexUuids.follower } } : {}),
  };
}

function parseCheckpoints(stored: Stored, key: FollowerKey, file: string): ShardCheckpoints {
  if (stored.follower !== key) throw new StateCorruptError(file, `holds checkpoints of ${JSON.stringify(stored.follower)}, not ${key}`);
  if (!isObject(stored.shards)) throw new StateCorruptError(file, 'shards: expected an object');
  try {
    return checkShards(stored.shards as Record<string, number>, key);
  } catch (err) {
    throw new StateCorruptError(file, (err as Error).message, { cause: err });
  }
}

/** A copy keyed by shard number; throws on a non-integer shard or a checkpoint below -1. */
function checkShards(checkpoints: Readonly<Record<string | number, unknown>>, key: FollowerKey): Record<number, number> {
  const result: Record<number, number> = {};
  for (const [shard, checkpoint] of Object.entries(checkpoints)) {
    if (!/^\d+$/.test(shard) || typeof checkpoint !== 'number' || !Number.isSafeInteger(checkpoint) || checkpoint < -1) {
      throw new RangeError(`invalid checkpoint for ${key} shard ${shard}: ${JSON.stringify(checkpoint)} (expected an integer >= -1)`);
    }
    result[Number(shard)] = checkpoint;
  }
  return result;
}

function parsePattern(value: unknown, file: string): AutoFollowPatternRecord {
  const bad: (what: string) => never = (what) => {
    throw new StateCorruptError(file, `pattern.${what}`);
  };
  if (!isObject(value)) return bad('expected an object');
  const text = (field: string): string => {
    const v = value[field];
    return typeof v === 'string' && v !== '' ? v : bad(`${field}: expected a non-empty string`);
  };
  const list = (field: string): string[] => {
    const v = value[field];
    return Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '') ? [...v] as string[] : bad(`${field}: expected a list of non-empty strings`);
  };
  const params = value.params;
  if (!isObject(params) || !Object.values(params).every((v) => typeof v === 'number' && Number.isFinite(v))) {
    bad('params: expected an object of numbers');
  }
  const status = value.status;
  if (!STATUSES.includes(status as FollowStatus)) bad(`status: expected one of ${STATUSES.join(', ')}`);
  const leaderIndexPatterns = list('leaderIndexPatterns');
  if (leaderIndexPatterns.length === 0) bad('leaderIndexPatterns: expected at least one pattern');
  return pickPattern({
    name: text('name'),
    remoteCluster: text('remoteCluster'),
    followerCluster: text('followerCluster'),
    leaderIndexPatterns,
    leaderIndexExclusionPatterns: list('leaderIndexExclusionPatterns'),
    followIndexPattern: text('followIndexPattern'),
    params: params as Record<string, number>,
    status: status as FollowStatus,
    createdAt: text('createdAt'),
    activeSince: text('activeSince'),
  });
}

/** Exactly the pattern's fields, in a fixed order. */
function pickPattern(record: AutoFollowPatternRecord): AutoFollowPatternRecord {
  return {
    name: checkPatternName(record.name),
    remoteCluster: record.remoteCluster,
    followerCluster: record.followerCluster,
    leaderIndexPatterns: [...record.leaderIndexPatterns],
    leaderIndexExclusionPatterns: [...record.leaderIndexExclusionPatterns],
    followIndexPattern: record.followIndexPattern,
    params: { ...record.params },
    status: record.status,
    createdAt: record.createdAt,
    activeSince: record.activeSince,
  };
}

function parseHandledFile(stored: Stored, name: string, file: string): HandledLeaderIndex[] {
  if (stored.pattern !== name) throw new StateCorruptError(file, `holds handled indices of ${JSON.stringify(stored.pattern)}, not ${name}`);
  if (!Array.isArray(stored.indices)) throw new StateCorruptError(file, 'indices: expected a list');
  try {
    return checkHandled(stored.indices as HandledLeaderIndex[], name);
  } catch (err) {
    throw new StateCorruptError(file, (err as Error).message, { cause: err });
  }
}

/** Copies of the entries with exactly their fields; throws on a malformed entry or a repeated index. */
function checkHandled(indices: readonly HandledLeaderIndex[], name: string): HandledLeaderIndex[] {
  const seen = new Set<string>();
  return indices.map((entry, i) => {
    const where = `handled index ${i} of auto-follow pattern ${name}`;
    if (!isObject(entry)) throw new RangeError(`${where}: expected an object`);
    const e = entry as unknown as Record<string, unknown>;
    if (typeof e.leaderIndex !== 'string' || e.leaderIndex === '') throw new RangeError(`${where}: leaderIndex: expected a non-empty string`);
    if (seen.has(e.leaderIndex)) throw new RangeError(`${where}: leader index ${e.leaderIndex} appears twice`);
    seen.add(e.leaderIndex);
    if (!OUTCOMES.includes(e.outcome as HandledOutcome)) throw new RangeError(`${where}: outcome: expected one of ${OUTCOMES.join(', ')}`);
    if (typeof e.at !== 'string') throw new RangeError(`${where}: at: expected a string`);
    for (const field of ['followerIndex', 'dataStream', 'reason']) {
      if (e[field] !== undefined && typeof e[field] !== 'string') throw new RangeError(`${where}: ${field}: expected a string`);
    }
    return {
      leaderIndex: e.leaderIndex,
      outcome: e.outcome as HandledOutcome,
      ...(e.followerIndex === undefined ? {} : { followerIndex: e.followerIndex as string }),
      ...(e.dataStream === undefined ? {} : { dataStream: e.dataStream as string }),
      ...(e.reason === undefined ? {} : { reason: e.reason as string }),
      at: e.at,
    };
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
