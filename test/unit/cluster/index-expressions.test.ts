import { expect } from 'chai';
import { chunkNames, coveringExpressions } from '../../../src/cluster/index-expressions.js';
import { wildcardMatch } from '../../../src/util/wildcard.js';

/** Every wanted name matched, and no other known name. */
function expectExactCover(expressions: readonly string[], wanted: readonly string[], known: readonly string[]): void {
  const matched = new Set([...known, ...wanted].filter((n) => expressions.some((e) => wildcardMatch(e, n))));
  expect([...matched].sort()).to.deep.equal([...new Set(wanted)].sort());
}

describe('coveringExpressions', () => {
  it('names a run of followed indices by one prefix that no other index shares', () => {
    const wanted = Array.from({ length: 500 }, (_, i) => `logs-2026.12.${String(i).padStart(4, '0')}`);
    const known = [...wanted, 'logs-archive', 'metrics-1', '.security-7'];
    const expressions = coveringExpressions(wanted, known);
    expectExactCover(expressions, wanted, known);
    expect(expressions).to.deep.equal(['logs-2026.12.0*']);
    expect(chunkNames(expressions)).to.have.length(1);
  });

  it('keeps a name that is a prefix of another index as itself, and a lone name as itself', () => {
    const known = ['logs', 'logs-other', 'metrics-a', 'metrics-b', 'nginx', 'zeta'];
    const wanted = ['logs', 'metrics-a', 'metrics-b', 'nginx'];
    const expressions = coveringExpressions(wanted, known);
    expectExactCover(expressions, wanted, known);
    expect(expressions).to.deep.equal(['logs', 'metrics-*', 'nginx']);
  });

  it('covers names the listing does not know yet, and falls back to names where everything else interleaves', () => {
    const known = ['a-1', 'a-3', 'a-5'];
    const wanted = ['a-2', 'a-4', 'a-6', 'b-new'];
    const expressions = coveringExpressions(wanted, known);
    expectExactCover(expressions, wanted, known);
    expect(expressions).to.deep.equal(['a-2', 'a-4', 'a-6', 'b-new']);
  });

  it('is exact for random names, with hidden indices, aliases and shared prefixes', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = ['a', 'b', '-', '.', '1', '2'];
    for (let round = 0; round < 200; round += 1) {
      const names = new Set<string>();
      const count = 1 + random(40);
      while (names.size < count) {
        const length = 1 + random(6);
        names.add(Array.from({ length }, () => alphabet[random(alphabet.length)]).join(''));
      }
      const all = [...names];
      const wanted = all.filter(() => random(3) > 0);
      const known = all.filter((n) => !wanted.includes(n) || random(4) > 0);
      expectExactCover(coveringExpressions(wanted, known), wanted, known);
    }
  });

  it('never cuts a prefix inside a character: every expression can be put in a URL', () => {
    const wanted = ['logs-\u{1F600}-a', 'logs-\u{1F600}-b', 'logs-\u{1F601}', 'logs-\u{1F602}'];
    const known = [...wanted, 'logs-\u{1F603}', 'metrics'];
    const expressions = coveringExpressions(wanted, known);
    expectExactCover(expressions, wanted, known);
    for (const e of expressions) expect(() => encodeURIComponent(e)).to.not.throw();
    expect(chunkNames(expressions).flat()).to.deep.equal(expressions);
    // Two names whose common prefix ends half-way through their last character.
    expect(coveringExpressions(['logs-\u{1F600}', 'logs-\u{1F601}'], ['metrics'])).to.deep.equal(['logs-*']);
  });

  it('returns nothing for nothing wanted', () => {
    expect(coveringExpressions([], ['a', 'b'])).to.deep.equal([]);
  });
});
