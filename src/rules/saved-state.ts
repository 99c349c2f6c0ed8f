import { z } from 'zod';
import { formatIssues } from '../config/errors.ts';
import { ALARM_TYPES, EMPTY_BOOK, type Alarm, type AlarmBook } from './alarms.ts';
import type { CompartmentState } from './compartment.ts';
import type { Debounce } from './debounce.ts';
import type { BudgetUse, GateRecord } from '../trips/gate.ts';
import type { RunningStats } from './stats.ts';
import type { Episode } from './suppression.ts';
import { ShipmentRefs } from '../trips/shipment.ts';
import type { TripCompartment, TripState } from '../trips/trip.ts';

/** Bumped when the saved shape changes: a state of another version is dropped with an event, never misread. */
export const STATE_VERSION = 1;

/** What the engine keeps between runs (in the journal, src/rules/persist.ts). */
export interface SavedState {
  v: typeof STATE_VERSION;
  book: AlarmBook;
  compartments: Record<string, CompartmentState>;
  health: Record<string, Debounce>;
  /** Input-driven episodes by `compartment:cause`. */
  episodes: Record<string, Episode>;
  sites: Record<string, Debounce>;
  trip?: TripState;
  lastEntry?: GateRecord;
}

// Each schema is checked against the type the engine works with, so the two cannot drift apart.
const Ms = z.number().finite();
const DebounceSchema: z.ZodType<Debounce> = z.object({ phase: z.enum(['idle', 'pending', 'on', 'clearing']), since: Ms });
const AlarmSchema: z.ZodType<Alarm> = z.object({
  id: z.string(),
  key: z.string(),
  type: z.enum(ALARM_TYPES),
  severity: z.enum(['warning', 'critical']),
  source: z.string(),
  message: z.string(),
  raisedAt: z.string(),
  latched: z.boolean(),
  active: z.boolean(),
  ackedBy: z.string().optional(),
  ackedAt: z.string().optional(),
  clearedAt: z.string().optional(),
  data: z.record(z.string(), z.unknown()),
});
const BudgetUseSchema: z.ZodType<BudgetUse> = z.object({ compartment: z.string(), name: z.string(), excursionMin: z.number(), budgetMin: z.number(), spent: z.boolean() });
const GateRecordSchema: z.ZodType<GateRecord> = z.object({
  refuse: z.boolean(),
  reasons: z.array(z.string()),
  evidence: z.object({ alarms: z.array(AlarmSchema), budgets: z.array(BudgetUseSchema) }),
  siteId: z.string(),
  siteName: z.string(),
  at: z.string(),
});
const StatsSchema: z.ZodType<RunningStats> = z.object({ n: z.number(), min: z.number().nullable(), max: z.number().nullable(), sum: z.number(), sumArrhenius: z.number() });
const TripCompartmentSchema: z.ZodType<TripCompartment> = z.object({
  stats: StatsSchema,
  outOfRangeMs: Ms,
  excursionMs: Ms,
  lastAt: Ms.optional(),
  lastOut: z.boolean(),
  lastCounted: z.boolean(),
});
const TripSchema: z.ZodType<TripState> = z.object({
  id: z.string(),
  startedAt: z.string(),
  startedBy: z.string(),
  compartments: z.record(z.string(), TripCompartmentSchema),
  alarms: z.array(AlarmSchema),
  entries: z.array(GateRecordSchema),
  shipment: ShipmentRefs.optional(),
});

const SavedStateSchema: z.ZodType<SavedState> = z.object({
  v: z.literal(STATE_VERSION),
  book: z.object({ nextId: z.number().int().min(1), open: z.array(AlarmSchema) }),
  compartments: z.record(z.string(), z.record(z.string(), z.record(z.string(), DebounceSchema))),
  health: z.record(z.string(), DebounceSchema),
  episodes: z.record(z.string(), z.object({ start: Ms, end: Ms.optional() })),
  sites: z.record(z.string(), DebounceSchema),
  trip: TripSchema.optional(),
  lastEntry: GateRecordSchema.optional(),
});

export const freshState = (): SavedState => ({ v: STATE_VERSION, book: EMPTY_BOOK, compartments: {}, health: {}, episodes: {}, sites: {} });

/**
 * The saved state if it has the shape this version writes, else what is wrong with it, in a
 * few words for the log and the event: `{v: 1, book: {open: []}}` ->
 * `book.nextId: expected number, received nothing; compartments: ...`.
 */
export function checkSavedState(saved: unknown): { state: SavedState } | { problem: string } {
  const v = typeof saved === 'object' && saved !== null ? (saved as { v?: unknown }).v : undefined;
  if (v !== STATE_VERSION) return { problem: `saved by another version (v ${JSON.stringify(v) ?? 'missing'}, this one reads v ${STATE_VERSION})` };
  const parsed = SavedStateSchema.safeParse(saved, { reportInput: true });
  if (parsed.success) return { state: parsed.data };
  const lines = formatIssues(parsed.error.issues);
  return { problem: `not the shape this version writes: ${lines.slice(0, 3).join('; ')}${lines.length > 3 ? `; and ${lines.length - 3} more` : ''}` };
}
