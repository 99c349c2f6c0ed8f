import type { GpsConfig } from '../../../src/config/schema-gps.ts';
import { fileLink } from './file.ts';
import type { Connect } from './link.ts';
import { serialLink } from './serial.ts';
import { tcpLink } from './tcp.ts';

export type { Connect, Link, LinkHandlers } from './link.ts';

/**
 * cfg.source -> how to open it:
 *   "tcp://10.0.0.5:10110" -> TCP;  "file:/var/lib/coldgate/drive.nmea" -> replay;  "/dev/ttyUSB0" -> serial
 */
export function linkFor(cfg: Pick<GpsConfig, 'source' | 'baudRate' | 'replay'>): Connect {
  if (cfg.source.startsWith('tcp://')) {
    const url = new URL(cfg.source);
    if (!url.hostname || !url.port) throw new Error(`gps source ${cfg.source}: expected tcp://host:port`);
    return tcpLink(url.hostname.replace(/^\[|\]$/g, ''), Number(url.port));
  }
  if (cfg.source.startsWith('file:')) return fileLink(cfg.source.slice('file:'.length), cfg.replay);
  return serialLink(cfg.source, cfg.baudRate);
}
