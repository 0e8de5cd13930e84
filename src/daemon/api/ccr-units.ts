/**
 * Byte sizes and durations in the string forms Elasticsearch CCR answers with (`"32mb"`, `"500ms"`,
 * `"1m"`): the largest unit that holds the value exactly, so the string parses back to the same
 * number (`util/units.ts` reads them) and a default reads as CCR prints it. Not the rounded forms
 * of `formatBytes` / `formatDuration`, which are for people.
 */
import { FOLLOW_PARAMS, type FollowParamName, type FollowParams } from '../../shard/follow-params.js';

const BYTE_UNITS: readonly (readonly [string, number])[] = [['pb', 1024 ** 5], ['tb', 1024 ** 4], ['gb', 1024 ** 3], ['mb', 1024 ** 2], ['kb', 1024]];
const TIME_UNITS: readonly (readonly [string, number])[] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]];

/** `33554432` → `"32mb"`, `1536` → `"1536b"` (not a whole number of kb... of any larger unit). */
export function ccrByteSize(bytes: number): string {
  return exact(bytes, BYTE_UNITS, 'b');
}

/** `60000` → `"1m"`, `500` → `"500ms"`, `90000` → `"90s"`. */
export function ccrTime(ms: number): string {
  return exact(ms, TIME_UNITS, 'ms');
}

function exact(value: number, units: readonly (readonly [string, number])[], base: string): string {
  for (const [unit, factor] of units) {
    if (value !== 0 && value % factor === 0) return `${value / factor}${unit}`;
  }
  return `${value}${base}`;
}

/** A follow parameter as CCR shows it: counts as numbers, sizes and times as strings, flags as booleans. */
export function ccrParamValue(name: FollowParamName, value: number): number | string | boolean {
  const [kind] = FOLLOW_PARAMS[name];
  if (kind === 'bytes') return ccrByteSize(value);
  if (kind === 'duration') return ccrTime(value);
  if (kind === 'boolean') return value === 1;
  return value;
}

/** Every parameter of a follower (or those a pattern sets) in CCR's forms. */
export function ccrParams(params: Readonly<Partial<FollowParams>>): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  for (const [name, value] of Object.entries(params)) {
    if (typeof value === 'number' && Object.hasOwn(FOLLOW_PARAMS, name)) out[name] = ccrParamValue(name as FollowParamName, value);
  }
  return out;
}

/**
 * Flat settings (`{"index.number_of_replicas": 0}`) as Elasticsearch prints a `Settings` object:
 * nested by the dots of each name, every value a string (`{"index": {"number_of_replicas": "0"}}`).
 */
export function ccrSettings(flat: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const nested: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(flat)) {
    const path = name.split('.');
    let at = nested;
    for (const part of path.slice(0, -1)) {
      const inner = at[part];
      at = (inner !== null && typeof inner === 'object' ? inner : (at[part] = {})) as Record<string, unknown>;
    }
    at[path[path.length - 1]!] = value === null ? null : String(value);
  }
  return nested;
}
