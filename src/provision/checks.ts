import type { GatewayConfig } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';
import { checkProbes } from '../../drivers/modbus-probe/check.ts';
import { checkBroker } from './check-broker.ts';
import { checkGps } from './check-gps.ts';
import { checkStorage } from './check-storage.ts';

/** One row of `coldgate check`: a device, green or red, why, and what to do. */
export interface DeviceCheck {
  kind: 'probe' | 'gps' | 'broker' | 'storage';
  id: string;
  where: string;
  ok: boolean;
  detail: string;
  hint?: string;
  /** °C, for a probe that read. */
  value?: number;
}

/** Reads every probe once, listens to the GPS, connects to the broker and looks at the disk, all at once. */
export async function checkDevices(cfg: GatewayConfig, log: Logger): Promise<DeviceCheck[]> {
  const [probes, gps, broker] = await Promise.all([checkProbes(cfg, log), cfg.gps && checkGps(cfg.gps, log), checkBroker(cfg.uplink, cfg.gatewayId)]);
  const rows: DeviceCheck[] = probes.map((p) => ({
    kind: 'probe',
    id: p.probe,
    where: `${p.at} unit ${p.unit} reg ${p.function}:${p.address}`,
    ok: p.quality === 'good',
    detail: p.quality === 'good' ? `${p.value} °C` : `${p.quality.replace('-', ' ')}: ${p.error?.replace(/^probe [^:]*: /, '') ?? ''}`,
    ...(p.hint !== undefined && { hint: p.hint }),
    ...(p.value !== null && { value: p.value }),
  }));
  if (gps) rows.push({ kind: 'gps', id: 'gps', where: gps.source, ok: gps.ok, detail: gps.detail, ...(gps.hint !== undefined && { hint: gps.hint }) });
  rows.push({ kind: 'broker', id: 'broker', where: broker.url, ok: broker.ok, detail: broker.detail, ...(broker.hint !== undefined && { hint: broker.hint }) });
  const storage = checkStorage(cfg.dataDir, cfg.journal.maxBytes);
  rows.push({ kind: 'storage', id: 'data', where: storage.dir, ok: storage.ok, detail: storage.detail, ...(storage.hint !== undefined && { hint: storage.hint }) });
  return rows;
}

const GREEN = (s: string) => `\x1b[32m${s}\x1b[0m`;
const RED = (s: string) => `\x1b[31m${s}\x1b[0m`;

/**
 * One table, a device a line, what to do under each red one:
 *   device         where                          state  detail
 *   probe front-1  rtu:/dev/ttyUSB0@9600 unit 1   OK     4.1 °C
 *   broker         mqtts://broker:8883            FAIL   connect ECONNREFUSED
 *                                                        -> check uplink.url, the network ...
 */
export function formatDeviceChecks(rows: readonly DeviceCheck[], color = false): string {
  const cells = rows.map((r) => [r.kind === 'probe' ? `probe ${r.id}` : r.kind, r.where, r.ok ? 'OK' : 'FAIL', r.detail]);
  const header = ['device', 'where', 'state', 'detail'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const paint = (state: string) => (!color ? state : state === 'OK' ? GREEN(state) : RED(state));
  const line = (c: string[], painted = c[2]!) => [c[0]!.padEnd(widths[0]!), c[1]!.padEnd(widths[1]!), painted + ' '.repeat(widths[2]! - c[2]!.length), c[3]].join('  ');
  const indent = ' '.repeat(widths[0]! + widths[1]! + widths[2]! + 6);
  const out = [line(header)];
  rows.forEach((r, i) => {
    out.push(line(cells[i]!, paint(cells[i]![2]!)));
    if (r.hint) out.push(`${indent}-> ${r.hint}`);
  });
  const bad = rows.filter((r) => !r.ok).length;
  out.push(bad === 0 ? `all ${rows.length} devices OK` : `${bad} of ${rows.length} devices FAIL`);
  return `${out.join('\n')}\n`;
}
