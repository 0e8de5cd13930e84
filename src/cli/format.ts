/** Human-readable renderings of the control API's answers. `--json` prints the answers as they are. */
import type { FollowerIndexStats } from '../follow/index-follower.js';
import type { CcrFollowerInfo } from '../daemon/api/ccr.js';
import { parseFollowParams, type FollowParams } from '../shard/follow-params.js';
import { formatBytes, formatDuration } from '../util/units.js';
import type { PromotionRecord } from '../state/state-store.js';

export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function renderStats(indices: readonly FollowerIndexStats[]): string {
  if (indices.length === 0) return 'no follower indices';
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
    ];
  });
  const table = renderTable(['FOLLOWER', 'LEADER', 'STATE', 'SHARDS', 'LAG OPS', 'LAG TIME', 'WRITTEN', 'BUFFER', 'RETRIES'], rows);
  const fatal = indices
    .filter((s) => s.fatal_exception)
    .map((s) => `${s.follower_cluster}/${s.index} paused by an error: ${s.fatal_exception!.type}: ${s.fatal_exception!.reason}`);
  return [table, ...fatal].join('\n');
}

/**
 * A follower's parameters as numbers (bytes, milliseconds, 1 / 0), from the CCR forms the control
 * API answers with (`"32mb"`, `"1m"`, `true`); a paused follower's are its `paused_parameters`.
 */
export function followParamsOf(info: CcrFollowerInfo): FollowParams | undefined {
  const given = info.parameters ?? info.paused_parameters;
  return given === undefined ? undefined : parseFollowParams(given);
}

export function renderInfo(infos: readonly CcrFollowerInfo[]): string {
  if (infos.length === 0) return 'no follower indices';
  return infos.map((i) => {
    const params = Object.entries(followParamsOf(i) ?? {}).map(([k, v]) => `    ${k}: ${String(v)}`).join('\n');
    const fatal = i.fatal_exception ? `\n  fatal_exception: ${i.fatal_exception.type}: ${i.fatal_exception.reason}` : '';
    return `${i.follower_cluster}/${i.follower_index} ← ${i.remote_cluster}/${i.leader_index}\n  status: ${i.status}${fatal}\n  parameters:\n${params}`;
  }).join('\n\n');
}

export function renderPromotion(p: PromotionRecord): string {
  const rows = Object.entries(p.shards).map(([shard, point]) => [shard, String(point.leaderCheckpoint), String(point.maxSeqNo)]);
  return [
    `promoted ${p.followerCluster}/${p.followerIndex} (it followed ${p.leaderCluster}/${p.leaderIndex}): it is now an ordinary writable index`,
    renderTable(['SHARD', 'LEADER CHECKPOINT', 'OWN MAX SEQ_NO'], rows),
    'Leader operations above each leader checkpoint never reached it; its own writes from now on lie above its max seq_no.',
  ].join('\n');
}
