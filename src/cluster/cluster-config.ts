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
  /** PEM text of the CA that signed the cluster's HTTP certificate. */
  readonly ca?: string;
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
