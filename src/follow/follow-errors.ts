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
  | 'security_exception';

const STATUS: Readonly<Record<FollowErrorType, number>> = {
  illegal_argument_exception: 400,
  index_not_found_exception: 404,
  resource_already_exists_exception: 409,
  resource_not_found_exception: 404,
  illegal_state_exception: 409,
  unknown_cluster_exception: 400,
  cluster_unavailable_exception: 502,
  security_exception: 403,
};

export class FollowError extends Error {
  readonly type: FollowErrorType;
  readonly status: number;

  constructor(type: FollowErrorType, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FollowError';
    this.type = type;
    this.status = STATUS[type];
  }
}
