import { describe, expect, it } from 'vitest';
import type { Alarm } from '../src/rules/index.ts';
import { hasChromium } from './helpers/browser.ts';
import { ARTIFACTS, displayInChromium } from './helpers/display.ts';
import { ManualProbes, PIN } from './helpers/gateway.ts';
import { waitFor } from './helpers/net.ts';

describe.runIf(hasChromium())('driver display in Chromium', () => {
  const probes = new ManualProbes([3.0]);
  const display = displayInChromium(probes);

  /** The journal's alarm.raised events (no broker here, so nothing is acknowledged away). */
  async function raisedEvents() {
    const events = await display.gateway.journal.read('events', 0, 1000);
    return events.flatMap((e) => (e.kind === 'event' && e.type === 'alarm.raised' ? [{ ts: e.ts, alarm: (e.data as { alarm: Alarm }).alarm }] : []));
  }

  it('shows an alarm within 1 s of the rule firing; a wrong PIN does not acknowledge it, the right one does', async () => {
    const { gateway, page } = display;
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
