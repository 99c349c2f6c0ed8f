import { chownSync, closeSync, copyFileSync, existsSync, fsyncSync, openSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The config that was replaced last; `set-config` rolls back to it, an installer can copy it back. */
export const previousOf = (file: string) => `${file}.prev`;
/** A config that was applied remotely and rolled back, kept for the operator to read. */
export const rejectedOf = (file: string) => `${file}.rejected`;

export function configText(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The service runs as its own user and must read (and, for set-config, replace) the file even
 * when root wrote it: keep the owner and mode of the file it replaces, or else take the folder's
 * owner with mode 0640 (the file holds the broker password).
 */
function ownership(file: string): { uid: number; gid: number; mode: number } {
  if (existsSync(file)) {
    const st = statSync(file);
    return { uid: st.uid, gid: st.gid, mode: st.mode & 0o777 };
  }
  const dir = statSync(path.dirname(file));
  return { uid: dir.uid, gid: dir.gid, mode: 0o640 };
}

/** Temp file in the same folder, fsync, rename: a power cut leaves the old file or the new one, never half. */
function writeAtomic(file: string, write: (tmp: string) => void, owner = ownership(file)): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  write(tmp);
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (process.getuid?.() === 0) chownSync(tmp, owner.uid, owner.gid);
  renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

/**
 * Replaces `file` with `text`; an existing file is first kept as FILE.prev.
 * Returns the backup's path, or undefined when there was nothing to keep.
 */
export function replaceConfigFile(file: string, text: string): string | undefined {
  const owner = ownership(file);
  let backup: string | undefined;
  if (existsSync(file)) {
    backup = previousOf(file);
    writeAtomic(backup, (tmp) => copyFileSync(file, tmp), owner);
  }
  writeAtomic(file, (tmp) => writeFileSync(tmp, text, { mode: owner.mode }), owner);
  return backup;
}

/** Keeps a config that was tried and rolled back as FILE.rejected (same owner and mode as FILE); FILE itself is not touched. */
export function keepRejectedConfig(file: string, text: string): string {
  const owner = ownership(file);
  writeAtomic(rejectedOf(file), (tmp) => writeFileSync(tmp, text, { mode: owner.mode }), owner);
  return rejectedOf(file);
}
