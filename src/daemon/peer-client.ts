/**
 * Requests one daemon sends another daemon of its fleet (a forwarded control request, a fan-out
 * read of what each runs). Plain node:http, as the CLI's client: fetch refuses ports browsers
 * block, which are valid control ports.
 *
 * What a peer request carries is fixed here, never copied from the client's request: the body,
 * `Content-Type`, the fleet's shared control token (every daemon runs the same config, so the
 * receiving daemon already has it) and the forwarded mark. So a forwarded request carries no
 * secret the receiving daemon did not already have, and the client's other headers (cookies, a
 * proxy's) stay where they were sent.
 */
import { request } from 'node:http';
import { request as requestTls } from 'node:https';

/** Marks a request one daemon sent another; a daemon never forwards or fans out such a request (no loops). */
export const FORWARDED_HEADER = 'x-ccr-follow-forwarded-by';
/** On every answer: the daemon that answered it, so a client sees who applied a change (`<id> on <host>`). */
export const ANSWERED_BY_HEADER = 'x-ccr-follow-answered-by';
/** On an answer one daemon forwarded from another: the forwarding daemon. */
export const FORWARDED_BY_HEADER = 'x-ccr-follow-forwarded-from';

export interface PeerAnswer {
  readonly status: number;
  readonly text: string;
  readonly answeredBy: string | undefined;
  readonly contentType: string | undefined;
}

export interface PeerRequest {
  readonly method: string;
  /** Path and query, as the client sent them. */
  readonly path: string;
  readonly body?: unknown;
  /** This daemon's member id, sent as the forwarded mark. */
  readonly from: string;
  /** The fleet's control token (this daemon's config), when one is configured. */
  readonly token?: string;
  readonly timeoutMs: number;
}

export type PeerSend = (control: string, req: PeerRequest) => Promise<PeerAnswer>;

export const peerSend: PeerSend = (control, req) => new Promise((resolve, reject) => {
  const url = new URL(req.path, control.endsWith('/') ? control : `${control}/`);
  const body = req.body === undefined ? undefined : JSON.stringify(req.body);
  const headers: Record<string, string> = {
    [FORWARDED_HEADER]: req.from,
    accept: 'application/json',
    ...(req.token === undefined ? {} : { authorization: `Bearer ${req.token}` }),
    ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }),
  };
  const send = url.protocol === 'https:' ? requestTls : request;
  const r = send(url, { method: req.method, headers, signal: AbortSignal.timeout(req.timeoutMs) }, (res) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('end', () => resolve({
      status: res.statusCode ?? 0, text, answeredBy: headerText(res.headers[ANSWERED_BY_HEADER]), contentType: headerText(res.headers['content-type']),
    }));
    res.on('error', reject);
  });
  r.on('error', reject);
  r.end(body);
});

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
