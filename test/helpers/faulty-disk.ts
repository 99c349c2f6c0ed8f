/**
 * Real storage faults for the journal tests (root only): a small tmpfs that can be filled to
 * ENOSPC, and an ext4 image mounted errors=remount-ro whose error trigger turns it read-only
 * under open files, as a dying SD card does. Every mount is undone by `unmount`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { peerPresent } from './peers.ts';

const run = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** Whether this process may mount (root), under the missing-peer rule: fail in CI, skip elsewhere. */
export function canMount(): boolean {
  return peerPresent(process.getuid?.() === 0, 'mounting a small tmpfs or ext4 image needs root');
}

/** A tmpfs of `size` (e.g. '2m') on `dir`. */
export class SmallTmpfs {
  private constructor(readonly dir: string) {}

  static mount(dir: string, size: string): SmallTmpfs {
    mkdirSync(dir, { recursive: true });
    run('mount', '-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir);
    return new SmallTmpfs(dir);
  }

  private get filler(): string {
    return path.join(this.dir, 'filler');
  }

  /** Takes every free byte: dd stops at ENOSPC, which is the point. */
  fill(): void {
    try {
      run('dd', 'if=/dev/zero', `of=${this.filler}`, 'bs=4k');
    } catch {
      // dd exits 1 once the disk is full.
    }
  }

  free(): void {
    rmSync(this.filler, { force: true });
  }

  unmount(): void {
    run('umount', '-l', this.dir);
  }
}

/** An ext4 filesystem in a file, loop-mounted on `dir` with errors=remount-ro. */
export class Ext4Image {
  private constructor(
    readonly dir: string,
    private readonly device: string,
  ) {}

  static mount(dir: string, image: string, size = '16M'): Ext4Image {
    mkdirSync(dir, { recursive: true });
    run('truncate', '-s', size, image);
    run('mkfs.ext4', '-q', '-F', image);
    run('mount', '-o', 'loop,errors=remount-ro', image, dir);
    const device = path.basename(run('findmnt', '-n', '-o', 'SOURCE', dir).trim());
    return new Ext4Image(dir, device);
  }

  /** A filesystem error, as a failing card reports one: the kernel remounts it read-only at once. */
  fail(): void {
    run('sh', '-c', `echo coldgate-test > /sys/fs/ext4/${this.device}/trigger_fs_error`);
  }

  unmount(): void {
    run('umount', '-l', this.dir);
  }
}

/** Whether the ext4 tools are there, under the missing-peer rule. */
export function hasExt4Tools(): boolean {
  let found = true;
  try {
    run('sh', '-c', 'command -v mkfs.ext4 && command -v losetup && command -v findmnt');
  } catch {
    found = false;
  }
  return peerPresent(found, 'mkfs.ext4, losetup and findmnt (e2fsprogs, util-linux) are not installed');
}
