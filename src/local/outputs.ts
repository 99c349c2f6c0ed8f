import type { AlarmOutputConfig } from '../config/schema-local.ts';
import type { Logger } from '../core/log.ts';
import type { Alarm } from '../rules/index.ts';

/** The probe driver's coil write (ProbeDrivers.writeCoil): goes through the bus scheduler, ahead of polls. */
export type WriteCoil = (busId: string, unit: number, address: number, value: boolean) => Promise<void>;

/** A relay module may have been power-cycled and forgotten its state: the state is written again this often. */
export const REASSERT_MS = 30_000;

const RANK = { warning: 1, critical: 2 } as const;

/** Alarms that still need someone to see them: open, not acknowledged, at or above `min`. */
export function waitingAlarms(alarms: readonly Alarm[], min: 'warning' | 'critical'): Alarm[] {
  return alarms.filter((a) => a.ackedBy === undefined && RANK[a.severity] >= RANK[min]);
}

interface Coil {
  cfg: Extract<AlarmOutputConfig, { type: 'coil' }>;
  /** What the module was last told successfully; undefined until then or after a failed write. */
  written?: boolean;
  writtenAt: number;
  busy: boolean;
}

/**
 * Buzzer, relay and console follow one rule: on while an alarm waits for acknowledgement.
 * `update` is cheap and idempotent, so the runtime calls it on every change and every second.
 */
export class AlarmOutputs {
  private readonly coils: Coil[];
  private readonly console: boolean;
  private announced = new Set<string>();

  constructor(
    cfg: readonly AlarmOutputConfig[],
    private readonly min: 'warning' | 'critical',
    private readonly deps: { log: Logger; writeCoil: WriteCoil },
  ) {
    this.coils = cfg.flatMap((c) => (c.type === 'coil' ? [{ cfg: c, writtenAt: 0, busy: false }] : []));
    this.console = cfg.some((c) => c.type === 'console');
  }

  /** True while the outputs sound. */
  get on(): boolean {
    return this.announced.size > 0;
  }

  update(alarms: readonly Alarm[], nowMs: number): void {
    const waiting = waitingAlarms(alarms, this.min);
    const ids = new Set(waiting.map((a) => a.id));
    if (this.console) this.toConsole(waiting, ids);
    this.announced = ids;
    for (const coil of this.coils) this.drive(coil, ids.size > 0, nowMs);
  }

  private toConsole(waiting: Alarm[], ids: Set<string>) {
    for (const a of waiting) {
      if (!this.announced.has(a.id)) this.deps.log.error({ output: 'console', alarmId: a.id, severity: a.severity, source: a.source }, `ALARM ${a.severity.toUpperCase()}: ${a.message} (acknowledge on the display with the PIN)`);
    }
    if (this.announced.size > 0 && ids.size === 0) this.deps.log.info({ output: 'console' }, 'alarm outputs off: every alarm acknowledged or cleared');
  }

  private drive(coil: Coil, on: boolean, nowMs: number) {
    if (coil.busy || (coil.written === on && nowMs - coil.writtenAt < REASSERT_MS)) return;
    const { bus, unit, address } = coil.cfg;
    coil.busy = true;
    this.deps.writeCoil(bus, unit, address, on).then(
      () => {
        if (coil.written !== on) this.deps.log.info({ output: 'coil', bus, unit, address, on }, `alarm output ${on ? 'on' : 'off'}`);
        coil.written = on;
        coil.writtenAt = nowMs;
        coil.busy = false;
      },
      (err: Error) => {
        // Logged once per failure streak; the next update tries again.
        if (coil.written !== undefined || coil.writtenAt === 0) this.deps.log.warn({ output: 'coil', bus, unit, address, err: err.message }, 'alarm output coil not written: check the relay module and its bus');
        coil.written = undefined;
        coil.writtenAt = nowMs;
        coil.busy = false;
      },
    );
  }
}
