/**
 * The fail-back plan: per old-leader document and per promoted-only document, what fail-back does,
 * the version base, and the refusals.
 */
import { expect } from 'chai';
import {
  baseVersion, decideOldLeaderDoc, decidePromotedOnlyDoc, failbackRefusal, IN_MEMORY_DIFF_MAX_IDS, isReplicatedAbove, lostWriteLine, mayDeleteVersion,
  promotedOnlyPassNeeded, shardComparison, versionBase,
} from '../../../src/follow/failback-plan.js';
import { externalVersion } from '../../../src/shard/external-version.js';

// The follower had applied the leader's history up to 99; its own max_seq_no then was 120.
const POINT = { leaderCheckpoint: 99, maxSeqNo: 120 };
const doc = (seqNo: number, version = 1) => ({ id: 'a', routing: undefined, seqNo, version });

describe('failback plan', () => {
  describe('decideOldLeaderDoc', () => {
    it('keeps a document both sides had at promotion and the promoted index did not change', () => {
      expect(decideOldLeaderDoc(doc(99), { found: true, seqNo: 120 }, POINT)).to.deep.equal({ kind: 'keep' });
    });
    it('leaves to the reverse follow a document the promoted index changed after promotion', () => {
      expect(decideOldLeaderDoc(doc(10), { found: true, seqNo: 121 }, POINT)).to.deep.equal({ kind: 'follow' });
    });
    it('puts back an old-leader write above the leader checkpoint (a lost write), whatever the promoted side did since', () => {
      expect(decideOldLeaderDoc(doc(100), { found: true, seqNo: 5 }, POINT)).to.deep.equal({ kind: 'put_back' });
      expect(decideOldLeaderDoc(doc(100), { found: true, seqNo: 500 }, POINT)).to.deep.equal({ kind: 'put_back' });
    });
    it('deletes a lost write the promoted index lacks, and says it was lost', () => {
      expect(decideOldLeaderDoc(doc(100), { found: false }, POINT)).to.deep.equal({ kind: 'delete', lost: true });
    });
    it('deletes a document deleted on the promoted index after promotion, which is no lost write', () => {
      expect(decideOldLeaderDoc(doc(99), { found: false }, POINT)).to.deep.equal({ kind: 'delete', lost: false });
    });
  });

  describe('decidePromotedOnlyDoc', () => {
    it('restores a document the promoted index had at promotion (the old leader deleted it: a lost delete)', () => {
      expect(decidePromotedOnlyDoc(120, POINT)).to.equal('restore');
    });
    it('leaves a document created after promotion to the reverse follow', () => {
      expect(decidePromotedOnlyDoc(121, POINT)).to.equal('follow');
    });
  });

  describe('shardComparison', () => {
    it('compares a shard in memory up to the bound, page by page above it', () => {
      expect(shardComparison(0)).to.equal('in_memory');
      expect(shardComparison(IN_MEMORY_DIFF_MAX_IDS)).to.equal('in_memory');
      expect(shardComparison(IN_MEMORY_DIFF_MAX_IDS + 1)).to.equal('paged');
      expect(shardComparison(5, 4)).to.equal('paged');
      expect(shardComparison(0, 0)).to.equal('in_memory');
    });
  });

  describe('promotedOnlyPassNeeded', () => {
    // POINT: leader checkpoint 99, promoted max 120.
    it('skips the pass when the old leader has no operation above the leader checkpoint: it deleted nothing the promoted index had', () => {
      expect(promotedOnlyPassNeeded({ oldMaxSeqNo: 99, promotedAtPromotion: 50, matchedAtPromotion: 10 }, POINT)).to.equal(false);
      expect(promotedOnlyPassNeeded({ oldMaxSeqNo: -1, promotedAtPromotion: 50, matchedAtPromotion: 0 }, POINT)).to.equal(false);
    });
    it('skips the pass when every promoted document at or below the max was matched by an old-leader document', () => {
      expect(promotedOnlyPassNeeded({ oldMaxSeqNo: 150, promotedAtPromotion: 50, matchedAtPromotion: 50 }, POINT)).to.equal(false);
      expect(promotedOnlyPassNeeded({ oldMaxSeqNo: 150, promotedAtPromotion: 0, matchedAtPromotion: 0 }, POINT)).to.equal(false);
    });
    it('runs the pass when a promoted document at or below the max was not matched (the old leader may have deleted it)', () => {
      expect(promotedOnlyPassNeeded({ oldMaxSeqNo: 100, promotedAtPromotion: 50, matchedAtPromotion: 49 }, POINT)).to.equal(true);
    });
    it('runs the pass when the counts disagree the other way, which no consistent read gives', () => {
      expect(promotedOnlyPassNeeded({ oldMaxSeqNo: 100, promotedAtPromotion: 50, matchedAtPromotion: 51 }, POINT)).to.equal(true);
    });
  });

  describe('versions', () => {
    it('puts the base above every old version, on a multiple of the stride', () => {
      expect(versionBase(0)).to.equal(1024);
      expect(versionBase(1)).to.equal(1024);
      expect(versionBase(1023)).to.equal(1024);
      expect(versionBase(1024)).to.equal(2048);
      expect(versionBase(5000)).to.equal(5120);
      expect(() => versionBase(-1)).to.throw(RangeError);
    });
    it('writes above the base, growing with the seq_no, so a document updated 5,000 times is still overwritten', () => {
      const base = versionBase(5000);
      expect(baseVersion(base, 0)).to.be.above(5000);
      expect(baseVersion(base, 7)).to.equal(base + externalVersion(7));
      expect(baseVersion(base, 8)).to.be.above(baseVersion(base, 7));
      expect(isReplicatedAbove(base, baseVersion(base, 0))).to.equal(true);
    });
    it('tells ccr-follow\'s writes from foreign ones and from documents left as they were', () => {
      const base = 5120;
      expect(isReplicatedAbove(0, 1024)).to.equal(true);
      expect(isReplicatedAbove(0, 1025)).to.equal(false);
      expect(isReplicatedAbove(base, 4096)).to.equal(false); // an old external version, below the base
      expect(isReplicatedAbove(base, base + 1024 + 1)).to.equal(false); // a foreign write over ours
      expect(mayDeleteVersion(base, 7)).to.equal(true); // left as it was: equal to the leader's then
      expect(mayDeleteVersion(base, base + 2048)).to.equal(true);
      expect(mayDeleteVersion(base, base + 2049)).to.equal(false);
      expect(mayDeleteVersion(0, 7)).to.equal(false); // an ordinary follow: foreign
    });
  });

  describe('lostWriteLine', () => {
    it('keeps the old leader\'s source as stored on one line', () => {
      const line = lostWriteLine({
        shard: 1, id: 'x"1', routing: 'r', sourceJson: '{\n  "n": 9007199254740993,\r\n  "s": "a\\nb"\n}', seqNo: 104, version: 5000, failback: 'put_back',
      });
      expect(line).to.not.match(/[\r\n]/);
      expect(line).to.include('"n": 9007199254740993');
      expect(JSON.parse(line)).to.deep.include({ shard: 1, _id: 'x"1', _routing: 'r', _seq_no: 104, _version: 5000, deleted_on_old_leader: false, failback: 'put_back' });
      expect(JSON.parse(line)._source.s).to.equal('a\nb');
    });
    it('marks a delete made on the old leader only', () => {
      const parsed = JSON.parse(lostWriteLine({ shard: 0, id: 'd', routing: undefined, sourceJson: undefined, seqNo: undefined, version: undefined, failback: 'restored' }));
      expect(parsed).to.deep.equal({ shard: 0, _id: 'd', _routing: null, _seq_no: null, _version: null, deleted_on_old_leader: true, failback: 'restored', _source: null });
    });
  });

  describe('failbackRefusal', () => {
    const pair = { promotedCluster: 'follower', promotedIndex: 'orders', oldLeaderCluster: 'leader', oldLeaderIndex: 'orders' };
    const promotion = { leaderCluster: 'leader', leaderIndex: 'orders', indexUuids: { leader: 'L', follower: 'F' }, shards: { 0: POINT, 1: POINT } };
    const promoted = { uuid: 'F', numberOfShards: 2 };
    const old = { uuid: 'L', numberOfShards: 2 };
    it('accepts the pair the record names', () => {
      expect(failbackRefusal(pair, promotion, promoted, old)).to.equal(undefined);
    });
    it('refuses without a promotion record, or with one of another leader', () => {
      expect(failbackRefusal(pair, undefined, promoted, old)).to.match(/no promotion record for \[follower\/orders\]/);
      expect(failbackRefusal({ ...pair, oldLeaderIndex: 'other' }, promotion, promoted, old)).to.match(/promoted from \[leader\/orders\], not from \[leader\/other\]/);
    });
    it('refuses indices whose uuid is not the recorded one', () => {
      expect(failbackRefusal(pair, promotion, { ...promoted, uuid: 'F2' }, old)).to.match(/\[follower\/orders\] has index uuid \[F2\], not \[F\]/);
      expect(failbackRefusal(pair, promotion, promoted, { ...old, uuid: 'L2' })).to.match(/\[leader\/orders\] has index uuid \[L2\], not \[L\]/);
    });
    it('refuses different shard counts', () => {
      expect(failbackRefusal(pair, promotion, promoted, { ...old, numberOfShards: 3 })).to.match(/2 shard\(s\) and \[leader\/orders\] 3/);
    });
  });
});
