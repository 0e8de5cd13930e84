/**
 * `pause` / `resume` of many followers at once (`--all`, `--match <pattern>`): the followers are
 * listed from `GET /_ccr/info`, selected by a glob on `cluster/index` or on the index name
 * (`*` any run of characters, `?` one), and each is paused / resumed in turn; one line per index
 * says what happened.
 *
 * A fleet command asks for a state, not for a transition: a follower already paused (by `pause`,
 * or by a fatal error) is "already paused", one already following is "already following", and
 * neither is a failure. The command fails (exit 1) only when a follower may not be in the state
 * asked for. What says "already" is the daemon's answer, not the listing: the daemon refuses
 * pause_follow / resume_follow with illegal_state_exception exactly when the follower's status
 * already is, or is becoming, the one asked (checked and set in one step), whereas the listing may
 * be stale by the time each request is sent (another client, a fatal error since). A follower
 * paused by a fatal error is paused for that check, so `resume` resumes it.
 */
import type { FollowerInfo } from '../follow/follow-manager.js';
import { parseFollowParams, type FollowParams } from '../shard/follow-params.js';

export type FleetVerb = 'paused' | 'resumed';

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
  /** `done`: paused / resumed now; `already`: it was in that state; `failed`: it may not be. */
  readonly outcome: 'done' | 'already' | 'failed';
  readonly message: string;
}

const ALREADY: Readonly<Record<FleetVerb, string>> = { paused: 'already paused', resumed: 'already following' };

/**
 * Pauses / resumes each target through `action` (given `/<cluster>/<index>`). `params` are the
 * follow parameters a resume was given: a follower already following counts as resumed only if it
 * already has them, since they are not applied to it (as in CCR, change them by pause and resume).
 */
export async function applyToFleet(
  targets: readonly FollowerInfo[],
  action: (path: string) => Promise<void>,
  verb: FleetVerb,
  params: Readonly<Record<string, unknown>> = {},
): Promise<FleetResult[]> {
  const results: FleetResult[] = [];
  for (const t of targets) {
    const follower = `${t.follower_cluster}/${t.follower_index}`;
    try {
      await action(`/${encodeURIComponent(t.follower_cluster)}/${encodeURIComponent(t.follower_index)}`);
      results.push({ follower, outcome: 'done', message: verb });
    } catch (err) {
      const type = (err as { type?: string }).type;
      const failure = `failed: ${type ? `${type}: ` : ''}${(err as Error).message}`;
      if (type !== 'illegal_state_exception') {
        results.push({ follower, outcome: 'failed', message: failure });
      } else if (verb === 'resumed' && !hasParams(t.parameters, params)) {
        results.push({ follower, outcome: 'failed', message: `${failure} (with other parameters than those given: pause it first to change them)` });
      } else {
        const fatal = verb === 'paused' && t.fatal_exception ? ` (by an error: ${t.fatal_exception.type})` : '';
        results.push({ follower, outcome: 'already', message: `${ALREADY[verb]}${fatal}` });
      }
    }
  }
  return results;
}

/** Whether `current` already holds every parameter given (none given: it does). */
function hasParams(current: FollowParams | undefined, given: Readonly<Record<string, unknown>>): boolean {
  if (Object.values(given).every((v) => v === undefined)) return true;
  if (current === undefined) return false;
  try {
    const wanted = parseFollowParams(given, current);
    return (Object.keys(wanted) as (keyof FollowParams)[]).every((name) => wanted[name] === current[name]);
  } catch {
    return false;
  }
}

/** True when every selected follower is in the state asked for (none selected included). */
export function fleetSucceeded(results: readonly FleetResult[]): boolean {
  return results.every((r) => r.outcome !== 'failed');
}

export function renderFleetResults(results: readonly FleetResult[], what: string, verb: FleetVerb): string {
  if (results.length === 0) return `no follower indices match ${what}`;
  const width = Math.max(...results.map((r) => r.follower.length));
  const failed = results.filter((r) => r.outcome === 'failed').length;
  const already = results.filter((r) => r.outcome === 'already').length;
  const summary = `${results.length - failed} of ${results.length} done${already ? ` (${already} ${ALREADY[verb]})` : ''}${failed ? `, ${failed} failed` : ''}`;
  return [...results.map((r) => `${r.follower.padEnd(width)}  ${r.message}`), summary].join('\n');
}
