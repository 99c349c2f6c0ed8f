import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { formatIssues } from '../config/errors.ts';
import { parseJsonText } from '../config/json-text.ts';
import { readJsonFile } from '../config/load.ts';
import type { Logger } from '../core/log.ts';
import { VERSION } from '../runtime/version.ts';
import { tripRecord } from '../trips/archive.ts';
import { MAX_COMMAND_BYTES } from '../uplink/packet-size.ts';
import { incarnationRefusal } from '../uplink/replay.ts';
import { isReplyTopic, topicsFor } from '../uplink/topics.ts';
import type { IncomingCommand } from '../uplink/uplink.ts';
import { configChangeEvent } from './change-event.ts';
import { COMMAND_BODIES, COMMAND_NAMES, isCommandName, type CommandBody, type CommandName, type ReplyHead } from './commands.ts';
import { configChanges } from './config-diff.ts';
import { remoteChangeProblems } from './policy.ts';
import { KEEP, redactSecrets, restoreSecrets, secretAt } from './secrets.ts';
import type { Supervisor } from './supervisor.ts';

type Result = Record<string, unknown> & { ok?: boolean; error?: string; problems?: string[] };
type Handlers = { [N in CommandName]: (body: CommandBody<N>) => Promise<Result> | Result };

/** After a restart the uplink needs a moment to reconnect before the reply can go out. */
const REPLY_ONLINE_WAIT_MS = 15_000;
const PROCESS_STARTED = Date.now();
/** A trip's record without its readings, as get-trip replies: a long bad trip's alarms are cut to fit. */
const MAX_TRIP_REPLY_BYTES = 256 * 1024;

class CommandError extends Error {
  constructor(
    message: string,
    readonly problems?: string[],
  ) {
    super(message);
  }
}

function readDoc(file: string): Record<string, unknown> {
  return readJsonFile(file) as Record<string, unknown>;
}

function handlers(sup: Supervisor): Handlers {
  const rules = () => sup.current().gateway.rules;
  return {
    ping: () => ({ pong: new Date().toISOString() }),
    status: () => {
      const { gateway, startedAt } = sup.current();
      const snapshot = gateway.rules.snapshot();
      return {
        versions: { coldgate: VERSION, node: process.versions.node, config: createHash('sha256').update(readFileSync(sup.file)).digest('hex').slice(0, 12) },
        uptimeSec: Math.round((Date.now() - PROCESS_STARTED) / 1000),
        runningSec: Math.round((Date.now() - startedAt) / 1000),
        configFile: sup.file,
        journal: gateway.journal.stats(),
        devices: gateway.health(),
        openAlarms: snapshot.alarms.length,
        ...(snapshot.trip && { trip: snapshot.trip }),
      };
    },
    'get-config': () => ({ file: sup.file, config: redactSecrets(readDoc(sup.file)), overrides: sup.current().loaded.overrides }),
    'set-config': async ({ config, deadlineMs, by }) => {
      const before = readDoc(sup.file);
      const { doc, missing } = restoreSecrets(config, before);
      if (missing.length) throw new CommandError('refused: nothing to keep', missing.map((m) => `${m}: marked unchanged, but the current config has none: send the value`));
      const password = secretAt(config, 'uplink.password');
      const passwordSent = typeof password === 'string' && password !== KEEP;
      const result = await sup.applyConfig(doc, deadlineMs, (next, current) => remoteChangeProblems({ current, next, passwordSent }));
      const { gateway, loaded } = sup.current();
      gateway.event(configChangeEvent(loaded.config.gatewayId, `remote:${by}`, result.outcome, configChanges(before, doc)));
      if (result.outcome === 'refused') throw new CommandError('refused: the config is not valid or not allowed remotely; nothing changed', result.problems);
      if (result.outcome === 'rolled-back')
        return { ok: false, outcome: result.outcome, error: `rolled back: the new config did not come up within ${deadlineMs} ms; the previous config runs again (the refused one is kept in ${result.rejected})`, problems: result.problems, rejected: result.rejected };
      return { outcome: result.outcome, file: result.file, previous: result.previous, devices: result.devices };
    },
    'ack-alarm': ({ alarmId, by }) => {
      if (rules().acknowledge(alarmId, `remote:${by}`)) return { alarmId };
      const open = rules().snapshot().alarms.map((a) => a.id);
      throw new CommandError(`no open alarm "${alarmId}" to acknowledge (open: ${open.join(', ') || 'none'})`);
    },
    'start-trip': ({ by, shipment }) => {
      const running = rules().snapshot().trip;
      const trip = rules().startTrip(`remote:${by}`, shipment);
      // A running trip keeps its references: say so rather than pretend they were taken.
      if (running && shipment) throw new CommandError(`trip ${running.id} is already running: its shipment references stay as they are (end it first to start one for this shipment)`);
      return { trip };
    },
    'end-trip': ({ by }) => {
      const report = rules().endTrip(`remote:${by}`);
      if (!report) throw new CommandError('no trip is running');
      return { report };
    },
    replay: async ({ incarnation, fromSeq, toSeq, by }) => {
      const { gateway } = sup.current();
      const refusal = incarnationRefusal(incarnation, gateway.journal.stats().incarnation);
      if (refusal) throw new CommandError(refusal);
      return { ...(await gateway.replay({ fromSeq, toSeq, by: `remote:${by}` })) };
    },
    'get-trip': async ({ tripId }) => {
      const entry = await sup.current().gateway.archive.get(tripId);
      if (!entry) throw new CommandError(`no archived trip "${tripId}" (trips list on the box, or /api/trips, shows them)`);
      return tripRecord(entry.header, MAX_TRIP_REPLY_BYTES);
    },
  };
}

/**
 * Turns messages on this gateway's `cmd/{name}` into replies. Commands run one at a time, in
 * order, so nothing sees the gateway half restarted; garbage and unknown commands get an error
 * reply and never throw.
 */
export function createCommandHandler(supervisor: Promise<Supervisor>, log: Logger): (command: IncomingCommand) => void {
  let queue = Promise.resolve();

  async function handle(command: IncomingCommand): Promise<void> {
    // A command that arrives while the first start is still under way waits for it.
    const sup = await supervisor;
    const { gatewayId, uplink } = sup.current().loaded.config;
    const topics = topicsFor(uplink.topicRoot, gatewayId);
    const head: ReplyHead = { command: command.name, gatewayId, ok: false };
    let target = command;
    let body: unknown = {};
    let out: ReplyHead & Record<string, unknown>;
    try {
      if (command.payload.length > MAX_COMMAND_BYTES) throw new CommandError(`payload too large: ${command.payload.length} bytes, at most ${MAX_COMMAND_BYTES}`);
      const text = command.payload.toString('utf8').trim();
      try {
        body = text === '' ? {} : parseJsonText(text);
      } catch (err) {
        // Where, never what: a set-config payload holds the broker password.
        throw new CommandError(`payload is ${(err as Error).message}`);
      }
      if (typeof body === 'object' && body !== null) {
        const { replyTo, correlationId } = body as { replyTo?: unknown; correlationId?: unknown };
        if (!command.responseTopic && typeof replyTo === 'string') target = { ...command, responseTopic: replyTo };
        if (typeof correlationId === 'string') head.correlationId = correlationId;
      }
      // A receiver's replay is answered even without a response topic (contract: reply/replay).
      if (target.responseTopic === undefined && command.name === 'replay') target = { ...command, responseTopic: `${topics.replies}replay` };
      // A reply elsewhere would let a sender make the box publish on its own data topics or another gateway's.
      if (target.responseTopic !== undefined && !isReplyTopic(topics, target.responseTopic)) {
        log.warn({ command: command.name, replyTo: target.responseTopic, allowed: `${topics.replies}#` }, 'command ignored: its reply topic is outside the reply prefix');
        return;
      }
      if (!isCommandName(command.name)) throw new CommandError(`unknown command "${command.name}" (known: ${COMMAND_NAMES.join(', ')})`);
      const parsed = COMMAND_BODIES[command.name].safeParse(body, { reportInput: true });
      if (!parsed.success) throw new CommandError(`bad ${command.name} body`, formatIssues(parsed.error.issues));
      const run = handlers(sup)[command.name] as (b: unknown) => Promise<Result> | Result;
      out = { ...head, ok: true, ...(await run(parsed.data)) };
    } catch (err) {
      if (!(err instanceof CommandError)) log.error({ err, command: command.name }, 'command failed');
      out = { ...head, error: (err as Error).message, ...(err instanceof CommandError && err.problems && { problems: err.problems }) };
    }
    log.info({ command: command.name, ok: out.ok, error: out.error }, 'command handled');
    if (!target.responseTopic) return;
    const deadline = Date.now() + REPLY_ONLINE_WAIT_MS;
    while (!sup.current().gateway.health().some((h) => h.kind === 'uplink' && h.state === 'ok') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    sup.current().gateway.reply(target, out);
  }

  return (command) => {
    queue = queue.then(() => handle(command)).catch((err: unknown) => log.error({ err, command: command.name }, 'command reply failed'));
  };
}
