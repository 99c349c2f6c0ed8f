import { z } from 'zod';
import { Id, intIn, numIn } from './schema-common.ts';
import { AlarmSeverity, DefrostConfig, DoorConfig, PRESETS, PresetName } from './schema-rules.ts';

const Celsius = numIn(-80, 80);

export const CompartmentConfig = z
  .strictObject({
    id: Id,
    name: z.string().min(1).max(64),
    preset: PresetName.optional().describe('limits from practice; fields set here override it'),
    low: Celsius.optional().describe('lowest acceptable temperature, C'),
    high: Celsius.optional().describe('highest acceptable temperature, C'),
    setpoint: Celsius.optional().describe('instead of low/high: setpoint +- tolerance'),
    tolerance: numIn(0.1, 30).optional(),
    criticalLow: Celsius.optional().describe('below this the alarm is critical whatever `severity` says'),
    criticalHigh: Celsius.optional().describe('above this the alarm is critical whatever `severity` says'),
    severity: AlarmSeverity.optional().describe('of an alarm outside low/high (default: the preset\'s, else critical)'),
    combine: z.enum(['max', 'min', 'mean', 'each']).default('max').describe('how the compartment\'s probes make one value; each = every probe on its own'),
    delaySec: intIn(0, 86_400).default(300).describe('out of range this long before the alarm is raised'),
    clearDelaySec: intIn(0, 86_400).default(120).describe('back in range this long before the alarm clears'),
    hysteresis: numIn(0, 10).default(0.5).describe('C back inside a limit before it counts as in range again'),
    latch: z.boolean().default(true).describe('an alarm stays until acknowledged, even when the temperature recovers'),
    budgetMin: intIn(1, 10_080).optional().describe('cumulative minutes out of range allowed per trip'),
    defrost: DefrostConfig.optional(),
    door: DoorConfig.optional(),
  })
  .superRefine((c, ctx) => {
    const issue = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: [field], message });
    if (c.setpoint !== undefined && (c.low !== undefined || c.high !== undefined)) issue('setpoint', 'give either setpoint and tolerance or low/high, not both');
    if ((c.setpoint === undefined) !== (c.tolerance === undefined)) issue(c.setpoint === undefined ? 'tolerance' : 'setpoint', 'setpoint and tolerance go together');
    const l = effectiveLimits(c);
    if (l.low !== undefined && l.high !== undefined && l.low >= l.high) issue('low', `low limit ${l.low} must be below high limit ${l.high}`);
    if (l.criticalHigh !== undefined && l.high !== undefined && l.criticalHigh <= l.high) issue('criticalHigh', `critical high ${l.criticalHigh} must be above high limit ${l.high}`);
    if (l.criticalLow !== undefined && l.low !== undefined && l.criticalLow >= l.low) issue('criticalLow', `critical low ${l.criticalLow} must be below low limit ${l.low}`);
  });
export type CompartmentConfig = z.infer<typeof CompartmentConfig>;

export interface EffectiveLimits {
  low?: number;
  high?: number;
  criticalLow?: number;
  criticalHigh?: number;
  severity: 'warning' | 'critical';
  riseAllowance?: number;
}

type LimitFields = Pick<CompartmentConfig, 'preset' | 'low' | 'high' | 'setpoint' | 'tolerance' | 'criticalLow' | 'criticalHigh' | 'severity'>;

/**
 * The limits a compartment is judged by: its own fields win over its preset.
 * E.g. `{preset: 'chilled', high: 4}` -> `{high: 4, criticalHigh: 8, severity: 'warning'}`;
 * `{setpoint: -20, tolerance: 2}` -> `{low: -22, high: -18, severity: 'critical'}`.
 */
export function effectiveLimits(c: LimitFields): EffectiveLimits {
  const preset: { high?: number; criticalHigh?: number; severity?: 'warning' | 'critical'; riseAllowance?: number } = c.preset ? PRESETS[c.preset] : {};
  const band = c.setpoint !== undefined && c.tolerance !== undefined ? { low: c.setpoint - c.tolerance, high: c.setpoint + c.tolerance } : { low: c.low, high: c.high ?? preset.high };
  const out: EffectiveLimits = { severity: c.severity ?? preset.severity ?? 'critical' };
  const fields = { ...band, criticalLow: c.criticalLow, criticalHigh: c.criticalHigh ?? preset.criticalHigh, riseAllowance: preset.riseAllowance };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k as keyof typeof fields] = v;
  return out;
}
