// Prints `N passed, N failed` from vitest's JSON report; exits 1 when anything failed or nothing ran.
// usage: node scripts/test-summary.mjs REPORT [VITEST_EXIT_CODE]
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-results.json';
const vitestExit = Number(process.argv[3] ?? 0);
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch {
  console.log('0 passed, 1 failed');
  console.error(`test-summary: no vitest JSON report at ${file}`);
  process.exit(1);
}
// A suite that fails to load has no test results but still failed.
const brokenSuites = report.testResults.filter((s) => s.status === 'failed' && s.assertionResults.length === 0).length;
const passed = report.numPassedTests;
// Unhandled errors (an exception thrown after a test ended) fail the run, but the JSON report
// still says success: vitest's exit code is the only sign, and it counts as one failure.
const unhandled = vitestExit !== 0 && report.numFailedTests + brokenSuites === 0 ? 1 : 0;
if (unhandled) console.error(`test-summary: vitest exited ${vitestExit} with every test passed: an unhandled error (see "Unhandled Errors" above) counts as a failure`);
const failed = report.numFailedTests + brokenSuites + unhandled;
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
