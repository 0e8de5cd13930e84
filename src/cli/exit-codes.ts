/** What a ccr-follow exit status means; scripts can rely on these. */
export const ExitCodes = {
  ok: 0,
  /** The daemon or a cluster refused or failed the operation. */
  failed: 1,
  /** Bad usage or configuration: nothing was attempted. */
  usage: 2,
  /** The daemon could not be reached. */
  daemonUnreachable: 3,
  /** Stopped by a second signal before a graceful stop finished. */
  forced: 130,
} as const;
