#!/usr/bin/env bash
# The README's test command: peers, type check, the vitest suites, then one plain summary line.
set -u
cd "$(dirname "$0")/.."
bash scripts/install-peers.sh || exit 1
npx tsc -p tsconfig.json || { echo "0 passed, 1 failed"; echo "type check failed" >&2; exit 1; }
out=.vitest-results.json
rm -f "$out"
npx vitest run --config test/vitest.config.ts --reporter=default --reporter=json --outputFile.json="$out" "$@"
rc=$?
node scripts/test-summary.mjs "$out" "$rc" || rc=1
exit $rc
