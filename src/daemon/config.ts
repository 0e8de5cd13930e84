/**
 * Reads `ccr-follow.yml` into a `DaemonConfig`, checking everything up front: a typo or a bad value
 * stops the daemon at start with a `ConfigError` naming the file, line, YAML path, rule and value,
 * rather than surfacing hours later as a refused connection. Unknown keys are errors for the same
 * reason: a misspelt `pasword` must not silently mean "no password".
 *
 * `${VAR}` and `${VAR:-default}` in any string value come from the `env` passed in (never read from
 * `process.env` here, so tests and the CLI decide); `$${` is a literal `${`. Every password, API key,
 * bearer token and the control API's token is added to the `SecretRegistry`, so the logger can
 * remove them wherever they reappear. Relative paths (state dir, log file, TLS files) are relative to
 * the config file's folder.
 */
import { readFile } from 'node:fs/promises';
import nodePath from 'node:path';
import { createSecureContext } from 'node:tls';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { type ClusterAuth, type ClusterConfig, type ClusterTls, stripUserInfo } from '../cluster/cluster-config.js';
import { isLogLevel, LOG_LEVELS, type LogLevel } from '../util/logger.js';
import { SecretRegistry } from '../util/secrets.js';
import { parseDuration } from '../util/units.js';
import { ConfigError } from './config-error.js';
import { CONTROL_TOKEN_PATTERN, CONTROL_TOKEN_RULE } from './control-auth.js';
import type { LogFormat } from './logger.js';

export interface DaemonConfig {
  readonly clusters: ReadonlyMap<string, ClusterConfig>;
  /** The local state directory: the embedded default, and what `state migrate` moves from or to. */
  readonly stateDir: string;
  /** When set, the daemon keeps its state in this index of this cluster instead of `stateDir`. */
  readonly stateCluster?: { readonly alias: string; readonly index: string };
  /**
   * With `stateCluster`: how long a daemon holds the lease of a follower index (or pattern)
   * without renewing it (renewed every third of it). A dead daemon's followers run elsewhere after this.
   */
  readonly leaseTimeoutMs: number;
  /**
   * The control API. `token`, when set, is required of every request as `Authorization: Bearer`;
   * without one the daemon refuses to listen on a non-loopback host (control-auth.ts).
   */
  readonly control: { readonly host: string; readonly port: number; readonly token?: string };
  readonly log: { readonly level: LogLevel; readonly file?: string; readonly format: LogFormat };
  /** Absolute path of the file this came from, when it came from a file. */
  readonly sourcePath?: string;
}

export interface ParseOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Folder that relative paths are resolved against (the config file's folder). */
  readonly baseDir: string;
  /** Shown at the start of error messages, e.g. the config file name. */
  readonly sourceName?: string;
  /**
   * For CLI commands that only talk to the daemon: an unset `${VAR}` outside `daemon:` becomes a
   * placeholder instead of an error, so `ccr-follow stats` does not need the clusters' secrets.
   */
  readonly lenientEnv?: boolean;
}

/** Cluster aliases; exported for the control API, which checks the aliases in its paths the same way. */
export const ALIAS_PATTERN = /^[a-zA-Z0-9_-]+$/;
const DEFAULT_STATE_DIR = '.ccr-follow';
/** Hidden (a leading dot), like the system indices of Elasticsearch's own features. */
export const DEFAULT_STATE_INDEX = '.ccr-follow-state';
const STATE_INDEX_PATTERN = /^\.?[a-z0-9][a-z0-9_.-]*$/;
// Loopback by default: the control API can start and stop replication, so it is not exposed
// beyond this machine unless the user asks for it.
const DEFAULT_CONTROL_HOST = '127.0.0.1';
const DEFAULT_CONTROL_PORT = 9809;
const DEFAULT_REQUEST_TIMEOUT = '30s';
export const DEFAULT_LEASE_TIMEOUT_MS = 30_000;
/** Below this a renewal (a third) would not outlast a slow answer; above, a dead daemon's work waits too long. */
const LEASE_TIMEOUT_RANGE_MS = { min: 3_000, max: 600_000 } as const;
/** Longer than any path a config would hold (PATH_MAX is 4096, but file names are short). */
const MAX_PATH_LENGTH = 1024;
const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/** The configuration with nothing set: no clusters (the quickstart adds local ones). */
export function defaultConfig(baseDir: string): DaemonConfig {
  return {
    clusters: new Map(),
    stateDir: nodePath.resolve(baseDir, DEFAULT_STATE_DIR),
    leaseTimeoutMs: DEFAULT_LEASE_TIMEOUT_MS,
    control: { host: DEFAULT_CONTROL_HOST, port: DEFAULT_CONTROL_PORT },
    log: { level: 'info', format: 'text' },
  };
}

export async function loadConfig(file: string, env: NodeJS.ProcessEnv, secrets = new SecretRegistry(), options: { lenientEnv?: boolean } = {}): Promise<DaemonConfig> {
  const sourcePath = nodePath.resolve(file);
  let text: string;
  try {
    text = await readFile(sourcePath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const rule = code === 'ENOENT'
      ? `config file ${file} not found${file === sourcePath ? '' : ` (looked for ${sourcePath})`}`
      : `cannot read config file ${sourcePath}: ${code ?? (err as Error).message}`;
    throw new ConfigError({ path: '', rule, cause: err });
  }
  const config = await parseConfig(text, { env, baseDir: nodePath.dirname(sourcePath), sourceName: file, lenientEnv: options.lenientEnv }, secrets);
  return { ...config, sourcePath };
}

export async function parseConfig(yamlText: string, options: ParseOptions, secrets = new SecretRegistry()): Promise<DaemonConfig> {
  const lineCounter = new LineCounter();
  // prettyErrors off: the pretty form quotes the offending source line, which may hold a password.
  const doc = parseDocument(yamlText, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntaxError = doc.errors[0];
  if (syntaxError) {
    const { line, col } = lineCounter.linePos(syntaxError.pos[0]);
    throw new ConfigError({ path: '', rule: `malformed YAML: ${syntaxError.message}`, source: options.sourceName, line, column: col });
  }
  const reader = new ConfigReader(doc, lineCounter, options, secrets);
  let tree: unknown;
  try {
    tree = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    reader.fail([], `malformed YAML: ${(err as Error).message}`);
  }
  return reader.read(reader.interpolate(tree, []));
}

type Path = readonly (string | number)[];
type Mapping = Record<string, unknown>;

/** `['clusters', 'leader', 'urls', 1]` → `clusters.leader.urls[1]`. */
function renderPath(path: Path): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

/** Absent or an empty YAML value (`key:` with nothing after it): the default applies. */
function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

/** One pass over one document; `fail` knows the document, so every error carries a line. */
class ConfigReader {
  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
    private readonly options: ParseOptions,
    private readonly secrets: SecretRegistry,
  ) {}

  async read(tree: unknown): Promise<DaemonConfig> {
    const root = isAbsent(tree) ? {} : this.mapping(tree, [], ['clusters', 'daemon']);
    const clusters = new Map<string, ClusterConfig>();
    const section = isAbsent(root.clusters) ? {} : this.mapping(root.clusters, ['clusters']);
    for (const [alias, value] of Object.entries(section)) {
      if (!ALIAS_PATTERN.test(alias)) this.fail(['clusters', alias], `cluster alias must match ${ALIAS_PATTERN.source}`, alias);
      clusters.set(alias, await this.cluster(alias, value, ['clusters', alias]));
    }

    const defaults = defaultConfig(this.options.baseDir);
    const daemon = isAbsent(root.daemon) ? {} : this.mapping(root.daemon, ['daemon'], ['state_dir', 'state', 'lease_timeout', 'control', 'log']);
    const stateCluster = isAbsent(daemon.state) ? undefined : this.stateCluster(daemon.state, clusters);
    const control = isAbsent(daemon.control) ? {} : this.mapping(daemon.control, ['daemon', 'control'], ['host', 'port', 'token']);
    const controlToken = isAbsent(control.token) ? undefined : this.controlToken(control.token, ['daemon', 'control', 'token']);
    const log = isAbsent(daemon.log) ? {} : this.mapping(daemon.log, ['daemon', 'log'], ['level', 'file', 'format']);
    const logFile = isAbsent(log.file) ? undefined : this.filePath(log.file, ['daemon', 'log', 'file']);
    return {
      clusters,
      stateDir: isAbsent(daemon.state_dir) ? defaults.stateDir : this.filePath(daemon.state_dir, ['daemon', 'state_dir']),
      ...(stateCluster ? { stateCluster } : {}),
      leaseTimeoutMs: isAbsent(daemon.lease_timeout) ? defaults.leaseTimeoutMs : this.leaseTimeout(daemon.lease_timeout),
      control: {
        host: isAbsent(control.host) ? defaults.control.host : this.string(control.host, ['daemon', 'control', 'host']),
        port: isAbsent(control.port) ? defaults.control.port : this.port(control.port, ['daemon', 'control', 'port']),
        ...(controlToken !== undefined ? { token: controlToken } : {}),
      },
      log: {
        level: isAbsent(log.level) ? defaults.log.level : this.oneOf(log.level, ['daemon', 'log', 'level'], LOG_LEVELS, isLogLevel),
        format: isAbsent(log.format) ? defaults.log.format : this.oneOf(log.format, ['daemon', 'log', 'format'], LOG_FORMATS,
          (v): v is LogFormat => (LOG_FORMATS as readonly unknown[]).includes(v)),
        ...(logFile !== undefined ? { file: logFile } : {}),
      },
    };
  }

  private stateCluster(value: unknown, clusters: ReadonlyMap<string, ClusterConfig>): { alias: string; index: string } {
    const path: Path = ['daemon', 'state'];
    const spec = this.mapping(value, path, ['cluster', 'index']);
    if (isAbsent(spec.cluster)) this.fail(path, 'expected cluster (the alias of the cluster that keeps the state)');
    const alias = this.string(spec.cluster, [...path, 'cluster']);
    if (!clusters.has(alias)) this.fail([...path, 'cluster'], `no such cluster alias; configured: ${[...clusters.keys()].join(', ') || 'none'}`, alias);
    const index = isAbsent(spec.index) ? DEFAULT_STATE_INDEX : this.string(spec.index, [...path, 'index']);
    if (!STATE_INDEX_PATTERN.test(index) || index.length > 255) this.fail([...path, 'index'], 'expected a lower-case index name', index);
    return { alias, index };
  }

  private async cluster(alias: string, value: unknown, path: Path): Promise<ClusterConfig> {
    const spec = this.mapping(value, path, ['url', 'urls', 'auth', 'tls', 'request_timeout']);
    if (!isAbsent(spec.url) && !isAbsent(spec.urls)) this.fail(path, 'set either url or urls, not both');
    let urls: string[];
    if (!isAbsent(spec.url)) {
      urls = [this.url(spec.url, [...path, 'url'])];
    } else if (!isAbsent(spec.urls)) {
      if (!Array.isArray(spec.urls) || spec.urls.length === 0) this.fail([...path, 'urls'], 'expected a non-empty list of URLs', spec.urls);
      urls = spec.urls.map((item, i) => this.url(item, [...path, 'urls', i]));
    } else {
      this.fail(path, 'expected url or urls (where the cluster listens)');
    }
    const timeoutPath = [...path, 'request_timeout'];
    const requestTimeoutMs = this.duration(isAbsent(spec.request_timeout) ? DEFAULT_REQUEST_TIMEOUT : spec.request_timeout, timeoutPath);
    if (requestTimeoutMs <= 0) this.fail(timeoutPath, 'expected a duration above zero', spec.request_timeout);
    const tls = await this.tls(spec.tls, [...path, 'tls']);
    // TLS settings on an http:// URL would be ignored silently, and credentials sent in clear.
    const plain = urls.findIndex((url) => new URL(url).protocol === 'http:');
    if (tls && plain >= 0) {
      const urlPath = isAbsent(spec.url) ? [...path, 'urls', plain] : [...path, 'url'];
      this.fail(urlPath, `tls is set but this URL is http://; TLS applies to https:// URLs only`, stripUserInfo(urls[plain]!));
    }
    return { alias, urls, auth: this.auth(spec.auth, [...path, 'auth']), requestTimeoutMs, ...(tls ? { tls } : {}) };
  }

  private url(value: unknown, path: Path): string {
    const text = this.string(value, path);
    let parsed: URL | undefined;
    try {
      parsed = new URL(text);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      this.fail(path, 'expected an http(s) URL', parsed ? stripUserInfo(text) : text.replace(/\/\/[^\s/?#@]*@/, '//'));
    }
    // Credentials in a URL would bypass the auth rules and end up in every log line that names it.
    if (parsed.username !== '' || parsed.password !== '') {
      this.fail(path, 'expected a URL without user:password@ (put credentials under auth)', stripUserInfo(text));
    }
    return text;
  }

  private auth(value: unknown, path: Path): ClusterAuth {
    if (isAbsent(value)) return { type: 'none' };
    const spec = this.mapping(value, path, ['username', 'password', 'api_key', 'bearer']);
    const kinds = [
      ...('username' in spec || 'password' in spec ? ['username/password'] : []),
      ...('api_key' in spec ? ['api_key'] : []),
      ...('bearer' in spec ? ['bearer'] : []),
    ];
    if (kinds.length !== 1) {
      this.fail(path, `expected exactly one of username/password, api_key or bearer, got ${kinds.length === 0 ? 'none' : kinds.join(' and ')}`);
    }
    if ('api_key' in spec) return { type: 'api_key', apiKey: this.secret(spec.api_key, [...path, 'api_key']) };
    if ('bearer' in spec) return { type: 'bearer', token: this.secret(spec.bearer, [...path, 'bearer']) };
    if (!('username' in spec)) this.fail([...path, 'username'], 'password requires a username');
    if (!('password' in spec)) this.fail([...path, 'password'], 'username requires a password');
    const username = this.string(spec.username, [...path, 'username']);
    const password = this.secret(spec.password, [...path, 'password']);
    // What actually travels in the Authorization header, in case a request line gets logged.
    this.secrets.add(Buffer.from(`${username}:${password}`).toString('base64'));
    return { type: 'basic', username, password };
  }

  /**
   * `tls:` — what to trust (`ca` or `fingerprint`), who we are (`cert` + `key`, for mutual TLS) and
   * `verify`. Files are read now, and a certificate and key that do not belong together fail here
   * rather than at the first handshake. The key and its passphrase are secrets.
   */
  private async tls(value: unknown, path: Path): Promise<ClusterTls | undefined> {
    if (isAbsent(value)) return undefined;
    const spec = this.mapping(value, path, ['ca', 'fingerprint', 'cert', 'key', 'key_passphrase', 'verify']);
    const rejectUnauthorized = isAbsent(spec.verify) ? true : this.boolean(spec.verify, [...path, 'verify']);
    const ca = isAbsent(spec.ca) ? undefined : await this.pem(spec.ca, [...path, 'ca'], 'CA');
    const caFingerprint = isAbsent(spec.fingerprint) ? undefined : this.fingerprint(spec.fingerprint, [...path, 'fingerprint']);
    if (ca !== undefined && caFingerprint !== undefined) this.fail([...path, 'fingerprint'], 'set either ca or fingerprint, not both');
    if (caFingerprint !== undefined && !rejectUnauthorized) {
      this.fail([...path, 'verify'], 'verify: false would skip the fingerprint check too; remove one of them');
    }
    if (isAbsent(spec.cert) !== isAbsent(spec.key)) {
      this.fail([...path, isAbsent(spec.cert) ? 'cert' : 'key'], 'tls.cert and tls.key go together (a client certificate and its private key)');
    }
    if (!isAbsent(spec.key_passphrase) && isAbsent(spec.key)) this.fail([...path, 'key_passphrase'], 'key_passphrase requires tls.key');
    const keyPassphrase = isAbsent(spec.key_passphrase) ? undefined : this.secret(spec.key_passphrase, [...path, 'key_passphrase']);
    const cert = isAbsent(spec.cert) ? undefined : await this.pem(spec.cert, [...path, 'cert'], 'certificate');
    const key = isAbsent(spec.key) ? undefined : await this.pem(spec.key, [...path, 'key'], 'private key');
    if (cert !== undefined && key !== undefined) this.clientCertificate(cert, key, keyPassphrase, path);
    return {
      rejectUnauthorized,
      ...(ca !== undefined ? { ca } : {}),
      ...(caFingerprint !== undefined ? { caFingerprint } : {}),
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {}),
      ...(keyPassphrase !== undefined ? { keyPassphrase } : {}),
    };
  }

  /**
   * A SHA-256 fingerprint as Elasticsearch prints it (hex, with or without colons, any case),
   * kept as 64 lowercase hex digits. A SHA-1 one (40 digits) is refused by name: it is the other
   * fingerprint `openssl x509 -fingerprint` prints by default.
   */
  private fingerprint(value: unknown, path: Path): string {
    const text = this.string(value, path);
    const hex = text.replace(/:/g, '').toLowerCase();
    if (/^[0-9a-f]{40}$/.test(hex)) this.fail(path, 'expected a SHA-256 fingerprint (64 hex digits), got a SHA-1 one: use openssl x509 -fingerprint -sha256', text);
    if (!/^[0-9a-f]{64}$/.test(hex)) this.fail(path, 'expected a SHA-256 fingerprint: 64 hex digits, colons allowed', text);
    return hex;
  }

  /** Node checks that the key opens and matches the certificate when it builds a TLS context. */
  private clientCertificate(cert: string, key: string, passphrase: string | undefined, path: Path): void {
    try {
      createSecureContext({ cert, key, ...(passphrase !== undefined ? { passphrase } : {}) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const rule = code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' ? 'tls.key is not the private key of tls.cert'
        : code === 'ERR_OSSL_BAD_DECRYPT' || code === 'ERR_OSSL_EVP_BAD_DECRYPT'
          ? (passphrase === undefined ? 'tls.key is encrypted: set tls.key_passphrase' : 'tls.key_passphrase does not open tls.key')
          : `tls.cert and tls.key cannot be used together (${code ?? 'invalid'})`;
      this.fail([...path, 'key'], rule);
    }
  }

  /**
   * A PEM file path, or the PEM text itself (say from `${VAR}`). Read now, so a wrong path fails
   * at start. A private key given inline is a secret: registered for redaction. Its path is not,
   * but a value that cannot be a path (a line break, or longer than a path gets) is never quoted:
   * it is more likely a key pasted without its PEM header.
   */
  private async pem(value: unknown, path: Path, what: 'CA' | 'certificate' | 'private key'): Promise<string> {
    const text = this.string(value, path);
    const isKey = what === 'private key';
    const marker = isKey ? /-----BEGIN [A-Z ]*PRIVATE KEY-----/ : /-----BEGIN CERTIFICATE-----/;
    let pem: string;
    let where = 'the value';
    if (text.startsWith('-----BEGIN')) {
      pem = text;
    } else if (isKey && (/[\r\n]/.test(text) || text.length > MAX_PATH_LENGTH)) {
      this.fail(path, 'expected a PEM private key (-----BEGIN ... PRIVATE KEY-----) or the path of a file holding one');
    } else {
      const file = this.filePath(text, path);
      where = file;
      try {
        pem = await readFile(file, 'utf8');
      } catch (err) {
        this.fail(path, `cannot read ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    if (isKey) this.secrets.add(pem);
    if (!marker.test(pem)) this.fail(path, `expected a PEM ${what} in ${where}`);
    return pem;
  }

  /** Replaces `${VAR}` / `${VAR:-default}` in every string of the tree; `$${` stays a literal `${`. */
  interpolate(value: unknown, path: Path): unknown {
    if (typeof value === 'string') return this.interpolateString(value, path);
    if (Array.isArray(value)) return value.map((item, i) => this.interpolate(item, [...path, i]));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.interpolate(item, [...path, key])]));
    }
    return value;
  }

  private interpolateString(text: string, path: Path): string {
    return text.replace(/\$\$\{|\$\{([^}]*)\}|\$\{/g, (match, body: string | undefined) => {
      if (match === '$${') return '${';
      if (body === undefined) this.fail(path, 'unterminated ${ (write $${ for a literal ${)');
      const reference = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s.exec(body);
      if (!reference) this.fail(path, `invalid reference \${${body}}: expected \${NAME} or \${NAME:-default}`);
      const [, name = '', fallback] = reference;
      const value = this.options.env[name];
      // As in the shell, `:-` also replaces a variable that is set but empty.
      if (value !== undefined && (value !== '' || fallback === undefined)) return value;
      if (fallback !== undefined) return fallback;
      if (this.options.lenientEnv && path[0] !== 'daemon') return `unset-${name}`;
      return this.fail(path, `environment variable ${name} is not set (use \${${name}:-default} for a default)`);
    });
  }

  /** A mapping; with `allowed`, any other key is an error naming it. */
  private mapping(value: unknown, path: Path, allowed?: readonly string[]): Mapping {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(path, 'expected a mapping', value);
    const spec = value as Mapping;
    for (const key of Object.keys(spec)) {
      if (allowed && !allowed.includes(key)) this.fail([...path, key], `unknown key (expected one of: ${allowed.join(', ')})`);
    }
    return spec;
  }

  private string(value: unknown, path: Path): string {
    if (typeof value !== 'string' || value.trim() === '') this.fail(path, 'expected a non-empty string', value);
    return value.trim();
  }

  /** Kept exactly as written and registered for redaction; never shown in errors. */
  private secret(value: unknown, path: Path): string {
    // A number would lose leading zeros in YAML (`0123` → 123): make the user quote it instead.
    if (typeof value !== 'string' || value === '') {
      this.fail(path, 'expected a non-empty string (quote values that look like numbers)', value, typeof value === 'string' || typeof value === 'number');
    }
    this.secrets.add(value);
    return value;
  }

  /** A secret that also travels in an HTTP header: printable ASCII, and long enough not to be guessed. */
  private controlToken(value: unknown, path: Path): string {
    const token = this.secret(value, path);
    if (!CONTROL_TOKEN_PATTERN.test(token)) this.fail(path, CONTROL_TOKEN_RULE, token, true);
    return token;
  }

  private filePath(value: unknown, path: Path): string {
    return nodePath.resolve(this.options.baseDir, this.string(value, path));
  }

  private boolean(value: unknown, path: Path): boolean {
    // Strings too, because `${VAR}` always yields one.
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    return this.fail(path, 'expected true or false', value);
  }

  private port(value: unknown, path: Path): number {
    const port = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
      this.fail(path, 'expected a port number from 0 to 65535', value);
    }
    return port;
  }

  private leaseTimeout(value: unknown): number {
    const path: Path = ['daemon', 'lease_timeout'];
    const ms = this.duration(value, path);
    const { min, max } = LEASE_TIMEOUT_RANGE_MS;
    if (ms < min || ms > max) this.fail(path, `expected a duration from ${min / 1000}s to ${max / 60_000}m`, value);
    return ms;
  }

  private duration(value: unknown, path: Path): number {
    try {
      return parseDuration(value as string | number);
    } catch {
      return this.fail(path, 'expected a duration such as 500ms, 30s, 1m or 2h', value);
    }
  }

  private oneOf<T extends string>(value: unknown, path: Path, choices: readonly T[], is: (v: unknown) => v is T): T {
    if (!is(value)) this.fail(path, `expected one of ${choices.join(', ')}`, value);
    return value;
  }

  /** Throws a `ConfigError` placed at the YAML node for `path` (or its nearest existing parent). */
  fail(path: Path, rule: string, ...received: [] | [value: unknown, secret?: boolean]): never {
    const [value, secret = false] = received;
    const at = this.locate(path);
    throw new ConfigError({
      path: renderPath(path),
      rule: this.secrets.redact(rule),
      ...(received.length > 0 ? { received: typeof value === 'string' ? this.secrets.redact(value) : value, secret } : {}),
      source: this.options.sourceName,
      ...(at ?? {}),
    });
  }

  private locate(path: Path): { line: number; column: number } | undefined {
    for (let depth = path.length; depth > 0; depth--) {
      const node: unknown = this.doc.getIn(path.slice(0, depth), true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range) {
        const { line, col } = this.lineCounter.linePos(range[0]);
        return { line, column: col };
      }
    }
    return undefined;
  }
}
