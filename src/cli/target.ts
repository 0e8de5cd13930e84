/** Parses the CLI's `alias/index` arguments. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Target {
  readonly cluster: string;
  readonly index: string;
}

export function parseTarget(text: string, what: string): Target {
  const slash = text.indexOf('/');
  const cluster = text.slice(0, slash);
  const index = text.slice(slash + 1);
  if (slash <= 0 || index === '' || index.includes('/')) {
    throw new UsageError(`${what} must be written <cluster-alias>/<index>, e.g. leader/orders; got "${text}"`);
  }
  return { cluster, index };
}

export function targetPath(t: Target): string {
  return `/${encodeURIComponent(t.cluster)}/${encodeURIComponent(t.index)}`;
}
