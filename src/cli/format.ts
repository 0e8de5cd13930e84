/** Human-readable renderings of the control API's answers. `--json` prints the answers as they are. */
import type { FollowerIndexStats } from '../follow/index-follower.js';
import type { CcrFollowerInfo } from '../daemon/api/ccr.js';
import type { AutoFollowPatternView } from '../autofollow/auto-follow-coordinator.js';
import type { FollowerInfo } from '../follow/follow-manager.js';
import { FOLLOW_PARAMS, parseFollowParams, type FollowParamName } from '../shard/follow-params.js';
import { formatBytes, formatDuration } from '../util/units.js';
import type { PromotionRecord, RecoveryPoint } from '../state/state-store.js';
import type { DaemonRow, FollowerOwner } from '../daemon/fleet.js';

/** A follower as listed by a daemon of a fleet: with its owner (absent from an older daemon's answer). */
type Owned = { readonly owner?: FollowerOwner };

export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `<id prefix> on <host>`, or `unowned for 12s` (README, "Running several daemons"). */
export function ownerText(owner: FollowerOwner): string {
  return owner.status === 'owned' ? `${owner.id.slice(0, 8)} on ${owner.host}` : `unowned for ${formatDuration(owner.for_ms)}`;
}

export function renderStats(indices: readonly (Omit<FollowerIndexStats, 'state'> & { readonly state: string } & Owned)[]): string {
  if (indices.length === 0) return 'no follower indices';
  const withOwner = indices.some((s) => s.owner !== undefined);
  const rows = indices.map((s) => {
    const sum = (pick: (x: FollowerIndexStats['shards'][number]) => number): number => s.shards.reduce((a, x) => a + pick(x), 0);
    const lagMillis = Math.max(0, ...s.shards.map((x) => x.lag_millis));
    const retries = sum((x) => x.failed_read_requests + x.failed_write_requests);
    return [
      `${s.follower_cluster}/${s.index}`,
      `${s.remote_cluster}/${s.leader_index}`,
      s.state,
      String(s.shards.length),
      String(s.total_global_checkpoint_lag),
      formatDuration(lagMillis),
      String(s.operations_written),
      `${sum((x) => x.write_buffer_operation_count)} ops / ${formatBytes(sum((x) => x.write_buffer_size_in_bytes))}`,
      String(retries),
      ...(withOwner ? [s.owner ? ownerText(s.owner) : ''] : []),
    ];
  });
  const headers = ['FOLLOWER', 'LEADER', 'STATE', 'SHARDS', 'LAG OPS', 'LAG TIME', 'WRITTEN', 'BUFFER', 'RETRIES', ...(withOwner ? ['OWNER'] : [])];
  const table = renderTable(headers, rows);
  const fatal = indices
    .filter((s) => s.fatal_exception)
    .map((s) => `${s.follower_cluster}/${s.index} paused by an error: ${s.fatal_exception!.type}: ${s.fatal_exception!.reason}`);
  return [table, ...fatal, ...leaderRequestLines(indices)].join('\n');
}

/** Per leader cluster (any of its followers reports the same counts), the requests per second the daemon sends it, and why. */
function leaderRequestLines(indices: readonly Pick<FollowerIndexStats, 'remote_cluster' | 'leader_requests'>[]): string[] {
  const byLeader = new Map(indices.flatMap((s) => (s.leader_requests ? [[s.remote_cluster, s.leader_requests.per_second] as const] : [])));
  return [...byLeader].map(([leader, perSecond]) => {
    const total = Object.values(perSecond).reduce((a, b) => a + b, 0);
    const why = Object.entries(perSecond).map(([purpose, rate]) => `${purpose} ${rate.toFixed(1)}`).join(', ');
    return `requests to leader ${leader}: ${total.toFixed(1)}/s (${why})`;
  });
}

/**
 * A follower's info as the CLI has always shown it, from the CCR form the control API answers
 * with: its parameters as numbers (bytes, milliseconds, 1 / 0) rather than `"32mb"`, `"1m"`, `true`,
 * and under `parameters` also while paused (CCR's answer has them as `paused_parameters` then).
 */
export function cliInfo(info: CcrFollowerInfo & Owned): FollowerInfo & Owned {
  return {
    ...(info.owner ? { owner: info.owner } : {}),
    follower_index: info.follower_index, follower_cluster: info.follower_cluster, remote_cluster: info.remote_cluster,
    leader_index: info.leader_index, status: info.status, parameters: parseFollowParams(info.parameters ?? info.paused_parameters ?? {}),
    ...(info.fatal_exception ? { fatal_exception: info.fatal_exception } : {}),
  };
}

/** An auto-follow pattern as the CLI has always shown it: the follow parameters it sets as numbers. */
export function cliPattern(view: AutoFollowPatternView): AutoFollowPatternView {
  const pattern = Object.fromEntries(Object.entries(view.pattern).map(([name, value]) => (
    Object.hasOwn(FOLLOW_PARAMS, name) ? [name, parseFollowParams({ [name]: value })[name as FollowParamName]] : [name, value])));
  return { ...view, pattern: pattern as AutoFollowPatternView['pattern'] };
}

export function renderInfo(infos: readonly (FollowerInfo & Owned)[]): string {
  if (infos.length === 0) return 'no follower indices';
  return infos.map((i) => {
    const params = Object.entries(i.parameters).map(([k, v]) => `    ${k}: ${v}`).join('\n');
    const fatal = i.fatal_exception ? `\n  fatal_exception: ${i.fatal_exception.type}: ${i.fatal_exception.reason}` : '';
    const owner = i.owner ? `\n  owner: ${ownerText(i.owner)}` : '';
    return `${i.follower_cluster}/${i.follower_index} ← ${i.remote_cluster}/${i.leader_index}\n  status: ${i.status}${owner}${fatal}\n  parameters:\n${params}`;
  }).join('\n\n');
}

export function renderPromotion(p: PromotionRecord): string {
  const rows = Object.entries(p.shards).map(([shard, point]) => [shard, String(point.leaderCheckpoint), String(point.maxSeqNo)]);
  return [
    `promoted ${p.followerCluster}/${p.followerIndex} (it followed ${p.leaderCluster}/${p.leaderIndex}): it is now an ordinary writable index`,
    renderTable(['SHARD', 'LEADER CHECKPOINT', 'OWN MAX SEQ_NO'], rows),
    'Leader operations above each leader checkpoint never reached it; its own writes from now on lie above its max seq_no.',
    ...(p.recoveryPoint ? [renderRecoveryPoint(p.recoveryPoint)] : []),
  ].join('\n');
}

/** One line: what of the leader's writes a promoted follower may lack (README, "Disaster day"). */
export function renderRecoveryPoint(p: RecoveryPoint): string {
  const seen = p.leaderSeenAt === undefined ? 'leader not seen since the daemon started' : `leader last seen ${p.leaderSeenAt}`;
  const seconds = p.secondsPossiblyMissing === undefined ? 'unknown seconds' : `up to ${p.secondsPossiblyMissing} s`;
  return `RPO: at least ${p.operationsMissingAtLeast} operation(s), ${seconds} possibly missing (${p.operationsApplied} applied, ${seen})`;
}

/** `ccr-follow daemons`: one row per live daemon, the one asked marked with `*`. */
export function renderDaemons(daemons: readonly DaemonRow[]): string {
  if (daemons.length === 0) return 'no live daemons';
  const rows = daemons.map((d) => [
    `${d.self ? '*' : ' '}${d.id.slice(0, 8)}`, d.host, String(d.pid), d.control, d.version, formatDuration(d.uptime_ms), String(d.leases_held),
    `${d.last_heartbeat} (${formatDuration(d.heartbeat_age_ms)} ago)`,
  ]);
  return renderTable(['ID', 'HOST', 'PID', 'CONTROL', 'VERSION', 'UPTIME', 'LEASES', 'LAST HEARTBEAT'], rows);
}
