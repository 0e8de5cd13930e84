/**
 * Which leader index settings a follower index gets. Settings that describe the leader's own
 * place in its cluster (identity, allocation, replicas, blocks, lifecycle policies) are never
 * copied; this list is the one place that says so.
 */
import { canonicalJson } from '../util/canonical-json.js';

const EXCLUDED_SETTING_PREFIXES: readonly string[] = [
  'index.uuid',
  'index.creation_date',
  'index.provided_name',
  'index.version.',
  'index.history.uuid',
  'index.resize.',
  'index.shrink.',
  'index.routing.allocation.',
  'index.number_of_replicas',
  'index.auto_expand_replicas',
  'index.blocks.',
  'index.lifecycle.',
  'index.plugins.index_state_management.',
  'index.opendistro.',
  'index.replication.',
  'index.xpack.ccr.',
  'index.verified_before_close',
  'index.frozen',
  'index.search.throttled',
  // Routing shards are set from the index metadata, not from the settings (see below).
  'index.number_of_routing_shards',
  // How often the follower refreshes is the follower's choice, not the leader's.
  'index.refresh_interval',
];

export function isReplicatedSetting(name: string): boolean {
  return !EXCLUDED_SETTING_PREFIXES.some((prefix) => name === prefix || (prefix.endsWith('.') && name.startsWith(prefix)));
}

/** Settings for creating the follower: replicated leader settings plus the leader's routing shards. */
export function followerCreationSettings(leaderSettings: Readonly<Record<string, unknown>>, routingNumShards: number | undefined): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(leaderSettings)) {
    if (isReplicatedSetting(name)) settings[name] = value;
  }
  // A document's shard is hash(routing) % routing_num_shards / factor: the follower must use the
  // leader's routing shards or documents would land on different shard numbers.
  const shards = Number(leaderSettings['index.number_of_shards']);
  if (routingNumShards !== undefined && routingNumShards !== shards) settings['index.number_of_routing_shards'] = routingNumShards;
  return settings;
}

/**
 * Settings that can only change on a closed index (analysis, similarity, codec...). Changing
 * them on the follower means close, update, reopen, as CCR does.
 */
const STATIC_SETTING_PREFIXES: readonly string[] = ['index.analysis.', 'index.similarity.', 'index.codec', 'index.store.', 'index.mapping.source.'];

export function isStaticSetting(name: string): boolean {
  return STATIC_SETTING_PREFIXES.some((prefix) => name === prefix || (prefix.endsWith('.') && name.startsWith(prefix)));
}

/** Fixed at creation: never part of a settings update. */
const CREATION_ONLY = ['index.number_of_shards', 'index.routing_partition_size', 'index.sort.', 'index.soft_deletes.', 'index.hidden'];

function isUpdatable(name: string): boolean {
  return isReplicatedSetting(name) && !CREATION_ONLY.some((prefix) => name === prefix || (prefix.endsWith('.') && name.startsWith(prefix)));
}

/**
 * The settings update that brings the follower's replicated settings to the leader's: changed and
 * new values, and `null` (back to the default) for replicated settings the leader no longer has.
 */
export function settingsUpdate(leader: Readonly<Record<string, unknown>>, follower: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const update: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(leader)) {
    if (isUpdatable(name) && JSON.stringify(follower[name]) !== JSON.stringify(value)) update[name] = value;
  }
  for (const name of Object.keys(follower)) {
    if (isUpdatable(name) && !(name in leader)) update[name] = null;
  }
  return update;
}

/**
 * Alias actions that bring the leader's aliases to the follower: filters and routing kept,
 * `is_write_index` always false (only the leader takes writes). An alias is removed only when it
 * was one of the leader's (`previousLeader`) and is gone there now, so aliases that others put on
 * the follower (auto-follow's data-stream alias) stay.
 */
export function aliasActions(
  followerIndex: string,
  leader: Readonly<Record<string, unknown>>,
  follower: Readonly<Record<string, unknown>>,
  previousLeader: readonly string[],
): Record<string, unknown>[] {
  const actions: Record<string, unknown>[] = [];
  for (const [alias, spec] of Object.entries(leader)) {
    const desired = followerAlias(spec);
    if (!(alias in follower) || canonicalJson(followerAlias(follower[alias])) !== canonicalJson(desired)) {
      actions.push({ add: { index: followerIndex, alias, ...desired } });
    }
  }
  for (const alias of previousLeader) {
    if (!(alias in leader) && alias in follower) actions.push({ remove: { index: followerIndex, alias } });
  }
  return actions;
}

/** The follower's version of a leader alias definition. */
export function followerAlias(spec: unknown): Record<string, unknown> {
  const { is_write_index: _ignored, ...rest } = (spec ?? {}) as Record<string, unknown>;
  return { ...rest, is_write_index: false };
}
