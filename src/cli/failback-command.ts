/**
 * `ccr-follow failback <promoted> <old-leader>`: one `POST /<old cluster>/<old index>/_ccr/failback`
 * (the daemon does the work, src/follow/follow-manager.ts `failback`), printed per shard with the
 * lost writes; and `ccr-follow switchover <leader> <follower>` (`POST …/_ccr/switchover`, the
 * follower's path). README, "Fail back" and "Switchover".
 */
import nodePath from 'node:path';
import type { FailbackAnswer } from '../follow/follow-manager.js';
import type { SwitchoverAnswer } from '../follow/switchover.js';
import type { ControlClient } from './control-client.js';
import { parseTarget, targetPath } from './target.js';

export interface FailbackOptions {
  readonly lostWrites?: string;
  readonly dryRun?: boolean;
}

export async function requestFailback(client: ControlClient, promotedArg: string, oldLeaderArg: string, opts: FailbackOptions): Promise<FailbackAnswer> {
  const promoted = parseTarget(promotedArg, 'the promoted index');
  const oldLeader = parseTarget(oldLeaderArg, 'the old leader index');
  return client.request<FailbackAnswer>('POST', `${targetPath(oldLeader)}/_ccr/failback`, {
    remote_cluster: promoted.cluster, leader_index: promoted.index,
    // The daemon writes the file: a path relative to this shell means nothing to it.
    ...(opts.lostWrites === undefined ? {} : { lost_writes_file: nodePath.resolve(opts.lostWrites) }),
    ...(opts.dryRun === true ? { dry_run: true } : {}),
  });
}

export function renderFailback(a: FailbackAnswer, promotedArg: string, oldLeaderArg: string): string {
  const verb = a.dry_run ? 'would' : 'did';
  const lines = a.shards.map((s) => `shard ${s.shard}: follows from _seq_no ${s.follow_from}; ${s.copied} to copy, ${s.put_back} put back, ${s.deleted} deleted, ${s.lost_writes} lost write(s)`);
  const total = (k: 'copied' | 'put_back' | 'deleted') => a.shards.reduce((n, s) => n + s[k], 0);
  lines.push(`${a.lost_writes} lost write(s)${a.lost_writes_file === undefined ? '' : `, saved to ${a.lost_writes_file}`}`);
  lines.push(a.dry_run
    ? `dry run: fail-back ${verb} copy ${total('copied')}, put back ${total('put_back')} and delete ${total('deleted')} document(s); nothing was changed`
    : `${oldLeaderArg} follows ${promotedArg}: ${a.documents_written} document(s) written by the fail-back, ${total('copied')} to copy by the follow (version base ${a.version_base})`);
  return lines.join('\n');
}

export async function requestSwitchover(client: ControlClient, leaderArg: string, followerArg: string, opts: Pick<FailbackOptions, 'lostWrites'>): Promise<SwitchoverAnswer> {
  const leader = parseTarget(leaderArg, 'the leader index');
  const follower = parseTarget(followerArg, 'the follower index');
  return client.request<SwitchoverAnswer>('POST', `${targetPath(follower)}/_ccr/switchover`, {
    remote_cluster: leader.cluster, leader_index: leader.index,
    ...(opts.lostWrites === undefined ? {} : { lost_writes_file: nodePath.resolve(opts.lostWrites) }),
  });
}

export function renderSwitchover(a: SwitchoverAnswer, leaderArg: string, followerArg: string): string {
  const seconds = (ms: number): string => (ms / 1000).toFixed(1);
  return [
    `${followerArg} takes writes; ${leaderArg} follows it (${a.failback.documents_written} document(s) written by the fail-back, ${a.failback.lost_writes} lost write(s))`,
    `write downtime: ${seconds(a.write_downtime_millis)} s (${seconds(a.catch_up_millis)} s of it waiting for ${followerArg} to catch up)`,
  ].join('\n');
}
