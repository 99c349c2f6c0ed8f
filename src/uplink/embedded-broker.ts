import net from 'node:net';
import type { Logger } from '../core/log.ts';
import { MAX_INCOMING_PACKET_BYTES, watchPacketSizes } from './packet-size.ts';

export interface EmbeddedBroker {
  url: string;
  close(): Promise<void>;
}

/**
 * An in-process MQTT broker (aedes) so the demo runs with nothing installed. aedes speaks
 * MQTT 3.1.1 only, so the uplink talks 3.1.1 to it; real deployments use an MQTT 5 broker.
 * aedes has no packet size limit and it shares the gateway's memory: a client that announces a
 * packet over MAX_INCOMING_PACKET_BYTES is disconnected before the packet is buffered.
 */
export async function startEmbeddedBroker(host: string, port: number, log: Logger): Promise<EmbeddedBroker> {
  // Loaded here, not at the top: a box with a real broker never holds aedes (~10 MB RSS).
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    watchPacketSizes(socket, MAX_INCOMING_PACKET_BYTES, (bytes) => {
      log.warn({ bytes, max: MAX_INCOMING_PACKET_BYTES, peer: `${socket.remoteAddress}:${socket.remotePort}` }, 'MQTT packet over the size limit: client disconnected');
      socket.destroy();
    });
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`embedded broker cannot listen on ${host}:${port} (${err.code}): stop whatever uses the port, or set uplink.embeddedBroker.port`)),
    );
    server.listen(port, host, resolve);
  });
  const actual = (server.address() as net.AddressInfo).port;
  log.info({ host, port: actual }, 'embedded MQTT broker listening');
  return {
    url: `mqtt://${host}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => broker.close(() => resolve()));
      }),
  };
}
