/**
 * Log-like documents of ~520 bytes, generated deterministically: document `n` of a seed is always
 * the same bytes, whatever order or process generates it, so every tool copies the same data.
 */
import { mulberry32 } from '../../test/helpers/prng.js';

const SERVICES = ['checkout', 'cart', 'search', 'auth', 'catalog', 'payments', 'shipping', 'reviews'];
const LEVELS = ['INFO', 'INFO', 'INFO', 'INFO', 'WARN', 'ERROR', 'DEBUG'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const PATHS = ['/api/v2/orders', '/api/v2/cart/items', '/api/v1/search', '/api/v2/users', '/api/v1/catalog/products', '/api/v2/payments'];
const STATUSES = [200, 200, 200, 200, 201, 204, 304, 400, 404, 500, 503];
const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-south-1'];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0',
  'okhttp/4.12.0 (android 14; build 2024.06)',
];
const WORDS = ['request', 'completed', 'upstream', 'cache', 'miss', 'hit', 'retry', 'timeout', 'user', 'session', 'token', 'order', 'item', 'queue', 'worker', 'latency'];
const BASE_TIME = Date.UTC(2026, 0, 1);

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function hex(random: () => number, chars: number): string {
  let out = '';
  while (out.length < chars) out += Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  return out.slice(0, chars);
}

/** The `_source` of document `n` for `seed`, as JSON (~520 bytes). */
export function documentJson(seed: number, n: number): string {
  const random = mulberry32((seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0);
  const service = pick(random, SERVICES);
  const method = pick(random, METHODS);
  const path = `${pick(random, PATHS)}/${Math.floor(random() * 1_000_000)}`;
  const status = pick(random, STATUSES);
  const bytes = Math.floor(random() * 50_000);
  const duration = Math.round(random() * 200_000) / 100;
  const user = `u-${Math.floor(random() * 100_000)}`;
  const words = Array.from({ length: 6 }, () => pick(random, WORDS)).join(' ');
  const doc = {
    '@timestamp': new Date(BASE_TIME + n * 37 + Math.floor(random() * 1000)).toISOString(),
    host: `web-${String(Math.floor(random() * 64)).padStart(3, '0')}`,
    service,
    level: pick(random, LEVELS),
    http: { method, path, status, bytes, duration_ms: duration },
    client: { ip: `10.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`, region: pick(random, REGIONS) },
    user_agent: pick(random, AGENTS),
    trace_id: hex(random, 32),
    user,
    message: `${method} ${path} ${status} ${bytes}B in ${duration}ms ${user} ${words}`,
  };
  return JSON.stringify(doc);
}

export function documentId(prefix: string, n: number): string {
  return `${prefix}${n.toString(36).padStart(6, '0')}`;
}

/** Same settings and mapping for every index the bench creates (ccr-follow copies the leader's). */
export function indexBody(shards = 3): Record<string, unknown> {
  return {
    settings: { 'index.number_of_shards': shards, 'index.number_of_replicas': 0 },
    mappings: {
      dynamic: 'strict',
      properties: {
        '@timestamp': { type: 'date' },
        host: { type: 'keyword' },
        service: { type: 'keyword' },
        level: { type: 'keyword' },
        http: { properties: { method: { type: 'keyword' }, path: { type: 'keyword' }, status: { type: 'short' }, bytes: { type: 'long' }, duration_ms: { type: 'float' } } },
        client: { properties: { ip: { type: 'ip' }, region: { type: 'keyword' } } },
        user_agent: { type: 'keyword', ignore_above: 256 },
        trace_id: { type: 'keyword' },
        user: { type: 'keyword' },
        message: { type: 'text' },
      },
    },
  };
}

/** An NDJSON `_bulk` body for documents [from, to). With `externalVersion`, each action carries `version = n + 1`, `version_type=external`. */
export function bulkBody(seed: number, idPrefix: string, from: number, to: number, externalVersion: boolean): Buffer {
  const lines: string[] = [];
  for (let n = from; n < to; n += 1) {
    const id = documentId(idPrefix, n);
    lines.push(externalVersion ? `{"index":{"_id":"${id}","version":${n + 1},"version_type":"external"}}` : `{"index":{"_id":"${id}"}}`, documentJson(seed, n));
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

const POOL_SIZE = 20_000;
const pools = new Map<number, string[]>();

/**
 * Document `n`'s `_source` for the live writers (tail, lag, write block): one of 20,000 generated
 * documents, so generating a stream costs the bench almost no CPU next to the nodes it measures.
 */
export function pooledDocumentJson(seed: number, n: number): string {
  let pool = pools.get(seed);
  if (!pool) {
    pool = Array.from({ length: POOL_SIZE }, (_, i) => documentJson(seed ^ 0x5bd1e995, i));
    pools.set(seed, pool);
  }
  return pool[n % POOL_SIZE]!;
}

/** A `_bulk` body of pooled documents [from, to), plain index actions with ids. */
export function pooledBulkBody(seed: number, idPrefix: string, from: number, to: number): string {
  const lines: string[] = [];
  for (let n = from; n < to; n += 1) lines.push(`{"index":{"_id":"${documentId(idPrefix, n)}"}}`, pooledDocumentJson(seed, n));
  return `${lines.join('\n')}\n`;
}
