/**
 * The only way tests wait: poll a condition until it yields a value or the deadline passes. A
 * probe returns the value it waited for, or `undefined`/`false` for "not yet"; a probe that throws
 * also means "not yet", and its last error ends up in the timeout message.
 */
export interface WaitForOptions {
  readonly timeoutMs: number;
  /** Pause between probes; default 100 ms. */
  readonly intervalMs?: number;
  /** What was awaited, for the timeout error; a function is evaluated only on timeout. */
  readonly message: string | (() => string);
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitForOptions,
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  const intervalMs = opts.intervalMs ?? 100;
  let last: string = 'probe never completed';
  while (true) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = `last value: ${String(value)}`;
    } catch (err) {
      last = `last error: ${err instanceof Error ? err.message : String(err)}`;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const message = typeof opts.message === 'function' ? opts.message() : opts.message;
      throw new Error(`Timed out after ${opts.timeoutMs} ms waiting for ${message} (${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, remaining)));
  }
}
