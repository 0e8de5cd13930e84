/**
 * The one error family the rest of ccr-follow sees from a cluster. Client errors from
 * `@elastic/elasticsearch` and `@opensearch-project/opensearch` are converted once, at this
 * boundary (`rest-transport.ts`), into these classes: `instanceof` does not cross the two client
 * packages, and their errors may carry unredacted request metadata.
 *
 * Nothing here keeps request headers or bodies: `request` is a line like `POST /orders/_bulk`.
 */
export type ClusterErrorKind = 'response' | 'connection' | 'timeout' | 'aborted' | 'protocol';

export interface ClusterErrorDetails {
  readonly alias: string;
  readonly operation: string;
  readonly request?: string;
  readonly statusCode?: number;
  /** Elasticsearch's `error.type`, e.g. `index_not_found_exception`. */
  readonly esType?: string;
  readonly reason: string;
  readonly cause?: unknown;
}

export class ClusterError extends Error {
  readonly kind: ClusterErrorKind = 'protocol';
  readonly alias: string;
  readonly operation: string;
  readonly request: string | undefined;
  readonly statusCode: number | undefined;
  readonly esType: string | undefined;
  readonly reason: string;

  constructor(details: ClusterErrorDetails) {
    super(formatMessage(details), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ClusterError';
    this.alias = details.alias;
    this.operation = details.operation;
    this.request = details.request;
    this.statusCode = details.statusCode;
    this.esType = details.esType;
    this.reason = details.reason;
  }

  /** A compact, log-safe summary: `{type, reason}` as CCR reports `fatal_exception`. */
  toJSON(): { type: string; reason: string; status?: number; cluster: string } {
    return {
      type: this.esType ?? this.name,
      reason: this.message,
      ...(this.statusCode === undefined ? {} : { status: this.statusCode }),
      cluster: this.alias,
    };
  }
}

/** The cluster answered with an error status (or a bulk item failed). */
export class ClusterResponseError extends ClusterError {
  override readonly kind = 'response';
  constructor(details: ClusterErrorDetails) {
    super(details);
    this.name = 'ClusterResponseError';
  }
}

/** No answer: connection refused or reset, DNS, TLS handshake, no living node. */
export class ClusterConnectionError extends ClusterError {
  override readonly kind = 'connection';
  constructor(details: ClusterErrorDetails) {
    super(details);
    this.name = 'ClusterConnectionError';
  }
}

export class ClusterTimeoutError extends ClusterError {
  override readonly kind = 'timeout';
  constructor(details: ClusterErrorDetails) {
    super(details);
    this.name = 'ClusterTimeoutError';
  }
}

/** The caller aborted the request (pause, shutdown). A stop, never a failure to retry. */
export class ClusterAbortedError extends ClusterError {
  override readonly kind = 'aborted';
  constructor(details: ClusterErrorDetails) {
    super(details);
    this.name = 'ClusterAbortedError';
  }
}

/** The cluster answered, but not in a shape we can trust (e.g. a shard search that partly failed). */
export class ClusterProtocolError extends ClusterError {
  override readonly kind = 'protocol';
  constructor(details: ClusterErrorDetails) {
    super(details);
    this.name = 'ClusterProtocolError';
  }
}

function formatMessage(d: ClusterErrorDetails): string {
  const status = d.statusCode === undefined ? '' : ` ${d.statusCode}`;
  const type = d.esType === undefined ? '' : ` ${d.esType}:`;
  const request = d.request === undefined ? '' : ` (${d.request})`;
  return `[${d.alias}] ${d.operation} failed${status}${type} ${d.reason}${request}`;
}
