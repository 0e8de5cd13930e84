/**
 * The index expressions CCR's follow info and follow stats take in their path, over the follower
 * indices of one cluster: `_all` and `*` (every follower), wildcards (`logs-*`), comma lists, and
 * `-pattern` to leave out what an earlier item matched. A plain name that is not a follower index is
 * refused as CCR refuses it (404 `resource_not_found_exception`); a wildcard may match none.
 *
 * The followers are the fleet's (every daemon's, fleet.ts), so an expression covers the followers
 * of every daemon whichever daemon is asked.
 */
import { wildcardMatch } from '../../util/wildcard.js';
import { FollowError } from '../../follow/follow-errors.js';
import { followerKey, type FollowerKey } from '../../state/state-store.js';
import { checkClusterAlias, checkIndexName } from '../control-input.js';

/** A follower index as the fleet lists it (`info`). */
export interface ListedFollower {
  readonly follower_cluster: string;
  readonly follower_index: string;
}

/** Refuses an invalid cluster alias or name in the expression (400), before any follower is listed. */
export function checkIndexExpression(cluster: string, expression: string): void {
  checkClusterAlias(cluster, 'follower');
  expression.split(',').forEach((item, position) => {
    if (item === '_all' || item === '*') return;
    const pattern = item.startsWith('-') && position > 0 ? item.slice(1) : item;
    checkIndexName(pattern.replaceAll('*', 'x'), 'follower');
  });
}

export function followerIndicesOf(listed: readonly ListedFollower[], cluster: string, expression: string): FollowerKey[] {
  checkClusterAlias(cluster, 'follower');
  const followers = listed.filter((i) => i.follower_cluster === cluster).map((i) => i.follower_index);
  const chosen = new Set<string>();
  expression.split(',').forEach((item, position) => {
    if (item === '_all' || item === '*') {
      for (const name of followers) chosen.add(name);
      return;
    }
    const exclude = item.startsWith('-') && position > 0;
    const pattern = exclude ? item.slice(1) : item;
    checkIndexName(pattern.replaceAll('*', 'x'), 'follower');
    if (!pattern.includes('*') && !exclude) {
      if (!followers.includes(pattern)) throw new FollowError('resource_not_found_exception', `[${followerKey(cluster, pattern)}] is not a follower index`);
      chosen.add(pattern);
      return;
    }
    for (const name of followers.filter((f) => wildcardMatch(pattern, f))) {
      if (exclude) chosen.delete(name);
      else chosen.add(name);
    }
  });
  return followers.filter((name) => chosen.has(name)).map((name) => followerKey(cluster, name));
}
