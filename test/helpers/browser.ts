import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { peerPresent } from './peers.ts';

/** Debian's chromium: playwright never downloads a browser on these machines. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether the browser tests can run: in CI a missing browser fails them (helpers/peers.ts). */
export function hasChromium(): boolean {
  return peerPresent(existsSync(CHROMIUM), `chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
  });
}
