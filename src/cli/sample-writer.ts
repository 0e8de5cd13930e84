/**
 * Sample time-series data for the quickstart: host metrics appended every tick, plus a status
 * document per host that is updated again and again (custom routing by host), so replication of
 * both new documents and updates is visible.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import type { DocumentWrite } from '../cluster/types.js';
import { sleep } from '../util/sleep.js';

const HOSTS = 20;
const METRICS_PER_BATCH = 100;
const TICK_MS = 250;

export class SampleWriter {
  #written = 0;
  #tick = 0;

  constructor(private readonly leader: ClusterClient, private readonly index: string) {}

  get written(): number {
    return this.#written;
  }

  async prepare(): Promise<void> {
    if (await this.leader.indexExists(this.index)) return;
    await this.leader.createIndex(this.index, {
      settings: { 'index.number_of_shards': 3, 'index.number_of_replicas': 0 },
      mappings: {
        properties: {
          '@timestamp': { type: 'date' },
          host: { type: 'keyword' },
          cpu: { type: 'float' },
          memory_bytes: { type: 'long' },
          status: { type: 'keyword' },
          message: { type: 'text' },
        },
      },
    });
  }

  async writeBatch(): Promise<void> {
    this.#tick += 1;
    const now = new Date().toISOString();
    const docs: DocumentWrite[] = [];
    for (let i = 0; i < METRICS_PER_BATCH; i += 1) {
      const host = `host-${(this.#tick * METRICS_PER_BATCH + i) % HOSTS}`;
      docs.push({ op: 'index', source: { '@timestamp': now, host, cpu: Math.round(Math.random() * 1000) / 10, memory_bytes: Math.floor(Math.random() * 2 ** 33), message: `sample ${this.#tick}/${i} from ${host}` } });
    }
    const host = `host-${this.#tick % HOSTS}`;
    docs.push({ op: 'index', id: `status-${host}`, routing: host, source: { '@timestamp': now, host, status: this.#tick % 7 === 0 ? 'degraded' : 'ok', message: `status update ${this.#tick}` } });
    await this.leader.writeDocuments(this.index, docs);
    this.#written += docs.length;
  }

  /** Writes a batch every tick until aborted; a failed batch is reported once and skipped. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.writeBatch().catch((err: unknown) => process.stderr.write(`sample writer: ${(err as Error).message}\n`));
      await sleep(TICK_MS, signal).catch(() => undefined);
    }
  }
}
