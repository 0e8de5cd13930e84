import { expect } from 'chai';
import { renderStats } from '../../../src/cli/format.js';
import { followerStats } from '../../helpers/stats-fixtures.js';

describe('renderStats', () => {
  it('ends with one line per leader cluster: the requests per second sent to it, and why', () => {
    const none = { checkpoints: 0, metadata: 0, reads: 0, reconciliation: 0, writes: 0, other: 0 };
    const leaderRequests = { per_second: { ...none, checkpoints: 2, metadata: 1 }, total: none };
    const text = renderStats([
      followerStats({ leader_requests: leaderRequests }),
      followerStats({ index: 'other', leader_requests: leaderRequests }),
      followerStats({ index: 'dr', remote_cluster: 'dr-leader' }),
    ]);
    const lines = text.split('\n').filter((l) => l.startsWith('requests to leader'));
    expect(lines).to.deep.equal(['requests to leader leader: 3.0/s (checkpoints 2.0, metadata 1.0, reads 0.0, reconciliation 0.0, writes 0.0, other 0.0)']);
  });
});
