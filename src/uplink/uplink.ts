import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt';
import type { Logger } from '../core/log.ts';
import type { DeviceHealth, JournalRecord, Lane } from '../core/types.ts';
import type { UplinkConfig } from '../config/schema-uplink.ts';
import type { Journal } from '../journal/journal.ts';
import { LANES } from '../journal/journal.ts';
import { reconnectDelay } from './reconnect.ts';
import { connectMqtt } from './connect.ts';
import { TokenBucket } from './rate-limit.ts';
import { readTls } from './tls.ts';
import { MAX_INCOMING_PACKET_BYTES, watchPacketSizes } from './packet-size.ts';
import { isReplyTopic, topicsFor, type Topics } from './topics.ts';
import { encodeBatch, type BatchChain, type BatchSource } from './wire/batch.ts';
import type { BoxKey } from '../chain/keys.ts';
import { signHead } from '../chain/sign.ts';
import { pack, type Encoding } from './wire/envelope.ts';
import { CommitMark, MAX_RESEND_WAIT_MS } from './end-to-end.ts';
import { holes, union, type Range } from '../core/seq-ranges.ts';
import { REPLAY_SCHEMA, REPLAY_WINDOW_MS, RewindThrottle } from './replay.ts';

/** MQTT 5 content type of every JSON payload (batches, latest, replies); the payload says whether it is compressed. */
export const CONTENT_TYPE = 'application/json';
/** `latest` goes when what it shows changes, and at least this often (values and health refresh). */
export const LATEST_REFRESH_MS = 60_000;
/** A lane's batch is signed when this long has passed since its last signature (and at a trip's end). */
export const SIGN_INTERVAL_MS = 60_000;
/** How close to the end of the telemetry interval a commit may send the batch itself, at most (scheduleBatch). */
const BATCH_EARLY_MS = 250;

interface InFlight {
  toSeq: number;
  records: number;
  /** Records of the batch not PUBACKed before (a resend after a rewind repeats some). */
  fresh: number;
  done: boolean;
}

/** A cmd/replay request (src/remote/commands.ts) of this journal's incarnation. */
export interface ReplayRequest {
  fromSeq: number;
  toSeq: number;
  by: string;
}

/** The cmd/replay reply (contract: asyncapi.yaml `replayReply`). */
export interface ReplayReply {
  schema: typeof REPLAY_SCHEMA;
  gatewayId: string;
  incarnation: string;
  fromSeq: number;
  toSeq: number;
  resending: Range[];
  notHeld: Range[];
}

export interface UplinkDeps {
  journal: Journal;
  log: Logger;
  gatewayId: string;
  version: string;
  /** The retained `latest` snapshot, published first after every connect. */
  latest: () => LatestSnapshot;
  /** Signs chain heads (src/chain/sign.ts); without it batches carry the chain unsigned. */
  key?: BoxKey;
  /** A message on this gateway's own `cmd/{name}`; other gateways' topics are never subscribed. */
  onCommand?: (command: IncomingCommand) => void;
}

/** What `latest` carries, and the part of it whose change is worth a message at once. */
export interface LatestSnapshot {
  /** Read only when the message goes (it may be a getter that builds the snapshot). */
  doc: unknown;
  /** Equal keys: nothing a person would act on changed (values and timestamps refresh slowly). */
  changeKey: string;
}

export interface IncomingCommand {
  name: string;
  payload: Buffer;
  /** MQTT 5 response topic and correlation data, when the sender asked for a reply. */
  responseTopic?: string;
  correlationData?: Buffer;
}

/**
 * Drains the journal to the broker: QoS 1 batches, a bounded in-flight window, and the journal
 * acked through a seq only once every batch up to it has its PUBACK.
 *
 * Each connection is a fresh MQTT.js client with its own reconnect loop here, because MQTT.js
 * resends its in-memory store first on reconnect: that would put old telemetry ahead of the
 * snapshot and the alarms. Instead, whatever was not PUBACKed is read again from the journal,
 * and every connect goes: status, retained `latest` (with open alarms), the `events` lane until
 * empty, then the telemetry backlog in seq order, under the byte rate limit.
 *
 * Cadence: events go as soon as they are committed. Telemetry goes in full batches whenever
 * there is a full batch, else once its oldest unsent record has waited `batchIntervalMs`; right
 * after a connect it goes at once (the first reading and the backlog do not wait). A PUBACK only
 * makes room: it never sends a small batch early.
 */
export class Uplink {
  readonly topics: Topics;
  private readonly source: BatchSource;
  private client: MqttClient | undefined;
  private readonly sent: Record<Lane, number>;
  /** Per lane: every batch through this seq has had its PUBACK (the journal may hold them longer, end-to-end.ts). */
  private readonly pubacked: Record<Lane, number>;
  /** Per lane: records PUBACKed and still held for the receiver. */
  private readonly uncommitted: Record<Lane, number> = { events: 0, telemetry: 0 };
  private readonly mark: CommitMark;
  private readonly replays: RewindThrottle;
  private resendTimer: NodeJS.Timeout | undefined;
  private resendWait: number;
  private readonly inflight: Record<Lane, InFlight[]> = { events: [], telemetry: [] };
  private pumping = false;
  private pumpAgain = false;
  private batchTimer: NodeJS.Timeout | undefined;
  private batchDueAt = 0;
  private pumpImmediate: NodeJS.Immediate | undefined;
  /** Telemetry may go in a batch that is not full: its interval passed, or the connection is new. */
  private telemetryDue = true;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectedAt: string | undefined;
  private disconnectedSince = Date.now();
  private attempts = 0;
  private latestKey: string | undefined;
  private latestAt = 0;
  private published = 0;
  private acked = 0;
  private wireBytes = 0;
  private lastError: string | undefined;
  private stopped = false;
  private unsubscribeCommit: (() => void) | undefined;
  private readonly bucket: TokenBucket | undefined;
  private readonly encoding: Encoding;
  /** Per lane, when its last signed batch went (0: none on this connection yet). */
  private signedAt: Record<Lane, number> = { events: 0, telemetry: 0 };

  constructor(
    private readonly cfg: UplinkConfig,
    private readonly deps: UplinkDeps,
  ) {
    this.topics = topicsFor(cfg.topicRoot, deps.gatewayId);
    const stats = deps.journal.stats();
    this.source = { gatewayId: deps.gatewayId, incarnation: stats.incarnation };
    this.sent = { events: stats.lanes.events.ackedThrough, telemetry: stats.lanes.telemetry.ackedThrough };
    this.pubacked = { ...this.sent };
    this.mark = new CommitMark(cfg.endToEnd, deps.journal, deps.log, deps.gatewayId);
    this.replays = new RewindThrottle(REPLAY_WINDOW_MS, (lane) => {
      this.rewind(lane);
      void this.pump();
    });
    this.resendWait = cfg.endToEnd.resendAfterMs;
    const rate = cfg.rateLimitBytesPerSec;
    // A quarter second of burst: enough for one batch on slow links, no flood on fast ones.
    if (rate > 0) this.bucket = new TokenBucket(rate, Math.max(rate / 4, 1024), Date.now());
    // The payload says how it is encoded (wire/envelope.ts), so MQTT 3.1.1 is compressed too.
    this.encoding = cfg.compression === 'deflate' ? 'deflate' : 'identity';
  }

  private options(): IClientOptions {
    const { cfg } = this;
    const options: IClientOptions = {
      protocolVersion: cfg.protocolVersion,
      clientId: cfg.clientId ?? `coldgate-${this.deps.gatewayId}`,
      clean: true,
      keepalive: cfg.keepaliveSec,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      // MQTT 5: after its first message a topic costs 3 bytes, not 40 (the broker sets how many aliases).
      autoAssignTopicAlias: cfg.protocolVersion === 5,
      // mqtt-packet's cache of all 65536 packet ids as Buffers is 6 MB of heap for a few µs a publish.
      writeCache: false,
      username: cfg.username,
      password: cfg.password,
      will: { topic: this.topics.status, payload: Buffer.from(JSON.stringify({ online: false, gatewayId: this.deps.gatewayId })), qos: 1, retain: true },
    };
    // An MQTT 5 broker then drops larger messages for this client instead of sending them.
    if (cfg.protocolVersion === 5) options.properties = { maximumPacketSize: MAX_INCOMING_PACKET_BYTES };
    Object.assign(options, readTls(cfg.tls));
    return options;
  }

  /** Connects once the persisted end-to-end mark is read (a LevelDB get): acks before it would use the wrong mode. */
  start(): void {
    const options = this.options();
    this.unsubscribeCommit = this.deps.journal.onCommit((lane) => (lane === 'events' ? this.pumpSoon() : this.scheduleBatch()));
    const connect = () => {
      if (!this.stopped) this.connect(options);
    };
    this.mark.load().then(connect, (err: Error) => {
      this.deps.log.error({ err: err.message }, 'end-to-end mark unreadable: acking on PUBACK until a receiver answers');
      connect();
    });
  }

  private connect(options: IClientOptions): void {
    const client = connectMqtt(this.cfg.url, options);
    this.client = client;
    // MQTT.js buffers a whole packet before it looks at its size (and 3.1.1 cannot announce a limit): cut the connection at the header.
    watchPacketSizes(client.stream, MAX_INCOMING_PACKET_BYTES, (bytes) => {
      this.deps.log.warn({ bytes, max: MAX_INCOMING_PACKET_BYTES, url: this.cfg.url }, 'broker sent a packet over the size limit: reconnecting');
      client.stream.destroy();
    });
    client.on('connect', () => {
      if (client === this.client) this.onConnect(client);
    });
    client.on('close', () => {
      if (client === this.client) this.onClose(client, options);
    });
    client.on('message', (topic, payload, packet) => {
      if (topic === this.topics.committed) return this.onCommitted(payload);
      if (!topic.startsWith(this.topics.commands)) return;
      const name = topic.slice(this.topics.commands.length);
      this.deps.onCommand?.({ name, payload, responseTopic: packet.properties?.responseTopic, correlationData: packet.properties?.correlationData });
    });
    client.on('error', (err) => {
      if (err.message === this.lastError) return;
      this.lastError = err.message;
      this.deps.log.warn({ err: err.message, url: this.cfg.url }, 'uplink error');
    });
  }

  private onConnect(client: MqttClient): void {
    this.connectedAt = new Date().toISOString();
    this.attempts = 0;
    this.telemetryDue = true;
    this.lastError = undefined;
    // The first batch of each lane on a connection is signed: a consumer need not wait a minute.
    this.signedAt = { events: 0, telemetry: 0 };
    this.deps.log.info({ url: this.cfg.url }, 'uplink connected');
    const retained = { qos: 1 as const, retain: true };
    client.publish(this.topics.status, JSON.stringify({ online: true, ...this.source, version: this.deps.version, connectedAt: this.connectedAt, ...(this.deps.key && { keyFingerprint: this.deps.key.fingerprint }) }), retained);
    this.publishLatest(true);
    if (this.deps.onCommand) client.subscribe(`${this.topics.commands}+`, { qos: 1 });
    if (this.cfg.endToEnd.mode === 'auto') client.subscribe(this.topics.committed, { qos: 1 });
    void this.pump();
  }

  /**
   * Sends a command's reply to the topic the sender named, with its correlation data (MQTT 5);
   * only under this gateway's `reply/` prefix, never on its own data topics or another gateway's.
   */
  reply(command: IncomingCommand, body: unknown): void {
    if (!command.responseTopic || !this.client?.connected) return;
    if (!isReplyTopic(this.topics, command.responseTopic)) {
      this.deps.log.warn({ topic: command.responseTopic, allowed: `${this.topics.replies}#` }, 'reply not sent: topic outside the reply prefix');
      return;
    }
    const options: IClientPublishOptions = { qos: 1 };
    if (this.cfg.protocolVersion === 5) options.properties = { contentType: CONTENT_TYPE, correlationData: command.correlationData };
    this.client.publish(command.responseTopic, JSON.stringify(body), options);
  }

  private onClose(client: MqttClient, options: IClientOptions): void {
    if (this.connectedAt !== undefined) {
      this.deps.log.warn({ url: this.cfg.url }, 'uplink offline');
      this.disconnectedSince = Date.now();
    }
    this.connectedAt = undefined;
    this.client = undefined;
    // Its pending publishes fail now and are ignored: the journal still has every record.
    client.end(true);
    for (const lane of LANES) this.rewind(lane);
    if (this.stopped) return;
    const { reconnectMinMs: minMs, reconnectFastPhaseMs: fastPhaseMs, reconnectMaxMs: maxMs } = this.cfg;
    const delay = reconnectDelay({ minMs, fastPhaseMs, maxMs }, this.attempts++, Date.now() - this.disconnectedSince, Math.random());
    this.reconnectTimer = setTimeout(() => this.connect(options), delay);
  }

  /**
   * Publishes the retained `latest` when what it shows changed, when LATEST_REFRESH_MS passed,
   * or (`force`) after a connect; the runtime offers it every second. Compressed like batches.
   */
  publishLatest(force = false): void {
    if (!this.client?.connected) return;
    const latest = this.deps.latest();
    const now = Date.now();
    if (!force && latest.changeKey === this.latestKey && now - this.latestAt < LATEST_REFRESH_MS) return;
    this.latestKey = latest.changeKey;
    this.latestAt = now;
    this.client.publish(this.topics.latest, pack(JSON.stringify(latest.doc), this.encoding), { qos: 1, retain: true, properties: this.properties(this.encoding) });
  }

  /** MQTT 5 content type and encoding (3.1.1 has no properties: there the payload says it alone). */
  private properties(encoding: Encoding): IClientPublishOptions['properties'] {
    if (this.cfg.protocolVersion !== 5) return undefined;
    return encoding === 'identity' ? { contentType: CONTENT_TYPE } : { contentType: CONTENT_TYPE, userProperties: { 'content-encoding': encoding } };
  }

  /** Once per turn of the event loop, however many commits came in it. */
  private pumpSoon(): void {
    this.pumpImmediate ??= setImmediate(() => {
      this.pumpImmediate = undefined;
      void this.pump();
    });
  }

  /**
   * The telemetry interval starts at the first record committed after the last batch. A commit
   * that lands within BATCH_EARLY_MS (a tenth of a short interval) of its end sends the batch in
   * that commit's wakeup; the timer, that much later, sends it when no commit comes (at steady
   * state a poll's commit lands at the interval's end, and a timer of its own would wake the box
   * a moment before or after).
   */
  private scheduleBatch(): void {
    if (this.telemetryDue) return this.pumpSoon();
    const interval = this.cfg.batchIntervalMs;
    // A tenth of a short interval: batches stay the interval's, never one per commit.
    const early = Math.min(BATCH_EARLY_MS, interval / 10);
    if (this.batchTimer === undefined) {
      this.batchDueAt = Date.now() + interval;
      this.batchTimer = setTimeout(this.batchDue, interval + early);
    } else if (Date.now() >= this.batchDueAt - early) this.batchDue();
  }

  private readonly batchDue = (): void => {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    this.telemetryDue = true;
    this.pumpSoon();
  };

  /** Records committed on telemetry and neither acked nor in flight. */
  private unsentTelemetry(): number {
    let inflight = 0;
    for (const entry of this.inflight.telemetry) inflight += entry.records;
    return this.deps.journal.stats().lanes.telemetry.records - inflight;
  }

  private windowUsed(): number {
    return this.inflight.events.length + this.inflight.telemetry.length;
  }

  /** Publishes while there is room in the window and records to send; events first. */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        const client = this.client;
        // After every await the connection may have changed: then this pass stops and the next connect starts over.
        const live = () => client !== undefined && client === this.client && client.connected;
        for (const lane of LANES) {
          let drained = false;
          while (live() && this.windowUsed() < this.cfg.inflightWindow) {
            // Telemetry that is not due waits for its interval unless a full batch is ready.
            if (lane === 'telemetry' && !this.telemetryDue && this.unsentTelemetry() < this.cfg.batchMaxRecords) {
              drained = true;
              break;
            }
            const after = this.sent[lane];
            const { records, prev, head } = await this.deps.journal.readChained(lane, after, this.cfg.batchMaxRecords);
            if (records.length === 0) {
              drained = true;
              break;
            }
            if (!live()) break;
            // A rewind (replay, resend) came in meanwhile: read again from where it put the lane.
            if (this.sent[lane] !== after) continue;
            const payload = encodeBatch(this.source, lane, records, this.encoding, this.chainOf(lane, records, prev, head));
            const wait = this.bucket?.take(payload.length, Date.now()) ?? 0;
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            if (!live()) break;
            if (this.sent[lane] !== after) continue;
            this.publishBatch(client!, lane, records, payload);
            if (lane === 'telemetry' && records.length < this.cfg.batchMaxRecords) {
              // The tail of what there was: the next batch waits its interval.
              this.telemetryDue = false;
              if (this.unsentTelemetry() > 0) this.scheduleBatch();
            }
          }
          // Telemetry waits until the events lane is empty, not merely until the window has room.
          if (!drained) break;
        }
      } while (this.pumpAgain);
    } catch (err) {
      this.deps.log.error({ err }, 'uplink could not read the journal');
    } finally {
      this.pumping = false;
    }
  }

  /** prev and head always; a signature on the first batch after SIGN_INTERVAL_MS and on one that ends a trip. */
  private chainOf(lane: Lane, records: JournalRecord[], prev: string | undefined, head: string | undefined): BatchChain {
    const key = this.deps.key;
    if (head === undefined) return {};
    const now = Date.now();
    const endsTrip = lane === 'events' && records.some((r) => r.kind === 'event' && r.type === 'trip.ended');
    if (!key || (!endsTrip && now - this.signedAt[lane] < SIGN_INTERVAL_MS)) return { prev, head };
    this.signedAt[lane] = now;
    return { prev, head, sig: signHead(key, { ...this.source, lane, lastSeq: records[records.length - 1]!.seq, head }) };
  }

  private publishBatch(client: MqttClient, lane: Lane, records: JournalRecord[], payload: Buffer): void {
    const toSeq = records[records.length - 1]!.seq;
    const before = this.pubacked[lane];
    const fresh = records[0]!.seq > before ? records.length : records.filter((r) => r.seq > before).length;
    const entry: InFlight = { toSeq, records: records.length, fresh, done: false };
    this.inflight[lane].push(entry);
    this.sent[lane] = toSeq;
    const options: IClientPublishOptions = { qos: 1, properties: this.properties(this.encoding) };
    this.published += records.length;
    this.wireBytes += payload.length;
    client.publish(lane === 'events' ? this.topics.events : this.topics.telemetry, payload, options, (err) => {
      if (client !== this.client) return;
      if (err) {
        this.deps.log.warn({ err: err.message, lane, toSeq }, 'batch publish failed; will resend from the journal');
        this.rewind(lane);
        // Again after an interval, not in a loop: a connection that failed is closing anyway.
        this.telemetryDue = false;
        this.scheduleBatch();
        return;
      }
      entry.done = true;
      void this.advanceAcks(lane);
    });
  }

  /** Start again after the last acked seq: duplicates are allowed, holes are not. */
  private rewind(lane: Lane): void {
    this.inflight[lane] = [];
    this.sent[lane] = this.deps.journal.stats().lanes[lane].ackedThrough;
  }

  /** The PUBACKed prefix of the window moves the lane's PUBACK mark; the journal follows as far as the mode allows. */
  private async advanceAcks(lane: Lane): Promise<void> {
    const queue = this.inflight[lane];
    let moved = false;
    while (queue[0]?.done) {
      const entry = queue.shift()!;
      this.pubacked[lane] = Math.max(this.pubacked[lane], entry.toSeq);
      this.uncommitted[lane] += entry.fresh;
      moved = true;
    }
    if (!moved) return;
    await this.ackJournal(lane);
    this.armResend();
    void this.pump();
  }

  /** Lets the journal go of what is PUBACKed and, in end-to-end mode, also committed by the receiver. */
  private async ackJournal(lane: Lane): Promise<void> {
    const through = this.mark.ackLimit(this.pubacked[lane]);
    try {
      const before = this.deps.journal.stats().lanes[lane].records;
      await this.deps.journal.ack(lane, through);
      const removed = before - this.deps.journal.stats().lanes[lane].records;
      this.acked += removed;
      this.uncommitted[lane] = Math.max(0, this.uncommitted[lane] - removed);
    } catch (err) {
      this.deps.log.error({ err, lane, through }, 'journal ack failed; records will be sent again');
    }
  }

  /** A message on the committed topic: a higher mark lets the journal go of what the receiver stored. */
  private onCommitted(payload: Buffer): void {
    if (!this.mark.receive(payload)) return;
    clearTimeout(this.resendTimer);
    this.resendTimer = undefined;
    this.resendWait = this.cfg.endToEnd.resendAfterMs;
    void Promise.all(LANES.map((lane) => this.ackJournal(lane))).then(() => this.armResend());
  }

  /** Whether some lane has records the broker PUBACKed that the receiver has not committed. */
  private awaitingReceiver(): boolean {
    return this.mark.active && LANES.some((lane) => this.pubacked[lane] > Math.max(this.mark.through, this.deps.journal.stats().lanes[lane].ackedThrough));
  }

  /**
   * While PUBACKed records wait for the receiver and its mark stands still, they are sent again
   * after resendAfterMs (a broker may lose what it acknowledged), then after twice as long, up to
   * 10 min; a rise of the mark starts the wait again.
   */
  private armResend(): void {
    if (this.resendTimer || this.stopped || !this.awaitingReceiver()) return;
    this.resendTimer = setTimeout(() => {
      this.resendTimer = undefined;
      if (!this.awaitingReceiver()) return;
      if (this.connected()) {
        this.deps.log.info({ committedThrough: this.mark.through, pubacked: this.pubacked, waitedMs: this.resendWait }, 'receiver has not committed PUBACKed records: sending them again');
        for (const lane of LANES) this.rewind(lane);
        this.telemetryDue = true;
        void this.pump();
        this.resendWait = Math.min(this.resendWait * 2, MAX_RESEND_WAIT_MS);
      }
      this.armResend();
    }, this.resendWait);
  }

  /**
   * cmd/replay for this incarnation: which seqs of the range the journal still holds (they are
   * sent again: the lanes holding some are rewound, at most once per REPLAY_WINDOW_MS each) and
   * which it holds no more. Seqs not assigned yet are in neither list.
   */
  async replay(req: ReplayRequest): Promise<ReplayReply> {
    const end = Math.min(req.toSeq, this.deps.journal.stats().nextSeq - 1);
    const held: Record<Lane, Range[]> = { events: [], telemetry: [] };
    if (end >= req.fromSeq) for (const lane of LANES) held[lane] = await this.deps.journal.heldRanges(lane, req.fromSeq, end);
    for (const lane of LANES) if (held[lane].length > 0) this.replays.request(lane);
    const resending = union(held.events, held.telemetry);
    const notHeld = holes(resending, end, req.fromSeq);
    // The first ranges say enough; a fragmented answer would make a long line.
    this.deps.log.info({ by: req.by, fromSeq: req.fromSeq, toSeq: req.toSeq, resending: resending.slice(0, 10), notHeld: notHeld.slice(0, 10) }, 'replay requested');
    return { schema: REPLAY_SCHEMA, gatewayId: this.deps.gatewayId, incarnation: this.source.incarnation, fromSeq: req.fromSeq, toSeq: req.toSeq, resending, notHeld };
  }

  connected(): boolean {
    return this.client?.connected === true;
  }

  health(): DeviceHealth {
    const online = this.connected();
    return {
      id: 'uplink',
      kind: 'uplink',
      state: online ? 'ok' : 'offline',
      detail: online ? `connected to ${this.cfg.url}` : `offline${this.lastError ? `: ${this.lastError}` : ''}`,
      lastOkAt: this.connectedAt,
      offlineForMs: online ? 0 : Date.now() - this.disconnectedSince,
      published: this.published,
      acked: this.acked,
      wireBytes: this.wireBytes,
      inflightBatches: this.windowUsed(),
      // 'receiver': the journal lets go only of what a receiver committed (end-to-end.ts).
      ackedOn: this.mark.active ? 'receiver' : 'puback',
      committedThrough: this.mark.through,
      uncommittedRecords: this.uncommitted.events + Math.min(this.uncommitted.telemetry, this.deps.journal.stats().lanes.telemetry.records),
    };
  }

  /** Never waits for the broker: pending publishes stay in the journal for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.batchTimer);
    clearImmediate(this.pumpImmediate);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.resendTimer);
    this.replays.stop();
    this.unsubscribeCommit?.();
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (client.connected) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 500);
        client.publish(this.topics.status, JSON.stringify({ online: false, gatewayId: this.deps.gatewayId, reason: 'shutdown' }), { qos: 1, retain: true }, () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }
}
