/**
 * After a promotion, the leader's aliases on the promoted index take writes again where they can.
 *
 * While following, every leader alias is copied with `is_write_index: false` (metadata-sync.ts):
 * a follower must take no writes, not even through an alias. That flag would stay after the
 * promotion and refuse every write through the alias ("no write index is defined"), although on
 * the leader writing through it worked. An alias over this one index alone is put back without
 * the flag, as an alias of one index normally is (its writes go to that index); its filter and
 * routing are kept. An alias over several indices is left as it is: which of them was the
 * leader's write index is not known once the leader is gone, so the operator names it (README,
 * "Disaster day").
 */
import type { ClusterClient } from '../cluster/cluster-client.js';

/** The aliases of `index` made writable (names, sorted); none when there was nothing to do. */
export async function reopenAliasesForWrites(client: ClusterClient, index: string): Promise<string[]> {
  const meta = await client.indexMetadata(index);
  const blocked = Object.entries(meta.aliases).filter(([, spec]) => (spec as { is_write_index?: unknown } | null)?.is_write_index === false);
  if (blocked.length === 0) return [];
  const resolved = await client.resolveIndex(blocked.map(([name]) => name));
  const alone = blocked.filter(([name]) => {
    const members = resolved.aliases.find((a) => a.name === name)?.indices ?? [];
    return members.length === 1 && members[0] === index;
  });
  if (alone.length === 0) return [];
  await client.updateAliases(alone.map(([alias, spec]) => {
    const { is_write_index: _flag, ...rest } = spec as Record<string, unknown>;
    return { add: { index, alias, ...rest } };
  }));
  return alone.map(([name]) => name).sort();
}
