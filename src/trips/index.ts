/** Trips, the entry gate and the trip archive: their public face. */
export type { GateRecord, GateVerdict } from './gate.ts';
export type { Trip, TripReport, CompartmentReport } from './trip.ts';
export type { TripView, GateView } from './desk.ts';
export { renderTripReportHtml } from './report-html.ts';
