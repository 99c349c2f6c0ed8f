import type http from 'node:http';
import { z } from 'zod';
import type { Logger } from '../core/log.ts';
import type { RulesEngine, TripReport } from '../rules/index.ts';
import { ShipmentRefs } from '../trips/shipment.ts';
import { readJson } from './body.ts';
import type { PinGate } from './pin.ts';
import { HttpError } from './respond.ts';

/** Every state change on the display carries the PIN; `by` names the person for the record. */
export const PinBody = z.strictObject({
  pin: z.string({ error: 'expected the PIN as a string of digits' }).regex(/^[0-9]{1,12}$/, 'expected the PIN as a string of digits'),
  by: z.string().trim().min(1).max(40).optional().describe('who acts, for the journal; default "driver"'),
});

/** Starting a trip may name what it carries; 20 SSCCs and 20 lots fit in TRIP_START_BYTES. */
export const TripStartBody = PinBody.extend({ shipment: ShipmentRefs.optional() });
const TRIP_START_BYTES = 4096;

export const ALARM_ID = /^[a-z0-9-]{1,40}$/;

export interface ApiDeps {
  rules: Pick<RulesEngine, 'acknowledge' | 'startTrip' | 'endTrip' | 'snapshot'>;
  pins: PinGate;
  log: Logger;
  now: () => number;
}

export interface ApiResult {
  status: number;
  body: unknown;
}

/**
 * The PIN check shared by every state change: 401 wrong, 429 locked (this client) or throttled
 * (everyone), 403 when the box has no PIN set. A PIN that was looked at and was wrong is a
 * warning; refusals without a look are debug: those are not bounded by the PIN gate, and a
 * guesser must not be able to fill the log with them.
 */
async function authorised<S extends typeof PinBody>(req: http.IncomingMessage, deps: ApiDeps, action: string, schema?: S, limit?: number): Promise<z.infer<S> & { who: string }> {
  const body = (await readJson(req, schema ?? PinBody, limit)) as z.infer<S>;
  const client = req.socket.remoteAddress ?? 'unknown';
  const failuresBefore = deps.pins.failures;
  const v = deps.pins.check(client, body.pin, deps.now());
  if (!v.ok) {
    deps.log[deps.pins.failures > failuresBefore ? 'warn' : 'debug']({ client, action, reason: v.reason }, 'display: PIN refused');
    if (v.reason === 'no-pin') throw new HttpError(403, 'no PIN is set on this box: set local.pin in the config to allow changes from the display');
    if (v.reason === 'locked' || v.reason === 'throttled') {
      const message =
        v.reason === 'locked'
          ? `too many wrong PINs: try again in ${v.retryAfterSec} s`
          : `too many wrong PINs on this box's network: no PIN is taken from any display for ${v.retryAfterSec} s (alarms still sound; if nobody here mistyped, someone may be guessing)`;
      throw new HttpError(429, message, { 'retry-after': String(v.retryAfterSec) }, { retryAfterSec: v.retryAfterSec, scope: v.reason === 'locked' ? 'client' : 'box' });
    }
    throw new HttpError(401, `wrong PIN: ${v.attemptsLeft} ${v.attemptsLeft === 1 ? 'try' : 'tries'} left before a pause`, {}, { attemptsLeft: v.attemptsLeft });
  }
  return { ...body, who: body.by ?? 'driver' };
}

export async function acknowledgeAlarm(req: http.IncomingMessage, alarmId: string, deps: ApiDeps): Promise<ApiResult> {
  if (!ALARM_ID.test(alarmId)) throw new HttpError(400, 'alarm id: expected letters, digits and "-" as in /api/state alarms[].id');
  const { who } = await authorised(req, deps, 'acknowledge');
  const open = deps.rules.snapshot().alarms.find((a) => a.id === alarmId);
  if (!open) throw new HttpError(404, `no open alarm ${alarmId}: it may have cleared already (see /api/state)`);
  if (open.ackedBy !== undefined) return { status: 409, body: { error: `already acknowledged by ${open.ackedBy} at ${open.ackedAt}`, alarm: open } };
  deps.rules.acknowledge(alarmId, `${who} (display)`);
  const after = deps.rules.snapshot().alarms.find((a) => a.id === alarmId);
  // A latched alarm whose condition had gone clears on acknowledgement and leaves the open list.
  return { status: 200, body: { acknowledged: true, cleared: after === undefined, alarm: after ?? { ...open, ackedBy: `${who} (display)` } } };
}

export async function startTrip(req: http.IncomingMessage, deps: ApiDeps): Promise<ApiResult> {
  const { who, shipment } = await authorised(req, deps, 'trip-start', TripStartBody, TRIP_START_BYTES);
  const running = deps.rules.snapshot().trip;
  const trip = deps.rules.startTrip(`${who} (display)`, shipment);
  return running ? { status: 200, body: { started: false, trip, message: `a trip is already running${shipment ? ': the references sent were not taken (end it first)' : ''}` } } : { status: 201, body: { started: true, trip } };
}

export async function endTrip(req: http.IncomingMessage, deps: ApiDeps): Promise<ApiResult> {
  const { who } = await authorised(req, deps, 'trip-end');
  const report: TripReport | undefined = deps.rules.endTrip(`${who} (display)`);
  if (!report) throw new HttpError(409, 'no trip is running: start one first');
  return { status: 200, body: { ended: true, report } };
}
