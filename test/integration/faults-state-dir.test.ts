/**
 * Faults of the daemon's state directory.
 *
 * - The state directory becomes full (ENOSPC) and then read-only (EROFS) while the leader is
 *   written. The state directory lives on a small tmpfs this test mounts (the suite runs as root,
 *   which ignores file permissions, so chmod cannot refuse a write; a mount can). The follower must
 *   pause with a reason naming the directory and the errno; its state files must still parse; the
 *   persisted checkpoints must never go backwards nor past what the follower holds (checked against
 *   the two indices, independently of the daemon); and once the directory is writable again the
 *   follower resumes by itself from the checkpoints it had applied, and converges.
 * - A state file is truncated or damaged while the daemon is down. Checkpoints: the daemon starts,
 *   names the file and the damage, and restarts that follow from -1 (safe: external versions).
 *   A follower record: the daemon refuses to start, naming the file, and changes nothing; with the
 *   file restored it starts and follows on.
 * Each fault ends with a document-by-document comparison of leader and follower.
 */
import { execFile } from 'node:child_process';
import { open, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { Flavor } from '../../src/cluster/types.js';
import { exactCanonical } from '../../src/cluster/exact-json.js';
import { memoryLogger, type MemoryLogger } from '../../src/util/logger.js';
import { DaemonProcess, followerStats, readPersistedCheckpoints, stopAllDaemonProcesses, waitForDaemonCaughtUp } from '../helpers/daemon-process.js';
import { pairTitle, useClusterPair } from '../helpers/follow-fixture.js';
import { LeaderWriter } from '../helpers/leader-writer.js';
import {
  compareIndices, countDocs, createLeaderIndex, RandomWorkload, shardDocuments, startTestDaemon, statsOf, waitForCaughtUp, type TestDaemon,
} from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const run = promisify(execFile);
const SHARDS = 3;

const PAIRS: readonly (readonly [Flavor, Flavor])[] = [['elasticsearch', 'elasticsearch'], ['elasticsearch', 'opensearch']];
const F_PAIRS: readonly (readonly [Flavor, Flavor])[] = [['elasticsearch', 'elasticsearch'], ['opensearch', 'elasticsearch']];

/** A small tmpfs: it can be filled (ENOSPC) and remounted read-only (EROFS). Needs root and mount(8). */
class Tmpfs {
  #mounted = true;
  private constructor(readonly dir: string) {}

  /** The mount, or why it could not be made (then the test cannot run here). */
  static async mount(sizeKb: number): Promise<Tmpfs | string> {
    if (process.getuid?.() !== 0) return 'not root: cannot mount a tmpfs for the state directory';
    const dir = await mkdtemp(join(tmpdir(), 'ccr-state-fault-'));
    try {
      await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0755`, 'tmpfs', dir]);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      return `mount -t tmpfs failed: ${(err as Error).message}`;
    }
    return new Tmpfs(dir);
  }

  async readOnly(ro: boolean): Promise<void> {
    await run('mount', ['-o', `remount,${ro ? 'ro' : 'rw'}`, this.dir]);
  }

  /** Fills the file system to the last page with one file; `free()` removes it. */
  async fill(): Promise<number> {
    const handle = await open(join(this.dir, 'filler'), 'w');
    let written = 0;
    try {
      for (const chunk of [64 * 1024, 4096, 512, 1]) {
        const buffer = Buffer.alloc(chunk, 120);
        for (;;) {
          try {
            const { bytesWritten } = await handle.write(buffer);
            written += bytesWritten;
            if (bytesWritten < chunk) break;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw err;
          }
        }
      }
    } finally {
      await handle.close();
    }
    return written;
  }

  async free(): Promise<void> {
    await rm(join(this.dir, 'filler'), { force: true });
  }

  async unmount(): Promise<void> {
    if (!this.#mounted) return;
    await run('umount', [this.dir]);
    this.#mounted = false;
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Leader operations per second while a fault lasts: steady traffic that keeps checkpoints moving
 * (unpaced, the writer starved the nodes of CPU).
 */
const WRITE_RATE = 500;

/**
 * Reads the persisted checkpoints file every 100 ms: it must always parse, and no shard's
 * checkpoint may ever go down.
 */
class CheckpointMonitor {
  readonly problems: string[] = [];
  readonly latest: Record<number, number> = {};
  samples = 0;
  #stopped = false;
  readonly #done: Promise<void>;

  constructor(stateDir: string, key: string) {
    this.#done = (async () => {
      while (!this.#stopped) {
        try {
          const checkpoints = await readPersistedCheckpoints(stateDir, key);
          this.samples += 1;
          for (const [shard, cp] of Object.entries(checkpoints)) {
            const before = this.latest[Number(shard)] ?? -1;
            if (cp < before) this.problems.push(`shard ${shard}: persisted checkpoint went from ${before} to ${cp}`);
            this.latest[Number(shard)] = Math.max(before, cp);
          }
        } catch (err) {
          this.problems.push(`checkpoints file unreadable: ${(err as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }
}

/** Every state file parses as JSON, and no temp file of a failed write is left behind. */
async function checkStateFiles(stateDir: string): Promise<string[]> {
  const problems: string[] = [];
  for (const sub of ['followers', 'checkpoints']) {
    for (const name of await readdir(join(stateDir, sub))) {
      const file = join(stateDir, sub, name);
      if (name.endsWith('.tmp')) problems.push(`temp file left behind: ${file}`);
      else if (name.endsWith('.json')) {
        try {
          JSON.parse(await readFile(file, 'utf8'));
        } catch (err) {
          problems.push(`${file}: ${(err as Error).message}`);
        }
      }
    }
  }
  return problems;
}

/**
 * Independent of the daemon: every leader document whose current `_seq_no` is at or below the
 * persisted checkpoint of its shard is on the follower with the same routing and `_source` — so the
 * checkpoint never claims more than was applied. Call while the follower does not change.
 */
async function checkpointsWithinApplied(
  leader: ClusterClient, leaderIndex: string, follower: ClusterClient, followerIndex: string, checkpoints: Record<number, number>,
): Promise<{ problems: string[]; checked: number }> {
  await Promise.all([leader.refresh(leaderIndex), follower.refresh(followerIndex)]);
  const problems: string[] = [];
  let checked = 0;
  for (let shard = 0; shard < SHARDS; shard += 1) {
    const checkpoint = checkpoints[shard] ?? -1;
    const followerDocs = await shardDocuments(follower, followerIndex, shard);
    let after: number | undefined;
    for (;;) {
      const hits = await leader.searchShardBySeqNo(leaderIndex, { shard, fromExclusive: -1, toInclusive: checkpoint, size: 5000, searchAfter: after });
      for (const hit of hits) {
        checked += 1;
        const doc = followerDocs.get(hit.id);
        if (!doc || doc.routing !== hit.routing || doc.source !== exactCanonical(hit.sourceJson)) {
          problems.push(`shard ${shard}: [${hit.id}] at seq_no ${hit.seqNo} ≤ checkpoint ${checkpoint} is ${doc ? 'different' : 'missing'} on the follower`);
        }
      }
      if (hits.length < 5000) break;
      after = hits[hits.length - 1]!.seqNo;
    }
  }
  return { problems: problems.slice(0, 20), checked };
}

/**
 * Deletes reach the follower by reconciliation, after it caught up (README, "How it works", 7):
 * so converged means identical, polled, and the last differences are the failure's message.
 */
async function waitForIdentical(leader: ClusterClient, leaderIndex: string, follower: ClusterClient, followerIndex: string, timeoutMs = 120_000): Promise<string[]> {
  let diffs: string[] = [];
  try {
    await waitFor(async () => {
      diffs = await compareIndices(leader, leaderIndex, follower, followerIndex);
      return diffs.length === 0;
    }, { timeoutMs, intervalMs: 1_000, message: 'leader and follower to be identical' });
  } catch {
    // The differences below say what is wrong.
  }
  return diffs;
}

describe('fault: the state directory is full or read-only', function () {
  this.timeout(600_000);

  for (const flavors of PAIRS) {
    describe(pairTitle(flavors), () => {
      let tmpfs: Tmpfs | undefined;
      let daemon: TestDaemon | undefined;
      let writer: LeaderWriter | undefined;
      let monitor: CheckpointMonitor | undefined;
      const fx = useClusterPair(flavors, {
        teardown: async () => {
          await writer?.stop().catch(() => undefined);
          await monitor?.stop().catch(() => undefined);
          // Writable again before the daemon stops: it saves its checkpoints on the way out.
          await tmpfs?.readOnly(false).catch(() => undefined);
          await tmpfs?.free().catch(() => undefined);
          await daemon?.stop().catch(() => undefined);
          await tmpfs?.unmount();
        },
      });

      it('pauses with the directory and errno, keeps the state whole, and resumes by itself from its checkpoints', async function () {
        const { pair, leader, follower } = fx;
        const mounted = await Tmpfs.mount(1024);
        // Not a skip: a fault test that cannot run must say so as a failure (CI runs as root).
        if (typeof mounted === 'string') throw new Error(`this test needs a tmpfs it can fill and remount read-only: ${mounted}`);
        tmpfs = mounted;
        const stateDir = join(tmpfs.dir, 'state');
        const logger: MemoryLogger = memoryLogger();
        daemon = await startTestDaemon({ ...pair, stateDir, logger });
        const { leaderIndex, followerIndex, key } = fx.indexNames();
        await createLeaderIndex(leader, leaderIndex, { shards: SHARDS });
        const workload = new RandomWorkload(leader, leaderIndex, { seed: 1005, ids: 20_000, routedShare: 0.3 });
        await workload.run(10);
        await daemon.daemon.manager.follow({ leaderCluster: 'leader', leaderIndex, followerCluster: 'follower', followerIndex, params: { max_retry_delay: '1s' } });
        await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex);
        monitor = new CheckpointMonitor(stateDir, key);

        const faults = [
          { name: 'full', code: 'ENOSPC', start: async () => { await tmpfs!.fill(); }, end: () => tmpfs!.free() },
          { name: 'read-only', code: 'EROFS', start: () => tmpfs!.readOnly(true), end: () => tmpfs!.readOnly(false) },
        ] as const;
        for (const fault of faults) {
          // Caught up in memory is not yet saved (saves are batched): start from a saved state, or
          // there would be no persisted checkpoint to judge.
          await waitFor(async () => {
            const persisted = await readPersistedCheckpoints(stateDir, key);
            return statsOf(daemon!.daemon, followerIndex).shards.every((s) => persisted[s.shard_id] === s.follower_global_checkpoint);
          }, { timeoutMs: 30_000, message: 'the caught-up checkpoints to be saved' });
          logger.clear();
          await fault.start();
          writer = new LeaderWriter(workload, { opsPerSecond: WRITE_RATE });
          const faultAt = Date.now();
          // The next checkpoint save fails: the follower pauses, saying where and why.
          const paused = await waitFor(() => {
            const stats = statsOf(daemon!.daemon, followerIndex);
            return stats.status === 'paused' && stats.fatal_exception ? stats : false;
          }, { timeoutMs: 60_000, intervalMs: 100, message: `the follower to pause on a ${fault.name} state directory` });
          const pausedMs = Date.now() - faultAt;
          const reason = paused.fatal_exception!.reason;
          expect(paused.fatal_exception!.type).to.equal('state_write_exception');
          expect(reason).to.include(stateDir).and.include(fault.code);
          expect(paused.state).to.equal('paused');
          const logged = logger.entries.find((e) => e.level === 'error' && e.message.startsWith('follower paused'));
          expect(logged?.message, 'error logged when pausing').to.include(stateDir).and.include(fault.code);

          // While paused: nothing is applied, the state files parse, the checkpoints hold only what was applied.
          await writer.stop();
          const persisted = await readPersistedCheckpoints(stateDir, key);
          expect(await checkStateFiles(stateDir), 'state files while the directory is unwritable').to.deep.equal([]);
          const record = JSON.parse(await readFile(join(stateDir, 'followers', `${encodeURIComponent(key)}.json`), 'utf8')) as { follower: { status: string } };
          // Kept `active` on purpose: a daemon restarted meanwhile follows on from these checkpoints.
          expect(record.follower.status, 'the stored status while paused for the state').to.equal('active');
          const within = await checkpointsWithinApplied(leader, leaderIndex, follower, followerIndex, persisted);
          expect(within.problems, 'persisted checkpoints beyond what the follower holds').to.deep.equal([]);
          expect(within.checked, 'leader documents at or below the persisted checkpoints').to.be.greaterThan(0);
          const inMemory = daemon.daemon.manager.stats(key)[0]!.shards;
          for (const s of inMemory) {
            expect(persisted[s.shard_id] ?? -1, `shard ${s.shard_id}: persisted ≤ applied`).to.be.at.most(s.follower_global_checkpoint);
          }
          // It stays paused while the fault lasts (the probe's writes fail too).
          const stillPaused = statsOf(daemon.daemon, followerIndex);
          expect(stillPaused.status, 'status while the fault lasts').to.equal('paused');
          writer = new LeaderWriter(workload, { opsPerSecond: WRITE_RATE });
          await waitFor(() => logger.entries.some((e) => e.level === 'debug' && e.message.startsWith('state still not writable')), {
            timeoutMs: 30_000, message: 'a failed probe of the state directory',
          });
          expect(statsOf(daemon.daemon, followerIndex).status).to.equal('paused');

          // ---- the fault ends: the follower resumes by itself, from the checkpoints it had applied ----
          await fault.end();
          const endedAt = Date.now();
          await writer.stop();
          await waitFor(() => statsOf(daemon!.daemon, followerIndex).status === 'active', {
            timeoutMs: 30_000, message: 'the follower to resume by itself',
          });
          const resumedMs = Date.now() - endedAt;
          await waitForCaughtUp(daemon.daemon, leader, leaderIndex, followerIndex, 180_000);
          const convergeMs = Date.now() - endedAt;
          const resumedLog = logger.entries.find((e) => e.message.startsWith('state writable again'));
          const resumedFrom = resumedLog?.meta['checkpoints'] as Record<string, number> | undefined;
          expect(resumedFrom, 'checkpoints the follower resumed from').to.not.equal(undefined);
          for (let shard = 0; shard < SHARDS; shard += 1) {
            expect(resumedFrom![shard] ?? -1, `shard ${shard}: resumed from at least the last persisted checkpoint`).to.be.at.least(persisted[shard] ?? -1);
          }
          const startedFrom = logger.entries.filter((e) => e.message.startsWith('following')).at(-1)?.meta['checkpoints'];
          expect(startedFrom, 'the restarted shard tasks\' checkpoints').to.deep.equal(resumedFrom);
          expect(await compareIndices(leader, leaderIndex, follower, followerIndex), `differences after the ${fault.name} fault`).to.deep.equal([]);
          expect(statsOf(daemon.daemon, followerIndex).fatal_exception).to.equal(undefined);
          console.log(`      ${fault.name} (${fault.code}): paused ${pausedMs} ms after the fault began; resumed by itself ${resumedMs} ms and `
            + `converged ${convergeMs} ms after it ended; ${within.checked} leader documents at or below the persisted checkpoints `
            + `${JSON.stringify(persisted)} all on the follower; reason: ${reason}`);
        }
        await monitor.stop();
        expect(monitor.problems, 'persisted checkpoints over the whole test').to.deep.equal([]);
        expect(monitor.samples).to.be.greaterThan(10);
        console.log(`      ${workload.operations} operations; persisted checkpoints sampled ${monitor.samples} times, never unreadable nor going back`);
      });
    });
  }
});

describe('fault: a state file is truncated or damaged', function () {
  this.timeout(600_000);

  for (const flavors of F_PAIRS) {
    describe(pairTitle(flavors), () => {
      const fx = useClusterPair(flavors, { teardown: () => stopAllDaemonProcesses() });

      it('restarts a follow from -1 when its checkpoints are damaged, and refuses to start when its record is', async () => {
        const { pair, leader, follower } = fx;
        const { leaderIndex, followerIndex, key } = fx.indexNames();
        await createLeaderIndex(leader, leaderIndex, { shards: SHARDS });
        const workload = new RandomWorkload(leader, leaderIndex, { seed: 1006, ids: 8_000, routedShare: 0.3, deleteShare: 0.05 });
        await workload.run(15);
        let daemon = await DaemonProcess.start(pair);
        const stateDir = daemon.stateDir;
        await daemon.api('PUT', `/follower/${followerIndex}/_ccr/follow`, {
          remote_cluster: 'leader', leader_index: leaderIndex, max_retry_delay: '1s',
          // Deletes made while the daemon was down are found by reconciliation, 6× this apart on an
          // idle leader: shorter than the default so the test does not wait 30 s for it.
          reconcile_interval: '1s',
        });
        await waitForDaemonCaughtUp(daemon, leader, leaderIndex, followerIndex);
        expect((await daemon.stop()).code, 'graceful stop').to.equal(0);

        // ---- checkpoints truncated while the daemon is down (and the leader written) ----
        const checkpointsFile = join(stateDir, 'checkpoints', `${encodeURIComponent(key)}.json`);
        const whole = await readFile(checkpointsFile, 'utf8');
        await writeFile(checkpointsFile, whole.slice(0, Math.floor(whole.length / 2)));
        await workload.run(5);
        const restartedAt = Date.now();
        daemon = await DaemonProcess.start({ ...pair, stateDir });
        const reported = await waitFor(async () => {
          const lines = (await daemon.logText()).split('\n').filter((l) => l.includes('unreadable'));
          return lines.find((l) => l.includes(JSON.stringify(checkpointsFile).slice(1, -1)));
        }, { timeoutMs: 30_000, message: `the daemon to report ${checkpointsFile}` });
        const entry = JSON.parse(reported) as { level: string; message: string };
        expect(entry.level).to.equal('error');
        expect(entry.message).to.include('not valid JSON').and.include('truncated').and.include('starts again from -1');
        const liveDocs = await countDocs(leader, leaderIndex);
        const caughtUp = await waitForDaemonCaughtUp(daemon, leader, leaderIndex, followerIndex);
        const caughtUpMs = Date.now() - restartedAt;
        const diffs = await waitForIdentical(leader, leaderIndex, follower, followerIndex);
        const convergeMs = Date.now() - restartedAt;
        // From -1, every live document is read again; resuming from the checkpoint would read only the new ones.
        const read = caughtUp.shards.reduce((sum, s) => sum + s.operations_read, 0);
        expect(read, 'operations read after the restart').to.be.at.least(liveDocs);
        expect(diffs, 'differences after the restart from -1').to.deep.equal([]);
        const aside = (await readdir(join(stateDir, 'checkpoints'))).filter((n) => n.includes('.corrupt-'));
        expect(aside, 'the damaged checkpoints kept aside').to.have.length(1);
        expect(await readFile(join(stateDir, 'checkpoints', aside[0]!), 'utf8')).to.equal(whole.slice(0, Math.floor(whole.length / 2)));
        console.log(`      damaged checkpoints: reported as "${entry.message}"`);
        console.log(`      caught up ${caughtUpMs} ms and identical ${convergeMs} ms after the restart (re-read ${read} operations for ${liveDocs} live documents)`);
        expect((await daemon.stop()).code, 'graceful stop').to.equal(0);

        // ---- the follower record damaged: the daemon refuses to start and changes nothing ----
        const recordFile = join(stateDir, 'followers', `${encodeURIComponent(key)}.json`);
        const record = await readFile(recordFile, 'utf8');
        const damaged = record.replace('"leaderIndex"', '"leaderIndx"');
        await writeFile(recordFile, damaged);
        const checkpointsBefore = await readFile(checkpointsFile, 'utf8');
        await workload.run(5);
        const refusal = await DaemonProcess.start({ ...pair, stateDir }).then(
          (d) => { throw new Error(`the daemon started (pid ${d.pid}) with a damaged follower record`); },
          (err: Error) => err,
        );
        expect(refusal.message).to.include('exit code 1').and.include(recordFile).and.include('follower.leaderIndex')
          .and.include('does not start without it');
        expect(await readFile(recordFile, 'utf8'), 'the damaged record is left as it was').to.equal(damaged);
        expect(await readFile(checkpointsFile, 'utf8'), 'the checkpoints are left as they were').to.equal(checkpointsBefore);
        await writeFile(recordFile, record);
        const repairedAt = Date.now();
        daemon = await DaemonProcess.start({ ...pair, stateDir });
        await waitForDaemonCaughtUp(daemon, leader, leaderIndex, followerIndex);
        const repairedCaughtUpMs = Date.now() - repairedAt;
        const repairedDiffs = await waitForIdentical(leader, leaderIndex, follower, followerIndex);
        const repairedMs = Date.now() - repairedAt;
        expect(repairedDiffs, 'differences after the record was restored').to.deep.equal([]);
        const reason = refusal.message.split('\n').find((l) => l.includes('could not start')) ?? refusal.message.split('\n')[0];
        console.log(`      damaged follower record: refused with "${reason?.trim()}"`);
        console.log(`      caught up ${repairedCaughtUpMs} ms and identical ${repairedMs} ms after the daemon was started on the restored record`);
        expect((await followerStats(daemon, followerIndex)).fatal_exception).to.equal(undefined);
      });
    });
  }
});
