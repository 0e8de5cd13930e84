import { expect } from 'chai';
import { ccrByteSize, ccrParams, ccrSettings, ccrTime } from '../../../src/daemon/api/ccr-units.js';
import { DEFAULT_FOLLOW_PARAMS, parseFollowParams } from '../../../src/shard/follow-params.js';

describe('CCR string forms of sizes and times', () => {
  it('writes byte sizes in the largest exact unit, as CCR does', () => {
    expect(ccrByteSize(32 * 1024 ** 2)).to.equal('32mb');
    expect(ccrByteSize(512 * 1024 ** 2)).to.equal('512mb');
    expect(ccrByteSize(1536)).to.equal('1536b');
    expect(ccrByteSize(3 * 1024 ** 3)).to.equal('3gb');
    expect(ccrByteSize(0)).to.equal('0b');
  });

  it('writes times in the largest exact unit, as CCR does', () => {
    expect(ccrTime(500)).to.equal('500ms');
    expect(ccrTime(60_000)).to.equal('1m');
    expect(ccrTime(90_000)).to.equal('90s');
    expect(ccrTime(5_000)).to.equal('5s');
    expect(ccrTime(2 * 3_600_000)).to.equal('2h');
  });

  it('shows the default parameters as CCR\'s follow info does, and they parse back to the same numbers', () => {
    const shown = ccrParams(DEFAULT_FOLLOW_PARAMS);
    expect(shown).to.deep.include({
      max_read_request_operation_count: 5120, max_read_request_size: '32mb', max_outstanding_read_requests: 12,
      max_write_request_operation_count: 5120, max_outstanding_write_requests: 9, max_write_buffer_count: 2147483647,
      max_write_buffer_size: '512mb', max_retry_delay: '500ms', read_poll_timeout: '1m',
      reconcile_interval: '5s', repair_foreign_writes: true,
    });
    expect(parseFollowParams(shown)).to.deep.equal(DEFAULT_FOLLOW_PARAMS);
  });

  it('shows repair_foreign_writes off as false', () => {
    expect(ccrParams({ repair_foreign_writes: 0 })).to.deep.equal({ repair_foreign_writes: false });
  });

  it('prints flat settings as Elasticsearch prints a Settings object: nested, values as strings', () => {
    expect(ccrSettings({ 'index.number_of_replicas': 0, 'index.refresh_interval': '5s', 'index.routing.allocation.require.zone': null, 'index.hidden': false }))
      .to.deep.equal({ index: { number_of_replicas: '0', refresh_interval: '5s', routing: { allocation: { require: { zone: null } } }, hidden: 'false' } });
  });
});
