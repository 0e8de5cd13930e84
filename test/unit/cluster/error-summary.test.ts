/**
 * errorSummary: the one way an error becomes the `{type, reason}` that stats (`fatal_exception`,
 * `read_exceptions`, …), follower records and auto-follow errors carry.
 */
import { expect } from 'chai';
import { ClusterResponseError, ClusterShardUnavailableError, errorSummary, IllegalReplicationStateError } from '../../../src/cluster/errors.js';
import { FollowError } from '../../../src/follow/follow-errors.js';
import { StateWriteError } from '../../../src/state/state-store.js';

describe('errorSummary', () => {
  it('takes the type a cluster sent, with the whole message as the reason', () => {
    const err = new ClusterResponseError({ alias: 'follower', operation: 'write documents', statusCode: 400, esType: 'mapper_parsing_exception', reason: 'failed to parse field [price]' });
    expect(errorSummary(err)).to.deep.equal({ type: 'mapper_parsing_exception', reason: err.message });
  });

  it('names what ccr-follow found itself as Elasticsearch names it', () => {
    expect(errorSummary(new ClusterShardUnavailableError({ alias: 'leader', operation: 'read', reason: 'primary not started' })).type).to.equal('no_shard_available_action_exception');
    expect(errorSummary(new IllegalReplicationStateError('bulk answered 2 items for 3 operations'))).to.deep.equal({ type: 'illegal_state_exception', reason: 'bulk answered 2 items for 3 operations' });
    const stateError = new StateWriteError('/var/lib/ccr-follow', 'ENOSPC', 'checkpoints', { cause: new Error('no space left on device') });
    expect(errorSummary(stateError).type).to.equal('state_write_exception');
    expect(errorSummary(new FollowError('illegal_state_exception', 'already paused'))).to.deep.equal({ type: 'illegal_state_exception', reason: 'already paused' });
  });

  it('falls back to the class name, "exception" for a plain Error or a thrown value, and takes a better reason when given', () => {
    expect(errorSummary(new TypeError('x is undefined'))).to.deep.equal({ type: 'TypeError', reason: 'x is undefined' });
    expect(errorSummary(new Error('boom'))).to.deep.equal({ type: 'exception', reason: 'boom' });
    expect(errorSummary('boom')).to.deep.equal({ type: 'exception', reason: 'boom' });
    expect(errorSummary(new Error('boom'), 'unexpected error: boom')).to.deep.equal({ type: 'exception', reason: 'unexpected error: boom' });
  });
});
