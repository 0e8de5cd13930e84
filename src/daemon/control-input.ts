/**
 * The control API's door checks: what every request must look like before it reaches the follow
 * manager or the auto-follow coordinator. They check the *shape* of the input — a JSON object, no
 * unknown parameters (all of them named at once), strings where strings belong, names a cluster,
 * an index or a pattern could have — and leave the *meaning* (parameter values, whether an alias
 * is configured, whether the follower exists) to the code that owns it (follow-params.ts,
 * index-name.ts, auto-follow-pattern.ts, follow-manager.ts), which also refuses before it changes
 * anything. Every refusal is a `ControlRequestError`, which the server answers with its status.
 */
import { invalidPatternNameReason } from '../autofollow/auto-follow-pattern.js';
import { invalidIndexNameReason } from '../follow/index-name.js';
import { FOLLOW_PARAMS } from '../shard/follow-params.js';
import { ALIAS_PATTERN } from './config.js';

/** ES's type names, as the rest of the API uses them; 401 is `security_exception` there too. */
export type ControlErrorType = 'illegal_argument_exception' | 'security_exception';

/** A request refused at the door: `status` is what the control API answers. */
export class ControlRequestError extends Error {
  override readonly name = 'ControlRequestError';
  constructor(readonly type: ControlErrorType, message: string, readonly status: number) {
    super(message);
  }
}

type Body = Record<string, unknown>;

/** What a body may hold: its own fields, and CCR's follow parameters or not. */
export interface BodySpec {
  readonly fields: readonly string[];
  readonly followParams: boolean;
}

const FOLLOW_PARAM_NAMES: readonly string[] = Object.keys(FOLLOW_PARAMS);
/** `PUT /<cluster>/<index>/_ccr/follow`. */
export const FOLLOW_BODY: BodySpec = { fields: ['remote_cluster', 'leader_index', 'settings', 'data_stream_name'], followParams: true };
/** `POST …/_ccr/resume_follow`: parameters that replace the stored ones. */
export const RESUME_BODY: BodySpec = { fields: [], followParams: true };
/** `PUT /_ccr/auto_follow/<name>` (see auto-follow-pattern.ts for what each means). */
export const PATTERN_BODY: BodySpec = {
  fields: ['remote_cluster', 'follower_cluster', 'leader_index_patterns', 'leader_index_exclusion_patterns', 'follow_index_pattern', 'settings'],
  followParams: true,
};
/** Pause, unfollow, and the auto-follow delete / pause / resume: nothing, or `{}`. */
export const NO_BODY: BodySpec = { fields: [], followParams: false };

/** Names and values are shown up to this length in messages: they come from the client. */
const MAX_SHOWN = 120;
/** Longer cluster aliases are refused before the pattern test: no configured alias is that long. */
const MAX_ALIAS_LENGTH = 255;

/**
 * Characters no name or parameter of ours can hold, yet a client can smuggle in through JSON
 * escapes or percent-encoding: control characters (NUL, newline, DEL, C1), invisible format
 * characters (zero-width space, bidi overrides, BOM) that make two different names look the same,
 * and lone surrogates (not Unicode text at all).
 */
const ODD_CHARACTER = /[\p{Cc}\p{Cf}\p{Cs}]/u;

function invalid(message: string): ControlRequestError {
  return new ControlRequestError('illegal_argument_exception', message, 400);
}

/** A client's string, safe to put in a one-line message: odd characters escaped, cut to length. */
export function shown(text: string): string {
  const escaped = text.replace(new RegExp(ODD_CHARACTER.source, 'gu'), (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > MAX_SHOWN ? `${escaped.slice(0, MAX_SHOWN)}…` : escaped;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The body as an object: none at all reads as `{}`; anything but a JSON object is refused. */
export function objectBody(body: unknown, what: string): Body {
  if (body === undefined) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid(`the body of ${what} must be a JSON object, got ${kindOf(body)}`);
  }
  return body as Body;
}

/**
 * Refuses a body with keys `spec` does not allow, naming every unknown one (in the words of
 * follow-params.ts where follow parameters are allowed, so the message is the same wherever the
 * parameter is refused); and any string in it, at any depth, with an odd character (see
 * ODD_CHARACTER), naming where.
 */
export function checkBody(body: Body, spec: BodySpec, what: string): void {
  const unknown = Object.keys(body).filter((key) => !spec.fields.includes(key) && !(spec.followParams && FOLLOW_PARAM_NAMES.includes(key)));
  if (unknown.length > 0) {
    const names = unknown.map((key) => `[${shown(key)}]`).join(', ');
    const plural = unknown.length > 1 ? 's' : '';
    if (!spec.followParams) throw invalid(`unknown parameter${plural} ${names} in ${what}; ${what} takes no parameters`);
    const fields = spec.fields.length > 0 ? ` (besides ${spec.fields.join(', ')})` : '';
    throw invalid(`unknown follow parameter${plural} ${names}; known: ${FOLLOW_PARAM_NAMES.join(', ')}${fields}`);
  }
  checkStrings(body, what, []);
}

function checkStrings(value: unknown, what: string, path: readonly (string | number)[]): void {
  if (typeof value === 'string') {
    if (ODD_CHARACTER.test(value)) {
      const where = path.map((p) => `[${typeof p === 'number' ? p : shown(p)}]`).join('');
      throw invalid(`${where} in ${what} holds a control, invisible or invalid character: [${shown(value)}]`);
    }
    return;
  }
  if (Array.isArray(value)) value.forEach((item, i) => checkStrings(item, what, [...path, i]));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) checkStrings(item, what, [...path, key]);
  }
}

/** `body[key]` must be a string (when `required`, present too). */
export function stringField(body: Body, key: string, what: string, meaning: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '') {
    throw invalid(`${what} needs [${key}]: ${meaning} as a non-empty string${value === undefined ? '' : `, got ${kindOf(value)}`}`);
  }
  return value;
}

/** A cluster alias as the config allows them (config.ts ALIAS_PATTERN). */
export function checkClusterAlias(alias: string, role: string): void {
  if (alias.length > MAX_ALIAS_LENGTH || !ALIAS_PATTERN.test(alias)) {
    throw invalid(`invalid ${role} cluster alias [${shown(alias)}]: expected letters, digits, "_" or "-" (as configured under clusters:)`);
  }
}

/** Elasticsearch's index name rules (index-name.ts), plus no odd characters. */
export function checkIndexName(name: string, role: string): void {
  const reason = ODD_CHARACTER.test(name) ? 'must not contain control, invisible or invalid characters' : invalidIndexNameReason(name);
  if (reason) throw invalid(`invalid ${role} index name [${shown(name)}]: ${reason}`);
}

/** The `<cluster>/<index>` of a follower-index route. */
export function checkFollowerPath(params: { readonly cluster: string; readonly index: string }): void {
  checkClusterAlias(params.cluster, 'follower');
  checkIndexName(params.index, 'follower');
}

/** The `<name>` of an auto-follow route (auto-follow-pattern.ts's rule). */
export function checkPatternName(name: string): void {
  const reason = invalidPatternNameReason(name);
  if (reason) throw invalid(`invalid auto-follow pattern name [${shown(name)}]: ${reason}`);
}

/**
 * What a query parameter holds: a time value (`30s`, `-1`), an active shard count (`all`, `2`), a
 * flag (`?pretty`, `?human=true`, `=false`), an answer format (`json`, `yaml`) or any text.
 */
export type QueryKind = 'time' | 'active_shards' | 'flag' | 'format' | 'text';
/** The query parameters a route documents, by name. */
export type QuerySpec = Readonly<Record<string, QueryKind>>;

/**
 * Refuses query parameters the route does not document (ES refuses unknown ones the same way, by
 * name) and values of the wrong form; returns the given ones. Without a spec, none is allowed.
 */
export function checkQuery(query: unknown, path: string, spec: QuerySpec = {}): Record<string, string> {
  const entries = query !== null && typeof query === 'object' ? Object.entries(query) : [];
  const unknown = entries.map(([key]) => key).filter((key) => !Object.hasOwn(spec, key));
  if (unknown.length > 0) {
    throw invalid(`request [${shown(path)}] contains unrecognized parameter${unknown.length > 1 ? 's' : ''}: ${unknown.map((k) => `[${shown(k)}]`).join(', ')}`);
  }
  const given: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (typeof value !== 'string') throw invalid(`request [${shown(path)}] repeats parameter [${shown(key)}]: give it once`);
    const kind = spec[key]!;
    if (kind === 'time' && !isTimeValue(value)) {
      throw invalid(`failed to parse setting [${key}] with value [${shown(value)}] as a time value: unit is missing or unrecognized`);
    }
    if (kind === 'active_shards' && !/^(all|\d{1,4})$/.test(value)) {
      throw invalid(`[${key}] must be "all" or a non-negative number of shard copies, got [${shown(value)}]`);
    }
    if (kind === 'flag' && !['', 'true', 'false'].includes(value)) {
      throw invalid(`Failed to parse value [${shown(value)}] as only [true] or [false] are allowed.`);
    }
    if (kind === 'format' && !['json', 'yaml'].includes(value)) {
      throw invalid(`[format] must be json or yaml, got [${shown(value)}]`);
    }
    given[key] = value;
  }
  return given;
}

/** Elasticsearch's time values: a number with a unit (nanos to days), or -1 (no timeout). */
function isTimeValue(value: string): boolean {
  return value === '-1' || value === '0' || /^\d+(\.\d+)?(nanos|micros|ms|s|m|h|d)$/.test(value);
}

/** The control API takes no query parameters on this route. */
export function checkNoQuery(query: unknown, path: string): void {
  checkQuery(query, path);
}
