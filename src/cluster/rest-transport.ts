/**
 * A tiny adapter over the two official clients: one `request()` for both, with client retries
 * off (`retry.ts` is the only retry layer) and every client error converted once
 * into the `ClusterError` family. Nothing outside `cluster/` sees either client.
 *
 * TLS: both clients get the same Node TLS options (`tlsOptions`). A `tls.fingerprint` is first
 * turned into a trusted CA (`pinnedCa`), so the client is built on the first request. A
 * connection error is checked once more with `diagnoseTls`, so that a certificate problem becomes
 * a fatal `ClusterTlsError` instead of a connection error retried forever.
 */
import { Client as EsClient } from '@elastic/elasticsearch';
import { Client as OsClient } from '@opensearch-project/opensearch';
import type { ConnectionOptions } from 'node:tls';
import { gunzipSync, inflateSync } from 'node:zlib';
import type { ClusterConfig } from './cluster-config.js';
import {
  ClusterAbortedError, ClusterConnectionError, ClusterError, ClusterProtocolError,
  ClusterResponseError, ClusterTimeoutError, ClusterTlsError, tlsProblemOf, type ClusterErrorDetails,
} from './errors.js';
import { diagnoseTls, pinnedCa, tlsOptions, type TlsObservation } from './tls-check.js';

export type Flavor = 'elasticsearch' | 'opensearch';

export interface RestRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean>>;
  readonly body?: unknown;
  /** A JSON body already serialised (one a client's JSON.stringify would change: see `stringifyLossless`). */
  readonly json?: string;
  /** Newline-delimited JSON, already serialised (bulk). */
  readonly ndjson?: string | Buffer;
  /** Statuses that are answers, not errors (e.g. 404 for an existence check). */
  readonly accept?: readonly number[];
  /** Answer the body as the bytes received (a Buffer), unparsed: see `raw-json.ts`. */
  readonly rawResponse?: boolean;
}

export interface RestResponse<T> {
  readonly status: number;
  readonly body: T;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface RestTransport {
  readonly alias: string;
  request<T>(operation: string, req: RestRequest, signal?: AbortSignal): Promise<RestResponse<T>>;
  close(): Promise<void>;
}

interface ClientResponse {
  body: unknown;
  statusCode: number | null;
  headers: Record<string, unknown> | null;
}

/** What both clients' `transport.request` have in common, once the abort styles are unified. */
type SendFn = (req: RestRequest, signal: AbortSignal | undefined) => Promise<ClientResponse>;

interface Sender { send: SendFn; close: () => Promise<void> }

export function createTransport(config: ClusterConfig, flavor: Flavor): RestTransport {
  const build = (pinned: string | undefined): Sender => (flavor === 'elasticsearch' ? elasticsearchSender : opensearchSender)(config, tlsOptions(config.tls, pinned));
  // Without a fingerprint the client is built at once, as before; with one, on the first request
  // (a failed resolution is not kept: the next request tries again).
  let sender: Promise<Sender> | undefined = config.tls?.caFingerprint === undefined ? Promise.resolve(build(undefined)) : undefined;
  let pinned: string | undefined;
  let diagnosing: Promise<TlsObservation | undefined> | undefined;
  let closed = false;

  const senderFor = (operation: string, req: RestRequest): Promise<Sender> => {
    if (sender) return sender;
    const attempt = resolvePin(config, operation, req).then((pem) => {
      pinned = pem;
      return build(pem);
    });
    sender = attempt;
    attempt.catch(() => {
      if (sender === attempt) sender = undefined;
    });
    return attempt;
  };

  /** One diagnosis at a time per transport: a burst of failed requests shares it. */
  const diagnose = (): Promise<TlsObservation | undefined> => {
    diagnosing ??= diagnoseTls(config.urls, config.tls, pinned).finally(() => (diagnosing = undefined));
    return diagnosing;
  };

  return {
    alias: config.alias,
    async request<T>(operation: string, req: RestRequest, signal?: AbortSignal): Promise<RestResponse<T>> {
      if (signal?.aborted) throw abortedError(config.alias, operation, req);
      const { send } = await senderFor(operation, req);
      let res: ClientResponse;
      try {
        res = await send(req, signal);
      } catch (err) {
        const converted = toClusterError(err, config.alias, operation, req);
        if (converted.kind !== 'connection') throw converted;
        throw tlsError(await diagnose(), config.alias, operation, req, converted) ?? converted;
      }
      return { status: res.statusCode ?? 0, body: res.body as T, headers: (res.headers ?? {}) as RestResponse<T>['headers'] };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const built = await sender?.catch(() => undefined);
      await built?.close();
    },
  };
}

/**
 * The PEM of the CA `tls.fingerprint` names, or why there is none: a ClusterTlsError when the
 * handshake showed a TLS problem (no such fingerprint, a refused client certificate, …), else a
 * connection error, retried like any unreachable cluster.
 */
async function resolvePin(config: ClusterConfig, operation: string, req: RestRequest): Promise<string> {
  const tls = config.tls!;
  const result = await pinnedCa(config.urls, tls, tls.caFingerprint!);
  if (result.kind === 'found') return result.pem;
  const problem = tlsError(result.observation, config.alias, operation, req, undefined);
  if (problem) throw problem;
  throw new ClusterConnectionError({
    alias: config.alias, operation, request: `${req.method} ${req.path}`, reason: `no TLS handshake to read the certificate chain from (${result.message})`,
  });
}

/** A ClusterTlsError when `observation` is a TLS problem (`tlsProblemOf` decides), else undefined. */
function tlsError(observation: TlsObservation | undefined, alias: string, operation: string, req: RestRequest, cause: ClusterError | undefined): ClusterTlsError | undefined {
  const problem = tlsProblemOf(observation?.code);
  if (observation === undefined || problem === undefined) return undefined;
  return new ClusterTlsError({
    alias, operation, request: `${req.method} ${req.path}`, reason: observation.message, cause,
    problem, code: observation.code, url: observation.url,
  });
}

function elasticsearchSender(config: ClusterConfig, tls: ConnectionOptions): Sender {
  const auth = config.auth;
  const client = new EsClient({
    nodes: [...config.urls],
    maxRetries: 0,
    requestTimeout: config.requestTimeoutMs,
    ...(auth.type === 'basic' ? { auth: { username: auth.username, password: auth.password } } : {}),
    ...(auth.type === 'api_key' ? { auth: { apiKey: auth.apiKey } } : {}),
    ...(auth.type === 'bearer' ? { auth: { bearer: auth.token } } : {}),
    ...(config.tls ? { tls } : {}),
  });
  const send: SendFn = async (req, signal) => {
    const res = await client.transport.request(
      { method: req.method, path: req.path, querystring: req.query, ...bodyOf(req) },
      {
        meta: true, signal, ignore: req.accept ? [...req.accept] : undefined, ...(req.rawResponse ? { asStream: true } : {}),
        // The client would call a text body text/plain, which Elasticsearch refuses.
        ...(req.json === undefined ? {} : { headers: { 'content-type': 'application/json' } }),
      },
    );
    const response = { body: res.body, statusCode: res.statusCode, headers: res.headers as Record<string, unknown> };
    return req.rawResponse ? readRaw(response, req) : response;
  };
  return { send, close: () => client.close() };
}

function opensearchSender(config: ClusterConfig, tls: ConnectionOptions): Sender {
  const auth = config.auth;
  // opensearch-js only knows basic auth natively; API keys and bearer tokens are plain headers.
  const headers: Record<string, string> = {};
  if (auth.type === 'api_key') headers.authorization = `ApiKey ${auth.apiKey}`;
  if (auth.type === 'bearer') headers.authorization = `Bearer ${auth.token}`;
  const client = new OsClient({
    nodes: [...config.urls],
    maxRetries: 0,
    requestTimeout: config.requestTimeoutMs,
    headers,
    ...(auth.type === 'basic' ? { auth: { username: auth.username, password: auth.password } } : {}),
    ...(config.tls ? { ssl: tls } : {}),
  });
  const send: SendFn = (req, signal) => {
    const pending = client.transport.request(
      { method: req.method, path: req.path, querystring: req.query as Record<string, unknown> | undefined, ...bodyOf(req) },
      { ignore: req.accept ? [...req.accept] : undefined, ...(req.rawResponse ? { asStream: true } : {}) },
    ).then((res) => (req.rawResponse ? readRaw(res as ClientResponse, req) : res));
    // opensearch-js predates AbortSignal, and aborting through its own abort() surfaced as an
    // uncaught RequestAbortedError during shutdown. So an abort just stops waiting: the request
    // itself finishes (or times out) in the background, its outcome deliberately ignored.
    const settled = new Promise<ClientResponse>((resolve, reject) => {
      pending.then((res) => resolve(res as ClientResponse), reject);
    });
    if (!signal) return settled;
    return new Promise<ClientResponse>((resolve, reject) => {
      const onAbort = (): void => reject(Object.assign(new Error('request aborted'), { name: 'AbortError' }));
      signal.addEventListener('abort', onAbort, { once: true });
      settled.then(
        (res) => { signal.removeEventListener('abort', onAbort); resolve(res); },
        (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err); },
      );
    });
  };
  return { send, close: () => client.close() };
}

/**
 * Collects a streamed answer (`asStream`) into one Buffer. Both clients skip their status check
 * for streams, so an error status is turned here into the ResponseError they would have thrown.
 */
async function readRaw(res: ClientResponse, req: RestRequest): Promise<ClientResponse> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  } catch (err) {
    // The connection broke (or the request was aborted) half-way through the answer.
    if (err instanceof Error && (err.name === 'AbortError' || err.name === 'RequestAbortedError')) throw err;
    throw Object.assign(new Error(`answer cut short: ${err instanceof Error ? err.message : String(err)}`), { name: 'ConnectionError' });
  }
  // Neither client asks for compression; a proxy that compresses anyway is undone here, as the clients would.
  const encoding = String(res.headers?.['content-encoding'] ?? '').toLowerCase();
  const received = Buffer.concat(chunks);
  const body = encoding.includes('gzip') ? gunzipSync(received) : encoding.includes('deflate') ? inflateSync(received) : received;
  const status = res.statusCode ?? 0;
  if (status >= 400 && !(req.accept ?? []).includes(status)) {
    let parsed: unknown = body.toString('utf8');
    try {
      parsed = JSON.parse(parsed as string);
    } catch {
      // Not JSON (a proxy's error page): the text itself is the reason.
    }
    throw Object.assign(new Error(`Response Error (${status})`), { name: 'ResponseError', meta: { statusCode: status, body: parsed } });
  }
  return { ...res, body };
}

function bodyOf(req: RestRequest): { body?: never; bulkBody?: string | Buffer } | { body: never } {
  if (req.ndjson !== undefined) return { bulkBody: req.ndjson };
  if (req.json !== undefined) return { body: req.json as never };
  if (req.body !== undefined) return { body: req.body as never };
  return {};
}

/** Converts either client's error into a ClusterError. Reads the error's class name, never its text. */
export function toClusterError(err: unknown, alias: string, operation: string, req: RestRequest): ClusterError {
  if (err instanceof ClusterError) return err;
  const request = `${req.method} ${req.path}`;
  const name = err instanceof Error ? err.name : 'Error';
  const message = redactUrls(err instanceof Error ? err.message : String(err));
  const base: ClusterErrorDetails = { alias, operation, request, reason: message, cause: undefined };
  switch (name) {
    case 'ResponseError': {
      const meta = (err as { meta?: { statusCode?: number; body?: unknown } }).meta;
      const { esType, reason } = describeErrorBody(meta?.body);
      return new ClusterResponseError({ ...base, statusCode: meta?.statusCode, esType, reason: reason ?? message });
    }
    case 'ConnectionError':
    case 'NoLivingConnectionsError':
      return new ClusterConnectionError(base);
    case 'TimeoutError':
      return new ClusterTimeoutError(base);
    case 'RequestAbortedError':
    case 'AbortError':
      return abortedError(alias, operation, req);
    default:
      return new ClusterProtocolError(base);
  }
}

function abortedError(alias: string, operation: string, req: RestRequest): ClusterAbortedError {
  return new ClusterAbortedError({ alias, operation, request: `${req.method} ${req.path}`, reason: 'request aborted' });
}

interface EsErrorBody {
  error?: string | { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } };
}

/** Pulls `error.type` and a readable reason (with its first cause) out of an ES/OpenSearch error body. */
export function describeErrorBody(body: unknown): { esType?: string; reason?: string } {
  if (typeof body === 'string') return { reason: redactUrls(body.slice(0, 500)) };
  const error = (body as EsErrorBody | undefined)?.error;
  if (typeof error === 'string') return { reason: error };
  if (error === undefined || error === null) return {};
  const cause = error.caused_by?.reason ? ` (caused by ${error.caused_by.type}: ${error.caused_by.reason})` : '';
  return { esType: error.type, reason: `${error.reason ?? 'no reason given'}${cause}` };
}

function redactUrls(text: string): string {
  return text.replace(/\/\/[^/@\s]+@/g, '//');
}
