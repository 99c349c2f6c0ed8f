import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { NmeaFramer } from '../framing.ts';
import { parseSentence } from '../sentences.ts';
import type { Connect } from './link.ts';

/** Gaps longer than this in a capture (a receiver restarted, two logs joined) are not waited out. */
const MAX_GAP_MS = 5000;

/**
 * Replays a capture (`file:PATH`): in real time, paced by the sentences' own times of day,
 * or as fast as possible. The end of the file ends the link, so the driver replays it again
 * after its reconnect delay: a capture makes an endless demo feed. The bytes are the file's,
 * line ends included (CR CR LF, LF only, ...): the decoder frames them as from a receiver.
 */
export function fileLink(path: string, pace: 'realtime' | 'fast'): Connect {
  return async (h) => {
    await access(path, constants.R_OK);
    const abort = new AbortController();
    const stream = createReadStream(path);
    const replay = (async () => {
      let lastTod: number | undefined;
      for await (const line of rawLines(stream)) {
        const tod = pace === 'realtime' ? timeOfLine(line) : undefined;
        if (tod !== undefined && lastTod !== undefined && tod !== lastTod) {
          const gap = tod - lastTod;
          if (gap > 0 && gap <= MAX_GAP_MS) await sleep(gap, undefined, { signal: abort.signal });
        }
        if (tod !== undefined) lastTod = tod;
        if (abort.signal.aborted) return;
        h.data(Buffer.from(line, 'latin1'));
      }
    })();
    replay.then(
      () => abort.signal.aborted || h.lost('end of replay'),
      (err: Error) => abort.signal.aborted || h.lost(err.message),
    );
    return {
      close: async () => {
        abort.abort();
        stream.destroy();
        await replay.catch(() => undefined);
      },
    };
  };
}

/** The file's bytes (as latin1 text) in pieces that end just after each LF. */
async function* rawLines(stream: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of stream) {
    const text = rest + chunk.toString('latin1');
    let from = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
      yield text.slice(from, nl + 1);
      from = nl + 1;
    }
    rest = text.slice(from);
  }
  if (rest !== '') yield rest;
}

/** The time of day a line's first sentence carries, if it is a good sentence with one. */
function timeOfLine(line: string): number | undefined {
  const packet = new NmeaFramer().push(line).find((p) => p.kind === 'nmea');
  if (packet?.kind !== 'nmea') return undefined;
  try {
    const s = parseSentence(packet.body);
    return s !== undefined && 'tod' in s ? s.tod : undefined;
  } catch {
    return undefined;
  }
}
