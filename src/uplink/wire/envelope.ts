import { deflateSync, inflateSync } from 'node:zlib';
import { DICTIONARIES, DICTIONARY, DICTIONARY_ID } from './dictionary.ts';

/**
 * How a payload says its own encoding, so that MQTT 3.1.1 (no properties) needs no side
 * channel: a payload that starts with `{` is JSON text; one that starts with a zlib header
 * (RFC 1950, first byte 0x78) is zlib-compressed JSON. When the header's FDICT bit is set, the
 * 4 bytes after it are the Adler-32 (DICTID) of the preset dictionary (dictionary.ts) that the
 * inflater needs; a consumer that does not know the DICTID refuses the payload rather than
 * guess. MQTT 5 messages also carry `content-encoding: deflate` in a user property.
 *
 * E.g. `{"online":true}` plain; zlib of it with the preset dictionary starts 78 bb fd 4e 02 92.
 */
export type Encoding = 'deflate' | 'identity';

export function pack(json: string, encoding: Encoding): Buffer {
  return encoding === 'deflate' ? deflateSync(json, { dictionary: DICTIONARY }) : Buffer.from(json);
}

/** The JSON text of a payload `pack` made (or any plain JSON or zlib payload). */
export function unpack(payload: Buffer): string {
  const first = payload[0];
  if (first === 0x7b) return payload.toString('utf8');
  if (first !== 0x78 || payload.length < 2 || payload.readUInt16BE(0) % 31 !== 0) {
    throw new Error(`payload is neither JSON nor zlib (first bytes ${payload.subarray(0, 4).toString('hex') || 'none'}): not a coldgate message`);
  }
  // FDICT (bit 5 of FLG): a preset dictionary, named by its Adler-32 in bytes 2-5.
  if ((payload[1]! & 0x20) === 0) return inflateSync(payload).toString('utf8');
  const id = payload.length >= 6 ? payload.readUInt32BE(2) : -1;
  const dictionary = DICTIONARIES.get(id);
  if (!dictionary) throw new Error(`payload needs preset dictionary ${id.toString(16)}; this decoder knows ${DICTIONARY_ID.toString(16)} (src/uplink/wire/dictionary.ts): update the consumer`);
  return inflateSync(payload, { dictionary }).toString('utf8');
}
