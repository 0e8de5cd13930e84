/** REST requests a cluster's nodes served, per action, from `_nodes/usage` (`rest_actions`), and their rates over a window. */
import type { Rest } from './http.js';

export type ActionCounts = Readonly<Record<string, number>>;

/** Summed over the cluster's nodes, without the usage calls themselves. */
export async function restActionCounts(rest: Rest): Promise<ActionCounts> {
  const usage = await rest.request<{ nodes: Record<string, { rest_actions?: Record<string, number> }> }>('GET', '/_nodes/usage');
  const counts: Record<string, number> = {};
  for (const node of Object.values(usage.nodes)) {
    for (const [action, n] of Object.entries(node.rest_actions ?? {})) {
      if (action !== 'nodes_usage_action') counts[action] = (counts[action] ?? 0) + n;
    }
  }
  return counts;
}

/** Requests per second of each action that was served between the two counts, busiest first. */
export function actionRates(before: ActionCounts, after: ActionCounts, seconds: number): ActionCounts {
  return Object.fromEntries(Object.entries(after)
    .map(([action, n]) => [action, (n - (before[action] ?? 0)) / seconds] as const)
    .filter(([, rate]) => rate > 0)
    .sort((a, b) => b[1] - a[1]));
}

export function totalRate(rates: ActionCounts): number {
  return Object.values(rates).reduce((a, b) => a + b, 0);
}

/** `indices_stats 5.00, cluster_state 2.50` */
export function formatRates(rates: ActionCounts): string {
  const entries = Object.entries(rates);
  return entries.length === 0 ? 'none' : entries.map(([action, rate]) => `${action} ${rate.toFixed(2)}`).join(', ');
}
