/**
 * What the fleet simulation's parent and its gateway processes (worker.ts) say to each other,
 * over the IPC channel of `child_process.spawn` (one JSON message each).
 */

/** One simulated gateway: its id and its own journal folder (kept across kill -9 and restart). */
export interface SimGatewaySpec {
  gatewayId: string;
  dataDir: string;
}

/** argv[2] of a worker, as JSON. */
export interface WorkerOptions {
  /** The broker the gateways' uplinks connect to. */
  url: string;
  gateways: SimGatewaySpec[];
  /** Temperature readings per poll per gateway (one appendMany each). */
  probes: number;
  /** Polls per second per gateway. */
  hz: number;
  /** One door event per gateway this often (events lane), 0 = none. */
  eventEveryMs: number;
  /** Raw config sections, validated by the real schemas (src/config). */
  journal: Record<string, unknown>;
  uplink: Record<string, unknown>;
  logLevel: string;
}

/** What one gateway's journal holds at the end: every seq 1..lastSeq of this incarnation was committed. */
export interface JournalReport {
  gatewayId: string;
  incarnation: string;
  lastSeq: number;
}

export type ParentMessage =
  /** Stop the probes, commit what is queued, report; the uplinks keep draining. */
  | { type: 'stop-producing' }
  /** Stop the uplinks, close the journals, exit 0. */
  | { type: 'close' };

export type WorkerMessage =
  /** Every journal open, every uplink started. */
  | { type: 'ready' }
  | { type: 'report'; journals: JournalReport[] };
