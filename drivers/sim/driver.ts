import type { Logger } from '../../src/core/log.ts';
import type { Alarm } from '../../src/rules/index.ts';

export interface SimDriverOptions {
  /** The display's base URL, e.g. http://127.0.0.1:8080/ */
  url: string;
  pin: string;
  ackAfterSec: number;
  log: Logger;
}

const POLL_MS = 2000;

/** What the demo driver leaves alone: a refusal stands while the van is at the gate, for people to see. */
const mustWait = (a: Alarm, nowMs: number, afterMs: number) => a.ackedBy !== undefined || nowMs - Date.parse(a.raisedAt) < afterMs || (a.type === 'entry-refused' && a.active);

/**
 * A simulated driver so the demo plays unattended: it acknowledges alarms through the display's
 * own HTTP API, with the PIN, `ackAfterSec` after they were raised. A person watching can always
 * be quicker on the display.
 */
export function startSimDriver(opts: SimDriverOptions): { close(): void } {
  const { log } = opts;
  const post = async (id: string) => {
    const r = await fetch(new URL(`api/alarms/${encodeURIComponent(id)}/ack`, opts.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pin: opts.pin, by: 'demo driver' }),
    });
    if (!r.ok && r.status !== 404 && r.status !== 409) log.warn({ status: r.status, alarmId: id }, 'sim driver: acknowledgement refused');
  };
  const timer = setInterval(async () => {
    try {
      const state = (await (await fetch(new URL('api/state', opts.url))).json()) as { alarms: Alarm[] };
      for (const a of state.alarms) if (!mustWait(a, Date.now(), opts.ackAfterSec * 1000)) await post(a.id);
    } catch (err) {
      log.debug({ err: (err as Error).message }, 'sim driver: display not reachable');
    }
  }, POLL_MS);
  log.info({ ackAfterSec: opts.ackAfterSec }, 'simulated driver acknowledges alarms through the display');
  return { close: () => clearInterval(timer) };
}
