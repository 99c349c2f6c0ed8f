/**
 * The probe and compartment names a journal's row chunks (rows.ts) refer to by index: kept
 * once under `m!names` (keys.ts) as a JSON array of [probe, compartment] pairs (null: none),
 * append-only, and written in the same atomic batch as the first chunk that uses a new entry,
 * so no chunk on disk names an entry the disk lacks. E.g. [["p1","front"],["p2",null]].
 */
export const MAX_NAMES = 4096;

export class NameTable {
  private readonly entries: [string, string | null][] = [];
  /** probe -> indexes of its entries (one per compartment it was seen in). */
  private readonly byProbe = new Map<string, number[]>();
  /** Entries below this index are on disk. */
  private written = 0;

  static parse(value: Uint8Array | undefined): NameTable {
    const table = new NameTable();
    if (!value) return table;
    const list = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8')) as unknown;
    if (!Array.isArray(list)) throw new Error('journal names (m!names) are not a list');
    for (const e of list) {
      if (!Array.isArray(e) || typeof e[0] !== 'string' || (e[1] !== null && typeof e[1] !== 'string')) throw new Error(`journal names (m!names): bad entry ${JSON.stringify(e)}`);
      table.add(e[0], e[1]);
    }
    table.written = table.entries.length;
    return table;
  }

  /** The index of (probe, compartment), added if new; -1 once the table is full. */
  indexOf(probe: string, compartment: string | undefined): number {
    const c = compartment ?? null;
    const ids = this.byProbe.get(probe);
    if (ids) for (let i = 0; i < ids.length; i++) if (this.entries[ids[i]!]![1] === c) return ids[i]!;
    if (this.entries.length >= MAX_NAMES) return -1;
    return this.add(probe, c);
  }

  entry(index: number): readonly [string, string | null] | undefined {
    return this.entries[index];
  }

  /** The whole table, when it has entries the disk lacks (for the next commit's batch). */
  unwritten(): Buffer | undefined {
    return this.written === this.entries.length ? undefined : Buffer.from(JSON.stringify(this.entries));
  }

  /** The batch holding `unwritten()` (taken when it had `count` entries) is on disk. */
  wrote(count: number): void {
    this.written = Math.max(this.written, count);
  }

  /** A failed write may or may not have reached the disk: write the table again. */
  unsure(): void {
    this.written = 0;
  }

  get size(): number {
    return this.entries.length;
  }

  private add(probe: string, compartment: string | null): number {
    const index = this.entries.push([probe, compartment]) - 1;
    const ids = this.byProbe.get(probe);
    if (ids) ids.push(index);
    else this.byProbe.set(probe, [index]);
    return index;
  }
}
