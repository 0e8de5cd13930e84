import { expect } from 'chai';
import { followerIndicesOf } from '../../../src/daemon/api/index-expressions.js';
import { FollowError } from '../../../src/follow/follow-errors.js';

/** The followers of each cluster, as the fleet lists them. */
const listed = [['follower', 'logs-a'], ['follower', 'logs-b'], ['follower', 'metrics'], ['other', 'logs-c']]
  .map(([cluster, index]) => ({ follower_cluster: cluster!, follower_index: index! }));

describe('CCR index expressions over one cluster\'s followers', () => {
  const of = (expression: string, cluster = 'follower'): string[] => followerIndicesOf(listed, cluster, expression);

  it('takes _all and * as every follower of the cluster', () => {
    expect(of('_all')).to.deep.equal(['follower/logs-a', 'follower/logs-b', 'follower/metrics']);
    expect(of('*')).to.deep.equal(of('_all'));
    expect(of('_all', 'other')).to.deep.equal(['other/logs-c']);
  });

  it('takes wildcards, comma lists and exclusions after an item', () => {
    expect(of('logs-*')).to.deep.equal(['follower/logs-a', 'follower/logs-b']);
    expect(of('metrics,logs-a')).to.deep.equal(['follower/logs-a', 'follower/metrics']);
    expect(of('*,-logs-*')).to.deep.equal(['follower/metrics']);
    expect(of('logs-*,-logs-b')).to.deep.equal(['follower/logs-a']);
    expect(of('nothing-*')).to.deep.equal([]);
  });

  it('refuses a plain name that is not a follower with a 404, and an invalid name with a 400', () => {
    expect(() => of('logs-a,logs-c')).to.throw(FollowError, '[follower/logs-c] is not a follower index').with.property('status', 404);
    expect(() => of('Logs')).to.throw(/invalid follower index name/).with.property('status', 400);
    expect(() => of('-logs-a')).to.throw(/invalid follower index name/);
  });
});
