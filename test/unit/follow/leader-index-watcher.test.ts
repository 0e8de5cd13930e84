import { expect } from 'chai';
import type { ClusterClient } from '../../../src/cluster/cluster-client.js';
import { classify } from '../../../src/cluster/classify.js';
import { ClusterShardUnavailableError } from '../../../src/cluster/errors.js';
import type { MetadataVersions, ShardSeqNoState } from '../../../src/cluster/types.js';
import type { ProbeLane } from '../../../src/follow/index-batch-probe.js';
import { LeaderIndexWatcher } from '../../../src/follow/leader-index-watcher.js';
import { waitFor } from '../../helpers/wait-for.js';

/** The three calls the watcher makes, with refreshes held open until the test releases them. */
class FakeLeader {
  readonly alias = 'leader';
  stats: readonly ShardSeqNoState[] | Error = [];
  versions: MetadataVersions = { mappingVersion: 1, settingsVersion: 1, aliasesVersion: 1 };
  readonly pendingRefreshes: (() => void)[] = [];
  refreshCalls = 0;

  shardSeqNos(): Promise<readonly ShardSeqNoState[]> {
    return this.stats instanceof Error ? Promise.reject(this.stats) : Promise.resolve(this.stats);
  }

  refresh(): Promise<void> {
    this.refreshCalls += 1;
    return new Promise((resolve) => this.pendingRefreshes.push(resolve));
  }

  metadataVersions(): Promise<MetadataVersions> {
    return Promise.resolve(this.versions);
  }

  /** Completes the oldest refresh still open. */
  finishRefresh(): void {
    const next = this.pendingRefreshes.shift();
    if (!next) throw new Error('no refresh is open');
    next();
  }
}

function shards(...globalCheckpoints: number[]): ShardSeqNoState[] {
  return globalCheckpoints.map((gcp, shard) => ({ shard, globalCheckpoint: gcp, maxSeqNo: gcp, localCheckpoint: gcp }));
}

/** Settles to 'pending' when the promise has not settled after the microtasks queued so far. */
async function state(promise: Promise<unknown>): Promise<'pending' | 'settled'> {
  const marker = Symbol('pending');
  const result = await Promise.race([promise.then(() => 'settled' as const, () => 'settled' as const), new Promise((r) => setImmediate(() => r(marker)))]);
  return result === marker ? 'pending' : 'settled';
}

describe('LeaderIndexWatcher', () => {
  let leader: FakeLeader;
  let watcher: LeaderIndexWatcher;
  const never = new AbortController().signal;

  beforeEach(() => {
    leader = new FakeLeader();
    watcher = new LeaderIndexWatcher(leader as unknown as ClusterClient, 'orders', { minPollIntervalMs: 1, maxPollIntervalMs: 2 });
  });
  afterEach(() => watcher.close());

  describe('global checkpoints', () => {
    it('answers each waiter once a stats answer shows its shard above what it has', async () => {
      leader.stats = shards(5, 5);
      const first = watcher.awaitGlobalCheckpoint(0, 5, 60_000, never);
      const second = watcher.awaitGlobalCheckpoint(1, 5, 60_000, never);
      expect(await state(first)).to.equal('pending');
      leader.stats = shards(7, 5);
      expect(await first).to.deep.equal({ globalCheckpoint: 7, maxSeqNo: 7 });
      expect(await state(second)).to.equal('pending');
      leader.stats = shards(7, 9);
      expect(await second).to.deep.equal({ globalCheckpoint: 9, maxSeqNo: 9 });
    });

    it('answers at once from what it already knows', async () => {
      leader.stats = shards(4);
      await watcher.awaitGlobalCheckpoint(0, -1, 60_000, never);
      leader.stats = new Error('must not be asked again');
      expect(await watcher.awaitGlobalCheckpoint(0, 3, 60_000, never)).to.deep.equal({ globalCheckpoint: 4, maxSeqNo: 4 });
    });

    it('answers at the deadline with the checkpoint as it is when nothing moves', async () => {
      leader.stats = shards(5);
      expect(await watcher.awaitGlobalCheckpoint(0, 5, 20, never)).to.deep.equal({ globalCheckpoint: 5, maxSeqNo: 5 });
    });

    it('never reports a checkpoint going back (a copy promoted to primary may answer an older one)', async () => {
      leader.stats = shards(8);
      await watcher.awaitGlobalCheckpoint(0, -1, 60_000, never);
      leader.stats = shards(6);
      expect(await watcher.awaitGlobalCheckpoint(0, 8, 20, never)).to.deep.equal({ globalCheckpoint: 8, maxSeqNo: 6 });
    });

    it('rejects a waiter whose shard has no started primary with a retryable shard-unavailable error', async () => {
      leader.stats = shards(5);
      const err = await watcher.awaitGlobalCheckpoint(1, -1, 60_000, never).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(ClusterShardUnavailableError);
      expect(classify(err)).to.include({ action: 'retry', kind: 'shard_unavailable' });
      expect((err as Error).message).to.include('shard 1').and.include('[orders]');
    });

    it('passes a failed stats call to every waiter, for their retry policy to judge', async () => {
      const failure = new Error('connection refused');
      leader.stats = failure;
      const results = await Promise.allSettled([
        watcher.awaitGlobalCheckpoint(0, 1, 60_000, never),
        watcher.awaitGlobalCheckpoint(1, 1, 60_000, never),
      ]);
      expect(results.map((r) => (r.status === 'rejected' ? r.reason : r.status))).to.deep.equal([failure, failure]);
    });

    it('lets one waiter leave on its own abort, and rejects the rest when closed', async () => {
      leader.stats = shards(5, 5);
      const leaving = new AbortController();
      const aborted = watcher.awaitGlobalCheckpoint(0, 5, 60_000, leaving.signal);
      const staying = watcher.awaitGlobalCheckpoint(1, 5, 60_000, never);
      leaving.abort();
      expect((await aborted.then(() => undefined, (e: Error) => e))?.name).to.equal('AbortError');
      expect(await state(staying)).to.equal('pending');
      watcher.close();
      expect((await staying.then(() => undefined, (e: Error) => e))?.name).to.equal('AbortError');
    });
  });

  describe('visibility', () => {
    async function know(...globalCheckpoints: number[]): Promise<void> {
      leader.stats = shards(...globalCheckpoints);
      await Promise.all(globalCheckpoints.map((gcp, shard) => watcher.awaitGlobalCheckpoint(shard, gcp - 1, 60_000, never)));
    }

    it('makes operations visible with one refresh shared by every shard it covers, then needs none for them', async () => {
      await know(5, 6);
      const a = watcher.ensureVisible(0, 5, never);
      const b = watcher.ensureVisible(1, 6, never);
      expect(leader.refreshCalls).to.equal(1);
      expect(await state(a)).to.equal('pending');
      leader.finishRefresh();
      await Promise.all([a, b]);
      expect(await state(watcher.ensureVisible(0, 3, never)), 'already visible').to.equal('settled');
      expect(leader.refreshCalls).to.equal(1);
    });

    it('does not count a refresh that started before the checkpoint was seen: it starts another after it', async () => {
      await know(5);
      const early = watcher.ensureVisible(0, 5, never);
      await know(9);
      const late = watcher.ensureVisible(0, 9, never);
      expect(leader.refreshCalls, 'one refresh at a time').to.equal(1);
      leader.finishRefresh();
      await early;
      expect(await state(late), 'the first refresh does not cover seq_no 9').to.equal('pending');
      expect(leader.refreshCalls).to.equal(2);
      leader.finishRefresh();
      await late;
    });

    it('runs one refresh at a time: every caller it does not cover shares the next one', async () => {
      await know(5, 5);
      const first = watcher.ensureVisible(0, 5, never);
      await know(8, 9);
      const waiting = [watcher.ensureVisible(0, 7, never), watcher.ensureVisible(1, 9, never), watcher.ensureVisible(0, 8, never)];
      await know(12, 9);
      waiting.push(watcher.ensureVisible(0, 12, never));
      expect(leader.refreshCalls).to.equal(1);
      leader.finishRefresh();
      await first;
      for (const w of waiting) expect(await state(w)).to.equal('pending');
      expect(leader.refreshCalls, 'the four callers share one refresh').to.equal(2);
      leader.finishRefresh();
      await Promise.all(waiting);
      expect(await state(watcher.ensureVisible(0, 12, never)), 'already visible').to.equal('settled');
      expect(leader.refreshCalls).to.equal(2);
    });

    it('passes a failed refresh to its callers and starts afresh for the next caller', async () => {
      leader.stats = shards(5);
      let refreshes = 0;
      const failing = new LeaderIndexWatcher({
        alias: 'leader', shardSeqNos: () => leader.shardSeqNos(), metadataVersions: () => leader.metadataVersions(),
        refresh: () => Promise.reject(new Error(`refresh ${(refreshes += 1)} failed`)),
      } as unknown as ClusterClient, 'orders', { minPollIntervalMs: 1, maxPollIntervalMs: 2 });
      try {
        await failing.awaitGlobalCheckpoint(0, 4, 60_000, never);
        const err = await failing.ensureVisible(0, 5, never).then(() => undefined, (e: Error) => e);
        expect(err?.message).to.equal('refresh 1 failed');
        const again = await failing.ensureVisible(0, 5, never).then(() => undefined, (e: Error) => e);
        expect(again?.message, 'a new refresh was tried').to.equal('refresh 2 failed');
      } finally {
        failing.close();
      }
    });

    it('refuses a seq_no above every global checkpoint it has seen', async () => {
      await know(5);
      const err = await watcher.ensureVisible(0, 6, never).then(() => undefined, (e: Error) => e);
      expect(err?.message).to.include('seq_no 6 is above every global checkpoint seen');
      expect(classify(err)).to.include({ action: 'fatal', kind: 'illegal_state' });
    });
  });

  describe('with the leader cluster\'s shared checkpoint probe', () => {
    /** A probe that answers soon reads at once and tick reads a few ms later, recording the lane asked. */
    class LaneProbe {
      readonly lanes: ProbeLane[] = [];
      async read(_index: string, lane: ProbeLane): Promise<ShardSeqNoState[]> {
        this.lanes.push(lane);
        if (lane === 'tick') await new Promise((r) => { setTimeout(r, 5); });
        return leader.shardSeqNos() as Promise<ShardSeqNoState[]>;
      }
    }

    it('polls through the soon lane while checkpoints move, the tick lane once idle, and stays idle when a waiter comes back', async () => {
      const probe = new LaneProbe();
      const shared = new LeaderIndexWatcher(leader as unknown as ClusterClient, 'orders', { minPollIntervalMs: 1, maxPollIntervalMs: 4, probe });
      try {
        leader.stats = shards(5);
        // Long enough for the backoff to reach the tick lane, however slow the machine's timers.
        await waitFor(async () => {
          await shared.awaitGlobalCheckpoint(0, 5, 10, never);
          return probe.lanes.includes('tick');
        }, { timeoutMs: 5000, intervalMs: 0, message: 'the tick lane' });
        expect(probe.lanes[0]).to.equal('soon');
        expect(probe.lanes.at(-1)).to.equal('tick');
        const idleFrom = probe.lanes.indexOf('tick');
        expect(probe.lanes.slice(idleFrom).every((l) => l === 'tick')).to.equal(true);
        // The shard task asks again after its wait ended: still idle, straight to the tick lane.
        probe.lanes.length = 0;
        leader.stats = shards(6);
        expect(await shared.awaitGlobalCheckpoint(0, 5, 60_000, never)).to.deep.equal({ globalCheckpoint: 6, maxSeqNo: 6 });
        expect(probe.lanes).to.deep.equal(['tick']);
        // Moved: fast again.
        probe.lanes.length = 0;
        leader.stats = shards(6);
        await shared.awaitGlobalCheckpoint(0, 6, 10, never);
        expect(probe.lanes[0]).to.equal('soon');
      } finally {
        shared.close();
      }
    });
      it('once idle, stays registered with the probe\'s tick: one read across ticks without news, answered by a move or a deadline', async () => {
      /** Soon reads answer at once; tick reads wait for `tick()`, which offers each the leader's stats. */
      class TickProbe {
        reads = 0;
        readonly #registered: { until?: (v: ShardSeqNoState[]) => boolean; resolve: (v: ShardSeqNoState[]) => void }[] = [];
        async read(_index: string, lane: ProbeLane, _signal: AbortSignal, until?: (v: ShardSeqNoState[]) => boolean): Promise<ShardSeqNoState[]> {
          this.reads += 1;
          if (lane === 'soon') return leader.shardSeqNos() as Promise<ShardSeqNoState[]>;
          return new Promise((resolve) => this.#registered.push({ ...(until ? { until } : {}), resolve }));
        }

        get waiting(): number {
          return this.#registered.length;
        }

        tick(): void {
          for (const r of this.#registered.splice(0)) {
            const answer = shards(...(leader.stats as ShardSeqNoState[]).map((s) => s.globalCheckpoint));
            if (r.until === undefined || r.until(answer)) r.resolve(answer);
            else this.#registered.push(r);
          }
        }
      }
      const probe = new TickProbe();
      let now = 1_000_000;
      const idle = new LeaderIndexWatcher(leader as unknown as ClusterClient, 'orders', { minPollIntervalMs: 1, maxPollIntervalMs: 2, probe, now: () => now });
      try {
        leader.stats = shards(5);
        const waiting = idle.awaitGlobalCheckpoint(0, 5, 60_000, never);
        await waitFor(() => probe.waiting === 1, { timeoutMs: 5000, intervalMs: 1, message: 'the watcher to wait at the tick' });
        const readsWhenIdle = probe.reads;
        for (let t = 0; t < 10; t += 1) {
          now += 1000;
          probe.tick();
          await new Promise((r) => setImmediate(r));
        }
        expect(await state(waiting)).to.equal('pending');
        expect(probe.reads, 'no new read per tick').to.equal(readsWhenIdle);
        expect(idle.lastAnswerAt, 'each tick\'s answer counts as seen').to.equal(now);
        leader.stats = shards(6);
        probe.tick();
        expect(await waiting).to.deep.equal({ globalCheckpoint: 6, maxSeqNo: 6 });

        const timesOut = idle.awaitGlobalCheckpoint(0, 6, 5_000, never);
        await waitFor(() => probe.waiting === 1, { timeoutMs: 5000, intervalMs: 1, message: 'the watcher to wait at the tick again' });
        probe.tick();
        await new Promise((r) => setImmediate(r));
        expect(await state(timesOut)).to.equal('pending');
        now += 5_000;
        probe.tick();
        expect(await timesOut).to.deep.equal({ globalCheckpoint: 6, maxSeqNo: 6 });
      } finally {
        idle.close();
      }
    });
});
});
