/**
 * Flavor and version detection. `GET /` names the distribution on OpenSearch and ES 7; ES 8.19's
 * integ-test build answers 405 there (the root handler lives in a module it lacks), so we fall back
 * to `GET /_nodes/_local` and tell Elasticsearch by its `X-Elastic-Product` header.
 * Detection uses the OpenSearch client because its plain JSON is accepted by every flavor.
 */
import type { ClusterConfig } from './cluster-config.js';
import { createTransport, type Flavor } from './rest-transport.js';

export async function detectFlavor(config: ClusterConfig, signal?: AbortSignal): Promise<{ flavor: Flavor; version: string }> {
  const probe = createTransport(config, 'opensearch');
  try {
    interface Root { version?: { number?: string; distribution?: string } }
    const root = await probe.request<Root>('detect cluster version', { method: 'GET', path: '/', accept: [404, 405] }, signal);
    if (root.status === 200 && root.body.version?.number) {
      const flavor: Flavor = root.body.version.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch';
      return { flavor, version: root.body.version.number };
    }
    interface Nodes { nodes?: Record<string, { version?: string }> }
    const nodes = await probe.request<Nodes>('detect cluster version', {
      method: 'GET', path: '/_nodes/_local', query: { filter_path: 'nodes.*.version' },
    }, signal);
    const version = Object.values(nodes.body.nodes ?? {})[0]?.version ?? 'unknown';
    const flavor: Flavor = nodes.headers['x-elastic-product'] === 'Elasticsearch' ? 'elasticsearch' : 'opensearch';
    return { flavor, version };
  } finally {
    await probe.close();
  }
}
