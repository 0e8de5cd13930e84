/** The markdown table of one pair: min / median / max over repetitions, ratios taken within each repetition. */
import type { BenchConfig, PairName, PinnedMode } from './env.js';
import type { BlockedResult, CopyResult, LagResult, ManyResult, TailResult } from './phases.js';
import type { ProfileSummary } from './profile.js';
import { summarize } from './stats.js';

export interface Failure { readonly error: string }
export type Maybe<T> = T | Failure | undefined;
export const ok = <T>(v: Maybe<T>): T | undefined => (v === undefined || (typeof v === 'object' && v !== null && 'error' in v) ? undefined : (v as T));

export interface RepResult {
  readonly rep: number;
  readonly ceiling: CopyResult;
  readonly ccrDefault?: CopyResult;
  readonly ccrTuned?: CopyResult;
  readonly reindex?: Maybe<CopyResult>;
  readonly elasticdump?: Maybe<CopyResult>;
  readonly tail?: Maybe<TailResult>;
  readonly lag?: Maybe<LagResult>;
  readonly blocked?: Maybe<BlockedResult>;
  readonly many?: Maybe<ManyResult>;
}

export interface ModeResult {
  readonly mode: PinnedMode;
  readonly ceilingSetting: { size: number; concurrency: number; trials: { size: number; concurrency: number; docsPerSecond: number }[] };
  readonly reps: RepResult[];
}

export interface PairResult {
  readonly pair: PairName;
  readonly leader: string;
  readonly follower: string;
  readonly date: string;
  readonly config: BenchConfig;
  readonly machine: { cpus: number; model: string; node: string; loadBefore: number[]; loadAfter: number[] };
  readonly modes: ModeResult[];
  readonly profiles: { label: string; file: string; summary: ProfileSummary }[];
  readonly skipped: string[];
}

interface Row { label: string; values: number[]; digits: number; goal?: string; test?: (median: number) => boolean }

const fmt = (v: number, digits: number): string => (Number.isFinite(v) ? v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a');

function table(rows: Row[]): string[] {
  const lines = ['| measure | min | median | max | goal |', '| --- | ---: | ---: | ---: | --- |'];
  for (const r of rows) {
    const s = summarize(r.values);
    const goal = r.goal ? `${r.goal} ${s && r.test ? (r.test(s.median) ? '✅' : '❌') : ''}`.trim() : '';
    lines.push(s ? `| ${r.label} | ${fmt(s.min, r.digits)} | ${fmt(s.median, r.digits)} | ${fmt(s.max, r.digits)} | ${goal} |` : `| ${r.label} | – | – | – | ${r.goal ?? ''} |`);
  }
  return lines;
}

const defined = (v: (number | undefined)[]): number[] => v.filter((x): x is number => x !== undefined);

function bestToolSeconds(r: RepResult): number | undefined {
  const times = defined([ok(r.reindex)?.seconds, ok(r.elasticdump)?.seconds]);
  return times.length ? Math.min(...times) : undefined;
}

function modeRows(m: ModeResult, cfg: BenchConfig): Row[] {
  const reps = m.reps;
  const pinned = m.mode === 'pinned';
  const rateGoal = pinned ? 0.95 : 0.8;
  const c = m.ceilingSetting;
  const per = (f: (r: RepResult) => number | undefined): number[] => defined(reps.map(f));
  const rows: Row[] = [
    { label: `ceiling: follower \`_bulk\`, external versions (bulk ${c.size} × ${c.concurrency} in flight), docs/s`, values: per((r) => r.ceiling.docsPerSecond), digits: 0 },
    { label: 'bootstrap ccr-follow, CCR default parameters, docs/s', values: per((r) => r.ccrDefault?.docsPerSecond), digits: 0 },
    { label: `bootstrap ccr-follow, tuned parameters¹, docs/s`, values: per((r) => r.ccrTuned?.docsPerSecond), digits: 0 },
    { label: 'bootstrap `_reindex` from remote (size 5000), docs/s', values: per((r) => ok(r.reindex)?.docsPerSecond), digits: 0 },
    { label: 'bootstrap elasticdump (limit 10000, concurrency 4), docs/s', values: per((r) => ok(r.elasticdump)?.docsPerSecond), digits: 0 },
    { label: 'ccr-follow default ÷ ceiling (rate)', values: per((r) => (r.ccrDefault ? r.ccrDefault?.docsPerSecond : NaN) / r.ceiling.docsPerSecond), digits: 2, goal: `≥ ${rateGoal}`, test: (v) => v >= rateGoal },
    { label: 'ccr-follow tuned ÷ ceiling (rate)', values: per((r) => (r.ccrTuned ? r.ccrTuned?.docsPerSecond : NaN) / r.ceiling.docsPerSecond), digits: 2, goal: `≥ ${rateGoal}`, test: (v) => v >= rateGoal },
    { label: '`_reindex` ÷ ceiling (rate)', values: per((r) => (ok(r.reindex) ? ok(r.reindex)!.docsPerSecond / r.ceiling.docsPerSecond : undefined)), digits: 2 },
    { label: 'elasticdump ÷ ceiling (rate)', values: per((r) => (ok(r.elasticdump) ? ok(r.elasticdump)!.docsPerSecond / r.ceiling.docsPerSecond : undefined)), digits: 2 },
    { label: 'ccr-follow default time ÷ best of `_reindex`/elasticdump', values: per((r) => { const b = bestToolSeconds(r); return b && r.ccrDefault ? r.ccrDefault.seconds / b : undefined; }), digits: 2, goal: '≤ 0.7', test: (v) => v <= 0.7 },
    { label: 'ccr-follow tuned time ÷ best of `_reindex`/elasticdump', values: per((r) => { const b = bestToolSeconds(r); return b && r.ccrTuned ? r.ccrTuned.seconds / b : undefined; }), digits: 2, goal: '≤ 0.7', test: (v) => v <= 0.7 },
    { label: 'daemon CPU-s per 100k docs, bootstrap default', values: per((r) => r.ccrDefault?.toolCpuPer100k), digits: 2, goal: '≤ 1.0', test: (v) => v <= 1.0 },
    { label: 'daemon CPU-s per 100k docs, bootstrap tuned', values: per((r) => r.ccrTuned?.toolCpuPer100k), digits: 2, goal: '≤ 1.0', test: (v) => v <= 1.0 },
    { label: 'elasticdump CPU-s per 100k docs', values: per((r) => ok(r.elasticdump)?.toolCpuPer100k), digits: 2 },
    { label: 'leader / follower CPU-s per 100k docs, ccr-follow default', values: [], digits: 2 },
    { label: '&nbsp;&nbsp;leader', values: per((r) => r.ccrDefault?.leaderCpuPer100k), digits: 2 },
    { label: '&nbsp;&nbsp;follower', values: per((r) => r.ccrDefault?.followerCpuPer100k), digits: 2 },
    { label: '&nbsp;&nbsp;follower, ceiling (for comparison)', values: per((r) => r.ceiling.followerCpuPer100k), digits: 2 },
    { label: '&nbsp;&nbsp;leader / follower, `_reindex`', values: per((r) => { const x = ok(r.reindex); return x ? x.leaderCpuPer100k + x.followerCpuPer100k : undefined; }), digits: 2 },
    { label: 'daemon peak RSS during bootstrap (default / tuned), MB', values: [], digits: 0 },
    { label: '&nbsp;&nbsp;default', values: per((r) => r.ccrDefault?.peakRssMb), digits: 0 },
    { label: '&nbsp;&nbsp;tuned', values: per((r) => r.ccrTuned?.peakRssMb), digits: 0 },
  ];
  if (pinned) return rows.filter((r) => !r.label.includes('peak RSS') && !r.label.startsWith('&nbsp;&nbsp;default') && !r.label.startsWith('&nbsp;&nbsp;tuned'));
  const tail = (f: (t: TailResult, r: RepResult) => number): number[] => per((r) => { const t = ok(r.tail); return t ? f(t, r) : undefined; });
  const lag = (f: (l: LagResult) => number): number[] => per((r) => { const l = ok(r.lag); return l ? f(l) : undefined; });
  const blocked = (f: (b: BlockedResult) => number): number[] => per((r) => { const b = ok(r.blocked); return b ? f(b) : undefined; });
  const lagRate = summarize(lag((l) => l.docsPerSecond))?.median;
  const firstBlocked = reps.map((r) => ok(r.blocked)).find((b) => b);
  const many = (f: (m: ManyResult, r: RepResult) => number | undefined): number[] => per((r) => { const x = ok(r.many); return x ? f(x, r) : undefined; });
  const firstMany = reps.map((r) => ok(r.many)).find((x) => x);
  rows.push(
    { label: `${firstMany?.indices ?? '?'} indices × 3 shards bootstrapping at once (${firstMany?.docs.toLocaleString('en-US') ?? '?'} docs in all), default parameters, docs/s`, values: many((x) => x.docsPerSecond), digits: 0 },
    { label: '&nbsp;&nbsp;÷ one index (bootstrap default, same repetition)', values: many((x, r) => (r.ccrDefault ? x.docsPerSecond / r.ccrDefault.docsPerSecond : undefined)), digits: 2, goal: '≥ 0.9', test: (v) => v >= 0.9 },
    { label: '&nbsp;&nbsp;daemon peak RSS, MB', values: many((x) => x.peakRssMb), digits: 0, goal: '≤ 300', test: (v) => v <= 300 },
    { label: '&nbsp;&nbsp;daemon CPU-s per 100k docs', values: many((x) => x.daemonCpuPer100k), digits: 2, goal: '≤ 1.0', test: (v) => v <= 1.0 },
  );
  rows.push(
    { label: `saturated tail (${cfg.seconds} s): leader written, docs/s`, values: tail((t) => t.writtenPerSecond), digits: 0 },
    { label: '&nbsp;&nbsp;replicated by the end, docs/s', values: tail((t) => t.replicatedPerSecond), digits: 0 },
    { label: '&nbsp;&nbsp;replicated ÷ written', values: tail((t) => t.replicatedRatio), digits: 2, goal: '≥ 0.9', test: (v) => v >= 0.9 },
    { label: '&nbsp;&nbsp;replicated ÷ ceiling', values: tail((t, r) => t.replicatedPerSecond / r.ceiling.docsPerSecond), digits: 2, goal: '≥ 0.8', test: (v) => v >= 0.8 },
    { label: '&nbsp;&nbsp;drain after the writer stops, s', values: tail((t) => t.drainSeconds), digits: 2, goal: '≤ 5', test: (v) => v <= 5 },
    { label: '&nbsp;&nbsp;daemon CPU-s per 100k docs', values: tail((t) => t.daemonCpuPer100k), digits: 2, goal: '≤ 1.0', test: (v) => v <= 1.0 },
    { label: '&nbsp;&nbsp;leader refreshes per second (3 shards)', values: tail((t) => t.leaderRefreshesPerSecond), digits: 1 },
    { label: '&nbsp;&nbsp;operations per read / per bulk', values: [], digits: 0 },
    { label: '&nbsp;&nbsp;&nbsp;&nbsp;per read', values: tail((t) => t.requests.opsPerRead), digits: 0 },
    { label: '&nbsp;&nbsp;&nbsp;&nbsp;per bulk', values: tail((t) => t.requests.opsPerWrite), digits: 0 },
    { label: `lag at ${cfg.lagRate > 0 ? 'a fixed rate' : 'half the tail\'s write rate'} (${lagRate ? Math.round(lagRate) : '?'} docs/s, ${cfg.seconds} s, refresh 1 s), ms:`, values: [], digits: 0 },
    { label: '&nbsp;&nbsp;to applied (realtime GET), p50', values: lag((l) => l.appliedMs.p50), digits: 0 },
    { label: '&nbsp;&nbsp;to applied, p99', values: lag((l) => l.appliedMs.p99), digits: 0, goal: '≤ 500', test: (v) => v <= 500 },
    { label: '&nbsp;&nbsp;to applied, max', values: lag((l) => l.appliedMs.max), digits: 0 },
    { label: '&nbsp;&nbsp;to searchable, p50', values: lag((l) => l.searchableMs.p50), digits: 0 },
    { label: '&nbsp;&nbsp;to searchable, p99', values: lag((l) => l.searchableMs.p99), digits: 0, goal: '≤ 1500', test: (v) => v <= 1500 },
    { label: '&nbsp;&nbsp;to searchable, max', values: lag((l) => l.searchableMs.max), digits: 0 },
    { label: '&nbsp;&nbsp;daemon CPU-s per 100k docs', values: lag((l) => l.daemonCpuPer100k), digits: 2 },
    { label: '&nbsp;&nbsp;leader refreshes per second (3 shards)', values: lag((l) => l.leaderRefreshesPerSecond), digits: 1 },
    { label: '&nbsp;&nbsp;where a read\'s time went (mean per read), ms:', values: [], digits: 0 },
    { label: '&nbsp;&nbsp;&nbsp;&nbsp;waiting for a leader refresh', values: lag((l) => l.requests.readStages.visibilityWait), digits: 0 },
    { label: '&nbsp;&nbsp;&nbsp;&nbsp;searching', values: lag((l) => l.requests.readStages.search), digits: 0 },
    { label: '&nbsp;&nbsp;&nbsp;&nbsp;checking uuid and metadata after the search', values: lag((l) => l.requests.readStages.confirm), digits: 0 },
    { label: '&nbsp;&nbsp;where a bulk\'s time went (mean per bulk), ms:', values: [], digits: 0 },
    { label: '&nbsp;&nbsp;&nbsp;&nbsp;waiting for a slot of the follower\'s budget', values: lag((l) => l.requests.writeStages.queued), digits: 0 },
    { label: '&nbsp;&nbsp;&nbsp;&nbsp;bulk request', values: lag((l) => l.requests.writeStages.bulk), digits: 0 },
    { label: `follower write-blocked, ${firstBlocked?.docs ?? '?'} docs written, max_write_buffer_size ${cfg.blockedBuffer} (× 3 shards):`, values: [], digits: 0 },
    { label: '&nbsp;&nbsp;daemon RSS before, MB', values: blocked((b) => b.rssBeforeMb), digits: 0 },
    { label: '&nbsp;&nbsp;daemon RSS max while blocked, MB', values: blocked((b) => b.rssMaxMb), digits: 0 },
    { label: '&nbsp;&nbsp;write buffers at their peak, MB', values: blocked((b) => b.peakBufferMb), digits: 1 },
    { label: '&nbsp;&nbsp;bulk requests in flight (retried against the block) at the peak', values: blocked((b) => b.peakOutstandingWrites), digits: 0 },
    { label: '&nbsp;&nbsp;drain after the block is lifted, s', values: blocked((b) => b.drainSeconds), digits: 1 },
  );
  return rows;
}

export function markdown(p: PairResult): string {
  const cfg = p.config;
  const out = [
    `## ${p.leader} → ${p.follower} (${p.pair}), ${p.date}`,
    '',
    `${cfg.docs.toLocaleString('en-US')} log-like documents (~520 B, seed ${cfg.seed}), 3 shards, 0 replicas, ${cfg.heap} heaps; ` +
      `${cfg.reps} repetition(s), every figure min / median / max, each ratio taken within one repetition. ` +
      `Machine: ${p.machine.cpus} × ${p.machine.model}, Node ${p.machine.node}; load average before ${p.machine.loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${p.machine.loadAfter.map((l) => l.toFixed(2)).join(' ')}.`,
    '',
  ];
  for (const m of p.modes) {
    out.push(m.mode === 'shared'
      ? '### Shared cores (leader, follower, daemon and tools on the same 2 cores)'
      : '### Pinned (`taskset`: follower on core 1; leader, daemon, tools and bench on core 0; ratios to a one-core ceiling)', '');
    out.push(...table(modeRows(m, cfg)), '');
    out.push(`Ceiling trials (${m.mode}): ${m.ceilingSetting.trials.map((t) => `${t.size}×${t.concurrency}: ${Math.round(t.docsPerSecond)}`).join(', ')} docs/s.`, '');
    const failures = m.reps.flatMap((r) => Object.entries(r).filter(([, v]) => typeof v === 'object' && v !== null && 'error' in v).map(([k, v]) => `rep ${r.rep} ${k}: ${(v as Failure).error}`));
    if (failures.length) out.push('Failures:', ...failures.map((f) => `- ${f}`), '');
  }
  out.push(`¹ tuned: \`${JSON.stringify(cfg.tuned)}\`; tail, lag and write-block phases ran with the ${cfg.phaseParams} parameters.`);
  for (const s of p.skipped) out.push('', `Skipped: ${s}`);
  return `${out.join('\n')}\n`;
}
