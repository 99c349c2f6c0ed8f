import mqtt, { type MqttClient } from 'mqtt';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startManagedGateway, type Supervisor } from '../../src/remote/index.ts';

export type Reply = Record<string, unknown> & { ok: boolean; command: string; error?: string; problems?: string[] };

/**
 * An operator tool on an MQTT 5 broker: sends `coldgate/v1/{gatewayId}/cmd/{name}` with a
 * response topic under the gateway's reply prefix and correlation data, and collects every
 * message under `coldgate/v1/+/reply/#` (and any extra topics the test watches).
 */
export class CommandClient {
  readonly messages: { topic: string; payload: Buffer; correlation?: string; encoding?: string }[] = [];
  private seq = 0;

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const encoding = packet.properties?.userProperties?.['content-encoding'];
      this.messages.push({ topic, payload, correlation: packet.properties?.correlationData?.toString(), encoding: typeof encoding === 'string' ? encoding : undefined });
    });
  }

  static async connect(url: string, clientId: string): Promise<CommandClient> {
    const ops = new CommandClient(await mqtt.connectAsync(url, { protocolVersion: 5, clientId }));
    await ops.client.subscribeAsync('coldgate/v1/+/reply/#', { qos: 1 });
    return ops;
  }

  /** Publishes a command; resolves with its reply, or undefined when none came within `waitMs`. */
  async send(name: string, body: unknown, opts: { gatewayId?: string; waitMs?: number; responseTopic?: string } = {}): Promise<Reply | undefined> {
    const { gatewayId = 'van-a', waitMs = 30_000 } = opts;
    const responseTopic = opts.responseTopic ?? `coldgate/v1/${gatewayId}/reply/test`;
    const correlation = `c${++this.seq}`;
    const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    await this.client.publishAsync(`coldgate/v1/${gatewayId}/cmd/${name}`, payload, { qos: 1, properties: { responseTopic, correlationData: Buffer.from(correlation) } });
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      const hit = this.messages.find((m) => m.correlation === correlation);
      if (hit) return JSON.parse(hit.payload.toString()) as Reply;
      await new Promise((r) => setTimeout(r, 20));
    }
    return undefined;
  }

  /** Replies (parsed) that arrived on `topic`. */
  on(topic: string): Reply[] {
    return this.messages.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload.toString()) as Reply);
  }

  end(): Promise<void> {
    return this.client.endAsync();
  }
}

/**
 * The gateway as `coldgate run` starts it (answering its MQTT commands) from `file`, and an
 * operator's client on `brokerUrl` subscribed to `topics` too; resolves once the gateway answers
 * a ping, so the first command of a test is not lost to the uplink's connect.
 */
export async function startManaged(file: string, brokerUrl: string, clientId: string, topics: string[] = []): Promise<{ gateway: Supervisor; ops: CommandClient }> {
  const gateway = await startManagedGateway({ file, loaded: loadConfig(file, {}), log: silentLogger, env: {} });
  const ops = await CommandClient.connect(brokerUrl, clientId);
  if (topics.length > 0) await ops.client.subscribeAsync(topics, { qos: 1 });
  for (let i = 0; i < 50 && !(await ops.send('ping', {}, { waitMs: 200 })); i++);
  return { gateway, ops };
}
