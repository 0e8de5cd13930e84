/**
 * The error answer both APIs document, Elasticsearch's and OpenSearch's alike:
 * `{"error": {"root_cause": [{"type", "reason"}], "type", "reason"}, "status"}`.
 */
import type { RunningDaemon } from '../../util/ownership.js';

export interface ErrorAnswer {
  readonly error: { readonly root_cause: readonly { readonly type: string; readonly reason: string }[]; readonly type: string; readonly reason: string };
  readonly status: number;
}

export function errorBody(type: string, reason: string, status: number): ErrorAnswer {
  return { error: { root_cause: [{ type, reason }], type, reason }, status };
}

/**
 * A refusal with the exact type and status an API documents for it (the OpenSearch plugin's
 * `resource_already_exists_exception` 400 where ccr-follow's own code says 409, say).
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** `runBy`: the request is about a resource another daemon runs (the control server forwards it there). */
  constructor(readonly type: string, message: string, readonly status: number, readonly runBy?: RunningDaemon) {
    super(message);
  }
}
