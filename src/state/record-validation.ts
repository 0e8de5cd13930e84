/**
 * What a stored state record looks like, whatever keeps it: the envelope each one is written in
 * (`"format": 1` and the record under a fixed field), and the checks that turn what was read back
 * into a `FollowerRecord`, shard checkpoints, an `AutoFollowPatternRecord` or a pattern's handled
 * indices, or into a `StateCorruptError` that says what is wrong. Pure functions, no I/O: every
 * backend shares them, so a record means the same wherever it is kept.
 *
 * `location` names where the record was read from (for the file backend, the file's path); it only
 * goes into error messages.
 *
 *   follower:     { "format": 1, "follower": FollowerRecord }
 *   checkpoints:  { "format": 1, "follower": "<key>", "shards": { "<shard>": <checkpoint> } }
 *   pattern:      { "format": 1, "pattern": AutoFollowPatternRecord }
 *   handled:      { "format": 1, "pattern": "<name>", "indices": [HandledLeaderIndex, ...] }
 */
import {
  type AutoFollowPatternRecord,
  checkPatternKey,
  type FailbackPoint,
  type FatalException,
  type FollowerKey,
  type FollowerRecord,
  type FollowStatus,
  type HandledLeaderIndex,
  type HandledOutcome,
  type ShardCheckpoints,
  type PromotedShard,
  type MetadataPatternRecord,
  type PromotionRecord,
  type PromotionRun,
  type RecoveryPoint,
  StateCorruptError,
  recordKey,
} from './state-store.js';

/** The layout every stored record carries; a later one can be recognised and migrated. */
export const STATE_FORMAT = 1;

const STATUSES: readonly FollowStatus[] = ['active', 'paused'];
const OUTCOMES: readonly HandledOutcome[] = ['existing', 'followed', 'skipped', 'failed'];

/** A stored record as read back: a JSON object whose `format` is checked. */
export type Stored = Record<string, unknown>;

// ---- the envelope -----------------------------------------------------------------------------

/** Parses a stored record's text and checks its format: empty, cut-short or damaged text is named as such. */
export function parseStoredText(text: string, location: string): Stored {
  if (text.trim() === '') throw new StateCorruptError(location, `empty (${Buffer.byteLength(text)} bytes): truncated`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new StateCorruptError(location, `not valid JSON, ${Buffer.byteLength(text)} bytes, truncated or damaged (${(err as Error).message})`, { cause: err });
  }
  return checkStored(parsed, location);
}

/** Checks that a parsed record is an object of this format; a newer format is marked, never taken for damage. */
export function checkStored(parsed: unknown, location: string): Stored {
  if (!isObject(parsed)) throw new StateCorruptError(location, 'expected a JSON object');
  if (parsed.format !== STATE_FORMAT) {
    const newer = typeof parsed.format === 'number' && parsed.format > STATE_FORMAT;
    throw new StateCorruptError(location, newer
      ? `format ${parsed.format} was written by a newer ccr-follow (this one reads format ${STATE_FORMAT})`
      : `expected "format": ${STATE_FORMAT}, got ${JSON.stringify(parsed.format)}`, { newerFormat: newer });
  }
  return parsed;
}

// ---- follower records -------------------------------------------------------------------------

export function encodeFollower(record: FollowerRecord): Stored {
  return { format: STATE_FORMAT, follower: pickFollowerRecord(record) };
}

/** The follower record of a stored envelope; throws `StateCorruptError` naming the first bad field. */
export function decodeFollower(stored: Stored, location: string): FollowerRecord {
  return parseFollowerRecord(stored.follower, location);
}

/** Throws unless the record is the follower `expected` (the key it was stored under). */
export function checkFollowerKey(record: FollowerRecord, expected: FollowerKey, location: string): FollowerRecord {
  if (recordKey(record) !== expected) {
    throw new StateCorruptError(location, `holds follower ${recordKey(record)}, but its name says ${expected}`);
  }
  return record;
}

function parseFollowerRecord(value: unknown, location: string): FollowerRecord {
  // Annotated so TypeScript treats a call as the end of the path (narrowing after it).
  const bad: (what: string) => never = (what) => {
    throw new StateCorruptError(location, `follower.${what}`);
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
  const failback = value.failback;
  if (failback !== undefined && !isFailbackPoint(failback)) {
    bad('failback: expected versionBase, auditFrom (shard → seq_no), lostWrites and at');
  }
  return pickFollowerRecord({
    leaderCluster: text('leaderCluster'),
    leaderIndex: text('leaderIndex'),
    followerCluster: text('followerCluster'),
    followerIndex: text('followerIndex'),
    params: params as Record<string, number>,
    status: status as FollowStatus,
    createdAt: text('createdAt'),
    ...(fatalException ? { fatalException } : {}),
    ...(isObject(uuids) ? { indexUuids: { leader: String(uuids.leader), follower: String(uuids.follower) } } : {}),
    ...(failback === undefined ? {} : { failback: failback as FailbackPoint }),
  });
}

function isFailbackPoint(value: unknown): boolean {
  if (!isObject(value) || !isObject(value.auditFrom)) return false;
  const whole = (v: unknown, min: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
  return whole(value.versionBase, 0) && whole(value.lostWrites, 0) && typeof value.at === 'string'
    && Object.entries(value.auditFrom).every(([k, v]) => /^\d+$/.test(k) && whole(v, -1));
}

/** Exactly the record's fields, in a fixed order, so stray properties are never persisted. */
function pickFollowerRecord(record: FollowerRecord): FollowerRecord {
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
    ...(record.failback ? {
      failback: {
        versionBase: record.failback.versionBase, auditFrom: { ...record.failback.auditFrom }, lostWrites: record.failback.lostWrites, at: record.failback.at,
      },
    } : {}),
  };
}

// ---- checkpoints ------------------------------------------------------------------------------

/** Throws a `RangeError` on an invalid checkpoint, before anything is written; copies them. */
export function encodeCheckpoints(key: FollowerKey, checkpoints: ShardCheckpoints): Stored {
  return { format: STATE_FORMAT, follower: key, shards: checkShards(checkpoints, key) };
}

export function decodeCheckpoints(stored: Stored, key: FollowerKey, location: string): ShardCheckpoints {
  if (stored.follower !== key) throw new StateCorruptError(location, `holds checkpoints of ${JSON.stringify(stored.follower)}, not ${key}`);
  if (!isObject(stored.shards)) throw new StateCorruptError(location, 'shards: expected an object');
  try {
    return checkShards(stored.shards as Record<string, number>, key);
  } catch (err) {
    throw new StateCorruptError(location, (err as Error).message, { cause: err });
  }
}

/** A copy keyed by shard number; throws on a non-integer shard or a checkpoint below -1. */
export function checkShards(checkpoints: Readonly<Record<string | number, unknown>>, key: FollowerKey): Record<number, number> {
  const result: Record<number, number> = {};
  for (const [shard, checkpoint] of Object.entries(checkpoints)) {
    if (!/^\d+$/.test(shard) || typeof checkpoint !== 'number' || !Number.isSafeInteger(checkpoint) || checkpoint < -1) {
      throw new RangeError(`invalid checkpoint for ${key} shard ${shard}: ${JSON.stringify(checkpoint)} (expected an integer >= -1)`);
    }
    result[Number(shard)] = checkpoint;
  }
  return result;
}

// ---- auto-follow patterns ---------------------------------------------------------------------

/** Throws a `RangeError` on a name that cannot key a pattern. */
export function encodePattern(record: AutoFollowPatternRecord): Stored {
  return { format: STATE_FORMAT, pattern: pickPattern(record) };
}

/** The pattern record of a stored envelope; throws `StateCorruptError` naming the first bad field. */
export function decodePattern(stored: Stored, location: string): AutoFollowPatternRecord {
  return parsePatternRecord(stored.pattern, location);
}

/** Throws unless the record is the pattern `expected` (the name it was stored under). */
export function checkPatternRecordName(record: AutoFollowPatternRecord, expected: string, location: string): AutoFollowPatternRecord {
  if (record.name !== expected) {
    throw new StateCorruptError(location, `holds auto-follow pattern ${record.name}, but its name says ${expected}`);
  }
  return record;
}

function parsePatternRecord(value: unknown, location: string): AutoFollowPatternRecord {
  const bad: (what: string) => never = (what) => {
    throw new StateCorruptError(location, `pattern.${what}`);
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
  const settings = value.settings;
  if (settings !== undefined && (!isObject(settings) || !Object.values(settings).every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v)))) {
    bad('settings: expected an object of strings, numbers, booleans or nulls');
  }
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
    ...(settings === undefined ? {} : { settings: settings as Record<string, string | number | boolean | null> }),
    status: status as FollowStatus,
    createdAt: text('createdAt'),
    activeSince: text('activeSince'),
  });
}

/** Exactly the pattern's fields, in a fixed order. */
function pickPattern(record: AutoFollowPatternRecord): AutoFollowPatternRecord {
  return {
    name: checkPatternKey(record.name),
    remoteCluster: record.remoteCluster,
    followerCluster: record.followerCluster,
    leaderIndexPatterns: [...record.leaderIndexPatterns],
    leaderIndexExclusionPatterns: [...record.leaderIndexExclusionPatterns],
    followIndexPattern: record.followIndexPattern,
    params: { ...record.params },
    ...(record.settings === undefined ? {} : { settings: { ...record.settings } }),
    status: record.status,
    createdAt: record.createdAt,
    activeSince: record.activeSince,
  };
}

// ---- cluster-metadata patterns ----------------------------------------------------------------

/** Throws a `RangeError` on a malformed record, before anything is written; copies it. */
export function encodeMetadataPattern(record: MetadataPatternRecord): Stored {
  return { format: STATE_FORMAT, metadataPattern: checkMetadataPattern(record, 'cluster-metadata pattern') };
}

/** The cluster-metadata pattern of a stored envelope, checked to be the one `name` names. */
export function decodeMetadataPattern(stored: Stored, name: string, location: string): MetadataPatternRecord {
  let record: MetadataPatternRecord;
  try {
    record = checkMetadataPattern(stored.metadataPattern, location);
  } catch (err) {
    throw new StateCorruptError(location, (err as Error).message, { cause: err });
  }
  if (record.name !== name) throw new StateCorruptError(location, `holds cluster-metadata pattern ${record.name}, but its name says ${name}`);
  return record;
}

function checkMetadataPattern(value: unknown, location: string): MetadataPatternRecord {
  const bad = (what: string): never => {
    throw new RangeError(`${location}: metadataPattern.${what}`);
  };
  if (!isObject(value)) return bad('expected an object');
  const text = (field: string): string => {
    const v = value[field];
    return typeof v === 'string' && v !== '' ? v : bad(`${field}: expected a non-empty string`);
  };
  const lists = (field: string): Record<string, string[]> => {
    const v = value[field];
    if (!isObject(v) || !Object.values(v).every((l) => Array.isArray(l) && l.every((p) => typeof p === 'string' && p !== ''))) {
      return bad(`${field}: expected an object of lists of non-empty strings`);
    }
    return Object.fromEntries(Object.entries(v).map(([k, l]) => [k, [...(l as string[])]]));
  };
  const synced = value.synced;
  const fingerprints = (s: unknown): boolean => isObject(s) && typeof s.leaderFingerprint === 'string' && typeof s.followerFingerprint === 'string'
    && (s.heldBack === undefined || isObject(s.heldBack));
  if (!isObject(synced) || !Object.values(synced).every(fingerprints)) bad('synced: expected an object of {leaderFingerprint, followerFingerprint, heldBack?}');
  if (!STATUSES.includes(value.status as FollowStatus)) bad(`status: expected one of ${STATUSES.join(', ')}`);
  return {
    name: checkPatternKey(text('name')),
    remoteCluster: text('remoteCluster'),
    followerCluster: text('followerCluster'),
    include: lists('include'),
    exclude: lists('exclude'),
    status: value.status as FollowStatus,
    createdAt: text('createdAt'),
    synced: Object.fromEntries(Object.entries(synced as Record<string, Record<string, unknown>>).map(([key, s]) => [key, {
      leaderFingerprint: s.leaderFingerprint as string, followerFingerprint: s.followerFingerprint as string,
      ...(s.heldBack === undefined ? {} : { heldBack: structuredClone(s.heldBack) as Record<string, unknown> }),
    }])),
  };
}

// ---- promotion records ------------------------------------------------------------------------

/** Throws a `RangeError` on a malformed record, before anything is written; copies it. */
export function encodePromotion(record: PromotionRecord): Stored {
  return { format: STATE_FORMAT, promotion: checkPromotion(record, 'promotion record') };
}

/** The promotion record of a stored envelope, checked to be the one `key` names. */
export function decodePromotion(stored: Stored, key: FollowerKey, location: string): PromotionRecord {
  let record: PromotionRecord;
  try {
    record = checkPromotion(stored.promotion, location);
  } catch (err) {
    throw new StateCorruptError(location, (err as Error).message, { cause: err });
  }
  const storedKey = `${record.followerCluster}/${record.followerIndex}`;
  if (storedKey !== key) throw new StateCorruptError(location, `holds the promotion of ${storedKey}, not ${key}`);
  return record;
}

function checkPromotion(value: unknown, where: string): PromotionRecord {
  if (!isObject(value)) throw new RangeError(`${where}: expected an object`);
  for (const field of ['leaderCluster', 'leaderIndex', 'followerCluster', 'followerIndex', 'promotedAt']) {
    if (typeof value[field] !== 'string' || value[field] === '') throw new RangeError(`${where}: ${field}: expected a non-empty string`);
  }
  const uuids = value.indexUuids;
  if (uuids !== undefined && (!isObject(uuids) || ![uuids.leader, uuids.follower].every((v) => typeof v === 'string' && v !== ''))) {
    throw new RangeError(`${where}: indexUuids: expected {leader, follower} uuids`);
  }
  if (!isObject(value.shards)) throw new RangeError(`${where}: shards: expected an object`);
  const shards: Record<number, PromotedShard> = {};
  for (const [shard, point] of Object.entries(value.shards)) {
    const ok = /^\d+$/.test(shard) && isObject(point)
      && [point.leaderCheckpoint, point.maxSeqNo].every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= -1);
    if (!ok) throw new RangeError(`${where}: shard ${shard}: expected {leaderCheckpoint, maxSeqNo}, integers >= -1`);
    const p = point as { leaderCheckpoint: number; maxSeqNo: number };
    shards[Number(shard)] = { leaderCheckpoint: p.leaderCheckpoint, maxSeqNo: p.maxSeqNo };
  }
  return {
    leaderCluster: String(value.leaderCluster), leaderIndex: String(value.leaderIndex),
    followerCluster: String(value.followerCluster), followerIndex: String(value.followerIndex),
    ...(isObject(uuids) ? { indexUuids: { leader: String(uuids.leader), follower: String(uuids.follower) } } : {}),
    promotedAt: String(value.promotedAt), shards,
    ...(value.recoveryPoint === undefined ? {} : { recoveryPoint: checkRecoveryPoint(value.recoveryPoint, `${where}: recoveryPoint`) }),
    ...(value.run === undefined ? {} : { run: checkPromotionRun(value.run, `${where}: run`) }),
  };
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function isSeconds(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0;
}

function checkRecoveryPoint(value: unknown, where: string): RecoveryPoint {
  if (!isObject(value)) throw new RangeError(`${where}: expected an object`);
  if (value.leaderSeenAt !== undefined && (typeof value.leaderSeenAt !== 'string' || value.leaderSeenAt === '')) {
    throw new RangeError(`${where}: leaderSeenAt: expected a non-empty string`);
  }
  if (!isObject(value.leaderCheckpoints)) throw new RangeError(`${where}: leaderCheckpoints: expected an object`);
  const leaderCheckpoints: Record<number, number> = {};
  for (const [shard, checkpoint] of Object.entries(value.leaderCheckpoints)) {
    if (!/^\d+$/.test(shard) || typeof checkpoint !== 'number' || !Number.isSafeInteger(checkpoint) || checkpoint < -1) {
      throw new RangeError(`${where}: leaderCheckpoints: shard ${shard}: expected an integer >= -1`);
    }
    leaderCheckpoints[Number(shard)] = checkpoint;
  }
  for (const field of ['operationsApplied', 'operationsMissingAtLeast']) {
    if (!isCount(value[field])) throw new RangeError(`${where}: ${field}: expected an integer >= 0`);
  }
  if (value.secondsPossiblyMissing !== undefined && !isSeconds(value.secondsPossiblyMissing)) {
    throw new RangeError(`${where}: secondsPossiblyMissing: expected a number >= 0`);
  }
  return {
    ...(value.leaderSeenAt === undefined ? {} : { leaderSeenAt: String(value.leaderSeenAt) }),
    leaderCheckpoints,
    operationsApplied: value.operationsApplied as number,
    operationsMissingAtLeast: value.operationsMissingAtLeast as number,
    ...(value.secondsPossiblyMissing === undefined ? {} : { secondsPossiblyMissing: value.secondsPossiblyMissing as number }),
  };
}

function checkPromotionRun(value: unknown, where: string): PromotionRun {
  if (!isObject(value)) throw new RangeError(`${where}: expected an object`);
  if (typeof value.startedAt !== 'string' || value.startedAt === '') throw new RangeError(`${where}: startedAt: expected a non-empty string`);
  for (const field of ['followers', 'operationsMissingAtLeast', 'unknownFollowers']) {
    if (!isCount(value[field])) throw new RangeError(`${where}: ${field}: expected an integer >= 0`);
  }
  if (value.secondsPossiblyMissing !== undefined && !isSeconds(value.secondsPossiblyMissing)) {
    throw new RangeError(`${where}: secondsPossiblyMissing: expected a number >= 0`);
  }
  return {
    startedAt: String(value.startedAt),
    followers: value.followers as number,
    operationsMissingAtLeast: value.operationsMissingAtLeast as number,
    ...(value.secondsPossiblyMissing === undefined ? {} : { secondsPossiblyMissing: value.secondsPossiblyMissing as number }),
    unknownFollowers: value.unknownFollowers as number,
  };
}

// ---- handled leader indices -------------------------------------------------------------------

/** Throws a `RangeError` on a malformed entry or a repeated index, before anything is written; copies them. */
export function encodeHandled(name: string, indices: readonly HandledLeaderIndex[]): Stored {
  return { format: STATE_FORMAT, pattern: name, indices: checkHandled(indices, name) };
}

export function decodeHandled(stored: Stored, name: string, location: string): HandledLeaderIndex[] {
  if (stored.pattern !== name) throw new StateCorruptError(location, `holds handled indices of ${JSON.stringify(stored.pattern)}, not ${name}`);
  if (!Array.isArray(stored.indices)) throw new StateCorruptError(location, 'indices: expected a list');
  try {
    return checkHandled(stored.indices as HandledLeaderIndex[], name);
  } catch (err) {
    throw new StateCorruptError(location, (err as Error).message, { cause: err });
  }
}

/** Copies of the entries with exactly their fields; throws on a malformed entry or a repeated index. */
export function checkHandled(indices: readonly HandledLeaderIndex[], name: string): HandledLeaderIndex[] {
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
