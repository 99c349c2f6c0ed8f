/**
 * The steady phase's floor: the same I/O as the gateway at steady state, done by the bare
 * libraries with no coldgate code between them, in a process with the service's node flags.
 * Each second one Modbus read of 32 input registers per unit (modbus-serial, from the same
 * pymodbus slave) and one synced LevelDB batch of the size a poll's commit writes (a chunk, the
 * lane's metadata, the chain head, the next seq); every 5 s one QoS 1 publish of a telemetry
 * batch's size to the same mosquitto. Nothing is judged, encoded, chained or shown. Its CPU is
 * what this machine charges for the I/O alone: the part of the gateway's figure that no change
 * to coldgate's own code can remove.
 */
import path from 'node:path';
import { Level } from 'level';
import ModbusSerial from 'modbus-serial';
import mqtt from 'mqtt';
import { cpuNs, mainWakeups } from './steady.ts';

export interface FloorResult {
  cpu_percent: number;
  main_wakeups_per_s: number;
}

const ModbusRTU = ModbusSerial.default;
const PER_UNIT = 32;
/** Bytes of one poll's commit of 32 readings, as the gateway's LevelDB log shows (strace: ~530 B a write). */
const CHUNK_BYTES = 420;
/** One 5 s telemetry batch of 32 probes on the wire, about 2 B a reading. */
const BATCH_BYTES = 320;

export async function bareLibraries(o: { dir: string; modbusPort: number; brokerUrl: string; probes: number; seconds: number; warmupSeconds: number }): Promise<FloorResult> {
  const modbus = new ModbusRTU();
  await modbus.connectTCP('127.0.0.1', { port: o.modbusPort });
  modbus.setTimeout(1000);
  const db = new Level<string, Buffer>(path.join(o.dir, 'floor-journal'), { valueEncoding: 'buffer' });
  await db.open();
  const client = await mqtt.connectAsync(o.brokerUrl, { protocolVersion: 5, clientId: `bench-floor-${process.pid}` });
  const units = Math.ceil(o.probes / PER_UNIT);
  const chunk = Buffer.alloc(CHUNK_BYTES, 0x5a);
  const batch = Buffer.alloc(BATCH_BYTES, 0x5a);
  let seq = 0;
  let stopped = false;
  const poll = async () => {
    for (let unit = 1; unit <= units; unit++) {
      modbus.setID(unit);
      await modbus.readInputRegisters(0, PER_UNIT);
    }
    seq += o.probes;
    await db.batch(
      [
        { type: 'put', key: `t!${String(seq).padStart(16, '0')}`, value: chunk },
        { type: 'put', key: 'meta!t', value: chunk.subarray(0, 60) },
        { type: 'put', key: 'chain!t', value: chunk.subarray(0, 80) },
        { type: 'put', key: 'seq', value: Buffer.from(String(seq)) },
      ],
      { sync: true },
    );
  };
  const polls = setInterval(() => void poll().catch((err: Error) => stopped || console.error(`floor poll failed: ${err.message}`)), 1000);
  const publishes = setInterval(() => client.publish('bench/floor/telemetry', batch, { qos: 1 }), 5000);
  try {
    await new Promise((r) => setTimeout(r, o.warmupSeconds * 1000));
    const t0 = performance.now();
    const ns0 = cpuNs(process.pid);
    const wakeups0 = mainWakeups(process.pid);
    await new Promise((r) => setTimeout(r, o.seconds * 1000));
    const ms = performance.now() - t0;
    const ns1 = cpuNs(process.pid);
    const cpu = ((ns1.main + ns1.others - ns0.main - ns0.others) / 1e6 / ms) * 100;
    return { cpu_percent: Math.round(cpu * 100) / 100, main_wakeups_per_s: Math.round(((mainWakeups(process.pid) - wakeups0) / ms) * 1e5) / 100 };
  } finally {
    stopped = true;
    clearInterval(polls);
    clearInterval(publishes);
    await client.endAsync();
    modbus.close(() => {});
    await db.close();
  }
}
