/** A leader's item as the follower cluster gets it: the other flavor's defaults, and what is held back while following. */
import { expect } from 'chai';
import type { MetadataItem } from '../../../src/cluster/metadata-items.js';
import { translate, withHeldBack } from '../../../src/cluster-metadata/translate.js';

const template = (body: Record<string, unknown>): MetadataItem => ({ kind: 'index_template', name: 'logs', body });

describe('translate', () => {
  it('copies pipelines and same-flavor policies as they are', () => {
    const pipeline: MetadataItem = { kind: 'ingest_pipeline', name: 'p', body: { processors: [{ set: { field: 'a', value: 1 } }] } };
    expect(translate(pipeline, 'elasticsearch', 'opensearch')).to.deep.equal({ body: pipeline.body, heldBack: {} });
    const policy: MetadataItem = { kind: 'lifecycle_policy', name: 'hot', body: { policy: { phases: {} } } };
    expect(translate(policy, 'elasticsearch', 'elasticsearch')).to.deep.equal({ body: policy.body, heldBack: {} });
  });

  it('reports a lifecycle policy of the other flavor: ILM and ISM have no documented mapping', () => {
    const policy: MetadataItem = { kind: 'lifecycle_policy', name: 'hot', body: { policy: { phases: {} } } };
    expect(translate(policy, 'elasticsearch', 'opensearch')).to.deep.equal({ unexpressible: 'an Elasticsearch ILM policy has no documented OpenSearch ISM equivalent' });
    expect(translate(policy, 'opensearch', 'elasticsearch')).to.have.property('unexpressible').that.matches(/ISM policy has no documented Elasticsearch ILM/);
  });

  it('holds back the data stream flag and rollover aliases while following, and leaves the leader\'s item untouched', () => {
    const leader = template({
      index_patterns: ['logs-*'], data_stream: {},
      template: { settings: { index: { lifecycle: { name: 'hot', rollover_alias: 'logs' }, number_of_shards: '1' }, 'plugins.index_state_management.rollover_alias': 'x' } },
    });
    const copy = structuredClone(leader.body);
    expect(translate(leader, 'elasticsearch', 'elasticsearch')).to.deep.equal({
      body: { index_patterns: ['logs-*'], template: { settings: { index: { lifecycle: { name: 'hot' }, number_of_shards: '1' } } } },
      heldBack: { data_stream: {}, 'template.settings.index.lifecycle.rollover_alias': 'logs', 'template.settings.index.plugins.index_state_management.rollover_alias': 'x' },
    });
    expect(leader.body).to.deep.equal(copy);
  });

  it('puts back what was held back, as flat settings beside the nested ones', () => {
    const translated = translate(template({ index_patterns: ['logs-*'], data_stream: {}, template: { settings: { index: { lifecycle: { name: 'hot', rollover_alias: 'logs' } } } } }), 'elasticsearch', 'elasticsearch');
    if (!('body' in translated)) throw new Error('expected a translation');
    expect(withHeldBack(translated.body, translated.heldBack)).to.deep.equal({
      index_patterns: ['logs-*'], data_stream: {}, template: { settings: { index: { lifecycle: { name: 'hot' } }, 'index.lifecycle.rollover_alias': 'logs' } },
    });
  });

  it('drops the other flavor\'s data stream defaults, and reports options it has no equivalent for', () => {
    expect(translate(template({ index_patterns: ['a*'], data_stream: { hidden: false, allow_custom_routing: false } }), 'elasticsearch', 'opensearch')).to.deep.include({ heldBack: { data_stream: {} } });
    expect(translate(template({ index_patterns: ['a*'], data_stream: { timestamp_field: { name: '@timestamp' } } }), 'opensearch', 'elasticsearch')).to.deep.include({ heldBack: { data_stream: {} } });
    expect(translate(template({ index_patterns: ['a*'], data_stream: { hidden: true } }), 'elasticsearch', 'opensearch'))
      .to.deep.equal({ unexpressible: 'its data stream option [hidden] = true has no OpenSearch equivalent' });
    expect(translate(template({ index_patterns: ['a*'], data_stream: { timestamp_field: { name: 'ts' } } }), 'opensearch', 'elasticsearch'))
      .to.deep.equal({ unexpressible: 'its data stream option [timestamp_field] = {"name":"ts"} has no Elasticsearch equivalent' });
  });
});
