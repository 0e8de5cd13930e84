import { expect } from 'chai';
import { exactCanonical } from '../../../src/cluster/exact-json.js';
import { exactNumberText, JsonNumber, LosslessNumber, parseExactNumbers, parseLossless, RawJsonError, stringifyLossless } from '../../../src/cluster/raw-json.js';

describe('exactNumberText', () => {
  it('spells every number by its exact value', () => {
    const cases: [string, string][] = [
      ['0', '0'], ['-0', '0'], ['0.000', '0'], ['0e99', '0'],
      ['1', '1e0'], ['10', '1e1'], ['1.50', '15e-1'], ['1.5', '15e-1'], ['15e-1', '15e-1'], ['0.15E1', '15e-1'],
      ['1E+3', '1e3'], ['1000', '1e3'], ['-2.50E-400', '-25e-401'],
      ['9007199254740993', '9007199254740993e0'], ['9007199254740992', '9007199254740992e0'],
      ['9223372036854775807', '9223372036854775807e0'], ['-9223372036854775808', '-9223372036854775808e0'],
      ['123456789012345678901234567890', '12345678901234567890123456789e1'],
      ['1e400', '1e400'], ['1e99999999999999999999', '1e99999999999999999999'],
    ];
    for (const [literal, expected] of cases) expect(exactNumberText(literal), literal).to.equal(expected);
  });

  it('refuses what is not a JSON number', () => {
    for (const literal of ['01', '+1', '1.', '.5', '1e', '--1', 'NaN', 'Infinity', '0x10', '1_000', '']) {
      expect(exactNumberText(literal), literal).to.equal(undefined);
    }
  });
});

describe('parseExactNumbers', () => {
  it('builds numbers as JsonNumbers and everything else as JSON.parse does', () => {
    const value = parseExactNumbers('{"a":[1,2.50,true,false,null],"s":"t\\u00e9\\n","o":{}}') as Record<string, unknown>;
    expect(value['a']).to.deep.equal([new JsonNumber('1e0'), new JsonNumber('25e-1'), true, false, null]);
    expect(value['s']).to.equal('té\n');
    expect(value['o']).to.deep.equal({});
  });

  it('rejects malformed JSON', () => {
    for (const text of ['{"a":01}', '{"a":1,}', '[1 2]', '{"a":tru}', '"x', '1 2']) {
      expect(() => parseExactNumbers(text), text).to.throw(RawJsonError);
    }
  });
});

describe('exactCanonical', () => {
  const same = (a: string, b: string): boolean => exactCanonical(a) === exactCanonical(b);

  it('ignores key order, spacing and number spelling', () => {
    expect(same('{"a":1.50,"b":{"y":1E+3,"x":[1,2]}}', '{ "b" : { "x" : [ 1 , 2 ] , "y" : 1000 } , "a" : 1.5 }')).to.equal(true);
    expect(same('{"s":"\\u00e9\\/"}', '{"s":"é/"}')).to.equal(true);
  });

  it('tells apart integers past 2^53 that JSON.parse makes equal', () => {
    expect(JSON.parse('9007199254740993')).to.equal(JSON.parse('9007199254740992'));
    expect(same('{"n":9007199254740993}', '{"n":9007199254740992}')).to.equal(false);
    expect(same('{"n":-9223372036854775808}', '{"n":-9223372036854775807}')).to.equal(false);
    expect(same('{"n":123456789012345678901234567890}', '{"n":123456789012345678901234567891}')).to.equal(false);
    expect(same('{"n":1e400}', '{"n":1e401}')).to.equal(false);
  });

  it('tells apart values of different types that print alike', () => {
    expect(same('{"n":1}', '{"n":"1"}')).to.equal(false);
    expect(same('{"n":null}', '{"n":"null"}')).to.equal(false);
    expect(same('[1,[2]]', '[[1],2]')).to.equal(false);
    expect(same('{"a":{"b":1}}', '{"a.b":1}')).to.equal(false);
  });
});

describe('parseLossless and stringifyLossless', () => {
  const roundTrip = (text: string): string => stringifyLossless(parseLossless(Buffer.from(text, 'utf8')));

  it('keeps as literals only the numbers a double would change', () => {
    const value = parseLossless(Buffer.from('[1,1.5,0.1,-0,1e21,5e-324,9007199254740992,9007199254740993,123456789012345678901,1e400,0.30000000000000000001]')) as unknown[];
    expect(value.slice(0, 7)).to.deep.equal([1, 1.5, 0.1, -0, 1e21, 5e-324, 9007199254740992]);
    expect(value.slice(7)).to.deep.equal(['9007199254740993', '123456789012345678901', '1e400', '0.30000000000000000001'].map((l) => new LosslessNumber(l)));
  });

  it('writes back what it read (an alias filter on a 64-bit id, a mapping _meta)', () => {
    const filter = '{"term":{"user_id":9007199254740993}}';
    expect(roundTrip(filter)).to.equal(filter);
    const mapping = '{"_meta":{"ids":[-9223372036854775808,9223372036854775807]},"properties":{"n":{"type":"long","null_value":9007199254740995}}}';
    expect(roundTrip(mapping)).to.equal(mapping);
    expect(JSON.stringify(JSON.parse(filter))).to.not.equal(filter);
  });

  it('writes other values as JSON.stringify does', () => {
    const value = { a: [1, 'two', null, undefined, { b: true }], s: 'quote " \u2028 é', skipped: undefined, n: -0.5 };
    expect(stringifyLossless(value)).to.equal(JSON.stringify(value));
  });
});
