import { expect } from 'chai';
import { isLogLevel, memoryLogger, silentLogger } from '../../../src/util/logger.js';

describe('util/logger', () => {
  it('silentLogger writes nothing anywhere, nor do its children', () => {
    const written: string[] = [];
    const streams = [process.stdout, process.stderr] as const;
    const writes = streams.map((s) => s.write);
    const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
    const consoleMethods = methods.map((m) => console[m]);
    for (const s of streams) s.write = ((chunk: unknown) => { written.push(String(chunk)); return true; }) as typeof s.write;
    for (const m of methods) console[m] = (...args: unknown[]) => { written.push(args.map(String).join(' ')); };
    try {
      silentLogger.error('x', { a: 1 });
      silentLogger.warn('w');
      silentLogger.info('i');
      silentLogger.debug('d');
      silentLogger.child({ b: 2 }).child({ c: 3 }).error('y', { d: 4 });
    } finally {
      streams.forEach((s, i) => { s.write = writes[i]!; });
      methods.forEach((m, i) => { console[m] = consoleMethods[i]!; });
    }
    expect(written).to.deep.equal([]);
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
