/** Cluster-metadata patterns: parsed with exclusions, refused with a reason, matched by kind. */
import { expect } from 'chai';
import { followedKinds, MetadataPatternError, parseMetadataPatternSpec, selects } from '../../../src/cluster-metadata/metadata-pattern.js';

const refusal = (body: Record<string, unknown>): string => {
  try {
    parseMetadataPatternSpec(body, 'follower');
  } catch (err) {
    expect(err).to.be.instanceOf(MetadataPatternError);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('cluster-metadata patterns', () => {
  it('takes name patterns per kind, a leading - excluding, and the follower cluster by default', () => {
    const spec = parseMetadataPatternSpec({ remote_cluster: 'eu', index_templates: ['logs-*', '-logs-debug*'], ingest_pipelines: 'enrich-*' }, 'follower');
    expect(spec).to.deep.equal({ remoteCluster: 'eu', followerCluster: 'follower', include: { index_template: ['logs-*'], ingest_pipeline: ['enrich-*'] }, exclude: { index_template: ['logs-debug*'] } });
    expect(followedKinds(spec)).to.deep.equal(['index_template', 'ingest_pipeline']);
    expect(selects(spec, 'index_template', 'logs-app')).to.equal(true);
    expect(selects(spec, 'index_template', 'logs-debug-1')).to.equal(false);
    expect(selects(spec, 'component_template', 'logs-app')).to.equal(false);
  });

  it('refuses a pattern without a remote cluster, without any kind, with unknown fields or bad names', () => {
    expect(refusal({ index_templates: ['a*'] })).to.include('[remote_cluster] is required');
    expect(refusal({ remote_cluster: 'eu' })).to.include('needs at least one of [component_templates], [index_templates]');
    expect(refusal({ remote_cluster: 'eu', index_template: ['a*'] })).to.include('unknown field [index_template]');
    expect(refusal({ remote_cluster: 'eu', ingest_pipelines: ['a b'] })).to.include('pattern [a b] must be a name');
    expect(refusal({ remote_cluster: 'eu', ingest_pipelines: [1] })).to.include('[ingest_pipelines] must be a list');
    expect(refusal({ remote_cluster: 'follower', ingest_pipelines: ['a'] })).to.include('cannot follow itself');
  });
});
