import { createRequire } from 'node:module';
import net from 'node:net';
import type tls from 'node:tls';
import mqtt, { MqttClient, type IClientOptions } from 'mqtt';

/** node:tls on the first mqtts:// connection: its modules take 8-30 ms to compile at a start that has no use for them. */
let tlsModule: typeof tls | undefined;
const loadTls = () => (tlsModule ??= createRequire(import.meta.url)('node:tls') as typeof tls);

/**
 * An MQTT.js client for `url`. mqtt.connect() loads its WebSocket and SOCKS transports (the ws,
 * socks and ip-address packages, ~3 MB RSS) whatever the URL; for mqtt:// and mqtts:// the
 * TCP or TLS stream is opened here, as MQTT.js's own builders do, and only ws:// and wss:// go
 * through mqtt.connect().
 */
export function connectMqtt(url: string, options: IClientOptions): MqttClient {
  const u = new URL(url);
  const secure = u.protocol === 'mqtts:' || u.protocol === 'ssl:';
  if (!secure && u.protocol !== 'mqtt:' && u.protocol !== 'tcp:') return mqtt.connect(url, options);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(u.port || (secure ? 8883 : 1883));
  return new MqttClient((client) => (secure ? tlsStream(client, host, port, options) : net.createConnection({ host, port })), options);
}

/** As MQTT.js's tls builder: SNI for names, and a refused certificate is the client's error. */
function tlsStream(client: MqttClient, host: string, port: number, o: IClientOptions): tls.TLSSocket {
  const rejectUnauthorized = o.rejectUnauthorized !== false;
  const socket = loadTls().connect({ host, port, ...(net.isIP(host) === 0 && { servername: host }), ca: o.ca, cert: o.cert, key: o.key, rejectUnauthorized });
  const onError = (err: Error) => {
    if (rejectUnauthorized) client.emit('error', err);
    socket.end();
  };
  socket.on('secureConnect', () => {
    if (rejectUnauthorized && !socket.authorized) socket.emit('error', new Error('TLS not authorized'));
    else socket.removeListener('error', onError);
  });
  socket.on('error', onError);
  return socket;
}
