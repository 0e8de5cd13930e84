/**
 * How to reach one cluster alias. Built by the daemon's config loader from YAML; the cluster layer
 * only consumes it. Secrets live here and nowhere else: never log or serialise this object whole
 * (use `describeCluster`).
 */
export type ClusterAuth =
  | { readonly type: 'none' }
  | { readonly type: 'basic'; readonly username: string; readonly password: string }
  | { readonly type: 'api_key'; readonly apiKey: string }
  | { readonly type: 'bearer'; readonly token: string };

export interface ClusterTls {
  /** PEM text of the CA(s) that signed the cluster's HTTP certificate. */
  readonly ca?: string;
  /**
   * SHA-256 fingerprint (64 lowercase hex digits, no colons) of a CA certificate the cluster
   * presents in its chain, as Elasticsearch prints at first start. That certificate is then
   * trusted as `ca` would be, so chain, expiry and host name are still verified
   * (`tls-check.ts`, `pinnedCa`). Exclusive with `ca`.
   */
  readonly caFingerprint?: string;
  /** PEM client certificate (chain) and its private key, for clusters that require mutual TLS. */
  readonly cert?: string;
  readonly key?: string;
  /** Passphrase of an encrypted `key`. */
  readonly keyPassphrase?: string;
  /** False only when the config says `tls.verify: false`: no chain, expiry or host name check. */
  readonly rejectUnauthorized: boolean;
}

export interface ClusterConfig {
  readonly alias: string;
  readonly urls: readonly string[];
  readonly auth: ClusterAuth;
  readonly tls?: ClusterTls;
  readonly requestTimeoutMs: number;
}

/** A one-line description that is safe to log: alias, URLs without credentials, auth kind. */
export function describeCluster(config: ClusterConfig): string {
  const urls = config.urls.map(stripUserInfo).join(',');
  return `${config.alias} (${urls}, auth=${config.auth.type})`;
}

/**
 * What an operator must hear about at every daemon start: today only certificate verification
 * switched off, which makes the connection (and the credentials sent over it) open to anyone who
 * can intercept it. Returned rather than logged: the cluster layer has no logger of its own.
 */
export function securityWarnings(config: ClusterConfig): string[] {
  if (config.tls?.rejectUnauthorized !== false) return [];
  return [
    `cluster [${config.alias}]: TLS certificate verification is OFF (clusters.${config.alias}.tls.verify: false): ` +
      'anyone who can intercept the connection can read and change the data and credentials sent to it; ' +
      `set clusters.${config.alias}.tls.ca (or tls.fingerprint) and remove tls.verify`,
  ];
}

export function stripUserInfo(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '<invalid url>';
  }
}
