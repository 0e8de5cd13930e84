import { classify } from '../cluster/classify.js';
import { ClusterError } from '../cluster/errors.js';
import type { RunningDaemon } from '../util/ownership.js';

/**
 * Errors a follow request can be refused with, named as Elasticsearch names them so CCR users
 * recognise them. `status` is the HTTP status the control API answers with.
 */
export type FollowErrorType =
  | 'illegal_argument_exception'
  | 'index_not_found_exception'
  | 'resource_already_exists_exception'
  | 'resource_not_found_exception'
  | 'illegal_state_exception'
  | 'unknown_cluster_exception'
  | 'cluster_unavailable_exception'
  /** A cluster refused ccr-follow's credentials or privileges. */
  | 'security_exception'
  /** The follow's record could not be saved: nothing was changed; try again once the state takes writes. */
  | 'state_write_exception';

const STATUS: Readonly<Record<FollowErrorType, number>> = {
  illegal_argument_exception: 400,
  index_not_found_exception: 404,
  resource_already_exists_exception: 409,
  resource_not_found_exception: 404,
  illegal_state_exception: 409,
  unknown_cluster_exception: 400,
  cluster_unavailable_exception: 502,
  security_exception: 403,
  state_write_exception: 503,
};

export class FollowError extends Error {
  readonly type: FollowErrorType;
  readonly status: number;
  /** Set when the request is about a resource another daemon runs: the control server forwards it there. */
  readonly runBy: RunningDaemon | undefined;
  /**
   * Set on a "not found" for a resource that may be run by a daemon this one has not seen take it
   * yet: the control server asks who runs it now (`lookUp`) before answering.
   */
  readonly lookUp: (() => Promise<RunningDaemon | 'unowned' | 'unknown'>) | undefined;

  constructor(type: FollowErrorType, message: string, options?: {
    cause?: unknown; runBy?: RunningDaemon; lookUp?: () => Promise<RunningDaemon | 'unowned' | 'unknown'>;
  }) {
    super(message, options);
    this.name = 'FollowError';
    this.type = type;
    this.status = STATUS[type];
    this.runBy = options?.runBy;
    this.lookUp = options?.lookUp;
  }
}

/**
 * The FollowError a control request is refused with when a cluster call failed. What the error
 * means is `classify`'s decision; this only names it as CCR would: an index that is not there,
 * refused credentials or privileges, a cluster that cannot answer now (try the request again
 * later), or anything else fatal. `context` starts the message (`cluster [leader]`); `subject`
 * names what was not found (`leader index [logs]`). Anything not from a cluster is returned as it is.
 */
export function toFollowError(err: unknown, context: string, subject?: string): unknown {
  if (!(err instanceof ClusterError)) return err;
  const verdict = classify(err);
  if (verdict.action === 'aborted') return new FollowError('illegal_argument_exception', `${context}: request aborted`, { cause: err });
  if (verdict.action === 'retry') return new FollowError('cluster_unavailable_exception', `${context}: ${verdict.reason}`, { cause: err });
  switch (verdict.kind) {
    case 'index_not_found':
      return new FollowError('index_not_found_exception', `${subject ?? 'index'} not found on [${err.alias}]`, { cause: err });
    case 'security':
      return new FollowError('security_exception', `${context}: ${verdict.reason}`, { cause: err });
    default:
      return new FollowError('illegal_argument_exception', `${context}: ${verdict.reason}`, { cause: err });
  }
}
