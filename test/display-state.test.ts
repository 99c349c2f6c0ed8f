import { describe, expect, it } from 'vitest';
import { hasChromium } from './helpers/browser.ts';
import { ARTIFACTS, displayInChromium } from './helpers/display.ts';
import { ManualProbes } from './helpers/gateway.ts';
import { waitFor } from './helpers/net.ts';

describe.runIf(hasChromium())('compartment state on the display, as the engine decides it', () => {
  // Register 0: the chiller probe; discrete input 0: the door contact.
  const probes = new ManualProbes([3.0]);
  const display = displayInChromium(probes, {
    inputs: [{ id: 'door', bus: 'b', unit: 1, address: 0, intervalMs: 100 }],
    // No delays and no recovery time: the moment the door closes, the held excursion is raised.
    compartments: [{ id: 'chiller', name: 'Chiller', preset: 'chilled', delaySec: 0, clearDelaySec: 0, door: { input: 'door', afterMin: 0, maxMin: 30 } }],
  });

  const chiller = () => display.gateway.rules.snapshot().compartments.find((c) => c.id === 'chiller')!;

  it('a door-suppressed compartment out of range shows SUPPRESSED (not ALARM PENDING); closing the door raises it', async () => {
    const { gateway, page } = display;
    await page.goto(gateway.displayUrl);
    const card = page.locator('[data-compartment="chiller"]');
    await card.locator('.state', { hasText: 'OK' }).waitFor();

    // The door opens first and the engine sees it; only then does the temperature rise (set together,
    // a probe poll could land before the door's and raise the zero-delay alarm at once).
    probes.inputs[0] = true;
    await waitFor(() => chiller().suppressedBy.length > 0 || undefined, 5000, 'the engine to see the door open');
    probes.celsius[0] = 6.5;
    // The engine holds the excursion: past its (zero) delay, but the door is open.
    const held = await waitFor(() => {
      const d = chiller().display;
      return d.kind === 'suppressed' && d.held ? d : undefined;
    }, 5000, 'the engine to hold the excursion for the open door');
    expect(held.by).toEqual([expect.objectContaining({ cause: 'door', openEnded: true })]);
    await card.locator('.temp', { hasText: '6.5' }).waitFor();
    await expect.poll(() => card.locator('.state').textContent()).toBe('SUPPRESSED (door)');
    expect(await card.getAttribute('class')).toBe('comp suppressed');
    expect(await card.locator('.state-detail').textContent()).toMatch(/^door open · suppressed until \d\d:\d\d at the latest · above 5\.0 °C: alarm at \d\d:\d\d at the latest if still out$/);
    await page.screenshot({ path: `${ARTIFACTS}display-suppressed.png` });

    probes.inputs[0] = false;
    await waitFor(() => chiller().display.kind === 'alarm' || undefined, 5000, 'the engine to raise the alarm once the door closed');
    await expect.poll(() => card.locator('.state').textContent()).toBe('WARNING');
    expect(await card.locator('.state-detail').textContent()).toBe('above 5.0 °C · back in range below 4.5 °C');
  });
});
