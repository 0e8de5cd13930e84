/**
 * CCR's follow parameters, with CCR's names and defaults, so CCR users feel at home
 * (ES `PUT /<index>/_ccr/follow`). Sizes are bytes and durations milliseconds once parsed.
 */
import { parseByteSize, parseDuration } from '../util/units.js';

export interface FollowParams {
  readonly max_read_request_operation_count: number;
  readonly max_outstanding_read_requests: number;
  readonly max_read_request_size: number;
  readonly max_write_request_operation_count: number;
  readonly max_write_request_size: number;
  readonly max_outstanding_write_requests: number;
  readonly max_write_buffer_count: number;
  readonly max_write_buffer_size: number;
  readonly max_retry_delay: number;
  readonly read_poll_timeout: number;
  readonly reconcile_interval: number;
  readonly repair_foreign_writes: number;
}

export type FollowParamName = keyof FollowParams;

type Kind = 'count' | 'bytes' | 'duration' | 'boolean';

/** name → [kind, default, help]. The one table the API, the CLI and the docs read. */
export const FOLLOW_PARAMS: Readonly<Record<FollowParamName, readonly [Kind, number, string]>> = {
  max_read_request_operation_count: ['count', 5120, 'most operations one read request fetches'],
  max_outstanding_read_requests: ['count', 12, 'most read requests in flight per shard'],
  max_read_request_size: ['bytes', 32 * 1024 ** 2, 'most bytes of operations one read request keeps'],
  max_write_request_operation_count: ['count', 5120, 'most operations in one bulk request'],
  // CCR's default is unbounded; we stop under the follower's default http.max_content_length (100mb).
  max_write_request_size: ['bytes', 64 * 1024 ** 2, 'most bytes in one bulk request'],
  max_outstanding_write_requests: ['count', 9, 'most bulk requests in flight per shard'],
  max_write_buffer_count: ['count', 2147483647, 'reads stop while this many operations wait to be written'],
  max_write_buffer_size: ['bytes', 512 * 1024 ** 2, 'reads stop while this many bytes wait to be written'],
  max_retry_delay: ['duration', 500, 'cap of the backoff between retries of a failed request'],
  read_poll_timeout: ['duration', 60_000, 'how long a caught-up shard waits for new operations before asking again'],
  // Not a CCR parameter: CCR replicates deletes from the operation history, we reconcile them.
  reconcile_interval: ['duration', 5_000, 'least time between two delete reconciliations of a shard'],
  // Not a CCR parameter (CCR forbids writes to followers): 1 puts back what others wrote to the
  // follower index, 0 only reports it (stats `foreign_writes_detected`, a warning in the log).
  repair_foreign_writes: ['boolean', 1, 'repair documents written to the follower by anyone else (true), or only report them (false)'],
};

export const DEFAULT_FOLLOW_PARAMS: FollowParams = Object.fromEntries(
  Object.entries(FOLLOW_PARAMS).map(([name, [, def]]) => [name, def]),
) as unknown as FollowParams;

export class FollowParamsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FollowParamsError';
  }
}

/**
 * Parses user-supplied parameters (numbers, or strings such as `32mb` / `500ms`) over `base`.
 * Unknown names and non-positive values are refused with a message naming the parameter.
 */
export function parseFollowParams(input: Readonly<Record<string, unknown>>, base: FollowParams = DEFAULT_FOLLOW_PARAMS): FollowParams {
  const result: Record<string, number> = { ...base };
  for (const [name, raw] of Object.entries(input)) {
    if (raw === undefined) continue;
    const spec = Object.hasOwn(FOLLOW_PARAMS, name) ? FOLLOW_PARAMS[name as FollowParamName] : undefined;
    if (!spec) throw new FollowParamsError(`unknown follow parameter [${name}]; known: ${Object.keys(FOLLOW_PARAMS).join(', ')}`);
    const [kind] = spec;
    let value: number;
    try {
      if (kind === 'boolean' && typeof raw === 'boolean') value = raw ? 1 : 0;
      else if (typeof raw !== 'number' && typeof raw !== 'string') throw new RangeError('expected a number or a string');
      else if (kind === 'boolean') value = parseBoolean(raw);
      else value = kind === 'bytes' ? parseByteSize(raw) : kind === 'duration' ? parseDuration(raw) : parseCount(raw);
    } catch (err) {
      throw new FollowParamsError(`follow parameter [${name}]: ${(err as Error).message}`);
    }
    if (kind === 'boolean') {
      result[name] = value;
      continue;
    }
    if (!(value > 0)) throw new FollowParamsError(`follow parameter [${name}] must be greater than 0, got ${JSON.stringify(raw)}`);
    result[name] = value;
  }
  return result as unknown as FollowParams;
}

/** true / false (or 1 / 0), stored as 1 / 0 so all parameters stay numbers. */
function parseBoolean(raw: string | number): number {
  const text = String(raw).trim().toLowerCase();
  if (text === 'true' || text === '1') return 1;
  if (text === 'false' || text === '0') return 0;
  throw new RangeError(`expected true or false, got ${JSON.stringify(raw)}`);
}

function parseCount(raw: string | number): number {
  const value = typeof raw === 'number' ? raw : Number(raw.trim());
  if (!Number.isInteger(value)) throw new RangeError(`expected a whole number, got ${JSON.stringify(raw)}`);
  return value;
}
