import { expect } from 'chai';
import { renderDaemons, renderStats } from '../../../src/cli/format.js';
import { followerStats } from '../../helpers/stats-fixtures.js';

describe('renderStats', () => {
  it('ends with one line per leader cluster: the requests per second sent to it, and why', () => {
    const none = { checkpoints: 0, metadata: 0, reads: 0, reconciliation: 0, writes: 0, other: 0 };
    const leaderRequests = { per_second: { ...none, checkpoints: 2, metadata: 1 }, total: none };
    const text = renderStats([
      followerStats({ leader_requests: leaderRequests }),
      followerStats({ index: 'other', leader_requests: leaderRequests }),
      followerStats({ index: 'dr', remote_cluster: 'dr-leader' }),
    ]);
    const lines = text.split('\n').filter((l) => l.startsWith('requests to leader'));
    expect(lines).to.deep.equal(['requests to leader leader: 3.0/s (checkpoints 2.0, metadata 1.0, reads 0.0, reconciliation 0.0, writes 0.0, other 0.0)']);
  });
});

describe('renderStats and renderDaemons of a fleet', () => {
  it('adds an OWNER column when the daemon names owners: the owner\'s id and host, or how long nobody has run it', () => {
    const text = renderStats([
      { ...followerStats({ index: 'a' }), owner: { status: 'owned', id: '0123456789abcdef', host: 'db1', control: 'http://db1:9809' } },
      { ...followerStats({ index: 'b', shards: [] }), state: 'unowned', owner: { status: 'unowned', since: new Date().toISOString(), for_ms: 4_000 } },
    ]);
    const [header, a, b] = text.split('\n');
    expect(header).to.match(/RETRIES\s+OWNER$/);
    expect(a).to.match(/01234567 on db1$/);
    expect(b).to.match(/unowned\s.*unowned for 4(\.0)?s$/);
    expect(renderStats([followerStats({})]).split('\n')[0]).to.not.include('OWNER');
  });

  it('lists the live daemons, the one asked marked with *', () => {
    const row = { host: 'db1', pid: 7, control: 'http://db1:9809', version: '1.0.0', started: '2026-01-01T00:00:00Z', uptime_ms: 90_000, leases: [], last_heartbeat: '2026-01-01T00:01:30Z', heartbeat_age_ms: 1_000 };
    const text = renderDaemons([
      { ...row, id: 'aaaaaaaa-1111', self: true, leases_held: 2 },
      { ...row, id: 'bbbbbbbb-2222', self: false, leases_held: 1, pid: 8 },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).to.match(/^ID\s+HOST\s+PID\s+CONTROL\s+VERSION\s+UPTIME\s+LEASES\s+LAST HEARTBEAT$/);
    expect(lines[1]).to.match(/^\*aaaaaaaa\s+db1\s+7\s+http:\/\/db1:9809\s+1\.0\.0\s+\S+\s+2\s+2026-01-01T00:01:30Z/);
    expect(lines[2]).to.match(/^ bbbbbbbb\s+db1\s+8\s/);
    expect(renderDaemons([])).to.equal('no live daemons');
  });
});
