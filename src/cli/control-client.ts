/** A thin HTTP client of the daemon's control API (the CLI's only way to reach the daemon). */

export class DaemonUnreachableError extends Error {
  constructor(url: string, cause: unknown) {
    const code = (cause as { cause?: { code?: string } })?.cause?.code;
    super(`cannot reach the ccr-follow daemon at ${url}${code ? ` (${code})` : ''}: is it running? Start it with \`ccr-follow daemon --config <file>\`.`);
    this.name = 'DaemonUnreachableError';
  }
}

/** The daemon refused a request; carries its ES-style error type and HTTP status. */
export class ControlApiError extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, reason: string, status: number) {
    super(reason);
    this.name = 'ControlApiError';
    this.type = type;
    this.status = status;
  }
}

export class ControlClient {
  readonly #baseUrl: string;
  readonly #fetch: typeof fetch;

  constructor(baseUrl: string, fetchFn: typeof fetch = fetch) {
    this.#baseUrl = baseUrl.replace(/\/$/, '');
    this.#fetch = fetchFn;
  }

  get url(): string {
    return this.#baseUrl;
  }

  async request<T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await this.#fetch(`${this.#baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new DaemonUnreachableError(this.#baseUrl, err);
    }
    const text = await res.text();
    const parsed = text === '' ? {} : (JSON.parse(text) as T & { error?: { type?: string; reason?: string } });
    if (!res.ok) {
      const error = (parsed as { error?: { type?: string; reason?: string } }).error;
      throw new ControlApiError(error?.type ?? 'error', error?.reason ?? `HTTP ${res.status}`, res.status);
    }
    return parsed as T;
  }
}
