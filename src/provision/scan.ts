import { PassThrough } from 'node:stream';
import { scanCommand, type FoundUnit } from '../../drivers/modbus-probe/cli-scan.ts';
import type { BusAnswer } from './answers.ts';

export class ScanError extends Error {}

/**
 * Scans one bus with `coldgate scan --json` (the driver's own scanner), passing its progress
 * lines on to `progress`. Throws a ScanError with the scanner's words when the port cannot be opened.
 */
export async function scanBus(bus: BusAnswer, progress: NodeJS.WritableStream): Promise<FoundUnit[]> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => {
    err += d.toString();
    progress.write(d);
  });
  const serial = bus.port.startsWith('/') ? ['--baud', String(bus.baudRate), '--parity', bus.parity] : [];
  const code = await scanCommand(['--port', bus.port, ...serial, '--ids', bus.ids, '--timeout', String(bus.scanTimeoutMs), '--json'], { stdout, stderr });
  if (out.trim() === '') throw new ScanError(err.trim().split('\n')[0]?.replace(/^coldgate scan: /, '') || `scan failed with exit code ${code}`);
  return (JSON.parse(out) as { found: FoundUnit[] }).found;
}
