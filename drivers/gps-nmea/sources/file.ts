import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { scanLine } from '../checksum.ts';
import { parseSentence } from '../sentences.ts';
import type { Connect } from './link.ts';

/** Gaps longer than this in a capture (a receiver restarted, two logs joined) are not waited out. */
const MAX_GAP_MS = 5000;

/**
 * Replays a capture (`file:PATH`): in real time, paced by the sentences' own times of day,
 * or as fast as possible. The end of the file ends the link, so the driver replays it again
 * after its reconnect delay: a capture makes an endless demo feed.
 */
export function fileLink(path: string, pace: 'realtime' | 'fast'): Connect {
  return async (h) => {
    await access(path, constants.R_OK);
    const abort = new AbortController();
    const stream = createReadStream(path);
    const replay = (async () => {
      let lastTod: number | undefined;
      for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
        const tod = pace === 'realtime' ? timeOfLine(line) : undefined;
        if (tod !== undefined && lastTod !== undefined && tod !== lastTod) {
          const gap = tod - lastTod;
          if (gap > 0 && gap <= MAX_GAP_MS) await sleep(gap, undefined, { signal: abort.signal });
        }
        if (tod !== undefined) lastTod = tod;
        if (abort.signal.aborted) return;
        h.data(Buffer.from(`${line}\r\n`, 'latin1'));
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

/** The time of day a line's sentence carries, if it is a good sentence with one. */
function timeOfLine(line: string): number | undefined {
  const body = scanLine(line).bodies[0];
  if (body === undefined) return undefined;
  try {
    const s = parseSentence(body);
    return s !== undefined && 'tod' in s ? s.tod : undefined;
  } catch {
    return undefined;
  }
}
