/**
 * One ClusterClient per configured alias, connected (flavor detected) on first use and shared.
 * A failed connection is not cached: the next call tries again.
 */
import { securityWarnings, type ClusterConfig } from './cluster-config.js';
import { ClusterClient } from './cluster-client.js';
import { UnknownClusterError } from './errors.js';

export { UnknownClusterError };

export type ConnectFn = (config: ClusterConfig, signal?: AbortSignal) => Promise<ClusterClient>;

export class ClusterRegistry {
  readonly #configs: ReadonlyMap<string, ClusterConfig>;
  readonly #connect: ConnectFn;
  readonly #clients = new Map<string, Promise<ClusterClient>>();

  constructor(configs: ReadonlyMap<string, ClusterConfig>, connect: ConnectFn = (c, s) => ClusterClient.connect(c, s)) {
    this.#configs = configs;
    this.#connect = connect;
  }

  get aliases(): string[] {
    return [...this.#configs.keys()];
  }

  /**
   * What the daemon must warn about at every start (today: `tls.verify: false`), one line per
   * problem, each naming its alias. The registry has no logger; the daemon logs these.
   */
  securityWarnings(): string[] {
    return [...this.#configs.values()].flatMap(securityWarnings);
  }

  has(alias: string): boolean {
    return this.#configs.has(alias);
  }

  /** Throws UnknownClusterError for an alias the config does not define. */
  config(alias: string): ClusterConfig {
    const config = this.#configs.get(alias);
    if (!config) throw new UnknownClusterError(alias, this.aliases);
    return config;
  }

  async client(alias: string, signal?: AbortSignal): Promise<ClusterClient> {
    const config = this.config(alias);
    let pending = this.#clients.get(alias);
    if (!pending) {
      pending = this.#connect(config, signal);
      this.#clients.set(alias, pending);
      pending.catch(() => this.#clients.delete(alias));
    }
    return pending;
  }

  async close(): Promise<void> {
    const clients = await Promise.allSettled([...this.#clients.values()]);
    this.#clients.clear();
    await Promise.allSettled(clients.map((c) => (c.status === 'fulfilled' ? c.value.close() : undefined)));
  }
}
