/**
 * Fleet commands and `start --wait`, through the real command (`bin/ccr-follow.js` in a child
 * process, no terminal, so plain-line output): `pause --match` pauses exactly the matching
 * followers and reports each, `resume --match` resumes them, and `start --wait` on a leader with
 * 50,000 documents returns once the follower holds all of them.
 */
import { expect } from 'chai';
import type { DocumentWrite } from '../../src/cluster/types.js';
import type { FollowerInfo } from '../../src/follow/follow-manager.js';
import { spawn } from 'node:child_process';
import { CLI_PATH, REPO_ROOT, runCli } from '../helpers/cli-process.js';
import { uniqueName } from '../helpers/clusters.js';
import { FLAVOR_PAIRS, pairTitle, useFollowPair } from '../helpers/follow-fixture.js';
import { countDocs, createLeaderIndex, waitForCaughtUp } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

/** Runs the command in a pseudo-terminal (util-linux `script`), as a user at a terminal would. */
function runInPty(args: readonly string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const quote = (a: string): string => `'${a.replaceAll("'", "'\\''")}'`;
  const command = [process.execPath, CLI_PATH, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('fleet commands and start --wait', function () {
  this.timeout(300_000);
  const flavors = FLAVOR_PAIRS[0]!;
  describe(pairTitle(flavors), () => {
    const pair = useFollowPair(flavors);
    const cli = (...args: string[]): ReturnType<typeof runCli> => runCli(['--url', pair.daemon.url, ...args], { timeoutMs: 240_000 });

    it('pauses exactly the followers --match selects, reports each, and resumes them', async () => {
      const tag = uniqueName('fleet');
      const names = [`${tag}-logs-a`, `${tag}-logs-b`, `${tag}-metrics-a`];
      for (const name of names) {
        pair.track('leader', name);
        pair.track('follower', name);
        await createLeaderIndex(pair.leader, name, { shards: 1 });
        await pair.leader.writeDocuments(name, [{ op: 'index', id: '1', source: { n: 1 } }]);
        await pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex: name, followerCluster: 'follower', followerIndex: name });
      }
      for (const name of names) await waitForCaughtUp(pair.daemon, pair.leader, name, name);

      const paused = await cli('pause', '--match', `${tag}-logs-*`);
      expect(paused.code, paused.stderr).to.equal(0);
      expect(paused.stdout).to.match(new RegExp(`follower/${tag}-logs-a +paused`));
      expect(paused.stdout).to.match(new RegExp(`follower/${tag}-logs-b +paused`));
      expect(paused.stdout).not.to.include('metrics-a');
      expect(paused.stdout).to.include('2 of 2 done');
      const status = (name: string): string => pair.daemon.manager.info(`follower/${name}`)[0]!.status;
      expect(names.map(status)).to.deep.equal(['paused', 'paused', 'active']);

      // Again: both are already paused, which is what was asked for: said so, and exit 0.
      const again = await cli('pause', '--match', `follower/${tag}-logs-*`);
      expect(again.code, again.stdout).to.equal(0);
      expect(again.stdout).to.match(new RegExp(`^follower/${tag}-logs-a +already paused$`, 'm'));
      expect(again.stdout).to.match(new RegExp(`^follower/${tag}-logs-b +already paused$`, 'm'));
      expect(again.stdout.trim().split('\n').at(-1)).to.equal('2 of 2 done (2 already paused)');
      // pause --all over followers some of which are paused: the others are paused, exit 0.
      const pausedAll = await cli('pause', '--all');
      expect(pausedAll.code, pausedAll.stdout).to.equal(0);
      expect(pausedAll.stdout).to.match(new RegExp(`^follower/${tag}-logs-a +already paused$`, 'm'));
      expect(pausedAll.stdout).to.match(new RegExp(`^follower/${tag}-metrics-a +paused$`, 'm'));
      expect(pausedAll.stdout).not.to.include('failed');
      expect(names.map(status)).to.deep.equal(['paused', 'paused', 'paused']);
      // A follower named alone keeps CCR's answer.
      const single = await cli('pause', `follower/${tag}-logs-a`);
      expect(single.code).to.equal(1);
      expect(single.stderr).to.include('illegal_state_exception');

      const usage = await cli('pause', '--all', '--match', 'x');
      expect(usage.code).to.equal(2);

      // As reported: two of three paused, then resume --all. The third is already following.
      const resumedMetrics = await cli('resume', `follower/${tag}-metrics-a`);
      expect(resumedMetrics.code, resumedMetrics.stderr).to.equal(0);
      const total = pair.daemon.manager.info().length;
      const resumed = await cli('resume', '--all');
      expect(resumed.code, resumed.stdout).to.equal(0);
      expect(resumed.stdout).to.match(new RegExp(`^follower/${tag}-logs-a +resumed$`, 'm'));
      expect(resumed.stdout).to.match(new RegExp(`^follower/${tag}-logs-b +resumed$`, 'm'));
      expect(resumed.stdout).to.match(new RegExp(`^follower/${tag}-metrics-a +already following$`, 'm'));
      expect(resumed.stdout.trim().split('\n').at(-1)).to.equal(`${total} of ${total} done (1 already following)`);
      expect(names.map(status)).to.deep.equal(['active', 'active', 'active']);
      const single2 = await cli('resume', `follower/${tag}-metrics-a`);
      expect(single2.code).to.equal(1);
      expect(single2.stderr).to.include('illegal_state_exception');

      // Parameters given to a resume are part of the state asked for: not applied to a follower
      // already following, so it counts as resumed only if it has them already.
      const sameParams = await cli('resume', '--match', `${tag}-logs-a`, '--max-retry-delay', '500ms');
      expect(sameParams.code, sameParams.stdout).to.equal(0);
      expect(sameParams.stdout).to.match(new RegExp(`^follower/${tag}-logs-a +already following$`, 'm'));
      const otherParams = await cli('resume', '--match', `${tag}-logs-a`, '--max-retry-delay', '2s');
      expect(otherParams.code, otherParams.stdout).to.equal(1);
      expect(otherParams.stdout).to.include('failed: illegal_state_exception').and.to.include('pause it first to change them');
      expect(pair.daemon.manager.info(`follower/${tag}-logs-a`)[0]!.parameters.max_retry_delay).to.equal(500);

      // Without a terminal, --watch appends time-stamped frames.
      const watched = await cli('stats', `follower/${tag}-logs-a`, '--watch', '--interval', '200ms', '--count', '2');
      expect(watched.code, watched.stderr).to.equal(0);
      const frames = watched.stdout.split(/^--- \S+$/m).filter((f) => f.trim() !== '');
      expect(frames).to.have.length(2);
      for (const f of frames) expect(f).to.include(`follower/${tag}-logs-a`).and.to.include('LAG OPS');
      expect(watched.stdout).not.to.include('\x1b[');
    });

    it('takes a follower paused by a fatal error as paused for pause --match, and resumes it with resume --match', async () => {
      const tag = uniqueName('fleetfatal');
      const [broken, healthy] = [`${tag}-a`, `${tag}-b`];
      for (const name of [broken, healthy]) {
        pair.track('leader', name);
        pair.track('follower', name);
        await createLeaderIndex(pair.leader, name, { shards: 1, mappings: { properties: { n: { type: 'long' } } } });
        await pair.leader.writeDocuments(name, [{ op: 'index', id: '1', source: { n: 1 } }]);
        await pair.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex: name, followerCluster: 'follower', followerIndex: name });
      }
      for (const name of [broken, healthy]) await waitForCaughtUp(pair.daemon, pair.leader, name, name);
      // The follower of `broken` may hold no field but n: a new field on the leader pauses it.
      await pair.follower.putSettings(broken, { 'index.mapping.total_fields.limit': 1 });
      await pair.leader.writeDocuments(broken, [{ op: 'index', id: '2', source: { n: 2, extra: 'x' } }]);
      const info = (name: string): FollowerInfo => pair.daemon.manager.info(`follower/${name}`)[0]!;
      await waitFor(() => info(broken).status === 'paused' && info(broken).fatal_exception !== undefined,
        { timeoutMs: 60_000, message: () => `follower/${broken} paused by a fatal error (info: ${JSON.stringify(info(broken))})` });

      const paused = await cli('pause', '--match', `${tag}-*`);
      expect(paused.code, paused.stdout).to.equal(0);
      expect(paused.stdout).to.match(new RegExp(`^follower/${broken} +already paused \\(by an error: ${info(broken).fatal_exception!.type}\\)$`, 'm'));
      expect(paused.stdout).to.match(new RegExp(`^follower/${healthy} +paused$`, 'm'));
      expect(paused.stdout.trim().split('\n').at(-1)).to.equal('2 of 2 done (1 already paused)');
      expect([info(broken).status, info(healthy).status]).to.deep.equal(['paused', 'paused']);

      // The cause removed, resume resumes it: paused by an error is not "already following".
      await pair.follower.putSettings(broken, { 'index.mapping.total_fields.limit': 1000 });
      const resumed = await cli('resume', '--match', `${tag}-*`);
      expect(resumed.code, resumed.stdout).to.equal(0);
      expect(resumed.stdout).to.match(new RegExp(`^follower/${broken} +resumed$`, 'm'));
      expect(resumed.stdout).to.match(new RegExp(`^follower/${healthy} +resumed$`, 'm'));
      expect(resumed.stdout.trim().split('\n').at(-1)).to.equal('2 of 2 done');
      await waitForCaughtUp(pair.daemon, pair.leader, broken, broken);
      expect(info(broken)).to.include({ status: 'active' }).and.not.to.have.property('fatal_exception');
      await pair.follower.refresh(broken);
      expect(await countDocs(pair.follower, broken)).to.equal(2);
    });

    it('start --wait returns once the follower holds all 50,000 documents of the leader', async () => {
      const leaderIndex = uniqueName('leader');
      const followerIndex = uniqueName('follower');
      pair.track('leader', leaderIndex);
      pair.track('follower', followerIndex);
      await createLeaderIndex(pair.leader, leaderIndex, { shards: 3 });
      for (let batch = 0; batch < 10; batch += 1) {
        const docs: DocumentWrite[] = [];
        for (let i = 0; i < 5000; i += 1) docs.push({ op: 'index', id: `d${batch * 5000 + i}`, source: { n: batch * 5000 + i, text: 'x'.repeat(i % 100) } });
        await pair.leader.writeDocuments(leaderIndex, docs);
      }
      await pair.leader.refresh(leaderIndex);
      expect(await countDocs(pair.leader, leaderIndex)).to.equal(50_000);

      const res = await cli('start', `leader/${leaderIndex}`, `follower/${followerIndex}`, '--wait', '--interval', '300ms');
      expect(res.code, res.stderr).to.equal(0);
      await pair.follower.refresh(followerIndex);
      expect(await countDocs(pair.follower, followerIndex)).to.equal(50_000);
      const lines = res.stdout.trim().split('\n');
      expect(lines[0]).to.equal(`following leader/${leaderIndex} into follower/${followerIndex}`);
      expect(lines.at(-1)).to.equal(`follower/${followerIndex} has caught up with leader/${leaderIndex}`);
      expect(lines.at(-2)).to.match(/^copied 50000\/50000 ops, \d+ ops\/s, ETA 0ms \(100\.0%\)$/);
      expect(lines.filter((l) => l.startsWith('copied ')).length).to.be.greaterThan(1);
    });

    it('start --wait draws a progress bar in place on a terminal', async () => {
      const leaderIndex = uniqueName('leader');
      const followerIndex = uniqueName('follower');
      pair.track('leader', leaderIndex);
      pair.track('follower', followerIndex);
      await createLeaderIndex(pair.leader, leaderIndex, { shards: 2 });
      const docs: DocumentWrite[] = [];
      for (let i = 0; i < 5000; i += 1) docs.push({ op: 'index', id: `d${i}`, source: { n: i } });
      await pair.leader.writeDocuments(leaderIndex, docs);
      const res = await runInPty(['--url', pair.daemon.url, 'start', `leader/${leaderIndex}`, `follower/${followerIndex}`, '--wait', '--interval', '200ms'], 240_000);
      expect(res.code, res.output).to.equal(0);
      expect(res.output).to.include('\r\x1b[2K[');
      expect(res.output).to.match(/\[#{30}\] 100\.0% {2}5000\/5000 ops/);
      expect(res.output).not.to.match(/^copied /m);
      await pair.follower.refresh(followerIndex);
      expect(await countDocs(pair.follower, followerIndex)).to.equal(5000);
    });
  });
});
