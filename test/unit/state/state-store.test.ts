import { expect } from 'chai';
import { followerKey } from '../../../src/state/state-store.js';

describe('followerKey', () => {
  it('joins cluster and index with a slash', () => {
    expect(followerKey('follower', 'logs-app')).to.equal('follower/logs-app');
  });

  it('refuses names that would make the key ambiguous', () => {
    expect(() => followerKey('a/b', 'c')).to.throw(RangeError, 'a/b');
    expect(() => followerKey('a', '')).to.throw(RangeError, 'index');
  });
});
