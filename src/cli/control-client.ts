import { request } from 'node:http';
/** A thin HTTP client of the daemon's control API (the CLI's only way to reach the daemon). */

export class DaemonUnreachableError extends Error {
  constructor(url: string, cause: unknown) {
    const detail = (cause as { code?: string })?.code ?? (cause as Error)?.message;
    super(`cannot reach the ccr-follow daemon at ${url}${detail ? ` (${detail})` : ''}: is it running? Start it with \`ccr-follow daemon --config <file>\`.`);
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

/** Answers of the control API as the CLI sees them: status and raw body. */
export type HttpSend = (url: URL, method: string, body: string | undefined, headers?: Readonly<Record<string, string>>) => Promise<{ status: number; text: string }>;

/**
 * Plain node:http, not fetch: fetch refuses ports browsers block (6000, 10080, ...), which are
 * valid control ports for a daemon.
 */
export const httpSend: HttpSend = (url, method, body, extraHeaders = {}) =>
  new Promise((resolve, reject) => {
    const headers = { ...extraHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }) };
    const req = request(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });

export interface ControlClientOptions {
  /** Sent as `Authorization: Bearer <token>` (see cli-config.ts controlToken for where it comes from). */
  readonly token?: string;
  readonly send?: HttpSend;
}

/** What to do about a 401, added to the daemon's own reason: the daemon cannot know the CLI's settings. */
const TOKEN_HINT = 'set the daemon\'s token in $CCR_FOLLOW_CONTROL_TOKEN, or as daemon.control.token in the config file';

export class ControlClient {
  readonly #baseUrl: string;
  readonly #send: HttpSend;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #hasToken: boolean;

  constructor(baseUrl: string, options: ControlClientOptions = {}) {
    this.#baseUrl = baseUrl.replace(/\/$/, '');
    this.#send = options.send ?? httpSend;
    this.#hasToken = options.token !== undefined;
    this.#headers = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
  }

  get url(): string {
    return this.#baseUrl;
  }

  async request<T>(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let res: { status: number; text: string };
    try {
      res = await this.#send(new URL(`${this.#baseUrl}${path}`), method, body === undefined ? undefined : JSON.stringify(body), this.#headers);
    } catch (err) {
      throw new DaemonUnreachableError(this.#baseUrl, err);
    }
    const parsed = res.text === '' ? {} : (JSON.parse(res.text) as unknown);
    if (res.status >= 400) {
      const error = (parsed as { error?: { type?: string; reason?: string } }).error;
      let reason = error?.reason ?? `HTTP ${res.status}`;
      if (res.status === 401) reason += this.#hasToken ? ' (the token sent was refused: check $CCR_FOLLOW_CONTROL_TOKEN and daemon.control.token)' : ` (${TOKEN_HINT})`;
      throw new ControlApiError(error?.type ?? 'error', reason, res.status);
    }
    return parsed as T;
  }
}
