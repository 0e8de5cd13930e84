/**
 * Index names and patterns in a request path: `GET /_resolve/index/logs-*,metrics-*`, or a cluster
 * state read for thousands of names, which must be split to fit the request line.
 */

/**
 * Stays under Elasticsearch's default `http.max_initial_line_length` (4kb) with room for the path
 * and the query string: longer name lists are split over several requests.
 */
export const MAX_NAMES_IN_PATH = 3000;

/** Comma-separated, each name encoded (`encodeURIComponent` leaves `*` alone, so wildcards still match). */
export function expressionPath(expressions: readonly string[]): string {
  return expressions.map((e) => encodeURIComponent(e)).join(',');
}

/** `names` in order, in runs whose `expressionPath` stays within `MAX_NAMES_IN_PATH` (a longer single name stands alone). */
export function chunkNames(names: readonly string[]): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let length = 0;
  for (const name of names) {
    const cost = encodeURIComponent(name).length + 1;
    if (current.length > 0 && length + cost > MAX_NAMES_IN_PATH) {
      chunks.push(current);
      current = [];
      length = 0;
    }
    current.push(name);
    length += cost;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Expressions that name every one of `wanted` and, among the names the cluster is known to have
 * (`known`: its indices, aliases and data streams), nothing else: `prefix*` for a run of wanted
 * names that no other known name shares a prefix with, the name itself otherwise. So 500 followed
 * indices named `logs-2026.*` fit one request line instead of five.
 *
 * Only the cost of a request depends on `known` being current: an index created since the
 * listing may match a pattern and be answered too, and callers pick the names they asked for out
 * of each answer (anything missing is read alone), so a stale listing never changes a result.
 */
export function coveringExpressions(wanted: readonly string[], known: Iterable<string>): string[] {
  const want = new Set(wanted);
  const all = [...new Set([...known, ...want])].sort(byCodeUnits);
  const expressions: string[] = [];
  let i = 0;
  while (i < all.length) {
    if (!want.has(all[i]!)) {
      i += 1;
      continue;
    }
    // A run of wanted names between two other names (or the ends): a prefix of a run's name that
    // is no prefix of either neighbour matches only names inside the run (sorted order keeps every
    // name with a given prefix together).
    let end = i;
    while (end + 1 < all.length && want.has(all[end + 1]!)) end += 1;
    const before = i > 0 ? all[i - 1] : undefined;
    const after = end + 1 < all.length ? all[end + 1] : undefined;
    while (i <= end) {
      const name = all[i]!;
      const length = Math.max(commonPrefix(name, before), commonPrefix(name, after)) + 1;
      if (length > name.length) {
        // The name is a prefix of a neighbour's: only the name itself matches it alone.
        expressions.push(name);
        i += 1;
        continue;
      }
      const prefix = name.slice(0, length);
      let last = i;
      while (last + 1 <= end && all[last + 1]!.startsWith(prefix)) last += 1;
      // The group's own longest common prefix: as exact, and matches fewer indices created later;
      // never cut inside a character (half a surrogate pair cannot be put in a URL).
      let cut = commonPrefix(name, all[last]);
      if (isHighSurrogate(name.charCodeAt(cut - 1))) cut -= 1;
      if (last === i || cut < length) expressions.push(...all.slice(i, last + 1));
      else expressions.push(`${name.slice(0, cut)}*`);
      i = last + 1;
    }
  }
  return expressions;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function commonPrefix(a: string, b: string | undefined): number {
  if (b === undefined) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i += 1;
  return i;
}
