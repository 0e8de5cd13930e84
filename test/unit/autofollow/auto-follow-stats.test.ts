import { expect } from 'chai';
import { combineStats, PatternStats } from '../../../src/autofollow/auto-follow-stats.js';

const E = { type: 'resource_already_exists_exception', reason: 'follower index [x] already exists' };

describe('auto-follow stats', () => {
  it('counts followed and failed indices and keys recent errors by pattern and leader index, as CCR', () => {
    const stats = new PatternStats('daily-logs');
    stats.followed();
    stats.followed();
    stats.failed('logs-b', E, 1000);
    stats.error(undefined, { type: 'connect_exception', reason: 'refused' }, 2000);
    expect(stats.view()).to.deep.equal({
      number_of_successful_follow_indices: 2,
      number_of_failed_follow_indices: 1,
      recent_auto_follow_errors: [
        { leader_index: 'daily-logs:logs-b', timestamp: 1000, auto_follow_exception: E },
        { leader_index: 'daily-logs', timestamp: 2000, auto_follow_exception: { type: 'connect_exception', reason: 'refused' } },
      ],
    });
  });

  it('keeps the latest error per leader index, says whether it is new, and keeps at most 20', () => {
    const stats = new PatternStats('p');
    expect(stats.error('a', E, 1)).to.equal(true);
    expect(stats.error('a', E, 2)).to.equal(false);
    expect(stats.error('a', { ...E, reason: 'other' }, 3)).to.equal(true);
    expect(stats.view().recent_auto_follow_errors).to.have.length(1);
    for (let i = 0; i < 30; i += 1) stats.error(`i${i}`, E, 10 + i);
    const errors = stats.view().recent_auto_follow_errors;
    expect(errors).to.have.length(20);
    expect(errors[0]!.leader_index).to.equal('p:i10');
    expect(errors[19]!.leader_index).to.equal('p:i29');
  });

  it('adds the patterns up for GET /_ccr/stats, errors in time order', () => {
    const a = new PatternStats('a');
    const b = new PatternStats('b');
    a.followed();
    b.failed('x', E, 5);
    a.error('y', E, 3);
    const combined = combineStats([a.view(), b.view()], 2, [{ cluster_name: 'leader', time_since_last_check_millis: 10, state: 'waiting' }]);
    expect(combined).to.deep.include({
      number_of_failed_follow_indices: 1, number_of_successful_follow_indices: 1, number_of_failed_remote_cluster_state_requests: 2,
    });
    expect(combined.recent_auto_follow_errors.map((e) => e.leader_index)).to.deep.equal(['a:y', 'b:x']);
    expect(combined.auto_followed_clusters).to.deep.equal([{ cluster_name: 'leader', time_since_last_check_millis: 10, state: 'waiting' }]);
  });
});
