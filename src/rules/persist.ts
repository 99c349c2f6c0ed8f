/** Where the engine keeps its state between runs; the runtime backs it with one LevelDB key. */
export interface RulesStore {
  load(): Promise<unknown | undefined>;
  save(state: unknown): Promise<void>;
}

/** The part of a level 10 database (`valueEncoding: 'json'`) the store needs; `get` gives undefined for a missing key. */
export interface JsonKeyValue {
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown, options?: { sync?: boolean }): Promise<void>;
}

/** Synced writes: an alarm the driver saw must survive a power cut as much as the journal does. */
export function levelRulesStore(db: JsonKeyValue, key = 'rules:state'): RulesStore {
  return {
    load: () => db.get(key),
    save: (state) => db.put(key, state, { sync: true }),
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
