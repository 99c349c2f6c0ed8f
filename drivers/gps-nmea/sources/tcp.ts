import net from 'node:net';
import type { Connect } from './link.ts';

/** A connection that has not opened after this long is given up (an unreachable host can take minutes). */
const CONNECT_TIMEOUT_MS = 5000;

/** NMEA over TCP (a serial server, gpsd's raw port, a simulator): `tcp://host:port`. */
export function tcpLink(host: string, port: number): Connect {
  return (h) =>
    new Promise((resolve, reject) => {
      const sock = net.connect({ host, port });
      sock.setTimeout(CONNECT_TIMEOUT_MS, () => sock.destroy(new Error(`connect timeout after ${CONNECT_TIMEOUT_MS} ms`)));
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        sock.setTimeout(0);
        // Finds a peer that vanished without a FIN (modem dropped, cable cut).
        sock.setKeepAlive(true, 5000);
        let failure = 'connection closed by peer';
        let closing = false;
        sock.on('error', (err) => (failure = err.message));
        sock.on('data', (chunk: Buffer) => h.data(chunk));
        sock.on('close', () => closing || h.lost(failure));
        resolve({
          close: () =>
            new Promise<void>((done) => {
              closing = true;
              if (sock.destroyed) return done();
              sock.once('close', () => done());
              sock.destroy();
            }),
        });
      });
    });
}
