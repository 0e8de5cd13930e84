/**
 * When reconciliation passes run: ReconcileScheduler alone with a fake clock and timers, then the
 * shard task with a fake reconciler, for what a pass's outcome does to the task. The reconciler is
 * faked only to drive what a real pair of clusters cannot be made to do on demand (a pass that
 * fails N times, an outcome with given counts); what a real pass finds is tested on real nodes.
 */
import { expect } from 'chai';
import { ClusterConnectionError } from '../../../src/cluster/errors.js';
import { DEFAULT_FOLLOW_PARAMS } from '../../../src/shard/follow-params.js';
import type { ReconcileOutcome, ShardReconciler } from '../../../src/shard/ports.js';
import { IDLE_RECONCILE_FACTOR, ReconcileScheduler } from '../../../src/shard/reconcile-scheduler.js';
import { ShardFollowTask } from '../../../src/shard/shard-follow-task.js';
import { silentLogger } from '../../../src/util/logger.js';
import { FakeFollower, FakeLeader, FakeSleep, fillLeader, responseError, TEST_PARAMS, turns, until, withDeadline } from './fakes.js';

const INTERVAL = 1000;

/** Timers that fire only when the test says so. */
class FakeTimers {
  readonly armed: Array<{ fn: () => void; ms: number; cancelled: boolean }> = [];
  readonly schedule = (fn: () => void, ms: number): (() => void) => {
    const timer = { fn, ms, cancelled: false };
    this.armed.push(timer);
    return () => { timer.cancelled = true; };
  };

  /** The timers neither fired nor cancelled. */
  get live(): Array<{ fn: () => void; ms: number }> {
    return this.armed.filter((t) => !t.cancelled);
  }

  fireAll(): void {
    for (const t of this.armed.splice(0)) if (!t.cancelled) t.fn();
  }
}

describe('ReconcileScheduler', () => {
  let now: number;
  let timers: FakeTimers;
  let due: number;
  let scheduler: ReconcileScheduler;

  beforeEach(() => {
    now = 10_000;
    timers = new FakeTimers();
    due = 0;
    scheduler = new ReconcileScheduler({ intervalMs: INTERVAL, now: () => now, schedule: timers.schedule, onDue: () => { due += 1; } });
  });

  it('starts the first pass at once, and no second one while it runs', () => {
    expect(scheduler.shouldStart(5)).to.equal(true);
    expect(scheduler.inFlight).to.equal(true);
    expect(scheduler.shouldStart(9)).to.equal(false);
    expect(timers.armed).to.have.length(0);
  });

  it('after the leader changed, waits one interval from the last start, then calls onDue', () => {
    expect(scheduler.shouldStart(5)).to.equal(true);
    now += 300;
    scheduler.finished(5);
    expect(scheduler.shouldStart(8)).to.equal(false);
    expect(timers.live.map((t) => t.ms)).to.deep.equal([INTERVAL - 300]);
    expect(scheduler.dueAt).to.equal(10_000 + INTERVAL);
    now += INTERVAL - 300;
    timers.fireAll();
    expect(due).to.equal(1);
    expect(scheduler.dueAt).to.equal(undefined);
    expect(scheduler.shouldStart(8)).to.equal(true);
  });

  it(`with no leader change since the last clean pass, waits ${IDLE_RECONCILE_FACTOR} intervals`, () => {
    scheduler.shouldStart(5);
    scheduler.finished(5);
    expect(scheduler.shouldStart(5)).to.equal(false);
    expect(scheduler.dueAt).to.equal(10_000 + IDLE_RECONCILE_FACTOR * INTERVAL);
  });

  it('after a pass that was not clean, the next one is due one interval later even with no leader change', () => {
    scheduler.shouldStart(5);
    scheduler.finished(undefined);
    expect(scheduler.shouldStart(5)).to.equal(false);
    expect(scheduler.dueAt).to.equal(10_000 + INTERVAL);
  });

  it('keeps an earlier timer, and replaces a later one when the leader changes', () => {
    scheduler.shouldStart(5);
    scheduler.finished(5);
    scheduler.shouldStart(5); // idle: six intervals
    expect(scheduler.shouldStart(5)).to.equal(false);
    expect(timers.armed).to.have.length(1);
    scheduler.shouldStart(6); // the leader moved: one interval
    expect(timers.armed[0]!.cancelled).to.equal(true);
    expect(timers.live.map((t) => t.ms)).to.deep.equal([INTERVAL]);
    scheduler.shouldStart(5);
    expect(timers.live).to.have.length(1);
  });

  it('starts nothing and cancels its timer once stopped', () => {
    scheduler.shouldStart(5);
    scheduler.finished(5);
    scheduler.shouldStart(6);
    scheduler.stop();
    expect(timers.live).to.have.length(0);
    now += 100 * INTERVAL;
    expect(scheduler.shouldStart(7)).to.equal(false);
  });
});

/** A reconciler whose passes answer `outcomes` in turn (an Error is thrown), then clean ones. */
class FakeReconciler implements ShardReconciler {
  readonly calls: AbortSignal[] = [];
  constructor(private readonly outcomes: Array<Partial<ReconcileOutcome> | Error>, private readonly leader: FakeLeader) {}

  async reconcile(signal: AbortSignal): Promise<ReconcileOutcome> {
    this.calls.push(signal);
    const next = this.outcomes.shift();
    if (next instanceof Error) throw next;
    return {
      leaderMaxSeqNo: this.leader.maxSeqNo, excess: 0, scanned: false, idsChecked: 0, deleted: 0, clean: true,
      foreignWritesDetected: 0, foreignWritesRepaired: 0, ...next,
    };
  }
}

describe('ShardFollowTask reconciliation', () => {
  let tasks: ShardFollowTask[];
  beforeEach(() => { tasks = []; });
  afterEach(async () => {
    for (const t of tasks) await withDeadline(t.stop(0), 2000, 'stop()');
  });

  function start(outcomes: Array<Partial<ReconcileOutcome> | Error>) {
    const leader = new FakeLeader();
    const follower = new FakeFollower();
    const sleep = new FakeSleep();
    const timers = new FakeTimers();
    const reconciler = new FakeReconciler(outcomes, leader);
    const failures: Error[] = [];
    const clock = { now: 1_000_000 };
    const task = new ShardFollowTask({
      shard: 0, reader: leader, writer: follower, reconciler, logger: silentLogger, onCheckpoint: () => undefined,
      sleep: sleep.sleep, random: () => 1, schedule: timers.schedule, now: () => clock.now,
    }, { ...DEFAULT_FOLLOW_PARAMS, ...TEST_PARAMS, reconcile_interval: INTERVAL, read_poll_timeout: 60_000 }, -1);
    task.on('failed', (err) => failures.push(err));
    tasks.push(task);
    return { leader, follower, sleep, timers, reconciler, task, failures, clock };
  }

  it('reconciles once caught up and adds what the pass found to the stats', async () => {
    const h = start([{ scanned: true, idsChecked: 40, deleted: 3, excess: 3, foreignWritesDetected: 2, foreignWritesRepaired: 1 }]);
    h.task.start();
    await until(() => h.task.stats().reconciliations === 1);
    const stats = h.task.stats();
    expect(stats).to.include({
      reconciliations: 1, reconciliation_id_scans: 1, reconciliation_ids_checked: 40, operations_deleted: 3,
      foreign_writes_detected: 2, foreign_writes_repaired: 1, failed_reconciliations: 0,
    });
    expect(stats.last_reconciliation).to.be.a('string');
    // The leader has not changed since that clean pass: the next is an idle one, six intervals on.
    await turns(5);
    expect(h.timers.live.map((t) => t.ms)).to.deep.equal([IDLE_RECONCILE_FACTOR * INTERVAL]);
  });

  it('retries a reconciliation that failed, counting it, then goes on', async () => {
    const h = start([new ClusterConnectionError({ alias: 'leader', operation: 'count', reason: 'ECONNREFUSED' }), {}]);
    h.task.start();
    await until(() => h.task.stats().reconciliations === 1);
    const stats = h.task.stats();
    expect(stats.failed_reconciliations).to.equal(1);
    expect(stats.reconcile_exceptions.map((e) => e.exception.type)).to.deep.equal(['ClusterConnectionError']);
    expect(h.reconciler.calls).to.have.length(2);
    expect(h.task.state).to.equal('running');
  });

  it('fails the task on a fatal reconciliation error', async () => {
    const h = start([responseError(403, 'security_exception', 'follower', 'delete')]);
    h.task.start();
    await until(() => h.task.state === 'failed');
    expect(h.failures.map((e) => e.message)).to.have.length(1);
    expect(h.task.stats().fatal_exception?.type).to.equal('security_exception');
  });

  it('reconciles again one interval after the leader changed, once the follower caught up', async () => {
    const h = start([{}]);
    h.task.start();
    await until(() => h.task.stats().reconciliations === 1);
    fillLeader(h.leader, 20);
    h.leader.advance();
    await until(() => h.task.checkpoint === h.leader.globalCheckpoint && h.timers.live.length === 1);
    expect(h.timers.live[0]!.ms).to.equal(INTERVAL);
    h.clock.now += INTERVAL;
    h.timers.fireAll();
    await until(() => h.task.stats().reconciliations === 2);
    expect(h.follower.docs.size).to.equal(20);
  });

  it('runs no pass after a stop, even when its timer was armed', async () => {
    const h = start([{}]);
    h.task.start();
    await until(() => h.task.stats().reconciliations === 1);
    await turns(5);
    expect(h.timers.live).to.have.length(1);
    await h.task.stop(0);
    expect(h.timers.live).to.have.length(0);
    h.timers.fireAll();
    await turns(5);
    expect(h.reconciler.calls).to.have.length(1);
  });
});
