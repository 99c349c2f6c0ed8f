/** The rules engine's public face: what the runtime, the display and the uplink use. */
export { createRulesEngine } from './engine.ts';
export type { CompartmentStatus, CompartmentView, RulesDeps, RulesEngine, RulesSnapshot, TripView } from './engine.ts';
export { journalRulesStore, memoryRulesStore } from './persist.ts';
export type { RulesStore, StateJournal } from './persist.ts';
export type { Alarm, AlarmType } from './alarms.ts';
export type { GateRecord, GateVerdict } from './gate.ts';
export type { Trip, TripReport, CompartmentReport } from './trip.ts';
export type { DisplayState, DisplaySuppression, DisplayTier } from './display-state.ts';
export { renderTripReportHtml } from './report-html.ts';
export { addSample, EMPTY_STATS, meanKineticTemperature } from './stats.ts';
export type { RunningStats } from './stats.ts';
