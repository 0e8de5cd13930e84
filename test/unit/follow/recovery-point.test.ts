/**
 * The recovery point of a promoted follower, computed from what the daemon knows (its shard
 * stats, checkpoints and the leader's last answer), and the totals of a run.
 */
import { expect } from 'chai';
import { recoveryPoint, runTotals } from '../../../src/follow/recovery-point.js';

const T = Date.parse('2026-12-07T10:00:00.000Z');

describe('recoveryPoint', () => {
  it('counts the operations seen on the leader and not applied, and the seconds since the first of them was seen', () => {
    const point = recoveryPoint({
      shards: [
        { shard_id: 0, leader_global_checkpoint: 99, lag_millis: 0 },
        // 10 operations seen and not applied; the oldest was first seen 4 s before the stats were read.
        { shard_id: 1, leader_global_checkpoint: 59, lag_millis: 4_000 },
      ],
      checkpoints: { 0: 99, 1: 49 },
      leaderSeenAt: T - 1_000,
      statsAt: T,
      promotedAt: T + 500,
    });
    expect(point).to.deep.equal({
      leaderSeenAt: new Date(T - 1_000).toISOString(),
      leaderCheckpoints: { 0: 99, 1: 59 },
      operationsApplied: 100 + 50,
      operationsMissingAtLeast: 10,
      secondsPossiblyMissing: 4.5,
    });
  });

  it('counts from the leader\'s last answer when the follower was caught up', () => {
    const point = recoveryPoint({
      shards: [{ shard_id: 0, leader_global_checkpoint: 9, lag_millis: 0 }],
      checkpoints: { 0: 9 }, leaderSeenAt: T - 2_340, statsAt: T, promotedAt: T,
    });
    expect(point).to.include({ operationsApplied: 10, operationsMissingAtLeast: 0, secondsPossiblyMissing: 2.3 });
  });

  it('says the seconds are unknown when the leader was not seen since the daemon started, and counts shards without tasks from their checkpoints', () => {
    const point = recoveryPoint({
      // No task ran (the leader was gone at start): a task's starting leader checkpoint is its own.
      shards: [],
      checkpoints: { 0: 4, 1: -1 },
      leaderSeenAt: undefined, statsAt: T, promotedAt: T,
    });
    expect(point).to.deep.equal({ leaderCheckpoints: { 0: 4, 1: -1 }, operationsApplied: 5, operationsMissingAtLeast: 0 });
  });

  it('totals a run: operations summed, the largest seconds, the followers whose seconds are unknown', () => {
    const known = (ops: number, seconds: number) => ({ leaderCheckpoints: {}, operationsApplied: 1, operationsMissingAtLeast: ops, secondsPossiblyMissing: seconds });
    const unknown = { leaderCheckpoints: {}, operationsApplied: 1, operationsMissingAtLeast: 0 };
    expect(runTotals(T, [known(3, 1.5), known(4, 7.2), unknown])).to.deep.equal({
      startedAt: new Date(T).toISOString(), followers: 3, operationsMissingAtLeast: 7, secondsPossiblyMissing: 7.2, unknownFollowers: 1,
    });
    expect(runTotals(T, [unknown])).to.not.have.property('secondsPossiblyMissing');
  });
});
