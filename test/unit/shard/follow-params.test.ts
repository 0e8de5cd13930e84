import { expect } from 'chai';
import {
  DEFAULT_FOLLOW_PARAMS,
  FollowParamsError,
  parseFollowParams,
} from '../../../src/shard/follow-params.js';

const MB = 1024 ** 2;

describe('follow params', () => {
  describe('DEFAULT_FOLLOW_PARAMS', () => {
    it("uses Elasticsearch CCR's documented defaults, the README's write size, and nothing else", () => {
      // Written out, not read from FOLLOW_PARAMS: a changed, added or dropped default must fail here.
      expect(DEFAULT_FOLLOW_PARAMS).to.deep.equal({
        max_read_request_operation_count: 5120,
        max_outstanding_read_requests: 12,
        max_read_request_size: 32 * MB,
        max_write_request_operation_count: 5120,
        // CCR's is unbounded; the README gives 64mb, under the default http.max_content_length.
        max_write_request_size: 64 * MB,
        max_outstanding_write_requests: 9,
        max_write_buffer_count: 2147483647,
        max_write_buffer_size: 512 * MB,
        max_retry_delay: 500,
        read_poll_timeout: 60_000,
        // Not CCR parameters; defaults as the README gives them (5s, true).
        reconcile_interval: 5_000,
        repair_foreign_writes: 1,
      });
    });
  });

  describe('parseFollowParams', () => {
    it('returns the defaults for no input', () => {
      expect(parseFollowParams({})).to.deep.equal(DEFAULT_FOLLOW_PARAMS);
    });

    it('parses sizes and durations written the CCR way', () => {
      const params = parseFollowParams({
        max_read_request_size: '32mb',
        max_write_buffer_size: '1gb',
        max_retry_delay: '500ms',
        read_poll_timeout: '1m',
      });
      expect(params.max_read_request_size).to.equal(32 * MB);
      expect(params.max_write_buffer_size).to.equal(1024 * MB);
      expect(params.max_retry_delay).to.equal(500);
      expect(params.read_poll_timeout).to.equal(60_000);
    });

    it('accepts plain numbers, and counts written as strings', () => {
      const params = parseFollowParams({ max_outstanding_read_requests: 3, max_write_request_operation_count: '100', max_retry_delay: 250 });
      expect(params.max_outstanding_read_requests).to.equal(3);
      expect(params.max_write_request_operation_count).to.equal(100);
      expect(params.max_retry_delay).to.equal(250);
    });

    it('overrides only what is given, over the base', () => {
      const base = parseFollowParams({ max_outstanding_write_requests: 2 });
      const params = parseFollowParams({ max_outstanding_read_requests: 1 }, base);
      expect(params).to.deep.equal({ ...DEFAULT_FOLLOW_PARAMS, max_outstanding_write_requests: 2, max_outstanding_read_requests: 1 });
      expect(DEFAULT_FOLLOW_PARAMS.max_outstanding_read_requests).to.equal(12);
    });

    it('skips parameters given as undefined', () => {
      expect(parseFollowParams({ max_retry_delay: undefined })).to.deep.equal(DEFAULT_FOLLOW_PARAMS);
    });

    it('refuses an unknown parameter, naming it and the known ones', () => {
      expect(() => parseFollowParams({ max_read_requests: 3 }))
        .to.throw(FollowParamsError, /unknown follow parameter \[max_read_requests\].*max_outstanding_read_requests/);
    });

    it('refuses parameter names inherited from Object.prototype as unknown', () => {
      // Keys such as these arrive from any JSON body; they must get the same clear refusal.
      for (const input of [{ constructor: 5 }, { toString: '1' }, JSON.parse('{"__proto__": 5}') as Record<string, unknown>]) {
        const name = Object.keys(input)[0]!;
        expect(() => parseFollowParams(input), name).to.throw(FollowParamsError, `[${name}]`);
      }
    });

    const invalid: Array<[string, unknown, RegExp]> = [
      ['max_outstanding_read_requests', 0, /must be greater than 0, got 0/],
      ['max_outstanding_read_requests', -2, /must be greater than 0/],
      ['max_write_request_operation_count', '0', /must be greater than 0/],
      ['max_read_request_operation_count', 1.5, /whole number/],
      ['max_read_request_operation_count', 'many', /whole number/],
      ['max_write_buffer_size', '0b', /must be greater than 0/],
      ['max_write_buffer_size', '-5mb', /invalid byte size/],
      ['max_read_request_size', '32 parsecs', /invalid byte size/],
      ['max_retry_delay', '0ms', /must be greater than 0/],
      ['read_poll_timeout', '-1s', /invalid duration/],
      ['read_poll_timeout', 'soon', /invalid duration/],
      ['max_retry_delay', true, /expected a number or a string/],
      ['max_write_buffer_count', {}, /expected a number or a string/],
    ];
    for (const [name, value, why] of invalid) {
      it(`refuses ${name} = ${JSON.stringify(value)}, naming the parameter`, () => {
        let thrown: unknown;
        try {
          parseFollowParams({ [name]: value });
        } catch (err) {
          thrown = err;
        }
        expect(thrown).to.be.instanceOf(FollowParamsError);
        const message = (thrown as Error).message;
        expect(message).to.include(`[${name}]`);
        expect(message).to.match(why);
      });
    }
  });
});
