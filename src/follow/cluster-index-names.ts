/**
 * The index, alias and data stream names one cluster has, listed now and then, so the shared
 * probes can name hundreds of followed indices by a few prefix patterns (`coveringExpressions`)
 * and read them in one request instead of one per 3 KB of names (docs/architecture.md, "Many
 * followers, one probe"). The listing only makes requests cheaper: a stale one never changes an
 * answer (each index is picked out of it by name), and it is read beside the probes' rounds, never
 * in their way. A read by patterns that fails is made again by the names themselves, and patterns
 * rest for a while: a cluster may refuse a pattern where it serves the names (OpenSearch's security
 * plugin refuses a wildcard that matches any index the user may not see, which the listing leaves out).
 */
import { coveringExpressions } from '../cluster/index-expressions.js';

/** How often the listing is read again while every wanted name is in it. */
export const NAMES_RELIST_MS = 60_000;
/** How soon it may be read again when a wanted name is missing from it (an index created since). */
export const NAMES_MISSING_RELIST_MS = 10_000;
/** How long patterns rest after a read by them failed. */
export const PATTERNS_REFUSED_MS = 600_000;

export interface ClusterIndexNamesOptions {
  readonly list: (signal: AbortSignal) => Promise<readonly string[]>;
  readonly now?: () => number;
  readonly relistMs?: number;
  readonly missingRelistMs?: number;
  readonly refusedMs?: number;
}

export class ClusterIndexNames {
  readonly #o: ClusterIndexNamesOptions;
  readonly #now: () => number;
  #known: ReadonlySet<string> | undefined;
  #listedAt = -Infinity;
  #listing: Promise<void> | undefined;
  #patternsRestUntil = -Infinity;
  /** The last answer, kept while neither the wanted names nor the listing change (every idle tick asks the same). */
  #last: { wanted: readonly string[]; known: ReadonlySet<string>; expressions: readonly string[] } | undefined;

  constructor(options: ClusterIndexNamesOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** `readWith` by the fewest expressions naming `wanted`, or by the names if that fails. */
  async read<T>(wanted: readonly string[], signal: AbortSignal, readWith: (expressions: readonly string[]) => Promise<T>): Promise<T> {
    const expressions = this.expressionsFor(wanted, signal);
    if (expressions === wanted) return readWith(wanted);
    try {
      return await readWith(expressions);
    } catch (err) {
      if (signal.aborted) throw err;
      this.#patternsRestUntil = this.#now() + (this.#o.refusedMs ?? PATTERNS_REFUSED_MS);
      return readWith(wanted);
    }
  }

  /**
   * Expressions naming exactly `wanted` among the names the cluster had when last listed; `wanted`
   * itself while there is no listing or patterns rest. A stale listing is read again meanwhile.
   */
  expressionsFor(wanted: readonly string[], signal: AbortSignal): readonly string[] {
    if (wanted.length < 2) return wanted;
    const now = this.#now();
    const age = now - this.#listedAt;
    const stale = age >= (this.#o.relistMs ?? NAMES_RELIST_MS)
      || (age >= (this.#o.missingRelistMs ?? NAMES_MISSING_RELIST_MS) && wanted.some((n) => !this.#known?.has(n)));
    if (stale) this.#relist(signal);
    const known = this.#known;
    if (known === undefined || now < this.#patternsRestUntil) return wanted;
    const last = this.#last;
    if (last !== undefined && last.known === known && sameNames(last.wanted, wanted)) return last.expressions;
    const expressions = coveringExpressions(wanted, known);
    this.#last = { wanted: [...wanted], known, expressions };
    return expressions;
  }

  /** Reads the listing in the background (one at a time); a failure keeps the last one. */
  #relist(signal: AbortSignal): void {
    if (this.#listing !== undefined) return;
    this.#listing = this.#o.list(signal).then(
      (names) => { this.#known = new Set(names); },
      () => undefined,
    ).finally(() => {
      this.#listedAt = this.#now();
      this.#listing = undefined;
    });
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}
