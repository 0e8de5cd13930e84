/**
 * The cluster-level metadata that can follow a leader besides its indices, as each flavor's REST
 * API reads and writes it: composable index templates, component templates, ingest pipelines and
 * lifecycle policies (ILM on Elasticsearch, ISM on OpenSearch, where the plugin is installed).
 *
 * Pure: the requests to send and the reading of their answers. `ClusterClient` sends them. A body
 * read here is the item as its owner would put it again: the fields the cluster adds itself
 * (versions it counts, dates, who uses a policy) are left out, so the same definition read from
 * two clusters compares equal.
 */
import type { Flavor } from './rest-transport.js';

export const METADATA_KINDS = ['component_template', 'index_template', 'ingest_pipeline', 'lifecycle_policy'] as const;
export type MetadataKind = (typeof METADATA_KINDS)[number];

/** One item of a kind, by name. */
export interface MetadataItem {
  readonly kind: MetadataKind;
  readonly name: string;
  readonly body: Readonly<Record<string, unknown>>;
  /** ISM policies are replaced only with the seq_no and primary term they were read at. */
  readonly writeCondition?: { readonly seqNo: number; readonly primaryTerm: number };
}

export interface MetadataRequest {
  readonly method: 'GET' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly query?: Readonly<Record<string, number>>;
  readonly body?: unknown;
  /** Statuses that mean "none" rather than an error (no pipeline at all answers 404). */
  readonly accept?: readonly number[];
}

/** What each kind is called in messages. */
export const KIND_NAMES: Readonly<Record<MetadataKind, string>> = {
  component_template: 'component template',
  index_template: 'index template',
  ingest_pipeline: 'ingest pipeline',
  lifecycle_policy: 'lifecycle policy',
};

function base(kind: MetadataKind, flavor: Flavor): string {
  switch (kind) {
    case 'component_template': return '/_component_template';
    case 'index_template': return '/_index_template';
    case 'ingest_pipeline': return '/_ingest/pipeline';
    case 'lifecycle_policy': return flavor === 'opensearch' ? '/_plugins/_ism/policies' : '/_ilm/policy';
  }
}

export function listRequest(kind: MetadataKind, flavor: Flavor): MetadataRequest {
  // ISM lists 20 policies a page by default.
  const query = kind === 'lifecycle_policy' && flavor === 'opensearch' ? { size: 10_000 } : undefined;
  return { method: 'GET', path: base(kind, flavor), ...(query ? { query } : {}), accept: [404] };
}

export function putRequest(item: MetadataItem, flavor: Flavor): MetadataRequest {
  const condition = item.writeCondition;
  return {
    method: 'PUT',
    path: `${base(item.kind, flavor)}/${encodeURIComponent(item.name)}`,
    ...(condition ? { query: { if_seq_no: condition.seqNo, if_primary_term: condition.primaryTerm } } : {}),
    body: item.body,
  };
}

export function deleteRequest(kind: MetadataKind, name: string, flavor: Flavor): MetadataRequest {
  return { method: 'DELETE', path: `${base(kind, flavor)}/${encodeURIComponent(name)}`, accept: [404] };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Fields a cluster adds to what was put, per kind (at the top of the body). */
const ADDED_FIELDS: Readonly<Record<MetadataKind, readonly string[]>> = {
  component_template: ['created_date', 'created_date_millis', 'modified_date', 'modified_date_millis'],
  index_template: ['created_date', 'created_date_millis', 'modified_date', 'modified_date_millis'],
  ingest_pipeline: ['created_date', 'created_date_millis', 'modified_date', 'modified_date_millis'],
  lifecycle_policy: [],
};
/** Inside an ISM policy: what the plugin sets itself. */
const ISM_ADDED = ['policy_id', 'last_updated_time', 'schema_version', 'seq_no', 'primary_term', 'user'];

function without(body: Json, fields: readonly string[]): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(body)) if (!fields.includes(key)) out[key] = value;
  return out;
}

/** The items of a list answer (`listRequest`), sorted by name. `undefined` body (404): none. */
export function parseList(kind: MetadataKind, flavor: Flavor, body: unknown): MetadataItem[] {
  if (!isObject(body)) return [];
  const items: MetadataItem[] = [];
  const add = (name: unknown, value: unknown, writeCondition?: MetadataItem['writeCondition']): void => {
    if (typeof name !== 'string' || !isObject(value)) return;
    items.push({ kind, name, body: without(value, ADDED_FIELDS[kind]), ...(writeCondition ? { writeCondition } : {}) });
  };
  switch (kind) {
    case 'index_template':
      for (const t of Array.isArray(body['index_templates']) ? body['index_templates'] : []) if (isObject(t)) add(t['name'], t['index_template']);
      break;
    case 'component_template':
      for (const t of Array.isArray(body['component_templates']) ? body['component_templates'] : []) if (isObject(t)) add(t['name'], t['component_template']);
      break;
    case 'ingest_pipeline':
      for (const [name, value] of Object.entries(body)) add(name, value);
      break;
    case 'lifecycle_policy':
      if (flavor === 'opensearch') {
        for (const p of Array.isArray(body['policies']) ? body['policies'] : []) {
          if (!isObject(p) || !isObject(p['policy'])) continue;
          const seqNo = p['_seq_no'];
          const primaryTerm = p['_primary_term'];
          add(p['_id'], { policy: ismPolicyAsPut(p['policy']) },
            typeof seqNo === 'number' && typeof primaryTerm === 'number' ? { seqNo, primaryTerm } : undefined);
        }
      } else {
        // `{name: {version, modified_date, policy, in_use_by}}`: only `policy` is put.
        for (const [name, value] of Object.entries(body)) if (isObject(value)) add(name, { policy: value['policy'] });
      }
      break;
  }
  return items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function ismPolicyAsPut(policy: Json): Json {
  const out = without(policy, ISM_ADDED);
  // Each ISM template records when it was last updated.
  if (Array.isArray(out['ism_template'])) {
    out['ism_template'] = out['ism_template'].map((t) => (isObject(t) ? without(t, ['last_updated_time']) : t));
  } else if (isObject(out['ism_template'])) {
    out['ism_template'] = without(out['ism_template'], ['last_updated_time']);
  }
  return out;
}
