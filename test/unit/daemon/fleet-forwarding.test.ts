/**
 * The control server of one daemon of a fleet, on a fake manager and a fake peer link: a request
 * about a follower another daemon runs is forwarded there with the fleet's token and the forwarded
 * mark only, its answer passed back naming who applied it; a forwarded request is never forwarded
 * again; a follower nobody runs right now is refused with 503, nothing applied.
 */
import { expect } from 'chai';
import type { AutoFollowCoordinator } from '../../../src/autofollow/auto-follow-coordinator.js';
import { buildControlServer } from '../../../src/daemon/control-server.js';
import { Fleet } from '../../../src/daemon/fleet.js';
import type { PeerRequest, PeerSend } from '../../../src/daemon/peer-client.js';
import { FollowError } from '../../../src/follow/follow-errors.js';
import type { FollowManager } from '../../../src/follow/follow-manager.js';
import type { StateStore } from '../../../src/state/state-store.js';
import { silentLogger } from '../../../src/util/logger.js';
import type { RunningDaemon } from '../../../src/util/ownership.js';

const TOKEN = 'fleet-unit-token-0123456789';
const OWNER: RunningDaemon = { id: 'owner-id', control: 'http://127.0.0.1:1', description: 'the daemon on h2 (pid 2, control API http://127.0.0.1:1)' };

function server(behaviour: (key: string) => never, send: PeerSend): ReturnType<typeof buildControlServer> {
  const manager = { pause: async (key: string) => behaviour(key), stats: () => [], info: () => [] } as unknown as FollowManager;
  const autoFollow = { stats: () => ({}) } as unknown as AutoFollowCoordinator;
  const fleet = new Fleet({
    self: { id: 'self-id', host: 'h1', pid: 1, version: '9.9.9', started: new Date().toISOString() },
    manager, state: {} as StateStore, logger: silentLogger, send,
  });
  return buildControlServer({ manager, autoFollow, logger: silentLogger, version: '9.9.9', token: TOKEN, fleet, send });
}

describe('control server of a fleet: forwarding', () => {
  it('forwards a request about a follower another daemon runs, with the fleet token and the mark only, and says who applied it', async () => {
    const sent: { control: string; req: PeerRequest }[] = [];
    const app = server(() => {
      throw new FollowError('illegal_state_exception', 'run elsewhere', { runBy: OWNER });
    }, async (control, req) => {
      sent.push({ control, req });
      return { status: 200, text: '{"acknowledged":true}', answeredBy: 'owner-id on h2', contentType: 'application/json; charset=utf-8' };
    });
    try {
      const res = await app.inject({ method: 'POST', url: '/follower/orders/_ccr/pause_follow', headers: { authorization: `Bearer ${TOKEN}`, cookie: 'session=secret' } });
      expect(res.statusCode).to.equal(200);
      expect(res.json()).to.deep.equal({ acknowledged: true });
      expect(res.headers['x-ccr-follow-answered-by']).to.equal('owner-id on h2');
      expect(res.headers['x-ccr-follow-forwarded-from']).to.equal('self-id on h1');
      expect(sent).to.have.length(1);
      expect(sent[0]!.control).to.equal(OWNER.control);
      expect(sent[0]!.req).to.include({ method: 'POST', path: '/follower/orders/_ccr/pause_follow', from: 'self-id', token: TOKEN });
      expect(Object.keys(sent[0]!.req).sort()).to.deep.equal(['from', 'method', 'path', 'timeoutMs', 'token']);
    } finally {
      await app.close();
    }
  });

  it('never forwards a request that was forwarded to it: it answers the 409 naming the owner', async () => {
    let sends = 0;
    const app = server(() => {
      throw new FollowError('illegal_state_exception', `[follower/orders] is run by ${OWNER.description}, not by this daemon`, { runBy: OWNER });
    }, async () => {
      sends += 1;
      return { status: 200, text: '{}', answeredBy: undefined, contentType: undefined };
    });
    try {
      const res = await app.inject({ method: 'POST', url: '/follower/orders/_ccr/pause_follow', headers: { authorization: `Bearer ${TOKEN}`, 'x-ccr-follow-forwarded-by': 'another' } });
      expect(res.statusCode).to.equal(409);
      expect(res.json().error.reason).to.include('pid 2');
      expect(sends).to.equal(0);
      expect(res.headers['x-ccr-follow-answered-by']).to.equal('self-id on h1');
    } finally {
      await app.close();
    }
  });

  it('answers a forwarded request about a follower it does not know with the 409 naming the owner as stored now, forwarding nothing', async () => {
    let sends = 0;
    const app = server((key) => {
      throw new FollowError('resource_not_found_exception', `[${key}] is not a follower index`, { lookUp: async () => OWNER });
    }, async () => {
      sends += 1;
      return { status: 200, text: '{}', answeredBy: undefined, contentType: undefined };
    });
    try {
      const res = await app.inject({ method: 'POST', url: '/follower/orders/_ccr/pause_follow', headers: { authorization: `Bearer ${TOKEN}`, 'x-ccr-follow-forwarded-by': 'another' } });
      expect(res.statusCode).to.equal(409);
      expect(res.json().error.reason).to.include('pid 2').and.include('not forwarded again');
      expect(sends).to.equal(0);
    } finally {
      await app.close();
    }
  });

  it('refuses a request without the token before anything is forwarded', async () => {
    let sends = 0;
    const app = server(() => {
      throw new FollowError('illegal_state_exception', 'run elsewhere', { runBy: OWNER });
    }, async () => {
      sends += 1;
      return { status: 200, text: '{}', answeredBy: undefined, contentType: undefined };
    });
    try {
      const res = await app.inject({ method: 'POST', url: '/follower/orders/_ccr/pause_follow' });
      expect(res.statusCode).to.equal(401);
      expect(sends).to.equal(0);
      expect(res.headers, 'no daemon id or host told to a client without the token').to.not.have.property('x-ccr-follow-answered-by');
    } finally {
      await app.close();
    }
  });

  it('asks who runs a follower unknown here now: forwards to that daemon, or answers 503 while nobody does', async () => {
    let now: RunningDaemon | 'unowned' | 'unknown' = OWNER;
    const sent: string[] = [];
    const app = server((key) => {
      throw new FollowError('resource_not_found_exception', `[${key}] is not a follower index`, { lookUp: async () => now });
    }, async (control) => {
      sent.push(control);
      return { status: 200, text: '{"acknowledged":true}', answeredBy: 'owner-id on h2', contentType: 'application/json' };
    });
    const pause = () => app.inject({ method: 'POST', url: '/follower/orders/_ccr/pause_follow', headers: { authorization: `Bearer ${TOKEN}` } });
    try {
      expect((await pause()).statusCode).to.equal(200);
      expect(sent).to.deep.equal([OWNER.control]);
      now = 'unowned';
      const unowned = await pause();
      expect(unowned.statusCode).to.equal(503);
      expect(unowned.json().error.reason).to.include('nothing was applied');
      now = 'unknown';
      expect((await pause()).statusCode).to.equal(404);
      expect(sent).to.have.length(1);
    } finally {
      await app.close();
    }
  });

  it('answers 503, nothing applied, when the owner refuses the connection', async () => {
    const app = server(() => {
      throw new FollowError('illegal_state_exception', 'run elsewhere', { runBy: OWNER });
    }, async () => {
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    });
    try {
      const res = await app.inject({ method: 'POST', url: '/follower/orders/_ccr/pause_follow', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.statusCode).to.equal(503);
      expect(res.json().error.reason).to.match(/did not answer \(connect ECONNREFUSED\): nothing was applied/);
    } finally {
      await app.close();
    }
  });

  it('answers 503 saying the outcome is unknown when the owner was cut off after the request was sent', async () => {
    const app = server(() => {
      throw new FollowError('illegal_state_exception', 'run elsewhere', { runBy: OWNER });
    }, async () => {
      throw Object.assign(new Error('The operation was aborted due to timeout'), { code: 'ABORT_ERR' });
    });
    try {
      const res = await app.inject({ method: 'POST', url: '/follower/orders/_ccr/pause_follow', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.statusCode).to.equal(503);
      expect(res.json().error.reason).to.match(/did not answer .*: whether it was applied is unknown: check with stats/);
      expect(res.json().error.reason).to.not.include('nothing was applied');
    } finally {
      await app.close();
    }
  });
});
