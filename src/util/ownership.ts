/**
 * Which resources (follower indices, auto-follow and cluster-metadata patterns) this daemon runs
 * when several share one state through leases (src/lease/, wired by daemon/leased-work.ts).
 * Without an `Ownership`, everything in the state is this daemon's.
 */
import type { Logger } from './logger.js';

export interface Ownership {
  /** Takes the lease of a resource created here; false when another daemon holds it. */
  claim(name: string): Promise<boolean>;
  /** The resource was removed for good: its lease goes too. */
  forget(name: string): Promise<void>;
  /** Names the daemon that runs `name` when another one does (host, pid, control address). */
  runBy(name: string): string | undefined;
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
