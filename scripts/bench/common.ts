import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { TemperatureDraft } from '../../src/core/types.ts';

/** What every phase prints as its one stdout line. */
export interface PhaseResult {
  readings: number;
  seconds: number;
  diskBytes?: number;
  peakRssMb?: number;
  /** RSS before the phase's work began: Node, tsx's loader thread and the modules. */
  baselineRssMb?: number;
}

export const PROBES = 16;
const START = Date.UTC(2024, 5, 1);

/**
 * A van's load: 16 probes polled once a second (each poll lands 0-49 ms late), values in tenths,
 * half of the readings 0.1 C up or down from the last. Deterministic (seeded), so ours and naive
 * store and send the same readings.
 */
export function readingSource(): (count: number) => TemperatureDraft[] {
  let i = 0;
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const values = Array.from({ length: PROBES }, (_, p) => 30 + p);
  return (count) => {
    const out: TemperatureDraft[] = [];
    for (let end = i + count; i < end; i++) {
      const p = i % PROBES;
      const r = random();
      values[p]! += r < 0.25 ? -1 : r > 0.75 ? 1 : 0;
      const late = Math.floor(random() * 50);
      out.push({ kind: 'temperature', ts: new Date(START + Math.floor(i / PROBES) * 1000 + late).toISOString(), tq: 'system', probe: `p${p}`, compartment: p < 8 ? 'front' : 'rear', value: values[p]! / 10, quality: 'good' });
    }
    return out;
  };
}

/** Bytes this process caused to be written to storage (Linux task I/O accounting). */
export function writeBytes(): number {
  const m = /^write_bytes: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** Peak resident set of this process so far, in MB. */
export function peakRssMb(): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export function printResult(r: PhaseResult): void {
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

/**
 * A TCP relay that counts the bytes the gateway sends to the broker: "on the wire" is then
 * everything MQTT puts there (headers, topics, properties, payloads), not a payload estimate.
 */
export async function countingRelay(targetPort: number): Promise<{ port: number; sent: () => number; close: () => Promise<void> }> {
  let sent = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (d: Buffer) => (sent += d.length));
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    sent: () => sent,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
