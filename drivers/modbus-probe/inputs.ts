import type { InputConfig } from '../../src/config/schema-rules.ts';
import type { Logger } from '../../src/core/log.ts';

export type ReadBit = (busId: string, unit: number, fn: 1 | 2, address: number) => Promise<boolean>;

/**
 * Polls door contacts and defrost relays (`inputs[]`) through their bus's scheduler and reports
 * each one by id when it changes, and once at the first good read. A read that fails keeps the
 * last known state: a door is not "closed" just because one answer was lost.
 */
export class InputPoller {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly last = new Map<string, boolean>();
  private readonly failing = new Set<string>();
  /** One read per input at a time: a slow or dead unit must not pile requests up on the bus. */
  private readonly pending = new Set<string>();

  constructor(
    private readonly inputs: readonly InputConfig[],
    private readonly readBit: ReadBit,
    private readonly onInput: (id: string, on: boolean) => void,
    private readonly log: Logger,
  ) {}

  start(): void {
    for (const input of this.inputs) {
      const poll = () => void this.poll(input);
      poll();
      this.timers.push(setInterval(poll, input.intervalMs));
    }
  }

  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  /** Current state by input id, for health and tests; absent until first read. */
  state(id: string): boolean | undefined {
    return this.last.get(id);
  }

  private async poll(input: InputConfig): Promise<void> {
    if (this.pending.has(input.id)) return;
    this.pending.add(input.id);
    let bit: boolean;
    try {
      bit = await this.readBit(input.bus, input.unit, input.function, input.address);
    } catch (err) {
      if (!this.failing.has(input.id)) this.log.warn({ event: 'modbus.input.fault', input: input.id, bus: input.bus, err: (err as Error).message }, `input ${input.id} cannot be read; keeping its last state`);
      this.failing.add(input.id);
      return;
    } finally {
      this.pending.delete(input.id);
    }
    if (this.failing.delete(input.id)) this.log.info({ event: 'modbus.input.recovered', input: input.id }, `input ${input.id} reads again`);
    const on = bit !== input.invert;
    if (this.last.get(input.id) === on) return;
    this.last.set(input.id, on);
    this.log.info({ event: 'modbus.input', input: input.id, on }, `input ${input.id} ${on ? 'on' : 'off'}`);
    this.onInput(input.id, on);
  }
}
