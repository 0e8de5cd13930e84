/**
 * TLS checks done with `node:tls` directly, because both clients reduce a failed handshake to a
 * `ConnectionError` with only Node's message left (its `code` — `CERT_HAS_EXPIRED`,
 * `ERR_TLS_CERT_ALTNAME_INVALID`, … — is dropped), and reading that message would mean matching
 * OpenSSL's wording. So:
 *
 * - `diagnoseTls`: after a connection error, repeat the handshake to each node URL with the same
 *   TLS options and report Node's error code, which `errors.ts` (`tlsProblemOf`) maps to a TLS
 *   problem or to nothing (then the error stays a retried connection error). For an http:// URL it
 *   checks whether the server speaks only TLS.
 * - `pinnedCa`: turns `tls.fingerprint` into a trusted CA. Both clients then verify the chain,
 *   expiry and host name against it as against a `tls.ca`. We do not use @elastic/elasticsearch's
 *   own `caFingerprint`: it needs `rejectUnauthorized: false`, so it checks nothing but the
 *   fingerprint (no expiry, no host name, no signature), and opensearch-js has no equivalent.
 *
 * Nothing here logs; no secret (the client key, its passphrase) leaves the TLS options.
 */
import { isIP } from 'node:net';
import { connect, type ConnectionOptions, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import type { ClusterTls } from './cluster-config.js';

/** What a probe handshake saw: Node's error code and message, for the URL it was tried on. */
export interface TlsObservation {
  readonly url: string;
  readonly code: string;
  readonly message: string;
}

/** Longest a probe handshake may take; a slower one says nothing about TLS. */
const PROBE_TIMEOUT_MS = 10_000;

/** The options Node's TLS layer gets for `tls` (also what the clients get, see rest-transport). */
export function tlsOptions(tls: ClusterTls | undefined, pinned?: string): ConnectionOptions {
  if (!tls) return {};
  const ca = pinned ?? tls.ca;
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(ca !== undefined ? { ca } : {}),
    ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
    ...(tls.key !== undefined ? { key: tls.key } : {}),
    ...(tls.keyPassphrase !== undefined ? { passphrase: tls.keyPassphrase } : {}),
  };
}

/**
 * Repeats the handshake to every URL and returns the first one that failed with an error code
 * (in URL order), or undefined when every handshake worked or failed without one.
 */
export async function diagnoseTls(urls: readonly string[], tls: ClusterTls | undefined, pinned?: string): Promise<TlsObservation | undefined> {
  const results = await Promise.all(urls.map((url) => probe(url, tls, pinned)));
  return results.find((r) => r !== undefined);
}

async function probe(url: string, tls: ClusterTls | undefined, pinned: string | undefined): Promise<TlsObservation | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const shown = `${parsed.protocol}//${parsed.host}`;
  if (parsed.protocol === 'http:') {
    // The connection failed over plain HTTP: a server that completes a TLS handshake on that
    // port closes plain requests without an answer, which looks like a reset connection.
    const outcome = await handshake(parsed, { rejectUnauthorized: false }, false);
    return outcome.kind === 'ok' ? { url: shown, code: 'TLS_REQUIRED', message: 'the server completed a TLS handshake' } : undefined;
  }
  const outcome = await handshake(parsed, tlsOptions(tls, pinned), true);
  return outcome.kind === 'failed' && outcome.code !== undefined ? { url: shown, code: outcome.code, message: outcome.message } : undefined;
}

/**
 * Resolves `tls.caFingerprint` to the PEM of the certificate with that SHA-256 fingerprint among
 * those the cluster presents. Tries the URLs in order until one completes a handshake: `found`,
 * or `failed` with the observation (a mismatch, or the handshake's own error code) of the last
 * URL tried, or only a message when no handshake gave a code (nothing listening, a timeout).
 */
export async function pinnedCa(urls: readonly string[], tls: ClusterTls, fingerprint: string): Promise<
  { kind: 'found'; pem: string } | { kind: 'failed'; observation: TlsObservation | undefined; message: string }
> {
  let failed: { kind: 'failed'; observation: TlsObservation | undefined; message: string } = { kind: 'failed', observation: undefined, message: 'no https:// URL' };
  for (const url of urls) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:') continue;
    const shown = `${parsed.protocol}//${parsed.host}`;
    // Unverified on purpose: the chain is only read here. What it yields is then used as a CA,
    // and every later connection is verified against it. The client certificate goes along: a
    // cluster that requires one may refuse the handshake without it (TLS 1.2).
    const outcome = await handshake(parsed, { ...tlsOptions(tls), ca: undefined, rejectUnauthorized: false }, false, fingerprint);
    if (outcome.kind === 'failed') {
      const observation = outcome.code === undefined ? undefined : { url: shown, code: outcome.code, message: outcome.message };
      failed = { kind: 'failed', observation, message: `${parsed.host}: ${outcome.message}` };
      continue;
    }
    const chain = outcome.chain ?? { found: undefined, presented: [] };
    if (chain.found === undefined) {
      const observation = { url: shown, code: 'CA_FINGERPRINT_MISMATCH', message: `it presents ${chain.presented.join(', ')}` };
      return { kind: 'failed', observation, message: observation.message };
    }
    return { kind: 'found', pem: chain.found };
  }
  return failed;
}

/** `AB:CD:…` (Node's form) or any case, with or without colons → lowercase hex. */
export function normaliseFingerprint(fingerprint: string): string {
  return fingerprint.replace(/:/g, '').toLowerCase();
}

interface ChainSearch { found: string | undefined; presented: string[] }

function findInChain(socket: TLSSocket, fingerprint: string): ChainSearch {
  const wanted = normaliseFingerprint(fingerprint);
  const presented: string[] = [];
  const seen = new Set<string>();
  // A self-signed certificate is its own issuer: stop at the first repeat.
  for (let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true); cert?.raw !== undefined; cert = cert.issuerCertificate) {
    const fp = normaliseFingerprint(cert.fingerprint256);
    if (seen.has(fp)) break;
    seen.add(fp);
    presented.push(`${cert.subject?.CN ?? '?'} ${fp}`);
    if (fp === wanted) return { found: toPem(cert.raw), presented };
  }
  return { found: undefined, presented };
}

function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

type Handshake =
  | { readonly kind: 'ok'; readonly chain?: ChainSearch }
  | { readonly kind: 'failed'; readonly code: string | undefined; readonly message: string };

/**
 * One TLS connection to `url`. With `exchange`, it also sends a plain `GET /` and waits for the
 * first byte of the answer: a cluster that refuses our client certificate may say so only after
 * the handshake (TLS 1.3 sends the alert with its first record). With `fingerprint`, the presented
 * chain is searched for it once the handshake is done.
 */
function handshake(url: URL, options: ConnectionOptions, exchange: boolean, fingerprint?: string): Promise<Handshake> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return new Promise((resolve) => {
    let settled = false;
    // SNI takes host names only; Node's host name check uses `host` either way.
    const socket = connect({ ...options, host, port, ...(isIP(host) === 0 ? { servername: host } : {}) });
    const finish = (result: Handshake): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => finish({ kind: 'failed', code: undefined, message: 'timed out' }));
    socket.once('error', (err: NodeJS.ErrnoException) => finish({ kind: 'failed', code: err.code, message: firstLine(err.message) }));
    socket.once('secureConnect', () => {
      if (!exchange) return finish({ kind: 'ok', ...(fingerprint !== undefined ? { chain: findInChain(socket, fingerprint) } : {}) });
      socket.once('data', () => finish({ kind: 'ok' }));
      socket.once('end', () => finish({ kind: 'failed', code: undefined, message: 'closed without an answer' }));
      socket.write(`GET / HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
    });
  });
}

/**
 * OpenSSL's messages carry a prefix (`80DC…:error:0A00010B:SSL routines:ssl3_get_record:`) and the
 * source file and line of OpenSSL itself: keep the sentence (`wrong version number`, `tlsv13 alert
 * certificate required (SSL alert number 116)`).
 */
function firstLine(message: string): string {
  const line = (message.split('\n')[0] ?? '').replace(/^[0-9A-F]{8,}:error:[0-9A-F]+:SSL routines:[^:]*:/, '');
  return line.replace(/:[^\s:]*\.c:\d+:?(.*)$/, (_m, rest: string) => (rest ? ` (${rest})` : '')).trim();
}
