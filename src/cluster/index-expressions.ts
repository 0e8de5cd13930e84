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
