import { open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { getSystemErrorMap } from 'node:util';

/** libuv's error texts by code: ENOSPC 'no space left on device', EROFS 'read-only file system', ... */
const DESCRIPTIONS = [...getSystemErrorMap().values()].map(([code, text]) => ({ code, text: text.toLowerCase() }));
/** strerror texts that differ from libuv's. */
const STRERROR: Record<string, string> = { 'input/output error': 'EIO', 'disk quota exceeded': 'EDQUOT' };

/**
 * The error code behind a LevelDB write error, which carries only strerror's text:
 * "IO error: /data/000003.log: No space left on device" -> ENOSPC; unknown text -> EIO.
 */
export function faultCode(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { message?: string } };
  if (e.code && /^E[A-Z]+$/.test(e.code)) return e.code;
  const text = `${e.message ?? ''} ${e.cause?.message ?? ''}`.toLowerCase();
  for (const [words, code] of Object.entries(STRERROR)) if (text.includes(words)) return code;
  return DESCRIPTIONS.find((d) => text.includes(d.text))?.code ?? 'EIO';
}

/** A page: enough to hit a full disk or a read-only one, small enough to fit any that has room. */
const PROBE_BYTES = 4096;

/**
 * Whether the directory takes a small synced write right now: undefined if it does, else the
 * error code (ENOSPC, EROFS, EPERM for an immutable directory, ...). Asks the filesystem, not
 * LevelDB, which may keep refusing after the cause is gone. Asynchronous: an fsync on a dying
 * card can take seconds, and the alarms run on this thread.
 */
export async function probeWrite(dir: string): Promise<string | undefined> {
  const file = path.join(dir, '.coldgate-write-probe');
  try {
    const handle = await open(file, 'w');
    try {
      await handle.write(Buffer.alloc(PROBE_BYTES));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await unlink(file);
    return undefined;
  } catch (err) {
    // Never created, or the directory refuses that too: nothing more to do.
    await unlink(file).catch(() => undefined);
    return faultCode(err);
  }
}
