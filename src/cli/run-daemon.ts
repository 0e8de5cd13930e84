/**
 * `ccr-follow daemon`: start, then wait for a signal. The first SIGINT / SIGTERM stops gracefully
 * (in-flight writes land, checkpoints are saved); a second one, or the deadline, forces the exit.
 */
import { ConfigError } from '../daemon/config-error.js';
import { Daemon } from '../daemon/daemon.js';
import { createLogger, type LogFormat } from '../daemon/logger.js';
import type { LogLevel } from '../util/logger.js';
import { describeCluster } from '../cluster/cluster-config.js';
import { SecretRegistry } from '../util/secrets.js';
import { resolveConfig } from './cli-config.js';
import { ExitCodes } from './exit-codes.js';
import type { CliIo } from './main.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const FORCE_AFTER_MS = 60_000;

export async function runDaemon(configFile: string | undefined, io: CliIo, logOverrides: { format?: LogFormat; level?: LogLevel } = {}): Promise<number> {
  const secrets = new SecretRegistry();
  const config = await resolveConfig(configFile, io.env, io.cwd, secrets);
  const logger = createLogger({
    level: logOverrides.level ?? config.log.level, file: config.log.file, format: logOverrides.format ?? config.log.format, secrets,
  });
  if (config.clusters.size === 0) logger.warn('no clusters are configured: add them under `clusters:` in the config file');
  for (const cluster of config.clusters.values()) logger.info(`cluster ${describeCluster(cluster)}`);
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ config, logger });
  } catch (err) {
    logger.error(`daemon could not start: ${(err as Error).message}`);
    await logger.close();
    // A config the daemon refuses to run with (a control API exposed without a token) is a
    // configuration mistake like any other: exit 2, nothing was started.
    return err instanceof ConfigError ? ExitCodes.usage : ExitCodes.failed;
  }
  const exitCode = await new Promise<number>((resolve) => {
    let signalled = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signalled += 1;
      if (signalled > 1) {
        logger.warn(`${signal} again: exiting without waiting`);
        resolve(ExitCodes.forced);
        return;
      }
      logger.info(`${signal} received: stopping gracefully (send it again to force)`);
      const deadline = setTimeout(() => {
        logger.error(`graceful stop took longer than ${FORCE_AFTER_MS / 1000}s: exiting`);
        resolve(ExitCodes.forced);
      }, FORCE_AFTER_MS);
      daemon.stop().then(
        () => resolve(ExitCodes.ok),
        (err: unknown) => {
          logger.error(`daemon stopped with errors: ${(err as Error).message}`);
          resolve(ExitCodes.failed);
        },
      ).finally(() => clearTimeout(deadline));
    };
    for (const s of SIGNALS) process.on(s, onSignal);
  });
  await logger.close();
  return exitCode;
}
