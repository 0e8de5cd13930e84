/**
 * The one error family the rest of ccr-follow sees from a cluster. Client errors from
 * `@elastic/elasticsearch` and `@opensearch-project/opensearch` are converted once, at this
 * boundary (`rest-transport.ts`), into these classes: `instanceof` does not cross the two client
 * packages, and their errors may carry unredacted request metadata.
 *
 * Nothing here keeps request headers or bodies: `request` is a line like `POST /orders/_bulk`.
 */
export type ClusterErrorKind =
  | 'response' | 'connection' | 'tls' | 'timeout' | 'aborted' | 'protocol'
  | 'shard_unavailable' | 'index_not_found' | 'index_replaced';

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

  constructor(details: ClusterErrorDetails, advice?: string) {
    super(formatMessage(details, advice), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ClusterError';
    this.alias = details.alias;
    this.operation = details.operation;
    this.request = details.request;
    this.statusCode = details.statusCode;
    this.esType = details.esType;
    this.reason = details.reason;
  }

  /**
   * The `type` stats and `fatal_exception` report: the cluster's `error.type` when it sent one;
   * for what ccr-follow found out itself, the name Elasticsearch gives the same condition (so CCR
   * users recognise it) or the class name.
   */
  get type(): string {
    return this.esType ?? this.name;
  }

  /** A compact, log-safe summary: `{type, reason}` as CCR reports `fatal_exception`. */
  toJSON(): { type: string; reason: string; status?: number; cluster: string } {
    return {
      ...errorSummary(this),
      ...(this.statusCode === undefined ? {} : { status: this.statusCode }),
      cluster: this.alias,
    };
  }
}

/** The cluster answered with an error status (or a bulk item failed). */
export class ClusterResponseError extends ClusterError {
  override readonly kind = 'response';
  constructor(details: ClusterErrorDetails) {
    super(details, responseAdvice(details));
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

/**
 * The TLS handshake failed for a reason only a person can fix: the cluster's certificate is not
 * trusted, expired or for another host, the pinned fingerprint does not match, the cluster refused
 * our client certificate, or one side does not speak TLS. Found by `tls-check.ts` from Node's
 * error `code` (the clients keep only the message); the message says what to change, and where.
 */
export class ClusterTlsError extends ClusterError {
  override readonly kind = 'tls';
  readonly problem: TlsProblem;
  /** Node's / OpenSSL's code, e.g. `CERT_HAS_EXPIRED`, or ours (`CA_FINGERPRINT_MISMATCH`, `TLS_REQUIRED`). */
  readonly code: string;
  /** The node URL the handshake was tried with. */
  readonly url: string;

  constructor(details: ClusterErrorDetails & { readonly problem: TlsProblem; readonly code: string; readonly url: string }) {
    super({ ...details, reason: `TLS: ${TLS_PROBLEMS[details.problem].what} at ${details.url} (${details.code}${details.reason ? `: ${details.reason}` : ''})` },
      TLS_PROBLEMS[details.problem].fix(details.alias));
    this.name = 'ClusterTlsError';
    this.problem = details.problem;
    this.code = details.code;
    this.url = details.url;
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

/** What ccr-follow finds out itself carries no status or `error.type`: its class says what it is. */
type FoundDetails = Omit<ClusterErrorDetails, 'statusCode' | 'esType'>;

/**
 * The cluster answered, but without the shard asked about: its primary has not started yet (a new,
 * reopening or recovering index), or the shard failed or timed out within this search or count.
 * Reported as Elasticsearch reports the same condition.
 */
export class ClusterShardUnavailableError extends ClusterError {
  override readonly kind = 'shard_unavailable';
  constructor(details: FoundDetails) {
    super(details);
    this.name = 'ClusterShardUnavailableError';
  }

  override get type(): string {
    return 'no_shard_available_action_exception';
  }
}

/** The cluster answered, but the index asked about is not in the answer. */
export class ClusterIndexNotFoundError extends ClusterError {
  override readonly kind = 'index_not_found';
  constructor(details: FoundDetails) {
    super(details);
    this.name = 'ClusterIndexNotFoundError';
  }

  override get type(): string {
    return 'index_not_found_exception';
  }
}

/**
 * An index of a follow was deleted and created again under its name (`IndexIdentity`): its uuid is
 * not the one the follow started with, so its `_seq_no` history is another one. Reported as CCR
 * reports a leader index that is gone.
 */
export class IndexReplacedError extends ClusterError {
  override readonly kind = 'index_replaced';
  readonly index: string;
  readonly expectedUuid: string;
  readonly foundUuid: string;

  constructor(details: { alias: string; role: 'leader' | 'follower'; index: string; expectedUuid: string; foundUuid: string }) {
    const { alias, role, index, expectedUuid, foundUuid } = details;
    super({
      alias, operation: `check the ${role} index`,
      reason: `the ${role} index [${index}] was deleted and created again (uuid ${expectedUuid} → ${foundUuid}); its history cannot continue the follow`,
    });
    this.name = 'IndexReplacedError';
    this.index = index;
    this.expectedUuid = expectedUuid;
    this.foundUuid = foundUuid;
  }

  override get type(): string {
    return 'index_not_found_exception';
  }
}

/**
 * Something ccr-follow checks about its own work did not hold: an answer that does not match its
 * request (a bulk answering another number of items than it was sent), or a promise of its own
 * broken (asked to make visible what no checkpoint covered). Not a ClusterError: no cluster said
 * so. Reported as Elasticsearch reports a state it cannot continue from.
 */
export class IllegalReplicationStateError extends Error {
  readonly type = 'illegal_state_exception';
  constructor(message: string) {
    super(message);
    this.name = 'IllegalReplicationStateError';
  }
}

/** An error as stats, records and logs show it: CCR's `{type, reason}` (`fatal_exception`, `read_exceptions`, …). */
export interface ErrorSummary {
  readonly type: string;
  readonly reason: string;
}

/**
 * The one way an error becomes the `{type, reason}` that stats and records carry. `type` is the
 * error's own `type` when it has one — the cluster's `error.type`, or the name Elasticsearch gives
 * a condition ccr-follow found itself (ClusterError, FollowError, IllegalReplicationStateError,
 * the state's errors) — else its class name (`exception` for a plain Error). `reason` is its
 * message unless the caller has a better one (classify's verdict). Describes only: what an error
 * means is classify's decision.
 */
export function errorSummary(err: unknown, reason?: string): ErrorSummary {
  if (!(err instanceof Error)) return { type: 'exception', reason: reason ?? String(err) };
  const own = (err as { readonly type?: unknown }).type;
  return { type: typeof own === 'string' ? own : err.name === 'Error' ? 'exception' : err.name, reason: reason ?? err.message };
}

/** A cluster alias the config does not define. Not a ClusterError: no cluster was asked. */
export class UnknownClusterError extends Error {
  readonly alias: string;
  constructor(alias: string, known: readonly string[]) {
    super(`unknown cluster alias [${alias}]; configured: ${known.length > 0 ? known.join(', ') : '(none)'}`);
    this.name = 'UnknownClusterError';
    this.alias = alias;
  }
}

function formatMessage(d: ClusterErrorDetails, advice: string | undefined): string {
  const status = d.statusCode === undefined ? '' : ` ${d.statusCode}`;
  const type = d.esType === undefined ? '' : ` ${d.esType}:`;
  const request = d.request === undefined ? '' : ` (${d.request})`;
  return `[${d.alias}] ${d.operation} failed${status}${type} ${d.reason}${request}${advice === undefined ? '' : `; ${advice}`}`;
}

/**
 * What the operator should change when the cluster refuses who we are. This only words the
 * message (a paused follower's `fatal_exception` is the error's message); whether the error is
 * fatal is still `classify`'s decision alone. A 403 `cluster_block_exception` is a block, not a
 * missing privilege, hence the type check.
 */
function responseAdvice(d: ClusterErrorDetails): string | undefined {
  if (d.statusCode === 401) {
    return `check the credentials in clusters.${d.alias}.auth (username/password, api_key or bearer, or the environment variable they come from)`;
  }
  if (d.statusCode === 403 && (d.esType === undefined || d.esType === 'security_exception')) {
    return `grant the user of clusters.${d.alias}.auth the missing privilege (README, "Security": the roles ccr-follow needs)`;
  }
  // Both flavors answer a path no module or plugin serves with 400 (or 405) and this reason.
  if ((d.statusCode === 400 || d.statusCode === 405) && /no handler found for uri|incorrect HTTP method for uri/i.test(d.reason)) {
    return `cluster [${d.alias}] does not serve this API: the module or plugin that provides it is not installed `
      + '(lifecycle policies need ILM on Elasticsearch, the index-management plugin (ISM) on OpenSearch)';
  }
  return undefined;
}

export type TlsProblem =
  | 'untrusted_certificate'
  | 'expired_certificate'
  | 'hostname_mismatch'
  | 'invalid_certificate'
  | 'fingerprint_mismatch'
  | 'client_certificate_refused'
  | 'handshake_refused'
  | 'not_tls'
  | 'tls_required';

/** Per problem: what went wrong, and what to change in the config (or on the cluster). */
const TLS_PROBLEMS: Readonly<Record<TlsProblem, { what: string; fix: (alias: string) => string }>> = {
  untrusted_certificate: {
    what: "the cluster's certificate is not signed by a trusted CA",
    fix: (a) => `set clusters.${a}.tls.ca to the CA certificate (PEM file) that signed the cluster's HTTP certificate, or clusters.${a}.tls.fingerprint to that CA's SHA-256 fingerprint`,
  },
  expired_certificate: {
    what: "the cluster's certificate has expired (or is not valid yet)",
    fix: (a) => `renew the HTTP certificate of cluster [${a}] (or check this machine's clock)`,
  },
  hostname_mismatch: {
    what: "the cluster's certificate is for another host name",
    fix: (a) => `use a host name the certificate lists in clusters.${a}.url(s), or reissue the cluster's HTTP certificate with this one`,
  },
  invalid_certificate: {
    what: "the cluster's certificate was rejected",
    fix: (a) => `replace the HTTP certificate of cluster [${a}] with a valid server certificate`,
  },
  fingerprint_mismatch: {
    what: 'no certificate the cluster presents has the configured SHA-256 fingerprint',
    fix: (a) => `check clusters.${a}.tls.fingerprint: it must be the fingerprint of the CA that signed the cluster's HTTP certificate`,
  },
  client_certificate_refused: {
    what: 'the cluster refused our client certificate (or its absence)',
    fix: (a) => `set clusters.${a}.tls.cert and tls.key to a client certificate the cluster trusts`,
  },
  handshake_refused: {
    what: 'the cluster refused the TLS handshake',
    fix: (a) => `check the TLS versions and ciphers cluster [${a}] accepts, and whether it requires a client certificate (clusters.${a}.tls.cert and tls.key)`,
  },
  not_tls: {
    what: 'the server does not speak TLS',
    fix: (a) => `write http:// instead of https:// in clusters.${a}.url(s), or enable TLS on the cluster's HTTP layer`,
  },
  tls_required: {
    what: 'the server speaks TLS only',
    fix: (a) => `write https:// instead of http:// in clusters.${a}.url(s)`,
  },
};

/**
 * Node's and OpenSSL's error codes that mean a TLS problem a person must fix, by problem. Any
 * other code (ECONNREFUSED, ECONNRESET, …) is not a TLS problem: the error stays a connection
 * error, retried.
 */
const TLS_ERROR_CODES: Readonly<Record<string, TlsProblem>> = {
  // Verification of the cluster's chain (OpenSSL X509_V_ERR_*, as Node names them).
  UNABLE_TO_GET_ISSUER_CERT: 'untrusted_certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'untrusted_certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'untrusted_certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted_certificate',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'untrusted_certificate',
  CERT_UNTRUSTED: 'untrusted_certificate',
  // A CA of the same name but another key signed it: still not the configured CA.
  CERT_SIGNATURE_FAILURE: 'untrusted_certificate',
  UNABLE_TO_DECRYPT_CERT_SIGNATURE: 'untrusted_certificate',
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: 'untrusted_certificate',
  INVALID_CA: 'untrusted_certificate',
  CERT_HAS_EXPIRED: 'expired_certificate',
  CERT_NOT_YET_VALID: 'expired_certificate',
  ERROR_IN_CERT_NOT_BEFORE_FIELD: 'invalid_certificate',
  ERROR_IN_CERT_NOT_AFTER_FIELD: 'invalid_certificate',
  CERT_REJECTED: 'invalid_certificate',
  CERT_REVOKED: 'invalid_certificate',
  INVALID_PURPOSE: 'invalid_certificate',
  CERT_CHAIN_TOO_LONG: 'invalid_certificate',
  PATH_LENGTH_EXCEEDED: 'invalid_certificate',
  // Node's host name check (tls.checkServerIdentity), and OpenSSL's own.
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname_mismatch',
  HOSTNAME_MISMATCH: 'hostname_mismatch',
  IP_ADDRESS_MISMATCH: 'hostname_mismatch',
  // Ours: the pinned fingerprint is not in the presented chain.
  CA_FINGERPRINT_MISMATCH: 'fingerprint_mismatch',
  // Alerts the cluster sends about our certificate: missing, unknown CA, expired, not allowed.
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'client_certificate_refused',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'client_certificate_refused',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'client_certificate_refused',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'client_certificate_refused',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED: 'client_certificate_refused',
  ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: 'client_certificate_refused',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'client_certificate_refused',
  ERR_SSL_TLSV1_ALERT_ACCESS_DENIED: 'client_certificate_refused',
  // No common protocol version or cipher; TLS 1.2 servers also answer a missing client
  // certificate with handshake_failure.
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'handshake_refused',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'handshake_refused',
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'handshake_refused',
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: 'handshake_refused',
  // An https:// URL answered by a plain HTTP server: its reply is not a TLS record.
  ERR_SSL_WRONG_VERSION_NUMBER: 'not_tls',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'not_tls',
  ERR_SSL_RECORD_LAYER_FAILURE: 'not_tls',
  // Ours: an http:// URL whose server completed a TLS handshake.
  TLS_REQUIRED: 'tls_required',
};

/** The TLS problem a Node / OpenSSL error code means, or undefined when it is not one. */
export function tlsProblemOf(code: string | undefined): TlsProblem | undefined {
  return code !== undefined && Object.hasOwn(TLS_ERROR_CODES, code) ? TLS_ERROR_CODES[code] : undefined;
}
