/**
 * The secret strings this process knows about (passwords, API keys, tokens from the config), so
 * that anything about to be written out (logs, error messages) can have them removed whatever
 * key or sentence they hide in. Key-name redaction alone misses a password echoed inside an error
 * message or a URL; this catches those.
 */

/** What every hidden value is replaced with, in logs and in error messages alike. */
export const REDACTED = '<redacted>';

/**
 * Shorter strings are ignored: replacing every "abc" in the logs would wreck them, and a secret
 * that short is not protected by redaction anyway.
 */
const MIN_SECRET_LENGTH = 4;

export class SecretRegistry {
  #secrets = new Set<string>();
  /** Longest first, so a secret that contains another is replaced whole. Rebuilt on `add`. */
  #ordered: string[] = [];

  add(secret: string | undefined | null): void {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) return;
    const forms = [secret, encodeURIComponent(secret)]; // a secret may reappear inside a URL
    let changed = false;
    for (const form of forms) {
      if (!this.#secrets.has(form)) {
        this.#secrets.add(form);
        changed = true;
      }
    }
    if (changed) this.#ordered = [...this.#secrets].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.#secrets.size;
  }

  /** `text` with every occurrence of every registered secret replaced by `<redacted>`. */
  redact(text: string): string {
    let result = text;
    for (const secret of this.#ordered) {
      // split/join rather than a RegExp: secrets may contain any character.
      if (result.includes(secret)) result = result.split(secret).join(REDACTED);
    }
    return result;
  }
}
