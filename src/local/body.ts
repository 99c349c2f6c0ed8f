import type http from 'node:http';
import { z } from 'zod';
import { parseJsonText } from '../config/json-text.ts';
import { HttpError } from './respond.ts';

/** A PIN pad sends a few dozen bytes; anything near this limit is not from the display. */
export const MAX_BODY_BYTES = 2048;

/**
 * Reads a JSON body of at most `limit` bytes and validates it with `schema`. Every way a body
 * can be wrong is an HttpError with a sentence for the caller; nothing here throws anything else.
 */
export async function readJson<S extends z.ZodType>(req: http.IncomingMessage, schema: S, limit = MAX_BODY_BYTES): Promise<z.infer<S>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'send the body as JSON with content-type: application/json');
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw new HttpError(413, `body too large: at most ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Stop reading at once: a client streaming megabytes must not make the box buffer them.
    if (size > limit) throw new HttpError(413, `body too large: at most ${limit} bytes`, { connection: 'close' });
    chunks.push(chunk);
  }
  let raw: unknown;
  try {
    raw = parseJsonText(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `body is ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new HttpError(400, `invalid body: ${z.prettifyError(parsed.error).replace(/\n\s*/g, ' ')}`, {}, parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  return parsed.data;
}
