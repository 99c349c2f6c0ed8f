import { afterAll, expect, it } from 'vitest';
import mqtt from 'mqtt';
import path from 'node:path';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort } from './helpers/net.ts';
import { tempDir } from './helpers/tmp.ts';

const tmp = tempDir('mosq-');
afterAll(() => tmp.cleanup());

it('mosquitto keeps a persistent session across a restart', async () => {
  const broker = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, 'broker') });
  await broker.start();
  try {
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'keeper', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 }, reconnectPeriod: 0 });
    await sub.subscribeAsync('t/#', { qos: 1 });
    await sub.endAsync();
    await broker.restart();
    const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    await pub.publishAsync('t/x', 'kept', { qos: 1 });
    await pub.endAsync();
    // The queued message arrives right after CONNACK: listen before connecting.
    const again = mqtt.connect(broker.url, { clientId: 'keeper', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 }, reconnectPeriod: 0 });
    const got = await new Promise<string>((resolve) => again.on('message', (_t, p) => resolve(p.toString())));
    expect(got).toBe('kept');
    await again.endAsync();
  } finally {
    await broker.stop();
  }
});
