/** The bench's configuration, from the environment; defaults are the full-size run's. */
export type PairName = 'es-es' | 'os-os' | 'es-os';
export type PinnedMode = 'shared' | 'pinned';

export interface BenchConfig {
  /** Documents pre-loaded into the leader for the bootstrap comparison (BENCH_DOCS, 500000). */
  readonly docs: number;
  /** Repetitions of every measurement (BENCH_REPS, 3). */
  readonly reps: number;
  /** Length of the saturated-tail and lag windows in seconds (BENCH_SECONDS, 60). */
  readonly seconds: number;
  /** BENCH_PAIRS, comma-separated: es-es, os-os, es-os (default es-es,os-os). */
  readonly pairs: readonly PairName[];
  /** BENCH_PINNED: 0 (shared cores only), 1 (pinned only), both (default). */
  readonly modes: readonly PinnedMode[];
  readonly seed: number;
  /** BENCH_PROFILE=1 (default): one extra ccr-follow bootstrap per pair under --cpu-prof, not counted. */
  readonly profile: boolean;
  /** BENCH_TOOLS=0 skips _reindex and elasticdump. */
  readonly tools: boolean;
  /** Follow parameters of the "tuned" ccr-follow runs (BENCH_TUNED, JSON). */
  readonly tuned: Readonly<Record<string, unknown>>;
  /** Follow parameters of the tail, lag and write-block phases: "default" or "tuned" (BENCH_PHASE_PARAMS). */
  readonly phaseParams: 'default' | 'tuned';
  /** max_write_buffer_size for the write-blocked phase (BENCH_BLOCKED_BUFFER, 16mb). */
  readonly blockedBuffer: string;
  /** Node heap for every node (BENCH_HEAP, 1g). */
  readonly heap: string;
  /** BENCH_PHASES, comma-separated subset of ceiling,ccr,many,tools,tail,lag,blocked (default all; the ceiling always runs). */
  readonly phases: readonly string[];
  /** Indices of the many-indices bootstrap (BENCH_MANY, 20), sharing BENCH_DOCS between them. */
  readonly many: number;
  /** Documents per second of the lag phase (BENCH_LAG_RATE, 5000; 0: half of what the leader took in the tail). */
  readonly lagRate: number;
}

/** A positive integer from the environment variable `name` (underscores allowed: 200_000), or `def`. */
export function int(name: string, def: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return v;
}

export function readConfig(): BenchConfig {
  const pairs = (process.env['BENCH_PAIRS'] ?? 'es-es,os-os').split(',').map((p) => p.trim()).filter(Boolean);
  for (const p of pairs) if (!['es-es', 'os-os', 'es-os'].includes(p)) throw new Error(`BENCH_PAIRS: unknown pair ${p} (es-es, os-os, es-os)`);
  const pinned = process.env['BENCH_PINNED'] ?? 'both';
  const modes: PinnedMode[] = pinned === '1' ? ['pinned'] : pinned === '0' ? ['shared'] : pinned === 'both' ? ['shared', 'pinned'] : [];
  if (modes.length === 0) throw new Error(`BENCH_PINNED must be 0, 1 or both, got ${pinned}`);
  const phaseParams = process.env['BENCH_PHASE_PARAMS'] ?? 'default';
  if (phaseParams !== 'default' && phaseParams !== 'tuned') throw new Error('BENCH_PHASE_PARAMS must be default or tuned');
  return {
    docs: int('BENCH_DOCS', 500_000),
    reps: int('BENCH_REPS', 3),
    seconds: int('BENCH_SECONDS', 60),
    pairs: pairs as PairName[],
    modes,
    seed: int('BENCH_SEED', 20261122),
    profile: process.env['BENCH_PROFILE'] !== '0',
    tools: process.env['BENCH_TOOLS'] !== '0',
    tuned: JSON.parse(process.env['BENCH_TUNED'] ?? JSON.stringify({
      max_outstanding_read_requests: 1,
      max_read_request_operation_count: 5000,
      max_outstanding_write_requests: 1,
      max_write_request_operation_count: 5000,
    })) as Record<string, unknown>,
    phaseParams,
    blockedBuffer: process.env['BENCH_BLOCKED_BUFFER'] ?? '16mb',
    heap: process.env['BENCH_HEAP'] ?? '1g',
    phases: (process.env['BENCH_PHASES'] ?? 'ceiling,ccr,many,tools,tail,lag,blocked').split(',').map((p) => p.trim()),
    many: int('BENCH_MANY', 20),
    lagRate: process.env['BENCH_LAG_RATE'] === '0' ? 0 : int('BENCH_LAG_RATE', 5000),
  };
}
