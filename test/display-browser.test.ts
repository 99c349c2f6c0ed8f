import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../src/rules/index.ts';
import type { Gateway } from '../src/runtime/gateway.ts';
import { hasChromium, launchChromium } from './helpers/browser.ts';
import { ManualProbes, PIN, startTestGateway } from './helpers/gateway.ts';
import { waitFor } from './helpers/net.ts';
import { tempDir } from './helpers/tmp.ts';

const ARTIFACTS = new URL('./artifacts/', import.meta.url).pathname;

describe.runIf(hasChromium())('driver display in Chromium', () => {
  const tmp = tempDir('coldgate-display-');
  const probes = new ManualProbes([3.0]);
  let gateway: Gateway;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await probes.start();
    gateway = await startTestGateway(probes, tmp.dir);
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

  /** The journal's alarm.raised events (no broker here, so nothing is acknowledged away). */
  async function raisedEvents() {
    const events = await gateway.journal.read('events', 0, 1000);
    return events.flatMap((e) => (e.kind === 'event' && e.type === 'alarm.raised' ? [{ ts: e.ts, alarm: (e.data as { alarm: Alarm }).alarm }] : []));
  }

  it('shows an alarm within 1 s of the rule firing; a wrong PIN does not acknowledge it, the right one does', async () => {
    await page.goto(gateway.displayUrl);
    await page.locator('[data-compartment="chiller"] .temp', { hasText: '3.0' }).waitFor();
    await page.locator('#live', { hasText: 'live' }).waitFor();
    // Note when each alarm first appears on the page, in the page's own clock (the same system clock as the box).
    await page.evaluate(() => {
      const shown: Record<string, number> = {};
      (window as unknown as { shown: typeof shown }).shown = shown;
      new MutationObserver(() => {
        for (const e of document.querySelectorAll<HTMLElement>('.alarm.waiting[data-alarm-id]')) shown[e.dataset.alarmId!] ??= Date.now();
      }).observe(document.body, { subtree: true, childList: true });
    });

    probes.celsius[0] = 9.5;
    const raised = await waitFor(async () => (await raisedEvents()).find((e) => e.alarm.severity === 'critical'), 10_000, 'critical alarm.raised in the journal');
    const shownAt = await waitFor(() => page.evaluate((id) => (window as unknown as { shown: Record<string, number> }).shown[id], raised.alarm.id), 5000, 'alarm on the page');
    const latencyMs = shownAt - Date.parse(raised.ts);
    console.log(`rule fired (alarm.raised ${raised.ts}) -> alarm on the page: ${latencyMs} ms`);
    expect(latencyMs).toBeLessThan(1000);

    const banner = page.locator(`.alarm[data-alarm-id="${raised.alarm.id}"]`);
    await expect.poll(() => banner.textContent()).toContain('Chiller above 8.0 C');
    await page.screenshot({ path: `${ARTIFACTS}display-alarm.png` });

    await banner.getByRole('button', { name: 'ACKNOWLEDGE' }).click();
    await page.locator('#pin-input').fill('1357');
    await page.locator('#pin-ok').click();
    await page.locator('#pin-error', { hasText: 'Wrong PIN' }).waitFor();
    expect(gateway.rules.snapshot().alarms.find((a) => a.id === raised.alarm.id)?.ackedBy).toBeUndefined();
    expect(await banner.getAttribute('class')).toContain('waiting');
    await page.screenshot({ path: `${ARTIFACTS}display-wrong-pin.png` });

    // The keypad, as a driver taps it.
    for (const key of PIN) await page.locator('#keypad button', { hasText: key }).click();
    await page.locator('#pin-ok').click();
    await page.locator('#pin-dialog').waitFor({ state: 'hidden' });
    await expect.poll(() => banner.getAttribute('class')).toContain('acked');
    expect(gateway.rules.snapshot().alarms.find((a) => a.id === raised.alarm.id)?.ackedBy).toBe('driver (display)');
    await page.screenshot({ path: `${ARTIFACTS}display-acknowledged.png`, fullPage: true });
  });
});
