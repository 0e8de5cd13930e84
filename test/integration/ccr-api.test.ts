/**
 * Elasticsearch's CCR API as its reference documents it, spoken over HTTP to a daemon with the
 * follower cluster as path prefix (`/follower/<index>/_ccr/...`), as a script pointed at
 * `http://<daemon>/follower` would: put follow with `wait_for_active_shards` and `settings`, follow
 * info (parameters in CCR's string forms, none while paused), follow stats with every documented
 * shard field and its type, index expressions, CCR stats, forget follower, the auto-follow APIs
 * under the prefix, and bad input answered with CCR's error shape and nothing changed. For an
 * Elasticsearch 8 and an OpenSearch 2 follower.
 */
import { expect } from 'chai';
import { SAME_FLAVOR_PAIRS, pairTitle, useFollowPair } from '../helpers/follow-fixture.js';
import { uniqueName } from '../helpers/clusters.js';
import { compareIndices, createLeaderIndex, waitForCaughtUp } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

interface Answer<T = Record<string, unknown>> { status: number; body: T }

/** Every per-shard field of CCR's follow stats, with its JSON type. */
const SHARD_FIELDS: Readonly<Record<string, 'string' | 'number' | 'object'>> = {
  remote_cluster: 'string', leader_index: 'string', follower_index: 'string', shard_id: 'number',
  leader_global_checkpoint: 'number', leader_max_seq_no: 'number', follower_global_checkpoint: 'number', follower_max_seq_no: 'number',
  last_requested_seq_no: 'number', outstanding_read_requests: 'number', outstanding_write_requests: 'number',
  write_buffer_operation_count: 'number', write_buffer_size_in_bytes: 'number',
  follower_mapping_version: 'number', follower_settings_version: 'number', follower_aliases_version: 'number',
  total_read_time_millis: 'number', total_read_remote_exec_time_millis: 'number', successful_read_requests: 'number',
  failed_read_requests: 'number', operations_read: 'number', bytes_read: 'number', total_write_time_millis: 'number',
  successful_write_requests: 'number', failed_write_requests: 'number', operations_written: 'number',
  read_exceptions: 'object', time_since_last_read_millis: 'number',
};

/** CCR's defaults as its follow info shows them, and ccr-follow's two extensions. */
const DEFAULT_PARAMETERS = {
  max_read_request_operation_count: 5120, max_outstanding_read_requests: 12, max_read_request_size: '32mb',
  max_write_request_operation_count: 5120, max_write_request_size: '64mb', max_outstanding_write_requests: 9,
  max_write_buffer_count: 2147483647, max_write_buffer_size: '512mb', max_retry_delay: '500ms', read_poll_timeout: '1m',
  reconcile_interval: '5s', repair_foreign_writes: true,
};

describe('the Elasticsearch CCR API, as documented, under a cluster prefix', function () {
  this.timeout(300_000);

  for (const flavors of SAME_FLAVOR_PAIRS) {
    describe(pairTitle(flavors), () => {
      const pair = useFollowPair(flavors);

      async function call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
        const res = await fetch(`${pair.daemon.url}${path}`, {
          method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
          signal: AbortSignal.timeout(60_000),
        });
        return { status: res.status, body: await res.json() as T };
      }

      /** A 3-shard leader with `docs` documents (index operations only: the follower's seq_nos then match what ccr-follow wrote). */
      async function leaderWith(docs: number): Promise<string> {
        const leaderIndex = uniqueName('leader');
        pair.track('leader', leaderIndex);
        await createLeaderIndex(pair.leader, leaderIndex);
        await pair.leader.writeDocuments(leaderIndex, Array.from({ length: docs }, (_, i) => ({ op: 'index' as const, id: `d${i}`, source: { n: i } })), { refresh: true });
        return leaderIndex;
      }

      /** The daemon's followers and patterns as the API shows them: what "changes nothing" compares. */
      async function everything(): Promise<unknown> {
        return { info: (await call('GET', '/_ccr/info')).body, patterns: (await call('GET', '/_ccr/auto_follow')).body };
      }

      function expectError(answer: Answer, status: number, type: string, reason: RegExp): void {
        expect(answer.status, JSON.stringify(answer.body)).to.equal(status);
        const { error } = answer.body as { error: { root_cause: { type: string; reason: string }[]; type: string; reason: string } };
        expect(error.type).to.equal(type);
        expect(error.reason).to.match(reason);
        expect(error.root_cause).to.deep.equal([{ type, reason: error.reason }]);
        expect(answer.body['status']).to.equal(status);
      }

      it('follows with wait_for_active_shards and settings, answers as CCR, and copies every document', async () => {
        const leaderIndex = await leaderWith(300);
        const followerIndex = uniqueName('follower');
        pair.track('follower', followerIndex);
        const answer = await call('PUT', `/follower/${followerIndex}/_ccr/follow?wait_for_active_shards=1&master_timeout=30s`, {
          remote_cluster: 'leader', leader_index: leaderIndex, settings: { index: { number_of_replicas: 0 } }, max_read_request_size: '1mb', read_poll_timeout: '30s',
        });
        expect(answer).to.deep.equal({ status: 200, body: { follow_index_created: true, follow_index_shards_acked: true, index_following_started: true } });
        const settings = await pair.follower.raw<Record<string, { settings: { index: Record<string, unknown> } }>>('read settings', { method: 'GET', path: `/${followerIndex}/_settings` });
        expect(settings.body[followerIndex]!.settings.index['number_of_replicas'], 'the follower\'s own setting').to.equal('0');
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).to.deep.equal([]);

        const info = await call<{ follower_indices: Record<string, unknown>[] }>('GET', `/follower/${followerIndex}/_ccr/info`);
        expect(info.status).to.equal(200);
        // ccr-follow's extension beside CCR's fields: the daemon that runs it (README, "Running several daemons").
        const [{ owner, ...ccrFields }] = info.body.follower_indices as [Record<string, unknown>];
        expect(owner).to.include({ status: 'owned' });
        expect([ccrFields]).to.deep.equal([{
          follower_index: followerIndex, remote_cluster: 'leader', leader_index: leaderIndex, status: 'active', follower_cluster: 'follower',
          parameters: { ...DEFAULT_PARAMETERS, max_read_request_size: '1mb', read_poll_timeout: '30s' },
        }]);
        expect(info.body.follower_indices).to.have.length(1);
      });

      it('reports every documented follow stats field with its type, follower_max_seq_no the follower shard\'s own', async () => {
        const leaderIndex = await leaderWith(200);
        const followerIndex = uniqueName('follower');
        pair.track('follower', followerIndex);
        expect((await call('PUT', `/follower/${followerIndex}/_ccr/follow`, { remote_cluster: 'leader', leader_index: leaderIndex })).body)
          .to.deep.equal({ follow_index_created: true, follow_index_shards_acked: false, index_following_started: true });
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);

        const own = await waitFor(async () => {
          const stats = await call<{ indices: { index: string; total_global_checkpoint_lag: number; shards: Record<string, unknown>[] }[] }>('GET', `/follower/${followerIndex}/_ccr/stats?timeout=10s`);
          const seqNos = await pair.follower.shardSeqNos(followerIndex);
          const shards = stats.body.indices[0]?.shards ?? [];
          const agree = shards.length === 3 && shards.every((s) => s['follower_max_seq_no'] === seqNos.find((q) => q.shard === s['shard_id'])?.maxSeqNo);
          return agree ? stats : false;
        }, { timeoutMs: 30_000, message: 'follower_max_seq_no to be the follower shards\' own max_seq_no' });
        expect(own.status).to.equal(200);
        const [index] = own.body.indices;
        expect(index!.index).to.equal(followerIndex);
        expect(index!.total_global_checkpoint_lag).to.equal(0);
        for (const shard of index!.shards) {
          for (const [field, type] of Object.entries(SHARD_FIELDS)) expect(typeof shard[field], `shards[].${field}`).to.equal(type);
          expect(shard).to.include({ remote_cluster: 'leader', leader_index: leaderIndex, follower_index: followerIndex });
          expect(shard['fatal_exception'], 'only present after a fatal error').to.equal(undefined);
        }
        expect(index!.shards.map((s) => s['shard_id']).sort()).to.deep.equal([0, 1, 2]);
        expect(index!.shards.reduce((sum, s) => sum + (s['operations_written'] as number), 0)).to.equal(200);

        const ccrStats = await call<{ auto_follow_stats: Record<string, unknown>; follow_stats: { indices: { index: string }[] } }>('GET', '/follower/_ccr/stats');
        expect(ccrStats.status).to.equal(200);
        expect(ccrStats.body.auto_follow_stats).to.include.keys('number_of_failed_follow_indices', 'number_of_failed_remote_cluster_state_requests',
          'number_of_successful_follow_indices', 'recent_auto_follow_errors', 'auto_followed_clusters');
        expect(ccrStats.body.follow_stats.indices.map((i) => i.index)).to.include(followerIndex);
        expect((await call<{ follow_stats: { indices: { index: string }[] } }>('GET', '/_ccr/stats')).body.follow_stats.indices.map((i) => i.index)).to.include(followerIndex);
      });

      it('takes _all, *, wildcards, comma lists and exclusions where CCR does, and 404s an unknown index', async () => {
        const tag = uniqueName('expr');
        const names = [`${tag}-a`, `${tag}-b`];
        const leaderIndex = await leaderWith(10);
        for (const followerIndex of names) {
          pair.track('follower', followerIndex);
          expect((await call('PUT', `/follower/${followerIndex}/_ccr/follow`, { remote_cluster: 'leader', leader_index: leaderIndex })).status).to.equal(200);
        }
        const infoOf = async (expression: string): Promise<string[]> => {
          const answer = await call<{ follower_indices: { follower_index: string }[] }>('GET', `/follower/${expression}/_ccr/info`);
          expect(answer.status, expression).to.equal(200);
          return answer.body.follower_indices.map((i) => i.follower_index).filter((n) => n.startsWith(tag)).sort();
        };
        const statsOf = async (expression: string): Promise<string[]> => {
          const answer = await call<{ indices: { index: string }[] }>('GET', `/follower/${expression}/_ccr/stats`);
          expect(answer.status, expression).to.equal(200);
          return answer.body.indices.map((i) => i.index).filter((n) => n.startsWith(tag)).sort();
        };
        for (const expression of ['_all', '*', `${tag}-*`, names.join(',')]) {
          expect(await infoOf(expression), expression).to.deep.equal(names);
          expect(await statsOf(expression), expression).to.deep.equal(names);
        }
        expect(await infoOf(`${tag}-*,-${tag}-b`)).to.deep.equal([`${tag}-a`]);
        expect(await statsOf(`${tag}-b`)).to.deep.equal([`${tag}-b`]);
        expect(await infoOf(`${tag}-none-*`)).to.deep.equal([]);
        expectError(await call('GET', `/follower/${tag}-missing/_ccr/stats`), 404, 'resource_not_found_exception', /is not a follower index/);
        expectError(await call('GET', `/follower/${tag}-a,${tag}-missing/_ccr/info`), 404, 'resource_not_found_exception', /is not a follower index/);
      });

      it('pauses, resumes and unfollows as CCR does, a paused follower\'s info without parameters', async () => {
        const leaderIndex = await leaderWith(50);
        const followerIndex = uniqueName('follower');
        pair.track('follower', followerIndex);
        await call('PUT', `/follower/${followerIndex}/_ccr/follow?wait_for_active_shards=1`, { remote_cluster: 'leader', leader_index: leaderIndex });
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);

        expect(await call('POST', `/follower/${followerIndex}/_ccr/pause_follow?master_timeout=1m`)).to.deep.equal({ status: 200, body: { acknowledged: true } });
        const paused = (await call<{ follower_indices: Record<string, unknown>[] }>('GET', `/follower/${followerIndex}/_ccr/info`)).body.follower_indices[0]!;
        expect(paused).to.include({ follower_index: followerIndex, remote_cluster: 'leader', leader_index: leaderIndex, status: 'paused' });
        expect(paused).to.not.have.property('parameters');
        expect(paused['paused_parameters'], 'ccr-follow\'s extension').to.deep.equal(DEFAULT_PARAMETERS);

        expect(await call('POST', `/follower/${followerIndex}/_ccr/resume_follow`, { max_retry_delay: '2s' })).to.deep.equal({ status: 200, body: { acknowledged: true } });
        const resumed = (await call<{ follower_indices: { status: string; parameters: Record<string, unknown> }[] }>('GET', `/follower/${followerIndex}/_ccr/info`)).body.follower_indices[0]!;
        expect(resumed.status).to.equal('active');
        expect(resumed.parameters).to.deep.equal({ ...DEFAULT_PARAMETERS, max_retry_delay: '2s' });

        await call('POST', `/follower/${followerIndex}/_ccr/pause_follow`);
        expect(await call('POST', `/follower/${followerIndex}/_ccr/unfollow`, {})).to.deep.equal({ status: 200, body: { acknowledged: true } });
        expect((await call<{ follower_indices: unknown[] }>('GET', `/follower/${followerIndex}*/_ccr/info`)).body.follower_indices).to.deep.equal([]);
        expect(await pair.follower.indexExists(followerIndex), 'an ordinary index now').to.equal(true);
      });

      it('answers forget_follower on the leader: ccr-follow holds no retention lease to drop', async () => {
        const leaderIndex = await leaderWith(1);
        const body = { follower_cluster: 'follower', follower_index: 'f', follower_index_uuid: 'u', leader_remote_cluster: 'leader' };
        expect(await call('POST', `/leader/${leaderIndex}/_ccr/forget_follower?timeout=10s`, body))
          .to.deep.equal({ status: 200, body: { _shards: { total: 0, successful: 0, failed: 0, failures: [] } } });
        const { follower_index_uuid: _left, ...missing } = body;
        expectError(await call('POST', `/leader/${leaderIndex}/_ccr/forget_follower`, missing), 400, 'illegal_argument_exception', /needs \[follower_index_uuid\]/);
      });

      it('puts, gets, pauses, resumes and deletes an auto-follow pattern under the prefix, which follows a new index', async () => {
        const name = uniqueName('pattern');
        const prefix = uniqueName('af');
        expect(await call('PUT', `/follower/_ccr/auto_follow/${name}?master_timeout=30s`, {
          remote_cluster: 'leader', leader_index_patterns: [`${prefix}-*`], follow_index_pattern: '{{leader_index}}-copy', max_read_request_size: '2mb',
          settings: { index: { refresh_interval: '2s' }, 'index.number_of_replicas': 0 },
        })).to.deep.equal({ status: 200, body: { acknowledged: true } });
        const got = await call<{ patterns: { name: string; pattern: Record<string, unknown> }[] }>('GET', `/follower/_ccr/auto_follow/${name}`);
        expect(got.body.patterns.map((p) => p.name)).to.deep.equal([name]);
        expect(got.body.patterns[0]!.pattern).to.deep.include({
          active: true, remote_cluster: 'leader', follower_cluster: 'follower', leader_index_patterns: [`${prefix}-*`],
          leader_index_exclusion_patterns: [], follow_index_pattern: '{{leader_index}}-copy', max_read_request_size: '2mb',
          // As CCR shows a pattern's settings: nested, values as strings.
          settings: { index: { refresh_interval: '2s', number_of_replicas: '0' } },
        });
        expect((await call<{ patterns: { name: string }[] }>('GET', '/follower/_ccr/auto_follow')).body.patterns.map((p) => p.name)).to.include(name);
        expectError(await call('GET', `/leader/_ccr/auto_follow/${name}`), 404, 'resource_not_found_exception', /is missing on \[leader\]/);

        const leaderIndex = `${prefix}-1`;
        pair.track('leader', leaderIndex);
        pair.track('follower', `${leaderIndex}-copy`);
        await createLeaderIndex(pair.leader, leaderIndex);
        await pair.leader.writeDocuments(leaderIndex, [{ op: 'index', id: 'x', source: { n: 1 } }], { refresh: true });
        await waitFor(() => pair.daemon.manager.has(`follower/${leaderIndex}-copy`), { timeoutMs: 60_000, message: 'the new index to be auto-followed' });
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, `${leaderIndex}-copy`);
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, `${leaderIndex}-copy`)).to.deep.equal([]);
        const settings = await pair.follower.raw<Record<string, { settings: { index: Record<string, unknown> } }>>('read settings', { method: 'GET', path: `/${leaderIndex}-copy/_settings` });
        expect(settings.body[`${leaderIndex}-copy`]!.settings.index, 'the pattern\'s settings on the follower it created').to.include({ refresh_interval: '2s', number_of_replicas: '0' });

        expect((await call('POST', `/follower/_ccr/auto_follow/${name}/pause`)).body).to.deep.equal({ acknowledged: true });
        expect((await call<{ patterns: { pattern: { active: boolean } }[] }>('GET', `/_ccr/auto_follow/${name}`)).body.patterns[0]!.pattern.active).to.equal(false);
        expect((await call('POST', `/follower/_ccr/auto_follow/${name}/resume`)).body).to.deep.equal({ acknowledged: true });
        expect((await call('DELETE', `/follower/_ccr/auto_follow/${name}`)).body).to.deep.equal({ acknowledged: true });
        expectError(await call('GET', `/follower/_ccr/auto_follow/${name}`), 404, 'resource_not_found_exception', /is missing/);
        await pair.daemon.manager.pause(`follower/${leaderIndex}-copy`);
        await pair.daemon.manager.unfollow(`follower/${leaderIndex}-copy`);
      });

      it('follows a backing index of a data stream, exposed under data_stream_name on the follower', async () => {
        const p = uniqueName('ds');
        const stream = `${p}-stream`;
        await pair.leader.raw('put index template', {
          method: 'PUT', path: `/_index_template/${p}-template`,
          body: { index_patterns: [`${p}-stream*`], data_stream: {}, template: { settings: { 'index.number_of_shards': 1, 'index.number_of_replicas': 0 }, mappings: { properties: { '@timestamp': { type: 'date' }, n: { type: 'integer' } } } } },
        });
        const lines = Array.from({ length: 50 }, (_, i) => `{"create":{}}\n${JSON.stringify({ '@timestamp': new Date(Date.UTC(2026, 11, 7, 0, 0, i)).toISOString(), n: i })}\n`);
        expect((await pair.leader.raw<{ errors: boolean }>('write to the stream', { method: 'POST', path: `/${stream}/_bulk`, query: { refresh: 'true' }, ndjson: lines.join('') })).body.errors).to.equal(false);
        const resolved = await pair.leader.raw<{ data_streams: { backing_indices: string[] }[] }>('resolve', { method: 'GET', path: `/_resolve/index/${stream}`, query: { expand_wildcards: 'all' } });
        const backing = resolved.body.data_streams[0]!.backing_indices[0]!;
        pair.track('follower', backing);
        const renamed = `${p}-copy`;

        expect(await call('PUT', `/follower/${backing}/_ccr/follow`, { remote_cluster: 'leader', leader_index: backing, data_stream_name: renamed }))
          .to.deep.include({ status: 200 });
        await waitForCaughtUp(pair.daemon, pair.leader, backing, backing);
        expect(await compareIndices(pair.leader, backing, pair.follower, backing)).to.deep.equal([]);
        await pair.follower.refresh(backing);
        const count = await pair.follower.raw<{ count: number }>('count by the new name', { method: 'GET', path: `/${renamed}/_count` });
        expect(count.body.count, 'documents under data_stream_name on the follower').to.equal(50);
        await pair.daemon.manager.pause(`follower/${backing}`);
        await pair.daemon.manager.unfollow(`follower/${backing}`);
      });

      it('refuses bad input with CCR\'s error shape and changes nothing', async () => {
        const leaderIndex = await leaderWith(1);
        const followerIndex = uniqueName('follower');
        pair.track('follower', followerIndex);
        const good = { remote_cluster: 'leader', leader_index: leaderIndex };
        const before = await everything();
        const refusals: [Answer, number, string, RegExp][] = [
          [await call('PUT', `/follower/${followerIndex}/_ccr/follow?pretty_please=1`, good), 400, 'illegal_argument_exception', /unrecognized parameter: \[pretty_please\]/],
          [await call('PUT', `/follower/${followerIndex}/_ccr/follow?wait_for_active_shards=lots`, good), 400, 'illegal_argument_exception', /wait_for_active_shards/],
          [await call('PUT', `/follower/${followerIndex}/_ccr/follow?master_timeout=soon`, good), 400, 'illegal_argument_exception', /as a time value/],
          [await call('PUT', `/follower/${followerIndex}/_ccr/follow?timeout=1s`, good), 400, 'illegal_argument_exception', /unrecognized parameter: \[timeout\]/],
          [await call('PUT', `/follower/${followerIndex}/_ccr/follow`, { ...good, settings: { 'index.number_of_shards': 1 } }), 400, 'illegal_argument_exception', /cannot set \[index.number_of_shards\]/],
          [await call('PUT', `/follower/${followerIndex}/_ccr/follow`, { ...good, data_stream_name: 'x' }), 400, 'illegal_argument_exception', /\[data_stream_name\] \[x\] is given, but leader index \[.*\] is not a backing index of a data stream/],
          [await call('PUT', `/follower/${followerIndex}/_ccr/follow`, { ...good, data_stream_name: 'Bad' }), 400, 'illegal_argument_exception', /invalid data stream name \[Bad\]/],
          [await call('PUT', `/follower/${followerIndex}/_ccr/follow`, { ...good, max_read_request_size: 'big' }), 400, 'illegal_argument_exception', /max_read_request_size/],
          [await call('PUT', `/follower/${followerIndex}/_ccr/follow`, { remote_cluster: 'leader' }), 400, 'illegal_argument_exception', /needs \[leader_index\]/],
          [await call('POST', `/follower/${followerIndex}/_ccr/pause_follow`), 404, 'resource_not_found_exception', /is not a follower index/],
          [await call('GET', `/follower/${followerIndex}/_ccr/stats?master_timeout=1s`), 400, 'illegal_argument_exception', /unrecognized parameter: \[master_timeout\]/],
          [await call('GET', '/follower/_ccr/stats?timeout=forever'), 400, 'illegal_argument_exception', /as a time value/],
          [await call('PUT', '/follower/_ccr/auto_follow/p1', { remote_cluster: 'leader', leader_index_patterns: ['x-*'], follower_cluster: 'leader' }), 400, 'illegal_argument_exception', /follower_cluster/],
          [await call('DELETE', `/follower/_ccr/auto_follow/${uniqueName('nope')}`), 404, 'resource_not_found_exception', /is missing/],
          [await call('PUT', '/follower/_ccr/auto_follow/p2', { remote_cluster: 'leader', leader_index_patterns: ['x-*'], settings: { 'index.number_of_shards': 2 } }), 400, 'illegal_argument_exception', /cannot set \[index.number_of_shards\] on a follower index/],
        ];
        for (const [answer, status, type, reason] of refusals) expectError(answer, status, type, reason);
        expect(await everything()).to.deep.equal(before);
        expect(await pair.follower.indexExists(followerIndex), 'no follower index created').to.equal(false);
      });
    });
  }
});
