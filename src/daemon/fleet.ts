/**
 * The daemons sharing one state index seen as one: the live daemons (`ccr-follow daemons`), and
 * every follower once with its owner, whichever daemon is asked (`stats`, `info`, the status page).
 *
 * A daemon knows the fleet from its lease keeper's last scan (src/lease/): the live members'
 * heartbeats and who holds each lease. For the followers it asks every other live daemon what it
 * runs (`GET /_fleet/local`, marked as forwarded) and lists the follower records in the state:
 * a follower that exactly one daemon reports is that daemon's; one reported by none (its owner just
 * died, or the lease is between two daemons) is `unowned`, with the time since its lease last
 * changed, never missing; one reported by two (a hand-over seen half done) is the lease holder's,
 * never shown twice. A daemon that does not answer in time counts as reporting nothing.
 *
 * A daemon alone (a state directory) is a fleet of one: it runs every follower.
 */
import { storedPatternView, type AutoFollowPatternView } from '../autofollow/auto-follow-coordinator.js';
import type { AutoFollowStatsView } from '../autofollow/auto-follow-stats.js';
import type { FollowManager, FollowerInfo } from '../follow/follow-manager.js';
import type { FollowerIndexStats } from '../follow/index-follower.js';
import type { FleetMember, FleetSnapshot, LeaseKeeper } from '../lease/lease-keeper.js';
import { parseFollowParams } from '../shard/follow-params.js';
import type { AutoFollowPatternRecord, FollowerRecord, StateStore } from '../state/state-store.js';
import type { Logger } from '../util/logger.js';
import { type PeerSend } from './peer-client.js';

/** This daemon, as its heartbeat names it. */
export interface SelfInfo {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  /** ISO 8601. */
  readonly started: string;
}

/** One live daemon as `GET /_fleet/daemons` lists it. */
export interface DaemonRow {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly control: string;
  readonly version: string;
  readonly started: string;
  readonly uptime_ms: number;
  readonly leases_held: number;
  readonly leases: readonly string[];
  readonly last_heartbeat: string;
  /** How long the asked daemon has seen this one's heartbeat unchanged (0 for itself). */
  readonly heartbeat_age_ms: number;
  /** The daemon that answered. */
  readonly self: boolean;
}

/** Who runs a follower: a live daemon, or nobody since some time. */
export type FollowerOwner =
  | { readonly status: 'owned'; readonly id: string; readonly host: string; readonly control: string }
  | { readonly status: 'unowned'; readonly since: string; readonly for_ms: number };

export type FleetFollowerStats = Omit<FollowerIndexStats, 'state'> & { readonly state: FollowerIndexStats['state'] | 'unowned'; readonly owner: FollowerOwner };
export type FleetFollowerInfo = FollowerInfo & { readonly owner: FollowerOwner };

/** What `GET /_fleet/local` answers: what the asked daemon runs itself. */
export interface LocalFollowers {
  readonly daemon: string;
  readonly stats: readonly FollowerIndexStats[];
  readonly info: readonly FollowerInfo[];
  /** The auto-follow patterns it runs, and their stats (absent from a daemon of an older version). */
  readonly patterns?: readonly AutoFollowPatternView[];
  readonly auto_follow_stats?: AutoFollowStatsView;
}

/** An auto-follow pattern as the fleet lists it: once, with the daemon that runs it. */
export type FleetPatternView = AutoFollowPatternView & { readonly owner: FollowerOwner };

export interface FleetFollowers {
  readonly stats: FleetFollowerStats[];
  readonly info: FleetFollowerInfo[];
}

export interface FleetPatterns {
  readonly patterns: FleetPatternView[];
  /** `auto_follow_stats`: summed over the daemons. */
  readonly autoFollowStats: AutoFollowStatsView;
}

/** The part of the auto-follow coordinator the fleet reads. */
export interface LocalPatterns {
  list(): AutoFollowPatternView[];
  stats(): AutoFollowStatsView;
}

export interface FleetDeps {
  readonly self: SelfInfo;
  readonly manager: FollowManager;
  /** The auto-follow patterns this daemon runs (none without it). */
  readonly patterns?: LocalPatterns;
  readonly state: StateStore;
  /** Absent for a daemon alone. */
  readonly leases?: LeaseKeeper;
  readonly logger: Logger;
  readonly send: PeerSend;
  /** The fleet's control token (sent to peers: they have the same). */
  readonly token?: string;
  /** How long a peer has to answer a fan-out read (default 3 s). */
  readonly peerTimeoutMs?: number;
}

export const LOCAL_FOLLOWERS_PATH = '/_fleet/local';
const FOLLOWER_RESOURCE = 'follower:';
const PATTERN_RESOURCE = 'pattern:';

/** What every live daemon said it runs, as of one fan-out: `local` absent for one that did not answer. */
interface Reports {
  readonly snapshot: FleetSnapshot;
  readonly reports: readonly { readonly member: FleetMember; readonly local: LocalFollowers | undefined }[];
}

export class Fleet {
  readonly #d: FleetDeps;
  #control = '';

  constructor(deps: FleetDeps) {
    this.#d = deps;
  }

  get self(): SelfInfo {
    return this.#d.self;
  }

  /** This daemon's control address, once it listens. */
  set control(address: string) {
    this.#control = address;
  }

  /** The live daemons, this one first. */
  daemons(): DaemonRow[] {
    const members = this.#snapshot().members;
    const now = Date.now();
    return members.map((m, i) => ({
      id: m.id, host: m.host, pid: m.pid, control: m.control, version: m.version, started: m.started,
      uptime_ms: Math.max(0, now - Date.parse(m.started)) || 0, leases_held: m.leases.length, leases: m.leases,
      last_heartbeat: m.heartbeat_at, heartbeat_age_ms: m.silent_ms, self: i === 0,
    }));
  }

  /** What this daemon runs itself. */
  local(): LocalFollowers {
    const { patterns } = this.#d;
    return {
      daemon: this.#d.self.id, stats: this.#d.manager.stats(), info: this.#d.manager.info(),
      ...(patterns ? { patterns: patterns.list(), auto_follow_stats: patterns.stats() } : {}),
    };
  }

  /** Every follower of the fleet once, with its owner, sorted by `cluster/index`. */
  async followers(): Promise<FleetFollowers> {
    const [gathered, records] = await Promise.all([this.#fanOut(), this.#followerRecords()]);
    return this.#followersOf(gathered, records);
  }

  /**
   * Every auto-follow pattern the live daemons run, once (a pattern reported twice mid-hand-over is
   * the lease holder's), with its owner, in each daemon's order, and one no live daemon reports as
   * stored (`unowned`); and the auto-follow stats summed over the daemons that answered.
   */
  async patterns(): Promise<FleetPatterns> {
    const [gathered, records] = await Promise.all([this.#fanOut(), this.#patternRecords()]);
    return this.#patternsOf(gathered, records);
  }

  /** Both, from one fan-out (`GET /_ccr/stats`). */
  async followersAndPatterns(): Promise<FleetFollowers & FleetPatterns> {
    const [gathered, followerRecords, patternRecords] = await Promise.all([this.#fanOut(), this.#followerRecords(), this.#patternRecords()]);
    return { ...this.#followersOf(gathered, followerRecords), ...this.#patternsOf(gathered, patternRecords) };
  }

  #followerRecords(): Promise<FollowerRecord[]> {
    return this.#d.leases ? this.#d.state.listFollowers() : Promise.resolve([]);
  }

  #patternRecords(): Promise<AutoFollowPatternRecord[]> {
    return this.#d.leases ? this.#d.state.listAutoFollowPatterns() : Promise.resolve([]);
  }

  #followersOf({ snapshot, reports }: Reports, records: readonly FollowerRecord[]): FleetFollowers {

    const stats = new Map<string, FleetFollowerStats>();
    const info = new Map<string, FleetFollowerInfo>();
    const holder = (key: string): string | undefined => snapshot.holding(FOLLOWER_RESOURCE + key).owner?.id;
    for (const { member, local } of reports) {
      if (!local) continue;
      const owner: FollowerOwner = { status: 'owned', id: member.id, host: member.host, control: member.control };
      for (const s of local.stats) {
        const key = `${s.follower_cluster}/${s.index}`;
        // Reported twice only mid-hand-over: the lease holder's report wins.
        if (stats.has(key) && holder(key) !== member.id) continue;
        stats.set(key, { ...s, owner });
      }
      for (const i of local.info) {
        const key = `${i.follower_cluster}/${i.follower_index}`;
        if (info.has(key) && holder(key) !== member.id) continue;
        info.set(key, { ...i, owner });
      }
    }
    for (const record of records) {
      const key = `${record.followerCluster}/${record.followerIndex}`;
      if (stats.has(key) && info.has(key)) continue;
      const forMs = snapshot.holding(FOLLOWER_RESOURCE + key).unchangedMs;
      const owner: FollowerOwner = { status: 'unowned', since: new Date(Date.now() - forMs).toISOString(), for_ms: forMs };
      if (!stats.has(key)) stats.set(key, unownedStats(record, owner));
      if (!info.has(key)) info.set(key, unownedInfo(record, owner));
    }
    return { stats: sortedValues(stats), info: sortedValues(info) };
  }

  #patternsOf({ snapshot, reports }: Reports, records: readonly AutoFollowPatternRecord[]): FleetPatterns {
    const patterns = new Map<string, FleetPatternView>();
    const stats: AutoFollowStatsView[] = [];
    for (const { member, local } of reports) {
      if (!local) continue;
      if (local.auto_follow_stats) stats.push(local.auto_follow_stats);
      const owner: FollowerOwner = { status: 'owned', id: member.id, host: member.host, control: member.control };
      for (const p of local.patterns ?? []) {
        if (patterns.has(p.name) && snapshot.holding(PATTERN_RESOURCE + p.name).owner?.id !== member.id) continue;
        patterns.set(p.name, { ...p, owner });
      }
    }
    // A pattern no live daemon reports (its daemon just died, or a hand-over): as stored, `unowned`, never missing.
    for (const record of records) {
      if (patterns.has(record.name)) continue;
      const forMs = snapshot.holding(PATTERN_RESOURCE + record.name).unchangedMs;
      patterns.set(record.name, { ...storedPatternView(record), owner: { status: 'unowned', since: new Date(Date.now() - forMs).toISOString(), for_ms: forMs } });
    }
    return { patterns: [...patterns.values()], autoFollowStats: sumAutoFollowStats(stats) };
  }

  /** This daemon's own report and each other live daemon's answer to `GET /_fleet/local`. */
  async #fanOut(): Promise<Reports> {
    const snapshot = this.#snapshot();
    const [self, ...peers] = snapshot.members;
    const answers = await Promise.all(peers.map(async (m) => ({ member: m, local: await this.#askPeer(m) })));
    return { snapshot, reports: [{ member: self!, local: this.local() }, ...answers] };
  }

  /** The fleet gauges: live daemons, and followers no live daemon holds the lease of, as of the last scan (no request). */
  gauges(): { readonly daemons: number; readonly unownedFollowers: number } {
    const snapshot = this.#snapshot();
    const followers = snapshot.resources.filter((r) => r.startsWith(FOLLOWER_RESOURCE));
    return { daemons: snapshot.members.length, unownedFollowers: followers.filter((r) => snapshot.holding(r).owner === undefined).length };
  }

  async #askPeer(member: FleetMember): Promise<LocalFollowers | undefined> {
    if (!member.control) return undefined;
    try {
      const answer = await this.#d.send(member.control, {
        method: 'GET', path: LOCAL_FOLLOWERS_PATH, from: this.#d.self.id, timeoutMs: this.#d.peerTimeoutMs ?? 3_000,
        ...(this.#d.token === undefined ? {} : { token: this.#d.token }),
      });
      if (answer.status !== 200) throw new Error(`HTTP ${answer.status}`);
      return JSON.parse(answer.text) as LocalFollowers;
    } catch (err) {
      this.#d.logger.debug(`daemon ${member.id} (${member.control}) did not say what it runs: ${(err as Error).message}`);
      return undefined;
    }
  }

  #snapshot(): FleetSnapshot {
    if (this.#d.leases) return this.#d.leases.fleet();
    const { self } = this.#d;
    const member: FleetMember = {
      id: self.id, host: self.host, pid: self.pid, control: this.#control, version: self.version, started: self.started,
      leases: [], heartbeat_at: new Date().toISOString(), silent_ms: 0,
    };
    return { me: self.id, members: [member], resources: [], holding: () => ({ owner: { id: self.id }, unchangedMs: 0 }) };
  }
}

/** The auto-follow stats of several daemons as one: counts summed, errors in time order, each leader cluster once (the latest check). */
function sumAutoFollowStats(all: readonly AutoFollowStatsView[]): AutoFollowStatsView {
  const clusters = new Map<string, AutoFollowStatsView['auto_followed_clusters'][number]>();
  for (const c of all.flatMap((s) => s.auto_followed_clusters)) {
    const seen = clusters.get(c.cluster_name);
    if (seen === undefined || (c.time_since_last_check_millis ?? Infinity) < (seen.time_since_last_check_millis ?? Infinity)) clusters.set(c.cluster_name, c);
  }
  const total = (field: 'number_of_failed_follow_indices' | 'number_of_failed_remote_cluster_state_requests' | 'number_of_successful_follow_indices'): number =>
    all.reduce((sum, s) => sum + s[field], 0);
  return {
    number_of_failed_follow_indices: total('number_of_failed_follow_indices'),
    number_of_failed_remote_cluster_state_requests: total('number_of_failed_remote_cluster_state_requests'),
    number_of_successful_follow_indices: total('number_of_successful_follow_indices'),
    recent_auto_follow_errors: all.flatMap((s) => s.recent_auto_follow_errors).sort((a, b) => a.timestamp - b.timestamp),
    auto_followed_clusters: [...clusters.keys()].sort().map((k) => clusters.get(k)!),
  };
}

function sortedValues<T>(map: Map<string, T>): T[] {
  return [...map.keys()].sort().map((k) => map.get(k)!);
}

/** A follower nobody runs now: what its record says, no shard (nobody reads them). */
function unownedStats(r: FollowerRecord, owner: FollowerOwner): FleetFollowerStats {
  return {
    index: r.followerIndex, remote_cluster: r.leaderCluster, leader_index: r.leaderIndex, follower_cluster: r.followerCluster,
    status: r.status, state: 'unowned', total_global_checkpoint_lag: 0, operations_written: 0, operations_deleted: 0,
    foreign_writes_detected: 0, leader_checkpoints_seen: false, shards: [], owner,
    ...(r.fatalException ? { fatal_exception: r.fatalException } : {}),
  };
}

function unownedInfo(r: FollowerRecord, owner: FollowerOwner): FleetFollowerInfo {
  let parameters;
  try {
    parameters = parseFollowParams(r.params);
  } catch {
    parameters = parseFollowParams({});
  }
  return {
    follower_index: r.followerIndex, follower_cluster: r.followerCluster, remote_cluster: r.leaderCluster, leader_index: r.leaderIndex,
    status: r.status === 'active' ? 'active' : 'paused', parameters, owner,
    ...(r.fatalException ? { fatal_exception: { ...r.fatalException } } : {}),
  };
}
