import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { epochSentences } from '../drivers/sim/nmea-format.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort } from './helpers/net.ts';
import { PtyPair } from './helpers/pty.ts';
import { PymodbusSlave } from './peers/pymodbus.ts';

/**
 * Four probes as a two-compartment truck has them: int16 tenths in input register 0. Unit 4 has
 * that one register only, so the scan's four-register read gets exception 02 from it.
 */
export const TRUCK_UNITS = {
  1: { ir: { 0: [41, 0, 0, 0] }, hr: { 0: [1, 0, 0, 0] } },
  2: { ir: { 0: [45, 0, 0, 0] }, hr: { 0: [2, 0, 0, 0] } },
  3: { ir: { 0: [0x10000 - 185, 0, 0, 0] }, hr: { 0: [3, 0, 0, 0] } },
  4: { ir: { 0: [0x10000 - 190] } },
};

/**
 * What a van's box has on its ports, for provision and check tests: an RS-485 bus on a pty with a
 * pymodbus slave behind it, a GPS receiver on another pty sending a fix every 200 ms, and a broker.
 */
export class BoxPeers {
  readonly bus: PtyPair;
  readonly gps: PtyPair;
  mosquitto!: Mosquitto;
  private slave!: PymodbusSlave;
  private gpsTimer: NodeJS.Timeout | undefined;
  private gpsFd: number | undefined;

  constructor(private readonly dir: string) {
    this.bus = new PtyPair(dir, 'rs485');
    this.gps = new PtyPair(dir, 'gps');
  }

  /** `bus.a` and `gps.a` are the box's ports. */
  async start(): Promise<void> {
    await Promise.all([this.bus.plug(), this.gps.plug()]);
    this.mosquitto = new Mosquitto({ port: await freePort(), dir: path.join(this.dir, 'mosquitto') });
    this.slave = new PymodbusSlave({ serial: this.bus.b }, TRUCK_UNITS);
    await Promise.all([this.mosquitto.start(), this.slave.start()]);
    const fd = openSync(this.gps.b, 'w');
    this.gpsFd = fd;
    this.gpsTimer = setInterval(() => writeSync(fd, epochSentences({ lat: 52.52, lon: 13.405, speed: 0, track: 0 } as Parameters<typeof epochSentences>[0], new Date())), 200);
  }

  async stop(): Promise<void> {
    clearInterval(this.gpsTimer);
    if (this.gpsFd !== undefined) closeSync(this.gpsFd);
    await Promise.all([this.slave?.stop(), this.mosquitto?.stop()]);
    await Promise.all([this.bus.unplug(), this.gps.unplug()]);
  }
}
