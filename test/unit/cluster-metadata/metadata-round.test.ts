/**
 * One round over two in-memory sides (the port a ClusterClient implements): what is put, read back,
 * put back, deleted, and refused by the follower with a 400.
 */
import { expect } from 'chai';
import { ClusterResponseError } from '../../../src/cluster/errors.js';
import type { MetadataItem, MetadataKind } from '../../../src/cluster/metadata-items.js';
import type { Flavor } from '../../../src/cluster/rest-transport.js';
import { parseMetadataPatternSpec } from '../../../src/cluster-metadata/metadata-pattern.js';
import { runMetadataRound, type MetadataSide } from '../../../src/cluster-metadata/metadata-round.js';
import type { SyncedItems } from '../../../src/cluster-metadata/sync-plan.js';

/** A cluster's items in memory; `print` changes how it answers a body (as a cluster fills in defaults). */
class MemorySide implements MetadataSide {
  readonly items = new Map<string, MetadataItem>();
  readonly writes: string[] = [];
  refuse?: (item: MetadataItem) => string | undefined;
  constructor(readonly info: { flavor: Flavor }, readonly print: (body: Readonly<Record<string, unknown>>) => Record<string, unknown> = (b) => ({ ...b })) {}
  async listMetadataItems(kind: MetadataKind): Promise<MetadataItem[]> {
    return [...this.items.values()].filter((i) => i.kind === kind).map((i) => ({ ...i, body: this.print(i.body) }));
  }
  async putMetadataItem(item: MetadataItem): Promise<void> {
    const refused = this.refuse?.(item);
    if (refused) throw new ClusterResponseError({ alias: 'follower', operation: 'put', statusCode: 400, esType: 'illegal_argument_exception', reason: refused });
    this.writes.push(`put ${item.kind}/${item.name}`);
    this.items.set(`${item.kind}/${item.name}`, item);
  }
  async deleteMetadataItem(kind: MetadataKind, name: string): Promise<void> {
    this.writes.push(`delete ${kind}/${name}`);
    this.items.delete(`${kind}/${name}`);
  }
  set(kind: MetadataKind, name: string, body: Record<string, unknown>): void {
    this.items.set(`${kind}/${name}`, { kind, name, body });
  }
}

const spec = parseMetadataPatternSpec({ remote_cluster: 'leader', index_templates: ['logs-*'], ingest_pipelines: ['*'], lifecycle_policies: ['*'] }, 'follower');

describe('a cluster-metadata round', () => {
  it('copies, then leaves alone what the follower prints differently, puts back a foreign change, and deletes what the leader deleted', async () => {
    const leader = new MemorySide({ flavor: 'elasticsearch' });
    // The follower prints numbers as strings, as clusters print settings.
    const follower = new MemorySide({ flavor: 'elasticsearch' }, (b) => JSON.parse(JSON.stringify(b).replace(/:(\d+)/g, ':"$1"')) as Record<string, unknown>);
    leader.set('index_template', 'logs-app', { index_patterns: ['logs-app-*'], priority: 5 });
    leader.set('index_template', 'metrics', { index_patterns: ['metrics-*'] });
    leader.set('ingest_pipeline', 'enrich', { processors: [] });
    follower.set('index_template', 'own', { index_patterns: ['own-*'] });

    let round = await runMetadataRound(spec, new Map(), { leader, follower });
    expect(round.put).to.deep.equal({ created: 2, changed: 0, put_back: 0 });
    expect(follower.writes).to.deep.equal(['put ingest_pipeline/enrich', 'put index_template/logs-app']);

    let synced: SyncedItems = round.synced;
    round = await runMetadataRound(spec, synced, { leader, follower });
    expect(round.put).to.deep.equal({ created: 0, changed: 0, put_back: 0 });
    expect(round.unchanged).to.equal(2);
    synced = round.synced;

    follower.set('index_template', 'logs-app', { index_patterns: ['logs-app-*'], priority: 99 });
    round = await runMetadataRound(spec, synced, { leader, follower });
    expect(round.put).to.deep.equal({ created: 0, changed: 0, put_back: 1 });
    synced = round.synced;

    leader.items.delete('ingest_pipeline/enrich');
    follower.writes.length = 0;
    round = await runMetadataRound(spec, synced, { leader, follower });
    expect(round.deleted).to.equal(1);
    expect(follower.writes).to.deep.equal(['delete ingest_pipeline/enrich']);
    expect([...follower.items.keys()].sort()).to.deep.equal(['index_template/logs-app', 'index_template/own']);
  });

  it('reports an item the follower refuses with its reason, and one of the other flavor it cannot express, and goes on', async () => {
    const leader = new MemorySide({ flavor: 'elasticsearch' });
    const follower = new MemorySide({ flavor: 'opensearch' });
    follower.refuse = (item) => (item.name === 'logs-ilm' ? 'unknown setting [index.lifecycle.name]' : undefined);
    leader.set('index_template', 'logs-ilm', { index_patterns: ['logs-ilm-*'], template: { settings: { index: { lifecycle: { name: 'hot' } } } } });
    leader.set('index_template', 'logs-plain', { index_patterns: ['logs-plain-*'], data_stream: { hidden: false, allow_custom_routing: false } });
    leader.set('lifecycle_policy', 'hot', { policy: { phases: {} } });
    const round = await runMetadataRound(spec, new Map(), { leader, follower });
    expect(round.unexpressible).to.deep.equal([
      { kind: 'lifecycle_policy', name: 'hot', reason: 'an Elasticsearch ILM policy has no documented OpenSearch ISM equivalent' },
      { kind: 'index_template', name: 'logs-ilm', reason: 'the follower cluster refused it: illegal_argument_exception: unknown setting [index.lifecycle.name]' },
    ]);
    expect(round.put.created).to.equal(1);
    expect(follower.items.get('index_template/logs-plain')!.body).to.deep.equal({ index_patterns: ['logs-plain-*'] });
    expect(round.synced.get('index_template/logs-plain')!.heldBack).to.deep.equal({ data_stream: {} });
  });

  it('ends the round on any other failure, remembering nothing it did not put', async () => {
    const leader = new MemorySide({ flavor: 'elasticsearch' });
    const follower = new MemorySide({ flavor: 'elasticsearch' });
    leader.set('ingest_pipeline', 'p', { processors: [] });
    follower.putMetadataItem = async () => {
      throw new ClusterResponseError({ alias: 'follower', operation: 'put', statusCode: 429, esType: 'es_rejected_execution_exception', reason: 'busy' });
    };
    let error: unknown;
    try {
      await runMetadataRound(spec, new Map(), { leader, follower });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ClusterResponseError);
  });
});
