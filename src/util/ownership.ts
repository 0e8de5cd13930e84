/**
 * Which resources (follower indices, auto-follow and cluster-metadata patterns) this daemon runs
 * when several share one state through leases (src/lease/, wired by daemon/leased-work.ts).
 * Without an `Ownership`, everything in the state is this daemon's.
 */
import type { Logger } from './logger.js';

/** The daemon that runs a resource another daemon was asked about. */
export interface RunningDaemon {
  readonly id: string;
  /** Its control API address, to which a request about the resource is forwarded. */
  readonly control?: string;
  /** For messages: host, pid and control address. */
  readonly description: string;
}

export interface Ownership {
  /** Takes the lease of a resource created here; false when another daemon holds it. */
  claim(name: string): Promise<boolean>;
  /** The resource was removed for good: its lease goes too. */
  forget(name: string): Promise<void>;
  /** The daemon that runs `name` when another one does, as of the last look at the fleet. */
  runBy(name: string): RunningDaemon | undefined;
  /**
   * The same, read now (a lease that moved since the last look): the daemon, `unowned` while
   * nobody runs it (handed over, starting, or its daemon died), `unknown` when it has no lease.
   */
  runByNow?(name: string): Promise<RunningDaemon | 'unowned' | 'unknown'>;
}

/**
 * Claims a resource just created here: true when it runs here. A lease that cannot be taken now is
 * no error (the record is saved either way, and a daemon takes its lease at its next scan): logged
 * as such, naming `what` (e.g. `auto-follow pattern [daily]`).
 */
export async function claimCreated(ownership: Ownership | undefined, name: string, what: string, logger: Logger): Promise<boolean> {
  if (!ownership) return true;
  try {
    return await ownership.claim(name);
  } catch (err) {
    logger.warn(`${what} is recorded; its lease could not be taken now, so a daemon takes it at its next scan: ${(err as Error).message}`);
    return false;
  }
}
