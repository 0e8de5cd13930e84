/**
 * A leader's template, pipeline or policy as it is put on the follower cluster.
 *
 * Two things change it on the way:
 *
 * 1. **The other flavor's form.** Elasticsearch and OpenSearch share composable and component
 *    templates and ingest pipelines, and differ in a few fields each answers with its defaults
 *    filled in: Elasticsearch's `data_stream: {hidden: false, allow_custom_routing: false}`,
 *    OpenSearch's `data_stream: {timestamp_field: {name: "@timestamp"}}`. Those defaults are left
 *    out, since the other flavor refuses the unknown field; a non-default value has no equivalent
 *    and the item is reported. Lifecycle policies do not cross flavors: ILM and ISM have no
 *    documented mapping between them, so a policy of the other flavor is reported, not guessed.
 *    Everything else (a setting, a field type or a processor the follower lacks) is for the
 *    follower to judge: it refuses the put with a 400 and its reason, and the item is reported with
 *    that reason (`metadata-round.ts`), which is right for every version of either flavor.
 *
 * 2. **Followed indices stay followers.** While the follower cluster follows, a template must not
 *    make it create or roll over indices of its own: the data stream flag is left out (a write to
 *    the stream's name on the follower would create a stream there) and so is each rollover alias
 *    setting (a lifecycle policy would roll the follower's indices over). What was left out is
 *    listed, and put back by `promote` (the leader's item as is).
 */
import type { MetadataItem } from '../cluster/metadata-items.js';
import type { Flavor } from '../cluster/rest-transport.js';

/**
 * What was left out while following, by where it goes back: `data_stream`, or
 * `template.settings.<setting name>`; with the leader's value.
 */
export type HeldBack = Readonly<Record<string, unknown>>;

export type Translation =
  | { readonly body: Readonly<Record<string, unknown>>; readonly heldBack: HeldBack }
  | { readonly unexpressible: string };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Settings that make a lifecycle policy roll an index over (ILM, ISM and its Open Distro name). */
const ROLLOVER_ALIAS_SETTINGS = [
  'index.lifecycle.rollover_alias', 'index.plugins.index_state_management.rollover_alias', 'index.opendistro.index_state_management.rollover_alias',
];

export function translate(item: MetadataItem, leader: Flavor, follower: Flavor): Translation {
  if (item.kind === 'lifecycle_policy') {
    if (leader === follower) return { body: item.body, heldBack: {} };
    return { unexpressible: leader === 'elasticsearch'
      ? 'an Elasticsearch ILM policy has no documented OpenSearch ISM equivalent'
      : 'an OpenSearch ISM policy has no documented Elasticsearch ILM equivalent' };
  }
  if (item.kind === 'ingest_pipeline') return { body: item.body, heldBack: {} };

  const body: Json = structuredClone(item.body) as Json;
  const heldBack: Json = {};
  if (item.kind === 'index_template' && body['data_stream'] !== undefined) {
    const reason = dataStreamDifference(body['data_stream'], leader, follower);
    if (reason) return { unexpressible: reason };
    // Across flavors only the defaults pass (above), which `{}` says in either.
    heldBack['data_stream'] = leader === follower ? body['data_stream'] : {};
    delete body['data_stream'];
  }
  const template = body['template'];
  if (isObject(template) && isObject(template['settings'])) {
    for (const name of ROLLOVER_ALIAS_SETTINGS) {
      const removed = removeSetting(template['settings'], name);
      if (removed !== undefined) heldBack[`${SETTINGS_PREFIX}${name}`] = removed.value;
    }
  }
  return { body, heldBack };
}

const SETTINGS_PREFIX = 'template.settings.';

/**
 * The follower's item with what was held back put back (promote): the data stream flag, and each
 * rollover alias as a flat setting name, which both flavors take beside nested ones.
 */
export function withHeldBack(body: Readonly<Record<string, unknown>>, heldBack: HeldBack): Record<string, unknown> {
  const out: Json = structuredClone(body) as Json;
  for (const [where, value] of Object.entries(heldBack)) {
    if (where === 'data_stream') {
      out['data_stream'] = value;
    } else if (where.startsWith(SETTINGS_PREFIX)) {
      const template = isObject(out['template']) ? out['template'] : (out['template'] = {});
      const settings = isObject(template['settings']) ? template['settings'] : (template['settings'] = {});
      settings[where.slice(SETTINGS_PREFIX.length)] = value;
    }
  }
  return out;
}

/** Why a data stream definition cannot be written in the follower's flavor, if it cannot. */
function dataStreamDifference(dataStream: unknown, leader: Flavor, follower: Flavor): string | undefined {
  if (leader === follower) return undefined;
  if (!isObject(dataStream)) return 'its [data_stream] is not an object';
  const defaults: Json = leader === 'elasticsearch' ? { hidden: false, allow_custom_routing: false } : { timestamp_field: { name: '@timestamp' } };
  for (const [key, value] of Object.entries(dataStream)) {
    if (JSON.stringify(value) !== JSON.stringify(defaults[key])) {
      return `its data stream option [${key}] = ${JSON.stringify(value)} has no ${follower === 'opensearch' ? 'OpenSearch' : 'Elasticsearch'} equivalent`;
    }
  }
  return undefined;
}

/**
 * Removes `name` given flat (`"index.lifecycle.rollover_alias"`) or nested, with or without
 * `index.`; answers its value if it was there.
 */
function removeSetting(settings: Json, name: string): { value: unknown } | undefined {
  let removed: { value: unknown } | undefined;
  const short = name.replace(/^index\./, '');
  for (const key of [name, short]) {
    if (key in settings) {
      removed = { value: settings[key] };
      delete settings[key];
    }
  }
  const walk = (at: Json, path: readonly string[]): void => {
    const [head, ...rest] = path;
    if (head === undefined || !(head in at)) return;
    if (rest.length === 0) {
      removed = { value: at[head] };
      delete at[head];
      return;
    }
    const inner = at[head];
    if (isObject(inner)) walk(inner, rest);
  };
  walk(settings, name.split('.'));
  walk(settings, short.split('.'));
  return removed;
}
