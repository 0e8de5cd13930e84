/**
 * Bad input at scale. A real `ccr-follow daemon` process with a control token,
 * real Elasticsearch clusters, one real follower and one auto-follow pattern, so there is state to
 * damage. Then a few thousand generated malformed requests (seeded: CCR_TEST_SEED replays a run) —
 * bad JSON, wrong types, huge bodies, unknown parameters, invalid names, path tricks such as `..`
 * and `%2F`, wrong Content-Types, query parameters, missing and wrong tokens, wrong methods — sent
 * with raw node:http (fetch would normalise the paths), each of which must get a 4xx: never a 5xx,
 * never a reset without an answer, never a hang. Afterwards the daemon still runs, and its state
 * directory and its API's views are as they were, byte for byte, and its log holds no token.
 *
 * Also here, against the same daemon: the CLI with and without the token, the refusal to listen on
 * a non-loopback address without one, and the status page authenticating in a browser.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { chromium } from 'playwright-core';
import { ExitCodes } from '../../src/cli/exit-codes.js';
import type { ClusterClient } from '../../src/cluster/cluster-client.js';
import { resolveIndices } from '../../src/cluster/index-discovery.js';
import { findFreePorts } from '../../src/local-cluster/index.js';
import { CONTROL_BODY_LIMIT } from '../../src/daemon/control-server.js';
import { runCli } from '../helpers/cli-process.js';
import { testClusters, uniqueName } from '../helpers/clusters.js';
import { DaemonProcess, stopAllDaemonProcesses, waitForDaemonCaughtUp } from '../helpers/daemon-process.js';
import { mulberry32, randomInt, shuffle } from '../helpers/prng.js';
import { connect, createLeaderIndex } from '../helpers/replication.js';
import { waitFor } from '../helpers/wait-for.js';

const REQUESTS = 3_000;
const CONCURRENCY = 8;
/** A request not answered by then counts as a hang. */
const REQUEST_TIMEOUT_MS = 10_000;
const SEED = Number(process.env['CCR_TEST_SEED'] ?? 20_261_010);
const CHROMIUM = '/usr/bin/chromium';
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

/**
 * Fields of `GET /_ccr/stats` that move on an idle, caught-up follower whatever the API is sent:
 * clocks, and the counters of what runs on timers — the long-poll reads (one completes every
 * read_poll_timeout, 1 min), the reconciliations of an unchanged leader (every 30 s) and the
 * requests the shared probes send each tick (leader_requests). In a
 * 12 s run only the two clocks moved; the counters are listed because a slower run can cross a
 * timer. Everything else (status, checkpoints, operations written, errors, the auto-follow
 * counters) must stay byte-for-byte the same.
 */
const VOLATILE_STATS_FIELDS = new Set([
  'time_since_last_read_millis', 'time_since_last_check_millis',
  'successful_read_requests', 'total_read_time_millis', 'outstanding_read_requests',
  'last_reconciliation', 'reconciliations', 'reconciliation_id_scans',
  // Requests sent to the leader by purpose: the shared probes send some every tick, idle or not.
  'leader_requests',
]);

interface SentRequest {
  readonly category: Category;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
  /** Sent with Transfer-Encoding: chunked, in pieces, without a Content-Length. */
  readonly chunked?: boolean;
}

type Outcome = { status: number; body: string } | { error: string };

const CATEGORIES = [
  'no-token', 'wrong-token', 'bad-json', 'wrong-types', 'unknown-parameters', 'invalid-names', 'path-tricks',
  'huge-body', 'content-type', 'query-parameters', 'wrong-method',
] as const;
type Category = (typeof CATEGORIES)[number];

/** What each kind of malformed request must get; every one of them must be a 4xx in any case. */
const EXPECTED: Readonly<Record<Category, readonly number[]>> = {
  'no-token': [401],
  'wrong-token': [401],
  'bad-json': [400],
  'wrong-types': [400],
  'unknown-parameters': [400],
  'invalid-names': [400],
  'path-tricks': [400, 404, 405],
  'huge-body': [413],
  'content-type': [415],
  'query-parameters': [400],
  'wrong-method': [400, 404, 405],
};

/** Sends one request exactly as given (path unnormalised) and resolves with the answer or what went wrong instead. */
function send(port: number, req: SentRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const headers = { ...req.headers, ...(req.body !== undefined && !req.chunked ? { 'content-length': String(req.body.length) } : {}) };
    /** Set once the answer's head arrived: from then on the client stops sending. */
    let answered = false;
    const http = request({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      const done = (): void => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', done);
      // The daemon may close the connection once it has answered (a refused chunked body): what
      // arrived counts, and the check of the error body says whether it was whole.
      res.on('error', done);
      res.on('close', done);
    });
    const timer = setTimeout(() => {
      http.destroy();
      finish({ error: `no answer within ${REQUEST_TIMEOUT_MS} ms` });
    }, REQUEST_TIMEOUT_MS);
    // A write that fails after the answer came (the daemon closed on a body it refused) is the
    // response's business; before it, there is no answer at all.
    http.on('error', (err: NodeJS.ErrnoException) => {
      if (!answered) finish({ error: err.code ?? err.message });
    });
    // Node delivers the answer to a CONNECT here, with the socket, rather than as a response.
    http.on('connect', (res, socket, head) => {
      const chunks: Buffer[] = [head];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('close', () => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      socket.on('error', () => undefined); // the close that follows reports the answer
    });
    if (req.body === undefined) {
      http.end();
    } else if (!req.chunked) {
      http.end(req.body);
    } else {
      // In pieces, stopping as soon as the daemon answers (it refuses a body over the limit early).
      let offset = 0;
      const step = 16 * 1024;
      const writeMore = (): void => {
        while (offset < req.body!.length && !answered && !settled) {
          const piece = req.body!.subarray(offset, offset + step);
          offset += step;
          if (!http.write(piece)) {
            http.once('drain', writeMore);
            return;
          }
        }
        if (!answered && !settled) http.end();
      };
      writeMore();
    }
  });
}

/**
 * The generator of malformed requests. Every request it makes is wrong in at least one way that
 * the control API must refuse before acting: authenticated requests aimed at the real follower or
 * pattern are always broken in their body, path, headers or method, and well-formed ones always
 * lack the right token.
 */
class BadRequests {
  readonly #random: () => number;

  constructor(
    seed: number,
    private readonly token: string,
    private readonly names: { leaderIndex: string; followerIndex: string; pattern: string },
    /** Every wrong token sent that is long enough to be recognised in a log. */
    readonly wrongTokens: Set<string>,
    /** In every index and pattern name the requests make up, so a run's leftovers can be found. */
    private readonly runTag: string,
  ) {
    this.#random = mulberry32(seed);
  }

  #made = 0;

  /** A new valid name, `<prefix>-<runTag>-<n>`: none of them may exist after the run. */
  #fresh(prefix: string): string {
    this.#made += 1;
    return `${prefix}-${this.runTag}-${this.#made}`;
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!;
  }

  #int(min: number, max: number): number {
    return randomInt(this.#random, min, max);
  }

  #hex(bytes: number): string {
    return Array.from({ length: bytes }, () => this.#int(0, 255).toString(16).padStart(2, '0')).join('');
  }

  get #auth(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  #json(body: unknown, extra: Record<string, string> = {}): Pick<SentRequest, 'headers' | 'body'> {
    return { headers: { ...this.#auth, 'content-type': 'application/json', ...extra }, body: Buffer.from(JSON.stringify(body)) };
  }

  /** A well-formed request of any route, including those that would change state. */
  #wellFormed(): Omit<SentRequest, 'category' | 'headers'> & { contentType?: string } {
    const { leaderIndex, followerIndex, pattern } = this.names;
    const json = (body: unknown): { body: Buffer; contentType: string } => ({ body: Buffer.from(JSON.stringify(body)), contentType: 'application/json' });
    return this.#pick([
      { method: 'POST', path: `/follower/${followerIndex}/_ccr/pause_follow` },
      { method: 'POST', path: `/follower/${followerIndex}/_ccr/unfollow` },
      { method: 'POST', path: `/follower/${followerIndex}/_ccr/resume_follow`, ...json({ max_retry_delay: '1s' }) },
      { method: 'PUT', path: `/follower/${this.#fresh('stolen')}/_ccr/follow`, ...json({ remote_cluster: 'leader', leader_index: leaderIndex }) },
      { method: 'PUT', path: `/_ccr/auto_follow/${pattern}`, ...json({ remote_cluster: 'leader', leader_index_patterns: [`${pattern}-*`] }) },
      { method: 'PUT', path: `/_ccr/auto_follow/${this.#fresh('stolen')}`, ...json({ remote_cluster: 'leader', leader_index_patterns: [`${pattern}-*`] }) },
      { method: 'DELETE', path: `/_ccr/auto_follow/${pattern}` },
      { method: 'POST', path: `/_ccr/auto_follow/${pattern}/pause` },
      { method: 'GET', path: '/_ccr/stats' },
      { method: 'GET', path: '/_ccr/info' },
      { method: 'GET', path: `/follower/${followerIndex}/_ccr/stats` },
      { method: 'GET', path: '/metrics' },
      { method: 'GET', path: '/' },
      { method: 'GET', path: '/no/such/route' },
    ]);
  }

  /** A token that is not the right one, in a header that may or may not be well-formed. */
  #wrongAuthorization(): Record<string, string> {
    const t = this.token;
    const flipped = `${t.slice(0, -1)}${t.endsWith('0') ? '1' : '0'}`;
    const random = this.#hex(this.#int(8, 40));
    const choice = this.#pick([
      `Bearer ${random}`, `Bearer ${flipped}`, `Bearer ${t.slice(0, this.#int(1, t.length - 1))}`, `Bearer ${t}${this.#hex(2)}`,
      `Bearer ${t.toUpperCase()}`, `Basic ${Buffer.from(`ccr:${t}`).toString('base64')}`, t, `Bearer`, `Bearer  `, `Token ${t}`,
      `Bearer ${t} ${t}`, `Bearer ${random}\t`,
    ]);
    for (const candidate of [random, flipped]) if (candidate.length >= 16 && choice.includes(candidate)) this.wrongTokens.add(candidate);
    return { authorization: choice };
  }

  next(): SentRequest {
    const category = this.#pick(CATEGORIES);
    return { category, ...this.#make(category) };
  }

  #make(category: Category): Omit<SentRequest, 'category'> {
    const { leaderIndex, followerIndex, pattern } = this.names;
    const follow = `/follower/${followerIndex}/_ccr/follow`;
    const good = { remote_cluster: 'leader', leader_index: leaderIndex };
    switch (category) {
      case 'no-token':
      case 'wrong-token': {
        const r = this.#wellFormed();
        const auth = category === 'no-token' ? {} : this.#wrongAuthorization();
        // Sometimes the right token in the query string instead: it must not count (nor be logged).
        const path = category === 'no-token' && this.#random() < 0.2 ? `${r.path}?token=${this.token}` : r.path;
        return { method: r.method, path, headers: { ...auth, accept: 'application/json', ...(r.contentType ? { 'content-type': r.contentType } : {}) }, body: r.body };
      }
      case 'bad-json': {
        const text = this.#pick([
          '{', '{"remote_cluster": "leader",', "{'remote_cluster': 'leader'}", '{"remote_cluster": "leader" "leader_index": "x"}',
          '{"a": NaN}', '{"a": undefined}', '[1, 2,]', '{"a": 1}}', 'nul', 'tru', '{"a": "\\x41"}', '{"a": 0x10}',
          `{"remote_cluster": "${'\\'.repeat(3)}"}`, this.#hex(this.#int(1, 200)) + '{', '\u0000{}',
        ]);
        const raw = this.#random() < 0.2 ? Buffer.concat([Buffer.from('{"a": "'), Buffer.from([0xff, 0xfe, 0xc0]), Buffer.from('"')]) : Buffer.from(text);
        const target = this.#pick([
          ['PUT', follow], ['PUT', `/follower/${this.#fresh('x')}/_ccr/follow`], ['POST', `/follower/${followerIndex}/_ccr/resume_follow`],
          ['POST', `/follower/${followerIndex}/_ccr/pause_follow`], ['PUT', `/_ccr/auto_follow/${pattern}`], ['DELETE', `/_ccr/auto_follow/${pattern}`],
        ] as const);
        return { method: target[0], path: target[1], headers: { ...this.#auth, 'content-type': 'application/json' }, body: raw };
      }
      case 'wrong-types': {
        const wrong = this.#pick<unknown>([42, -1, 3.5, true, false, null, [], ['leader'], {}, { a: 1 }, '', 1e308]);
        const param = this.#pick(['max_read_request_operation_count', 'max_outstanding_read_requests', 'max_read_request_size', 'max_retry_delay', 'read_poll_timeout', 'repair_foreign_writes']);
        // Wrong for every kind of parameter (count, size, duration and boolean alike): 0, 1.5 or
        // true would be a valid value of some, and a valid request must never be sent with the token.
        const badParam = this.#pick<unknown>([{ v: 1 }, [1], null, -5, 'abc', '12xb', 'true-ish', '-1s', '']);
        const r = this.#pick([
          () => ({ method: 'PUT', path: `/follower/${this.#fresh('x')}/_ccr/follow`, ...this.#json({ ...good, remote_cluster: wrong }) }),
          () => ({ method: 'PUT', path: `/follower/${this.#fresh('x')}/_ccr/follow`, ...this.#json({ ...good, leader_index: wrong }) }),
          () => ({ method: 'PUT', path: `/follower/${this.#fresh('x')}/_ccr/follow`, ...this.#json({ ...good, [param]: badParam }) }),
          () => ({ method: 'PUT', path: follow, ...this.#json(this.#pick<unknown>([[good], 'leader', 7, null, true])) }),
          () => ({ method: 'POST', path: `/follower/${followerIndex}/_ccr/resume_follow`, ...this.#json(this.#pick<unknown>([[], 'x', 1, null])) }),
          () => ({ method: 'POST', path: `/follower/${followerIndex}/_ccr/pause_follow`, ...this.#json(this.#pick<unknown>([[], 'x', 1, null, false])) }),
          () => ({ method: 'POST', path: `/follower/${followerIndex}/_ccr/unfollow`, ...this.#json(this.#pick<unknown>([[], 'x', 1, null])) }),
          () => ({ method: 'PUT', path: `/_ccr/auto_follow/${this.#fresh('p')}`, ...this.#json({ remote_cluster: 'leader', leader_index_patterns: this.#pick<unknown>([[1], {}, 5, null, [null], [['a']]]) }) }),
          () => ({ method: 'PUT', path: `/_ccr/auto_follow/${this.#fresh('p')}`, ...this.#json({ remote_cluster: wrong, leader_index_patterns: ['a-*'] }) }),
          () => ({ method: 'PUT', path: `/_ccr/auto_follow/${this.#fresh('p')}`, ...this.#json({ remote_cluster: 'leader', leader_index_patterns: ['a-*'], follow_index_pattern: this.#pick<unknown>([5, null, [], 'no-placeholder']) }) }),
          () => ({ method: 'PUT', path: `/_ccr/auto_follow/${pattern}`, ...this.#json({ remote_cluster: 'leader', leader_index_patterns: ['a-*'], [param]: badParam }) }),
        ])();
        return r;
      }
      case 'unknown-parameters': {
        const unknown = this.#pick(['foo', 'settings', 'max_read_request_sizee', 'Remote_Cluster', '__proto__', 'constructor', 'toString', 'active', 'follower_index', '']);
        const extra = Object.fromEntries(Array.from({ length: this.#int(1, 3) }, (_, i) => [i === 0 ? unknown : `x${this.#hex(2)}`, this.#int(0, 9)]));
        const r = this.#pick([
          () => ({ method: 'PUT', path: `/follower/${this.#fresh('x')}/_ccr/follow`, body: { ...good, ...extra } }),
          () => ({ method: 'POST', path: `/follower/${followerIndex}/_ccr/resume_follow`, body: { ...extra } }),
          () => ({ method: 'POST', path: `/follower/${followerIndex}/_ccr/pause_follow`, body: { ...extra } }),
          () => ({ method: 'POST', path: `/follower/${followerIndex}/_ccr/unfollow`, body: { ...extra } }),
          () => ({ method: 'PUT', path: `/_ccr/auto_follow/${this.#fresh('p')}`, body: { remote_cluster: 'leader', leader_index_patterns: ['a-*'], ...extra } }),
          () => ({ method: 'DELETE', path: `/_ccr/auto_follow/${pattern}`, body: { ...extra } }),
          () => ({ method: 'POST', path: `/_ccr/auto_follow/${pattern}/pause`, body: { ...extra } }),
        ])();
        // (Object.fromEntries and spreads make "__proto__" an own key, which JSON.stringify writes.)
        return { method: r.method, path: r.path, headers: { ...this.#auth, 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(r.body)) };
      }
      case 'invalid-names': {
        const badIndex = this.#pick([
          'UPPER', '_under', '-dash', '+plus', 'a*b', 'a"b', 'a<b', 'a>b', 'a|b', 'a%20b', 'a,b', 'a%23b', 'a:b', 'a%5Cb', '.', '..',
          'a'.repeat(256), 'é'.repeat(128), 'a%2Fb', 'a%2fb', '%00', 'a%0Ab', 'a%E2%80%8Bb', 'a%E2%80%AEb', 'a%EF%BB%BFb', 'caf%C3%89', 'a%3Fb',
        ]);
        // Leader index patterns that are invalid as patterns too (`*` is a wildcard there).
        const badPatterns = [
          'Logs-*', '_x*', '-x*', '+x*', 'a?b*', 'a b*', 'a,b*', 'a#b*', 'a:b*', 'a\\b*', 'a/b*', 'a"b*', 'a|b*', 'a<b*', '', '.', '..',
          'a\u0000*', 'a\u200b*', 'a\u202eb*', `${'é'.repeat(128)}*`, `${'x'.repeat(256)}*`,
        ];
        const badAlias = this.#pick(['fol.lower', 'fol%20lower', '..', '.', 'f%2Fg', 'a'.repeat(300), '%E2%80%8Bfollower', 'fol*']);
        const badName = this.#pick(['_p', '-p', '.p', 'p%2Fq', 'p q'.replace(' ', '%20'), 'p'.repeat(101), '%2E%2E', 'p%00', 'P%E2%80%8B']);
        const decoded = (s: string): string => decodeURIComponent(s);
        return this.#pick([
          // A follow request that would otherwise be fine, aimed at an invalid follower index or alias.
          () => ({ method: 'PUT', path: `/follower/${badIndex}/_ccr/follow`, ...this.#json(good) }),
          () => ({ method: 'PUT', path: `/${badAlias}/${this.#fresh('x')}/_ccr/follow`, ...this.#json(good) }),
          () => ({ method: 'PUT', path: `/follower/${this.#fresh('x')}/_ccr/follow`, ...this.#json({ ...good, leader_index: decoded(badIndex) }) }),
          () => ({ method: 'PUT', path: `/follower/${this.#fresh('x')}/_ccr/follow`, ...this.#json({ ...good, remote_cluster: decoded(badAlias) }) }),
          // Wildcards and comma lists are index expressions there, as in CCR: not invalid.
          () => ({ method: 'GET', path: `/follower/${['a*b', 'a,b'].includes(badIndex) ? 'UPPER' : badIndex}/_ccr/${this.#pick(['stats', 'info'])}`, headers: this.#auth }),
          () => ({ method: 'POST', path: `/follower/${badIndex}/_ccr/${this.#pick(['pause_follow', 'resume_follow', 'unfollow'])}`, headers: this.#auth }),
          () => ({ method: 'PUT', path: `/_ccr/auto_follow/${badName}`, ...this.#json({ remote_cluster: 'leader', leader_index_patterns: ['a-*'] }) }),
          () => ({ method: this.#pick(['GET', 'DELETE']), path: `/_ccr/auto_follow/${badName}`, headers: this.#auth }),
          () => ({ method: 'POST', path: `/_ccr/auto_follow/${badName}/${this.#pick(['pause', 'resume'])}`, headers: this.#auth }),
          () => ({ method: 'PUT', path: `/_ccr/auto_follow/${this.#fresh('p')}`, ...this.#json({ remote_cluster: 'leader', leader_index_patterns: ['ok-*', this.#pick(badPatterns)] }) }),
          () => ({ method: 'PUT', path: `/_ccr/auto_follow/${this.#fresh('p')}`, ...this.#json({ remote_cluster: 'leader', leader_index_patterns: ['ok-*'], leader_index_exclusion_patterns: [this.#pick(badPatterns)] }) }),
        ])();
      }
      case 'path-tricks': {
        const trick = this.#pick([
          `/follower/../_ccr/stats`, `/follower/x/../${followerIndex}/_ccr/pause_follow`, `/../../etc/passwd`, `/follower/${followerIndex}/_ccr/../_ccr/unfollow`,
          `/follower/%2e%2e/_ccr/pause_follow`, `/follower/..%2F${followerIndex}/_ccr/unfollow`, `/follower%2F${followerIndex}/_ccr/pause_follow`,
          `/follower/${followerIndex}%2F_ccr%2Fpause_follow`, `/%2E%2E/%2E%2E/_ccr/stats`, `/follower/${followerIndex}%00/_ccr/unfollow`,
          `/follower/${followerIndex}/_ccr/pause_follow/`, `//follower/${followerIndex}/_ccr/pause_follow`, `/follower//_ccr/unfollow`,
          `/follower/${followerIndex}%C0%AF_ccr/unfollow`, `/follower/${followerIndex}%ED%A0%80/_ccr/unfollow`, `/follower/%EF%BC%8F${followerIndex}/_ccr/unfollow`,
          `/follower/\u00e9t\u00e9/_ccr/pause_follow`, `/follower/${followerIndex}\\..\\_ccr/unfollow`, `/_ccr/auto_follow/${pattern}/../${pattern}`,
          `/_ccr/auto_follow/%2e%2e%2f${pattern}`, `/_ccr/auto_follow/${pattern}%2Fpause`, `/${'a/'.repeat(this.#int(5, 300))}`, `/${'x'.repeat(this.#int(1_000, 12_000))}`,
          `/follower/${followerIndex}/_ccr/pause_follow;jsessionid=1`, `/follower/${followerIndex}/_ccr/pause_follow%3F`, `/%66ollower/x%2F/_ccr/unfollow`,
        ]);
        const method = this.#pick(['GET', 'POST', 'PUT', 'DELETE']);
        // Any body with these is one that must not be acted on either (see the path for why).
        return { method, path: trick, headers: { ...this.#auth, ...(method === 'PUT' ? { 'content-type': 'application/json' } : {}) }, ...(method === 'PUT' ? { body: Buffer.from(JSON.stringify(good)) } : {}) };
      }
      case 'huge-body': {
        const size = this.#pick([CONTROL_BODY_LIMIT + 1, CONTROL_BODY_LIMIT + this.#int(2, 100_000), this.#int(200_000, 2 * 1024 * 1024)]);
        const body = Buffer.from(JSON.stringify({ ...good, pad: 'x'.repeat(size) }));
        const target = this.#pick([
          ['PUT', `/follower/${this.#fresh('x')}/_ccr/follow`], ['POST', `/follower/${followerIndex}/_ccr/pause_follow`],
          ['POST', `/follower/${followerIndex}/_ccr/resume_follow`], ['PUT', `/_ccr/auto_follow/${pattern}`],
        ] as const);
        return { method: target[0], path: target[1], headers: { ...this.#auth, 'content-type': 'application/json' }, body, chunked: this.#random() < 0.3 };
      }
      case 'content-type': {
        const contentType = this.#pick([
          'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx',
          'application/json; charset=utf-16', 'application/json; charset=iso-8859-1', 'application/json, text/plain', 'json', 'application/',
          'text/json', 'application/octet-stream', '*/*', undefined,
        ]);
        const target = this.#pick([
          ['PUT', `/follower/${this.#fresh('x')}/_ccr/follow`, good], ['POST', `/follower/${followerIndex}/_ccr/pause_follow`, {}],
          ['POST', `/follower/${followerIndex}/_ccr/unfollow`, {}], ['PUT', `/_ccr/auto_follow/${this.#fresh('p')}`, { remote_cluster: 'leader', leader_index_patterns: ['a-*'] }],
          ['DELETE', `/_ccr/auto_follow/${pattern}`, {}], ['POST', `/_ccr/auto_follow/${pattern}/pause`, {}],
        ] as const);
        return { method: target[0], path: target[1], headers: { ...this.#auth, ...(contentType ? { 'content-type': contentType } : {}) }, body: Buffer.from(JSON.stringify(target[2])) };
      }
      case 'query-parameters': {
        const query = this.#pick(['pretty=yes', 'human=1', 'format=xml', 'token=abc', 'remote_cluster=leader', 'a=1&b=2', 'wait_for_active_shards=lots', 'master_timeout=soon', '__proto__=x', 'x[y]=1']);
        const r = this.#pick([
          ['GET', '/_ccr/stats', undefined], ['GET', '/_ccr/info', undefined], ['GET', '/metrics', undefined],
          ['POST', `/follower/${followerIndex}/_ccr/pause_follow`, undefined], ['POST', `/follower/${followerIndex}/_ccr/unfollow`, undefined],
          ['PUT', `/follower/${this.#fresh('x')}/_ccr/follow`, good], ['DELETE', `/_ccr/auto_follow/${pattern}`, undefined],
        ] as const);
        return {
          method: r[0], path: `${r[1]}?${query}`,
          headers: { ...this.#auth, ...(r[2] ? { 'content-type': 'application/json' } : {}) }, ...(r[2] ? { body: Buffer.from(JSON.stringify(r[2])) } : {}),
        };
      }
      case 'wrong-method': {
        const r = this.#pick([
          ['DELETE', '/_ccr/stats'], ['PUT', '/_ccr/info'], ['POST', '/metrics'], ['DELETE', `/follower/${followerIndex}/_ccr/follow`],
          ['GET', `/follower/${followerIndex}/_ccr/pause_follow`], ['PUT', `/follower/${followerIndex}/_ccr/unfollow`], ['DELETE', `/follower/${followerIndex}/_ccr/stats`],
          ['POST', `/_ccr/auto_follow/${pattern}`], ['PATCH', `/_ccr/auto_follow/${pattern}`], ['OPTIONS', `/follower/${followerIndex}/_ccr/unfollow`],
          ['PROPFIND', '/_ccr/stats'], ['FOO', '/_ccr/stats'], ['TRACE', '/'], ['CONNECT', '127.0.0.1:9200'], ['CONNECT', `/follower/${followerIndex}/_ccr/unfollow`], ['PATCH', `/follower/${followerIndex}/_ccr/pause_follow`],
        ] as const);
        return { method: r[0], path: r[1], headers: { ...this.#auth } };
      }
    }
  }
}

/** Every file under `dir` with its content. */
async function snapshotDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const file = join(entry.parentPath, entry.name);
    out[relative(dir, file)] = entry.isFile() ? await readFile(file, 'utf8') : '<dir>';
  }
  return out;
}

/** `value` without the VOLATILE_STATS_FIELDS, at any depth. */
function withoutVolatile(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutVolatile);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !VOLATILE_STATS_FIELDS.has(key)).map(([key, item]) => [key, withoutVolatile(item)]));
}

describe('control API: thousands of malformed requests get a 4xx and change nothing', function () {
  this.timeout(300_000);

  const token = randomBytes(24).toString('hex');
  const leaderIndex = uniqueName('leader');
  const followerIndex = uniqueName('follower');
  const pattern = uniqueName('nomatch');
  const runTag = randomBytes(3).toString('hex');
  let leader: ClusterClient;
  let follower: ClusterClient;
  let daemon: DaemonProcess;
  const auth = { authorization: `Bearer ${token}` };

  /** The raw bodies of the API's views, as an authenticated client reads them. */
  async function views(): Promise<{ stats: string; info: string; autoFollow: string }> {
    const get = async (path: string): Promise<string> => {
      const res = await fetch(`${daemon.url}${path}`, { headers: auth, signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      expect(res.status, `GET ${path}: ${text}`).to.equal(200);
      return text;
    };
    return { stats: await get('/_ccr/stats'), info: await get('/_ccr/info'), autoFollow: await get('/_ccr/auto_follow') };
  }

  before(async function () {
    const started = Date.now();
    const clusters = await testClusters();
    [leader, follower] = await Promise.all([connect(clusters.esLeader, 'leader'), connect(clusters.esFollower, 'follower')]);
    await createLeaderIndex(leader, leaderIndex, { shards: 2 });
    await leader.writeDocuments(leaderIndex, Array.from({ length: 40 }, (_, i) => ({ op: 'index' as const, id: `doc-${i}`, source: { n: i } })), { refresh: true });
    daemon = await DaemonProcess.start({ leader: clusters.esLeader, follower: clusters.esFollower, controlToken: token, logLevel: 'debug' });
    await daemon.api('PUT', `/follower/${followerIndex}/_ccr/follow`, { remote_cluster: 'leader', leader_index: leaderIndex });
    // A pattern no index matches, so it has state but nothing to follow while the test runs.
    await daemon.api('PUT', `/_ccr/auto_follow/${pattern}`, { remote_cluster: 'leader', leader_index_patterns: [`${pattern}-*`], follow_index_pattern: '{{leader_index}}-copy' });
    const caughtUp = await waitForDaemonCaughtUp(daemon, leader, leaderIndex, followerIndex);
    // The checkpoints reach the state directory a moment after the stats show them: the baseline
    // is taken once they are there, so that nothing but the requests could change it later.
    const expected = Object.fromEntries(caughtUp.shards.map((s) => [s.shard_id, s.follower_global_checkpoint]));
    await waitFor(async () => JSON.stringify(await daemon.persistedCheckpoints(`follower/${followerIndex}`)) === JSON.stringify(expected),
      { timeoutMs: 30_000, intervalMs: 100, message: `the checkpoints ${JSON.stringify(expected)} in the state directory` });
    console.log(`      setup (clusters, daemon, follower, pattern) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  after(async () => {
    await stopAllDaemonProcesses();
    // Indices a request that should have been refused would have created: none, unless the test failed.
    const leftovers = follower ? (await resolveIndices(follower, [`*-${runTag}-*`]).catch(() => ({ indices: [] }))).indices.map((i) => i.name) : [];
    if (leftovers.length > 0) console.log(`      removing ${leftovers.length} indices made by requests that were not refused: ${leftovers.slice(0, 5).join(', ')}…`);
    await Promise.allSettled([leader?.deleteIndex(leaderIndex), follower?.deleteIndex(followerIndex), ...leftovers.map((name) => follower.deleteIndex(name))]);
    await Promise.allSettled([leader?.close(), follower?.close()]);
  });

  it(`answers ${REQUESTS} generated malformed requests with a 4xx each, stays up, and changes nothing`, async () => {
    const port = Number(new URL(daemon.url).port);
    const stateBefore = await snapshotDir(daemon.stateDir);
    const viewsBefore = await views();
    expect(JSON.parse(viewsBefore.info).follower_indices).to.have.length(1);
    expect(JSON.parse(viewsBefore.autoFollow).patterns).to.have.length(1);

    const wrongTokens = new Set<string>();
    const generator = new BadRequests(SEED, token, { leaderIndex, followerIndex, pattern }, wrongTokens, runTag);
    const requests = shuffle(mulberry32(SEED + 1), Array.from({ length: REQUESTS }, () => generator.next()));
    const started = Date.now();
    const failures: string[] = [];
    const byCategory = new Map<Category, Map<number, number>>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const req = requests[next++]!;
        const outcome = await send(port, req);
        // The test's own messages must not show the token either.
        const body = req.body === undefined ? '' : ` (${req.body.length} bytes${req.chunked ? ', chunked' : ''})`;
        const shown = `${req.category}: ${req.method} ${req.path.slice(0, 120)} ${JSON.stringify(req.headers).slice(0, 200)}${body}`.replaceAll(token, '<token>');
        if ('error' in outcome) {
          failures.push(`${shown} → ${outcome.error}`);
          continue;
        }
        const counts = byCategory.get(req.category) ?? new Map<number, number>();
        counts.set(outcome.status, (counts.get(outcome.status) ?? 0) + 1);
        byCategory.set(req.category, counts);
        if (outcome.status < 400 || outcome.status > 499 || !EXPECTED[req.category].includes(outcome.status)) {
          failures.push(`${shown} → ${outcome.status} ${outcome.body.slice(0, 300)}`);
        } else {
          // Every refusal says why, in the API's format: also those Node's HTTP parser makes.
          let body: { error?: { type?: string; reason?: string }; status?: number } | undefined;
          try {
            body = JSON.parse(outcome.body) as typeof body;
          } catch {
            body = undefined;
          }
          if (body?.status !== outcome.status || typeof body.error?.type !== 'string' || typeof body.error.reason !== 'string' || body.error.reason === '') {
            failures.push(`${shown} → ${outcome.status} without a clear JSON error: ${outcome.body.slice(0, 300)}`);
          }
        }
      }
    };
    const probe = setInterval(() => {
      if (!daemon.running) failures.push(`the daemon exited during the run (${JSON.stringify(daemon.exitStatus)})`);
    }, 250);
    try {
      await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
    } finally {
      clearInterval(probe);
    }
    const elapsed = (Date.now() - started) / 1000;

    const total = new Map<number, number>();
    for (const counts of byCategory.values()) for (const [status, n] of counts) total.set(status, (total.get(status) ?? 0) + n);
    const render = (counts: Map<number, number>): string => [...counts].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
    console.log(`      ${REQUESTS} malformed requests (seed ${SEED}) in ${elapsed.toFixed(1)} s: ${render(total)}`);
    for (const category of CATEGORIES) console.log(`        ${category.padEnd(20)} ${render(byCategory.get(category) ?? new Map())}`);

    expect(failures, `${failures.length} requests were not refused as expected (seed ${SEED}):\n${failures.slice(0, 30).join('\n')}`).to.deep.equal([]);
    for (const category of CATEGORIES) expect(byCategory.get(category)?.size ?? 0, `requests sent of kind ${category}`).to.be.above(0);

    // Still up: the process, and its API.
    expect(daemon.running, 'the daemon process').to.equal(true);
    process.kill(daemon.pid, 0);
    expect(await daemon.api<{ name: string }>('GET', '/')).to.include({ name: 'ccr-follow' });

    // Nothing changed: the state directory byte for byte, the info and pattern views byte for byte,
    // the stats but for the clocks and counters that move on their own.
    expect(await snapshotDir(daemon.stateDir), 'the state directory').to.deep.equal(stateBefore);
    const viewsAfter = await views();
    expect(viewsAfter.info, 'GET /_ccr/info').to.equal(viewsBefore.info);
    expect(viewsAfter.autoFollow, 'GET /_ccr/auto_follow').to.equal(viewsBefore.autoFollow);
    expect(withoutVolatile(JSON.parse(viewsAfter.stats)), 'GET /_ccr/stats').to.deep.equal(withoutVolatile(JSON.parse(viewsBefore.stats)));
    expect(await follower.indexExists(`${leaderIndex}-copy`)).to.equal(false);

    // The log saw the refusals, and none of the tokens.
    const log = (await daemon.logText()) + (await daemon.outputText());
    expect(log).to.include('control API: refused');
    expect(log.includes(token), 'the daemon log holds the token').to.equal(false);
    expect(wrongTokens.size).to.be.above(0);
    const leaked = [...wrongTokens].filter((t) => log.includes(t));
    expect(leaked, 'wrong tokens found in the daemon log').to.deep.equal([]);
  });

  it('the CLI sends the token from $CCR_FOLLOW_CONTROL_TOKEN or the config, and without it exits 1 saying what to set', async () => {
    const withEnv = await runCli(['stats', '--url', daemon.url], { env: { CCR_FOLLOW_CONTROL_TOKEN: token } });
    expect(withEnv, withEnv.stderr).to.include({ code: ExitCodes.ok, stderr: '' });
    expect(withEnv.stdout).to.include(`follower/${followerIndex}`);

    const without = await runCli(['stats', '--url', daemon.url], { env: { CCR_FOLLOW_CONTROL_TOKEN: undefined } });
    expect(without.code, without.stderr).to.equal(ExitCodes.failed);
    expect(without.stdout).to.equal('');
    expect(without.stderr).to.equal('error: security_exception: missing authentication token: this control API needs the header `Authorization: Bearer <token>` '
      + '(daemon.control.token) (set the daemon\'s token in $CCR_FOLLOW_CONTROL_TOKEN, or as daemon.control.token in the config file)\n');

    // From the config file (the daemon's own, which reads it from ${CCR_TEST_CONTROL_TOKEN}).
    const fromConfig = await runCli(['stats', '--config', daemon.configFile], { env: { CCR_FOLLOW_CONTROL_TOKEN: undefined, CCR_TEST_CONTROL_TOKEN: token } });
    expect(fromConfig, fromConfig.stderr).to.include({ code: ExitCodes.ok, stderr: '' });
    expect(fromConfig.stdout).to.include(`follower/${followerIndex}`);

    // The variable wins over the config.
    const wrong = randomBytes(24).toString('hex');
    const overridden = await runCli(['info', '--config', daemon.configFile], { env: { CCR_FOLLOW_CONTROL_TOKEN: wrong, CCR_TEST_CONTROL_TOKEN: token } });
    expect(overridden.code, overridden.stderr).to.equal(ExitCodes.failed);
    expect(overridden.stderr).to.match(/^error: security_exception: invalid authentication token \(the token sent was refused: check \$CCR_FOLLOW_CONTROL_TOKEN and daemon\.control\.token\)\n$/);

    for (const r of [withEnv, without, fromConfig, overridden]) {
      expect(r.stdout + r.stderr).not.to.include(token);
      expect(r.stdout + r.stderr).not.to.include(wrong);
      expect(r.stderr).not.to.match(STACK_LINE);
    }
    const log = (await daemon.logText()) + (await daemon.outputText());
    expect(log.includes(token) || log.includes(wrong), 'a token in the daemon log').to.equal(false);
  });

  it('the daemon refuses to listen on a non-loopback address without a token, exit 2, before it takes the state directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ccr-follow-exposed-'));
    try {
      const [port] = await findFreePorts(1);
      const file = join(dir, 'ccr-follow.yml');
      await writeFile(file, `daemon:\n  state_dir: state\n  control:\n    host: 0.0.0.0\n    port: ${port}\n`);
      const r = await runCli(['daemon', '--config', file], { cwd: dir, timeoutMs: 30_000 });
      expect(r.code, r.stderr).to.equal(ExitCodes.usage);
      expect(r.stderr).to.match(/daemon could not start: daemon\.control\.host: the control API may listen on an address other machines can reach only with a token: set daemon\.control\.token .*, or listen on 127\.0\.0\.1, got "0\.0\.0\.0"/);
      expect(existsSync(join(dir, 'state')), 'the state directory was created').to.equal(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the status page reads the token from the URL fragment (and asks for it without one)', async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const row = `tr[data-follower="follower/${followerIndex}"]`;
      const page = await browser.newPage();
      await page.goto(`${daemon.url}/#token=${token}`);
      await page.locator(row).waitFor({ timeout: 30_000 });
      expect(page.url(), 'the token is taken out of the address bar').to.equal(`${daemon.url}/`);
      expect(await page.locator('#login').isVisible()).to.equal(false);

      // A fresh tab (a new context: no sessionStorage) without the token gets the form, then the data.
      const fresh = await (await browser.newContext()).newPage();
      await fresh.goto(`${daemon.url}/`);
      await fresh.locator('#login').waitFor({ state: 'visible', timeout: 30_000 });
      expect(await fresh.locator(row).count()).to.equal(0);
      await fresh.fill('#token', token);
      await fresh.click('#login button');
      await fresh.locator(row).waitFor({ timeout: 30_000 });
      expect(await fresh.locator('#login').isVisible()).to.equal(false);
    } finally {
      await browser.close();
    }
    // The page never sends the token anywhere but the Authorization header: the log has none.
    const log = await waitFor(async () => (await daemon.logText()) || undefined, { timeoutMs: 5_000, message: 'the daemon log' });
    expect(log.includes(token)).to.equal(false);
  });
});
