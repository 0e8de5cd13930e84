import { expect } from 'chai';
import { STATUS_PAGE_HTML } from '../../../src/daemon/status-page.js';
import { followerStatus } from '../../../src/follow/follower-status.js';

describe('status page', () => {
  it('reads the daemon\'s history and acts through the CCR API, with no external resource', () => {
    expect(STATUS_PAGE_HTML).to.include('"/_status/history"');
    for (const action of ['pause_follow', 'resume_follow', 'unfollow']) expect(STATUS_PAGE_HTML).to.include(`b('${action}', `);
    expect(STATUS_PAGE_HTML).to.not.match(/(src|href)=["']?https?:/);
  });

  it('derives a follower\'s status with followerStatus itself, which runs on its own in the browser', () => {
    const source = followerStatus.toString();
    expect(STATUS_PAGE_HTML).to.include(source);
    expect(STATUS_PAGE_HTML).to.include('const st = followerStatus(f);');
    // Built with only the global scope, as in the page: it must need nothing from its module.
    const inPage = new Function(`${source}\nreturn followerStatus;`)() as typeof followerStatus;
    const cases = [
      { status: 'active' as const },
      { status: 'paused' as const },
      { status: 'paused' as const, fatal_exception: { type: 'index_not_found_exception', reason: 'gone' } },
    ];
    expect(cases.map((c) => inPage(c))).to.deep.equal(['active', 'paused', 'failed']);
    expect(cases.map((c) => followerStatus(c))).to.deep.equal(['active', 'paused', 'failed']);
  });
});
