import type { RegisterType, WordOrder } from '../../src/config/schema-modbus.ts';

/** How many 16-bit registers a value of `type` occupies. */
export function registerCount(type: RegisterType): 1 | 2 {
  return type === 'int16' || type === 'uint16' ? 1 : 2;
}

/**
 * The value's bytes in big-endian (ABCD) order, from registers as they came off the wire.
 * With registers [w0, w1] = [b0 b1] [b2 b3]:
 *   ABCD -> b0 b1 b2 b3   (high word first, as the Modbus spec sends 16-bit values)
 *   CDAB -> b2 b3 b0 b1   (low word first: most PLCs and many transmitters)
 *   BADC -> b1 b0 b3 b2   (bytes swapped inside each word)
 *   DCBA -> b3 b2 b1 b0   (little-endian throughout)
 * Example: float 25.0 is 0x41C80000; a CDAB device sends [0x0000, 0x41C8].
 * A 16-bit value only has the byte swap: BADC and DCBA read [0x3412] as 0x1234.
 */
export function toBigEndian(words: readonly number[], order: WordOrder, out: Buffer = Buffer.alloc(words.length * 2)): Buffer {
  const n = out.length / 2;
  const swapWords = n === 2 && (order === 'CDAB' || order === 'DCBA');
  for (let i = 0; i < n; i++) out.writeUInt16BE(words[i]! & 0xffff, (swapWords ? n - 1 - i : i) * 2);
  if (order === 'BADC' || order === 'DCBA') out.swap16();
  return out;
}

/** float32's bytes: a fresh Buffer per reading was a native allocation each. */
const FLOAT = Buffer.alloc(4);

export interface Decoded {
  /** The number the type stands for, before scale and offset. */
  value: number;
  /** The same bytes as an unsigned integer, what fault values are compared with. */
  bits: number;
}

const swapBytes = (w: number) => ((w & 0xff) << 8) | ((w >> 8) & 0xff);

/**
 * The value's big-endian bits as an unsigned integer (toBigEndian's bytes read as one number),
 * by arithmetic: every probe every second, and Buffer writes and reads cost more than the rest.
 */
function bigEndianBits(words: readonly number[], width: 1 | 2, order: WordOrder): number {
  const swap = order === 'BADC' || order === 'DCBA';
  const w0 = words[0]! & 0xffff;
  if (width === 1) return swap ? swapBytes(w0) : w0;
  const w1 = words[1]! & 0xffff;
  const lowFirst = order === 'CDAB' || order === 'DCBA';
  const hi = lowFirst ? w1 : w0;
  const lo = lowFirst ? w0 : w1;
  return (swap ? swapBytes(hi) : hi) * 0x10000 + (swap ? swapBytes(lo) : lo);
}

/** Example: int16 from [0xFF38] is -200 (bits 65336); with scale 0.1 that is -20.0 degrees. */
export function decode(words: readonly number[], type: RegisterType, order: WordOrder): Decoded {
  const bits = bigEndianBits(words, registerCount(type), order);
  switch (type) {
    case 'int16':
      return { value: bits >= 0x8000 ? bits - 0x10000 : bits, bits };
    case 'uint16':
    case 'uint32':
      return { value: bits, bits };
    case 'int32':
      return { value: bits | 0, bits };
    case 'float32':
      FLOAT.writeUInt32BE(bits, 0);
      return { value: FLOAT.readFloatBE(0), bits };
  }
}

/** The registers a test or simulator must serve so that `decode` reads `value`: decode's inverse. */
export function encode(value: number, type: RegisterType, order: WordOrder): number[] {
  const buf = Buffer.alloc(registerCount(type) * 2);
  if (type === 'int16') buf.writeInt16BE(value);
  else if (type === 'uint16') buf.writeUInt16BE(value);
  else if (type === 'int32') buf.writeInt32BE(value);
  else if (type === 'uint32') buf.writeUInt32BE(value);
  else buf.writeFloatBE(value);
  // Every order is its own inverse, so applying it to big-endian words gives the wire words.
  const wire = toBigEndian(Array.from({ length: buf.length / 2 }, (_, i) => buf.readUInt16BE(i * 2)), order);
  return Array.from({ length: wire.length / 2 }, (_, i) => wire.readUInt16BE(i * 2));
}
