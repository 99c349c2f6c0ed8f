import { execFileSync } from 'node:child_process';

/**
 * Whether a Debian peer (mosquitto, openssl) is installed. Outside CI a missing peer skips the
 * tests that need it; in CI (CI=true) it fails them, so a broken image cannot pass by skipping.
 */
export function hasPeer(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`${command} is not installed: CI must have it (scripts/install-peers.sh)`);
    return false;
  }
}
