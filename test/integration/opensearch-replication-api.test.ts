/**
 * OpenSearch's cross-cluster-replication API (`_plugins/_replication`), driven by the official
 * OpenSearch JS client's `replication` namespace given the daemon with the follower cluster as
 * path prefix (`http://<daemon>/follower`) as its node: a full cycle (start, status until SYNCING,
 * pause, resume, follower and leader stats, update settings, stop, an auto-follow rule that follows
 * a new index, its stats, the rule deleted); a follow started through one API steered through the
 * other; bad input answered with the plugin's error shape and nothing changed. For an
 * Elasticsearch 8 and an OpenSearch 2 follower.
 */
import { Client } from '@opensearch-project/opensearch';
import { expect } from 'chai';
import { uniqueName } from '../helpers/clusters.js';
import { SAME_FLAVOR_PAIRS, pairTitle, useFollowPair } from '../helpers/follow-fixture.js';
import { compareIndices, createLeaderIndex, waitForCaughtUp } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

interface Status {
  status: string; reason?: string; leader_alias?: string; leader_index?: string; follower_index?: string;
  syncing_details?: { leader_checkpoint: number; follower_checkpoint: number; seq_no: number };
}

/** What the client throws for an error answer: the status and the body as the server sent them. */
async function refusal(request: Promise<unknown>): Promise<{ status: number; body: { error: { root_cause: { type: string; reason: string }[]; type: string; reason: string }; status: number } }> {
  try {
    await request;
  } catch (err) {
    const meta = (err as { meta?: { statusCode?: number; body?: unknown } }).meta;
    if (meta?.statusCode !== undefined) return { status: meta.statusCode, body: meta.body as never };
    throw err;
  }
  throw new Error('the request was accepted');
}

function expectError(answer: Awaited<ReturnType<typeof refusal>>, status: number, type: string, reason: RegExp): void {
  expect(answer.status, JSON.stringify(answer.body)).to.equal(status);
  expect(answer.body.status).to.equal(status);
  expect(answer.body.error.type).to.equal(type);
  expect(answer.body.error.reason).to.match(reason);
  expect(answer.body.error.root_cause).to.deep.equal([{ type, reason: answer.body.error.reason }]);
}

describe('the OpenSearch replication plugin API, through the official client', function () {
  this.timeout(300_000);

  for (const flavors of SAME_FLAVOR_PAIRS) {
    describe(pairTitle(flavors), () => {
      const pair = useFollowPair(flavors);
      let follower: Client | undefined;
      let leader: Client | undefined;
      after(async () => Promise.all([follower?.close(), leader?.close()]));

      /** The client as a user would make it, pointed at the daemon with the cluster alias as prefix. */
      function client(alias: 'follower' | 'leader'): Client {
        if (alias === 'follower') return (follower ??= new Client({ node: `${pair.daemon.url}/follower` }));
        return (leader ??= new Client({ node: `${pair.daemon.url}/leader` }));
      }

      async function status(index: string): Promise<Status> {
        return (await client('follower').replication.status({ index })).body as Status;
      }

      async function ccr<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
        const res = await fetch(`${pair.daemon.url}${path}`, {
          method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
          signal: AbortSignal.timeout(60_000),
        });
        return { status: res.status, body: await res.json() as T };
      }

      async function leaderWith(docs: number): Promise<string> {
        const leaderIndex = uniqueName('leader');
        pair.track('leader', leaderIndex);
        await createLeaderIndex(pair.leader, leaderIndex);
        if (docs > 0) await pair.leader.writeDocuments(leaderIndex, Array.from({ length: docs }, (_, i) => ({ op: 'index' as const, id: `d${i}`, source: { n: i } })), { refresh: true });
        return leaderIndex;
      }

      async function syncing(index: string): Promise<Status> {
        return waitFor(async () => {
          const s = await status(index);
          return s.status === 'SYNCING' && s.syncing_details!.leader_checkpoint === s.syncing_details!.follower_checkpoint ? s : false;
        }, { timeoutMs: 120_000, message: `${index} to be SYNCING and caught up` });
      }

      it('drives a full cycle: start, status until SYNCING, pause, resume, stats, update, stop', async () => {
        const leaderIndex = await leaderWith(120);
        const followerIndex = uniqueName('follower');
        pair.track('follower', followerIndex);
        const repl = client('follower').replication;

        const started = await repl.start({
          index: followerIndex,
          body: { leader_alias: 'leader', leader_index: leaderIndex, use_roles: { leader_cluster_role: 'all_access', follower_cluster_role: 'all_access' } },
        });
        expect(started.body).to.deep.equal({ acknowledged: true });
        const synced = await syncing(followerIndex);
        expect(synced).to.deep.include({ status: 'SYNCING', reason: 'User initiated', leader_alias: 'leader', leader_index: leaderIndex, follower_index: followerIndex });
        // Summed over the 3 shards: 120 documents are seq_nos 0..119 spread over them.
        expect(synced.syncing_details!.leader_checkpoint).to.equal(120 - 3);
        expect(synced.syncing_details!.seq_no).to.equal(120 - 3);
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).to.deep.equal([]);

        // Counters are those of the shard tasks since they (re)started, as in CCR: read them before the pause.
        const stats = (await repl.followerStats()).body as Record<string, unknown> & { index_stats: Record<string, Record<string, number>> };
        for (const field of ['num_syncing_indices', 'num_bootstrapping_indices', 'num_paused_indices', 'num_failed_indices', 'num_shard_tasks', 'num_index_tasks',
          'operations_written', 'operations_read', 'failed_read_requests', 'throttled_read_requests', 'failed_write_requests', 'throttled_write_requests',
          'follower_checkpoint', 'leader_checkpoint', 'total_write_time_millis']) expect(typeof stats[field], field).to.equal('number');
        expect(stats['num_syncing_indices']).to.be.at.least(1);
        const mine = stats.index_stats[followerIndex]!;
        expect(mine['operations_written']).to.equal(120);
        expect(mine['leader_checkpoint']).to.equal(mine['follower_checkpoint']);
        expect(Object.keys(mine).sort()).to.deep.equal(['failed_read_requests', 'failed_write_requests', 'follower_checkpoint', 'leader_checkpoint',
          'operations_read', 'operations_written', 'throttled_read_requests', 'throttled_write_requests', 'total_write_time_millis']);

        const leaderStats = (await client('leader').replication.leaderStats()).body as Record<string, unknown> & { index_stats: Record<string, Record<string, number>> };
        expect(leaderStats['num_replicated_indices']).to.be.at.least(1);
        expect(leaderStats.index_stats[leaderIndex]).to.include({ operations_read: 120, operations_read_lucene: 120, operations_read_translog: 0 });
        expect(leaderStats.index_stats[leaderIndex]!['bytes_read']).to.be.above(0);

        expect((await repl.pause({ index: followerIndex, body: {} })).body).to.deep.equal({ acknowledged: true });
        expect(await status(followerIndex)).to.deep.equal({ status: 'PAUSED', reason: 'User initiated', leader_alias: 'leader', leader_index: leaderIndex, follower_index: followerIndex });
        await pair.leader.writeDocuments(leaderIndex, [{ op: 'index', id: 'late', source: { n: -1 } }], { refresh: true });
        expect((await repl.resume({ index: followerIndex, body: {} })).body).to.deep.equal({ acknowledged: true });
        await syncing(followerIndex);
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, followerIndex);
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).to.deep.equal([]);

        const resumed = ((await repl.followerStats()).body as { index_stats: Record<string, Record<string, number>> }).index_stats[followerIndex]!;
        expect(resumed['operations_written'], 'the one document written while paused').to.equal(1);
        expect(resumed['leader_checkpoint']).to.equal(resumed['follower_checkpoint']);

        expect((await repl.updateSettings({ index: followerIndex, body: { settings: { 'index.number_of_replicas': 0, index: { refresh_interval: '2s' } } as never } })).body)
          .to.deep.equal({ acknowledged: true });
        const settings = await pair.follower.raw<Record<string, { settings: { index: Record<string, unknown> } }>>('read settings', { method: 'GET', path: `/${followerIndex}/_settings` });
        expect(settings.body[followerIndex]!.settings.index).to.include({ number_of_replicas: '0', refresh_interval: '2s' });

        expect((await repl.stop({ index: followerIndex, body: {} })).body).to.deep.equal({ acknowledged: true });
        expectError(await refusal(repl.status({ index: followerIndex })), 400, 'illegal_argument_exception', new RegExp(`No replication in progress for index:${followerIndex}`));
        expect(await pair.follower.indexExists(followerIndex), 'an ordinary index now').to.equal(true);
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, followerIndex)).to.deep.equal([]);
      });

      it('creates a replication rule that follows a new index, reports it in autofollow_stats, and deletes it', async () => {
        const name = uniqueName('rule');
        const prefix = uniqueName('movies');
        const repl = client('follower').replication;
        expect((await repl.createReplicationRule({ body: { leader_alias: 'leader', name, pattern: `${prefix}*`, use_roles: { leader_cluster_role: 'r', follower_cluster_role: 'r' } } })).body)
          .to.deep.equal({ acknowledged: true });
        const leaderIndex = `${prefix}-1`;
        pair.track('leader', leaderIndex);
        pair.track('follower', leaderIndex);
        await createLeaderIndex(pair.leader, leaderIndex);
        await pair.leader.writeDocuments(leaderIndex, [{ op: 'index', id: 'a', source: { n: 1 } }, { op: 'index', id: 'b', source: { n: 2 } }], { refresh: true });
        await waitFor(async () => (await status(leaderIndex).catch(() => undefined))?.status === 'SYNCING', { timeoutMs: 90_000, message: 'the new index to be followed by the rule' });
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, leaderIndex);
        expect(await compareIndices(pair.leader, leaderIndex, pair.follower, leaderIndex)).to.deep.equal([]);

        const stats = (await repl.autofollowStats()).body as { num_success_start_replication: number; autofollow_stats: Record<string, unknown>[] } & Record<string, unknown>;
        for (const field of ['num_success_start_replication', 'num_failed_start_replication', 'num_failed_leader_calls']) expect(typeof stats[field], field).to.equal('number');
        expect(stats['failed_indices']).to.be.an('array');
        expect(stats.autofollow_stats.find((r) => r['name'] === name)).to.deep.equal({
          name, pattern: `${prefix}*`, leader_alias: 'leader', num_success_start_replication: 1, num_failed_start_replication: 0, num_failed_leader_calls: 0, failed_indices: [],
        });
        // The rule is CCR's auto-follow pattern under the same name.
        const pattern = await ccr<{ patterns: { pattern: Record<string, unknown> }[] }>('GET', `/follower/_ccr/auto_follow/${name}`);
        expect(pattern.body.patterns[0]!.pattern).to.deep.include({ remote_cluster: 'leader', leader_index_patterns: [`${prefix}*`], follow_index_pattern: '{{leader_index}}' });

        expect((await repl.deleteReplicationRule({ body: { leader_alias: 'leader', name } })).body).to.deep.equal({ acknowledged: true });
        const after = (await repl.autofollowStats()).body as { autofollow_stats: { name: string }[] };
        expect(after.autofollow_stats.map((r) => r.name)).to.not.include(name);
        expect((await repl.stop({ index: leaderIndex, body: {} })).body).to.deep.equal({ acknowledged: true });
      });

      it('pauses with one API a follow started with the other, and the other way round', async () => {
        const leaderIndex = await leaderWith(40);
        const repl = client('follower').replication;

        const viaCcr = uniqueName('follower');
        pair.track('follower', viaCcr);
        expect((await ccr('PUT', `/follower/${viaCcr}/_ccr/follow?wait_for_active_shards=1`, { remote_cluster: 'leader', leader_index: leaderIndex })).status).to.equal(200);
        await syncing(viaCcr);
        await repl.pause({ index: viaCcr, body: {} });
        expect((await ccr<{ follower_indices: { status: string }[] }>('GET', `/follower/${viaCcr}/_ccr/info`)).body.follower_indices[0]!.status).to.equal('paused');
        expect((await ccr('POST', `/follower/${viaCcr}/_ccr/resume_follow`)).status).to.equal(200);
        expect((await syncing(viaCcr)).follower_index).to.equal(viaCcr);

        const viaPlugin = uniqueName('follower');
        pair.track('follower', viaPlugin);
        await repl.start({ index: viaPlugin, body: { leader_alias: 'leader', leader_index: leaderIndex } });
        await syncing(viaPlugin);
        expect((await ccr('POST', `/follower/${viaPlugin}/_ccr/pause_follow`)).status).to.equal(200);
        expect((await status(viaPlugin)).status).to.equal('PAUSED');
        await repl.resume({ index: viaPlugin, body: {} });
        expect((await ccr<{ follower_indices: { status: string }[] }>('GET', `/follower/${viaPlugin}/_ccr/info`)).body.follower_indices[0]!.status).to.equal('active');
        await waitForCaughtUp(pair.daemon, pair.leader, leaderIndex, viaPlugin);
        for (const index of [viaCcr, viaPlugin]) expect(await compareIndices(pair.leader, leaderIndex, pair.follower, index), index).to.deep.equal([]);
        for (const index of [viaCcr, viaPlugin]) await repl.stop({ index, body: {} });
      });

      it('refuses bad input with the plugin\'s error shape and changes nothing', async () => {
        const leaderIndex = await leaderWith(5);
        const running = uniqueName('follower');
        const paused = uniqueName('follower');
        const unknown = uniqueName('follower');
        for (const index of [running, paused, unknown]) pair.track('follower', index);
        const repl = client('follower').replication;
        await repl.start({ index: running, body: { leader_alias: 'leader', leader_index: leaderIndex } });
        await repl.start({ index: paused, body: { leader_alias: 'leader', leader_index: leaderIndex } });
        await syncing(paused);
        await repl.pause({ index: paused, body: {} });
        const rule = uniqueName('rule');
        await repl.createReplicationRule({ body: { leader_alias: 'leader', name: rule, pattern: `${uniqueName('none')}*` } });

        const everything = async (): Promise<unknown> => ({
          info: (await ccr('GET', '/_ccr/info')).body,
          patterns: (await ccr<{ patterns: { name: string; pattern: unknown }[] }>('GET', '/_ccr/auto_follow')).body.patterns.map((p) => [p.name, p.pattern]),
          settings: (await pair.follower.raw('read settings', { method: 'GET', path: `/${running}/_settings` })).body,
        });
        const before = await everything();
        const refusals: [Promise<unknown>, number, string, RegExp][] = [
          [repl.start({ index: unknown, body: { leader_alias: 'leader' } as never }), 400, 'illegal_argument_exception', /needs \[leader_index\]/],
          [repl.start({ index: unknown, body: { leader_alias: 'leader', leader_index: leaderIndex, follow: true } as never }), 400, 'illegal_argument_exception', /unknown parameter.*\[follow\]/],
          [repl.start({ index: unknown, body: { leader_alias: 'leader', leader_index: leaderIndex, use_roles: { leader_cluster_role: 7 } } as never }), 400, 'illegal_argument_exception', /leader_cluster_role/],
          [repl.start({ index: unknown, body: { leader_alias: 'nowhere', leader_index: leaderIndex } }), 400, 'unknown_cluster_exception', /nowhere/],
          [repl.start({ index: running, body: { leader_alias: 'leader', leader_index: leaderIndex } }), 400, 'resource_already_exists_exception', /already a follower index/],
          [repl.start({ index: 'Bad*Name', body: { leader_alias: 'leader', leader_index: leaderIndex } }), 400, 'illegal_argument_exception', /invalid follower index name/],
          [repl.pause({ index: unknown, body: {} }), 400, 'illegal_argument_exception', new RegExp(`No replication in progress for index:${unknown}`)],
          [repl.pause({ index: paused, body: {} }), 400, 'resource_already_exists_exception', new RegExp(`Index ${paused} is already paused`)],
          [repl.resume({ index: running, body: {} }), 400, 'resource_already_exists_exception', new RegExp(`Replication on Index ${running} is already running`)],
          [repl.resume({ index: paused, body: { now: true } as never }), 400, 'illegal_argument_exception', /takes no parameters/],
          [repl.stop({ index: unknown, body: {} }), 400, 'illegal_argument_exception', /No replication in progress/],
          [repl.status({ index: unknown }), 400, 'illegal_argument_exception', /No replication in progress/],
          [repl.updateSettings({ index: running, body: { settings: { 'index.number_of_shards': 4 } } }), 400, 'illegal_argument_exception', /cannot set \[index.number_of_shards\]/],
          [repl.updateSettings({ index: running, body: {} as never }), 400, 'illegal_argument_exception', /needs \[settings\]/],
          [repl.updateSettings({ index: unknown, body: { settings: { 'index.number_of_replicas': 0 } } }), 400, 'illegal_argument_exception', /No replication in progress/],
          [repl.createReplicationRule({ body: { leader_alias: 'leader', name: rule } as never }), 400, 'illegal_argument_exception', /needs \[pattern\]/],
          [repl.createReplicationRule({ body: { leader_alias: 'leader', name: '_bad', pattern: 'x*' } }), 400, 'illegal_argument_exception', /invalid auto-follow pattern name/],
          [repl.deleteReplicationRule({ body: { leader_alias: 'leader', name: uniqueName('nope') } }), 404, 'resource_not_found_exception', /no replication rule/],
          [repl.deleteReplicationRule({ body: { leader_alias: 'other', name: rule } }), 404, 'resource_not_found_exception', /no replication rule .* from \[other\]/],
          [repl.followerStats({ verbose: true } as never), 400, 'illegal_argument_exception', /unrecognized parameter: \[verbose\]/],
        ];
        for (const [request, code, type, reason] of refusals) expectError(await refusal(request), code, type, reason);
        expect(await everything()).to.deep.equal(before);
        expect(await pair.follower.indexExists(unknown), 'no index created').to.equal(false);

        await repl.deleteReplicationRule({ body: { leader_alias: 'leader', name: rule } });
        for (const index of [running, paused]) await repl.stop({ index, body: {} });
      });
    });
  }
});
