import type { EventEmitter } from 'node:events';

/**
 * Largest MQTT packet the box takes in (client and embedded broker). Commands are the only
 * messages a gateway receives, and the largest (a set-config with a cold store's config) is
 * a few KB: 1 MiB leaves room while one message can no longer fill the box's memory.
 */
export const MAX_INCOMING_PACKET_BYTES = 1024 * 1024;

/** Largest command payload that is executed; a larger one that gets through is answered with an error. */
export const MAX_COMMAND_BYTES = 256 * 1024;

/**
 * Follows the MQTT framing of a byte stream (fixed header: one type byte, then the remaining
 * length in 1-4 bytes of 7 bits each) and calls `onOversize(totalBytes)` as soon as a packet's
 * header announces more than `max` bytes, before its body has arrived. For MQTT 3.1.1, which
 * has no Maximum Packet Size property, and as a guard against brokers that ignore it.
 * E.g. header 0x30 0x80 0x80 0x80 0x01 announces 2^21 bytes: over a 1 MiB cap at the fifth byte.
 */
export function watchPacketSizes(stream: EventEmitter, max: number, onOversize: (totalBytes: number) => void): void {
  let skip = 0; // body bytes of the current packet still to come
  let lengthBytes = -1; // -1: the next byte is a packet type; else length bytes read so far
  let length = 0;
  let multiplier = 1;
  let tripped = false;
  stream.on('data', (chunk: Buffer) => {
    let i = 0;
    while (!tripped && i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      const byte = chunk[i++]!;
      if (lengthBytes < 0) {
        lengthBytes = length = 0;
        multiplier = 1;
        continue;
      }
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      lengthBytes++;
      if (byte & 0x80 && lengthBytes < 4) continue;
      const total = 1 + lengthBytes + length;
      lengthBytes = -1;
      skip = length;
      if (total > max) {
        tripped = true;
        onOversize(total);
      }
    }
  });
}
