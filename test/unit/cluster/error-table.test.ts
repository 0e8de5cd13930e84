/**
 * docs/architecture.md's error table against `CLASSIFY_TABLE`, both ways: every row of the code
 * is in the table with the same verdict, kind and "auto-follow tries again", and every type,
 * status and class the table names is a row of the code. So the two cannot drift.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { CLASSIFY_TABLE, type Row } from '../../../src/cluster/classify.js';

/** From dist/test/unit/cluster/ back to the repository. */
const ARCHITECTURE = new URL('../../../../docs/architecture.md', import.meta.url);

interface DocRow {
  readonly error: string;
  readonly verdict: string;
  readonly kind: string;
  readonly why: string;
  /** The back-quoted names in the first column, after its leading `error.type` / `class` words. */
  readonly names: string[];
}

function docRows(): DocRow[] {
  const text = readFileSync(ARCHITECTURE, 'utf8');
  const start = text.indexOf('### Error table');
  expect(start, 'the "Error table" section').to.be.above(-1);
  const end = text.indexOf('\n## ', start);
  const lines = text.slice(start, end === -1 ? undefined : end).split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| ---'));
  return lines.slice(1).map((line) => {
    const [error = '', verdict = '', kind = '', why = ''] = line.slice(2, -2).split(' | ');
    return { error, verdict, kind: kind.replaceAll('`', ''), why, names: [...error.matchAll(/`([^`]+)`/g)].map((m) => m[1]!) };
  });
}

const retriesAgain = (r: DocRow): boolean => r.why.includes('auto-follow tries again');

function expectSame(doc: DocRow | undefined, row: Row, what: string): void {
  expect(doc, `${what}: a row in docs/architecture.md's error table`).to.not.equal(undefined);
  expect(doc!.verdict, `${what}: verdict`).to.equal(row.action);
  expect(doc!.kind, `${what}: kind`).to.equal(row.kind);
  expect(retriesAgain(doc!), `${what}: "auto-follow tries again"`).to.equal(row.action === 'fatal' && row.autoFollowRetries === true);
}

describe('docs/architecture.md error table', () => {
  const rows = docRows();
  const typeRows = rows.filter((r) => r.error.startsWith('`error.type`'));
  const statusRows = rows.filter((r) => r.error.startsWith('status '));
  const classRows = rows.filter((r) => r.error.startsWith('class '));

  it('lists every error.type row of classify, with its verdict and kind, and no type classify lacks', () => {
    for (const [type, row] of Object.entries(CLASSIFY_TABLE.byType)) expectSame(typeRows.find((r) => r.names.includes(type)), row, `error.type ${type}`);
    const documented = typeRows.flatMap((r) => r.names.filter((n) => n !== 'error.type'));
    for (const type of documented) expect(Object.hasOwn(CLASSIFY_TABLE.byType, type), `documented error.type ${type} is a row of classify`).to.equal(true);
  });

  it('lists every status row of classify, with its verdict and kind, and no status classify lacks', () => {
    const statusesOf = (r: DocRow): string[] => r.error.replace(/\(.*\)/, '').match(/\d{3}/g) ?? [];
    for (const [status, row] of Object.entries(CLASSIFY_TABLE.byStatus)) expectSame(statusRows.find((r) => statusesOf(r).includes(status)), row, `status ${status}`);
    for (const status of statusRows.flatMap(statusesOf)) expect(Object.hasOwn(CLASSIFY_TABLE.byStatus, status), `documented status ${status}`).to.equal(true);
  });

  it('lists every error class classify decides by, and no class it lacks', () => {
    for (const [kind, row] of Object.entries(CLASSIFY_TABLE.byClass)) {
      if (row === undefined) continue;
      expectSame(classRows.find((r) => r.names[0] === kind), row, `class ${kind}`);
    }
    for (const r of classRows) expect(CLASSIFY_TABLE.byClass, `documented class ${r.names[0]}`).to.have.property(r.names[0]!).that.is.not.equal(undefined);
  });

  it('lists the rows for errors outside the cluster answers: unknown alias, own checks, other answers, not from a cluster', () => {
    expectSame(rows.find((r) => r.names[0] === 'UnknownClusterError'), CLASSIFY_TABLE.unknownCluster, 'UnknownClusterError');
    expectSame(rows.find((r) => r.names[0] === 'IllegalReplicationStateError'), CLASSIFY_TABLE.illegalState, 'IllegalReplicationStateError');
    expectSame(rows.find((r) => r.error.startsWith('any other answer')), CLASSIFY_TABLE.otherResponse, 'any other answer');
    expectSame(rows.find((r) => r.error.startsWith('anything else that is not')), CLASSIFY_TABLE.notFromACluster, 'not from a cluster');
  });
});
