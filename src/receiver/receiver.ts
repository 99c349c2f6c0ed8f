import type { IPublishPacket, MqttClient } from 'mqtt';
import type pg from 'pg';
import { silentLogger, type Logger } from '../core/log.ts';
import { formatIssues } from '../config/errors.ts';
import { decodeJson } from '../uplink/decode.ts';
import { connectMqtt } from '../uplink/connect.ts';
import { CommittedPublisher, type CommittedMessage } from './committed.ts';
import { ReceiverConfig } from './config.ts';
import { DbRetry, Stopped } from './db-retry.ts';
import { dueReplays } from './hole-scan.ts';
import { HoleTracker } from './holes.ts';
import { readBatch, Refused, type RefusedKind } from './inbound.ts';
import { newMetrics, observeCommit, serveMetrics, type ReceiverMetrics } from './metrics.ts';
import { migrate } from './migrate.ts';
import { openPool } from './pool.ts';
import { notHeldOf, ReplayReply, REPLAY_SCHEMA } from './replay.ts';
import { declareNotHeld, writeBatches, type JournalResult } from './store.ts';

export interface ReceiverOptions {
  /** mqtt://[user:password@]host:port (MQTT 5 is required: shared subscriptions). */
  mqttUrl: string;
  /** postgres://... or a pool the caller owns (then stop() leaves it open). */
  db: string | pg.Pool;
  config?: Partial<ReceiverConfig>;
  log?: Logger;
}

export interface Receiver {
  readonly name: string;
  /** The /metrics port, when served. */
  readonly metricsPort?: number;
  metrics(): ReceiverMetrics;
  /** Stops taking messages; one in the middle of its transaction is not acknowledged (the broker redelivers it). */
  stop(): Promise<void>;
}

const sleepPlain = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * `coldgate receive`: MQTT 5 shared subscriptions in, one PostgreSQL transaction per message,
 * the PUBACK only after COMMIT (MQTT.js calls handleMessage for one message at a time and
 * sends the PUBACK when its callback runs). Stateless beyond the database: any number of
 * receivers may share a group.
 */
export async function startReceiver(opts: ReceiverOptions): Promise<Receiver> {
  const cfg = ReceiverConfig.parse(opts.config ?? {});
  const log = (opts.log ?? silentLogger).child({ receiver: cfg.name });
  const ownPool = typeof opts.db === 'string';
  const pool = typeof opts.db === 'string' ? await openPool(opts.db, 4) : opts.db;
  // An idle connection that the server drops (a restart) emits here; the next query reconnects.
  pool.on('error', (err) => log.warn({ err: err.message }, 'database connection lost'));
  const m = newMetrics();
  const root = cfg.topicRoot.replace(/\/+$/, '');
  let stopping = false;
  const retry = new DbRetry(cfg.retryInitialMs, cfg.retryMaxMs, log, () => m.dbRetries++);
  const withRetry = <T>(what: string, work: () => Promise<T>) => retry.run(what, work);

  await withRetry('migrate', async () => {
    const applied = await migrate(pool);
    if (applied.length) log.info({ applied }, 'schema migrated');
  });

  const mqttUrl = new URL(opts.mqttUrl);
  const client: MqttClient = connectMqtt(opts.mqttUrl, {
    protocolVersion: 5,
    clientId: `coldgate-rx-${cfg.name}`,
    clean: false,
    properties: { sessionExpiryInterval: cfg.sessionExpirySec },
    reconnectPeriod: 1000,
    manualConnect: true,
    ...(mqttUrl.username && { username: decodeURIComponent(mqttUrl.username), password: decodeURIComponent(mqttUrl.password) }),
  });
  client.on('error', (err) => log.warn({ err: err.message }, 'mqtt error'));

  const committed = new CommittedPublisher(cfg.committedEveryMs, (msg: CommittedMessage) => {
    m.committedPublished++;
    client.publish(`${root}/${msg.gatewayId}/committed`, JSON.stringify(msg), { qos: 1, retain: true }, (err) => {
      if (err && !stopping) log.warn({ err: err.message, gatewayId: msg.gatewayId }, 'committed not published');
    });
  });
  const advancedJournal = (j: JournalResult) => {
    if (j.advanced || j.dropped > 0) committed.offer(j.gatewayId, j.incarnation, j.contiguousThrough, j.dropped > 0);
  };

  const warned = new Set<string>();
  const refuse = async (topic: string, gatewayId: string | undefined, kind: RefusedKind, message: string, bytes: number, record = true) => {
    m.refused[kind] = (m.refused[kind] ?? 0) + 1;
    const once = `${gatewayId ?? ''}\u0000${kind}`;
    if (!warned.has(once)) {
      warned.add(once);
      log.warn({ topic, gatewayId, kind, problem: message }, 'message refused (acknowledged, recorded in table refused; further ones of this kind from this gateway are only counted)');
    }
    if (!record) return;
    await withRetry('record refused input', () =>
      pool.query('INSERT INTO refused (topic, gateway_id, kind, message, bytes, receiver) VALUES ($1, $2, $3, $4, $5, $6)', [topic, gatewayId ?? null, kind, message, bytes, cfg.name]),
    );
  };

  const onBatch = async (topic: string, gatewayId: string, payload: Buffer) => {
    const started = performance.now();
    try {
      const batch = readBatch(payload, gatewayId, cfg.maxPayloadBytes);
      const outcome = await withRetry('write batch', () => writeBatches(pool, [batch], { receiver: cfg.name, topicOf: () => topic }));
      observeCommit(m, (performance.now() - started) / 1000);
      for (const r of outcome.refused) await refuse(topic, gatewayId, r.kind, r.message, payload.length, false);
      for (const b of outcome.breaks) log.warn({ gatewayId: b.gatewayId, incarnation: b.incarnation, lane: b.lane, seq: b.seq, kind: b.kind, problem: b.message }, 'chain check failed');
      m.chainBreaks += outcome.breaks.length;
      if (outcome.refused.length === 0) m.batches++;
      for (const j of outcome.journals) {
        m.records += j.inserted;
        m.duplicates += j.dropped;
        advancedJournal(j);
      }
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      await refuse(topic, gatewayId, err.kind, err.message, payload.length);
    }
  };

  const onReply = async (topic: string, gatewayId: string, payload: Buffer) => {
    let doc: unknown;
    try {
      if (payload.length > cfg.maxPayloadBytes) throw new Refused('oversized', `reply of ${payload.length} bytes, at most ${cfg.maxPayloadBytes}`);
      doc = decodeJson(payload);
    } catch (err) {
      return refuse(topic, gatewayId, err instanceof Refused ? err.kind : 'unparsable', (err as Error).message, payload.length);
    }
    const parsed = ReplayReply.safeParse(doc, { reportInput: true });
    if (!parsed.success) {
      const d = doc as { ok?: unknown; error?: unknown; schema?: unknown } | null;
      // The box's command path answers a refused request (another incarnation, too long) with ok: false.
      if (d?.ok === false) return void log.warn({ gatewayId, error: d.error }, 'the box refused a replay request');
      return refuse(topic, gatewayId, d?.schema === REPLAY_SCHEMA ? 'unparsable' : 'schema', `replay reply: ${formatIssues(parsed.error.issues).join('; ')}`, payload.length);
    }
    const reply = parsed.data;
    if (reply.gatewayId !== gatewayId) return refuse(topic, gatewayId, 'gateway-mismatch', `the reply says gateway ${JSON.stringify(reply.gatewayId)} but came on the topic of ${JSON.stringify(gatewayId)}`, payload.length);
    const notHeld = notHeldOf(reply);
    log.info({ gatewayId, incarnation: reply.incarnation, fromSeq: reply.fromSeq, toSeq: reply.toSeq, resending: reply.resending, notHeld }, 'replay reply');
    if (notHeld.length === 0) return;
    m.notHeldRanges += notHeld.length;
    advancedJournal(await withRetry('declare not-held gaps', () => declareNotHeld(pool, gatewayId, reply.incarnation, notHeld)));
  };

  /**
   * A birth `status` names the fingerprint of the key that signs the box's batches: one that is
   * not the registered key's is worth a warning before the first signature fails.
   */
  const onStatus = async (gatewayId: string, payload: Buffer) => {
    let fingerprint: unknown;
    try {
      fingerprint = (decodeJson(payload) as { keyFingerprint?: unknown } | null)?.keyFingerprint;
    } catch {
      return;
    }
    if (typeof fingerprint !== 'string') return;
    const row = (await withRetry('read gateway key', () => pool.query<{ fingerprint: string }>('SELECT fingerprint FROM gateway_keys WHERE gateway_id = $1', [gatewayId]))).rows[0];
    const once = `${gatewayId}\u0000key ${fingerprint}`;
    if (row && row.fingerprint !== fingerprint && !warned.has(once)) {
      warned.add(once);
      log.warn({ gatewayId, registered: row.fingerprint, announced: fingerprint }, 'the box announces another key than the registered one: its signatures will be refused (coldgate receiver keys add GATEWAY PUBKEY if the box was re-keyed)');
    }
  };

  /** One message: refused or committed, then acknowledged; a database error keeps it unacknowledged until it works. */
  client.handleMessage = (packet: IPublishPacket, done) => {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const topic = packet.topic;
    const rest = topic.startsWith(`${root}/`) ? topic.slice(root.length + 1) : '';
    const slash = rest.indexOf('/');
    const gatewayId = slash > 0 ? rest.slice(0, slash) : '';
    const leaf = rest.slice(slash + 1);
    const work = leaf === 'telemetry' || leaf === 'events' ? onBatch(topic, gatewayId, payload) : leaf === 'reply/replay' ? onReply(topic, gatewayId, payload) : leaf === 'status' ? onStatus(gatewayId, payload) : Promise.resolve();
    work.then(
      () => done(),
      (err: unknown) => {
        if (err instanceof Stopped) return;
        // A defect, not bad input: logged, and the message acknowledged so it cannot wedge the receiver.
        log.error({ err, topic }, 'message handling failed');
        done();
      },
    );
  };

  const filters = ['telemetry', 'events', 'status', 'reply/replay'].map((leaf) => `$share/${cfg.shareGroup}/${root}/+/${leaf}`);
  client.on('connect', (ack) => {
    log.info({ sessionPresent: ack.sessionPresent }, 'connected to the broker');
    client.subscribe(filters, { qos: 1 }, (err) => {
      if (err) log.error({ err: err.message }, 'subscribe failed');
    });
  });
  const connected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
  client.connect();

  // Holes: every quarter of the reorder timeout, ask for those old enough.
  const tracker = new HoleTracker(cfg.reorderTimeoutMs);
  const scanHoles = async () => {
    for (const { gatewayId, request } of await dueReplays(pool, tracker, `receiver:${cfg.name}`, Date.now())) {
      m.replayRequests++;
      log.info({ gatewayId, ...request }, 'asking the box to replay a hole');
      client.publish(`${root}/${gatewayId}/cmd/replay`, JSON.stringify(request), { qos: 1, properties: { responseTopic: `${root}/${gatewayId}/reply/replay` } });
    }
    m.holes = tracker.open;
  };
  let scanning = false;
  const scanTimer = setInterval(() => {
    if (scanning || retry.outage) return;
    scanning = true;
    scanHoles()
      .catch((err: unknown) => log.debug({ err: (err as Error).message }, 'hole scan failed'))
      .finally(() => (scanning = false));
  }, Math.max(100, Math.floor(cfg.reorderTimeoutMs / 4)));

  const metricsServer = cfg.metricsPort > 0 ? await serveMetrics(cfg.metricsPort, () => ({ ...m, holes: tracker.open })) : undefined;
  await Promise.race([connected, sleepPlain(10_000)]);
  log.info({ filters, metricsPort: metricsServer?.port }, 'receiver started');

  return {
    name: cfg.name,
    metricsPort: metricsServer?.port,
    metrics: () => structuredClone({ ...m, holes: tracker.open }),
    async stop() {
      stopping = true;
      clearInterval(scanTimer);
      retry.stop();
      committed.close();
      // Pending committed messages get a moment to go out; a broker that is away gets no more.
      const ended = new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
      if ((await Promise.race([ended.then(() => true), sleepPlain(2000).then(() => false)])) === false) await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
      await metricsServer?.close();
      if (ownPool) await pool.end();
    },
  };
}
