/**
 * The checkpoint batcher's reaction to a state store that refuses writes (the state directory is
 * full or read-only): the refusal reaches the follower through `onWriteFailure`, nothing is lost
 * (the next flush saves the newest checkpoints), and other failures are only logged. The store here
 * is a fake because a full disk cannot be produced in a unit test; the integration test fills a
 * real tmpfs.
 */
import { expect } from 'chai';
import { CheckpointBatcher } from '../../../src/follow/checkpoint-batcher.js';
import { FollowerNotFoundError, StateWriteError, type ShardCheckpoints, type StateStore } from '../../../src/state/state-store.js';
import { memoryLogger } from '../../../src/util/logger.js';

/** Only saveCheckpoints is used by the batcher; it fails while `failure` is set. */
function fakeStore(): { store: StateStore; saved: ShardCheckpoints[]; fail(err: Error | undefined): void } {
  const saved: ShardCheckpoints[] = [];
  let failure: Error | undefined;
  const store = {
    saveCheckpoints: (_key: string, checkpoints: ShardCheckpoints): Promise<void> => {
      if (failure) return Promise.reject(failure);
      saved.push({ ...checkpoints });
      return Promise.resolve();
    },
  } as unknown as StateStore;
  return { store, saved, fail: (err) => { failure = err; } };
}

function enospc(): StateWriteError {
  const cause = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  return new StateWriteError('/var/lib/ccr-follow', 'ENOSPC', '/var/lib/ccr-follow/checkpoints/follower%2Fa.json', { cause });
}

describe('CheckpointBatcher', () => {
  it('reports a save the storage refuses, and saves the newest checkpoints once it accepts again', async () => {
    const { store, saved, fail } = fakeStore();
    const logger = memoryLogger();
    const failures: StateWriteError[] = [];
    const batcher = new CheckpointBatcher('follower/a', store, logger, { 0: 5 }, 60_000, (err) => failures.push(err));
    fail(enospc());
    batcher.update(0, 9);
    await batcher.flush();
    expect(failures.map((f) => f.code)).to.deep.equal(['ENOSPC']);
    expect(failures[0]!.message).to.include('/var/lib/ccr-follow').and.include('ENOSPC');
    expect(logger.entries.some((e) => e.level === 'error' && e.message.includes('ENOSPC'))).to.equal(true);
    expect(saved).to.deep.equal([]);
    // Never backwards, never past what was reported applied.
    batcher.update(0, 7);
    expect(batcher.get(0)).to.equal(9);
    fail(undefined);
    await batcher.flush();
    expect(saved).to.deep.equal([{ 0: 9 }]);
    expect(failures).to.have.length(1);
  });

  it('only logs other failures (a follower deleted meanwhile)', async () => {
    const { store, fail } = fakeStore();
    const logger = memoryLogger();
    const failures: StateWriteError[] = [];
    const batcher = new CheckpointBatcher('follower/a', store, logger, {}, 60_000, (err) => failures.push(err));
    fail(new FollowerNotFoundError('follower/a'));
    batcher.update(1, 3);
    await batcher.flush();
    expect(failures).to.deep.equal([]);
    expect(logger.entries.some((e) => e.level === 'error' && e.message.includes('does not exist'))).to.equal(true);
  });
});
