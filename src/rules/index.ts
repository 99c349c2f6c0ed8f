/** The rules engine's public face: what the runtime, the display and the uplink use. */
export { createRulesEngine } from './engine.ts';
export type { CompartmentStatus, CompartmentStatusView, CompartmentView, RulesDeps, RulesEngine, RulesSnapshot, RulesStatus } from './engine.ts';
export { journalRulesStore, memoryRulesStore } from './persist.ts';
export type { RulesStore, StateJournal } from './persist.ts';
export type { Alarm, AlarmType } from './alarms.ts';
export type { DisplayState, DisplaySuppression, DisplayTier } from './display-state.ts';
export { addSample, EMPTY_STATS, meanKineticTemperature } from './stats.ts';
export type { RunningStats } from './stats.ts';
// Trips and the gate live in src/trips; the engine drives them, so its callers see their types here.
export type { GateRecord, GateVerdict, Trip, TripReport, CompartmentReport, TripView } from '../trips/index.ts';
export { renderTripReportHtml } from '../trips/index.ts';
