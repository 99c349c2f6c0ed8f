import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt';
import type { Logger } from '../core/log.ts';
import type { DeviceHealth, JournalRecord, Lane } from '../core/types.ts';
import type { UplinkConfig } from '../config/schema-uplink.ts';
import type { Journal } from '../journal/journal.ts';
import { LANES } from '../journal/journal.ts';
import { connectMqtt } from './connect.ts';
import { CONTENT_TYPE, encodeBatch, type BatchSource, type EncodedBatch } from './encode.ts';
import { TokenBucket } from './rate-limit.ts';
import { readTls } from './tls.ts';
import { topicsFor, type Topics } from './topics.ts';

interface InFlight {
  toSeq: number;
  done: boolean;
}

export interface UplinkDeps {
  journal: Journal;
  log: Logger;
  gatewayId: string;
  version: string;
  /** The retained `latest` snapshot, published first after every connect. */
  latest: () => unknown;
  /** A message on this gateway's own `cmd/{name}`; other gateways' topics are never subscribed. */
  onCommand?: (command: IncomingCommand) => void;
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
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectedAt: string | undefined;
  private disconnectedSince = Date.now();
  private backoffMs: number;
  private published = 0;
  private acked = 0;
  private wireBytes = 0;
  private lastError: string | undefined;
  private stopped = false;
  private unsubscribeCommit: (() => void) | undefined;
  private readonly bucket: TokenBucket | undefined;
  private readonly encoding: 'deflate' | 'identity';

  constructor(
    private readonly cfg: UplinkConfig,
    private readonly deps: UplinkDeps,
  ) {
    this.topics = topicsFor(cfg.topicRoot, deps.gatewayId);
    const stats = deps.journal.stats();
    this.source = { gatewayId: deps.gatewayId, incarnation: stats.incarnation };
    this.sent = { events: stats.lanes.events.ackedThrough, telemetry: stats.lanes.telemetry.ackedThrough };
    this.backoffMs = cfg.reconnectMinMs;
    const rate = cfg.rateLimitBytesPerSec;
    // A quarter second of burst: enough for one batch on slow links, no flood on fast ones.
    if (rate > 0) this.bucket = new TokenBucket(rate, Math.max(rate / 4, 1024), Date.now());
    // MQTT 3.1.1 has no properties to announce an encoding: payloads stay plain JSON there.
    this.encoding = cfg.compression === 'deflate' && cfg.protocolVersion === 5 ? 'deflate' : 'identity';
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
      // mqtt-packet's cache of all 65536 packet ids as Buffers is 6 MB of heap for a few µs a publish.
      writeCache: false,
      username: cfg.username,
      password: cfg.password,
      will: { topic: this.topics.status, payload: Buffer.from(JSON.stringify({ online: false, gatewayId: this.deps.gatewayId })), qos: 1, retain: true },
    };
    Object.assign(options, readTls(cfg.tls));
    return options;
  }

  start(): void {
    const options = this.options();
    this.unsubscribeCommit = this.deps.journal.onCommit(() => this.scheduleBatch());
    this.connect(options);
  }

  private connect(options: IClientOptions): void {
    const client = connectMqtt(this.cfg.url, options);
    this.client = client;
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
    this.backoffMs = this.cfg.reconnectMinMs;
    this.lastError = undefined;
    this.deps.log.info({ url: this.cfg.url }, 'uplink connected');
    const retained = { qos: 1 as const, retain: true };
    client.publish(this.topics.status, JSON.stringify({ online: true, ...this.source, version: this.deps.version, connectedAt: this.connectedAt }), retained);
    this.publishLatest();
    if (this.deps.onCommand) client.subscribe(`${this.topics.commands}+`, { qos: 1 });
    void this.pump();
  }

  /** Sends a command's reply to the topic the sender named, with its correlation data (MQTT 5). */
  reply(command: IncomingCommand, body: unknown): void {
    if (!command.responseTopic || !this.client?.connected) return;
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
    this.reconnectTimer = setTimeout(() => this.connect(options), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.cfg.reconnectMaxMs);
  }

  publishLatest(): void {
    if (!this.client?.connected) return;
    const options: IClientPublishOptions = { qos: 1, retain: true };
    if (this.cfg.protocolVersion === 5) options.properties = { contentType: CONTENT_TYPE };
    this.client.publish(this.topics.latest, JSON.stringify(this.deps.latest()), options);
  }

  private scheduleBatch(): void {
    this.batchTimer ??= setTimeout(() => {
      this.batchTimer = undefined;
      void this.pump();
    }, this.cfg.batchIntervalMs);
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
            const records = await this.deps.journal.read(lane, this.sent[lane], this.cfg.batchMaxRecords);
            if (records.length === 0) {
              drained = true;
              break;
            }
            if (!live()) break;
            const batch = encodeBatch(this.source, lane, records, this.encoding);
            const wait = this.bucket?.take(batch.payload.length, Date.now()) ?? 0;
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            if (!live()) break;
            this.publishBatch(client!, lane, records, batch);
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

  private publishBatch(client: MqttClient, lane: Lane, records: JournalRecord[], batch: EncodedBatch): void {
    const toSeq = records[records.length - 1]!.seq;
    const entry: InFlight = { toSeq, done: false };
    this.inflight[lane].push(entry);
    this.sent[lane] = toSeq;
    const options: IClientPublishOptions = { qos: 1 };
    if (this.cfg.protocolVersion === 5) {
      options.properties = { contentType: CONTENT_TYPE };
      if (batch.encoding !== 'identity') options.properties.userProperties = { 'content-encoding': batch.encoding };
    }
    this.published += records.length;
    this.wireBytes += batch.payload.length;
    client.publish(lane === 'events' ? this.topics.events : this.topics.telemetry, batch.payload, options, (err) => {
      if (client !== this.client) return;
      if (err) {
        this.deps.log.warn({ err: err.message, lane, toSeq }, 'batch publish failed; will resend from the journal');
        this.rewind(lane);
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
