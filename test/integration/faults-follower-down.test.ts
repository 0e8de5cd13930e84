/**
 * Fault: the follower node is down for two minutes while the leader keeps being written. The real
 * daemon process (heap capped, as in back-pressure.test.ts) must stop reading once each shard's
 * write buffer is full — the buffer never holding more than its limits plus one read — keep its
 * memory within a stated bound, and, once the node is back, catch up to exactly the leader's
 * documents (an independent document-by-document comparison).
 *
 * Stops and restarts a follower node, so it needs nodes this test run started (not CCR_TEST_*_URL).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import type { DocumentWrite, Flavor } from '../../src/cluster/types.js';
import { DaemonProcess, followerStats, stopAllDaemonProcesses, waitForDaemonCaughtUp } from '../helpers/daemon-process.js';
import { pairTitle, useClusterPair } from '../helpers/follow-fixture.js';
import { LeaderWriter } from '../helpers/leader-writer.js';
import { mulberry32 } from '../helpers/prng.js';
import { compareIndices, createLeaderIndex } from '../helpers/replication.js';
import { StatsSampler } from '../helpers/stats-sampler.js';
import { waitFor } from '../helpers/wait-for.js';

/** The follower node away for exactly two minutes. */
const DOWN_MS = 120_000;
const MAX_WRITE_BUFFER_COUNT = 500;
const MAX_WRITE_BUFFER_SIZE = 256 * 1024;
const MAX_READ_REQUEST_OPERATION_COUNT = 100;
const PAYLOAD_BYTES = 1_000;
const BULK_SIZE = 250;
/** Documents the follower holds before the node goes. */
const INITIAL_DOCUMENTS = 5_000;
/** Share of the writes that update an earlier document rather than add one. */
const UPDATE_SHARE = 0.2;
/** Leader operations per second while the node is down: ~30,000 in two minutes, 60× what the buffers may hold. */
const WRITE_RATE = 250;
/** Reads must stay stopped (no successful read on any shard) for at least this long while down. */
const MIN_STALL_MS = 30_000;
const SAMPLE_INTERVAL_MS = 250;
/** The daemon's V8 heap cap (see back-pressure.test.ts for why a cap makes RSS meaningful). */
const DAEMON_HEAP_MB = 128;
/**
 * The bound on the daemon's RSS while the node is down: at most this much above its RSS before
 * the outage. The buffers hold ≤ 3 × (256 KB + one read) of documents; what the leader receives
 * meanwhile (tens of MB) must not accumulate in the daemon.
 */
const RSS_GROWTH_LIMIT_BYTES = 100 * 1024 ** 2;

const MB = 1024 ** 2;
const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;

function document(n: number, version: number): DocumentWrite {
  const payload = `${n}/${version}:`.padEnd(PAYLOAD_BYTES, `lorem-${n % 89}-ipsum `);
  return { op: 'index', id: `doc-${n}`, source: { n, version, payload } };
}

/** Bytes one buffered operation costs at most, as the cluster layer counts it (source + id + 64). */
function maxBufferedBytes(maxN: number): number {
  const doc = document(maxN, 1_000_000);
  return Buffer.byteLength(JSON.stringify(doc.op === 'index' ? doc.source : {})) + Buffer.byteLength(doc.id ?? '') + 64;
}

/** Batches of BULK_SIZE for the leader: new documents, and updates of earlier ones. */
class LeaderDocuments {
  documents = 0;
  operations = 0;
  bytes = 0;
  readonly #random = mulberry32(1002);

  constructor(private readonly client: ClusterClient, private readonly index: string) {}

  writeBatch(): Promise<void> {
    return this.write(BULK_SIZE);
  }

  async write(count: number): Promise<void> {
    const docs: DocumentWrite[] = [];
    for (let i = 0; i < count; i += 1) {
      const update = this.documents > 0 && this.#random() < UPDATE_SHARE;
      const n = update ? Math.floor(this.#random() * this.documents) : this.documents++;
      docs.push(document(n, this.operations + i));
    }
    this.bytes += docs.reduce((sum, d) => sum + (d.op === 'index' ? Buffer.byteLength(JSON.stringify(d.source)) : 0), 0);
    await this.client.writeDocuments(this.index, docs);
    this.operations += docs.length;
  }
}

const PAIRS: readonly (readonly [Flavor, Flavor])[] = [['elasticsearch', 'elasticsearch'], ['elasticsearch', 'opensearch']];

describe('fault: the follower node is down for two minutes while the leader is written', function () {
  this.timeout(900_000);

  for (const flavors of PAIRS) {
    describe(pairTitle(flavors), () => {
      let writer: LeaderWriter | undefined;
      let sampler: StatsSampler | undefined;
      const fx = useClusterPair(flavors, {
        teardown: async (pair) => {
          await writer?.stop().catch(() => undefined);
          await sampler?.stop().catch(() => undefined);
          await stopAllDaemonProcesses();
          // The node must be back whatever happened, for the test files after this one.
          if (pair && !pair.follower.external) await pair.follower.start().catch(() => undefined);
        },
      });

      it('stops reading at the buffer limits with bounded memory, and catches up once the node is back', async function () {
        const { pair, leader, follower } = fx;
        if (pair.follower.external) {
          console.log(`      not run: the follower is external (${pair.follower.url}) and cannot be stopped`);
          this.skip();
        }
        const { leaderIndex, followerIndex } = fx.indexNames();
        await createLeaderIndex(leader, leaderIndex, {
          mappings: { properties: { n: { type: 'integer' }, version: { type: 'integer' }, payload: { type: 'text', index: false } } },
        });
        const documents = new LeaderDocuments(leader, leaderIndex);
        while (documents.operations < INITIAL_DOCUMENTS) await documents.writeBatch();

        const daemon = await DaemonProcess.start({ ...pair, nodeArgs: [`--max-old-space-size=${DAEMON_HEAP_MB}`] });
        await daemon.api('PUT', `/follower/${followerIndex}/_ccr/follow`, {
          remote_cluster: 'leader', leader_index: leaderIndex,
          max_write_buffer_count: MAX_WRITE_BUFFER_COUNT,
          max_write_buffer_size: `${MAX_WRITE_BUFFER_SIZE / 1024}kb`,
          max_read_request_operation_count: MAX_READ_REQUEST_OPERATION_COUNT,
          // Quick retries, so the follower is back to work within a second of the node.
          max_retry_delay: '1s',
        });
        await waitForDaemonCaughtUp(daemon, leader, leaderIndex, followerIndex, 300_000);
        const rssBaseline = await daemon.rssBytes();
        sampler = new StatsSampler(daemon, followerIndex, SAMPLE_INTERVAL_MS);

        // ---- the node goes while the leader keeps being written ----
        // Paced at WRITE_RATE: unpaced, a leader on this machine took ~900,000 operations in two
        // minutes, and the comparison at the end would read all of them twice; a steady rate is also
        // what an application does.
        writer = new LeaderWriter(documents, { opsPerSecond: WRITE_RATE });
        await pair.follower.stop();
        const downAt = Date.now();
        const opsAtDown = documents.operations;

        // Every shard's buffer fills and its reads stop: no read in flight, the buffer at a limit.
        const full = await waitFor(async () => {
          sampler!.check();
          const stats = await followerStats(daemon, followerIndex);
          if (stats.fatal_exception) return { fatal: `${stats.fatal_exception.type}: ${stats.fatal_exception.reason}` };
          const ready = stats.shards.length === 3 && stats.shards.every((s) => s.outstanding_read_requests === 0
            && (s.write_buffer_operation_count >= MAX_WRITE_BUFFER_COUNT || s.write_buffer_size_in_bytes >= MAX_WRITE_BUFFER_SIZE));
          return ready ? { stats, at: Date.now() } : false;
        }, {
          timeoutMs: DOWN_MS - MIN_STALL_MS, intervalMs: SAMPLE_INTERVAL_MS,
          message: () => `every shard's write buffer to fill: ${JSON.stringify(sampler!.latest?.shards.map((s) => [s.write_buffer_operation_count, s.write_buffer_size_in_bytes, s.outstanding_read_requests]))}`,
        });
        if ('fatal' in full) throw new Error(`the follower paused instead of retrying while the node was down: ${full.fatal}`);

        // Until the two minutes are over, no shard reads anything more, while the leader grows.
        let last = full.stats;
        while (Date.now() - downAt < DOWN_MS) {
          await delay(SAMPLE_INTERVAL_MS);
          sampler.check();
          last = await followerStats(daemon, followerIndex);
          expect(last.fatal_exception, 'fatal_exception while the node is down').to.equal(undefined);
          for (const s of last.shards) {
            const atFull = full.stats.shards.find((b) => b.shard_id === s.shard_id)!;
            expect(s.successful_read_requests, `shard ${s.shard_id}: successful_read_requests once its buffer is full`).to.equal(atFull.successful_read_requests);
            expect(s.outstanding_read_requests, `shard ${s.shard_id}: outstanding_read_requests once its buffer is full`).to.equal(0);
          }
        }
        const stalledMs = Date.now() - full.at;
        const rssDownMax = Math.max(sampler.rssMax, await daemon.rssBytes());
        const opsWhileDown = documents.operations - opsAtDown;
        const leaderShards = await leader.shardSeqNos(leaderIndex);
        const behind = leaderShards.reduce((sum, l) => sum + l.globalCheckpoint - (last.shards.find((s) => s.shard_id === l.shard)?.follower_global_checkpoint ?? -1), 0);
        expect(stalledMs, 'time reads stayed stopped while the node was down').to.be.at.least(MIN_STALL_MS);
        expect(behind, 'operations the follower lacks at the end of the outage').to.be.greaterThan(3 * (MAX_WRITE_BUFFER_COUNT + MAX_READ_REQUEST_OPERATION_COUNT));

        // ---- the node comes back ----
        const restartAt = Date.now();
        await pair.follower.start();
        const upAt = Date.now();
        await writer.stop();
        const caughtUp = await waitForDaemonCaughtUp(daemon, leader, leaderIndex, followerIndex, 600_000);
        const convergeMs = Date.now() - upAt;
        await sampler.stop();
        const diffs = await compareIndices(leader, leaderIndex, follower, followerIndex);

        const opsBound = MAX_WRITE_BUFFER_COUNT + MAX_READ_REQUEST_OPERATION_COUNT;
        const bytesBound = MAX_WRITE_BUFFER_SIZE + MAX_READ_REQUEST_OPERATION_COUNT * maxBufferedBytes(documents.documents);
        console.log(`      node stopped for ${restartAt - downAt} ms, answering again ${upAt - downAt} ms after it stopped (JVM start ${upAt - restartAt} ms); leader received ${opsWhileDown} operations (${documents.operations} in all, `
          + `${mb(documents.bytes)} of _source); reads stopped for ${stalledMs} ms with ${behind} operations unreplicated`);
        console.log(`      daemon RSS: ${mb(rssBaseline)} before the outage, peak ${mb(rssDownMax)} while down (growth ${mb(rssDownMax - rssBaseline)}, `
          + `bound ${mb(RSS_GROWTH_LIMIT_BYTES)}), peak ${mb(sampler.rssMax)} over the whole run; heap cap ${DAEMON_HEAP_MB} MB`);
        console.log(`      converged ${convergeMs} ms after the node was back; ${sampler.samples} samples`);
        for (const s of caughtUp.shards) {
          const peak = sampler.perShard.get(s.shard_id)!;
          console.log(`      shard ${s.shard_id}: largest buffer sampled ${peak.bufferOps} ops / ${peak.bufferBytes} bytes, task's peak `
            + `${s.peak_write_buffer_operation_count} ops / ${s.peak_write_buffer_size_in_bytes} bytes (bounds ${opsBound} ops / ${bytesBound} bytes)`);
        }

        expect(diffs, 'differences between leader and follower').to.deep.equal([]);
        expect(caughtUp.fatal_exception).to.equal(undefined);
        expect(rssDownMax - rssBaseline, 'growth of the daemon\'s RSS while the node was down').to.be.lessThan(RSS_GROWTH_LIMIT_BYTES);
        for (const s of caughtUp.shards) {
          const peak = sampler.perShard.get(s.shard_id)!;
          expect(peak.bufferOps, `shard ${s.shard_id}: largest write_buffer_operation_count sampled`).to.be.at.most(opsBound);
          expect(peak.bufferBytes, `shard ${s.shard_id}: largest write_buffer_size_in_bytes sampled`).to.be.at.most(bytesBound);
          expect(s.peak_write_buffer_operation_count, `shard ${s.shard_id}: peak_write_buffer_operation_count`).to.be.at.most(opsBound);
          expect(s.peak_write_buffer_size_in_bytes, `shard ${s.shard_id}: peak_write_buffer_size_in_bytes`).to.be.at.most(bytesBound);
        }
      });
    });
  }
});
