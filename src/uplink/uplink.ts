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

/** MQTT 5 content type of every JSON payload (batches, latest, replies); the payload says whether it is compressed. */
export const CONTENT_TYPE = 'application/json';
/** `latest` goes when what it shows changes, and at least this often (values and health refresh). */
export const LATEST_REFRESH_MS = 60_000;
/** A lane's batch is signed when this long has passed since its last signature (and at a trip's end). */
export const SIGN_INTERVAL_MS = 60_000;

interface InFlight {
  toSeq: number;
  records: number;
  done: boolean;
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
  private readonly inflight: Record<Lane, InFlight[]> = { events: [], telemetry: [] };
  private pumping = false;
  private pumpAgain = false;
  private batchTimer: NodeJS.Timeout | undefined;
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

  start(): void {
    const options = this.options();
    this.unsubscribeCommit = this.deps.journal.onCommit((lane) => (lane === 'events' ? this.pumpSoon() : this.scheduleBatch()));
    this.connect(options);
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

  /** The telemetry interval starts at the first record committed after the last batch. */
  private scheduleBatch(): void {
    if (this.telemetryDue) return this.pumpSoon();
    this.batchTimer ??= setTimeout(() => {
      this.batchTimer = undefined;
      this.telemetryDue = true;
      void this.pump();
    }, this.cfg.batchIntervalMs);
  }

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
            const { records, prev, head } = await this.deps.journal.readChained(lane, this.sent[lane], this.cfg.batchMaxRecords);
            if (records.length === 0) {
              drained = true;
              break;
            }
            if (!live()) break;
            const payload = encodeBatch(this.source, lane, records, this.encoding, this.chainOf(lane, records, prev, head));
            const wait = this.bucket?.take(payload.length, Date.now()) ?? 0;
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            if (!live()) break;
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
    const entry: InFlight = { toSeq, records: records.length, done: false };
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

  private async advanceAcks(lane: Lane): Promise<void> {
    const queue = this.inflight[lane];
    let through: number | undefined;
    let count = 0;
    while (queue[0]?.done) {
      through = queue.shift()!.toSeq;
      count++;
    }
    if (through === undefined) return;
    try {
      const before = this.deps.journal.stats().lanes[lane].records;
      await this.deps.journal.ack(lane, through);
      this.acked += before - this.deps.journal.stats().lanes[lane].records;
    } catch (err) {
      this.deps.log.error({ err, lane, through, batches: count }, 'journal ack failed; records will be sent again');
    }
    void this.pump();
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
    };
  }

  /** Never waits for the broker: pending publishes stay in the journal for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.batchTimer);
    clearImmediate(this.pumpImmediate);
    clearTimeout(this.reconnectTimer);
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
