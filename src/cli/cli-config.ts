/** Finds and loads the config for a CLI invocation: --config, then $CCR_FOLLOW_CONFIG, then ./ccr-follow.yml. */
import { existsSync } from 'node:fs';
import nodePath from 'node:path';
import { defaultConfig, loadConfig, type DaemonConfig } from '../daemon/config.js';
import type { SecretRegistry } from '../util/secrets.js';

export const DEFAULT_CONFIG_FILE = 'ccr-follow.yml';
/** The control API token for CLI commands, over the config file's `daemon.control.token`. */
export const CONTROL_TOKEN_ENV = 'CCR_FOLLOW_CONTROL_TOKEN';

/**
 * `lenientEnv`: for commands that only talk to the daemon, unset `${VAR}`s of the clusters'
 * secrets are not an error (the daemon, not the CLI, holds them).
 */
export async function resolveConfig(explicit: string | undefined, env: NodeJS.ProcessEnv, cwd: string, secrets?: SecretRegistry, options: { lenientEnv?: boolean } = {}): Promise<DaemonConfig> {
  const file = explicit ?? env.CCR_FOLLOW_CONFIG ?? (existsSync(nodePath.join(cwd, DEFAULT_CONFIG_FILE)) ? DEFAULT_CONFIG_FILE : undefined);
  if (file === undefined) return defaultConfig(cwd);
  return loadConfig(nodePath.resolve(cwd, file), env, secrets, options);
}

/** The control API's URL as the CLI should call it (a wildcard bind address is reached on loopback). */
export function controlUrl(config: DaemonConfig): string {
  const host = config.control.host === '0.0.0.0' || config.control.host === '::' ? '127.0.0.1' : config.control.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.control.port}`;
}

/**
 * The token a command sends to the control API: `$CCR_FOLLOW_CONTROL_TOKEN` when set and not
 * empty, else the config's `daemon.control.token` (`config` is absent with `--url`: the config
 * describes its own daemon, and its token is not sent to another address).
 */
export function controlToken(env: NodeJS.ProcessEnv, config?: DaemonConfig): string | undefined {
  const fromEnv = env[CONTROL_TOKEN_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return config?.control.token;
}
