import { JournalConfig } from '../../src/config/schema-journal.ts';
import { UplinkConfig } from '../../src/config/schema-uplink.ts';
import type { Logger } from '../../src/core/log.ts';
import type { RecordDraft } from '../../src/core/types.ts';
import { ensureBoxKey, keysDir } from '../../src/chain/keys.ts';
import { Journal } from '../../src/journal/journal.ts';
import { COMMAND_BODIES } from '../../src/remote/commands.ts';
import { incarnationRefusal } from '../../src/uplink/replay.ts';
import { Uplink, type IncomingCommand } from '../../src/uplink/uplink.ts';
import type { JournalReport, SimGatewaySpec, WorkerOptions } from './protocol.ts';

/**
 * One simulated gateway: the real Journal and the real Uplink (as src/runtime/gateway.ts wires
 * them, signed with the box key), fed by simulated probes instead of Modbus drivers: `probes`
 * temperature readings per poll in one appendMany (as a coalesced read hands them over), and
 * now and then a door event on the events lane, so both lanes share the seq space.
 * The one command a simulated gateway answers is a receiver's `cmd/replay`, the way
 * src/remote/handler.ts does on a box (same body schema, same reply topic), without the rest of
 * the remote-management supervisor a box runs.
 */
export class SimGateway {
  private poll: NodeJS.Timeout | undefined;
  private door: NodeJS.Timeout | undefined;
  private readonly values: number[];
  private polls = 0;

  private constructor(
    readonly spec: SimGatewaySpec,
    private readonly journal: Journal,
    private readonly uplink: Uplink,
    private readonly opts: WorkerOptions,
    private readonly log: Logger,
  ) {
    this.values = Array.from({ length: opts.probes }, (_, p) => 30 + p);
  }

  static async start(spec: SimGatewaySpec, opts: WorkerOptions, log: Logger): Promise<SimGateway> {
    const journal = await Journal.open(spec.dataDir, JournalConfig.parse(opts.journal), log.child({ mod: 'journal' }));
    // fleet-sim made and registered it (keys.ts); a box makes it at its first start the same way.
    const { key } = ensureBoxKey(keysDir(spec.dataDir));
    // Commands come only after uplink.start(), when the gateway below exists.
    let gateway: SimGateway | undefined;
    const uplink = new Uplink(UplinkConfig.parse({ url: opts.url, ...opts.uplink }), {
      journal,
      key,
      log: log.child({ mod: 'uplink' }),
      gatewayId: spec.gatewayId,
      version: 'fleet-sim',
      latest: () => ({ doc: { gatewayId: spec.gatewayId }, changeKey: '' }),
      onCommand: (command) => gateway?.command(command).catch((err: Error) => log.error({ err: err.message, command: command.name }, 'command failed')),
    });
    gateway = new SimGateway(spec, journal, uplink, opts, log);
    uplink.start();
    gateway.produce();
    return gateway;
  }

  /** Polls start at a random phase, so a process's gateways do not all commit at once. */
  private produce(): void {
    const periodMs = 1000 / this.opts.hz;
    this.poll = setTimeout(() => {
      this.poll = setInterval(() => this.readProbes(), periodMs);
    }, Math.random() * periodMs);
    if (this.opts.eventEveryMs > 0) this.door = setInterval(() => this.append([this.doorEvent()]), this.opts.eventEveryMs);
  }

  private readProbes(): void {
    const ts = new Date().toISOString();
    const drafts: RecordDraft[] = [];
    for (let p = 0; p < this.opts.probes; p++) {
      // A random walk in tenths, as a cargo hold drifts.
      this.values[p]! += Math.floor(Math.random() * 3) - 1;
      drafts.push({ kind: 'temperature', ts, tq: 'system', probe: `p${p}`, compartment: p % 2 ? 'rear' : 'front', value: this.values[p]! / 10, quality: 'good' });
    }
    this.polls++;
    this.append(drafts);
  }

  private doorEvent(): RecordDraft {
    return { kind: 'event', ts: new Date().toISOString(), tq: 'system', type: 'door.opened', severity: 'info', source: 'door-rear', message: `rear door opened (poll ${this.polls})` };
  }

  private append(drafts: RecordDraft[]): void {
    this.journal.appendMany(drafts).catch((err: Error) => this.log.warn({ err: err.message, gatewayId: this.spec.gatewayId }, 'simulated readings not recorded'));
  }

  /** cmd/replay as src/remote/handler.ts answers it; anything else, or a bad body, is logged and dropped. */
  private async command(command: IncomingCommand): Promise<void> {
    if (command.name !== 'replay') return;
    const target = { ...command, responseTopic: command.responseTopic ?? `${this.uplink.topics.replies}replay` };
    const head = { command: 'replay', gatewayId: this.spec.gatewayId };
    let body: unknown;
    try {
      body = JSON.parse(command.payload.toString('utf8'));
    } catch {
      body = undefined;
    }
    const parsed = COMMAND_BODIES.replay.safeParse(body);
    if (!parsed.success) {
      this.log.warn({ issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }, 'cmd/replay refused: bad body');
      return this.uplink.reply(target, { ...head, ok: false, error: 'bad replay body' });
    }
    const { incarnation, fromSeq, toSeq, by } = parsed.data;
    const refusal = incarnationRefusal(incarnation, this.journal.stats().incarnation);
    if (refusal) return this.uplink.reply(target, { ...head, ok: false, error: refusal });
    this.uplink.reply(target, { ...head, ok: true, ...(await this.uplink.replay({ fromSeq, toSeq, by: `remote:${by}` })) });
  }

  /** Stops the probes and commits what they handed over; the uplink keeps draining. */
  async stopProducing(): Promise<JournalReport> {
    // Node's clearInterval clears the first poll's timeout too.
    clearInterval(this.poll);
    clearInterval(this.door);
    await this.journal.flush();
    const s = this.journal.stats();
    return { gatewayId: this.spec.gatewayId, incarnation: s.incarnation, lastSeq: s.nextSeq - 1 };
  }

  async close(): Promise<void> {
    await this.stopProducing();
    await this.uplink.stop();
    await this.journal.close();
  }
}
