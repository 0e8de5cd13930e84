import { expect } from 'chai';
import {
  followerIndexName, invalidPatternNameReason, matchesPattern, parsePatternSpec,
} from '../../../src/autofollow/auto-follow-pattern.js';
import { wildcardMatch } from '../../../src/util/wildcard.js';
import { FollowError } from '../../../src/follow/follow-errors.js';

function refusal(fn: () => unknown): FollowError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(FollowError);
    expect((err as FollowError).type).to.equal('illegal_argument_exception');
    return err as FollowError;
  }
  throw new Error('expected a refusal');
}

describe('auto-follow pattern', () => {
  describe('wildcardMatch', () => {
    const cases: readonly (readonly [string, string, boolean])[] = [
      ['logs-*', 'logs-app-2026.11.21', true],
      ['logs-*', 'logs-', true],
      ['logs-*', 'logs', false],
      ['logs-*', 'metrics-logs-a', false],
      ['*', 'anything', true],
      ['*', '', true],
      ['orders', 'orders', true],
      ['orders', 'orders-1', false],
      ['*-replica', 'logs-replica', true],
      ['logs-*-eu', 'logs-app-eu', true],
      ['logs-*-eu', 'logs-eu', false], // the two fixed parts may not overlap
      ['a*b*c', 'axxbyyc', true],
      ['a*b*c', 'acb', false],
      ['a*b*c', 'abcbc', true],
      ['a.b*', 'axb-1', false], // only * is special
    ];
    for (const [pattern, name, expected] of cases) {
      it(`${pattern} ${expected ? 'matches' : 'does not match'} "${name}"`, () => {
        expect(wildcardMatch(pattern, name)).to.equal(expected);
      });
    }
  });

  it('matches one of the patterns and none of the exclusions', () => {
    const p = { leaderIndexPatterns: ['logs-*', 'metrics-*'], leaderIndexExclusionPatterns: ['logs-debug-*'] };
    expect(matchesPattern(p, 'logs-app-1')).to.equal(true);
    expect(matchesPattern(p, 'metrics-cpu')).to.equal(true);
    expect(matchesPattern(p, 'logs-debug-1')).to.equal(false);
    expect(matchesPattern(p, 'traces-1')).to.equal(false);
  });

  it('names the follower index from the template, every placeholder replaced', () => {
    expect(followerIndexName('{{leader_index}}-replica', 'logs-2026.11.21')).to.equal('logs-2026.11.21-replica');
    expect(followerIndexName('{{leader_index}}', 'orders')).to.equal('orders');
    expect(followerIndexName('dr-{{leader_index}}-{{leader_index}}', 'a')).to.equal('dr-a-a');
  });

  describe('parsePatternSpec', () => {
    it('applies CCR\'s defaults and keeps only the parameters given, parsed', () => {
      const spec = parsePatternSpec('daily-logs', {
        remote_cluster: 'leader', leader_index_patterns: ['logs-*', 'logs-*'], max_read_request_size: '1mb', max_retry_delay: '2s',
      });
      expect(spec).to.deep.equal({
        remoteCluster: 'leader', followerCluster: 'follower', leaderIndexPatterns: ['logs-*'], leaderIndexExclusionPatterns: [],
        followIndexPattern: '{{leader_index}}', params: { max_read_request_size: 1024 * 1024, max_retry_delay: 2000 },
      });
    });

    it('takes every field', () => {
      const spec = parsePatternSpec('p', {
        remote_cluster: 'eu', follower_cluster: 'dr', leader_index_patterns: ['logs-*'], leader_index_exclusion_patterns: ['logs-debug-*'],
        follow_index_pattern: '{{leader_index}}-replica',
      });
      expect(spec).to.include({ remoteCluster: 'eu', followerCluster: 'dr', followIndexPattern: '{{leader_index}}-replica' });
      expect(spec.leaderIndexExclusionPatterns).to.deep.equal(['logs-debug-*']);
    });

    it('keeps the settings its followers are created with, flat, and refuses those a follower cannot set', () => {
      const spec = parsePatternSpec('p', { remote_cluster: 'leader', leader_index_patterns: ['logs-*'], settings: { index: { number_of_replicas: 0 }, refresh_interval: '5s' } });
      expect(spec.settings).to.deep.equal({ 'index.number_of_replicas': 0, 'index.refresh_interval': '5s' });
      expect(parsePatternSpec('p', { remote_cluster: 'leader', leader_index_patterns: ['logs-*'], settings: {} })).to.not.have.property('settings');
      expect(refusal(() => parsePatternSpec('p', { remote_cluster: 'leader', leader_index_patterns: ['logs-*'], settings: { 'index.number_of_shards': 1 } })).message)
        .to.include('cannot set [index.number_of_shards] on a follower index');
      expect(refusal(() => parsePatternSpec('p', { remote_cluster: 'leader', leader_index_patterns: ['logs-*'], settings: 'fast' })).message)
        .to.include('[settings] of an auto-follow pattern must be an object');
    });

    it('refuses a request without a remote cluster or patterns', () => {
      expect(refusal(() => parsePatternSpec('p', { leader_index_patterns: ['a*'] })).message).to.include('[remote_cluster]');
      expect(refusal(() => parsePatternSpec('p', { remote_cluster: 'leader' })).message).to.include('[leader_index_patterns]');
      expect(refusal(() => parsePatternSpec('p', { remote_cluster: 'leader', leader_index_patterns: [] })).message).to.include('non-empty');
      expect(refusal(() => parsePatternSpec('p', { remote_cluster: 'leader', leader_index_patterns: [1] })).message).to.include('list of index patterns');
    });

    it('refuses patterns that are not index expressions', () => {
      const bad = (p: string): string => refusal(() => parsePatternSpec('p', { remote_cluster: 'leader', leader_index_patterns: [p] })).message;
      expect(bad('logs-*,metrics-*')).to.include("must not contain ','");
      expect(bad('Logs-*')).to.include('lowercase');
      expect(bad('-logs-*')).to.include("must not start with '-'");
      expect(bad('')).to.include('must not be empty');
      expect(refusal(() => parsePatternSpec('p', { remote_cluster: 'leader', leader_index_patterns: ['a*'], leader_index_exclusion_patterns: ['a b'] })).message)
        .to.include('leader_index_exclusion_patterns');
    });

    it('refuses a follower name template without {{leader_index}}, or one making invalid names', () => {
      const bad = (t: unknown): string => refusal(() => parsePatternSpec('p', { remote_cluster: 'leader', leader_index_patterns: ['a*'], follow_index_pattern: t })).message;
      expect(bad('copy')).to.include('must contain {{leader_index}}');
      expect(bad('{{leader_index}}-COPY')).to.include('lowercase');
      expect(bad('_{{leader_index}}')).to.include("must not start with '-', '_' or '+'");
      expect(bad(7)).to.include('must be a string');
    });

    it('refuses following a cluster into itself under the same names', () => {
      expect(refusal(() => parsePatternSpec('p', { remote_cluster: 'a', follower_cluster: 'a', leader_index_patterns: ['x*'] })).message).to.include('both [a]');
      expect(parsePatternSpec('p', { remote_cluster: 'a', follower_cluster: 'a', leader_index_patterns: ['x*'], follow_index_pattern: '{{leader_index}}-copy' }).followerCluster).to.equal('a');
    });

    it('refuses unknown or bad follow parameters, naming them', () => {
      expect(refusal(() => parsePatternSpec('p', { remote_cluster: 'leader', leader_index_patterns: ['a*'], data_stream_name: 'x' })).message).to.include('unknown follow parameter [data_stream_name]');
      expect(refusal(() => parsePatternSpec('p', { remote_cluster: 'leader', leader_index_patterns: ['a*'], max_retry_delay: '-1s' })).message).to.include('max_retry_delay');
    });

    it('refuses a bad pattern name', () => {
      expect(refusal(() => parsePatternSpec('_all', { remote_cluster: 'leader', leader_index_patterns: ['a*'] })).message).to.include('[_all]');
    });
  });

  it('accepts pattern names fit for URLs, files and shells', () => {
    for (const ok of ['daily-logs', 'A1', 'logs.eu_2']) expect(invalidPatternNameReason(ok), ok).to.equal(undefined);
    for (const bad of ['', '_x', '-x', 'a b', 'a/b', 'a,b', 'x'.repeat(101)]) expect(invalidPatternNameReason(bad), bad).to.be.a('string');
  });
});
