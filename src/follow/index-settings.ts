/**
 * Which leader index settings a follower index gets. Settings that describe the leader's own
 * place in its cluster (identity, allocation, replicas, blocks, lifecycle policies) are never
 * copied; this list is the one place that says so.
 */
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
