import net from 'node:net';
import type { Logger } from '../core/log.ts';

export interface EmbeddedBroker {
  url: string;
  close(): Promise<void>;
}

/**
 * An in-process MQTT broker (aedes) so the demo runs with nothing installed. aedes speaks
 * MQTT 3.1.1 only, so the uplink talks 3.1.1 to it; real deployments use an MQTT 5 broker.
 */
export async function startEmbeddedBroker(host: string, port: number, log: Logger): Promise<EmbeddedBroker> {
  // Loaded here, not at the top: a box with a real broker never holds aedes (~10 MB RSS).
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
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
