/**
 * The options every Elasticsearch and OpenSearch REST API takes (the reference's "Common options"),
 * applied to the control API's JSON answers, so `?pretty`, `?filter_path=...` and `?human` in an
 * existing script or runbook work against ccr-follow as against a cluster:
 *
 * - `pretty`: indented JSON, with a final newline.
 * - `format=yaml`: the answer as YAML (`format=json` is the default).
 * - `human`: beside each `<name>_millis` / `<name>_in_millis` duration and each `<name>_in_bytes`
 *   size, `<name>` in the short form the clusters print (`"1.5s"`, `"32mb"`).
 * - `filter_path`: a comma list of dotted paths, `*` matching within one name, `**` any number of
 *   levels, `-` in front excluding; arrays are gone through; what nothing matches is left out.
 * - `error_trace`: accepted. ccr-follow's error answers carry no stack trace: their `type` and
 *   `reason` say what went wrong and what to do.
 *
 * Pure: the control server's send hook calls `renderAnswer` on the JSON it was about to send.
 */
import { stringify as toYaml } from 'yaml';
import type { QuerySpec } from '../control-input.js';

/** Accepted on every route, besides the route's own parameters. */
export const COMMON_QUERY: QuerySpec = { pretty: 'flag', human: 'flag', error_trace: 'flag', filter_path: 'text', format: 'format' };

export interface AnswerOptions {
  readonly pretty: boolean;
  readonly human: boolean;
  readonly yaml: boolean;
  /** Parsed `filter_path`, when given. */
  readonly filter?: PathFilter;
}

/** The options of a checked query, or undefined when none changes the answer. */
export function answerOptions(query: Readonly<Record<string, string>>): AnswerOptions | undefined {
  const flag = (name: string): boolean => query[name] !== undefined && query[name] !== 'false';
  const options = {
    pretty: flag('pretty'),
    human: flag('human'),
    yaml: query['format'] === 'yaml',
    ...(query['filter_path'] === undefined ? {} : { filter: parseFilterPath(query['filter_path']) }),
  };
  return options.pretty || options.human || options.yaml || options.filter ? options : undefined;
}

/** The answer's text with the options applied; `body` is the parsed JSON answer. */
export function renderAnswer(body: unknown, options: AnswerOptions): string {
  let value = options.human ? withHumanFields(body) : body;
  if (options.filter) value = applyFilter(value, options.filter) ?? {};
  if (options.yaml) return toYaml(value);
  return options.pretty ? `${JSON.stringify(value, null, 2)}\n` : JSON.stringify(value);
}

// ---- human ---------------------------------------------------------------------------------------

const DURATION_UNITS: readonly (readonly [string, number])[] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000], ['ms', 1]];
const SIZE_UNITS: readonly (readonly [string, number])[] = [['pb', 1024 ** 5], ['tb', 1024 ** 4], ['gb', 1024 ** 3], ['mb', 1024 ** 2], ['kb', 1024], ['b', 1]];

/** A duration as the clusters print one for people (`TimeValue`): largest unit ≥ 1, one decimal, cut not rounded. */
export function humanDuration(ms: number): string {
  if (ms < 0) return String(ms);
  if (ms === 0) return '0s';
  return inLargestUnit(ms, DURATION_UNITS);
}

/** A size as the clusters print one for people (`ByteSizeValue`): `"512b"`, `"1.5kb"`, `"32mb"`. */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes}b`;
  return inLargestUnit(bytes, SIZE_UNITS);
}

function inLargestUnit(value: number, units: readonly (readonly [string, number])[]): string {
  const [unit, factor] = units.find(([, f]) => value >= f) ?? units[units.length - 1]!;
  const [whole, fraction = ''] = String(value / factor).split('.');
  return `${whole}${fraction === '' || fraction[0] === '0' ? '' : `.${fraction[0]}`}${unit}`;
}

/** Adds `<name>` beside every numeric `<name>_millis`, `<name>_in_millis` and `<name>_in_bytes`. */
export function withHumanFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withHumanFields);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  const entries = Object.entries(value as Record<string, unknown>);
  const names = new Set(entries.map(([key]) => key));
  for (const [key, inner] of entries) {
    if (typeof inner === 'number') {
      const human = humanField(key, inner);
      if (human && !names.has(human[0])) out[human[0]] = human[1];
    }
    out[key] = withHumanFields(inner);
  }
  return out;
}

function humanField(key: string, value: number): [string, string] | undefined {
  const duration = /^(.+?)(_in)?_millis$/.exec(key);
  if (duration) return [duration[1]!, humanDuration(value)];
  const size = /^(.+)_in_bytes$/.exec(key);
  if (size) return [size[1]!, humanSize(value)];
  return undefined;
}

// ---- filter_path ---------------------------------------------------------------------------------

/** One dotted path of `filter_path`, split into names (`*` globs within one) and `**`. */
type Path = readonly string[];

export interface PathFilter {
  readonly include: readonly Path[];
  readonly exclude: readonly Path[];
}

export function parseFilterPath(expression: string): PathFilter {
  const include: Path[] = [];
  const exclude: Path[] = [];
  for (const raw of expression.split(',')) {
    const text = raw.trim();
    if (text === '' || text === '-') continue;
    const excluded = text.startsWith('-');
    (excluded ? exclude : include).push((excluded ? text.slice(1) : text).split('.'));
  }
  return { include, exclude };
}

/**
 * Where a walk down the answer stands against one path: the indices into it reachable after the
 * names walked so far (`**` may stand for none, one or many names).
 */
type States = ReadonlySet<number>;

function closure(path: Path, states: Iterable<number>): Set<number> {
  const out = new Set<number>();
  const add = (i: number): void => {
    if (out.has(i)) return;
    out.add(i);
    if (path[i] === '**') add(i + 1);
  };
  for (const i of states) add(i);
  return out;
}

function step(path: Path, states: States, name: string): Set<number> {
  const next: number[] = [];
  for (const i of states) {
    if (i >= path.length) continue;
    if (path[i] === '**') next.push(i);
    else if (globMatch(path[i]!, name)) next.push(i + 1);
  }
  return closure(path, next);
}

function globMatch(glob: string, name: string): boolean {
  if (!glob.includes('*')) return glob === name;
  const pattern = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${pattern}$`).test(name);
}

/** The part of `value` the filter keeps, or undefined for nothing. */
export function applyFilter(value: unknown, filter: PathFilter): unknown {
  const start = (paths: readonly Path[]): States[] => paths.map((p) => closure(p, [0]));
  return filterAt(value, filter, false, start(filter.include), start(filter.exclude));
}

/**
 * `inside`: an include path already matched an ancestor, so all of this is kept but what an
 * exclusion removes. Arrays are gone through without a name of their own, as the clusters do.
 */
function filterAt(value: unknown, filter: PathFilter, inside: boolean, include: readonly States[], exclude: readonly States[]): unknown {
  const full = (paths: readonly Path[]) => (states: States, k: number): boolean => states.has(paths[k]!.length);
  if (exclude.some(full(filter.exclude))) return undefined;
  const included = inside || filter.include.length === 0 || include.some(full(filter.include));
  if (included && exclude.every((states) => states.size === 0)) return value;
  if (!included && include.every((states) => states.size === 0)) return undefined;
  if (Array.isArray(value)) {
    const kept = value.map((item) => filterAt(item, filter, included, include, exclude)).filter((item) => item !== undefined);
    return kept.length > 0 || included ? kept : undefined;
  }
  if (value === null || typeof value !== 'object') return included ? value : undefined;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const kept = filterAt(inner, filter, included,
      included ? [] : include.map((states, k) => step(filter.include[k]!, states, key)),
      exclude.map((states, k) => step(filter.exclude[k]!, states, key)));
    if (kept !== undefined) out[key] = kept;
  }
  return Object.keys(out).length > 0 || included ? out : undefined;
}
