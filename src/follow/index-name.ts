/** Elasticsearch's index name rules, checked before any request so a bad name is a clear error. */
const FORBIDDEN_CHARS = ['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':'];

/** Returns why `name` is not a valid index name, or undefined when it is. */
export function invalidIndexNameReason(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name !== name.toLowerCase()) return 'must be lowercase';
  const bad = FORBIDDEN_CHARS.find((c) => name.includes(c));
  if (bad !== undefined) return `must not contain '${bad}'`;
  if (/^[-_+]/.test(name)) return "must not start with '-', '_' or '+'";
  if (name === '.' || name === '..') return "must not be '.' or '..'";
  if (Buffer.byteLength(name) > 255) return 'must be at most 255 bytes';
  return undefined;
}
