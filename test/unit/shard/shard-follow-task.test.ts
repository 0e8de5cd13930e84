import { externalVersion } from '../../../src/shard/external-version.js';
import { expect } from 'chai';
import { ClusterConnectionError, ClusterResponseError } from '../../../src/cluster/errors.js';
import { ShardTaskStates } from '../../../src/shard/shard-follow-task.js';
import { abortError } from '../../../src/util/sleep.js';
import { DEFAULT_FOLLOW_PARAMS, type FollowParams } from '../../../src/shard/follow-params.js';
import { FakeLeader, fillLeader, harness, responseError, turns, until, withDeadline, type Harness } from './fakes.js';
import { mulberry32, randomInt } from '../../helpers/prng.js';

describe('ShardFollowTask', () => {
  const started: Harness[] = [];
  const make = (opts: Parameters<typeof harness>[0] = {}): Harness => {
    const h = harness(opts);
    started.push(h);
    return h;
  };

  afterEach(async function () {
    // Whatever a test left held, let it go, and stop every task so no work leaks into the next test.
    for (const h of started.splice(0)) {
      h.follower.releaseAll();
      h.leader.releaseReads();
      h.sleep.releaseAll();
      await withDeadline(h.task.stop(0), 2000, `stop() of the task of "${this.currentTest?.title ?? '?'}"`);
    }
  });

  describe('replication', () => {
    it('copies every live operation, so the follower ends equal to the leader', async () => {
      const random = mulberry32(11);
      const h = make();
      // Overwrites (80 ids for 300 ops) and no-ops leave many seq_nos without a live document.
      fillLeader(h.leader, 300, { distinctIds: 80, noopEvery: 7, random });
      h.leader.advance(250); // operations above the global checkpoint exist but must not be read yet
      h.task.start();
      await until(() => h.task.checkpoint === 250, 2000, () => `checkpoint 250, at ${h.task.checkpoint}`);
      expect(h.task.stats().leader_max_seq_no).to.equal(299);

      // The leader keeps writing while the follower catches up, in bursts.
      for (let burst = 0; burst < 3; burst += 1) {
        fillLeader(h.leader, 120, { distinctIds: 80, noopEvery: 5, random });
        h.leader.advance();
        await turns(randomInt(random, 0, 3));
      }
      await until(h.converged, 3000, () => `convergence: ${h.follower.diff(h.leader).slice(0, 5).join('; ')}`);

      const g = h.leader.globalCheckpoint;
      expect(g).to.equal(h.leader.maxSeqNo);
      expect(h.checkpoints.at(-1)).to.equal(g);
      for (let i = 1; i < h.checkpoints.length; i += 1) expect(h.checkpoints[i]).to.be.above(h.checkpoints[i - 1]!);
      expect(h.unsafeCheckpoints).to.deep.equal([]);
      expect(h.leader.violations, 'reads above the global checkpoint').to.deep.equal([]);
      const stats = h.task.stats();
      expect(stats).to.include({
        state: 'running',
        leader_global_checkpoint: g,
        follower_global_checkpoint: g,
        last_requested_seq_no: g,
        lag_operations: 0,
        outstanding_read_requests: 0,
        outstanding_write_requests: 0,
        write_buffer_operation_count: 0,
        write_buffer_size_in_bytes: 0,
        failed_read_requests: 0,
        failed_write_requests: 0,
      });
      expect(stats.fatal_exception).to.equal(undefined);
      expect(h.failures).to.deep.equal([]);
      // Caught up: the task waits on the leader for more.
      expect(h.leader.pendingPolls).to.equal(1);
    });

    it('resumes from the initial checkpoint without reading below it', async () => {
      const leader = new FakeLeader();
      fillLeader(leader, 100);
      leader.advance();
      const h = make({ leader, initialCheckpoint: 49 });
      h.task.start();
      await until(() => h.task.checkpoint === 99);
      expect(h.leader.pollCalls[0]?.above).to.equal(49);
      expect(h.leader.readCalls[0]?.from).to.equal(49);
      expect(h.leader.readCalls.every((c) => c.from >= 49)).to.equal(true);
      expect([...h.follower.docs.values()].map((d) => d.version).sort((a, b) => a - b))
        .to.deep.equal(Array.from({ length: 50 }, (_, i) => externalVersion(50 + i)));
    });

    it('waits on the leader with read_poll_timeout, and asks again when a wait times out', async () => {
      const h = make({ params: { read_poll_timeout: 12_345 } });
      h.task.start();
      await until(() => h.leader.pendingPolls === 1);
      expect(h.leader.pollCalls[0]).to.include({ above: -1, timeoutMs: 12_345 });
      h.leader.timeoutPolls();
      await until(() => h.leader.pendingPolls === 1 && h.leader.pollCalls.length === 2);
      expect(h.leader.pollCalls[1]).to.include({ above: -1, timeoutMs: 12_345 });
      expect(h.leader.readCalls).to.have.length(0);
      fillLeader(h.leader, 12);
      h.leader.advance();
      await until(h.converged);
      expect(h.checkpoints.at(-1)).to.equal(11);
    });
  });

  describe('stats', () => {
    it('reports the lag in operations and in time since the oldest unapplied operation was seen', async () => {
      let clock = 1_000;
      const h = make({ now: () => clock });
      h.task.start();
      await until(() => h.leader.pendingPolls === 1);
      expect(h.task.stats()).to.include({ lag_operations: 0, lag_millis: 0 });

      h.follower.hold();
      fillLeader(h.leader, 20);
      clock = 2_000;
      h.leader.advance();
      await until(() => h.follower.held.length > 0 && h.leader.pendingPolls === 1);
      clock = 5_000;
      expect(h.task.stats()).to.include({ leader_global_checkpoint: 19, lag_operations: 20, lag_millis: 3_000 });

      // More operations while still behind: the lag still dates from the oldest unapplied ones.
      fillLeader(h.leader, 10);
      clock = 6_000;
      h.leader.advance();
      await until(() => h.task.stats().leader_global_checkpoint === 29);
      clock = 7_000;
      expect(h.task.stats()).to.include({ lag_operations: 30, lag_millis: 5_000 });
      const { shard_id, operations_written, lag_operations, lag_millis } = h.task.stats();
      expect(h.task.progress(), 'progress: the same figures, without a whole snapshot').to.deep.equal({ shard_id, operations_written, lag_operations, lag_millis });

      h.follower.releaseAll();
      await until(h.converged);
      expect(h.task.stats()).to.include({ lag_operations: 0, lag_millis: 0 });
    });
  });

  describe('coordinateReads', () => {
    const fillsUp = async (h: Harness, full: () => boolean): Promise<void> => {
      await until(() => full() && h.task.stats().outstanding_read_requests === 0, 2000, () => `a full buffer: ${JSON.stringify(h.task.stats())}`);
    };

    it('stops reading when the write buffer is full', async () => {
      const readOps = 10;
      const maxCount = 25;
      const h = make({
        params: {
          max_read_request_operation_count: readOps,
          max_outstanding_read_requests: 1,
          max_write_buffer_count: maxCount,
          max_write_request_operation_count: 5,
          max_outstanding_write_requests: 1,
        },
      });
      fillLeader(h.leader, 200);
      h.leader.advance();
      h.follower.hold();
      h.task.start();
      await fillsUp(h, () => h.task.stats().write_buffer_operation_count >= maxCount);

      const full = h.task.stats();
      const reads = h.leader.readCalls.length;
      const polls = h.leader.pollCalls.length;
      await turns(50);
      expect(h.leader.readCalls.length, 'reads issued while the buffer was full').to.equal(reads);
      expect(h.leader.pollCalls.length, 'polls issued while the buffer was full').to.equal(polls);
      expect(h.task.stats().write_buffer_operation_count).to.equal(full.write_buffer_operation_count);
      // Stopped by the buffer, not because everything was read.
      expect(full.last_requested_seq_no).to.be.below(h.leader.globalCheckpoint);
      // At most one read request's worth over the limit.
      expect(full.peak_write_buffer_operation_count).to.be.at.most(maxCount - 1 + readOps);
      expect(h.follower.held).to.have.length(1);

      h.follower.releaseAll();
      await until(h.converged, 3000);
      expect(h.task.stats().peak_write_buffer_operation_count).to.be.at.most(maxCount - 1 + readOps);
      expect(h.unsafeCheckpoints).to.deep.equal([]);
    });

    it('stops reading when the write buffer size in bytes is full', async () => {
      const readOps = 10;
      const opBytes = 100;
      const maxBytes = 2500;
      const h = make({
        params: {
          max_read_request_operation_count: readOps,
          max_outstanding_read_requests: 1,
          max_write_buffer_size: maxBytes,
          max_write_request_operation_count: 5,
          max_outstanding_write_requests: 1,
        },
      });
      fillLeader(h.leader, 200, { sourceBytes: opBytes });
      h.leader.advance();
      h.follower.hold();
      h.task.start();
      await fillsUp(h, () => h.task.stats().write_buffer_size_in_bytes >= maxBytes);

      const full = h.task.stats();
      const reads = h.leader.readCalls.length;
      await turns(50);
      expect(h.leader.readCalls.length, 'reads issued while the buffer was full').to.equal(reads);
      expect(h.task.stats().write_buffer_size_in_bytes).to.equal(full.write_buffer_size_in_bytes);
      expect(full.write_buffer_operation_count * opBytes).to.equal(full.write_buffer_size_in_bytes);
      expect(full.last_requested_seq_no).to.be.below(h.leader.globalCheckpoint);
      expect(full.peak_write_buffer_size_in_bytes).to.be.at.most(maxBytes - 1 + readOps * opBytes);

      h.follower.releaseAll();
      await until(h.converged, 3000);
      expect(h.task.stats().peak_write_buffer_size_in_bytes).to.be.at.most(maxBytes - 1 + readOps * opBytes);
    });

    it('overshoots max_write_buffer_count by at most one read per outstanding read request', async () => {
      const readOps = 10;
      const maxCount = 25;
      const outstanding = 4;
      const h = make({
        params: {
          max_read_request_operation_count: readOps,
          max_outstanding_read_requests: outstanding,
          max_write_buffer_count: maxCount,
          max_write_request_operation_count: 5,
          max_outstanding_write_requests: 1,
        },
      });
      fillLeader(h.leader, 400);
      h.leader.advance();
      h.follower.hold();
      h.task.start();
      await fillsUp(h, () => h.task.stats().write_buffer_operation_count >= maxCount);
      const reads = h.leader.readCalls.length;
      await turns(50);
      expect(h.leader.readCalls.length).to.equal(reads);
      // Reads already in flight when the limit is reached still land (as in Elasticsearch CCR).
      expect(h.task.stats().peak_write_buffer_operation_count).to.be.at.most(maxCount - 1 + outstanding * readOps);
      h.follower.releaseAll();
      await until(h.converged, 3000);
    });

    it('never has more than max_outstanding_read_requests reads in flight', async () => {
      const h = make({ params: { max_outstanding_read_requests: 3, max_read_request_operation_count: 10 } });
      fillLeader(h.leader, 500, { distinctIds: 300, random: mulberry32(5) });
      h.leader.advance();
      h.task.start();
      let maxSeen = 0;
      await until(() => {
        maxSeen = Math.max(maxSeen, h.task.stats().outstanding_read_requests);
        return h.converged();
      }, 3000);
      expect(h.leader.maxReadsInFlight).to.equal(3); // reached, never exceeded
      expect(maxSeen).to.be.at.most(3);
    });

    it('sendRead › leaves operations beyond max_read_request_size to a following read', async () => {
      // 10 operations of 100 bytes fit one read by count, but not by size (250 bytes).
      const h = make({ params: { max_read_request_operation_count: 10, max_read_request_size: 250, max_outstanding_read_requests: 1 } });
      fillLeader(h.leader, 10, { sourceBytes: 100 });
      h.leader.advance();
      h.task.start();
      await until(h.converged);
      const stats = h.task.stats();
      // Each read may keep at most max_read_request_size plus the one operation that crossed it.
      expect(stats.successful_read_requests, 'reads needed for 1000 bytes at 250 (+1 op) each').to.be.at.least(3);
      expect(stats.bytes_read / stats.successful_read_requests).to.be.at.most(350);
      // Each follow-up continues the same window where the kept part ended; nothing is kept twice.
      const froms = h.leader.readCalls.map((c) => c.from);
      expect(h.leader.readCalls.every((c) => c.to === 9)).to.equal(true);
      for (let i = 1; i < froms.length; i += 1) expect(froms[i]).to.be.above(froms[i - 1]!);
      expect(stats.operations_read).to.equal(10);
      expect(h.unsafeCheckpoints).to.deep.equal([]);
      expect(h.checkpoints.at(-1)).to.equal(9);
    });
  });

  describe('coordinateReads with max_outstanding_read_requests at its default', () => {
    it('keeps at most two reads in flight and two write requests\' worth of operations ahead of the writes', async () => {
      const h = make({ params: { max_outstanding_read_requests: DEFAULT_FOLLOW_PARAMS.max_outstanding_read_requests, max_read_request_operation_count: 10, max_write_request_operation_count: 10 } });
      h.follower.hold();
      fillLeader(h.leader, 500);
      h.leader.advance();
      h.task.start();
      // Writes held: both bulk slots fill, then reads stop once 20 operations wait (a read may bring 9 more).
      await until(() => h.follower.held.length === 2 && h.task.stats().outstanding_read_requests === 0 && h.task.stats().write_buffer_operation_count >= 20, 2000,
        () => `reads stopped ahead of held writes: ${JSON.stringify(h.task.stats())}`);
      expect(h.leader.maxReadsInFlight).to.equal(2);
      expect(h.task.stats().peak_write_buffer_operation_count).to.be.at.most(29);
      expect(h.task.stats().last_requested_seq_no).to.be.below(100);
      h.follower.releaseAll();
      await until(h.converged, 3000);
      expect(h.leader.maxReadsInFlight).to.equal(2);
    });

    it('does not poll the leader while every read slot is busy, and polls again once one is free', async () => {
      const h = make({ params: { max_outstanding_read_requests: 2, max_read_request_operation_count: 10 } });
      h.leader.holdReads();
      fillLeader(h.leader, 20);
      h.leader.advance();
      h.task.start();
      await until(() => h.leader.readsInFlight === 2, 2000, () => `2 reads in flight, saw ${h.leader.readsInFlight}`);
      const polls = h.leader.pollCalls.length;
      fillLeader(h.leader, 20);
      h.leader.advance();
      await turns(20);
      expect(h.leader.pollCalls.length, 'no poll while both reads are in flight').to.equal(polls);
      h.leader.releaseReads();
      await until(h.converged, 3000);
      expect(h.leader.pollCalls.length).to.be.greaterThan(polls);
    });

    it('uses a max_outstanding_read_requests that was set as given', async () => {
      const h = make({ params: { max_outstanding_read_requests: 5, max_read_request_operation_count: 10 } });
      h.leader.holdReads();
      fillLeader(h.leader, 500);
      h.leader.advance();
      h.task.start();
      await until(() => h.leader.readsInFlight === 5, 2000, () => `5 reads in flight, saw ${h.leader.readsInFlight}`);
      h.leader.releaseReads();
      await until(h.converged, 3000);
      expect(h.leader.maxReadsInFlight).to.equal(5);
    });
  });

  describe('coordinateWrites', () => {
    it('sends no more bulk requests at once than the writer\'s shared limit allows, following it as it changes', async () => {
      const h = make({ params: { max_outstanding_write_requests: 4, max_write_request_operation_count: 5 } });
      h.follower.sharedLimit = 1;
      h.follower.hold();
      fillLeader(h.leader, 200);
      h.leader.advance();
      h.task.start();
      await until(() => h.follower.held.length === 1 && h.task.stats().write_buffer_operation_count > 0);
      expect(h.task.stats().outstanding_write_requests).to.equal(1);
      h.follower.sharedLimit = 3;
      h.follower.releaseAt(0);
      await until(() => h.follower.held.length === 3, 2000, () => `3 held writes, saw ${h.follower.held.length}`);
      h.follower.releaseAll();
      await until(h.converged, 3000);
      expect(h.follower.maxWritesInFlight).to.equal(3);
    });

    it('never has more than max_outstanding_write_requests bulk requests in flight', async () => {
      const h = make({ params: { max_outstanding_write_requests: 2, max_write_request_operation_count: 4 } });
      fillLeader(h.leader, 500, { distinctIds: 300, random: mulberry32(6) });
      h.leader.advance();
      h.task.start();
      let maxSeen = 0;
      await until(() => {
        maxSeen = Math.max(maxSeen, h.task.stats().outstanding_write_requests);
        return h.converged();
      }, 3000);
      expect(h.follower.maxWritesInFlight).to.equal(2);
      expect(maxSeen).to.be.at.most(2);
      expect(Math.max(...h.follower.requests.map((r) => r.ops.length))).to.be.at.most(4);
    });

    it('bounds a bulk request by max_write_request_size, yet sends an oversized operation alone', async () => {
      const h = make({ params: { max_write_request_operation_count: 100, max_write_request_size: 350 } });
      fillLeader(h.leader, 30, { sourceBytes: 100 });
      h.leader.index('big', 'x'.repeat(1000));
      h.leader.advance();
      h.task.start();
      await until(h.converged);
      for (const r of h.follower.requests) {
        const bytes = r.ops.reduce((s, op) => s + (op.op === 'index' ? Buffer.byteLength(op.sourceJson) : 0), 0);
        if (r.ops.length > 1) expect(bytes).to.be.at.most(350);
      }
      expect(h.follower.requests.find((r) => r.ops.some((op) => op.id === 'big'))?.ops).to.have.length(1);
    });
  });

  describe('errors', () => {
    it('retries exactly N retryable read failures, then converges', async () => {
      const h = make();
      fillLeader(h.leader, 100, { distinctIds: 40, random: mulberry32(7) });
      h.leader.advance();
      h.leader.failNextReads(1, () => responseError(503, 'unavailable_shards_exception'));
      h.leader.failNextReads(1, () => new ClusterConnectionError({ alias: 'leader', operation: 'search', reason: 'connect ECONNREFUSED 127.0.0.1:9200' }));
      h.leader.failNextReads(1, () => responseError(429, 'es_rejected_execution_exception'));
      h.task.start();
      await until(h.converged);
      const stats = h.task.stats();
      expect(stats.failed_read_requests).to.equal(3);
      expect(stats.read_exceptions.map((e) => e.exception.type))
        .to.deep.equal(['unavailable_shards_exception', 'ClusterConnectionError', 'es_rejected_execution_exception']);
      expect(stats.read_exceptions.every((e) => e.kind === 'read')).to.equal(true);
      expect(stats.fatal_exception).to.equal(undefined);
      expect(h.failures).to.deep.equal([]);
      expect(h.task.state).to.equal('running');
      // One backoff per failure, each able to be cut short by a stop.
      expect(h.sleep.calls).to.have.length(3);
      expect(h.sleep.calls.every((c) => c.signal !== undefined && !c.signal.aborted)).to.equal(true);
    });

    it('backs off exponentially while one read keeps failing, and starts over after a success', async () => {
      const h = make({ params: { max_outstanding_read_requests: 1, max_retry_delay: 500 } });
      fillLeader(h.leader, 30);
      h.leader.advance();
      h.leader.failNextReads(6, () => responseError(503, 'unavailable_shards_exception'));
      h.task.start();
      await until(h.converged);
      // random() is 0.5: 3/4 of min(500, 50·2^(n-1)).
      expect(h.sleep.calls.map((c) => c.ms)).to.deep.equal([38, 75, 150, 300, 375, 375]);
      expect(h.task.stats().read_exceptions.map((e) => e.retries)).to.deep.equal([1, 2, 3, 4, 5, 6]);

      fillLeader(h.leader, 5);
      h.leader.failNextReads(1, () => responseError(503, 'unavailable_shards_exception'));
      h.leader.advance();
      await until(h.converged);
      expect(h.sleep.calls.at(-1)?.ms).to.equal(38);
      expect(h.task.stats().read_exceptions.at(-1)?.retries).to.equal(1);
    });

    it('retries only the bulk items answered 429, then converges', async () => {
      const h = make({ params: { max_write_request_operation_count: 7 } });
      fillLeader(h.leader, 60);
      h.leader.advance();
      const throttled = new Set(['doc-3', 'doc-17', 'doc-44']);
      h.follower.itemFailure = (op, attempt) =>
        throttled.has(op.id) && attempt <= 3 ? responseError(429, 'es_rejected_execution_exception', 'follower', 'bulk') : undefined;
      h.task.start();
      await until(h.converged);
      for (const id of h.leader.liveDocs().keys()) {
        expect(h.follower.sent.get(id), id).to.equal(throttled.has(id) ? 4 : 1);
      }
      const stats = h.task.stats();
      expect(stats.failed_write_requests).to.be.at.least(3);
      expect(stats.write_exceptions).to.have.length.above(0);
      expect(stats.write_exceptions[0]?.exception.type).to.equal('es_rejected_execution_exception');
      expect(stats.operations_written).to.equal(60);
      expect(h.failures).to.deep.equal([]);
      expect(h.unsafeCheckpoints).to.deep.equal([]);
    });

    it('retries a whole bulk request that failed with 503, then converges', async () => {
      const h = make();
      fillLeader(h.leader, 40);
      h.leader.advance();
      let failuresLeft = 2;
      const write = h.follower.write.bind(h.follower);
      h.follower.write = async (ops, signal) => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw responseError(503, 'unavailable_shards_exception', 'follower', 'bulk');
        }
        return write(ops, signal);
      };
      h.task.start();
      await until(h.converged);
      expect(h.task.stats().failed_write_requests).to.equal(2);
      expect(h.failures).to.deep.equal([]);
    });

    it('retries a read cut short by an abort that was not its own', async () => {
      const h = make();
      fillLeader(h.leader, 30);
      h.leader.advance();
      // e.g. a shared refresh aborted on behalf of another shard: this task was not stopped.
      h.leader.failNextReads(1, () => abortError());
      h.task.start();
      await until(h.converged);
      expect(h.task.state).to.equal('running');
      expect(h.task.stats().failed_read_requests).to.equal(1);
      expect(h.failures).to.deep.equal([]);
    });

    it('fails on a fatal read error, reports it once and sends nothing more', async () => {
      const h = make({ params: { max_outstanding_read_requests: 3 } });
      fillLeader(h.leader, 100);
      h.leader.advance();
      h.leader.failAllReads(() => responseError(404, 'index_not_found_exception'));
      h.task.start();
      await until(() => h.task.state === 'failed');
      const reads = h.leader.readCalls.length;
      const polls = h.leader.pollCalls.length;
      await turns(50);
      expect(h.leader.readCalls.length).to.equal(reads);
      expect(h.leader.pollCalls.length).to.equal(polls);
      expect(h.follower.requests).to.have.length(0);
      expect(h.sleep.calls, 'a fatal error is not retried').to.have.length(0);
      expect(h.leader.readCalls.every((c) => c.signal.aborted)).to.equal(true);

      expect(h.failures).to.have.length(1);
      expect(h.failures[0]).to.be.instanceOf(ClusterResponseError).and.to.have.property('esType', 'index_not_found_exception');
      expect(h.task.failure).to.equal(h.failures[0]);
      const stats = h.task.stats();
      expect(stats.state).to.equal('failed');
      expect(stats.fatal_exception?.type).to.equal('index_not_found_exception');
      expect(h.task.checkpoint).to.equal(-1);
      expect(h.checkpoints).to.deep.equal([]);
      expect(h.transitions).to.deep.equal([
        { from: 'created', to: 'running' },
        { from: 'running', to: 'failed' },
      ]);
      await withDeadline(h.task.stop(), 2000, 'stop()');
      expect(h.task.state).to.equal('failed');
      expect(h.transitions).to.have.length(2);
    });

    it('fails on a fatal bulk item, without covering it with the checkpoint', async () => {
      const h = make({ params: { max_read_request_operation_count: 5 } });
      fillLeader(h.leader, 30);
      h.leader.advance();
      h.follower.itemFailure = (op) => (op.id === 'doc-12' ? responseError(400, 'mapper_parsing_exception', 'follower', 'bulk') : undefined);
      h.task.start();
      await until(() => h.task.state === 'failed');
      const writes = h.follower.requests.length;
      await turns(50);
      expect(h.follower.requests.length).to.equal(writes);
      expect(h.failures).to.have.length(1);
      expect(h.task.stats().fatal_exception?.type).to.equal('mapper_parsing_exception');
      expect(h.follower.docs.has('doc-12')).to.equal(false);
      expect(h.task.checkpoint).to.be.below(12);
      expect(h.unsafeCheckpoints).to.deep.equal([]);
      expect(h.task.stats().write_buffer_operation_count).to.equal(0);
    });

    it('fails when the follower answers a different number of items than it was sent', async () => {
      const h = make();
      fillLeader(h.leader, 20);
      h.leader.advance();
      h.follower.write = async (ops) => ops.slice(1).map((op) => ({ outcome: 'applied' as const, id: op.id }));
      h.task.start();
      await until(() => h.task.state === 'failed');
      expect(h.failures[0]?.message).to.match(/bulk answered \d+ items for \d+ operations/);
      expect(h.task.stats().fatal_exception?.type, 'a condition found by ccr-follow, named as Elasticsearch names it').to.equal('illegal_state_exception');
      expect(h.task.checkpoint).to.equal(-1);
    });
  });

  describe('stop', () => {
    it('returns the same promise when called again', async () => {
      const h = make();
      h.task.start();
      await until(() => h.leader.pendingPolls === 1);
      const first = h.task.stop();
      expect(h.task.stop()).to.equal(first);
      await withDeadline(first, 2000, 'stop()');
      expect(h.task.stop()).to.equal(first);
      expect(h.task.state).to.equal('stopped');
      expect(h.transitions.filter((t) => t.to === 'stopped')).to.have.length(1);
    });

    it('aborts a poll in progress', async () => {
      const h = make();
      h.task.start();
      await until(() => h.leader.pendingPolls === 1);
      const poll = h.leader.pollCalls.at(-1)!;
      const stopping = h.task.stop();
      expect(poll.signal.aborted).to.equal(true);
      await withDeadline(stopping, 2000, 'stop()');
      expect(h.task.state).to.equal('stopped');
      expect(h.leader.pendingPolls).to.equal(0);
      expect(h.task.stats().failed_read_requests, 'an abort is not a failure').to.equal(0);
      expect(h.failures).to.deep.equal([]);
    });

    it('aborts backoff sleeps', async () => {
      const h = make();
      fillLeader(h.leader, 40);
      h.leader.advance();
      h.sleep.hold = true;
      h.leader.failAllReads(() => responseError(503, 'unavailable_shards_exception'));
      h.task.start();
      await until(() => h.sleep.calls.length === 3); // each of the 3 outstanding reads backs off
      expect(h.sleep.calls.every((c) => c.signal?.aborted === false)).to.equal(true);
      const reads = h.leader.readCalls.length;
      await withDeadline(h.task.stop(), 2000, 'stop()');
      expect(h.sleep.calls.every((c) => c.signal?.aborted === true)).to.equal(true);
      expect(h.task.state).to.equal('stopped');
      expect(h.leader.readCalls.length, 'no retry after the stop').to.equal(reads);
      expect(h.failures).to.deep.equal([]);
    });

    it('lets bulk requests already sent land, drops the buffer, then ends stopped', async () => {
      const h = make({ params: { max_outstanding_write_requests: 2, max_write_request_operation_count: 4 } });
      fillLeader(h.leader, 60);
      h.leader.advance();
      h.follower.hold();
      h.task.start();
      await until(() => h.follower.held.length === 2 && h.task.stats().write_buffer_operation_count > 0);
      const inFlight = h.follower.held.flatMap((w) => w.ops.map((op) => op.id));
      const writes = h.follower.requests.length;

      let settled = false;
      const stopping = h.task.stop(60_000).then(() => {
        settled = true;
      });
      expect(h.task.state).to.equal('stopping');
      expect(h.task.stats().write_buffer_operation_count, 'buffer dropped').to.equal(0);
      await turns(20);
      expect(settled, 'stop() settled before the writes in flight landed').to.equal(false);

      h.follower.releaseAll();
      await withDeadline(stopping, 2000, 'stop()');
      expect(h.task.state).to.equal('stopped');
      for (const id of inFlight) expect(h.follower.docs.has(id), id).to.equal(true);
      expect(h.follower.requests.length, 'no new bulk request after stop()').to.equal(writes);
      expect(h.follower.requests.every((r) => !r.signal.aborted)).to.equal(true);
      expect(h.unsafeCheckpoints).to.deep.equal([]);
      expect(h.follower.covers(h.leader, h.task.checkpoint)).to.equal(true);
      expect(h.task.checkpoint, 'buffered operations were dropped, not applied').to.be.below(h.leader.globalCheckpoint);
      expect(h.transitions.map((t) => t.to)).to.deep.equal(['running', 'stopping', 'stopped']);
    });

    it('aborts bulk requests still in flight after the grace period', async () => {
      const h = make();
      fillLeader(h.leader, 40);
      h.leader.advance();
      h.follower.hold();
      h.task.start();
      await until(() => h.follower.held.length === 2);
      await withDeadline(h.task.stop(5), 2000, 'stop()');
      expect(h.task.state).to.equal('stopped');
      expect(h.follower.requests.every((r) => r.signal.aborted)).to.equal(true);
      expect(h.follower.docs.size).to.equal(0);
      expect(h.task.checkpoint).to.equal(-1);
      expect(h.failures).to.deep.equal([]);
    });
  });

  describe('checkpoint', () => {
    /**
     * The end of the longest prefix of read windows that were answered and whose live operations
     * are all on the follower. (A window aborted by a stop never completes, even an empty one.)
     */
    const expectedCheckpoint = (h: Harness, initial = -1): number => {
      const windows = h.leader.readCalls
        .map((c, i) => ({ from: c.from, to: c.to, answered: h.leader.readAnswers[i] !== undefined }))
        .sort((a, b) => a.to - b.to);
      let checkpoint = initial;
      for (const w of windows) {
        if (w.from !== checkpoint || !w.answered || !h.follower.covers(h.leader, w.to)) break;
        checkpoint = w.to;
      }
      return checkpoint;
    };
    const windowParams: Partial<FollowParams> = {
      max_read_request_operation_count: 5,
      max_outstanding_read_requests: 4,
      max_write_request_operation_count: 3,
      max_outstanding_write_requests: 2,
    };

    it('never covers a window whose operations were not all acknowledged, with writes landing out of order', async () => {
      const h = make({ params: windowParams });
      fillLeader(h.leader, 20);
      h.leader.advance();
      h.follower.hold();
      h.task.start();
      await until(() => h.follower.held.length === 2);
      const first = h.follower.held[0]!;
      expect(first.ops.map((op) => op.version)).to.deep.equal([0, 1, 2].map(externalVersion));

      // Let every later bulk request land before the first one.
      const allRead = (): boolean => h.task.stats().last_requested_seq_no === 19 && h.task.stats().outstanding_read_requests === 0;
      for (;;) {
        await until(() => h.follower.held.length === 2 || (allRead() && h.task.stats().write_buffer_operation_count === 0 && h.follower.held.length === 1));
        if (h.follower.held.length === 1) break;
        h.follower.releaseAt(1);
        await turns(2);
        expect(h.task.checkpoint, 'checkpoint moved while seq_nos 0..2 were unacknowledged').to.equal(-1);
      }
      expect(h.follower.held[0]).to.equal(first);
      expect(h.checkpoints).to.deep.equal([]);
      // Some bulk request spanned two read windows, so a window was completed by two requests.
      expect(h.follower.requests.some((r) => {
        const windows = new Set(r.ops.map((op) => Math.floor(op.version / 5)));
        return windows.size > 1;
      })).to.equal(true);

      h.follower.releaseAt(0);
      await until(h.converged);
      // Every other window was already complete: the checkpoint jumps straight to the end.
      expect(h.checkpoints).to.deep.equal([19]);
      expect(h.unsafeCheckpoints).to.deep.equal([]);
    });

    for (const seed of [3, 17, 99, 2024]) {
      it(`covers exactly the acknowledged windows when writes land in random order, through a stop (seed ${seed})`, async () => {
        const random = mulberry32(seed);
        const h = make({ params: { ...windowParams, max_outstanding_write_requests: 3 } });
        fillLeader(h.leader, 80, { distinctIds: 50, noopEvery: 6, random });
        h.leader.advance();
        h.follower.hold();
        h.task.start();
        let stopping: Promise<void> | undefined;
        for (let step = 0; ; step += 1) {
          await until(() => h.follower.held.length > 0 || h.converged() || (stopping !== undefined && h.task.state === 'stopped'), 2000,
            () => `a held write (step ${step}): ${JSON.stringify(h.task.stats())}`);
          if (h.follower.held.length === 0) break;
          h.follower.releaseAt(randomInt(random, 0, h.follower.held.length - 1));
          await until(() => h.task.checkpoint === expectedCheckpoint(h), 2000,
            () => `checkpoint ${expectedCheckpoint(h)}, at ${h.task.checkpoint} (step ${step})`);
          if (step === 8) stopping = h.task.stop(60_000);
        }
        expect(stopping, 'the run was long enough to stop midway').to.not.equal(undefined);
        await withDeadline(stopping ?? Promise.resolve(), 2000, 'stop()');
        expect(h.task.state).to.equal('stopped');
        expect(h.unsafeCheckpoints).to.deep.equal([]);
        expect(h.task.checkpoint).to.equal(expectedCheckpoint(h));
        expect(h.checkpoints.at(-1) ?? -1).to.equal(h.task.checkpoint);
      });
    }
  });

  describe('state machine', () => {
    it('refuses start() twice', async () => {
      const h = make();
      h.task.start();
      expect(() => h.task.start()).to.throw(/illegal state change running → running/);
      expect(h.task.state).to.equal('running');
    });

    it('refuses start() after stop()', async () => {
      const h = make();
      await withDeadline(h.task.stop(), 2000, 'stop()');
      expect(() => h.task.start()).to.throw(/illegal state change stopped → running/);
    });

    it('goes from created straight to stopped when stopped before starting, sending nothing', async () => {
      const h = make();
      fillLeader(h.leader, 10);
      h.leader.advance();
      await withDeadline(h.task.stop(), 2000, 'stop()');
      expect(h.task.state).to.equal(ShardTaskStates.stopped);
      expect(h.transitions).to.deep.equal([{ from: 'created', to: 'stopped' }]);
      expect(h.leader.pollCalls).to.have.length(0);
      expect(h.leader.readCalls).to.have.length(0);
    });

    it('emits state-change events in order through a run and a stop', async () => {
      const h = make();
      expect(h.task.state).to.equal('created');
      fillLeader(h.leader, 10);
      h.leader.advance();
      h.task.start();
      await until(h.converged);
      await withDeadline(h.task.stop(), 2000, 'stop()');
      expect(h.transitions).to.deep.equal([
        { from: 'created', to: 'running' },
        { from: 'running', to: 'stopping' },
        { from: 'stopping', to: 'stopped' },
      ]);
    });

    it('ends failed, not stopped, when a fatal error arrives while stopping', async () => {
      const h = make();
      fillLeader(h.leader, 20);
      h.leader.advance();
      h.follower.hold();
      h.follower.itemFailure = () => responseError(400, 'mapper_parsing_exception', 'follower', 'bulk');
      h.task.start();
      await until(() => h.follower.held.length > 0);
      const stopping = h.task.stop(60_000);
      h.follower.releaseAll();
      await withDeadline(stopping, 2000, 'stop()');
      expect(h.task.state).to.equal('failed');
      expect(h.transitions.map((t) => t.to)).to.deep.equal(['running', 'stopping', 'failed']);
      expect(h.failures).to.have.length(1);
    });
  });
});
