import { parseJsonText } from '../config/json-text.ts';

/** Where the engine keeps its state between runs; the runtime backs it with one LevelDB key. */
export interface RulesStore {
  /** Throws UnreadableState when something is stored but cannot be read back as a value. */
  load(): Promise<unknown | undefined>;
  save(state: unknown): Promise<void>;
}

/** The stored bytes are not a value at all (torn or foreign write): the engine starts fresh and says so. */
export class UnreadableState extends Error {
  override name = 'UnreadableState';
}

/** The part of the journal this store needs (src/journal/journal.ts). */
export interface StateJournal {
  readState(name: string): Promise<Buffer | undefined>;
  putState(name: string, value: Buffer): Promise<void>;
}

/**
 * The state rides in the journal's own commits: an alarm's state is on disk exactly when the
 * `alarm.raised` event emitted before it is, so a power cut neither loses the event while the
 * state says raised, nor keeps the state without the event.
 */
export function journalRulesStore(journal: StateJournal, name = 'rules'): RulesStore {
  return {
    load: async () => {
      const bytes = await journal.readState(name);
      if (bytes === undefined) return undefined;
      try {
        return parseJsonText(bytes.toString('utf8'));
      } catch (err) {
        throw new UnreadableState(`state "${name}" in the journal is ${(err as Error).message}`);
      }
    },
    save: (state) => journal.putState(name, Buffer.from(JSON.stringify(state))),
  };
}

/** In memory, for tests and tools that need no durability. */
export function memoryRulesStore(): RulesStore & { saved: unknown } {
  const store = {
    saved: undefined as unknown,
    load: async () => store.saved,
    save: async (state: unknown) => {
      store.saved = structuredClone(state);
    },
  };
  return store;
}

/**
 * Saves one at a time, newest state last: a save requested while one runs waits and then
 * writes whatever is current, so bursts of transitions cost two writes, not one each.
 */
export class SaveQueue {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly store: RulesStore,
    private readonly current: () => unknown,
    private readonly onError: (err: unknown) => void,
  ) {}

  request(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.store.save(this.current());
      } catch (err) {
        this.onError(err);
      }
    } while (this.again);
  }
}
