import { SerialPort } from 'serialport';
import type { Connect } from './link.ts';

/**
 * A receiver on a serial port (/dev/ttyS*, /dev/ttyUSB0, /dev/ttyACM0). serialport reports an
 * unplug as `close` with `err.disconnected` while the stream is read (it always is here); a
 * read of zero bytes ends the stream instead, which is an unplug too.
 */
export function serialLink(path: string, baudRate: number): Connect {
  return (h) =>
    new Promise((resolve, reject) => {
      const port = new SerialPort({ path, baudRate, autoOpen: false });
      port.open((err) => {
        if (err) return reject(err);
        let closing = false;
        const lost = (reason: string) => {
          if (closing) return;
          closing = true;
          h.lost(reason);
          if (port.isOpen) port.close(() => undefined);
        };
        port.on('data', (chunk: Buffer) => h.data(chunk));
        port.on('close', (e: Error | null) => lost(e?.message ?? 'port closed'));
        port.on('end', () => lost('end of stream'));
        port.on('error', (e: Error) => lost(e.message));
        resolve({
          close: () =>
            new Promise<void>((done) => {
              closing = true;
              if (!port.isOpen) return done();
              port.close(() => done());
            }),
        });
      });
    });
}
