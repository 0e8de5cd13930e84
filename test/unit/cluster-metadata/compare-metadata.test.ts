/** verify --metadata's comparison: printed differences that are not differences, and the first path that is. */
import { expect } from 'chai';
import type { MetadataItem, MetadataKind } from '../../../src/cluster/metadata-items.js';
import { compareMetadata, firstDifference } from '../../../src/cluster-metadata/compare-metadata.js';
import { parseMetadataPatternSpec } from '../../../src/cluster-metadata/metadata-pattern.js';
import type { MetadataSide } from '../../../src/cluster-metadata/metadata-round.js';

const side = (flavor: 'elasticsearch' | 'opensearch', items: MetadataItem[]): MetadataSide => ({
  info: { flavor },
  listMetadataItems: async (kind: MetadataKind) => items.filter((i) => i.kind === kind),
  putMetadataItem: async () => { throw new Error('verify never writes'); },
  deleteMetadataItem: async () => { throw new Error('verify never writes'); },
});

describe('compareMetadata', () => {
  it('counts numbers and their text, and empty lists and absent fields, as equal', () => {
    expect(firstDifference({ priority: 1, composed_of: [], template: { settings: { index: { number_of_shards: 1 } } } }, { priority: '1', template: { settings: { index: { number_of_shards: '1' } } } }, '')).to.equal(undefined);
    expect(firstDifference({ template: { settings: { index: { number_of_shards: 1 } } } }, { template: { settings: { index: { number_of_shards: 2 } } } }, '')).to.equal('template.settings.index.number_of_shards');
    expect(firstDifference({ processors: [{ a: 1 }] }, { processors: [{ a: 1 }, { b: 2 }] }, '')).to.equal('processors');
  });

  it('compares the leader\'s items as a following cluster holds them, and names what is missing, extra or not expressible', async () => {
    const spec = parseMetadataPatternSpec({ remote_cluster: 'leader', index_templates: ['logs-*'], lifecycle_policies: ['*'] }, 'follower');
    const leader = side('elasticsearch', [
      { kind: 'index_template', name: 'logs-a', body: { index_patterns: ['logs-a*'], data_stream: { hidden: false, allow_custom_routing: false } } },
      { kind: 'index_template', name: 'logs-b', body: { index_patterns: ['logs-b*'] } },
      { kind: 'index_template', name: 'other', body: { index_patterns: ['other*'] } },
      { kind: 'lifecycle_policy', name: 'hot', body: { policy: {} } },
    ]);
    const follower = side('opensearch', [
      { kind: 'index_template', name: 'logs-a', body: { index_patterns: ['logs-a*'] } },
      { kind: 'index_template', name: 'logs-c', body: { index_patterns: ['logs-c*'] } },
    ]);
    const report = await compareMetadata(spec, leader, follower);
    expect(report.items.map((i) => [i.name, i.verdict])).to.deep.equal([
      ['logs-a', 'identical'], ['logs-b', 'missing_on_follower'], ['logs-c', 'only_on_follower'], ['hot', 'not_expressible'],
    ]);
    expect(report.identical).to.equal(false);
  });
});
