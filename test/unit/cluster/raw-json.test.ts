import { expect } from 'chai';
import { isRawJson, parseWithRawValues, RawJsonError } from '../../../src/cluster/raw-json.js';
import { mulberry32 } from '../../helpers/prng.js';

const SOURCE = new Set(['_source']);

function parse(text: string, keys: ReadonlySet<string> = SOURCE): unknown {
  return parseWithRawValues(Buffer.from(text, 'utf8'), keys);
}

const AWKWARD = ['"', '\\', '{', '}', '[', ']', ',', ':', '\n', '\t', '\u0001', 'é', '日本', '😀', '\u2028', '_source', '"_source":'];

function randomString(rand: () => number): string {
  let s = '';
  const n = Math.floor(rand() * 12);
  for (let i = 0; i < n; i += 1) s += rand() < 0.4 ? AWKWARD[Math.floor(rand() * AWKWARD.length)] : String.fromCharCode(97 + Math.floor(rand() * 26));
  return s;
}

function randomValue(rand: () => number, depth: number): unknown {
  const pick = rand();
  if (depth > 3 || pick < 0.3) {
    const scalar = rand();
    if (scalar < 0.4) return randomString(rand);
    if (scalar < 0.7) return Math.round((rand() - 0.5) * 1e6) / (rand() < 0.5 ? 1 : 1000);
    if (scalar < 0.8) return rand() < 0.5;
    if (scalar < 0.9) return null;
    return -1.5e-7;
  }
  if (pick < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  const obj: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 5); i > 0; i -= 1) obj[randomString(rand) || 'k'] = randomValue(rand, depth + 1);
  return obj;
}

describe('parseWithRawValues', () => {
  it('keeps every _source as its exact text and builds the rest like JSON.parse (1,000 random search answers)', () => {
    const rand = mulberry32(20261203);
    for (let round = 0; round < 1000; round += 1) {
      const sources = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => randomValue(rand, 0));
      const answer = {
        _shards: { total: 1, successful: 1, failed: 0 },
        timed_out: false,
        hits: { hits: sources.map((source, i) => ({ _id: randomString(rand) || `id${i}`, _seq_no: i, _primary_term: 1, _source: source })) },
      };
      // Pretty-printed half of the time: whitespace between tokens must not matter.
      const text = rand() < 0.5 ? JSON.stringify(answer) : JSON.stringify(answer, null, 2);
      const parsed = parse(text) as typeof answer & { hits: { hits: { _source: unknown }[] } };
      const expected = JSON.parse(text) as typeof answer;
      expect(parsed._shards).to.deep.equal(expected._shards);
      parsed.hits.hits.forEach((hit, i) => {
        const { _source: raw, ...rest } = hit as { _source: unknown };
        const { _source: source, ...expectedRest } = expected.hits.hits[i]!;
        expect(rest, `round ${round}`).to.deep.equal(expectedRest);
        expect(isRawJson(raw), `round ${round}`).to.equal(true);
        const rawJson = raw as { raw: string; bytes: number };
        expect(JSON.parse(rawJson.raw), `round ${round}`).to.deep.equal(source);
        expect(rawJson.bytes).to.equal(Buffer.byteLength(rawJson.raw));
        if (!text.includes('\n  ')) expect(rawJson.raw).to.equal(JSON.stringify(source));
      });
    }
  });

  it('passes through what a parse would change: integers above 2^53 and number spellings', () => {
    const text = '{"hits":{"hits":[{"_id":"a","_source":{"big":12345678901234567891,"price":1.50,"exp":1E+3}}]}}';
    const hit = (parse(text) as { hits: { hits: { _source: { raw: string } }[] } }).hits.hits[0]!;
    expect(hit._source.raw).to.equal('{"big":12345678901234567891,"price":1.50,"exp":1E+3}');
  });

  it('keeps raw values of any JSON type, and decodes escaped names and ids', () => {
    const parsed = parse('{"_source":"x\\"y","a\\u0041":[1,{"_source":[1,2]}],"n":null}') as Record<string, unknown>;
    expect((parsed['_source'] as { raw: string }).raw).to.equal('"x\\"y"');
    expect(parsed['aA']).to.be.an('array');
    expect(((parsed['aA'] as unknown[])[1] as { _source: { raw: string } })._source.raw).to.equal('[1,2]');
    expect(parsed['n']).to.equal(null);
  });

  it('tells apart member names that share a hash, and names that differ only in length', () => {
    // "Aa" and "BB" have the same 31-multiplier hash; the names a response repeats are looked up by it.
    const text = '{"Aa":1,"BB":2,"Aa":3,"a":4,"aa":5,"hits":[{"Aa":6,"BB":7},{"BB":8,"Aa":9}]}';
    expect(parse(text)).to.deep.equal(JSON.parse(text));
  });

  it('finds the end of strings of every length, with escapes on either side of where the scan changes method', () => {
    for (let length = 0; length < 80; length += 1) {
      for (const escape of ['\\"', '\\\\', '\\n', '\\u00e9', 'é']) {
        for (let at = 0; at <= length; at += 7) {
          const text = `${'x'.repeat(at)}${escape}${'y'.repeat(length - at)}`;
          const answer = `{"${text}":"${text}","_source":{"${text}":["${text}"]},"after":"${text}"}`;
          const parsed = parse(answer) as Record<string, unknown>;
          const expected = JSON.parse(answer) as Record<string, unknown>;
          const { _source: raw, ...rest } = parsed;
          const { _source: source, ...expectedRest } = expected;
          expect(rest, answer).to.deep.equal(expectedRest);
          expect(JSON.parse((raw as { raw: string }).raw), answer).to.deep.equal(source);
        }
      }
    }
  });

  it('reads numbers outside raw values exactly as JSON.parse does', () => {
    const text = '[0,7,42,-3,1.5,-0.25,1e3,2E-2,999999999999999,9007199254740993,123456789012345678901,true,false,null]';
    expect(parse(text)).to.deep.equal(JSON.parse(text));
    expect(() => parse('[01]')).to.throw(RawJsonError);
  });

  it('never lets a member named __proto__ set the prototype', () => {
    const parsed = parse('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).to.equal(Object.prototype);
    expect(parsed['__proto__']).to.deep.equal({ polluted: true });
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
  });

  for (const [name, text] of [
    ['an unterminated string', '{"hits":"abc'],
    ['an unterminated raw object', '{"_source":{"a":[1,2}'],
    ['unbalanced brackets in a raw value', '{"_source":{"a":[1,2}]}'],
    ['a missing colon', '{"a" 1}'],
    ['a missing comma', '{"a":1 "b":2}'],
    ['trailing data', '{"a":1} x'],
    ['a bad literal', '{"a":tru}'],
    ['a bad escape', '{"a":"\\q"}'],
    ['a raw control character in a string', '{"a":"x\ny"}'],
    ['an empty answer', ''],
  ] as const) {
    it(`refuses ${name}`, () => {
      expect(() => parse(text)).to.throw(RawJsonError);
    });
  }
});
