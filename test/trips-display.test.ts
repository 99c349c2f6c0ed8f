import { describe, expect, it } from 'vitest';
import { hasChromium } from './helpers/browser.ts';
import { displayInChromium } from './helpers/display.ts';
import { ManualProbes } from './helpers/gateway.ts';
import { waitFor } from './helpers/net.ts';

describe.runIf(hasChromium())('past trips on the driver display', () => {
  const probes = new ManualProbes([3.0]);
  const display = displayInChromium(probes);

  it('lists archived trips, newest first, and opens the report of any of them', async () => {
    const { gateway, page } = display;
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      ids.push(gateway.rules.startTrip('test').id);
      await new Promise((r) => setTimeout(r, 1100));
      gateway.rules.endTrip('test');
    }
    await waitFor(async () => (await gateway.archive.list()).length === 2, 10_000, 'both trips archived');
    await page.goto(gateway.displayUrl);
    await page.locator('#past-trips summary').click();
    const links = page.locator('#trip-list a');
    await expect.poll(() => links.count()).toBe(2);
    expect(await links.evaluateAll((as) => as.map((a) => a.getAttribute('title')))).toEqual([...ids].reverse());
    // The older trip's report, not just the last one.
    const href = await links.nth(1).getAttribute('href');
    await page.goto(new URL(href!, gateway.displayUrl).href);
    expect(await page.locator('h1').textContent()).toBe(`Trip report ${ids[0]}`);
  }, 60_000);
});
