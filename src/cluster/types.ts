/** The typed shapes the cluster layer hands to the rest of ccr-follow. */
import type { ClusterResponseError } from './errors.js';
import type { Flavor } from './rest-transport.js';

export type { Flavor };

export interface ClusterInfo {
  readonly alias: string;
  readonly flavor: Flavor;
  readonly version: string;
}

/** Sequence-number state of one primary shard (docs/architecture.md, shard step 1). */
export interface ShardSeqNoState {
  readonly shard: number;
  readonly globalCheckpoint: number;
  readonly maxSeqNo: number;
  readonly localCheckpoint: number;
}

/** One live document as the leader's shard search returns it. */
export interface SeqNoHit {
  readonly id: string;
  readonly routing: string | undefined;
  readonly seqNo: number;
  readonly primaryTerm: number;
  /** `_source` as the leader's exact text. */
  readonly sourceJson: string;
  /** The same as bytes, when the hit came from an answer's bytes: what a bulk request sends. */
  readonly sourceBytes?: Uint8Array;
  /** Bytes this operation costs in the write buffer and in a bulk request. */
  readonly sizeInBytes: number;
  /** `_version`, when the search asked for it. */
  readonly version?: number;
}

export interface SeqNoSearch {
  readonly shard: number;
  /** Operations strictly above this seq_no ... */
  readonly fromExclusive: number;
  /** ... and at or below this one. */
  readonly toInclusive: number;
  readonly size: number;
  /** The last hit's `_seq_no` of the previous page. */
  readonly searchAfter?: number;
  /** False: ids and routing only (`sourceJson` is then "{}"), for id scans. Default true. */
  readonly withSource?: boolean;
  /** Also return each document's `_version` (for foreign-write audits). */
  readonly withVersion?: boolean;
}

/** A realtime get's answer for one document. */
export interface DocumentLookup {
  readonly id: string;
  readonly found: boolean;
  readonly routing: string | undefined;
  /** Present when found and the source was asked for. */
  readonly sourceJson?: string;
  /** `_seq_no` and `_version` of the document, when found. */
  readonly seqNo?: number;
  readonly version?: number;
}

/** A write to the follower with `version_type=external` (docs/architecture.md, shard step 5). */
export type ExternalOp =
  /** `sourceJson`: the document's exact JSON text, as a string or as UTF-8 bytes (sent as they are). */
  | { readonly op: 'index'; readonly id: string; readonly routing: string | undefined; readonly version: number; readonly sourceJson: string | Uint8Array }
  | { readonly op: 'delete'; readonly id: string; readonly routing: string | undefined; readonly version: number };

export type BulkItemResult =
  /** `seqNo`: the follower's own seq_no for the write. */
  | { readonly outcome: 'applied'; readonly id: string; readonly seqNo?: number }
  /** 409: the follower already holds this version or a newer one: success, not error. */
  | { readonly outcome: 'already_applied'; readonly id: string }
  | { readonly outcome: 'failed'; readonly id: string; readonly error: ClusterResponseError };

export interface IndexMetadata {
  readonly index: string;
  readonly uuid: string;
  readonly numberOfShards: number;
  readonly routingNumShards: number | undefined;
  /** Flat settings, e.g. `index.analysis.analyzer.x.type`. */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly mappings: Readonly<Record<string, unknown>>;
  readonly aliases: Readonly<Record<string, unknown>>;
  readonly mappingVersion: number;
  readonly settingsVersion: number;
  readonly aliasesVersion: number;
  readonly state: 'open' | 'close';
}

export interface MetadataVersions {
  readonly mappingVersion: number;
  readonly settingsVersion: number;
  readonly aliasesVersion: number;
}

/** Metadata versions, with the uuid of the index they were read from (one cluster-state read). */
export interface IndexVersions extends MetadataVersions {
  readonly uuid: string;
}

/** An ordinary (non-replication) document write. */
export type DocumentWrite =
  | { readonly op: 'index'; readonly id?: string; readonly routing?: string; readonly source: Record<string, unknown> }
  | { readonly op: 'delete'; readonly id: string; readonly routing?: string };

/** One concrete index as `GET /_resolve/index` lists it; `attributes` holds `closed`, `hidden`, `system`, .... */
export interface ResolveIndexEntry {
  readonly name: string;
  readonly attributes?: readonly string[];
  readonly aliases?: readonly string[];
  /** The data stream it is a backing index of. */
  readonly data_stream?: string;
}

/** The answer of `GET /_resolve/index/<expressions>`, with its lists always present. */
export interface ResolveIndexAnswer {
  readonly indices: readonly ResolveIndexEntry[];
  readonly aliases: readonly { readonly name: string; readonly indices?: readonly string[] }[];
  /** Backing indices oldest first; the last one is the write index. */
  readonly data_streams: readonly { readonly name: string; readonly backing_indices?: readonly string[] }[];
}

/** An index in the cluster state metadata, filtered to the fields `ClusterClient.indexStates` asks for. */
export interface IndexStateMetadata {
  readonly state?: string;
  readonly system?: boolean;
  readonly settings?: { readonly index?: { readonly creation_date?: string; readonly hidden?: string } };
}

/** One copy of a shard in the cluster state routing table. */
export interface ShardCopyState {
  readonly state?: string;
  readonly primary?: boolean;
}

/** Metadata and routing of some indices from the cluster state; an index that does not exist is absent. */
export interface IndexStatesAnswer {
  /** By index name. */
  readonly metadata: Readonly<Record<string, IndexStateMetadata>>;
  /** By index name, then shard number: every copy of that shard. */
  readonly routing: Readonly<Record<string, Readonly<Record<string, readonly ShardCopyState[]>>>>;
}

/** One document read with its place in the shard's history (what a conditional write must name). */
export interface VersionedDocument {
  readonly id: string;
  readonly source: unknown;
  readonly seqNo: number;
  readonly primaryTerm: number;
}

/** A conditional write's precondition: the document is absent, or exactly at this seq_no and primary term. */
export type DocumentCondition = { readonly absent: true } | { readonly version: { readonly seqNo: number; readonly primaryTerm: number } };
