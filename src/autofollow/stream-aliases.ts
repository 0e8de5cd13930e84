/**
 * Exposes a followed data stream on the follower cluster under the stream's name, as an alias over
 * the follower indices of its backing indices, so queries written for the leader's stream work on
 * the follower unchanged.
 *
 * Why an alias and not a data stream: no distribution we support lets a REST client make an
 * existing index a backing index of a data stream. Elasticsearch's `POST /_data_stream/_modify`
 * lives in the data-streams module, which the Elasticsearch 8.19 test distribution lacks (the call
 * answers "no handler found", and `/_data_stream/<name>` answers 405); OpenSearch 2.19 has no such
 * API at all. A stream created on the follower by `PUT /_data_stream/<name>` would also own a
 * fresh, writable write index that the leader does not have. Elasticsearch's own CCR creates its
 * replicated data streams through an internal action that REST does not expose. An alias is read
 * the same way by searches, works on every version and flavor, and adds no index of its own.
 *
 * The alias is checked on every round rather than only added once: something else may remove it
 * (a user, or the follower's alias sync bringing the follower's aliases back to the leader
 * index's, which has none), and a follower whose alias could not be added at first gets it later.
 */
import type { ClusterClient } from '../cluster/cluster-client.js';
import { putAlias, resolveIndices } from '../cluster/index-discovery.js';

/** One follower index that should carry the alias `stream`. */
export interface StreamAliasTarget {
  readonly stream: string;
  readonly followerIndex: string;
}

export type StreamAliasOutcome =
  | { readonly stream: string; readonly result: 'ok'; readonly added: readonly string[] }
  | { readonly stream: string; readonly result: 'failed'; readonly error: unknown };

/**
 * Adds the missing aliases on one follower cluster: one resolve call for all the streams, then one
 * alias request per stream that lacks some of its follower indices. A failure of one stream does
 * not stop the others; a failure of the resolve call is thrown.
 */
export async function reconcileStreamAliases(client: ClusterClient, targets: readonly StreamAliasTarget[], signal?: AbortSignal): Promise<StreamAliasOutcome[]> {
  const wanted = new Map<string, Set<string>>();
  for (const t of targets) {
    const set = wanted.get(t.stream) ?? new Set<string>();
    set.add(t.followerIndex);
    wanted.set(t.stream, set);
  }
  if (wanted.size === 0) return [];
  const resolved = await resolveIndices(client, [...wanted.keys()], signal);
  const present = new Map(resolved.aliases.map((a) => [a.name, new Set(a.indices)]));
  const indexNames = new Set(resolved.indices.map((i) => i.name));
  const outcomes: StreamAliasOutcome[] = [];
  for (const [stream, indices] of wanted) {
    if (indexNames.has(stream)) {
      const error = new Error(`an index named [${stream}] exists on the follower cluster, so data stream [${stream}] cannot be exposed there under its name`);
      outcomes.push({ stream, result: 'failed', error });
      continue;
    }
    const missing = [...indices].filter((i) => !present.get(stream)?.has(i)).sort();
    try {
      await putAlias(client, stream, missing, signal);
      outcomes.push({ stream, result: 'ok', added: missing });
    } catch (error) {
      outcomes.push({ stream, result: 'failed', error });
    }
  }
  return outcomes;
}
