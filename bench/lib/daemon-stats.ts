/** A daemon's follower stats through its control API, and when its followers have gone quiet. */
import type { FollowerIndexStats } from '../../src/follow/index-follower.js';
import type { DaemonProcess } from '../../test/helpers/daemon-process.js';

/** A shard's first reconciliation passes belong to its start (the first may run before its first copy). */
const START_RECONCILIATIONS = 3;

/**
 * The stats of the followers the daemon runs itself (`GET /_fleet/local`: `/_ccr/stats` answers for
 * the whole fleet), keeping only `fields` of each (comma-separated, e.g. `index,state`).
 */
export async function followStats(daemon: DaemonProcess, fields: string): Promise<FollowerIndexStats[]> {
  const path = `/_fleet/local?filter_path=${fields.split(',').map((f) => `stats.${f}`).join(',')}`;
  return (await daemon.api<{ stats?: FollowerIndexStats[] }>('GET', path)).stats ?? [];
}

/**
 * Whether the daemon's followers are idle: for a whole rate window (10 s) it sent the leader nothing
 * but its shared probes, and every shard is past its start's reconciliation passes (which read
 * both clusters), so a window measured from now holds no start or catch-up traffic.
 */
export async function followersIdle(daemon: DaemonProcess): Promise<boolean> {
  const stats = await followStats(daemon, 'leader_requests,shards.reconciliations');
  const r = stats[0]?.leader_requests?.per_second;
  return r !== undefined && r.reads === 0 && r.reconciliation === 0 && r.writes === 0 && r.other === 0
    && stats.every((s) => s.shards.every((sh) => sh.reconciliations >= START_RECONCILIATIONS));
}
