import type { ResolvedProbe } from '../../src/config/schema-modbus.ts';
import { decode, registerCount } from './decode.ts';
import type { CommsFault } from './faults.ts';

export type Reading = { quality: 'good'; value: number } | { quality: 'sensor-fault'; reason: string };

/** Fault values compare with the raw bits: 0x8000, 32768 and -32768 are the same 16-bit fault. */
function matchesFault(bits: number, faultValues: readonly number[], width: 1 | 2): boolean {
  for (let i = 0; i < faultValues.length; i++) if ((width === 1 ? faultValues[i]! & 0xffff : faultValues[i]! >>> 0) === bits) return true;
  return false;
}

function hex(bits: number, width: 1 | 2): string {
  return `0x${bits.toString(16).toUpperCase().padStart(width * 4, '0')}`;
}

/** Six decimals are far below any probe's resolution and hide float noise (215 * 0.1 = 21.500000000000004). */
const round = (v: number) => Math.round(v * 1e6) / 1e6;

/**
 * Turns registers into degrees Celsius or a sensor fault, in the order a technician would check:
 * fault value, status bit, not a number, out of range; then °F to °C.
 * Example: int16-tenths, words [0x00D7] -> 21.5; words [0x7FFF] -> fault value 0x7FFF;
 * int16-tenths-fahrenheit, [0x0182] (38.6 F) -> 3.666667 C.
 * `status` is the word at `faultStatus.address` when the probe has one.
 */
export function evaluate(probe: ResolvedProbe, words: readonly number[], status?: number): Reading {
  const width = registerCount(probe.type);
  const { value: raw, bits } = decode(words, probe.type, probe.wordOrder);
  if (matchesFault(bits, probe.faultValues, width)) return { quality: 'sensor-fault', reason: `fault value ${hex(bits, width)}` };
  if (probe.faultStatus && status !== undefined) {
    const set = ((status >> probe.faultStatus.bit) & 1) === 1;
    if (set === (probe.faultStatus.faultWhen === 'set'))
      return { quality: 'sensor-fault', reason: `status register ${probe.faultStatus.address} bit ${probe.faultStatus.bit} ${set ? 'set' : 'clear'}` };
  }
  if (!Number.isFinite(raw)) return { quality: 'sensor-fault', reason: `not a number (${hex(bits, width)})` };
  const scaled = round(raw * probe.scale + probe.offset);
  // Indexed, not destructured: array destructuring walks an iterator, for every probe every second.
  const min = probe.validRange[0];
  const max = probe.validRange[1];
  if (scaled < min || scaled > max) return { quality: 'sensor-fault', reason: `out of range: ${scaled} ${probe.unitOfMeasure} outside [${min}, ${max}]` };
  return { quality: 'good', value: probe.unitOfMeasure === 'F' ? round(((scaled - 32) * 5) / 9) : scaled };
}

/** What the scheduler got for one probe: its registers, or why not. */
export type PollOutcome = { ok: true; words: number[]; status?: number } | { ok: false; fault: CommsFault };

/** A poll as the rules see it; `error` names the probe, bus, unit, register and the fault, for people. */
export type Judged =
  | { quality: 'good'; value: number }
  | { quality: 'sensor-fault'; value: null; error: string; reason: string }
  | { quality: 'comms-error'; value: null; error: string; fault: CommsFault };

/**
 * One poll as the rules and the installer see it.
 * Example: probe t1 on bus cab, a timeout -> comms-error, "probe t1 (bus cab, unit 1, register 0): timeout (no answer in 1000 ms)".
 */
export function judgePoll(probe: ResolvedProbe, busId: string, outcome: PollOutcome): Judged {
  if (!outcome.ok) return { quality: 'comms-error', value: null, error: `${where(probe, busId)}: ${outcome.fault.text}`, fault: outcome.fault };
  const reading = evaluate(probe, outcome.words, outcome.status);
  // A good reading is already what the rules need: no second object per probe per second.
  if (reading.quality === 'good') return reading;
  return { quality: 'sensor-fault', value: null, error: `${where(probe, busId)}: sensor fault: ${reading.reason}`, reason: reading.reason };
}

/** For faults only: a good reading, every probe every second, needs no text. */
function where(probe: ResolvedProbe, busId: string): string {
  return `probe ${probe.id} (bus ${busId}, unit ${probe.unit}, register ${probe.address})`;
}
