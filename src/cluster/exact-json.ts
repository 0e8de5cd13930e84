/**
 * Document sources compared by what they say, not how they are spelled: object key order does not
 * count, strings are compared by their decoded text, and numbers by their exact value — `1.50`
 * equals `1.5` and `1.5e0`, but `9007199254740993` never equals `9007199254740992`, as it would
 * after JSON.parse (every integer above 2^53 is rounded to a double).
 */
import { JsonNumber, parseExactNumbers } from './raw-json.js';

/** One text per meaning: equal for two JSON texts exactly when they hold the same document. */
export function exactCanonical(json: string): string {
  return write(parseExactNumbers(json));
}

function write(value: unknown): string {
  if (value instanceof JsonNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(write).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = value as Record<string, unknown>;
    return `{${Object.keys(members).sort().map((k) => `${JSON.stringify(k)}:${write(members[k])}`).join(',')}}`;
  }
  // Strings, booleans and null: JSON.stringify spells each one way only.
  return JSON.stringify(value);
}
