/**
 * A JSON reader over response bytes that keeps chosen values as their original text instead of
 * building them: the follower is sent each `_source` exactly as the leader answered it.
 *
 * Why not JSON.parse: a read of 5,000 documents made the daemon parse every `_source` into objects
 * (through the clients' secure-json-parse), then serialise each back for the bulk request — half of
 * the daemon's CPU went to that and to collecting the garbage it made. Passing the text through
 * also keeps what a parse would change: integers above 2^53 and number spellings such as `1.50`.
 *
 * The reader is strict where it must be (structure, strings, escapes) and produces plain values for
 * everything but the raw keys; the small rest of a response is ordinary JSON.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
/** Strings up to this many bytes (with their quotes) are decoded in JavaScript, not by Buffer. */
const SHORT_STRING = 34;

export class RawJsonError extends Error {
  constructor(message: string, readonly position: number) {
    super(`${message} at byte ${position}`);
    this.name = 'RawJsonError';
  }
}

/**
 * A JSON number by its exact value, for comparisons: `1.50`, `1.5` and `15e-1` are one number,
 * `9007199254740993` and `9007199254740992` are two (JSON.parse makes them one double).
 * `text` is the canonical spelling: sign, significant digits without trailing zeros, `e`, exponent
 * (`15e-1`, `9007199254740993e0`, `0` for every zero).
 */
export class JsonNumber {
  constructor(readonly text: string) {}
}

const NUMBER = /^(-?)(0|[1-9]\d*)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** The canonical spelling of a JSON number literal, or undefined when `literal` is not one. */
export function exactNumberText(literal: string): string | undefined {
  const m = NUMBER.exec(literal);
  if (!m) return undefined;
  const fraction = m[3] ?? '';
  const digits = `${m[2]}${fraction}`.replace(/^0+/, '');
  if (digits === '') return '0';
  const significant = digits.replace(/0+$/, '');
  // BigInt: an exponent such as 1e400 or 1e-99999 is compared exactly too, never as Infinity or 0.
  const exponent = BigInt(m[4] ?? '0') - BigInt(fraction.length) + BigInt(digits.length - significant.length);
  return `${m[1]}${significant}e${exponent}`;
}

/**
 * A number a double cannot hold exactly (an integer past 2^53, more digits than 17, an exponent past
 * its range), kept as the literal it was sent as, so that it can be sent on unchanged
 * (`stringifyLossless`). Index metadata — alias filters, mapping `_meta`, `null_value` — is read
 * this way: a filter on a 64-bit id must filter the same documents on the follower.
 */
export class LosslessNumber {
  constructor(readonly literal: string) {}
}

/**
 * A value kept as its JSON text: `utf8` is the exact bytes of the answer (a view into it, never
 * copied), `raw` the same decoded as a string, built only when something asks for it. The bytes
 * go to the follower as they are; decoding 100 MB of sources into strings only to encode them
 * again for the bulk request cost a fifth of the daemon's CPU (and most of its garbage).
 */
export interface RawJson {
  readonly raw: string;
  readonly utf8: Buffer;
  /** Length in bytes (which a string no longer says). */
  readonly bytes: number;
}

export function isRawJson(value: unknown): value is RawJson {
  return value instanceof RawText;
}

class RawText implements RawJson {
  #raw: string | undefined;

  constructor(readonly utf8: Buffer) {}

  get raw(): string {
    this.#raw ??= this.utf8.toString('utf8');
    return this.#raw;
  }

  get bytes(): number {
    return this.utf8.length;
  }
}

const NO_RAW_KEYS: ReadonlySet<string> = new Set();

/** Whether the bytes [from, to) of `buf` spell `text`, an ASCII string. */
function sameAscii(text: string, buf: Uint8Array, from: number, to: number): boolean {
  if (text.length !== to - from) return false;
  for (let i = 0; i < text.length; i += 1) if (text.charCodeAt(i) !== buf[from + i]) return false;
  return true;
}

/** How a reader builds numbers: as JSON.parse does, exactly (JsonNumber), or as JSON.parse does unless that loses something (LosslessNumber). */
type NumberMode = 'double' | 'exact' | 'lossless';

/**
 * Parses `buf` as one JSON value. The value of every object member whose key is in `rawKeys` is
 * returned as a RawJson holding its exact text; everything else as JSON.parse would build it.
 */
export function parseWithRawValues(buf: Uint8Array, rawKeys: ReadonlySet<string>): unknown {
  return readWhole(new Reader(buf, rawKeys, 'double'));
}

/**
 * Parses `text` as one JSON value with every number a JsonNumber holding its exact value; strings,
 * objects and arrays as JSON.parse builds them. Never goes through a double.
 */
export function parseExactNumbers(text: string | Uint8Array): unknown {
  return readWhole(new Reader(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, NO_RAW_KEYS, 'exact'));
}

/** Parses `buf` as JSON.parse would, except that a number a double would change is a LosslessNumber. */
export function parseLossless(buf: Uint8Array): unknown {
  return readWhole(new Reader(buf, NO_RAW_KEYS, 'lossless'));
}

/** JSON.stringify for plain JSON values (objects, arrays, strings, numbers, booleans, null) that writes each LosslessNumber as its literal. */
export function stringifyLossless(value: unknown): string {
  if (value instanceof LosslessNumber) return value.literal;
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stringifyLossless(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${stringifyLossless(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function readWhole(reader: Reader): unknown {
  const { buf } = reader;
  reader.skipSpace();
  const value = reader.value();
  reader.skipSpace();
  if (reader.pos !== buf.length) throw new RawJsonError('unexpected data after the JSON value', reader.pos);
  return value;
}

class Reader {
  pos = 0;
  readonly #text: Buffer;
  /** Member names met so far, by the hash `#memberName` computes. */
  readonly #names = new Map<number, string>();

  constructor(readonly buf: Uint8Array, private readonly rawKeys: ReadonlySet<string>, private readonly numbers: NumberMode) {
    this.#text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  skipSpace(): void {
    const { buf } = this;
    let p = this.pos;
    for (;;) {
      const c = buf[p];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      p += 1;
    }
    this.pos = p;
  }

  value(): unknown {
    const c = this.buf[this.pos];
    if (c === OPEN_BRACE) return this.#object();
    if (c === OPEN_BRACKET) return this.#array();
    if (c === QUOTE) return this.#string();
    return this.#literal();
  }

  #object(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.pos += 1;
    this.skipSpace();
    if (this.buf[this.pos] === CLOSE_BRACE) {
      this.pos += 1;
      return result;
    }
    for (;;) {
      if (this.buf[this.pos] !== QUOTE) throw new RawJsonError('expected a member name', this.pos);
      const key = this.#memberName();
      this.skipSpace();
      this.#expect(COLON, 'expected ":"');
      this.skipSpace();
      let member: unknown;
      if (this.rawKeys.has(key)) {
        const start = this.pos;
        this.#skipValue();
        member = new RawText(this.#text.subarray(start, this.pos));
      } else {
        member = this.value();
      }
      // As JSON.parse: a repeated key's last value wins, and `__proto__` is an own member, not the prototype.
      if (key === '__proto__') Object.defineProperty(result, key, { value: member, enumerable: true, writable: true, configurable: true });
      else result[key] = member;
      this.skipSpace();
      const c = this.buf[this.pos];
      this.pos += 1;
      if (c === CLOSE_BRACE) return result;
      if (c !== COMMA) throw new RawJsonError('expected "," or "}"', this.pos - 1);
      this.skipSpace();
    }
  }

  #array(): unknown[] {
    const result: unknown[] = [];
    this.pos += 1;
    this.skipSpace();
    if (this.buf[this.pos] === CLOSE_BRACKET) {
      this.pos += 1;
      return result;
    }
    for (;;) {
      result.push(this.value());
      this.skipSpace();
      const c = this.buf[this.pos];
      this.pos += 1;
      if (c === CLOSE_BRACKET) return result;
      if (c !== COMMA) throw new RawJsonError('expected "," or "]"', this.pos - 1);
      this.skipSpace();
    }
  }

  /**
   * A member name. A response repeats the same few names thousands of times (`_id`, `_seq_no`,
   * `_source` in every hit): a short plain one is looked up by a hash of its bytes and built once
   * per response, not once per hit (building them was a tenth of a read's parse, and its garbage).
   */
  #memberName(): string {
    const { buf } = this;
    const start = this.pos;
    const limit = Math.min(buf.length, start + SHORT_STRING);
    let hash = 0;
    for (let p = start + 1; p < limit; p += 1) {
      const c = buf[p]!;
      if (c === QUOTE) {
        const cached = this.#names.get(hash);
        if (cached !== undefined && sameAscii(cached, buf, start + 1, p)) {
          this.pos = p + 1;
          return cached;
        }
        const name = this.#string();
        this.#names.set(hash, name);
        return name;
      }
      // Escapes, control characters and UTF-8 take the general path.
      if (c === BACKSLASH || c < 0x20 || c >= 0x80) break;
      hash = (Math.imul(hash, 31) + c) | 0;
    }
    return this.#string();
  }

  /** A string value; escapes are decoded by JSON.parse, which also rejects bad ones. */
  #string(): string {
    const start = this.pos;
    const end = this.#stringEnd(start);
    this.pos = end + 1;
    let escaped = false;
    for (let p = start + 1; p < end; p += 1) {
      const c = this.buf[p]!;
      if (c === BACKSLASH) {
        escaped = true;
        break;
      }
      if (c < 0x20) throw new RawJsonError('control character in a string', p);
    }
    if (!escaped && end - start <= SHORT_STRING) {
      // Member names, ids, routings: short and mostly ASCII, cheaper built here than by a native call.
      const codes: number[] = [];
      let ascii = true;
      for (let p = start + 1; p < end && ascii; p += 1) {
        const c = this.buf[p]!;
        ascii = c < 0x80;
        codes.push(c);
      }
      if (ascii) return String.fromCharCode(...codes);
    }
    const text = this.#text.toString('utf8', escaped ? start : start + 1, escaped ? end + 1 : end);
    if (!escaped) return text;
    try {
      return JSON.parse(text) as string;
    } catch {
      throw new RawJsonError('bad escape in a string', start);
    }
  }

  /**
   * The position of the quote that closes the string opening at `start`. Member names and short
   * values end within a few bytes, read here; a long text is searched by `indexOf` (native, many
   * bytes at a time), which was most of skipping a document.
   */
  #stringEnd(start: number): number {
    const { buf } = this;
    let p = start + 1;
    const limit = Math.min(buf.length, p + SHORT_STRING);
    while (p < limit) {
      const d = buf[p]!;
      if (d === QUOTE) return p;
      // A backslash escapes the byte after it, whatever it is.
      p += d === BACKSLASH ? 2 : 1;
    }
    for (;;) {
      const q = this.#text.indexOf(QUOTE, p);
      if (q < 0) throw new RawJsonError('unterminated string', start);
      // The quote is escaped when an odd number of backslashes precedes it.
      let slashes = 0;
      while (this.buf[q - 1 - slashes] === BACKSLASH) slashes += 1;
      if (slashes % 2 === 0) return q;
      p = q + 1;
    }
  }

  /** true, false, null or a number, checked by JSON.parse. */
  #literal(): unknown {
    const start = this.pos;
    let p = start;
    for (;;) {
      const c = this.buf[p];
      if (c === undefined || c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) break;
      p += 1;
    }
    if (p === start) throw new RawJsonError('expected a value', start);
    this.pos = p;
    if (this.numbers !== 'double') return this.#exactLiteral(start, p);
    // Fast path for the common case, a small non-negative integer (seq_nos, terms, versions, counts).
    if (p - start <= 15 && (this.buf[start] !== 0x30 || p - start === 1)) {
      let n = 0;
      let digits = true;
      for (let q = start; q < p && digits; q += 1) {
        const c = this.buf[q]!;
        digits = c >= 0x30 && c <= 0x39;
        n = n * 10 + (c - 0x30);
      }
      if (digits) return n;
    }
    try {
      return JSON.parse(this.#text.toString('latin1', start, p));
    } catch {
      throw new RawJsonError('bad literal', start);
    }
  }

  #exactLiteral(start: number, end: number): unknown {
    const text = this.#text.toString('latin1', start, end);
    if (text === 'true') return true;
    if (text === 'false') return false;
    if (text === 'null') return null;
    const exact = exactNumberText(text);
    if (exact === undefined) throw new RawJsonError('bad literal', start);
    if (this.numbers === 'exact') return new JsonNumber(exact);
    const double = Number(text);
    // Kept as a double only when the double says exactly what the literal says.
    return Number.isFinite(double) && exactNumberText(String(double)) === exact ? double : new LosslessNumber(text);
  }

  /**
   * Moves past one value without building it. Objects and arrays are checked for balance and
   * their strings for termination: enough to find where the value ends. (The leader wrote it; the
   * follower parses it again and refuses anything malformed, item by item.) One loop over the
   * bytes, no calls: this runs over every byte of every document replicated.
   */
  #skipValue(): void {
    const first = this.buf[this.pos];
    if (first === QUOTE) {
      this.pos = this.#stringEnd(this.pos) + 1;
      return;
    }
    if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
      this.#literal();
      return;
    }
    const { buf } = this;
    const length = buf.length;
    // Open brackets as a bit stack (1 = brace), spilling into an array past 30 levels.
    const deeper: number[] = [];
    let stack = first === OPEN_BRACE ? 1 : 0;
    let depth = 1;
    let p = this.pos + 1;
    while (p < length) {
      const c = buf[p]!;
      p += 1;
      if (c === QUOTE) {
        p = this.#stringEnd(p - 1) + 1;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (depth % 30 === 0) {
          deeper.push(stack);
          stack = 0;
        }
        stack = stack * 2 + (c === OPEN_BRACE ? 1 : 0);
        depth += 1;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if ((stack % 2 === 1) !== (c === CLOSE_BRACE)) throw new RawJsonError('unbalanced brackets', p - 1);
        stack = Math.floor(stack / 2);
        depth -= 1;
        if (depth === 0) {
          this.pos = p;
          return;
        }
        if (depth % 30 === 0) stack = deeper.pop()!;
      }
    }
    throw new RawJsonError('unterminated value', this.pos);
  }

  #expect(byte: number, message: string): void {
    if (this.buf[this.pos] !== byte) throw new RawJsonError(message, this.pos);
    this.pos += 1;
  }
}
