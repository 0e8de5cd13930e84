/**
 * `pause` / `resume` of many followers at once (`--all`, `--match <pattern>`): the followers are
 * listed from `GET /_ccr/info`, selected by a glob on `cluster/index` or on the index name
 * (`*` any run of characters, `?` one), and each is paused / resumed in turn; one line per index
 * says what happened. Fails (exit 1) when any of them failed.
 */
import type { FollowerInfo } from '../follow/follow-manager.js';

export function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${body}$`);
}

/** Followers whose `cluster/index`, or index name alone, matches `pattern` (every one when undefined). */
export function selectFollowers(infos: readonly FollowerInfo[], pattern: string | undefined): FollowerInfo[] {
  if (pattern === undefined) return [...infos];
  const re = globToRegExp(pattern);
  return infos.filter((i) => re.test(`${i.follower_cluster}/${i.follower_index}`) || re.test(i.follower_index));
}

export interface FleetResult {
  readonly follower: string;
  readonly ok: boolean;
  readonly message: string;
}

export async function applyToFleet(
  targets: readonly FollowerInfo[],
  action: (path: string) => Promise<void>,
  verb: 'paused' | 'resumed',
): Promise<FleetResult[]> {
  const results: FleetResult[] = [];
  for (const t of targets) {
    const follower = `${t.follower_cluster}/${t.follower_index}`;
    try {
      await action(`/${encodeURIComponent(t.follower_cluster)}/${encodeURIComponent(t.follower_index)}`);
      results.push({ follower, ok: true, message: verb });
    } catch (err) {
      const type = (err as { type?: string }).type;
      results.push({ follower, ok: false, message: `failed: ${type ? `${type}: ` : ''}${(err as Error).message}` });
    }
  }
  return results;
}

export function renderFleetResults(results: readonly FleetResult[], what: string): string {
  if (results.length === 0) return `no follower indices match ${what}`;
  const width = Math.max(...results.map((r) => r.follower.length));
  const failed = results.filter((r) => !r.ok).length;
  return [...results.map((r) => `${r.follower.padEnd(width)}  ${r.message}`), `${results.length - failed} of ${results.length} done${failed ? `, ${failed} failed` : ''}`].join('\n');
}
