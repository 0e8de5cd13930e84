/**
 * Logs, once each, that a follower caught up with its leader after a start (bootstrap or resume),
 * and that it caught up again after falling at least CATCH_UP_LOG_MIN_LAG_MS behind. It reads the
 * shard tasks' progress every CATCH_UP_CHECK_MS and judges only once every shard's leader checkpoint
 * has been seen (before that, "no lag" means nothing).
 */
import type { ShardProgress } from '../shard/shard-stats.js';
import type { Logger } from '../util/logger.js';
import { everyClockTick } from '../util/clock-tick.js';
import { formatDuration } from '../util/units.js';

/** How often the follower checks whether it has caught up. */
const CATCH_UP_CHECK_MS = 1000;
/** A catch-up after less lag than this is not logged: a written leader is always briefly behind. */
const CATCH_UP_LOG_MIN_LAG_MS = 10_000;

export interface CatchUpSources {
  /** The shard tasks' progress now. */
  readonly progress: () => ShardProgress[];
  /** Whether the leader's global checkpoint of `shard` has been read since the tasks started. */
  readonly leaderSeen: (shard: number) => boolean;
}

export class CatchUpLogger {
  readonly #stop: () => void;

  constructor(sources: CatchUpSources, logger: Logger, now: () => number = Date.now) {
    const startedAt = now();
    let behindSince: number | undefined = startedAt;
    let afterStart = true;
    let maxLagMillis = 0;
    // On the clock's seconds: every follower's check in the same wake-up of the process.
    this.#stop = everyClockTick(() => {
      const stats = sources.progress();
      if (!stats.every((s) => sources.leaderSeen(s.shard_id))) return;
      const at = now();
      if (stats.some((s) => s.lag_operations > 0)) {
        behindSince ??= at;
        maxLagMillis = Math.max(maxLagMillis, ...stats.map((s) => s.lag_millis));
        return;
      }
      if (behindSince === undefined) return;
      const written = stats.reduce((sum, s) => sum + s.operations_written, 0);
      if (afterStart) logger.info(`caught up with the leader ${formatDuration(at - startedAt)} after starting`, { operations_written: written });
      else if (maxLagMillis >= CATCH_UP_LOG_MIN_LAG_MS) logger.info(`caught up after being ${formatDuration(maxLagMillis)} behind`);
      behindSince = undefined;
      afterStart = false;
      maxLagMillis = 0;
    }, CATCH_UP_CHECK_MS, { now });
  }

  stop(): void {
    this.#stop();
  }
}
