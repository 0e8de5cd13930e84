/** The REST APIs' common options on the control API's answers: pretty, human, filter_path, format. */
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import type { AutoFollowCoordinator } from '../../../src/autofollow/auto-follow-coordinator.js';
import { applyFilter, humanDuration, humanSize, parseFilterPath, withHumanFields } from '../../../src/daemon/api/common-options.js';
import { buildControlServer } from '../../../src/daemon/control-server.js';
import type { FollowManager } from '../../../src/follow/follow-manager.js';
import { silentLogger } from '../../../src/util/logger.js';

const STATS = {
  indices: [
    { index: 'a', shards: [{ shard_id: 0, leader_index: 'la', time_since_last_read_millis: 1500, write_buffer_size_in_bytes: 1536 }, { shard_id: 1, leader_index: 'la', time_since_last_read_millis: 8, write_buffer_size_in_bytes: 0 }] },
    { index: 'b', shards: [{ shard_id: 0, leader_index: 'lb', time_since_last_read_millis: 90_000, write_buffer_size_in_bytes: 32 * 1024 ** 2 }] },
  ],
};
const filtered = (expression: string): unknown => applyFilter(STATS, parseFilterPath(expression));

describe('common options', () => {
  describe('human', () => {
    it('prints durations and sizes as the clusters do: largest unit, one decimal cut, not rounded', () => {
      expect([0, 8, 999, 1500, 1999, 60_000, 90_000, 5_400_000, 2 * 86_400_000, -1].map(humanDuration))
        .to.deep.equal(['0s', '8ms', '999ms', '1.5s', '1.9s', '1m', '1.5m', '1.5h', '2d', '-1']);
      expect([0, 512, 1024, 1536, 32 * 1024 ** 2, 1.25 * 1024 ** 3].map(humanSize)).to.deep.equal(['0b', '512b', '1kb', '1.5kb', '32mb', '1.2gb']);
    });

    it('adds each human field beside its number, leaving the numbers and other fields as they are', () => {
      expect(withHumanFields({ total_read_time_millis: 1500, size_in_bytes: 2048, total_in_millis: 60_000, lag_operations: 3, shards: [{ lag_millis: 8 }] })).to.deep.equal({
        total_read_time: '1.5s', total_read_time_millis: 1500, size: '2kb', size_in_bytes: 2048, total: '1m', total_in_millis: 60_000, lag_operations: 3, shards: [{ lag: '8ms', lag_millis: 8 }],
      });
      expect(withHumanFields({ lag: 'given', lag_millis: 5 }), 'a name already there is kept').to.deep.equal({ lag: 'given', lag_millis: 5 });
    });
  });

  describe('filter_path', () => {
    it('keeps the paths named, through arrays, and leaves out what nothing matches', () => {
      expect(filtered('indices.index')).to.deep.equal({ indices: [{ index: 'a' }, { index: 'b' }] });
      expect(filtered('indices.shards.leader_index,indices.index')).to.deep.equal({
        indices: [{ index: 'a', shards: [{ leader_index: 'la' }, { leader_index: 'la' }] }, { index: 'b', shards: [{ leader_index: 'lb' }] }],
      });
      expect(filtered('nothing.here')).to.equal(undefined);
    });

    it('matches * within a name and ** across levels', () => {
      expect(filtered('indices.shards.*_in_bytes')).to.deep.equal({
        indices: [{ shards: [{ write_buffer_size_in_bytes: 1536 }, { write_buffer_size_in_bytes: 0 }] }, { shards: [{ write_buffer_size_in_bytes: 32 * 1024 ** 2 }] }],
      });
      expect(filtered('**.shard_id')).to.deep.equal({ indices: [{ shards: [{ shard_id: 0 }, { shard_id: 1 }] }, { shards: [{ shard_id: 0 }] }] });
      expect(filtered('ind*')).to.deep.equal(STATS);
    });

    it('excludes with -, alone or after what is included', () => {
      expect(filtered('-indices.shards')).to.deep.equal({ indices: [{ index: 'a' }, { index: 'b' }] });
      expect(filtered('indices,-**.time_since_last_read_millis,-**.write_buffer_size_in_bytes')).to.deep.equal({
        indices: [{ index: 'a', shards: [{ shard_id: 0, leader_index: 'la' }, { shard_id: 1, leader_index: 'la' }] }, { index: 'b', shards: [{ shard_id: 0, leader_index: 'lb' }] }],
      });
      expect(filtered('-indices')).to.deep.equal({});
    });
  });

  describe('through the control server', () => {
    const manager = { stats: () => [], info: () => [] } as unknown as FollowManager;
    // `/_ccr/stats` reads the patterns with their stats (as the fleet lists them).
    const autoFollow = {
      list: () => [],
      stats: () => ({ number_of_failed_follow_indices: 0, number_of_failed_remote_cluster_state_requests: 0, number_of_successful_follow_indices: 3, recent_auto_follow_errors: [], auto_followed_clusters: [] }),
    } as unknown as AutoFollowCoordinator;
    const app = buildControlServer({ manager, autoFollow, logger: silentLogger, version: '9.9.9' });
    after(() => app.close());

    it('answers indented with ?pretty, filtered with ?filter_path, as YAML with ?format=yaml', async () => {
      const plain = await app.inject({ method: 'GET', url: '/_ccr/stats' });
      expect(plain.body).to.not.include('\n');
      const pretty = await app.inject({ method: 'GET', url: '/_ccr/stats?pretty' });
      expect(pretty.body).to.equal(`${JSON.stringify(plain.json(), null, 2)}\n`);
      const picked = await app.inject({ method: 'GET', url: '/_ccr/stats?filter_path=auto_follow_stats.number_of_successful_follow_indices' });
      expect(picked.json()).to.deep.equal({ auto_follow_stats: { number_of_successful_follow_indices: 3 } });
      const yaml = await app.inject({ method: 'GET', url: '/_ccr/stats?format=yaml&filter_path=**.number_of_successful_follow_indices' });
      expect(yaml.headers['content-type']).to.match(/^application\/yaml/);
      expect(parseYaml(yaml.body)).to.deep.equal({ auto_follow_stats: { number_of_successful_follow_indices: 3 } });
      const off = await app.inject({ method: 'GET', url: '/_ccr/stats?pretty=false&human=false&error_trace=true' });
      expect(off.body).to.equal(plain.body);
    });

    it('applies them to error answers too, and leaves /metrics as text', async () => {
      const error = await app.inject({ method: 'GET', url: '/follower/UPPER/_ccr/stats?filter_path=error.type,status' });
      expect(error.statusCode).to.equal(400);
      expect(error.json()).to.deep.equal({ error: { type: 'illegal_argument_exception' }, status: 400 });
      const metrics = await app.inject({ method: 'GET', url: '/metrics?pretty' });
      expect(metrics.headers['content-type']).to.match(/^text\/plain/);
    });
  });
});
