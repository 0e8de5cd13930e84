/**
 * Prometheus metrics of the daemon, served at `GET /metrics` by the control server. Nothing is
 * counted twice: every value is read at scrape time from the same snapshots `GET /_ccr/stats`
 * answers (`FollowManager.stats()`, `AutoFollowCoordinator.stats()`), so metrics and stats agree.
 *
 * Labels are bounded by the followers configured: `follower_index` (`cluster/index`),
 * `leader_cluster`, `leader_index`, `shard`; the status gauge adds `status`. Counters restart from
 * 0 when a follower is resumed (new shard tasks); Prometheus' `rate()` handles such resets.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { AutoFollowStatsView } from '../autofollow/auto-follow-stats.js';
import type { MetadataPatternView } from '../cluster-metadata/metadata-coordinator.js';
import { REQUEST_PURPOSES } from '../cluster/request-counts.js';
import { FOLLOWER_STATUSES, followerStatus } from '../follow/follower-status.js';
import type { FollowerIndexStats } from '../follow/index-follower.js';
import type { ShardStats } from '../shard/shard-stats.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsSources {
  readonly followers: () => readonly FollowerIndexStats[];
  readonly autoFollow: () => AutoFollowStatsView;
  /** Cluster-metadata patterns (`GET /_ccr/cluster_metadata`); none when absent. */
  readonly metadata?: () => readonly MetadataPatternView[];
  /** The fleet as this daemon sees it (daemon/fleet.ts); absent: no fleet gauges. */
  readonly fleet?: () => { readonly daemons: number; readonly unownedFollowers: number };
}

const SHARD_LABELS = ['follower_index', 'leader_cluster', 'leader_index', 'shard'] as const;
const INDEX_LABELS = ['follower_index', 'leader_cluster', 'leader_index'] as const;

type ShardLabels = Record<(typeof SHARD_LABELS)[number], string>;
type IndexLabels = Record<(typeof INDEX_LABELS)[number], string>;

/** Per-shard metrics: name, help, kind and the stats field it reads. */
const SHARD_METRICS: readonly { name: string; help: string; kind: 'gauge' | 'counter'; value: (s: ShardStats) => number }[] = [
  { name: 'lag_operations', kind: 'gauge', help: 'leader global checkpoint minus follower checkpoint (stats lag_operations)', value: (s) => s.lag_operations },
  { name: 'lag_seconds', kind: 'gauge', help: 'age of the oldest operation durable on the leader (<= global checkpoint) and not yet applied on the follower; 0 when caught up (stats lag_millis / 1000)', value: (s) => s.lag_millis / 1000 },
  { name: 'leader_global_checkpoint', kind: 'gauge', help: 'leader shard global checkpoint as last seen', value: (s) => s.leader_global_checkpoint },
  { name: 'follower_global_checkpoint', kind: 'gauge', help: 'highest seq_no up to which the follower shard holds every leader operation', value: (s) => s.follower_global_checkpoint },
  { name: 'operations_read_total', kind: 'counter', help: 'operations read from the leader', value: (s) => s.operations_read },
  { name: 'read_bytes_total', kind: 'counter', help: 'bytes read from the leader', value: (s) => s.bytes_read },
  { name: 'operations_written_total', kind: 'counter', help: 'operations written to the follower', value: (s) => s.operations_written },
  { name: 'operations_deleted_total', kind: 'counter', help: 'documents deleted on the follower because the leader no longer has them', value: (s) => s.operations_deleted },
  { name: 'read_visibility_wait_seconds_total', kind: 'counter', help: 'time reads waited for a leader refresh to make their operations searchable', value: (s) => (s.total_read_visibility_wait_millis ?? 0) / 1000 },
  { name: 'read_search_seconds_total', kind: 'counter', help: 'time reads spent searching the leader shard', value: (s) => (s.total_read_search_millis ?? 0) / 1000 },
  { name: 'read_confirm_seconds_total', kind: 'counter', help: 'time reads spent checking the leader index uuid and metadata (and updating the follower mapping) after searching', value: (s) => (s.total_read_confirm_millis ?? 0) / 1000 },
  { name: 'write_queued_seconds_total', kind: 'counter', help: 'time bulk requests waited for a slot of the follower cluster budget (or a follower index closed for a settings change)', value: (s) => (s.total_write_queued_millis ?? 0) / 1000 },
  { name: 'write_bulk_seconds_total', kind: 'counter', help: 'time bulk requests took on the follower', value: (s) => (s.total_write_bulk_millis ?? 0) / 1000 },
  { name: 'successful_read_requests_total', kind: 'counter', help: 'successful read requests', value: (s) => s.successful_read_requests },
  { name: 'failed_read_requests_total', kind: 'counter', help: 'failed (retried) read requests', value: (s) => s.failed_read_requests },
  { name: 'successful_write_requests_total', kind: 'counter', help: 'successful bulk requests', value: (s) => s.successful_write_requests },
  { name: 'failed_write_requests_total', kind: 'counter', help: 'failed (retried) bulk requests', value: (s) => s.failed_write_requests },
  { name: 'read_exceptions', kind: 'gauge', help: 'recent read exceptions kept in stats (read_exceptions)', value: (s) => s.read_exceptions.length },
  { name: 'write_buffer_operations', kind: 'gauge', help: 'operations waiting in the write buffer', value: (s) => s.write_buffer_operation_count },
  { name: 'write_buffer_bytes', kind: 'gauge', help: 'bytes waiting in the write buffer', value: (s) => s.write_buffer_size_in_bytes },
  { name: 'outstanding_read_requests', kind: 'gauge', help: 'read requests in flight', value: (s) => s.outstanding_read_requests },
  { name: 'outstanding_write_requests', kind: 'gauge', help: 'bulk requests in flight', value: (s) => s.outstanding_write_requests },
];

/**
 * Copied operations over the leader's, summed over shards from the global checkpoints:
 * Σ(follower_global_checkpoint + 1) / Σ(leader_global_checkpoint + 1); 1 for an empty leader.
 */
export function followerProgress(f: FollowerIndexStats): { copied: number; total: number; ratio: number } {
  const copied = f.shards.reduce((a, s) => a + Math.max(0, s.follower_global_checkpoint + 1), 0);
  const total = f.shards.reduce((a, s) => a + Math.max(0, s.leader_global_checkpoint + 1), 0);
  return { copied, total, ratio: total === 0 ? 1 : Math.min(1, copied / total) };
}

function indexLabels(f: FollowerIndexStats): IndexLabels {
  return { follower_index: `${f.follower_cluster}/${f.index}`, leader_cluster: f.remote_cluster, leader_index: f.leader_index };
}

/**
 * A registry whose every metric is filled from `sources` when scraped. `scrape()` takes one
 * snapshot of the sources for all metrics of that scrape (scrapes are serialised), so the values
 * of one scrape are mutually consistent; `registry.metrics()` alone reads the sources per metric.
 */
export function buildMetrics(live: MetricsSources): { registry: Registry; scrape: () => Promise<string> } {
  let snapshot: { followers: readonly FollowerIndexStats[]; autoFollow: AutoFollowStatsView; metadata: readonly MetadataPatternView[] } | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const sources: MetricsSources = {
    followers: () => snapshot?.followers ?? live.followers(),
    autoFollow: () => snapshot?.autoFollow ?? live.autoFollow(),
    metadata: () => snapshot?.metadata ?? live.metadata?.() ?? [],
    ...(live.fleet ? { fleet: live.fleet } : {}),
  };
  const registry = buildMetricsRegistry(sources);
  const scrape = (): Promise<string> => {
    const next = queue.then(async () => {
      snapshot = { followers: live.followers(), autoFollow: live.autoFollow(), metadata: live.metadata?.() ?? [] };
      try {
        return await registry.metrics();
      } finally {
        snapshot = undefined;
      }
    });
    queue = next.catch(() => undefined);
    return next;
  };
  return { registry, scrape };
}

/** A registry whose every metric is filled from `sources` when scraped. */
export function buildMetricsRegistry(sources: MetricsSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ccr_follow_' });

  for (const m of SHARD_METRICS) {
    const name = `ccr_follow_shard_${m.name}`;
    const fill = (set: (labels: ShardLabels, v: number) => void): void => {
      for (const f of sources.followers()) {
        for (const s of f.shards) set({ ...indexLabels(f), shard: String(s.shard_id) }, m.value(s));
      }
    };
    if (m.kind === 'gauge') {
      new Gauge({ name, help: m.help, labelNames: SHARD_LABELS, registers: [registry], collect() { this.reset(); fill((l, v) => this.set(l, v)); } });
    } else {
      new Counter({ name, help: m.help, labelNames: SHARD_LABELS, registers: [registry], collect() { this.reset(); fill((l, v) => this.inc(l, v)); } });
    }
  }

  new Gauge({
    name: 'ccr_follow_follower_status', help: '1 for the follower index\'s current status (active, paused, or failed: paused by a fatal error), 0 for the others',
    labelNames: [...INDEX_LABELS, 'status'], registers: [registry],
    collect() {
      this.reset();
      for (const f of sources.followers()) {
        const current = followerStatus(f);
        for (const status of FOLLOWER_STATUSES) this.set({ ...indexLabels(f), status }, status === current ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'ccr_follow_follower_progress_ratio', help: 'copied / leader operations from global checkpoints summed over shards (1 when caught up); bootstrap progress',
    labelNames: INDEX_LABELS, registers: [registry],
    collect() { this.reset(); for (const f of sources.followers()) this.set(indexLabels(f), followerProgress(f).ratio); },
  });
  new Gauge({
    name: 'ccr_follow_follower_shards', help: 'shards followed (0 for a follower paused since the daemon started: no shard stats then)',
    labelNames: INDEX_LABELS, registers: [registry],
    collect() { this.reset(); for (const f of sources.followers()) this.set(indexLabels(f), f.shards.length); },
  });

  // Per follower cluster, from any follower writing through its shared bulk budget (all report the same one).
  type Budget = NonNullable<FollowerIndexStats['write_concurrency']>;
  const budgets = (): Map<string, Budget> => new Map(
    sources.followers().flatMap((f) => (f.write_concurrency ? [[f.follower_cluster, f.write_concurrency] as const] : [])),
  );
  const budgetGauge = (name: string, help: string, value: (b: Budget) => number): void => {
    new Gauge({
      name, help, labelNames: ['follower_cluster'], registers: [registry],
      collect() { this.reset(); for (const [cluster, b] of budgets()) this.set({ follower_cluster: cluster }, value(b)); },
    });
  };
  budgetGauge('ccr_follow_write_concurrency_limit', 'bulk requests the follower cluster is sent at once at most, as the adaptive budget now sets it', (b) => b.limit);
  budgetGauge('ccr_follow_write_concurrency_waiting', 'bulk requests waiting for a slot of the follower cluster\'s budget', (b) => b.waiting);
  budgetGauge('ccr_follow_read_ahead_windows', 'what the shards writing to the follower cluster hold (buffered, being read, in unanswered bulks), all together, in windows of one request', (b) => b.read_ahead_windows);
  budgetGauge('ccr_follow_read_ahead_shards_waiting', 'shards waiting for their turn to read: the follower cluster\'s shared read-ahead is full', (b) => b.shards_waiting_to_read);

  // Per leader cluster, from any of its followers (all report the same counts: the cluster client's).
  const leaderRequests = (): Map<string, NonNullable<FollowerIndexStats['leader_requests']>> => new Map(
    sources.followers().flatMap((f) => (f.leader_requests ? [[f.remote_cluster, f.leader_requests] as const] : [])),
  );
  new Counter({
    name: 'ccr_follow_leader_requests_total', help: 'requests sent to the leader cluster, by purpose (checkpoints, metadata, reads, reconciliation, writes, other)',
    labelNames: ['leader_cluster', 'purpose'], registers: [registry],
    collect() {
      this.reset();
      for (const [cluster, r] of leaderRequests()) for (const purpose of REQUEST_PURPOSES) this.inc({ leader_cluster: cluster, purpose }, r.total[purpose]);
    },
  });
  new Gauge({
    name: 'ccr_follow_leader_requests_per_second', help: 'requests per second sent to the leader cluster over the last 10 s, by purpose',
    labelNames: ['leader_cluster', 'purpose'], registers: [registry],
    collect() {
      this.reset();
      for (const [cluster, r] of leaderRequests()) for (const purpose of REQUEST_PURPOSES) this.set({ leader_cluster: cluster, purpose }, r.per_second[purpose]);
    },
  });

  // Every daemon of a fleet exports these two with the same value (each from its own last scan):
  // take one daemon's, or the max, never the sum; the per-follower metrics above sum correctly,
  // since each daemon exports only the followers it runs.
  if (sources.fleet) {
    const fleet = sources.fleet;
    new Gauge({ name: 'ccr_follow_fleet_daemons', help: 'live daemons sharing the state, this one included (as of its last lease scan)', registers: [registry], collect() { this.set(fleet().daemons); } });
    new Gauge({
      name: 'ccr_follow_fleet_unowned_followers', help: 'follower indices no live daemon runs now (their owner died or is handing them over; another takes them within lease_timeout)',
      registers: [registry], collect() { this.set(fleet().unownedFollowers); },
    });
  }

  const autoFollowCounter = (name: string, help: string, value: (a: AutoFollowStatsView) => number): void => {
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(value(sources.autoFollow())); } });
  };
  autoFollowCounter('ccr_follow_auto_follow_successful_follow_indices_total', 'leader indices auto-follow started following', (a) => a.number_of_successful_follow_indices);
  autoFollowCounter('ccr_follow_auto_follow_failed_follow_indices_total', 'leader indices auto-follow failed to follow', (a) => a.number_of_failed_follow_indices);
  autoFollowCounter('ccr_follow_auto_follow_failed_remote_cluster_state_requests_total', 'failed discovery requests to leader clusters', (a) => a.number_of_failed_remote_cluster_state_requests);

  const patterns = (): readonly MetadataPatternView[] => sources.metadata?.() ?? [];
  new Gauge({
    name: 'ccr_follow_cluster_metadata_items', help: 'templates, pipelines and policies of a cluster-metadata pattern: followed, not expressible on the follower, with parts held back while following',
    labelNames: ['pattern', 'state'], registers: [registry],
    collect() {
      this.reset();
      for (const p of patterns()) {
        this.set({ pattern: p.name, state: 'followed' }, p.stats.items_followed);
        this.set({ pattern: p.name, state: 'not_expressible' }, p.stats.not_expressible.length);
        this.set({ pattern: p.name, state: 'held_back' }, p.stats.held_back.length);
      }
    },
  });
  new Counter({
    name: 'ccr_follow_cluster_metadata_changes_total', help: 'items a cluster-metadata pattern created, changed, put back (changed or deleted on the follower) or deleted on the follower',
    labelNames: ['pattern', 'change'], registers: [registry],
    collect() {
      this.reset();
      for (const p of patterns()) {
        for (const [change, value] of [['created', p.stats.items_created], ['changed', p.stats.items_changed], ['put_back', p.stats.items_put_back], ['deleted', p.stats.items_deleted]] as const) {
          this.inc({ pattern: p.name, change }, value);
        }
      }
    },
  });
  new Counter({
    name: 'ccr_follow_cluster_metadata_failed_rounds_total', help: 'cluster-metadata rounds that failed (retried next round)',
    labelNames: ['pattern'], registers: [registry],
    collect() { this.reset(); for (const p of patterns()) this.inc({ pattern: p.name }, p.stats.failed_rounds); },
  });
  return registry;
}
