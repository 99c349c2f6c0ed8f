import { setTimeout as sleep } from 'node:timers/promises';
import type { GpsConfig } from '../config/schema-gps.ts';
import { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { createGpsDriver } from '../../drivers/gps-nmea/index.ts';

export interface GpsCheck {
  source: string;
  ok: boolean;
  detail: string;
  hint?: string;
}

/** Long enough for a 1 Hz receiver to send a few epochs; a silent port is only known by waiting. */
const LISTEN_MS = 3000;

/**
 * Opens the GPS port with the gateway's own driver and listens: red when the port cannot be
 * opened or no NMEA arrives (wrong baud rate, no power); green when sentences flow, even
 * without a fix, since a first fix under a roof may take minutes.
 */
export async function checkGps(cfg: GpsConfig, log: Logger, listenMs = LISTEN_MS): Promise<GpsCheck> {
  const driver = createGpsDriver(cfg, { sink: () => {}, clock: new Clock(), log });
  await driver.start();
  const deadline = Date.now() + listenMs;
  let h = driver.health();
  // Absent port: reported at once; the driver would go on retrying in the background.
  while (Date.now() < deadline && !(Number(h.mode) >= 2) && h.state !== 'offline') {
    await sleep(100);
    h = driver.health();
  }
  await driver.stop();
  const source = cfg.source;
  if (h.online !== true)
    return { source, ok: false, detail: h.detail ?? 'port unavailable', hint: 'check gps.source (ls -l /dev/serial/by-id), the cable, and that no other program holds the port' };
  if (!(Number(h.sentences) > 0))
    return { source, ok: false, detail: `port open, no NMEA in ${listenMs / 1000} s`, hint: `check gps.baudRate (now ${cfg.baudRate}; most receivers send 9600, older ones 4800) and that the receiver has power` };
  const fix = driver.latest();
  if (Number(h.mode) >= 2 && fix) return { source, ok: true, detail: `NMEA, ${h.mode}D fix at ${fix.lat.toFixed(5)}, ${fix.lon.toFixed(5)}` };
  return { source, ok: true, detail: 'NMEA flowing, no fix yet', hint: 'a first fix needs open sky: if it never comes, check the antenna and its cable' };
}
