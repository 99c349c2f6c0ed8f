import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { backoffDelay, nextDue } from '../drivers/modbus-probe/backoff.ts';
import { groupRegistersToReads } from '../drivers/modbus-probe/coalesce.ts';
import { decode, encode, toBigEndian } from '../drivers/modbus-probe/decode.ts';
import { classifyError } from '../drivers/modbus-probe/faults.ts';
import { planJobs } from '../drivers/modbus-probe/plan.ts';
import { evaluate } from '../drivers/modbus-probe/reading.ts';
import { ProbeConfig, resolveProbe, type RegisterType, type WordOrder } from '../src/config/schema-modbus.ts';
import { GatewayConfig } from '../src/config/schema.ts';

const probe = (fields: Record<string, unknown>) => resolveProbe(ProbeConfig.parse({ id: 'p', bus: 'b', unit: 1, address: 0, ...fields }));
const singles = (addresses: number[]) => addresses.map((address) => ({ address, count: 1 }));

describe('groupRegistersToReads', () => {
  it.each([
    { name: 'worked example, no gap', spans: singles([1, 2, 3, 5, 6, 10, 11, 12, 14]), maxGap: 0, max: 125, reads: [[1, 3], [5, 2], [10, 3], [14, 1]] },
    { name: 'worked example, gap 1', spans: singles([1, 2, 3, 5, 6, 10, 11, 12, 14]), maxGap: 1, max: 125, reads: [[1, 6], [10, 5]] },
    { name: 'read size cap', spans: singles([1, 2, 3, 5, 6, 10, 11, 12, 14]), maxGap: 3, max: 8, reads: [[1, 6], [10, 5]] },
    { name: 'unsorted with duplicates', spans: singles([7, 3, 3, 4]), maxGap: 0, max: 125, reads: [[3, 2], [7, 1]] },
    { name: 'two-register values overlap', spans: [{ address: 0, count: 2 }, { address: 1, count: 2 }, { address: 4, count: 2 }], maxGap: 1, max: 125, reads: [[0, 6]] },
    { name: 'a value is never cut by the cap', spans: [{ address: 0, count: 2 }, { address: 2, count: 2 }], maxGap: 0, max: 3, reads: [[0, 2], [2, 2]] },
    { name: '125 registers in one read at most', spans: singles([0, 124, 125]), maxGap: 200, max: 125, reads: [[0, 125], [125, 1]] },
  ])('$name', ({ spans, maxGap, max, reads }) => {
    expect(groupRegistersToReads(spans, maxGap, max).map((r) => [r.address, r.count])).toEqual(reads);
  });
});

describe('decode: every type and word order', () => {
  const cases: { type: RegisterType; order: WordOrder; words: number[]; value: number }[] = [
    { type: 'int16', order: 'ABCD', words: [0xff38], value: -200 },
    { type: 'int16', order: 'BADC', words: [0x38ff], value: -200 },
    { type: 'uint16', order: 'ABCD', words: [0xff38], value: 65336 },
    { type: 'uint16', order: 'DCBA', words: [0x38ff], value: 65336 },
    { type: 'int32', order: 'ABCD', words: [0xffff, 0xfc18], value: -1000 },
    { type: 'int32', order: 'CDAB', words: [0xfc18, 0xffff], value: -1000 },
    { type: 'int32', order: 'BADC', words: [0xffff, 0x18fc], value: -1000 },
    { type: 'int32', order: 'DCBA', words: [0x18fc, 0xffff], value: -1000 },
    { type: 'uint32', order: 'ABCD', words: [0x0001, 0x0002], value: 65538 },
    { type: 'uint32', order: 'CDAB', words: [0x0002, 0x0001], value: 65538 },
    { type: 'float32', order: 'ABCD', words: [0x41c8, 0x0000], value: 25 },
    { type: 'float32', order: 'CDAB', words: [0x0000, 0x41c8], value: 25 },
    { type: 'float32', order: 'BADC', words: [0xc841, 0x0000], value: 25 },
    { type: 'float32', order: 'DCBA', words: [0x0000, 0xc841], value: 25 },
  ];
  it.each(cases)('$type $order $words -> $value', ({ type, order, words, value }) => {
    expect(decode(words, type, order).value).toBe(value);
    expect(encode(value, type, order)).toEqual(words);
    // decode works out the bits by arithmetic: the same number as toBigEndian's bytes.
    const be = toBigEndian(words, order);
    expect(decode(words, type, order).bits).toBe(be.length === 2 ? be.readUInt16BE(0) : be.readUInt32BE(0));
  });
});

describe('evaluate: scale, offset, units and faults', () => {
  it.each([
    { name: 'int16 tenths', fields: {}, words: [215], expected: { quality: 'good', value: 21.5 } },
    { name: 'negative tenths', fields: {}, words: [0xff38], expected: { quality: 'good', value: -20 } },
    { name: 'scale and offset (kelvin hundredths)', fields: { type: 'uint16', scale: 0.01, offset: -273.15 }, words: [27815], expected: { quality: 'good', value: 5 } },
    { name: 'fahrenheit converted', fields: { profile: 'int16-tenths-fahrenheit' }, words: [410], expected: { quality: 'good', value: 5 } },
    { name: 'float32 CDAB profile', fields: { profile: 'float32-cdab' }, words: [0x0000, 0xc0a0], expected: { quality: 'good', value: -5 } },
    { name: '0x7FFF open sensor', fields: {}, words: [0x7fff], expected: { quality: 'sensor-fault', reason: 'fault value 0x7FFF' } },
    { name: '0x8000 written as -32768 matches', fields: { faultValues: [-32768] }, words: [0x8000], expected: { quality: 'sensor-fault', reason: 'fault value 0x8000' } },
    { name: 'fault values replace the profile list', fields: { faultValues: [0], validRange: [-4000, 4000] }, words: [0x7fff], expected: { quality: 'good', value: 3276.7 } },
    { name: 'out of range', fields: {}, words: [1500], expected: { quality: 'sensor-fault', reason: 'out of range: 150 C outside [-60, 120]' } },
    { name: 'float NaN', fields: { profile: 'float32-abcd' }, words: [0x7fc0, 0x0000], expected: { quality: 'sensor-fault', reason: 'not a number (0x7FC00000)' } },
    { name: 'status bit set', fields: { faultStatus: { address: 9, bit: 3 } }, words: [215], status: 0b1000, expected: { quality: 'sensor-fault', reason: 'status register 9 bit 3 set' } },
    { name: 'status bit clear is fine', fields: { faultStatus: { address: 9, bit: 3 } }, words: [215], status: 0b0111, expected: { quality: 'good', value: 21.5 } },
    { name: 'status bit fault when clear', fields: { faultStatus: { address: 9, bit: 0, faultWhen: 'clear' } }, words: [215], status: 0, expected: { quality: 'sensor-fault', reason: 'status register 9 bit 0 clear' } },
  ])('$name', ({ fields, words, status, expected }) => {
    expect(evaluate(probe(fields), words, status)).toEqual(expected);
  });
});

describe('profiles in the config', () => {
  it('makes {id, bus, unit, address} an int16-tenths input-register probe', () => {
    const p = probe({});
    expect([p.function, p.type, p.wordOrder, p.scale, p.offset, p.unitOfMeasure, p.intervalMs]).toEqual([4, 'int16', 'ABCD', 0.1, 0, 'C', 5000]);
  });
  it('lets probe fields win over the named profile', () => {
    expect(probe({ profile: 'float32-cdab', wordOrder: 'DCBA' })).toMatchObject({ type: 'float32', wordOrder: 'DCBA', scale: 1 });
  });
  it('rejects an unknown profile, and the same register reached through a profile and a field', () => {
    const issues = (probes: unknown[]) =>
      GatewayConfig.safeParse({ gatewayId: 'g', buses: [{ id: 'b', type: 'tcp', host: 'h' }], probes }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues([{ id: 'd', bus: 'b', unit: 1, address: 1, profile: 'pt1000' }])).toEqual([expect.stringMatching(/^probes\.0\.profile: /)]);
    expect(
      issues([
        { id: 'a', bus: 'b', unit: 1, address: 0, profile: 'int16-tenths-holding' },
        { id: 'c', bus: 'b', unit: 1, address: 0, function: 3 },
      ]),
    ).toEqual(['probes.1.address: same bus, unit, function and address as probes[0]']);
  });
});

describe('planJobs', () => {
  const bus = { coalesce: true, maxGap: 8, maxRegisters: 125 };
  it('merges one unit and interval into few reads, keeps units, functions and intervals apart', () => {
    const jobs = planJobs(
      [probe({ id: 'a' }), probe({ id: 'b', address: 1, faultStatus: { address: 6, bit: 0 } }), probe({ id: 'c', address: 40, type: 'float32' }), probe({ id: 'd', unit: 2 }), probe({ id: 'e', address: 2, intervalMs: 1000 }), probe({ id: 'f', function: 3 })],
      bus,
    );
    expect(jobs.map((j) => [j.unit, j.fn, j.intervalMs, j.probes.map((p) => p.probe.id).join(''), j.reads.map((r) => `${r.address}+${r.count}`).join(' ')])).toEqual([
      [1, 4, 5000, 'abc', '0+7 40+2'],
      [2, 4, 5000, 'd', '0+1'],
      [1, 4, 1000, 'e', '2+1'],
      [1, 3, 5000, 'f', '0+1'],
    ]);
  });
  it('without coalescing reads each probe on its own', () => {
    const jobs = planJobs([probe({ id: 'a' }), probe({ id: 'b', address: 1, faultStatus: { address: 2, bit: 0 } })], { ...bus, coalesce: false });
    expect(jobs.map((j) => j.reads.map((r) => `${r.address}+${r.count}`).join(' '))).toEqual(['0+1', '1+1 2+1']);
  });
});

describe('backoff and cadence', () => {
  it.each([
    [1, 0],
    [2, 0],
    [3, 1000],
    [4, 2000],
    [5, 4000],
    [9, 60000],
    [30, 60000],
  ])('%i timeouts in a row -> %i ms', (failures, ms) => expect(backoffDelay(failures, 60_000)).toBe(ms));
  it.each([
    { due: 5000, now: 5200, next: 6000, skipped: 0 },
    { due: 5000, now: 7300, next: 8000, skipped: 2 },
    { due: 5000, now: 5000, next: 6000, skipped: 0 },
  ])('due $due, done at $now -> next $next', ({ due, now, next, skipped }) => expect(nextDue(due, 1000, now)).toEqual({ due: next, skipped }));
});

describe('classifyError', () => {
  it.each([
    { err: { name: 'TransactionTimedOutError', errno: 'ETIMEDOUT', message: 'Timed out' }, kind: 'timeout', text: 'timeout (no answer in 500 ms)' },
    { err: Object.assign(new Error('Modbus exception 2: Illegal data address'), { modbusCode: 2 }), kind: 'exception', text: 'exception 02 illegal data address' },
    { err: Object.assign(new Error('Modbus exception 11'), { modbusCode: 11 }), kind: 'exception', text: 'exception 0B gateway target device failed to respond' },
    { err: new Error('CRC error'), kind: 'crc', text: 'CRC error (garbled answer)' },
    { err: { name: 'PortNotOpenError', errno: 'ECONNREFUSED', message: 'Port Not Open' }, kind: 'disconnected', text: 'bus not connected (Port Not Open)' },
  ])('$kind: $text', ({ err, kind, text }) => expect(classifyError(err, 500)).toMatchObject({ kind, text }));
});

describe('the sample config in drivers/modbus-probe', () => {
  it('is a valid gateway config', () => {
    const raw: unknown = JSON.parse(readFileSync(new URL('../drivers/modbus-probe/sample-config.json', import.meta.url), 'utf8'));
    const parsed = GatewayConfig.safeParse(raw);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data!.probes.map((p) => resolveProbe(p).type)).toEqual(['int16', 'int16', 'int16', 'float32', 'int32', 'int16']);
  });
});
