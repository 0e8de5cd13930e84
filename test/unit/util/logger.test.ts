import { expect } from 'chai';
import { isLogLevel, memoryLogger, silentLogger } from '../../../src/util/logger.js';

describe('util/logger', () => {
  it('silentLogger accepts every call and its children are silent too', () => {
    silentLogger.error('x', { a: 1 });
    silentLogger.child({ b: 2 }).info('y');
    expect(silentLogger.child({})).to.equal(silentLogger);
  });

  it('memoryLogger records level, message and meta in order', () => {
    const logger = memoryLogger();
    logger.info('started', { port: 9809 });
    logger.warn('slow');
    expect(logger.entries).to.deep.equal([
      { level: 'info', message: 'started', meta: { port: 9809 } },
      { level: 'warn', message: 'slow', meta: {} },
    ]);
  });

  it('memoryLogger children share entries and merge meta, the call winning', () => {
    const logger = memoryLogger();
    const child = logger.child({ follower: 'f/a', shard: 0 }).child({ shard: 1 });
    child.error('failed', { shard: 2, reason: 'x' });
    child.debug('detail');
    expect(logger.entries).to.deep.equal([
      { level: 'error', message: 'failed', meta: { follower: 'f/a', shard: 2, reason: 'x' } },
      { level: 'debug', message: 'detail', meta: { follower: 'f/a', shard: 1 } },
    ]);
    logger.clear();
    expect(logger.entries).to.deep.equal([]);
  });

  it('isLogLevel knows exactly the four levels', () => {
    for (const level of ['error', 'warn', 'info', 'debug']) expect(isLogLevel(level)).to.equal(true);
    for (const other of ['verbose', 'INFO', '', 3, undefined]) expect(isLogLevel(other)).to.equal(false);
  });
});
