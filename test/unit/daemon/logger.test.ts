import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger, redactValue, type LoggerOptions } from '../../../src/daemon/logger.js';
import { SecretRegistry } from '../../../src/util/secrets.js';

const PASSWORD = 's3cr3t-Pa55';

/** A logger writing into memory; `finish()` closes it and returns everything it wrote. */
function capturedLogger(options: Partial<LoggerOptions> = {}) {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk) => chunks.push(String(chunk)));
  const logger = createLogger({ level: 'debug', format: 'text', ...options, stream });
  return {
    logger,
    async finish(): Promise<string> {
      await logger.close();
      return chunks.join('');
    },
  };
}

describe('daemon/logger', () => {
  for (const format of ['text', 'json'] as const) {
    it(`never writes a registered password, wherever it hides (${format})`, async () => {
      const secrets = new SecretRegistry();
      secrets.add(PASSWORD);
      const { logger, finish } = capturedLogger({ format, secrets });
      const err = new Error(`auth failed for elastic:${PASSWORD}`);
      logger.error(`login with ${PASSWORD} refused`, { err, detail: { nested: [`x${PASSWORD}x`] } });
      logger.child({ note: PASSWORD }).warn('child', { url: `https://elastic:${PASSWORD}@es1:9200/_bulk` });
      const output = await finish();
      expect(output).to.include('refused').and.include('<redacted>');
      expect(output).not.to.include(PASSWORD);
    });
  }

  it('never writes a registered password to the log file either', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ccr-logger-'));
    try {
      const secrets = new SecretRegistry();
      secrets.add(PASSWORD);
      const file = path.join(dir, 'ccr-follow.log');
      const { logger, finish } = capturedLogger({ file, secrets, format: 'json' });
      logger.info(`connecting with ${PASSWORD}`, { password: PASSWORD });
      await finish();
      const written = await readFile(file, 'utf8');
      expect(written).to.include('connecting with <redacted>');
      expect(written).not.to.include(PASSWORD);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('redacts a secret registered after the logger was created', async () => {
    const secrets = new SecretRegistry();
    const { logger, finish } = capturedLogger({ secrets });
    secrets.add(PASSWORD);
    logger.info(PASSWORD);
    expect(await finish()).not.to.include(PASSWORD);
  });

  it('replaces the values of secret-named keys at any depth, whatever their case', async () => {
    const { logger, finish } = capturedLogger({ format: 'json' });
    logger.info('request', {
      Password: 'aa', auth: { passwd: 'bb', apiKey: 'cc', api_key: 'dd', bearer_token: 'ee' },
      headers: { Authorization: 'Basic ZZZ' }, client_secret: 'ff', credentials: { user: 'u' }, shard: 3,
    });
    const entry = JSON.parse(await finish()) as Record<string, unknown>;
    expect(entry).to.deep.include({
      Password: '<redacted>',
      auth: { passwd: '<redacted>', apiKey: '<redacted>', api_key: '<redacted>', bearer_token: '<redacted>' },
      headers: { Authorization: '<redacted>' }, client_secret: '<redacted>', credentials: '<redacted>', shard: 3,
    });
  });

  it('strips user:pass@ from URLs in messages and meta', async () => {
    const { logger, finish } = capturedLogger();
    logger.info('GET http://bob:pw1@localhost:9200/_stats failed', { url: 'https://u:p@es:9200' });
    const output = await finish();
    expect(output).to.include('GET http://localhost:9200/_stats failed').and.include('"https://es:9200"');
    expect(output).not.to.include('bob').and.not.include('pw1');
  });

  it('writes json entries with level, message, timestamp and child meta', async () => {
    const { logger, finish } = capturedLogger({ format: 'json' });
    logger.child({ follower: 'follower/logs' }).info('started', { shards: 2 });
    const entry = JSON.parse(await finish()) as Record<string, unknown>;
    expect(entry).to.include({ level: 'info', message: 'started', follower: 'follower/logs', shards: 2 });
    expect(entry.timestamp).to.be.a('string');
  });

  it('writes one text line per entry', async () => {
    const { logger, finish } = capturedLogger();
    logger.warn('slow', { ms: 1200 });
    expect(await finish()).to.match(/^\d{4}-\d\d-\d\dT\S+ warn {2}slow {"ms":1200}\n$/);
  });

  it('drops entries below the configured level', async () => {
    const { logger, finish } = capturedLogger({ level: 'warn' });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    const lines = (await finish()).trim().split('\n');
    expect(lines.map((line) => line.split(/\s+/)[2])).to.deep.equal(['w', 'e']);
  });

  it('close() is idempotent and later entries are dropped', async () => {
    const { logger, finish } = capturedLogger();
    logger.info('before');
    const first = logger.close();
    expect(logger.close()).to.equal(first);
    logger.info('after');
    const output = await finish();
    expect(output).to.include('before').and.not.include('after');
  });

  describe('redactValue', () => {
    it('leaves its input untouched', () => {
      const input = { password: 'x', nested: { token: 'y', ok: 1 } };
      const copy = structuredClone(input);
      redactValue(input, new SecretRegistry());
      expect(input).to.deep.equal(copy);
    });

    it('turns errors into plain objects and cuts cycles', () => {
      const cyclic: Record<string, unknown> = { name: 'a' };
      cyclic.self = cyclic;
      const err = Object.assign(new Error('boom'), { statusCode: 503 });
      const result = redactValue({ cyclic, err, shared: [1n] }, new SecretRegistry()) as Record<string, Record<string, unknown>>;
      expect(result.cyclic).to.deep.equal({ name: 'a', self: '[Circular]' });
      expect(result.err).to.include({ name: 'Error', message: 'boom', statusCode: 503 });
      expect(result.err?.stack).to.be.a('string');
      expect(result.shared).to.deep.equal(['1']);
    });

    it('uses an error\'s toJSON for fields kept in getters, and summarises binary data', () => {
      class ClusterishError extends Error {
        get statusCode(): number { return 429; }
        toJSON(): Record<string, unknown> { return { statusCode: this.statusCode, password: 'pw' }; }
      }
      const result = redactValue({ err: new ClusterishError('busy'), body: Buffer.from('abc') }, new SecretRegistry()) as Record<string, Record<string, unknown>>;
      expect(result.err).to.include({ message: 'busy', statusCode: 429, password: '<redacted>' });
      expect(result.body).to.equal('[3 bytes]');
    });
  });
});
