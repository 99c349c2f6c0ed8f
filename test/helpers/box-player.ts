import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { JournalRecord, Lane } from '../../src/core/types.ts';
import { laneOf } from '../../src/core/types.ts';
import { genesis, hashesOf } from '../../src/chain/hash.ts';
import type { BoxKey } from '../../src/chain/keys.ts';
import { signHead } from '../../src/chain/sign.ts';
import { batchDoc, encodeBatch, type BatchDoc } from '../../src/uplink/wire/batch.ts';
import { pack } from '../../src/uplink/wire/envelope.ts';

/**
 * Plays a gateway for the receiver's tests: one journal (seq shared by both lanes), batches
 * made by the real wire encoder with the real chain hashes and, with a key, signatures; it
 * answers cmd/replay from the records it still `holds` (the rest are notHeld).
 */
export class BoxPlayer {
  readonly incarnation = randomBytes(8).toString('hex');
  readonly records: JournalRecord[] = [];
  /** Seqs it can still resend; everything by default. */
  forgotten = new Set<number>();
  readonly replays: { fromSeq: number; toSeq: number }[] = [];
  private client: MqttClient | undefined;
  private readonly t0 = Date.parse('2026-03-01T06:00:00Z');

  constructor(
    readonly gatewayId: string,
    readonly key?: BoxKey,
  ) {}

  /** n temperature readings (two probes alternating, values with one decimal). */
  readings(n: number): JournalRecord[] {
    const out: JournalRecord[] = [];
    for (let i = 0; i < n; i++) {
      const seq = this.records.length + 1;
      const r: JournalRecord = { kind: 'temperature', ts: new Date(this.t0 + seq * 1000).toISOString(), tq: 'system', probe: `p${seq % 2}`, compartment: 'front', value: Math.round(40 + Math.sin(seq) * 10) / 10, quality: 'good', seq };
      this.records.push(r);
      out.push(r);
    }
    return out;
  }

  event(type = 'door.open'): JournalRecord {
    const seq = this.records.length + 1;
    const r: JournalRecord = { kind: 'event', ts: new Date(this.t0 + seq * 1000).toISOString(), tq: 'system', type, severity: 'info', message: `${type} at ${seq}`, data: { seq }, seq };
    this.records.push(r);
    return r;
  }

  gap(fromSeq: number, toSeq: number, reason = 'max-bytes'): JournalRecord {
    const seq = this.records.length + 1;
    const r: JournalRecord = { kind: 'gap', ts: new Date(this.t0 + seq * 1000).toISOString(), tq: 'system', fromSeq, toSeq, count: toSeq - fromSeq + 1, reason, seq };
    this.records.push(r);
    return r;
  }

  /** The lane's chain hash after every record of it. */
  private hashes(lane: Lane): Map<number, string> {
    const laneRecords = this.records.filter((r) => laneOf(r) === lane);
    const h = hashesOf(genesis(this.incarnation, lane), laneRecords);
    return new Map(laneRecords.map((r, i) => [r.seq, h[i]!]));
  }

  /** The batch document for records of one lane, with its chain (and a signature when `sign`). */
  doc(records: readonly JournalRecord[], sign = this.key !== undefined): BatchDoc {
    const lane = laneOf(records[0]!);
    const hashes = this.hashes(lane);
    const before = [...hashes.keys()].filter((s) => s < records[0]!.seq).at(-1);
    const prev = before === undefined ? genesis(this.incarnation, lane) : hashes.get(before)!;
    const head = hashes.get(records[records.length - 1]!.seq)!;
    const sig = sign && this.key ? signHead(this.key, { gatewayId: this.gatewayId, incarnation: this.incarnation, lane, lastSeq: records[records.length - 1]!.seq, head }) : undefined;
    return batchDoc({ gatewayId: this.gatewayId, incarnation: this.incarnation }, lane, records, { prev, head, ...(sig && { sig }) });
  }

  payload(records: readonly JournalRecord[]): Buffer {
    const d = this.doc(records);
    return encodeBatch({ gatewayId: this.gatewayId, incarnation: this.incarnation }, d.lane, records, 'deflate', { prev: d.prev, head: d.head, sig: d.sig });
  }

  async connect(url: string): Promise<MqttClient> {
    const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `box-${this.gatewayId}-${randomBytes(3).toString('hex')}` });
    this.client = client;
    await client.subscribeAsync(`coldgate/v1/${this.gatewayId}/cmd/replay`, { qos: 1 });
    client.on('message', (topic, payload, packet) => {
      if (!topic.endsWith('/cmd/replay')) return;
      const req = JSON.parse(payload.toString()) as { incarnation: string; fromSeq: number; toSeq: number };
      this.replays.push({ fromSeq: req.fromSeq, toSeq: req.toSeq });
      void this.answer(req, packet.properties?.responseTopic ?? `coldgate/v1/${this.gatewayId}/reply/replay`);
    });
    return client;
  }

  private async answer(req: { incarnation: string; fromSeq: number; toSeq: number }, responseTopic: string): Promise<void> {
    const inRange = this.records.filter((r) => r.seq >= req.fromSeq && r.seq <= req.toSeq);
    const held = inRange.filter((r) => !this.forgotten.has(r.seq));
    for (const lane of ['events', 'telemetry'] as const) {
      const list = held.filter((r) => laneOf(r) === lane);
      if (list.length) await this.publish(list);
    }
    const notHeld: [number, number][] = [];
    for (const r of inRange) {
      if (!this.forgotten.has(r.seq)) continue;
      const last = notHeld.at(-1);
      if (last && last[1] === r.seq - 1) last[1] = r.seq;
      else notHeld.push([r.seq, r.seq]);
    }
    const reply = { schema: 'coldgate.replay/1', gatewayId: this.gatewayId, incarnation: this.incarnation, fromSeq: req.fromSeq, toSeq: req.toSeq, resending: held.length ? [[held[0]!.seq, held.at(-1)!.seq]] : [], notHeld };
    await this.client!.publishAsync(responseTopic, pack(JSON.stringify(reply), 'identity'), { qos: 1 });
  }

  /** Publishes records of one lane as one batch on its topic. */
  async publish(records: readonly JournalRecord[], payload = this.payload(records)): Promise<void> {
    await this.client!.publishAsync(`coldgate/v1/${this.gatewayId}/${laneOf(records[0]!)}`, payload, { qos: 1 });
  }

  async publishRaw(leaf: string, payload: Buffer): Promise<void> {
    await this.client!.publishAsync(`coldgate/v1/${this.gatewayId}/${leaf}`, payload, { qos: 1 });
  }

  async close(): Promise<void> {
    await this.client?.endAsync();
  }
}
