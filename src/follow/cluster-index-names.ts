/**
 * The index, alias and data stream names one cluster has, listed now and then, so the shared
 * probes can name hundreds of followed indices by a few prefix patterns (`coveringExpressions`)
 * and read them in one request instead of one per 3 KB of names (docs/architecture.md, "Many
 * followers, one probe"). The listing only makes requests cheaper: a stale or failed one never
 * changes an answer, so a failure here falls back to the names themselves.
 */
import { coveringExpressions } from '../cluster/index-expressions.js';

/** How often the listing is read again while every wanted name is in it. */
export const NAMES_RELIST_MS = 60_000;
/** How soon it may be read again when a wanted name is missing from it (an index created since). */
export const NAMES_MISSING_RELIST_MS = 10_000;

export interface ClusterIndexNamesOptions {
  readonly list: (signal: AbortSignal) => Promise<readonly string[]>;
  readonly now?: () => number;
  readonly relistMs?: number;
  readonly missingRelistMs?: number;
}

export class ClusterIndexNames {
  readonly #o: ClusterIndexNamesOptions;
  readonly #now: () => number;
  #known: ReadonlySet<string> | undefined;
  #listedAt = -Infinity;
  #listing: Promise<void> | undefined;
  /** The last answer, kept while neither the wanted names nor the listing change (every idle tick asks the same). */
  #last: { wanted: readonly string[]; known: ReadonlySet<string> | undefined; expressions: readonly string[] } | undefined;

  constructor(options: ClusterIndexNamesOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Expressions naming exactly `wanted` among the names the cluster had when last listed. */
  async expressionsFor(wanted: readonly string[], signal: AbortSignal): Promise<readonly string[]> {
    if (wanted.length < 2) return wanted;
    const age = this.#now() - this.#listedAt;
    const stale = age >= (this.#o.relistMs ?? NAMES_RELIST_MS)
      || (age >= (this.#o.missingRelistMs ?? NAMES_MISSING_RELIST_MS) && wanted.some((n) => !this.#known?.has(n)));
    if (stale) await this.#relist(signal);
    const known = this.#known;
    if (known === undefined) return wanted;
    const last = this.#last;
    if (last !== undefined && last.known === known && sameNames(last.wanted, wanted)) return last.expressions;
    const expressions = coveringExpressions(wanted, known);
    this.#last = { wanted: [...wanted], known, expressions };
    return expressions;
  }

  #relist(signal: AbortSignal): Promise<void> {
    this.#listing ??= this.#o.list(signal).then(
      (names) => { this.#known = new Set(names); },
      // Not fatal: the probes name each index until a listing succeeds (tried again after the same wait).
      () => undefined,
    ).finally(() => {
      this.#listedAt = this.#now();
      this.#listing = undefined;
    });
    return this.#listing;
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}
