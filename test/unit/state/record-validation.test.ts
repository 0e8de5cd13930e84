// The stored-record checks on their own, with no files: each bad input must be refused with an
// error naming the location and the field, and each good one must come back as exactly its fields.
import { expect } from 'chai';
import {
  STATE_FORMAT,
  checkFollowerKey,
  checkHandled,
  checkPatternRecordName,
  checkShards,
  checkStored,
  decodeCheckpoints,
  decodeFollower,
  decodeHandled,
  decodePattern,
  decodePromotion,
  encodeCheckpoints,
  encodeFollower,
  encodeHandled,
  encodePattern,
  encodePromotion,
  parseStoredText,
} from '../../../src/state/record-validation.js';
import {
  type AutoFollowPatternRecord, type FollowerRecord, type HandledLeaderIndex, StateCorruptError,
} from '../../../src/state/state-store.js';

const WHERE = '/state/followers/x.json';

const FOLLOWER: FollowerRecord = {
  leaderCluster: 'leader',
  leaderIndex: 'logs-a',
  followerCluster: 'follower',
  followerIndex: 'logs-a',
  params: { max_read_request_operation_count: 5120 },
  status: 'paused',
  fatalException: { type: 'index_not_found_exception', reason: 'no such index [logs-a]', at: '2024-05-02T00:00:00.000Z' },
  createdAt: '2024-05-01T10:00:00.000Z',
  indexUuids: { leader: 'L-uuid', follower: 'F-uuid' },
};

const PATTERN: AutoFollowPatternRecord = {
  name: 'daily-logs',
  remoteCluster: 'leader',
  followerCluster: 'follower',
  leaderIndexPatterns: ['logs-*'],
  leaderIndexExclusionPatterns: ['logs-debug-*'],
  followIndexPattern: '{{leader_index}}-replica',
  params: {},
  status: 'active',
  createdAt: '2024-05-01T10:00:00.000Z',
  activeSince: '2024-05-01T10:00:00.000Z',
};

const HANDLED: readonly HandledLeaderIndex[] = [
  { leaderIndex: 'logs-old', outcome: 'existing', at: '2024-05-01T10:00:00.000Z' },
  { leaderIndex: '.ds-logs-s-000001', outcome: 'followed', followerIndex: '.ds-logs-s-000001-replica', dataStream: 'logs-s', at: '2024-05-01T10:02:00.000Z' },
  { leaderIndex: 'logs-b', outcome: 'failed', reason: 'already exists', at: '2024-05-01T10:03:00.000Z' },
];

/** The error `fn` throws; fails the test if it returns. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

/** A `StateCorruptError` at WHERE whose detail is `detail`. */
function corrupt(fn: () => unknown, detail: string | RegExp): StateCorruptError {
  const err = thrown(fn);
  expect(err).to.be.instanceOf(StateCorruptError);
  const corruptErr = err as StateCorruptError;
  expect(corruptErr.file).to.equal(WHERE);
  if (typeof detail === 'string') expect(corruptErr.detail).to.equal(detail);
  else expect(corruptErr.detail).to.match(detail);
  return corruptErr;
}

/** The record as a backend would read it back: through JSON text. */
function roundTrip(stored: object): Record<string, unknown> {
  return parseStoredText(JSON.stringify(stored), WHERE);
}

describe('record-validation', () => {
  describe('the envelope', () => {
    it('names empty, cut-short and non-object text, and counts its bytes', () => {
      corrupt(() => parseStoredText('', WHERE), 'empty (0 bytes): truncated');
      corrupt(() => parseStoredText(' \n', WHERE), 'empty (2 bytes): truncated');
      const cut = corrupt(() => parseStoredText('{"format": 1, "é', WHERE), /^not valid JSON, 17 bytes, truncated or damaged \(/);
      expect(cut.cause).to.be.instanceOf(SyntaxError);
      corrupt(() => parseStoredText('[1]', WHERE), 'expected a JSON object');
      corrupt(() => parseStoredText('null', WHERE), 'expected a JSON object');
    });

    it('marks a newer format as such, and an absent or odd one as damage', () => {
      const newer = corrupt(() => checkStored({ format: STATE_FORMAT + 1 }, WHERE), `format ${STATE_FORMAT + 1} was written by a newer ccr-follow (this one reads format ${STATE_FORMAT})`);
      expect(newer.newerFormat).to.equal(true);
      const missing = corrupt(() => checkStored({}, WHERE), `expected "format": ${STATE_FORMAT}, got undefined`);
      expect(missing.newerFormat).to.equal(false);
      expect(corrupt(() => checkStored({ format: '2' }, WHERE), `expected "format": ${STATE_FORMAT}, got "2"`).newerFormat).to.equal(false);
      expect(corrupt(() => checkStored({ format: 0 }, WHERE), `expected "format": ${STATE_FORMAT}, got 0`).newerFormat).to.equal(false);
    });

    it('writes format 1', () => {
      expect(STATE_FORMAT).to.equal(1);
      expect(encodeFollower(FOLLOWER).format).to.equal(1);
      expect(encodeCheckpoints('follower/logs-a', {}).format).to.equal(1);
      expect(encodePattern(PATTERN).format).to.equal(1);
      expect(encodeHandled('p', []).format).to.equal(1);
    });
  });

  describe('follower records', () => {
    it('reads back what it writes, with exactly the record fields in a fixed order', () => {
      const messy = { extra: 'x', ...FOLLOWER, params: { ...FOLLOWER.params } } as FollowerRecord;
      const stored = encodeFollower(messy);
      expect(Object.keys(stored)).to.deep.equal(['format', 'follower']);
      const back = decodeFollower(roundTrip(stored), WHERE);
      expect(back).to.deep.equal(FOLLOWER);
      expect(Object.keys(back)).to.deep.equal(['leaderCluster', 'leaderIndex', 'followerCluster', 'followerIndex', 'params', 'status', 'fatalException', 'createdAt', 'indexUuids']);
    });

    it('keeps a fail-back follow\'s version base, audit start and lost writes, and refuses a malformed one', () => {
      const failback = { versionBase: 5120, auditFrom: { 0: 41, 1: -1 }, lostWrites: 3, at: '2026-12-07T12:00:00.000Z' };
      const back = decodeFollower(roundTrip(encodeFollower({ ...FOLLOWER, failback })), WHERE);
      expect(back.failback).to.deep.equal(failback);
      for (const bad of [{ ...failback, versionBase: -1 }, { ...failback, auditFrom: { x: 1 } }, { ...failback, lostWrites: 1.5 }, { ...failback, at: 7 }]) {
        const stored = { format: 1, follower: { ...FOLLOWER, failback: bad } };
        expect(() => decodeFollower(roundTrip(stored), WHERE), JSON.stringify(bad)).to.throw(StateCorruptError, /failback/);
      }
    });

    it('copies what it writes, so a later change by the caller is not stored', () => {
      const params: Record<string, number> = { a: 1 };
      const stored = encodeFollower({ ...FOLLOWER, params });
      params.a = 2;
      expect((stored.follower as FollowerRecord).params).to.deep.equal({ a: 1 });
    });

    it('leaves optional fields out rather than writing them as undefined', () => {
      const { fatalException: _f, indexUuids: _u, ...plain } = FOLLOWER;
      const back = decodeFollower(roundTrip(encodeFollower(plain)), WHERE);
      expect(back).to.deep.equal(plain);
      expect(back).to.not.have.property('fatalException');
      expect(back).to.not.have.property('indexUuids');
    });

    it('names the first field that is missing or of the wrong type', () => {
      const with_ = (change: Record<string, unknown>) => ({ format: 1, follower: { ...FOLLOWER, ...change } });
      corrupt(() => decodeFollower({ format: 1 }, WHERE), 'follower.expected an object');
      corrupt(() => decodeFollower({ format: 1, follower: [] }, WHERE), 'follower.expected an object');
      corrupt(() => decodeFollower(with_({ leaderIndex: '' }), WHERE), 'follower.leaderIndex: expected a non-empty string');
      corrupt(() => decodeFollower(with_({ createdAt: 5 }), WHERE), 'follower.createdAt: expected a non-empty string');
      corrupt(() => decodeFollower(with_({ params: { a: '1' } }), WHERE), 'follower.params: expected an object of numbers');
      corrupt(() => decodeFollower(with_({ params: { a: null } }), WHERE), 'follower.params: expected an object of numbers');
      corrupt(() => decodeFollower(with_({ status: 'stopped' }), WHERE), 'follower.status: expected one of active, paused');
      corrupt(() => decodeFollower(with_({ fatalException: { type: 't', reason: 'r' } }), WHERE), 'follower.fatalException: expected type, reason and at as strings');
      corrupt(() => decodeFollower(with_({ indexUuids: { leader: 'L', follower: '' } }), WHERE), 'follower.indexUuids: expected leader and follower as non-empty strings');
    });

    it('refuses a record stored under another key', () => {
      expect(checkFollowerKey(FOLLOWER, 'follower/logs-a', WHERE)).to.equal(FOLLOWER);
      corrupt(() => checkFollowerKey(FOLLOWER, 'follower/logs-b', WHERE), 'holds follower follower/logs-a, but its name says follower/logs-b');
    });
  });

  describe('checkpoints', () => {
    it('reads back what it writes, keyed by shard number, as a copy', () => {
      const checkpoints: Record<number, number> = { 0: 41, 1: -1, 12: 0 };
      const stored = encodeCheckpoints('follower/logs-a', checkpoints);
      checkpoints[0] = 99;
      expect(stored).to.deep.equal({ format: 1, follower: 'follower/logs-a', shards: { 0: 41, 1: -1, 12: 0 } });
      expect(decodeCheckpoints(roundTrip(stored), 'follower/logs-a', WHERE)).to.deep.equal({ 0: 41, 1: -1, 12: 0 });
    });

    it('refuses a checkpoint below -1, not an integer, or on a shard that is not a number, before writing', () => {
      for (const [shards, shown] of [[{ 0: -2 }, '0: -2'], [{ 0: 1.5 }, '0: 1.5'], [{ 0: 2 ** 53 }, `0: ${2 ** 53}`], [{ x: 1 }, 'x: 1'], [{ '-1': 1 }, '-1: 1']] as const) {
        const err = thrown(() => encodeCheckpoints('follower/logs-a', shards as Record<number, number>));
        expect(err).to.be.instanceOf(RangeError);
        expect(err.message).to.equal(`invalid checkpoint for follower/logs-a shard ${shown} (expected an integer >= -1)`);
      }
      const err = thrown(() => checkShards({ 3: '7' }, 'k'));
      expect(err.message).to.equal('invalid checkpoint for k shard 3: "7" (expected an integer >= -1)');
    });

    it('names checkpoints of another follower, missing shards, and a bad checkpoint read back', () => {
      corrupt(() => decodeCheckpoints({ format: 1, follower: 'follower/b', shards: {} }, 'follower/a', WHERE), 'holds checkpoints of "follower/b", not follower/a');
      corrupt(() => decodeCheckpoints({ format: 1, follower: 'follower/a' }, 'follower/a', WHERE), 'shards: expected an object');
      corrupt(() => decodeCheckpoints({ format: 1, follower: 'follower/a', shards: [1] }, 'follower/a', WHERE), 'shards: expected an object');
      const bad = corrupt(() => decodeCheckpoints({ format: 1, follower: 'follower/a', shards: { 0: 'x' } }, 'follower/a', WHERE),
        'invalid checkpoint for follower/a shard 0: "x" (expected an integer >= -1)');
      expect(bad.cause).to.be.instanceOf(RangeError);
    });
  });

  describe('auto-follow patterns', () => {
    it('reads back what it writes, with exactly the record fields', () => {
      const stored = encodePattern({ ...PATTERN, extra: 1 } as AutoFollowPatternRecord);
      const back = decodePattern(roundTrip(stored), WHERE);
      expect(back).to.deep.equal(PATTERN);
      expect(back).to.not.have.property('extra');
    });

    it('reads back a pattern\'s settings, and refuses settings that are not scalars', () => {
      const withSettings = { ...PATTERN, settings: { 'index.number_of_replicas': 0, 'index.refresh_interval': '5s', 'index.routing.allocation.require.zone': null } };
      expect(decodePattern(roundTrip(encodePattern(withSettings)), WHERE)).to.deep.equal(withSettings);
      corrupt(() => decodePattern({ format: 1, pattern: { ...PATTERN, settings: { a: [1] } } }, WHERE), 'pattern.settings: expected an object of strings, numbers, booleans or nulls');
    });

    it('refuses to write a pattern whose name cannot key it', () => {
      expect(thrown(() => encodePattern({ ...PATTERN, name: 'a/b' }))).to.be.instanceOf(RangeError);
      expect(thrown(() => encodePattern({ ...PATTERN, name: '' }))).to.be.instanceOf(RangeError);
    });

    it('names the first field that is missing or of the wrong type', () => {
      const with_ = (change: Record<string, unknown>) => ({ format: 1, pattern: { ...PATTERN, ...change } });
      corrupt(() => decodePattern({ format: 1, pattern: 'x' }, WHERE), 'pattern.expected an object');
      corrupt(() => decodePattern(with_({ params: { a: 'x' } }), WHERE), 'pattern.params: expected an object of numbers');
      corrupt(() => decodePattern(with_({ status: 'on' }), WHERE), 'pattern.status: expected one of active, paused');
      corrupt(() => decodePattern(with_({ leaderIndexPatterns: [] }), WHERE), 'pattern.leaderIndexPatterns: expected at least one pattern');
      corrupt(() => decodePattern(with_({ leaderIndexPatterns: 'logs-*' }), WHERE), 'pattern.leaderIndexPatterns: expected a list of non-empty strings');
      corrupt(() => decodePattern(with_({ leaderIndexExclusionPatterns: [''] }), WHERE), 'pattern.leaderIndexExclusionPatterns: expected a list of non-empty strings');
      corrupt(() => decodePattern(with_({ followIndexPattern: undefined }), WHERE), 'pattern.followIndexPattern: expected a non-empty string');
      corrupt(() => decodePattern(with_({ activeSince: '' }), WHERE), 'pattern.activeSince: expected a non-empty string');
    });

    it('refuses a pattern stored under another name', () => {
      expect(checkPatternRecordName(PATTERN, 'daily-logs', WHERE)).to.equal(PATTERN);
      corrupt(() => checkPatternRecordName(PATTERN, 'weekly', WHERE), 'holds auto-follow pattern daily-logs, but its name says weekly');
    });
  });

  describe('handled leader indices', () => {
    it('reads back what it writes, dropping unknown fields and keeping absent optional ones absent', () => {
      const stored = encodeHandled('p', [...HANDLED, { leaderIndex: 'logs-c', outcome: 'skipped', at: 't', extra: 1 } as HandledLeaderIndex]);
      const back = decodeHandled(roundTrip(stored), 'p', WHERE);
      expect(back).to.deep.equal([...HANDLED, { leaderIndex: 'logs-c', outcome: 'skipped', at: 't' }]);
      expect(back[0]).to.not.have.property('followerIndex');
    });

    it('refuses a malformed entry or a repeated index, naming the entry', () => {
      const where = 'handled index 1 of auto-follow pattern p';
      const entry = (change: Record<string, unknown>) => [HANDLED[0]!, { ...HANDLED[1]!, ...change }] as HandledLeaderIndex[];
      const message = (indices: readonly HandledLeaderIndex[]) => {
        const err = thrown(() => checkHandled(indices, 'p'));
        expect(err).to.be.instanceOf(RangeError);
        return err.message;
      };
      expect(message([HANDLED[0]!, 'x' as unknown as HandledLeaderIndex])).to.equal(`${where}: expected an object`);
      expect(message(entry({ leaderIndex: '' }))).to.equal(`${where}: leaderIndex: expected a non-empty string`);
      expect(message(entry({ leaderIndex: 'logs-old' }))).to.equal(`${where}: leader index logs-old appears twice`);
      expect(message(entry({ outcome: 'maybe' }))).to.equal(`${where}: outcome: expected one of existing, followed, skipped, failed`);
      expect(message(entry({ at: undefined }))).to.equal(`${where}: at: expected a string`);
      expect(message(entry({ dataStream: 3 }))).to.equal(`${where}: dataStream: expected a string`);
      expect(message(entry({ reason: null }))).to.equal(`${where}: reason: expected a string`);
    });

    it('names handled indices of another pattern, a missing list, and a bad entry read back', () => {
      corrupt(() => decodeHandled({ format: 1, pattern: 'q', indices: [] }, 'p', WHERE), 'holds handled indices of "q", not p');
      corrupt(() => decodeHandled({ format: 1, pattern: 'p', indices: {} }, 'p', WHERE), 'indices: expected a list');
      const bad = corrupt(() => decodeHandled({ format: 1, pattern: 'p', indices: [{ leaderIndex: 'a', outcome: 'followed' }] }, 'p', WHERE),
        'handled index 0 of auto-follow pattern p: at: expected a string');
      expect(bad.cause).to.be.instanceOf(RangeError);
    });
  });

  describe('promotion records', () => {
    const promotion = {
      leaderCluster: 'leader', leaderIndex: 'orders', followerCluster: 'follower', followerIndex: 'orders',
      indexUuids: { leader: 'L', follower: 'F' }, promotedAt: '2026-12-04T00:00:00.000Z',
      shards: { 0: { leaderCheckpoint: 41, maxSeqNo: 40 }, 1: { leaderCheckpoint: -1, maxSeqNo: -1 } },
    };

    it('come back as exactly their fields', () => {
      expect(decodePromotion(roundTrip(encodePromotion({ ...promotion, extra: 1 } as typeof promotion)), 'follower/orders', WHERE)).to.deep.equal(promotion);
    });

    it('are refused when malformed or stored under another key', () => {
      const bad = (shards: unknown) => roundTrip({ format: STATE_FORMAT, promotion: { ...promotion, shards } });
      corrupt(() => decodePromotion(bad({ 0: { leaderCheckpoint: -2, maxSeqNo: 1 } }), 'follower/orders', WHERE), /shard 0: expected \{leaderCheckpoint, maxSeqNo\}/);
      corrupt(() => decodePromotion(bad({ x: { leaderCheckpoint: 1, maxSeqNo: 1 } }), 'follower/orders', WHERE), /shard x/);
      corrupt(() => decodePromotion(roundTrip({ format: STATE_FORMAT, promotion: { ...promotion, leaderIndex: '' } }), 'follower/orders', WHERE), /leaderIndex: expected a non-empty string/);
      corrupt(() => decodePromotion(roundTrip(encodePromotion(promotion)), 'follower/other', WHERE), 'holds the promotion of follower/orders, not follower/other');
      expect(() => encodePromotion({ ...promotion, shards: { 0: { leaderCheckpoint: 1.5, maxSeqNo: 1 } } })).to.throw(RangeError);
    });

    it('keep their recovery point and run totals, and refuse malformed ones', () => {
      const recoveryPoint = { leaderSeenAt: '2026-12-04T00:00:00.000Z', leaderCheckpoints: { 0: 44, 1: -1 }, operationsApplied: 42, operationsMissingAtLeast: 3, secondsPossiblyMissing: 2.5 };
      const run = { startedAt: '2026-12-04T00:00:01.000Z', followers: 2, operationsMissingAtLeast: 3, unknownFollowers: 1 };
      const full = { ...promotion, recoveryPoint, run };
      expect(decodePromotion(roundTrip(encodePromotion(full)), 'follower/orders', WHERE)).to.deep.equal(full);
      const unknownSeconds = { ...promotion, recoveryPoint: { leaderCheckpoints: {}, operationsApplied: 0, operationsMissingAtLeast: 0 } };
      expect(decodePromotion(roundTrip(encodePromotion(unknownSeconds)), 'follower/orders', WHERE)).to.deep.equal(unknownSeconds);
      const stored = (value: Record<string, unknown>) => roundTrip({ format: STATE_FORMAT, promotion: { ...promotion, ...value } });
      corrupt(() => decodePromotion(stored({ recoveryPoint: { ...recoveryPoint, operationsMissingAtLeast: -1 } }), 'follower/orders', WHERE), /recoveryPoint: operationsMissingAtLeast/);
      corrupt(() => decodePromotion(stored({ recoveryPoint: { ...recoveryPoint, leaderCheckpoints: { 0: 'x' } } }), 'follower/orders', WHERE), /leaderCheckpoints: shard 0/);
      corrupt(() => decodePromotion(stored({ recoveryPoint: { ...recoveryPoint, secondsPossiblyMissing: -2 } }), 'follower/orders', WHERE), /secondsPossiblyMissing/);
      corrupt(() => decodePromotion(stored({ run: { ...run, followers: 1.5 } }), 'follower/orders', WHERE), /run: followers/);
      corrupt(() => decodePromotion(stored({ run: { ...run, startedAt: '' } }), 'follower/orders', WHERE), /run: startedAt/);
    });
  });
});
