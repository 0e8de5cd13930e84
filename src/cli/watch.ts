/**
 * `stats --watch`: the stats table again every interval. On a terminal each frame clears the
 * screen and redraws in place; otherwise frames are appended, each under a time stamp line, so a
 * log file or pipe gets readable history.
 */
export const CLEAR_SCREEN = '\x1b[H\x1b[2J';

export function watchFrame(table: string, at: Date, tty: boolean): string {
  const header = `${at.toISOString()}  (every refresh; Ctrl-C to stop)`;
  return tty ? `${CLEAR_SCREEN}${header}\n${table}\n` : `--- ${at.toISOString()}\n${table}`;
}

export async function runWatch(opts: {
  readonly render: () => Promise<string>;
  readonly out: (text: string) => void;
  readonly tty?: { write(text: string): void };
  readonly intervalMs: number;
  /** Stop after this many frames (default: until interrupted). */
  readonly count?: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now?: () => Date;
}): Promise<void> {
  const now = opts.now ?? (() => new Date());
  for (let frame = 1; ; frame += 1) {
    const table = await opts.render();
    if (opts.tty) opts.tty.write(watchFrame(table, now(), true));
    else opts.out(watchFrame(table, now(), false));
    if (opts.count !== undefined && frame >= opts.count) return;
    await opts.sleep(opts.intervalMs);
  }
}
