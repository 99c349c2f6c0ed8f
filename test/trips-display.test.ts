import { describe, expect, it } from 'vitest';
import { hasChromium } from './helpers/browser.ts';
import { displayInChromium } from './helpers/display.ts';
import { ManualProbes, PIN } from './helpers/gateway.ts';
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

  it('starts a trip with shipment references typed on the display; a wrong SSCC is refused there; they reach /api/trips/{id} and the report', async () => {
    const { gateway, page } = display;
    await page.goto(gateway.displayUrl);
    await page.locator('#trip-button', { hasText: 'START TRIP' }).click();
    await page.locator('#shipment').waitFor();
    await page.locator('#ship-bol').fill('CMR 2026/0042');
    await page.locator('#ship-order').fill('PO-7781');
    await page.locator('#ship-sscc').fill('106141412345678907');
    await page.locator('#ship-lots').fill('L2603-A L2603-B');
    await page.locator('#pin-input').fill(PIN);
    await page.locator('#pin-ok').click();
    await page.locator('#pin-error', { hasText: 'wrong check digit' }).waitFor();
    expect(gateway.rules.snapshot().trip).toBeUndefined();
    await page.locator('#ship-sscc').fill('106141412345678908 006141411234567890');
    await page.locator('#pin-input').fill(PIN);
    await page.locator('#pin-ok').click();
    await page.locator('#pin-dialog').waitFor({ state: 'hidden' });
    const shipment = { billOfLading: 'CMR 2026/0042', order: 'PO-7781', sscc: ['106141412345678908', '006141411234567890'], lots: ['L2603-A', 'L2603-B'] };
    expect(gateway.rules.snapshot().trip).toMatchObject({ startedBy: 'driver (display)', shipment });
    // Ending asks only for the PIN.
    await page.locator('#trip-button', { hasText: 'END TRIP' }).click();
    expect(await page.locator('#shipment').isHidden()).toBe(true);
    await page.locator('#pin-input').fill(PIN);
    await page.locator('#pin-ok').click();
    await page.locator('#pin-dialog').waitFor({ state: 'hidden' });
    await waitFor(() => gateway.rules.snapshot().trip === undefined, 5000, 'the trip ended');
    const archived = await waitFor(async () => (await gateway.archive.list()).find((e) => e.header.report?.shipment), 10_000, 'the trip archived');
    const api = (await (await fetch(new URL(`api/trips/${archived.header.tripId}`, gateway.displayUrl))).json()) as { report: { shipment: unknown } };
    expect(api.report.shipment).toEqual(shipment);
    await page.goto(new URL(`report?trip=${archived.header.tripId}`, gateway.displayUrl).href);
    expect(await page.locator('table').first().textContent()).toBe('Bill of ladingCMR 2026/0042OrderPO-7781SSCC106141412345678908, 006141411234567890LotsL2603-A, L2603-B');
    // The page of an archived trip shows its signed chain heads, as the html export does.
    expect(archived.header.chain?.key?.fingerprint).toMatch(/\S/);
    expect(await page.locator('.key-fingerprint').textContent()).toBe(archived.header.chain!.key!.fingerprint);
  }, 60_000);
});
