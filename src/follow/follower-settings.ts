/**
 * Index settings a user may set on a follower index (CCR's `settings` of put follow, OpenSearch's
 * `_update`): only those ccr-follow leaves to the follower (index-settings.ts never copies them),
 * since any other one would be put back to the leader's value by the metadata sync.
 */
import { FollowError } from './follow-errors.js';
import { isReplicatedSetting } from './index-settings.js';

/** The follower's own settings: where its copies live and how often it refreshes. */
const FOLLOWER_OWN_PREFIXES: readonly string[] = [
  'index.number_of_replicas',
  'index.auto_expand_replicas',
  'index.refresh_interval',
  'index.routing.allocation.',
  'index.lifecycle.',
  'index.plugins.index_state_management.',
];

function isFollowerOwn(name: string): boolean {
  return FOLLOWER_OWN_PREFIXES.some((prefix) => name === prefix || (prefix.endsWith('.') && name.startsWith(prefix)));
}

/**
 * `{"index": {"number_of_replicas": 0}}`, `{"number_of_replicas": 0}` and
 * `{"index.number_of_replicas": 0}` all read as `index.number_of_replicas` (as Elasticsearch reads
 * them); values must be strings, numbers, booleans or null (to reset). Any other setting is
 * refused with a `FollowError` naming it and why.
 */
export function followerOwnSettings(input: unknown, what: string): Record<string, string | number | boolean | null> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new FollowError('illegal_argument_exception', `[settings] of ${what} must be an object of index settings`);
  }
  const flat: Record<string, string | number | boolean | null> = {};
  const walk = (value: unknown, path: string): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) walk(inner, path === '' ? key : `${path}.${key}`);
      return;
    }
    const name = path.startsWith('index.') ? path : `index.${path}`;
    if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
      throw new FollowError('illegal_argument_exception', `setting [${name}] of ${what} must be a string, number, boolean or null`);
    }
    flat[name] = value as string | number | boolean | null;
  };
  walk(input, '');
  for (const name of Object.keys(flat)) {
    if (isFollowerOwn(name)) continue;
    const why = isReplicatedSetting(name)
      ? 'it is kept equal to the leader index\'s setting'
      : 'it describes the follower index itself';
    throw new FollowError('illegal_argument_exception',
      `cannot set [${name}] on a follower index: ${why}; settable: ${FOLLOWER_OWN_PREFIXES.map((p) => (p.endsWith('.') ? `${p}*` : p)).join(', ')}`);
  }
  return flat;
}
