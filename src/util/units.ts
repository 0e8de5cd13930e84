/**
 * Durations and byte sizes as CCR users write them (`30s`, `512mb`), parsed once at the edge so the
 * rest of the code only ever sees milliseconds and bytes.
 *
 * Units follow Elasticsearch: byte units are powers of 1024 and may be written with or without the
 * trailing `b` (`512m` = `512mb`). A plain number (or a string of digits) is already in the base
 * unit. Bad input throws a `RangeError` naming the value, so a config loader can wrap it with the
 * YAML path it came from.
 */

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const BYTE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  k: 1024, kb: 1024,
  m: 1024 ** 2, mb: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3,
  t: 1024 ** 4, tb: 1024 ** 4,
  p: 1024 ** 5, pb: 1024 ** 5,
};

/** Largest unit first: the display functions pick the first unit that fits. */
const DURATION_DISPLAY = ['d', 'h', 'm', 's'] as const;
const BYTE_DISPLAY = ['pb', 'tb', 'gb', 'mb', 'kb'] as const;

/** Parses `500ms`, `30s`, `1m`, `2h`, `1d` or a plain number of milliseconds. */
export function parseDuration(text: string | number): number {
  return parseWithUnits(text, DURATION_UNITS, 'duration', 'ms, s, m, h or d (e.g. 500ms, 30s, 1m)');
}

/** Parses `100b`, `10kb`, `32mb`, `1gb` (k/m/g/t/p are powers of 1024) or a plain number of bytes. */
export function parseByteSize(text: string | number): number {
  return parseWithUnits(text, BYTE_UNITS, 'byte size', 'b, kb, mb, gb, tb or pb (e.g. 512mb, 1gb)');
}

/** For display: `500ms`, `30s`, `1m`, `1.5h`. Rounded to one decimal, so not always exact. */
export function formatDuration(ms: number): string {
  return formatWithUnits(ms, DURATION_UNITS, DURATION_DISPLAY, 'ms');
}

/** For display: `100b`, `10kb`, `512mb`, `1.5gb`. Rounded to one decimal, so not always exact. */
export function formatBytes(bytes: number): string {
  return formatWithUnits(bytes, BYTE_UNITS, BYTE_DISPLAY, 'b');
}

function parseWithUnits(
  text: string | number,
  units: Readonly<Record<string, number>>,
  what: string,
  expected: string,
): number {
  const invalid = (): RangeError =>
    new RangeError(`invalid ${what} ${JSON.stringify(text)}: expected a non-negative number with an optional unit ${expected}`);

  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw invalid();
    return Math.round(text);
  }
  if (typeof text !== 'string') throw invalid(); // callers may hand us raw YAML values
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) throw invalid();
  const [, amount = '', unit = ''] = match;
  // No unit means the base unit, as for a plain number.
  const factor = unit === '' ? 1 : units[unit.toLowerCase()];
  if (factor === undefined) throw invalid();
  const value = Math.round(Number(amount) * factor);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`invalid ${what} ${JSON.stringify(text)}: too large`);
  }
  return value;
}

function formatWithUnits(
  value: number,
  units: Readonly<Record<string, number>>,
  largestFirst: readonly string[],
  baseUnit: string,
): string {
  for (const unit of largestFirst) {
    const factor = units[unit] ?? 1;
    if (Math.abs(value) >= factor) {
      // One decimal at most: this is for people, not for round trips.
      return `${Number((value / factor).toFixed(1))}${unit}`;
    }
  }
  return `${Math.round(value)}${baseUnit}`;
}
