import net from 'node:net';
import type { Logger } from '../../src/core/log.ts';

export interface NmeaServer {
  port: number;
  broadcast(text: string): void;
  close(): Promise<void>;
}

/** A TCP port that streams NMEA to whoever connects, as a GPS-to-network bridge does. */
export async function startNmeaServer(host: string, port: number, log: Logger): Promise<NmeaServer> {
  const clients = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    clients.add(socket);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => clients.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`simulated NMEA source cannot listen on ${host}:${port} (${err.code}): set sim.nmea.port`)));
    server.listen(port, host, resolve);
  });
  const actual = (server.address() as net.AddressInfo).port;
  log.info({ host, port: actual }, 'simulated NMEA source listening');
  return {
    port: actual,
    broadcast(text) {
      for (const socket of clients) socket.write(text);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of clients) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
