/**
 * `ccr-follow auto-follow put | list | pause | resume | delete` against a real daemon (in this
 * process, reached over HTTP through --url): what the user types, what they read, the exit codes.
 */
import { expect } from 'chai';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AutoFollowPatternView } from '../../src/autofollow/auto-follow-coordinator.js';
import { ExitCodes } from '../../src/cli/exit-codes.js';
import { main, type CliIo } from '../../src/cli/main.js';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { ClusterConfig } from '../../src/cluster/cluster-config.js';
import { ClusterRegistry } from '../../src/cluster/cluster-registry.js';
import { defaultConfig } from '../../src/daemon/config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/util/logger.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import { connect, createLeaderIndex } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

interface Run { readonly code: number; readonly out: string; readonly err: string }

describe('the auto-follow commands', function () {
  this.timeout(120_000);
  let daemon: Daemon;
  let leader: ClusterClient;
  let follower: ClusterClient;
  const leaderIndices: string[] = [];

  async function run(...argv: string[]): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, cwd: tmpdir() };
    const code = await main(['--url', daemon.url, ...argv], io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  before(async () => {
    const pair = (await testClusters()).pair('elasticsearch', 'elasticsearch');
    const dir = await mkdtemp(join(tmpdir(), 'ccr-follow-state-'));
    const clusters = new Map<string, ClusterConfig>([['leader', pair.leader.clusterConfig('leader')], ['follower', pair.follower.clusterConfig('follower')]]);
    daemon = await Daemon.start({
      config: { ...defaultConfig(dir), clusters, stateDir: dir, control: { host: '127.0.0.1', port: 0 } },
      logger: silentLogger, clusters: new ClusterRegistry(clusters), autoFollowPollIntervalMs: 300,
    });
    [leader, follower] = await Promise.all([connect(pair.leader, 'leader'), connect(pair.follower, 'follower')]);
  });

  after(async () => {
    for (const f of daemon?.manager.info() ?? []) {
      if (!leaderIndices.includes(f.leader_index)) continue;
      await daemon.manager.pause(`follower/${f.follower_index}`).catch(() => undefined);
      await daemon.manager.unfollow(`follower/${f.follower_index}`).catch(() => undefined);
      await follower.deleteIndex(f.follower_index).catch(() => undefined);
    }
    await Promise.allSettled(leaderIndices.map((i) => leader.deleteIndex(i)));
    await daemon?.stop();
    await Promise.all([leader?.close(), follower?.close()]);
  });

  it('puts, lists, pauses, resumes and deletes a pattern, with follow parameters', async () => {
    const p = uniqueName('afcli');
    const name = `${p}-daily`;
    const existing = `${p}-logs-0`;
    await createLeaderIndex(leader, existing, { shards: 1 });
    leaderIndices.push(existing);

    const put = await run('auto-follow', 'put', name, '--remote', 'leader', '--pattern', `${p}-logs-*`, '--pattern', `${p}-metrics-*`,
      '--exclude', `${p}-logs-debug-*`, '--follow-index-pattern', '{{leader_index}}-replica', '--max-read-request-size', '1mb');
    expect(put, put.err).to.deep.include({ code: ExitCodes.ok, err: '' });
    expect(put.out).to.equal(`auto-follow pattern ${name}: new indices on leader matching ${p}-logs-*, ${p}-metrics-* (except ${p}-logs-debug-*) `
      + 'will be followed into follower/{{leader_index}}-replica; the 1 matching index that exists now is left alone');

    const index = `${p}-metrics-1`;
    leaderIndices.push(index);
    await createLeaderIndex(leader, index, { shards: 1 });
    await waitFor(() => daemon.manager.info().find((f) => f.leader_index === index), { timeoutMs: 60_000, message: `a follower of ${index}` });

    const json = await run('auto-follow', 'list', '--json');
    expect(json.code).to.equal(ExitCodes.ok);
    const [view] = (JSON.parse(json.out) as { patterns: AutoFollowPatternView[] }).patterns.filter((v) => v.name === name);
    expect(view?.pattern).to.deep.equal({
      active: true, remote_cluster: 'leader', follower_cluster: 'follower', leader_index_patterns: [`${p}-logs-*`, `${p}-metrics-*`],
      leader_index_exclusion_patterns: [`${p}-logs-debug-*`], follow_index_pattern: '{{leader_index}}-replica', max_read_request_size: 1024 * 1024,
    });
    expect(view?.stats.followed_indices).to.deep.equal([{ leader_index: index, follower_index: `${index}-replica` }]);

    const table = await run('auto-follow', 'list');
    const row = table.out.split('\n').find((l) => l.startsWith(name));
    expect(row).to.match(new RegExp(`^${name}\\s+active\\s+leader\\s+.*follower/\\{\\{leader_index\\}\\}-replica\\s+1\\s+0\\s+0$`));

    const state = async (): Promise<string | undefined> => (await run('auto-follow', 'list')).out.split('\n').find((l) => l.startsWith(name))?.split(/\s+/)[1];
    expect(await run('auto-follow', 'pause', name)).to.deep.include({
      code: ExitCodes.ok, err: '', out: `paused auto-follow pattern ${name}: its followers keep following, new indices are not followed`,
    });
    expect(await state()).to.equal('paused');
    // Pausing a paused pattern (resuming an active one) is what was asked for already: as CCR
    // answers, not an error; the command says so.
    expect(await run('auto-follow', 'pause', name)).to.deep.include({ code: ExitCodes.ok, err: '', out: `auto-follow pattern ${name} is already paused` });
    expect(await state()).to.equal('paused');
    expect(await run('auto-follow', 'resume', name)).to.deep.include({ code: ExitCodes.ok, err: '', out: `resumed auto-follow pattern ${name}` });
    expect(await state()).to.equal('active');
    expect(await run('auto-follow', 'resume', name)).to.deep.include({ code: ExitCodes.ok, err: '', out: `auto-follow pattern ${name} is already active` });
    expect(await state()).to.equal('active');
    const deleted = await run('auto-follow', 'delete', name);
    expect(deleted).to.deep.include({ code: ExitCodes.ok, out: `deleted auto-follow pattern ${name}: the followers it started keep following` });
    expect(daemon.manager.info().find((f) => f.leader_index === index)?.status, 'the follower it started').to.equal('active');
    expect((await run('auto-follow', 'list')).out).not.to.include(name);
  });

  it('refuses bad usage with exit 2, and what the daemon refuses with exit 1 and its reason', async () => {
    const missing = await run('auto-follow', 'put', 'x', '--pattern', 'a-*');
    expect(missing.code).to.equal(ExitCodes.usage);
    expect(missing.err).to.include("required option '--remote <cluster>' not specified");
    const badParam = await run('auto-follow', 'put', 'x', '--remote', 'leader', '--pattern', 'a-*', '--max-retry-delay', 'soon');
    expect(badParam.code).to.equal(ExitCodes.usage);

    const unknownCluster = await run('auto-follow', 'put', 'x', '--remote', 'nowhere', '--pattern', 'a-*');
    expect(unknownCluster.code).to.equal(ExitCodes.failed);
    expect(unknownCluster.err).to.match(/^error: unknown_cluster_exception: unknown cluster alias \[nowhere\]/);
    const badTemplate = await run('auto-follow', 'put', 'x', '--remote', 'leader', '--pattern', 'a-*', '--follow-index-pattern', 'copy');
    expect(badTemplate.code).to.equal(ExitCodes.failed);
    expect(badTemplate.err).to.include('must contain {{leader_index}}');
    const unknownPattern = await run('auto-follow', 'pause', 'no-such-pattern');
    expect(unknownPattern).to.deep.include({ code: ExitCodes.failed, err: 'error: resource_not_found_exception: auto-follow pattern [no-such-pattern] is missing' });
    expect((await run('auto-follow', 'delete', 'no-such-pattern')).code).to.equal(ExitCodes.failed);
  });
});
