/** The one line CI reads (scripts/test-summary.mjs): it must never say "0 failed" for a run that failed. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.ts';

const SCRIPT = new URL('../scripts/test-summary.mjs', import.meta.url).pathname;
const report = (over: Record<string, unknown>) => ({ numPassedTests: 3, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0, success: true, testResults: [{ status: 'passed', assertionResults: [{}, {}, {}] }], ...over });

describe('the CI summary line', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const summary = (doc: unknown, vitestExit?: number) => {
    const file = path.join(tmp.dir, `r${Math.random()}.json`);
    writeFileSync(file, JSON.stringify(doc));
    const r = spawnSync(process.execPath, [SCRIPT, file, ...(vitestExit === undefined ? [] : [String(vitestExit)])], { encoding: 'utf8' });
    return { line: r.stdout.trim(), status: r.status };
  };

  it('passes a clean run', () => expect(summary(report({}), 0)).toEqual({ line: '3 passed, 0 failed', status: 0 }));
  it('counts failed tests and suites that did not load', () => {
    expect(summary(report({ numFailedTests: 2, testResults: [{ status: 'failed', assertionResults: [] }] }), 1)).toEqual({ line: '3 passed, 3 failed', status: 1 });
  });
  it('counts an unhandled error as a failure when every test passed but vitest exited non-zero', () => {
    expect(summary(report({}), 1)).toEqual({ line: '3 passed, 1 failed', status: 1 });
  });
  it('fails a run in which nothing ran', () => expect(summary(report({ numPassedTests: 0, testResults: [] }), 0)).toEqual({ line: '0 passed, 0 failed', status: 1 }));
});
