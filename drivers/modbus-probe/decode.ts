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

/** decode's bytes, one buffer per width: a fresh Buffer per reading was a native allocation each. */
const SCRATCH = { 1: Buffer.alloc(2), 2: Buffer.alloc(4) } as const;

export interface Decoded {
  /** The number the type stands for, before scale and offset. */
  value: number;
  /** The same bytes as an unsigned integer, what fault values are compared with. */
  bits: number;
}

/** Example: int16 from [0xFF38] is -200 (bits 65336); with scale 0.1 that is -20.0 degrees. */
export function decode(words: readonly number[], type: RegisterType, order: WordOrder): Decoded {
  const buf = toBigEndian(words, order, SCRATCH[registerCount(type)]);
  const bits = buf.length === 2 ? buf.readUInt16BE(0) : buf.readUInt32BE(0);
  switch (type) {
    case 'int16':
      return { value: buf.readInt16BE(0), bits };
    case 'uint16':
    case 'uint32':
      return { value: bits, bits };
    case 'int32':
      return { value: buf.readInt32BE(0), bits };
    case 'float32':
      return { value: buf.readFloatBE(0), bits };
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
