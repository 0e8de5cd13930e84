import { expect } from 'chai';
import { formatBytes, formatDuration, parseByteSize, parseDuration } from '../../../src/util/units.js';

describe('units', () => {
  describe('parseDuration', () => {
    it('reads each unit as milliseconds', () => {
      expect(parseDuration('500ms')).to.equal(500);
      expect(parseDuration('30s')).to.equal(30_000);
      expect(parseDuration('1m')).to.equal(60_000);
      expect(parseDuration('2h')).to.equal(7_200_000);
      expect(parseDuration('1d')).to.equal(86_400_000);
    });

    it('treats a plain number or digit string as milliseconds', () => {
      expect(parseDuration(250)).to.equal(250);
      expect(parseDuration('250')).to.equal(250);
      expect(parseDuration(0)).to.equal(0);
    });

    it('accepts fractions, spaces and upper case', () => {
      expect(parseDuration('1.5s')).to.equal(1500);
      expect(parseDuration(' 10 S ')).to.equal(10_000);
    });

    for (const bad of ['', 'abc', '10x', '-1', '-5s', '1.2.3s', 's', '10 m s']) {
      it(`rejects ${JSON.stringify(bad)} with a RangeError naming it`, () => {
        expect(() => parseDuration(bad)).to.throw(RangeError, JSON.stringify(bad));
      });
    }

    it('rejects negative and non-finite numbers', () => {
      expect(() => parseDuration(-1)).to.throw(RangeError, '-1');
      expect(() => parseDuration(Number.NaN)).to.throw(RangeError);
      expect(() => parseDuration(Infinity)).to.throw(RangeError);
    });
  });

  describe('parseByteSize', () => {
    it('reads units as powers of 1024, as Elasticsearch does', () => {
      expect(parseByteSize('100b')).to.equal(100);
      expect(parseByteSize('10kb')).to.equal(10 * 1024);
      expect(parseByteSize('32mb')).to.equal(32 * 1024 ** 2);
      expect(parseByteSize('512mb')).to.equal(512 * 1024 ** 2);
      expect(parseByteSize('1gb')).to.equal(1024 ** 3);
      expect(parseByteSize('2tb')).to.equal(2 * 1024 ** 4);
      expect(parseByteSize('1pb')).to.equal(1024 ** 5);
    });

    it('accepts units without the b, in any case', () => {
      expect(parseByteSize('512m')).to.equal(512 * 1024 ** 2);
      expect(parseByteSize('1G')).to.equal(1024 ** 3);
      expect(parseByteSize('10KB')).to.equal(10 * 1024);
    });

    it('treats a plain number or digit string as bytes', () => {
      expect(parseByteSize(4096)).to.equal(4096);
      expect(parseByteSize('4096')).to.equal(4096);
    });

    for (const bad of ['', 'mb', '12xb', '-1mb', '1e3', '5 k b']) {
      it(`rejects ${JSON.stringify(bad)} with a RangeError naming it`, () => {
        expect(() => parseByteSize(bad)).to.throw(RangeError, JSON.stringify(bad));
      });
    }

    it('rejects sizes beyond a safe integer', () => {
      expect(() => parseByteSize('100000000pb')).to.throw(RangeError, 'too large');
    });
  });

  describe('formatDuration', () => {
    it('uses the largest unit that fits', () => {
      expect(formatDuration(500)).to.equal('500ms');
      expect(formatDuration(30_000)).to.equal('30s');
      expect(formatDuration(60_000)).to.equal('1m');
      expect(formatDuration(5_400_000)).to.equal('1.5h');
      expect(formatDuration(86_400_000)).to.equal('1d');
      expect(formatDuration(0)).to.equal('0ms');
    });

    it('reads back through parseDuration when exact', () => {
      for (const text of ['500ms', '30s', '1m', '2h', '1d']) expect(formatDuration(parseDuration(text))).to.equal(text);
    });
  });

  describe('formatBytes', () => {
    it('uses the largest unit that fits', () => {
      expect(formatBytes(100)).to.equal('100b');
      expect(formatBytes(10 * 1024)).to.equal('10kb');
      expect(formatBytes(512 * 1024 ** 2)).to.equal('512mb');
      expect(formatBytes(1.5 * 1024 ** 3)).to.equal('1.5gb');
    });

    it('reads back through parseByteSize when exact', () => {
      for (const text of ['100b', '10kb', '32mb', '512mb', '1gb']) expect(formatBytes(parseByteSize(text))).to.equal(text);
    });
  });
});
