/** The REST forms of templates, pipelines and lifecycle policies on each flavor. */
import { expect } from 'chai';
import { deleteRequest, listRequest, parseList, putRequest } from '../../../src/cluster/metadata-items.js';

describe('cluster metadata items', () => {
  it('reads index and component templates from their list answers, sorted, without the dates a cluster adds', () => {
    const templates = parseList('index_template', 'elasticsearch', {
      index_templates: [
        { name: 'logs', index_template: { index_patterns: ['logs-*'], priority: 10, created_date_millis: 1, modified_date: 'x' } },
        { name: 'apm', index_template: { index_patterns: ['apm-*'], composed_of: ['base'] } },
      ],
    });
    expect(templates).to.deep.equal([
      { kind: 'index_template', name: 'apm', body: { index_patterns: ['apm-*'], composed_of: ['base'] } },
      { kind: 'index_template', name: 'logs', body: { index_patterns: ['logs-*'], priority: 10 } },
    ]);
    expect(parseList('component_template', 'opensearch', { component_templates: [{ name: 'base', component_template: { template: { settings: { index: { number_of_shards: '1' } } } } }] }))
      .to.deep.equal([{ kind: 'component_template', name: 'base', body: { template: { settings: { index: { number_of_shards: '1' } } } } }]);
  });

  it('reads pipelines by name, and no pipeline at all (a 404 answer) as none', () => {
    expect(parseList('ingest_pipeline', 'elasticsearch', { enrich: { description: 'd', processors: [{ set: { field: 'a', value: 1 } }] } }))
      .to.deep.equal([{ kind: 'ingest_pipeline', name: 'enrich', body: { description: 'd', processors: [{ set: { field: 'a', value: 1 } }] } }]);
    expect(parseList('ingest_pipeline', 'elasticsearch', undefined)).to.deep.equal([]);
    expect(listRequest('ingest_pipeline', 'opensearch')).to.deep.equal({ method: 'GET', path: '/_ingest/pipeline', accept: [404] });
  });

  it('reads ILM policies as they are put (only `policy`), and ISM policies without what the plugin sets, with their seq_no for the next put', () => {
    expect(parseList('lifecycle_policy', 'elasticsearch', { hot: { version: 3, modified_date: 'x', in_use_by: { indices: [] }, policy: { phases: { hot: { actions: {} } } } } }))
      .to.deep.equal([{ kind: 'lifecycle_policy', name: 'hot', body: { policy: { phases: { hot: { actions: {} } } } } }]);
    const [ism] = parseList('lifecycle_policy', 'opensearch', {
      policies: [{
        _id: 'rollover', _seq_no: 7, _primary_term: 2,
        policy: { policy_id: 'rollover', description: 'r', last_updated_time: 5, schema_version: 21, default_state: 'hot', states: [], ism_template: [{ index_patterns: ['logs-*'], priority: 1, last_updated_time: 6 }] },
      }],
      total_policies: 1,
    });
    expect(ism).to.deep.equal({
      kind: 'lifecycle_policy', name: 'rollover', writeCondition: { seqNo: 7, primaryTerm: 2 },
      body: { policy: { description: 'r', default_state: 'hot', states: [], ism_template: [{ index_patterns: ['logs-*'], priority: 1 }] } },
    });
    expect(putRequest(ism!, 'opensearch')).to.deep.include({ method: 'PUT', path: '/_plugins/_ism/policies/rollover', query: { if_seq_no: 7, if_primary_term: 2 } });
    expect(listRequest('lifecycle_policy', 'opensearch').query).to.deep.equal({ size: 10_000 });
  });

  it('builds puts and deletes per flavor, names encoded', () => {
    expect(putRequest({ kind: 'lifecycle_policy', name: 'a b', body: { policy: {} } }, 'elasticsearch')).to.deep.equal({ method: 'PUT', path: '/_ilm/policy/a%20b', body: { policy: {} } });
    expect(deleteRequest('component_template', 'base', 'opensearch')).to.deep.equal({ method: 'DELETE', path: '/_component_template/base', accept: [404] });
  });
});
