import { execFileSync } from 'node:child_process';

/**
 * The one rule for a missing Debian peer: outside CI the tests that need it are skipped; in CI
 * (CI=true) they fail, so a broken image cannot pass by skipping. Returns whether it is there.
 */
export function peerPresent(found: boolean, what: string): boolean {
  if (found) return true;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`${what}: CI must have it (scripts/install-peers.sh)`);
  return false;
}

/** Whether a command (mosquitto, openssl) is on the PATH, under the rule above. */
export function hasPeer(command: string): boolean {
  let found = true;
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
  } catch {
    found = false;
  }
  return peerPresent(found, `${command} is not installed`);
}
