import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { Gateway } from '../../src/runtime/gateway.ts';
import { launchChromium } from './browser.ts';
import { startTestGateway, type ManualProbes } from './gateway.ts';
import { tempDir } from './tmp.ts';

/** Where the browser tests leave their screenshots. */
export const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;

/**
 * A test gateway reading `probes` (`extra` merged into its config) and a Chromium page, for the
 * calling describe: started in its beforeAll, stopped in its afterAll. Open the display with
 * `page.goto(gateway.displayUrl)`.
 */
export function displayInChromium(probes: ManualProbes, extra: Record<string, unknown> = {}): { readonly gateway: Gateway; readonly page: Page } {
  const tmp = tempDir('coldgate-display-');
  let gateway: Gateway | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await probes.start();
    gateway = await startTestGateway(probes, tmp.dir, extra);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (err) => console.error('page error:', err.message));
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await probes.close();
    tmp.cleanup();
  });

  const started = <T>(what: string, v: T | undefined): T => {
    if (v === undefined) throw new Error(`the display fixture has no ${what}: its beforeAll failed or has not run`);
    return v;
  };
  return {
    get gateway() {
      return started('gateway', gateway);
    },
    get page() {
      return started('page', page);
    },
  };
}
